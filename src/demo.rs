//! The demo functions of Python's SimpleXMLRPCServer docs (`pow`, `add`,
//! `div`) plus `echo`, as named handlers the embedded default config routes;
//! and `sleep`, a slow call for trying out timeouts and graceful shutdown
//! (not routed by default: add a `[[routes]]` entry with `handler = "sleep"`).

use std::time::Duration;

use crate::dispatch::RoutingTable;
use crate::xmlrpc::{Fault, Value};

/// A table holding the demo handlers, for config routes to pick from.
pub fn handlers() -> RoutingTable {
    let mut t = RoutingTable::new();
    let numeric = |ret: &str| {
        vec![
            vec![ret.into(), "int".into(), "int".into()],
            vec!["double".into(), "double".into(), "double".into()],
        ]
    };
    let route = t.register_function("pow", pow).expect("fresh table");
    route.help =
        Some("pow(x, y) => x raised to the power y (an int when both are ints and y >= 0).".into());
    route.signatures = Some(numeric("int"));
    let route = t.register_function("add", add).expect("fresh table");
    route.help = Some("add(x, y) => x + y, for two numbers, two strings or two arrays.".into());
    route.signatures = Some(vec![
        vec!["int".into(), "int".into(), "int".into()],
        vec!["double".into(), "double".into(), "double".into()],
        vec!["string".into(), "string".into(), "string".into()],
        vec!["array".into(), "array".into(), "array".into()],
    ]);
    let route = t.register_function("div", div).expect("fresh table");
    route.help = Some("div(x, y) => x // y, floor division; dividing by zero is a fault.".into());
    route.signatures = Some(numeric("int"));
    let route = t
        .register_function("echo", |v: Value| v)
        .expect("fresh table");
    route.help = Some("echo(v) => v, unchanged.".into());
    let route = t.register_async("sleep", sleep).expect("fresh table");
    route.help = Some(format!(
        "sleep(ms) => ms, after waiting ms milliseconds (0 to {SLEEP_MAX_MS}); for trying out timeouts and graceful shutdown."
    ));
    t
}

/// The longest `sleep` allowed, in milliseconds.
pub const SLEEP_MAX_MS: i64 = 10_000;

async fn sleep(ms: i64) -> Result<Value, Fault> {
    if !(0..=SLEEP_MAX_MS).contains(&ms) {
        return Err(Fault::new(
            crate::dispatch::fault::INVALID_PARAMS,
            format!("sleep(): ms must be between 0 and {SLEEP_MAX_MS}"),
        ));
    }
    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
    Ok(Value::Int(ms))
}

fn app_error(msg: &str) -> Fault {
    Fault::new(crate::dispatch::fault::APPLICATION_ERROR, msg)
}

fn finite(name: &str, x: f64) -> Result<Value, Fault> {
    if x.is_finite() {
        Ok(Value::Double(x))
    } else {
        Err(app_error(&format!(
            "{name}(): result is not a finite number"
        )))
    }
}

/// Both operands as doubles, when both are numbers.
fn numbers(x: &Value, y: &Value) -> Option<(f64, f64)> {
    let f = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    };
    Some((f(x)?, f(y)?))
}

fn type_error(name: &str, x: &Value, y: &Value) -> Fault {
    Fault::new(
        crate::dispatch::fault::INVALID_PARAMS,
        format!(
            "{name}(): unsupported operand types {} and {}",
            x.type_name(),
            y.type_name()
        ),
    )
}

fn pow(x: Value, y: Value) -> Result<Value, Fault> {
    match (&x, &y) {
        (Value::Int(b), Value::Int(e)) if *e >= 0 => u32::try_from(*e)
            .ok()
            .and_then(|e| b.checked_pow(e))
            .map(Value::Int)
            .ok_or_else(|| app_error("pow(): result exceeds 64-bit integers")),
        _ => match numbers(&x, &y) {
            Some((b, e)) => finite("pow", b.powf(e)),
            None => Err(type_error("pow", &x, &y)),
        },
    }
}

fn add(x: Value, y: Value) -> Result<Value, Fault> {
    match (x, y) {
        (Value::Int(a), Value::Int(b)) => a
            .checked_add(b)
            .map(Value::Int)
            .ok_or_else(|| app_error("add(): result exceeds 64-bit integers")),
        (Value::String(a), Value::String(b)) => Ok(Value::String(a + &b)),
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Ok(Value::Array(a))
        }
        (x, y) => match numbers(&x, &y) {
            Some((a, b)) => finite("add", a + b),
            None => Err(type_error("add", &x, &y)),
        },
    }
}

fn div(x: Value, y: Value) -> Result<Value, Fault> {
    match (&x, &y) {
        (Value::Int(_), Value::Int(0)) => Err(app_error("div(): integer division by zero")),
        (Value::Int(a), Value::Int(b)) => a
            .checked_div_euclid(*b)
            .map(|_| Value::Int(floor_div(*a, *b)))
            .ok_or_else(|| app_error("div(): result exceeds 64-bit integers")),
        _ => match numbers(&x, &y) {
            Some((_, 0.0)) => Err(app_error("div(): float division by zero")),
            Some((a, b)) => finite("div", (a / b).floor()),
            None => Err(type_error("div", &x, &y)),
        },
    }
}

/// Python's `//` on ints: rounds toward negative infinity.
fn floor_div(a: i64, b: i64) -> i64 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_matches_python() {
        for (a, b, want) in [
            (5, 2, 2),
            (-5, 2, -3),
            (5, -2, -3),
            (-5, -2, 2),
            (4, 2, 2),
            (0, 3, 0),
        ] {
            assert_eq!(
                div(Value::Int(a), Value::Int(b)),
                Ok(Value::Int(want)),
                "{a} // {b}"
            );
        }
        assert!(div(Value::Int(1), Value::Int(0)).is_err());
        assert!(div(Value::Int(i64::MIN), Value::Int(-1)).is_err());
    }

    #[test]
    fn pow_and_add() {
        assert_eq!(pow(Value::Int(2), Value::Int(10)), Ok(Value::Int(1024)));
        assert_eq!(pow(Value::Int(2), Value::Int(-1)), Ok(Value::Double(0.5)));
        assert!(pow(Value::Int(10), Value::Int(40)).is_err());
        assert_eq!(
            add(Value::Int(2), Value::Double(0.5)),
            Ok(Value::Double(2.5))
        );
        assert_eq!(add("a".into(), "b".into()), Ok("ab".into()));
        assert!(add(Value::Int(1), "b".into()).is_err());
    }
}
