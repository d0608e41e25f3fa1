//! Typed handlers: plain and async Rust functions whose parameters and
//! results convert from and to XML-RPC values, so that
//! `register_function("add", |a: i64, b: i64| a + b)` works. A wrong arity
//! or type is a clear `-32602` fault, and the Rust signature feeds
//! `system.methodSignature`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::error::CallError;
use super::handler::{CallResult, Handler};
use crate::call::CallContext;
use crate::xmlrpc::{DateTime, Fault, Struct, Value};

/// A Rust type a parameter can be decoded into.
pub trait FromValue: Sized {
    /// The XML-RPC type name shown in signatures and faults.
    const TYPE: &'static str;
    /// Converts, or says what was found instead (e.g. `"string"`).
    fn from_value(v: Value) -> Result<Self, String>;
}

/// A Rust type a result can be encoded from.
pub trait IntoValue {
    /// The XML-RPC type name, for signatures.
    const TYPE: &'static str;
    /// The value.
    fn into_value(self) -> Value;
}

/// What a typed function may return: a value, or `Result<value, Fault>`.
pub trait IntoCallResult {
    /// The XML-RPC type name of the value, for signatures.
    const TYPE: &'static str;
    /// The handler's result.
    fn into_call_result(self) -> CallResult;
}

impl<T: IntoValue> IntoCallResult for T {
    const TYPE: &'static str = T::TYPE;
    fn into_call_result(self) -> CallResult {
        Ok(self.into_value())
    }
}

impl<T: IntoValue> IntoCallResult for Result<T, Fault> {
    const TYPE: &'static str = T::TYPE;
    fn into_call_result(self) -> CallResult {
        self.map(IntoValue::into_value).map_err(CallError::Fault)
    }
}

macro_rules! scalar {
    ($t:ty, $name:literal, $variant:ident, |$v:ident| $into:expr) => {
        impl FromValue for $t {
            const TYPE: &'static str = $name;
            fn from_value(v: Value) -> Result<Self, String> {
                match v {
                    Value::$variant(x) => Ok(x),
                    other => Err(other.type_name().to_owned()),
                }
            }
        }
        impl IntoValue for $t {
            const TYPE: &'static str = $name;
            fn into_value(self) -> Value {
                let $v = self;
                $into
            }
        }
    };
}

scalar!(i64, "int", Int, |v| Value::Int(v));
scalar!(bool, "boolean", Bool, |v| Value::Bool(v));
scalar!(String, "string", String, |v| Value::String(v));
scalar!(DateTime, "dateTime.iso8601", DateTime, |v| Value::DateTime(
    v
));
scalar!(Struct, "struct", Struct, |v| Value::Struct(v));

impl FromValue for i32 {
    const TYPE: &'static str = "int";
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => i32::try_from(i).map_err(|_| "i8 (outside 32 bits)".to_owned()),
            other => Err(other.type_name().to_owned()),
        }
    }
}
impl IntoValue for i32 {
    const TYPE: &'static str = "int";
    fn into_value(self) -> Value {
        Value::Int(self.into())
    }
}

/// Doubles accept ints too, as a client's `2` for a `double` parameter is common.
impl FromValue for f64 {
    const TYPE: &'static str = "double";
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Double(d) => Ok(d),
            Value::Int(i) => Ok(i as f64),
            other => Err(other.type_name().to_owned()),
        }
    }
}
impl IntoValue for f64 {
    const TYPE: &'static str = "double";
    fn into_value(self) -> Value {
        Value::Double(self)
    }
}

impl IntoValue for &str {
    const TYPE: &'static str = "string";
    fn into_value(self) -> Value {
        Value::String(self.to_owned())
    }
}

impl FromValue for Value {
    const TYPE: &'static str = "any";
    fn from_value(v: Value) -> Result<Self, String> {
        Ok(v)
    }
}
impl IntoValue for Value {
    const TYPE: &'static str = "any";
    fn into_value(self) -> Value {
        self
    }
}

impl IntoValue for () {
    const TYPE: &'static str = "nil";
    fn into_value(self) -> Value {
        Value::Nil
    }
}

/// `base64` parameters and results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl FromValue for Bytes {
    const TYPE: &'static str = "base64";
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Base64(b) => Ok(Bytes(b)),
            other => Err(other.type_name().to_owned()),
        }
    }
}
impl IntoValue for Bytes {
    const TYPE: &'static str = "base64";
    fn into_value(self) -> Value {
        Value::Base64(self.0)
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    const TYPE: &'static str = "array";
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .map(T::from_value)
                .collect::<Result<_, _>>()
                .map_err(|found| format!("array holding {found}")),
            other => Err(other.type_name().to_owned()),
        }
    }
}
impl<T: IntoValue> IntoValue for Vec<T> {
    const TYPE: &'static str = "array";
    fn into_value(self) -> Value {
        Value::Array(self.into_iter().map(IntoValue::into_value).collect())
    }
}

/// `Option<T>`: `nil` is `None`.
impl<T: FromValue> FromValue for Option<T> {
    const TYPE: &'static str = T::TYPE;
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}
impl<T: IntoValue> IntoValue for Option<T> {
    const TYPE: &'static str = T::TYPE;
    fn into_value(self) -> Value {
        self.map_or(Value::Nil, IntoValue::into_value)
    }
}

/// Converts one parameter, or explains the mismatch as a client error.
fn arg<T: FromValue>(name: &str, position: usize, v: Value) -> Result<T, CallError> {
    T::from_value(v).map_err(|found| {
        CallError::InvalidParams(format!(
            "{name}(): parameter {position} must be {}, not {found}",
            T::TYPE
        ))
    })
}

fn check_arity(name: &str, expected: usize, given: usize) -> Result<(), CallError> {
    if expected == given {
        return Ok(());
    }
    let plural = if expected == 1 { "" } else { "s" };
    Err(CallError::InvalidParams(format!(
        "{name}() takes {expected} parameter{plural} ({given} given)"
    )))
}

/// A plain function turned into a [`Handler`]; built by
/// [`RoutingTable::register_function`](crate::RoutingTable::register_function).
pub struct SyncFn<F, Args> {
    name: String,
    f: F,
    _args: PhantomData<fn(Args)>,
}

/// An async function turned into a [`Handler`]; built by
/// [`RoutingTable::register_async`](crate::RoutingTable::register_async).
pub struct AsyncFn<F, Args> {
    name: String,
    f: F,
    _args: PhantomData<fn(Args)>,
}

impl<F, Args> SyncFn<F, Args> {
    pub(crate) fn new(name: &str, f: F) -> Self {
        SyncFn {
            name: name.to_owned(),
            f,
            _args: PhantomData,
        }
    }
}

impl<F, Args> AsyncFn<F, Args> {
    pub(crate) fn new(name: &str, f: F) -> Self {
        AsyncFn {
            name: name.to_owned(),
            f,
            _args: PhantomData,
        }
    }
}

macro_rules! typed_fn {
    ($n:expr; $($a:ident),*) => {
        impl<F, R, $($a),*> Handler for SyncFn<F, ($($a,)*)>
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            R: IntoCallResult + 'static,
            $($a: FromValue + 'static,)*
        {
            #[allow(unused_mut, unused_variables, non_snake_case)]
            fn call(&self, params: Vec<Value>, _ctx: CallContext) -> BoxFuture<'static, CallResult> {
                let result = (|| {
                    check_arity(&self.name, $n, params.len())?;
                    let mut it = params.into_iter().enumerate();
                    $(let $a = { let (i, v) = it.next().expect("arity checked"); arg::<$a>(&self.name, i + 1, v)? };)*
                    (self.f)($($a),*).into_call_result()
                })();
                futures_util::future::ready(result).boxed()
            }
            fn signature(&self) -> Option<Vec<&'static str>> {
                Some(vec![R::TYPE $(, $a::TYPE)*])
            }
        }

        impl<F, Fut, R, $($a),*> Handler for AsyncFn<F, ($($a,)*)>
        where
            F: Fn($($a),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoCallResult + 'static,
            $($a: FromValue + 'static,)*
        {
            #[allow(unused_mut, unused_variables, non_snake_case)]
            fn call(&self, params: Vec<Value>, _ctx: CallContext) -> BoxFuture<'static, CallResult> {
                let prepared = (|| {
                    check_arity(&self.name, $n, params.len())?;
                    let mut it = params.into_iter().enumerate();
                    $(let $a = { let (i, v) = it.next().expect("arity checked"); arg::<$a>(&self.name, i + 1, v)? };)*
                    Ok((self.f)($($a),*))
                })();
                match prepared {
                    Ok(fut) => fut.map(IntoCallResult::into_call_result).boxed(),
                    Err(e) => futures_util::future::ready(Err(e)).boxed(),
                }
            }
            fn signature(&self) -> Option<Vec<&'static str>> {
                Some(vec![R::TYPE $(, $a::TYPE)*])
            }
        }
    };
}

typed_fn!(0;);
typed_fn!(1; A1);
typed_fn!(2; A1, A2);
typed_fn!(3; A1, A2, A3);
typed_fn!(4; A1, A2, A3, A4);
typed_fn!(5; A1, A2, A3, A4, A5);
typed_fn!(6; A1, A2, A3, A4, A5, A6);
typed_fn!(7; A1, A2, A3, A4, A5, A6, A7);
typed_fn!(8; A1, A2, A3, A4, A5, A6, A7, A8);

/// A handler taking the raw parameter list, for variadic methods.
pub struct RawFn<F>(pub F);

impl<F> fmt::Debug for RawFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawFn")
    }
}

impl<F, Args> fmt::Debug for SyncFn<F, Args> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncFn").field("name", &self.name).finish()
    }
}

impl<F, Args> fmt::Debug for AsyncFn<F, Args> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFn").field("name", &self.name).finish()
    }
}

impl<F> Handler for RawFn<F>
where
    F: Fn(Vec<Value>) -> Result<Value, Fault> + Send + Sync + 'static,
{
    fn call(&self, params: Vec<Value>, _ctx: CallContext) -> BoxFuture<'static, CallResult> {
        futures_util::future::ready((self.0)(params).map_err(CallError::Fault)).boxed()
    }
}
