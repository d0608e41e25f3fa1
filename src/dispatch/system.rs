//! The `system.*` methods: introspection (`listMethods`, `methodHelp`,
//! `methodSignature`) and `system.multicall`.

use std::future::Future;
use std::task::Poll;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use super::context::CallContext;
use super::error::CallError;
use super::fault;
use super::table::{Pattern, Rename, Resolved, Route, RoutingTable, Target};
use super::{DispatchOptions, Dispatcher};
use crate::xmlrpc::{Fault, Value};

pub const LIST_METHODS: &str = "system.listMethods";
pub const METHOD_HELP: &str = "system.methodHelp";
pub const METHOD_SIGNATURE: &str = "system.methodSignature";
pub const MULTICALL: &str = "system.multicall";

/// What `methodSignature` answers when nothing is known (as Python).
pub const NO_SIGNATURE: &str = "signatures not supported";

struct SystemMethod {
    name: &'static str,
    help: &'static str,
    signatures: &'static [&'static [&'static str]],
}

const INTROSPECTION: &[SystemMethod] = &[
    SystemMethod {
        name: LIST_METHODS,
        help: "system.listMethods() => ['add', 'subtract', 'multiple']\n\nReturns a list of the methods supported by the server.",
        signatures: &[&["array"]],
    },
    SystemMethod {
        name: METHOD_HELP,
        help: "system.methodHelp('add') => \"Adds two integers together\"\n\nReturns a string containing documentation for the specified method.",
        signatures: &[&["string", "string"]],
    },
    SystemMethod {
        name: METHOD_SIGNATURE,
        help: "system.methodSignature('add') => [['int', 'int', 'int']]\n\nReturns a list describing the signature of the method. In the above example, the add method takes two integers as arguments and returns an integer.",
        signatures: &[&["array", "string"]],
    },
];

const MULTICALL_METHOD: SystemMethod = SystemMethod {
    name: MULTICALL,
    help: "system.multicall([{'methodName': 'add', 'params': [2, 2]}, ...]) => [[4], ...]\n\nAllows the caller to package multiple XML-RPC calls into a single request. Each result is a one-element array holding the value, or a fault struct.",
    signatures: &[&["array", "array"]],
};

/// Every `system.*` name, enabled or not.
pub(super) fn all_names() -> impl Iterator<Item = &'static str> {
    INTROSPECTION
        .iter()
        .chain([&MULTICALL_METHOD])
        .map(|m| m.name)
}

/// The system methods `options` turn on.
fn enabled(options: &DispatchOptions) -> impl Iterator<Item = &'static SystemMethod> {
    let intro = if options.introspection {
        INTROSPECTION
    } else {
        &[]
    };
    let multi = options.multicall.then_some(&MULTICALL_METHOD);
    intro.iter().chain(multi)
}

/// The names `system.listMethods` lists whatever the instance and the
/// backends say: exact routes and enabled system methods, sorted.
pub(super) fn always_listed(table: &RoutingTable, options: &DispatchOptions) -> Vec<String> {
    let mut names: Vec<String> = table.exact_names().map(str::to_owned).collect();
    names.extend(enabled(options).map(|m| m.name.to_owned()));
    names.sort();
    names.dedup();
    names
}

impl Dispatcher {
    fn system_method(&self, name: &str) -> Option<&'static SystemMethod> {
        enabled(&self.options).find(|m| m.name == name)
    }

    /// Whether `system.multicall` is enabled.
    pub(super) fn multicall_enabled(&self) -> bool {
        self.options.multicall
    }

    /// Runs an introspection method, or `None` when `name` is not one that
    /// is enabled.
    pub(super) async fn call_introspection(
        &self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
    ) -> Option<Result<Value, CallError>> {
        let method = self.system_method(name)?;
        Some(match method.name {
            LIST_METHODS => match no_params(name, &params) {
                Ok(()) => Ok(self.list_methods(ctx).await),
                Err(err) => Err(err),
            },
            METHOD_HELP => match one_string(name, params) {
                Ok(m) => Ok(Value::String(self.method_help(&m, ctx).await)),
                Err(err) => Err(err),
            },
            METHOD_SIGNATURE => match one_string(name, params) {
                Ok(m) => Ok(self.method_signature(&m, ctx).await),
                Err(err) => Err(err),
            },
            _ => return None,
        })
    }

    /// Sorted names: exact routes, the instance's own list, system methods,
    /// and the methods of xmlrpc backends behind prefix and `*` routes that
    /// the route actually sends there.
    pub async fn list_methods(&self, ctx: &CallContext) -> Value {
        // The instance and the backends are asked on every call (their
        // lists may change); the rest was sorted once.
        let mut names = self.listed.clone();
        if let Some(instance) = self.table.instance() {
            names.extend(instance.list_methods());
        }
        names.extend(self.backend_methods(ctx).await);
        if names.len() > self.listed.len() {
            names.sort();
            names.dedup();
        }
        Value::Array(names.into_iter().map(Value::String).collect())
    }

    /// Asks every backend behind a prefix or `*` route for its methods (all
    /// at once); a backend that fails is logged and skipped.
    async fn backend_methods(&self, ctx: &CallContext) -> Vec<String> {
        let asks = self.table.routes().filter_map(|route| {
            let Target::Backend {
                backend, rename, ..
            } = &route.target
            else {
                return None;
            };
            if matches!(route.pattern, Pattern::Exact(_)) || matches!(rename, Rename::To(_)) {
                return None;
            }
            let future = backend.list_methods(ctx.clone())?;
            Some(async move { (route, backend.name().to_owned(), future.await) })
        });
        let answers = futures_util::future::join_all(asks).await;
        let mut names = Vec::new();
        for (route, backend, answer) in answers {
            let listed = match answer {
                Ok(listed) => listed,
                Err(err) => {
                    tracing::warn!(
                        request_id = %ctx.request_id,
                        backend = %backend,
                        kind = err.kind(),
                        error = %err,
                        "backend system.listMethods failed; its methods are not listed"
                    );
                    continue;
                }
            };
            names.extend(client_names(&self.table, route, listed));
        }
        names
    }

    async fn method_help(&self, name: &str, ctx: &CallContext) -> String {
        if let Some(m) = self.system_method(name) {
            return m.help.to_owned();
        }
        match self.table.resolve(name) {
            Resolved::Route(route) => {
                if let Some(help) = &route.help {
                    return help.clone();
                }
                let Target::Backend { backend, .. } = &route.target else {
                    return String::new();
                };
                let Some(ask) = backend.method_help(&route.target_name(name), ctx.clone()) else {
                    return String::new();
                };
                ask.await.unwrap_or_else(|err| {
                    tracing::warn!(request_id = %ctx.request_id, backend = backend.name(), method = name, error = %err, "backend system.methodHelp failed");
                    String::new()
                })
            }
            Resolved::Instance(instance) => instance.method_help(name).unwrap_or_default(),
            Resolved::NotFound => String::new(),
        }
    }

    async fn method_signature(&self, name: &str, ctx: &CallContext) -> Value {
        let rows: Option<Vec<Vec<String>>> = if let Some(m) = self.system_method(name) {
            Some(
                m.signatures
                    .iter()
                    .map(|row| row.iter().map(|t| (*t).to_owned()).collect())
                    .collect(),
            )
        } else {
            match self.table.resolve(name) {
                Resolved::Route(route) => match (route.signatures(), &route.target) {
                    (Some(rows), _) => Some(rows),
                    (None, Target::Backend { backend, .. }) => {
                        if let Some(ask) =
                            backend.method_signature(&route.target_name(name), ctx.clone())
                        {
                            match ask.await {
                                Ok(value) => return value,
                                Err(err) => {
                                    tracing::warn!(request_id = %ctx.request_id, backend = backend.name(), method = name, error = %err, "backend system.methodSignature failed");
                                }
                            }
                        }
                        None
                    }
                    (None, Target::Handler(_)) => None,
                },
                _ => None,
            }
        };
        match rows {
            Some(rows) => Value::Array(
                rows.into_iter()
                    .map(|row| Value::Array(row.into_iter().map(Value::String).collect()))
                    .collect(),
            ),
            None => Value::String(NO_SIGNATURE.to_owned()),
        }
    }

    /// Runs every call of a multicall concurrently (bounded), keeping order.
    /// A malformed entry or a nested multicall becomes a fault entry; the
    /// others still run.
    pub(super) async fn multicall(
        &self,
        mut params: Vec<Value>,
        ctx: &CallContext,
    ) -> Result<Value, CallError> {
        if params.len() != 1 {
            return Err(CallError::InvalidParams(format!(
                "system.multicall() takes 1 parameter ({} given)",
                params.len()
            )));
        }
        let Value::Array(calls) = params.pop().expect("one param") else {
            return Err(CallError::InvalidParams(
                "system.multicall(): parameter 1 must be array".to_owned(),
            ));
        };
        let limit = self.options.max_multicall_calls;
        if calls.len() > limit {
            return Err(CallError::InvalidParams(format!(
                "system.multicall(): {} calls exceed the limit of {limit}",
                calls.len()
            )));
        }
        let concurrency = self.options.multicall_concurrency.max(1);
        let mut results: Vec<Option<Value>> = Vec::with_capacity(calls.len());
        // Entries that did not answer on their first poll, by position. Most
        // entries are plain functions that answer at once: they never enter
        // this set, so they cost no task node, waker or reordering.
        let mut pending = FuturesUnordered::new();
        for (index, entry) in calls.into_iter().enumerate() {
            while pending.len() >= concurrency {
                Self::settle(&mut pending, &mut results).await;
            }
            let mut entry = Box::pin(self.multicall_entry(entry, ctx));
            match futures_util::poll!(entry.as_mut()) {
                Poll::Ready(value) => results.push(Some(value)),
                Poll::Pending => {
                    results.push(None);
                    pending.push(entry.map(move |value| (index, value)));
                }
            }
        }
        while !pending.is_empty() {
            Self::settle(&mut pending, &mut results).await;
        }
        let results = results
            .into_iter()
            .map(|r| r.expect("every entry answered"));
        Ok(Value::Array(results.collect()))
    }

    /// Waits for one pending multicall entry and puts its answer in place.
    async fn settle<F: Future<Output = (usize, Value)>>(
        pending: &mut FuturesUnordered<F>,
        results: &mut [Option<Value>],
    ) {
        if let Some((index, value)) = pending.next().await {
            results[index] = Some(value);
        }
    }

    async fn multicall_entry(&self, entry: Value, ctx: &CallContext) -> Value {
        let (name, params) = match parse_entry(entry) {
            Ok(call) => call,
            Err(fault) => return fault.to_value(),
        };
        if name == MULTICALL {
            return Fault::new(fault::INVALID_REQUEST, "system.multicall cannot be nested")
                .to_value();
        }
        match self.call_one(&name, params, ctx).await {
            Ok(value) if !self.options.allow_none && contains_nil(&value) => {
                fault::encode_fault(&name, &crate::xmlrpc::EncodeError::NilNotAllowed).to_value()
            }
            Ok(value) => Value::Array(vec![value]),
            Err(err) => self.fault_for(&name, &err, ctx).to_value(),
        }
    }
}

/// The names a client would call to reach `listed` (a backend's own method
/// names) through `route`: prefixed back when the route strips its prefix,
/// and kept only when the table really sends that name to this route.
fn client_names(table: &RoutingTable, route: &Route, listed: Vec<String>) -> Vec<String> {
    let strip = matches!(
        &route.target,
        Target::Backend {
            rename: Rename::StripPrefix,
            ..
        }
    );
    listed
        .into_iter()
        .filter(|name| !name.starts_with("system."))
        .map(|name| match (&route.pattern, strip) {
            (Pattern::Prefix(prefix), true) => format!("{prefix}{name}"),
            _ => name,
        })
        .filter(|name| {
            !name.starts_with("system.")
                && matches!(table.resolve(name), Resolved::Route(r) if std::ptr::eq(r, route))
        })
        .collect()
}

/// Splits a multicall entry into name and params. A missing `params` member
/// is taken as no parameters.
fn parse_entry(entry: Value) -> Result<(String, Vec<Value>), Fault> {
    let bad = |msg: &str| {
        Fault::new(
            fault::INVALID_REQUEST,
            format!("system.multicall entry: {msg}"),
        )
    };
    let Value::Struct(members) = entry else {
        return Err(bad("must be a struct"));
    };
    // A walk over the (two) members: no hashing, no removal.
    let (mut name, mut params) = (None, None);
    for (key, value) in members {
        match key.as_str() {
            "methodName" => name = Some(value),
            "params" => params = Some(value),
            _ => {}
        }
    }
    let name = match name {
        Some(Value::String(name)) => name,
        Some(_) => return Err(bad("methodName must be a string")),
        None => return Err(bad("missing methodName")),
    };
    let params = match params {
        Some(Value::Array(params)) => params,
        None => Vec::new(),
        Some(_) => return Err(bad("params must be an array")),
    };
    Ok((name, params))
}

fn no_params(name: &str, params: &[Value]) -> Result<(), CallError> {
    if params.is_empty() {
        Ok(())
    } else {
        Err(CallError::InvalidParams(format!(
            "{name}() takes 0 parameters ({} given)",
            params.len()
        )))
    }
}

fn one_string(name: &str, mut params: Vec<Value>) -> Result<String, CallError> {
    match (params.len(), params.pop()) {
        (1, Some(Value::String(s))) => Ok(s),
        (1, Some(other)) => Err(CallError::InvalidParams(format!(
            "{name}(): parameter 1 must be string, not {}",
            other.type_name()
        ))),
        (n, _) => Err(CallError::InvalidParams(format!(
            "{name}() takes 1 parameter ({n} given)"
        ))),
    }
}

/// True when `value` holds a nil anywhere.
pub(crate) fn contains_nil(value: &Value) -> bool {
    match value {
        Value::Nil => true,
        Value::Array(items) => items.iter().any(contains_nil),
        Value::Struct(members) => members.values().any(contains_nil),
        _ => false,
    }
}
