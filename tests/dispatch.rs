//! Dispatch through the library API, no HTTP: typed handlers (sync and
//! async), instances, signatures, faults, panics, timeouts, multicall.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use xmlrpc_gateway::xmlrpc::{Fault, Value};
use xmlrpc_gateway::{
    CallContext, CallError, CallResult, DispatchOptions, Dispatcher, Instance, RoutingTable, fault,
};

fn options() -> DispatchOptions {
    DispatchOptions {
        introspection: true,
        multicall: true,
        ..DispatchOptions::default()
    }
}

async fn call(d: &Dispatcher, name: &str, params: Vec<Value>) -> Result<Value, Fault> {
    let ctx = CallContext::detached();
    d.call(name, params, &ctx)
        .await
        .map_err(|e| d.fault_for(name, &e, &ctx))
}

#[tokio::test]
async fn typed_functions_convert_params_and_results() {
    let mut t = RoutingTable::new();
    t.register_function("add", |a: i64, b: i64| a + b).unwrap();
    t.register_function("greet", |name: String, times: Option<i64>| {
        name.repeat(times.unwrap_or(1) as usize)
    })
    .unwrap();
    t.register_function("sum", |xs: Vec<f64>| xs.iter().sum::<f64>())
        .unwrap();
    t.register_function("checked", |x: i64| -> Result<i64, Fault> {
        if x < 0 {
            Err(Fault::new(42, "negative"))
        } else {
            Ok(x)
        }
    })
    .unwrap();
    let d = Dispatcher::new(t, options());
    assert_eq!(
        call(&d, "add", vec![2.into(), 3.into()]).await,
        Ok(Value::Int(5))
    );
    assert_eq!(
        call(&d, "greet", vec!["ab".into(), Value::Nil]).await,
        Ok("ab".into())
    );
    assert_eq!(
        call(&d, "greet", vec!["ab".into(), 2.into()]).await,
        Ok("abab".into())
    );
    assert_eq!(
        call(&d, "sum", vec![Value::Array(vec![1.into(), 2.5.into()])]).await,
        Ok(Value::Double(3.5))
    );
    // The handler's own fault passes through unchanged.
    assert_eq!(
        call(&d, "checked", vec![(-1).into()]).await,
        Err(Fault::new(42, "negative"))
    );
}

#[tokio::test]
async fn wrong_arity_and_types_are_invalid_params() {
    let mut t = RoutingTable::new();
    t.register_function("add", |a: i64, b: i64| a + b).unwrap();
    t.register_function("sum", |xs: Vec<i64>| xs.iter().sum::<i64>())
        .unwrap();
    let d = Dispatcher::new(t, options());
    let f = call(&d, "add", vec![1.into()]).await.unwrap_err();
    assert_eq!(
        f,
        Fault::new(fault::INVALID_PARAMS, "add() takes 2 parameters (1 given)")
    );
    let f = call(&d, "add", vec![1.into(), "x".into()])
        .await
        .unwrap_err();
    assert_eq!(
        f,
        Fault::new(
            fault::INVALID_PARAMS,
            "add(): parameter 2 must be int, not string"
        )
    );
    let f = call(&d, "sum", vec![Value::Array(vec![1.into(), "x".into()])])
        .await
        .unwrap_err();
    assert_eq!(
        f,
        Fault::new(
            fault::INVALID_PARAMS,
            "sum(): parameter 1 must be array, not array holding string"
        )
    );
}

#[tokio::test]
async fn signatures_come_from_the_rust_types() {
    let mut t = RoutingTable::new();
    t.register_function("add", |a: i64, b: i64| a + b).unwrap();
    t.register_function(
        "f",
        |_: String, _: Vec<Value>, _: bool, _: f64| -> Result<Vec<String>, Fault> { Ok(vec![]) },
    )
    .unwrap();
    t.register_async("slow", |ms: i64| async move {
        tokio::time::sleep(Duration::from_millis(ms as u64)).await;
        ms
    })
    .unwrap()
    .help = Some("sleeps".into());
    let d = Dispatcher::new(t, options());
    let sig = |rows: &[&[&str]]| {
        Value::Array(
            rows.iter()
                .map(|r| Value::Array(r.iter().map(|t| (*t).into()).collect()))
                .collect(),
        )
    };
    assert_eq!(
        call(&d, "system.methodSignature", vec!["add".into()]).await,
        Ok(sig(&[&["int", "int", "int"]]))
    );
    assert_eq!(
        call(&d, "system.methodSignature", vec!["f".into()]).await,
        Ok(sig(&[&["array", "string", "array", "boolean", "double"]]))
    );
    assert_eq!(
        call(&d, "system.methodSignature", vec!["slow".into()]).await,
        Ok(sig(&[&["int", "int"]]))
    );
    assert_eq!(
        call(&d, "system.methodHelp", vec!["slow".into()]).await,
        Ok("sleeps".into())
    );
    assert_eq!(call(&d, "slow", vec![1.into()]).await, Ok(Value::Int(1)));
}

struct Calculator {
    calls: AtomicUsize,
}

impl Instance for Calculator {
    fn dispatch(
        &self,
        method: &str,
        params: Vec<Value>,
        _ctx: CallContext,
    ) -> Option<BoxFuture<'static, CallResult>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let result = match method {
            "calc.double" => match params.as_slice() {
                [Value::Int(i)] => Ok(Value::Int(i * 2)),
                _ => Err(CallError::InvalidParams("calc.double(int)".into())),
            },
            "calc.name" => Ok("calculator".into()),
            _ => return None,
        };
        Some(futures_util::future::ready(result).boxed())
    }

    fn list_methods(&self) -> Vec<String> {
        vec!["calc.double".into(), "calc.name".into()]
    }

    fn method_help(&self, method: &str) -> Option<String> {
        (method == "calc.double").then(|| "doubles an int".into())
    }
}

#[tokio::test]
async fn instances_answer_what_functions_do_not() {
    let mut t = RoutingTable::new();
    t.register_function("calc.name", || "function wins")
        .unwrap();
    t.register_instance(Calculator {
        calls: AtomicUsize::new(0),
    });
    let d = Dispatcher::new(t, options());
    assert_eq!(
        call(&d, "calc.double", vec![21.into()]).await,
        Ok(Value::Int(42))
    );
    assert_eq!(
        call(&d, "calc.name", vec![]).await,
        Ok("function wins".into())
    );
    assert_eq!(
        call(&d, "calc.nothing", vec![]).await.unwrap_err().code,
        fault::METHOD_NOT_FOUND
    );
    assert_eq!(
        call(&d, "system.methodHelp", vec!["calc.double".into()]).await,
        Ok("doubles an int".into())
    );
    let listed = call(&d, "system.listMethods", vec![]).await.unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "calc.double",
            "calc.name",
            "system.listMethods",
            "system.methodHelp",
            "system.methodSignature",
            "system.multicall"
        ]
    );
}

#[tokio::test]
async fn panics_become_internal_faults_without_internals() {
    let mut t = RoutingTable::new();
    t.register_function("boom", || -> i64 { panic!("secret /etc/passwd detail") })
        .unwrap();
    let d = Dispatcher::new(t, options());
    let f = call(&d, "boom", vec![]).await.unwrap_err();
    assert_eq!(f, Fault::new(fault::INTERNAL_ERROR, "boom: internal error"));
}

#[tokio::test(start_paused = true)]
async fn slow_calls_time_out() {
    let mut t = RoutingTable::new();
    t.register_async("slow", || async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        1i64
    })
    .unwrap();
    let d = Dispatcher::new(
        t,
        DispatchOptions {
            call_timeout: Some(Duration::from_secs(2)),
            ..options()
        },
    );
    let f = call(&d, "slow", vec![]).await.unwrap_err();
    assert_eq!(f.code, fault::TRANSPORT_TIMEOUT);
}

/// A table with `wait(ms)`: answers `ms` after sleeping that long.
fn table_with_wait() -> RoutingTable {
    let mut t = RoutingTable::new();
    t.register_async("wait", |ms: i64| async move {
        tokio::time::sleep(Duration::from_millis(ms as u64)).await;
        ms
    })
    .unwrap();
    t
}

#[tokio::test(start_paused = true)]
async fn multicall_runs_calls_concurrently_in_order() {
    let t = table_with_wait();
    let d = Dispatcher::new(
        t,
        DispatchOptions {
            multicall_concurrency: 50,
            ..options()
        },
    );
    let calls: Vec<Value> = (0..50)
        .map(|i| {
            Value::structure([
                ("methodName", "wait".into()),
                ("params", Value::Array(vec![(100 - i).into()])),
            ])
        })
        .collect();
    let started = tokio::time::Instant::now();
    let result = call(&d, "system.multicall", vec![Value::Array(calls)])
        .await
        .unwrap();
    // With paused time, elapsed time is exactly the longest call when they overlap.
    assert_eq!(started.elapsed(), Duration::from_millis(100));
    let items = result.as_array().unwrap();
    assert_eq!(items.len(), 50);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item, &Value::Array(vec![Value::Int(100 - i as i64)]));
    }
}

/// Entries that answer at once take no slot of `multicall_concurrency`:
/// only entries still waiting do, and answers keep the entries' order.
#[tokio::test(start_paused = true)]
async fn multicall_limit_counts_waiting_entries_only() {
    let mut t = table_with_wait();
    t.register_function("add", |a: i64, b: i64| a + b).unwrap();
    let d = Dispatcher::new(
        t,
        DispatchOptions {
            multicall_concurrency: 2,
            ..options()
        },
    );
    let entry = |name: &str, params: Vec<Value>| {
        Value::structure([
            ("methodName", name.into()),
            ("params", Value::Array(params)),
        ])
    };
    let calls = vec![
        entry("wait", vec![30.into()]),
        entry("add", vec![1.into(), 2.into()]),
        entry("wait", vec![20.into()]),
        entry("add", vec![3.into(), 4.into()]),
        entry("wait", vec![10.into()]),
        Value::Int(7),
        entry("nope", vec![]),
    ];
    let started = tokio::time::Instant::now();
    let result = call(&d, "system.multicall", vec![Value::Array(calls)])
        .await
        .unwrap();
    // 30 and 20 wait together; 10 starts when 20 ends and ends with 30.
    assert_eq!(started.elapsed(), Duration::from_millis(30));
    let items = result.as_array().unwrap();
    let one = |v: i64| Value::Array(vec![Value::Int(v)]);
    assert_eq!(&items[..5], &[one(30), one(3), one(20), one(7), one(10)]);
    for fault_entry in &items[5..] {
        assert!(fault_entry.as_struct().unwrap().contains_key("faultCode"));
    }
}

#[tokio::test]
async fn multicall_size_is_capped() {
    let mut t = RoutingTable::new();
    t.register_function("one", || 1i64).unwrap();
    let d = Dispatcher::new(
        t,
        DispatchOptions {
            max_multicall_calls: 3,
            ..options()
        },
    );
    let entry = Value::structure([
        ("methodName", "one".into()),
        ("params", Value::Array(vec![])),
    ]);
    let ok = call(
        &d,
        "system.multicall",
        vec![Value::Array(vec![entry.clone(); 3])],
    )
    .await;
    assert!(ok.is_ok());
    let f = call(&d, "system.multicall", vec![Value::Array(vec![entry; 4])])
        .await
        .unwrap_err();
    assert_eq!(f.code, fault::INVALID_PARAMS);
}

#[test]
fn system_names_cannot_be_registered() {
    let mut t = RoutingTable::new();
    assert!(t.register_function("system.mine", || 1i64).is_err());
    t.register_function("a", || 1i64).unwrap();
    assert!(t.register_function("a", || 2i64).is_err());
    let _ = Arc::new(t);
}

#[tokio::test]
async fn non_finite_doubles_are_never_sent() {
    use xmlrpc_gateway::gateway::Gateway;
    use xmlrpc_gateway::xmlrpc::{EncodeOptions, Limits};
    let mut t = RoutingTable::new();
    t.register_function("nan", || f64::NAN).unwrap();
    let gw = Gateway::new(
        Dispatcher::new(t, options()),
        Limits::default(),
        EncodeOptions::default(),
    );
    let body = b"<methodCall><methodName>nan</methodName></methodCall>";
    let outcome = gw.handle(body, &CallContext::detached()).await;
    let text = String::from_utf8(outcome.body).unwrap();
    assert_eq!(outcome.fault_code, Some(fault::INTERNAL_ERROR));
    assert!(
        text.contains("non-finite") && !text.contains("NaN"),
        "{text}"
    );
}

#[tokio::test]
async fn routes_needing_credentials_refuse_anonymous_calls_and_multicall_entries() {
    use xmlrpc_gateway::AuthPolicy;
    let mut t = RoutingTable::new();
    t.register_function("add", |a: i64, b: i64| a + b).unwrap();
    t.register_function("secret", || "42".to_owned())
        .unwrap()
        .auth = Some(AuthPolicy::Required);
    let d = Dispatcher::new(t, options());
    let anonymous = CallContext::detached();
    let alice = CallContext {
        principal: Some(Arc::from("alice")),
        ..CallContext::detached()
    };
    let err = d.call("secret", vec![], &anonymous).await.unwrap_err();
    assert!(matches!(err, CallError::Unauthenticated(_)), "{err:?}");
    assert_eq!(
        d.fault_for("secret", &err, &anonymous).code,
        fault::AUTHENTICATION_REQUIRED
    );
    assert_eq!(
        d.call("secret", vec![], &alice).await.unwrap(),
        Value::String("42".into())
    );
    // Public by default (DispatchOptions::auth), so `add` answers anyone.
    assert_eq!(
        d.call("add", vec![Value::Int(1), Value::Int(2)], &anonymous)
            .await
            .unwrap(),
        Value::Int(3)
    );
    let entry = |name: &str| {
        Value::structure([
            ("methodName", Value::String(name.into())),
            ("params", Value::Array(vec![])),
        ])
    };
    let results = d
        .call(
            "system.multicall",
            vec![Value::Array(vec![entry("secret"), entry("secret")])],
            &anonymous,
        )
        .await
        .unwrap();
    let Value::Array(results) = results else {
        panic!("{results:?}")
    };
    for r in &results {
        let code = r.as_struct().and_then(|s| s.get("faultCode")).cloned();
        assert_eq!(
            code,
            Some(Value::Int(fault::AUTHENTICATION_REQUIRED.into())),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn list_methods_is_sorted_and_follows_the_options() {
    let mut t = RoutingTable::new();
    t.register_function("zeta", || 1).unwrap();
    t.register_function("alpha", || 2).unwrap();
    t.register_function("mid.dle", || 3).unwrap();
    let d = Dispatcher::new(
        t,
        DispatchOptions {
            introspection: true,
            multicall: false,
            ..DispatchOptions::default()
        },
    );
    let want: Vec<Value> = [
        "alpha",
        "mid.dle",
        "system.listMethods",
        "system.methodHelp",
        "system.methodSignature",
        "zeta",
    ]
    .map(Value::from)
    .into();
    // The same answer every time: the list made once is not changed by use.
    for _ in 0..2 {
        assert_eq!(
            call(&d, "system.listMethods", vec![]).await,
            Ok(Value::Array(want.clone()))
        );
    }
}
