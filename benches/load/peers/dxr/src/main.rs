//! dxr_server with the gateway's demo functions (src/demo.rs): pow, add,
//! div, echo, and dxr's `system.multicall` (its `multicall` feature). dxr
//! has no introspection: no `system.listMethods`, so workload 5 is not
//! served. A load benchmark peer: what a user who picks dxr instead of the
//! gateway runs.
//!
//! Usage: dxr-peer PORT (listens on 127.0.0.1:PORT, path /RPC2).
//!
//! dxr_server's `Server` is axum on tokio's multi-thread runtime (one worker
//! per CPU the process may run on, as the gateway), here with TCP_NODELAY
//! as the gateway sets it, and the system allocator. Gzip answers are a
//! tower-http layer on the axum Router dxr builds (dxr has none of its
//! own), at the fast level and above 1400 bytes, as the gateway and CPython.
//!
//! Semantics follow the gateway's handlers: integers are 64-bit (`int` or
//! `i8` in; `int` out when it fits 32 bits, else `i8`), an overflow or a
//! division by zero is fault -32500, operands of the wrong type -32602.
//! dxr answers its own faults (unknown method: 404; bad XML: its own code).

use std::net::SocketAddr;

use dxr::{Fault, Value};
use dxr_server::axum::http::HeaderMap;
use dxr_server::axum::serve::ListenerExt;
use dxr_server::{HandlerFn, HandlerResult, RouteBuilder, Server};
use tokio::net::TcpListener;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::SizeAbove;

const APPLICATION_ERROR: i32 = -32500;
const INVALID_PARAMS: i32 = -32602;

fn app_error(msg: &str) -> Fault {
    Fault::new(APPLICATION_ERROR, msg.to_owned())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "int",
        Value::Long(_) => "i8",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Double(_) => "double",
        Value::DateTime(_) => "dateTime.iso8601",
        Value::Base64(_) => "base64",
        Value::Struct(_) => "struct",
        Value::Array(_) => "array",
        Value::Nil => "nil",
        _ => "unknown",
    }
}

fn type_error(name: &str, x: &Value, y: &Value) -> Fault {
    Fault::new(
        INVALID_PARAMS,
        format!(
            "{name}(): unsupported operand types {} and {}",
            type_name(x),
            type_name(y)
        ),
    )
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        _ => None,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

fn int_value(i: i64) -> Value {
    match i32::try_from(i) {
        Ok(i) => Value::Integer(i),
        Err(_) => Value::Long(i),
    }
}

fn finite(name: &str, x: f64) -> HandlerResult {
    if x.is_finite() {
        Ok(Value::Double(x))
    } else {
        Err(app_error(&format!(
            "{name}(): result is not a finite number"
        )))
    }
}

fn two<'a>(name: &str, params: &'a [Value]) -> Result<(&'a Value, &'a Value), Fault> {
    match params {
        [x, y] => Ok((x, y)),
        _ => Err(Fault::new(
            INVALID_PARAMS,
            format!("{name}() takes 2 parameters ({} given)", params.len()),
        )),
    }
}

fn pow(params: &[Value], _: HeaderMap) -> HandlerResult {
    let (x, y) = two("pow", params)?;
    match (int(x), int(y)) {
        (Some(b), Some(e)) if e >= 0 => u32::try_from(e)
            .ok()
            .and_then(|e| b.checked_pow(e))
            .map(int_value)
            .ok_or_else(|| app_error("pow(): result exceeds 64-bit integers")),
        _ => match (number(x), number(y)) {
            (Some(b), Some(e)) => finite("pow", b.powf(e)),
            _ => Err(type_error("pow", x, y)),
        },
    }
}

fn add(params: &[Value], _: HeaderMap) -> HandlerResult {
    let (x, y) = two("add", params)?;
    match (x, y) {
        (Value::String(a), Value::String(b)) => Ok(Value::String(format!("{a}{b}"))),
        (Value::Array(a), Value::Array(b)) => {
            Ok(Value::Array(a.iter().chain(b).cloned().collect()))
        }
        _ => match (int(x), int(y)) {
            (Some(a), Some(b)) => a
                .checked_add(b)
                .map(int_value)
                .ok_or_else(|| app_error("add(): result exceeds 64-bit integers")),
            _ => match (number(x), number(y)) {
                (Some(a), Some(b)) => finite("add", a + b),
                _ => Err(type_error("add", x, y)),
            },
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

fn div(params: &[Value], _: HeaderMap) -> HandlerResult {
    let (x, y) = two("div", params)?;
    match (int(x), int(y)) {
        (Some(_), Some(0)) => Err(app_error("div(): integer division by zero")),
        (Some(a), Some(b)) => a
            .checked_div_euclid(b)
            .map(|_| int_value(floor_div(a, b)))
            .ok_or_else(|| app_error("div(): result exceeds 64-bit integers")),
        _ => match (number(x), number(y)) {
            (Some(_), Some(0.0)) => Err(app_error("div(): float division by zero")),
            (Some(a), Some(b)) => finite("div", (a / b).floor()),
            _ => Err(type_error("div", x, y)),
        },
    }
}

fn echo(params: &[Value], _: HeaderMap) -> HandlerResult {
    match params {
        // dxr hands handlers a borrowed slice: echo must clone.
        [v] => Ok(v.clone()),
        _ => Err(Fault::new(
            INVALID_PARAMS,
            format!("echo() takes 1 parameter ({} given)", params.len()),
        )),
    }
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: dxr-peer PORT");
    let route = RouteBuilder::new()
        .set_path("/RPC2")
        .add_method("pow", Box::new(pow as HandlerFn))
        .add_method("add", Box::new(add as HandlerFn))
        .add_method("div", Box::new(div as HandlerFn))
        .add_method("echo", Box::new(echo as HandlerFn))
        .build()
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(SizeAbove::new(1400)),
        );
    // Server::serve(addr) as dxr documents it, but with TCP_NODELAY on each
    // connection, as the gateway (axum leaves it off; dxr takes any axum
    // Listener).
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .expect("bind")
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    eprintln!("dxr ready on 127.0.0.1:{port}/RPC2");
    Server::from_route(route)
        .serve_listener(listener)
        .await
        .expect("dxr server");
}
