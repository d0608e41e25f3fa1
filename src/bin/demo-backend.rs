//! `demo-backend`: a small service to put behind the gateway, for trying it
//! out and for its integration tests. One port serves JSON-RPC 2.0 at
//! `POST /rpc`, plain JSON at `POST /users/get`, `/echo` and `/bad`, and
//! XML-RPC at `POST /RPC2` (through the gateway's own library). It prints
//! `listening on ADDR` once bound.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value as Json, json};
use tokio::net::TcpListener;

use xmlrpc_gateway::gateway::Gateway;
use xmlrpc_gateway::xmlrpc::{EncodeOptions, Limits};
use xmlrpc_gateway::{CallContext, Value};
use xmlrpc_gateway::{DispatchOptions, Dispatcher, RoutingTable};

#[derive(Parser, Debug)]
#[command(
    name = "demo-backend",
    about = "A demo JSON-RPC, JSON and XML-RPC service"
)]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Added before every answer (e.g. 100ms).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    delay: Duration,
    /// Fraction of requests (0.0-1.0) answered with --fail-status instead.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// The status of injected failures.
    #[arg(long, default_value_t = 500)]
    fail_status: u16,
}

struct State {
    args: Args,
    requests: AtomicU64,
    xmlrpc: Gateway,
}

impl State {
    /// Deterministic failure injection: exactly `fail_rate` of the requests
    /// fail, spread evenly.
    fn should_fail(&self) -> bool {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) as f64;
        let rate = self.args.fail_rate.clamp(0.0, 1.0);
        ((n + 1.0) * rate).floor() > (n * rate).floor()
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    match rt.block_on(serve(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("demo-backend: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    let state = Arc::new(State {
        args,
        requests: AtomicU64::new(0),
        xmlrpc: xmlrpc_gateway(),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The XML-RPC side: a routing table served by the gateway's own pipeline.
fn xmlrpc_gateway() -> Gateway {
    let mut table = RoutingTable::new();
    table
        .register_function("legacy.hello", |name: String| format!("Hello, {name}!"))
        .expect("fresh table");
    table
        .register_function("echo", |v: Value| v)
        .expect("fresh table");
    table
        .register_function("add", |a: i64, b: i64| a + b)
        .expect("fresh table");
    let options = DispatchOptions {
        introspection: true,
        multicall: true,
        allow_none: true,
        ..DispatchOptions::default()
    };
    let encode = EncodeOptions {
        allow_none: true,
        ..EncodeOptions::default()
    };
    Gateway::new(Dispatcher::new(table, options), Limits::default(), encode)
}

fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

fn json_reply(status: StatusCode, body: &Json) -> Response<Full<Bytes>> {
    reply(status, "application/json", body.to_string().into_bytes())
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if !state.args.delay.is_zero() {
        tokio::time::sleep(state.args.delay).await;
    }
    if state.should_fail() {
        let status = StatusCode::from_u16(state.args.fail_status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return json_reply(status, &json!({"error": "injected failure"}));
    }
    if req.method() != Method::POST {
        return json_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"error": "POST only"}),
        );
    }
    let path = req.uri().path().to_owned();
    let headers: serde_json::Map<String, Json> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), Json::from(v.to_str().ok()?))))
        .collect();
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return json_reply(
                StatusCode::BAD_REQUEST,
                &json!({"error": "unreadable body"}),
            );
        }
    };
    match path.as_str() {
        "/rpc" => json_reply(StatusCode::OK, &jsonrpc(&body, headers).await),
        "/users/get" => users_get(&body),
        "/echo" => reply(StatusCode::OK, "application/json", body.to_vec()),
        "/bad" => reply(
            StatusCode::OK,
            "application/json",
            b"{this is not json".to_vec(),
        ),
        "/RPC2" => {
            let ctx = CallContext::detached();
            let outcome = state.xmlrpc.handle(&body, &ctx).await;
            reply(StatusCode::OK, "text/xml", outcome.body)
        }
        _ => json_reply(
            StatusCode::NOT_FOUND,
            &json!({"error": {"message": "no such path"}}),
        ),
    }
}

/// `/users/get`: `{"id": N}` or `[N]`; ids 1-1000 exist.
fn users_get(body: &[u8]) -> Response<Full<Bytes>> {
    let id = match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(o)) => o.get("id").and_then(Json::as_i64),
        Ok(Json::Array(a)) => a.first().and_then(Json::as_i64),
        _ => None,
    };
    match id {
        Some(id @ 1..=1000) => json_reply(
            StatusCode::OK,
            &json!({"id": id, "name": format!("user-{id}"), "active": id % 2 == 1}),
        ),
        Some(_) => json_reply(StatusCode::NOT_FOUND, &json!({"error": "no such user"})),
        None => json_reply(StatusCode::BAD_REQUEST, &json!({"message": "give an id"})),
    }
}

/// One JSON-RPC 2.0 request.
async fn jsonrpc(body: &[u8], headers: serde_json::Map<String, Json>) -> Json {
    let error = |id: &Json, code: i64, message: &str| json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let Ok(Json::Object(req)) = serde_json::from_slice::<Json>(body) else {
        return error(&Json::Null, -32700, "parse error");
    };
    let id = req.get("id").cloned().unwrap_or(Json::Null);
    let Some(method) = req.get("method").and_then(Json::as_str) else {
        return error(&id, -32600, "invalid request");
    };
    // Positional, or named (taken in the order the method lists its names).
    let names: &[&str] = match method {
        "inventory.get" => &["id"],
        "math.add" => &["a", "b"],
        "echo" => &["x"],
        "sleep" => &["ms"],
        "fail" => &["code", "msg"],
        _ => &[],
    };
    let params: Vec<Json> = match req.get("params") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items.clone(),
        Some(Json::Object(named)) => names
            .iter()
            .map(|n| named.get(*n).cloned().unwrap_or(Json::Null))
            .collect(),
        Some(_) => return error(&id, -32600, "params must be an array or object"),
    };
    let arg = |i: usize| params.get(i).cloned().unwrap_or(Json::Null);
    let result = match method {
        "inventory.get" => match arg(0).as_i64() {
            Some(n) => {
                json!({"id": n, "name": format!("widget-{n}"), "stock": n * 10, "price": 2.5})
            }
            None => return error(&id, -32602, "inventory.get(id): id must be an integer"),
        },
        "inventory.list" => json!([
            {"id": 1, "name": "widget-1"},
            {"id": 2, "name": "widget-2"},
            {"id": 3, "name": "widget-3"}
        ]),
        "math.add" => match (arg(0), arg(1)) {
            (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
                (Some(a), Some(b)) => json!(a.wrapping_add(b)),
                _ => json!(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
            },
            _ => return error(&id, -32602, "math.add(a, b): two numbers"),
        },
        "echo" => arg(0),
        "headers" => Json::Object(headers),
        "sleep" => {
            let ms = arg(0).as_u64().unwrap_or(0).min(60_000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            json!(ms)
        }
        "fail" => {
            let code = arg(0).as_i64().unwrap_or(1);
            let msg = arg(1).as_str().unwrap_or("failed").to_owned();
            return error(&id, code, &msg);
        }
        "wrong_id" => return json!({"jsonrpc": "2.0", "id": "not-yours", "result": 1}),
        _ => return error(&id, -32601, &format!("method {method:?} not found")),
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
