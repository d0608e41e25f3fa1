//! The outbound HTTP client (a pooled `reqwest::Client`: one per process for
//! the CLI, one per configured backend so each has its own connect timeout
//! and pool), sending with retries, and an XML-RPC client on it, used by the
//! `xmlrpc` backend kind and by the `call` subcommand.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT,
};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::error::BackendError;
use crate::call::TRACE_TARGET;
use crate::xmlrpc::{self, EncodeOptions, Limits, Value};

/// Answers larger than this are refused (after gunzip too).
pub(crate) const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// The settings every outbound client shares. TLS uses rustls with the ring
/// provider. Redirects are not followed (a backend's 3xx is a bad status:
/// following one would turn a POST into a GET), and reqwest's own retry
/// layer is off (retries are ours, per route, in [`send`]).
pub(crate) fn client_builder(max_idle_per_host: usize) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = HeaderMap::new();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("xmlrpc-gateway/", env!("CARGO_PKG_VERSION"))),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(max_idle_per_host)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        // With no retry budget reqwest's retry layer still copies every
        // request (headers, URI, body handle) in case it retries it;
        // `max_retries_per_request(0)` makes it skip the copy.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .referer(false)
}

/// The TLS settings for a client whose backend URL is plain `http`: no
/// root certificates at all. Such a client never makes a TLS connection
/// (redirects are not followed), and skipping the system's root store keeps
/// its certificates out of memory when no backend uses https (1.2 MB of
/// idle RSS, measured). A TLS handshake through it would fail verification,
/// never pass unchecked.
pub(crate) fn plain_http_tls() -> rustls::ClientConfig {
    let _ = rustls::crypto::ring::default_provider().install_default();
    rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

/// The process-wide pooled client.
pub fn http_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            client_builder(64)
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("the HTTP client's static settings are valid")
        })
        .clone()
}

/// Pause before retry number `attempt` (1-based): 50 ms, 100 ms, 200 ms...
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64 << attempt.saturating_sub(1).min(5))
}

/// Sends a request, trying again up to `retries` times when the failure
/// happened before anything was sent (connection refused, connect
/// timeout). `build` makes a fresh request for each attempt. With traces
/// on, each attempt is an exported span of its own, whose context the
/// request carries in `traceparent` (W3C trace context).
pub(crate) async fn send(
    build: impl Fn() -> reqwest::RequestBuilder,
    retries: u32,
) -> Result<reqwest::Response, BackendError> {
    let mut attempt = 0;
    loop {
        match send_once(build(), attempt).await {
            Ok(response) => return Ok(response),
            Err(err) if err.is_connect() && attempt < retries => {
                attempt += 1;
                tracing::debug!(error = %err, attempt, "connect failed; retrying");
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(err) => return Err(classify(&err)),
        }
    }
}

/// One attempt (integers are recorded as `i64`: the OpenTelemetry layer
/// exports a `u64` as a string): sent as is when traces are off; otherwise in a client span
/// (`http.request.resend_count` numbering the retries), its context
/// injected into the request's headers. No URL path, query or header
/// value is recorded: they may carry credentials.
async fn send_once(
    request: reqwest::RequestBuilder,
    attempt: u32,
) -> Result<reqwest::Response, reqwest::Error> {
    let span = attempt_span();
    if span.is_disabled() {
        return request.send().await;
    }
    let (client, request) = request.build_split();
    traced(&client, request?, attempt, span).await
}

/// The span of one attempt: disabled (a callsite check) when traces are off.
fn attempt_span() -> tracing::Span {
    tracing::info_span!(
        target: TRACE_TARGET,
        "attempt",
        otel.name = "POST",
        otel.kind = "client",
        otel.status_code = Empty,
        http.request.method = "POST",
        http.request.resend_count = Empty,
        server.address = Empty,
        server.port = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
    )
}

/// An attempt of a request built in full, in `span` (see [`send_once`]).
async fn traced(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    attempt: u32,
    span: tracing::Span,
) -> Result<reqwest::Response, reqwest::Error> {
    if attempt > 0 {
        span.record("http.request.resend_count", i64::from(attempt));
    }
    if let Some(host) = request.url().host_str() {
        span.record("server.address", host);
    }
    if let Some(port) = request.url().port_or_known_default() {
        span.record("server.port", i64::from(port));
    }
    let cx = span.context();
    TraceContextPropagator::new().inject_context(&cx, &mut Injector(request.headers_mut()));
    let result = client.execute(request).instrument(span.clone()).await;
    match &result {
        Ok(response) => {
            let status = response.status();
            span.record("http.response.status_code", i64::from(status.as_u16()));
            if !status.is_success() {
                span.record("otel.status_code", "error");
                span.record("error.type", status.as_str());
            }
        }
        Err(err) => {
            span.record("otel.status_code", "error");
            span.record("error.type", classify(err).kind());
        }
    }
    result
}

/// A request's headers, written by the propagator.
struct Injector<'a>(&'a mut HeaderMap);

impl opentelemetry::propagation::Injector for Injector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Sends a request built in full by the caller, as [`send`] does: tried
/// again up to `retries` times when the failure happened before anything
/// was sent. The request is copied for a retry only when one is allowed.
pub(crate) async fn execute(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    retries: u32,
) -> Result<reqwest::Response, BackendError> {
    let mut attempt = 0;
    loop {
        let spare = if attempt < retries {
            request.try_clone()
        } else {
            None
        };
        let span = attempt_span();
        let sent = if span.is_disabled() {
            http.execute(request).await
        } else {
            traced(http, request, attempt, span).await
        };
        match sent {
            Ok(response) => return Ok(response),
            Err(err) => match spare {
                Some(next) if err.is_connect() => {
                    attempt += 1;
                    tracing::debug!(error = %err, attempt, "connect failed; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    request = next;
                }
                _ => return Err(classify(&err)),
            },
        }
    }
}

/// Maps a transport failure to its kind.
pub(crate) fn classify(err: &reqwest::Error) -> BackendError {
    if err.is_timeout() {
        BackendError::Timeout
    } else if err.is_connect() {
        // Refused, reset, unreachable, or no such host: nothing was sent.
        BackendError::Refused
    } else {
        BackendError::Transport(err.to_string())
    }
}

/// Reads a response body, bounded, gunzipping it when the server gzipped it.
pub(crate) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BackendError> {
    let gzipped = response
        .headers()
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(BackendError::BadBody("response too large".to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    if gzipped {
        body = crate::gzip::gunzip(&body, MAX_RESPONSE_BYTES)
            .map_err(|_| BackendError::BadBody("bad gzip".to_owned()))?;
    }
    Ok(body)
}

/// Calls XML-RPC methods on one server.
#[derive(Clone, Debug)]
pub struct XmlRpcClient {
    http: reqwest::Client,
    url: reqwest::Url,
    timeout: Option<Duration>,
    limits: Limits,
}

impl XmlRpcClient {
    /// A client for the server at `url` (`http` or `https`).
    pub fn new(url: &str) -> Result<XmlRpcClient, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{url} is not an http or https URL"));
        }
        Ok(XmlRpcClient {
            http: http_client(),
            url,
            timeout: None,
            limits: Limits::default(),
        })
    }

    /// Bounds each call (none: the HTTP client's own limits only).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Uses `http` (e.g. a backend's own client) instead of the process-wide one.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Calls `method`; a fault answer is `BackendError::Remote`.
    pub async fn call(
        &self,
        method: &str,
        params: &[Value],
        extra: &HeaderMap,
    ) -> Result<Value, BackendError> {
        self.call_with_retries(method, params, extra, 0).await
    }

    /// Calls `method`, retrying a failure to connect up to `retries` times.
    pub async fn call_with_retries(
        &self,
        method: &str,
        params: &[Value],
        extra: &HeaderMap,
        retries: u32,
    ) -> Result<Value, BackendError> {
        let body = encode_call(method, params)?;
        let build = || {
            let mut request = self
                .http
                .post(self.url.clone())
                .header(CONTENT_TYPE, "text/xml")
                .header(ACCEPT_ENCODING, "gzip")
                .headers(extra.clone())
                .body(body.clone());
            if let Some(timeout) = self.timeout {
                request = request.timeout(timeout);
            }
            request
        };
        let response = send(build, retries).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(BackendError::Status(status.as_u16(), None));
        }
        let body = read_body(response).await?;
        decode_answer(&body, &self.limits)
    }
}

/// The body of an XML-RPC call as the gateway sends it (nil allowed: JSON
/// services answer null, and a client's nil passes on).
pub(crate) fn encode_call(method: &str, params: &[Value]) -> Result<bytes::Bytes, BackendError> {
    let opts = EncodeOptions {
        allow_none: true,
        ..EncodeOptions::default()
    };
    xmlrpc::encode_call(method, params, &opts)
        .map(bytes::Bytes::from)
        .map_err(|e| BackendError::Transport(e.to_string()))
}

/// An XML-RPC answer: its value, a fault (`Remote`), or `BadBody`.
pub(crate) fn decode_answer(body: &[u8], limits: &Limits) -> Result<Value, BackendError> {
    match xmlrpc::decode_response(body, limits) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(fault)) => Err(BackendError::Remote(fault)),
        Err(err) => Err(BackendError::BadBody(err.to_string())),
    }
}
