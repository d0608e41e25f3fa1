//! One HTTP request through the pipeline: path and method checks, the body
//! (bounded, timed, gunzipped), the gateway, then the response (gzipped when
//! it is worth it and the client accepts it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use tracing::Instrument;
use tracing::field::Empty;

use super::app::App;
use super::body;
use super::docs_page;
use super::request_id;
use super::rpc;
use super::status::HttpError;
use crate::call::TRACE_TARGET;
use crate::telemetry::{self, AccessLine};

/// What an XML-RPC exchange was, for the access log and metrics.
#[derive(Default)]
struct Exchange {
    method: Option<String>,
    multicall_methods: Vec<String>,
    backends: Vec<String>,
    fault_code: Option<i32>,
    request_bytes: usize,
    request_gzip: bool,
    response_gzip: bool,
}

/// Answers one request. Never fails: every problem is a status or a fault.
/// Every line logged about it carries its request id: warnings and the
/// access line name it, and at `debug` a `request` span adds it to all.
/// With traces on, it is the exported `request` span (continuing the
/// client's `traceparent`), and the access line and warnings name its
/// trace id too.
/// Once shutdown has begun (the shutdown delay included), answers say
/// `Connection: close`, so keep-alive clients reconnect, through their load
/// balancer, to a server that is not going away.
pub(super) async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Response<Full<Bytes>> {
    let request_id = request_id::from_headers(req.headers());
    // The exported span (disabled, costing a callsite check, when traces
    // are off), continuing the client's trace when it sent one.
    let trace = tracing::info_span!(
        target: TRACE_TARGET,
        "request",
        otel.name = %format_args!("{} {}", req.method(), app.options.rpc_path_label(req.uri().path())),
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.system = "xmlrpc",
        http.request.method = %req.method(),
        url.path = %app.options.rpc_path_label(req.uri().path()),
        server.address = Empty,
        http.response.status_code = Empty,
    );
    let trace_id = telemetry::continue_trace(&trace, req.headers());
    if trace_id.is_some()
        && let Some(host) = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
    {
        trace.record("server.address", host_name(host));
    }
    // A debug-level span: at `info` it costs nothing per request. Lines that
    // matter at info and above (access, warnings) name the id themselves.
    let span = tracing::debug_span!("request", request_id = %request_id);
    let in_span = !span.is_disabled();
    let mut response = handle_in_span(&app, req, peer, request_id, trace_id, in_span)
        .instrument(span)
        .instrument(trace.clone())
        .await;
    if app.admin.readiness.is_draining() {
        response.headers_mut().insert(header::CONNECTION, CLOSE);
    }
    if !trace.is_disabled() {
        let status = response.status();
        trace.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            trace.record("otel.status_code", "error");
        }
    }
    response
}

/// The host of a `Host` header, without its port.
fn host_name(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

const CLOSE: HeaderValue = HeaderValue::from_static("close");

async fn handle_in_span(
    app: &App,
    req: Request<Incoming>,
    peer: Option<SocketAddr>,
    request_id: Arc<str>,
    trace_id: Option<Arc<str>>,
    in_span: bool,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let http_method = req.method().clone();
    let metrics = app.gateway.metrics().clone();
    if app.options.admin.listen.is_none()
        && let Some(mut response) = app.admin.respond(&http_method, &path)
    {
        let label = app.options.admin.endpoint(&path).unwrap_or_default();
        metrics.http_request(label, response.status().as_u16());
        set_request_id(&mut response, &request_id);
        // Probes and scrapes come every few seconds: not worth an info line.
        tracing::debug!(target: "access", path = %path, status = response.status().as_u16(), "admin request");
        return response;
    }
    let _in_flight = metrics.request_in_flight();
    let origin = req.headers().get(header::ORIGIN).cloned();
    let (mut response, exchange) =
        match serve_rpc(app, req, &path, peer, &request_id, &trace_id).await {
            Ok(served) => served,
            Err(err) => (err.into_response(), Exchange::default()),
        };
    app.cors_decorate(origin.as_ref(), &mut response);
    set_request_id(&mut response, &request_id);
    let status = response.status().as_u16();
    let response_bytes = response.body().size_hint().exact().unwrap_or(0) as usize;
    metrics.http_request(app.options.rpc_path_label(&path), status);
    if exchange.method.is_some() || exchange.fault_code.is_some() {
        metrics.http_bodies(
            exchange.request_bytes,
            response_bytes,
            exchange.request_gzip,
            exchange.response_gzip,
        );
    }
    if app.live().log_requests {
        let line = AccessLine {
            request_id: &request_id,
            trace_id: trace_id.as_deref(),
            peer,
            http_method: http_method.as_str(),
            path: &path,
            method: exchange.method.as_deref(),
            calls: &exchange.multicall_methods,
            backends: &exchange.backends,
            status,
            fault_code: exchange.fault_code,
            bytes_in: exchange.request_bytes,
            bytes_out: response_bytes,
            duration: started.elapsed(),
        };
        app.options.access_log.log(&line, in_span);
    }
    response
}

fn set_request_id(response: &mut Response<Full<Bytes>>, request_id: &str) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(request_id::HEADER, value);
    }
}

async fn serve_rpc(
    app: &App,
    req: Request<Incoming>,
    rpc_path: &str,
    peer: Option<SocketAddr>,
    request_id: &Arc<str>,
    trace_id: &Option<Arc<str>>,
) -> Result<(Response<Full<Bytes>>, Exchange), HttpError> {
    if !app.options.is_rpc_path(rpc_path) {
        return Err(HttpError::NotFound);
    }
    if let Some(preflight) = app.cors_preflight(req.method(), req.headers()) {
        return Ok((preflight, Exchange::default()));
    }
    // The reloadable edge settings, read once for the whole request.
    let live = app.live();
    if live.docs && docs_page::wants_page(req.method(), req.headers()) {
        let page = serve_docs(app, &live, req.headers(), rpc_path, peer, request_id).await?;
        return Ok((page, Exchange::default()));
    }
    let codings = rpc::check_head(req.method(), req.headers())?;
    let principal = app.authenticate(&live, req.headers())?;
    let mut ctx = rpc::call_context(&live, request_id.clone(), peer, req.headers(), principal);
    ctx.trace_id = trace_id.clone();
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    rpc::check_declared_length(declared, app.options.max_body_bytes)?;
    let (raw, reservation) = body::read(
        req.into_body(),
        declared,
        app.options.max_body_bytes,
        &app.body_budget,
        app.options.body_read_timeout,
    )
    .await?;
    let request_bytes = raw.len();
    let (xml, reservation) = if codings.gzipped {
        let limit = app.options.max_decoded_bytes;
        body::gunzip(raw, limit, &app.body_budget, reservation).await?
    } else {
        (raw, reservation)
    };
    let mut outcome = app.gateway.handle_at(&xml, Some(rpc_path), &ctx).await;
    drop(xml);
    let (response, response_gzip) = rpc::answer(&live, &mut outcome, codings.wants_gzip)?;
    // The budget is held until hyper has written the answer and dropped it:
    // answers waiting for slow readers count against it too.
    let response = response.map(|payload| Full::new(body::held(payload, reservation)));
    let exchange = Exchange {
        method: outcome.method,
        multicall_methods: outcome.multicall_methods,
        backends: outcome.backends,
        fault_code: outcome.fault_code,
        request_bytes,
        request_gzip: codings.gzipped,
        response_gzip,
    };
    Ok((response, exchange))
}

/// The methods page (`server.docs`): what the caller may call here, its
/// credentials read as for a POST. An anonymous caller gets the 401
/// challenge when some methods need credentials (so a browser asks for
/// them).
async fn serve_docs(
    app: &App,
    live: &super::app::LiveEdge,
    headers: &http::HeaderMap,
    rpc_path: &str,
    peer: Option<SocketAddr>,
    request_id: &Arc<str>,
) -> Result<Response<Full<Bytes>>, HttpError> {
    let principal = app.authenticate(live, headers)?;
    let ctx = rpc::call_context(live, request_id.clone(), peer, headers, principal);
    let catalog = app.gateway.catalog(Some(rpc_path), &ctx).await;
    if ctx.principal.is_none() && catalog.need_credentials > 0 {
        return Err(HttpError::Unauthorized(live.auth.mode()));
    }
    let endpoint = docs_page::endpoint(app.options.tls.is_some(), headers, rpc_path);
    Ok(docs_page::response(docs_page::render(&catalog, &endpoint)))
}
