//! What every backend kind shares: where the service is, how to reach it
//! (its own HTTP client and pool, over TCP or a Unix socket, or SCGI), the
//! headers it is sent, and the limits that protect it (timeout, circuit
//! breaker, concurrency).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;

use super::breaker::{Breaker, Limiter};
use super::client;
use super::error::BackendError;
use super::scgi::ScgiClient;
use super::spec::{BackendSpec, BuildError};
use crate::call::{CallContext, TRACE_TARGET};
use crate::metrics::Metrics;

/// The header carrying the gateway's request id to every backend.
pub(super) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// How a backend's requests travel.
pub(super) enum Transport {
    /// HTTP or HTTPS, over TCP or the backend's Unix socket: this backend's
    /// own reqwest client (its own pool and connect timeout).
    Http(reqwest::Client),
    /// SCGI, over TCP or a Unix socket: one connection per call.
    Scgi(ScgiClient),
}

/// What every backend kind shares: where the service is, how to reach it,
/// and the limits that protect it.
pub(super) struct Endpoint {
    pub name: String,
    pub url: reqwest::Url,
    pub transport: Transport,
    /// Bound on a whole call, slot wait and retries included.
    pub timeout: Duration,
    /// Static headers from config (env already substituted).
    headers: HeaderMap,
    /// Client header names (lower case) this backend receives.
    forward: Vec<String>,
    /// Extra attempts after a failure to connect, idempotent routes only.
    pub retries: u32,
    breaker: Arc<Breaker>,
    limiter: Limiter,
}

impl Endpoint {
    /// The endpoint of backend `name`: its own transport (an HTTP client
    /// with its pool and connect timeout, connecting to the Unix socket
    /// when the spec names one; or an SCGI client), breaker (showing its
    /// state in `metrics`) and concurrency limit.
    pub(super) fn new(
        name: &str,
        spec: &BackendSpec,
        metrics: &Metrics,
    ) -> Result<Endpoint, BuildError> {
        let transport = if spec.is_scgi() {
            Transport::Scgi(ScgiClient::new(
                &spec.url,
                spec.socket.as_deref(),
                spec.connect_timeout,
            )?)
        } else {
            let mut builder =
                client::client_builder(spec.max_concurrency).connect_timeout(spec.connect_timeout);
            if spec.url.scheme() == "http" {
                builder = builder.tls_backend_preconfigured(client::plain_http_tls());
            }
            if let Some(socket) = &spec.socket {
                builder = builder.unix_socket(socket.clone());
            }
            Transport::Http(builder.build().map_err(BuildError::HttpClient)?)
        };
        Ok(Endpoint {
            name: name.to_owned(),
            url: spec.url.clone(),
            transport,
            timeout: spec.timeout,
            headers: spec.headers.clone(),
            forward: spec.forward_headers.clone(),
            retries: spec.retries,
            breaker: Arc::new(Breaker::new(
                spec.breaker.failures,
                spec.breaker.open_for,
                Some(metrics.circuit_gauge(name)),
            )),
            limiter: Limiter::new(spec.max_concurrency),
        })
    }

    /// The HTTP client, for the kinds that speak only HTTP (JSON, JSON-RPC).
    pub(super) fn http_only(&self) -> Result<reqwest::Client, BuildError> {
        match &self.transport {
            Transport::Http(http) => Ok(http.clone()),
            Transport::Scgi(_) => Err(BuildError::Transport("scgi is for xmlrpc backends only")),
        }
    }

    /// The headers of one request: config headers, the client headers this
    /// backend may see, and `X-Request-Id`.
    pub(super) fn request_headers(&self, ctx: &CallContext) -> HeaderMap {
        let mut headers = self.headers.clone();
        for (name, value) in ctx.headers.iter() {
            if !self.forward.iter().any(|f| f == name) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
            headers.insert(REQUEST_ID_HEADER, id);
        }
        headers
    }

    /// Whether the circuit breaker refuses calls now.
    pub(super) fn circuit_open(&self) -> bool {
        self.breaker.is_open()
    }

    /// Retries allowed for a call.
    pub(super) fn retries_for(&self, idempotent: bool) -> u32 {
        if idempotent { self.retries } else { 0 }
    }

    /// Runs one call through the circuit breaker and the concurrency limit,
    /// bounded by the backend's timeout, and logs a failure (with the
    /// request id) at warn. `deadline` is when the caller drops the call
    /// (`BackendCall::deadline`): dropped at or after it, unanswered, the
    /// call counts as a failure for the breaker.
    pub(super) async fn run<T, F, Fut>(
        &self,
        method: &str,
        ctx: &CallContext,
        deadline: Option<Instant>,
        attempt: F,
    ) -> Result<T, BackendError>
    where
        F: FnOnce(HeaderMap) -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        let result = match self.breaker.admit(deadline) {
            None => {
                // Nothing is sent: the refusal is a span of its own, so a
                // trace shows why the call failed at once.
                let refused = tracing::info_span!(
                    target: TRACE_TARGET,
                    "circuit open",
                    otel.status_code = "error",
                    error.type = "circuit_open",
                    xmlrpc_gateway.backend = %self.name,
                );
                drop(refused);
                Err(BackendError::CircuitOpen)
            }
            Some(ticket) => {
                let headers = self.request_headers(ctx);
                let work = async {
                    let _slot = self.limiter.acquire().await;
                    attempt(headers).await
                };
                let result = tokio::time::timeout(self.timeout, work)
                    .await
                    .unwrap_or(Err(BackendError::Timeout));
                ticket.record(result.as_ref().err());
                result
            }
        };
        if let Err(err) = &result
            && !matches!(err, BackendError::Remote(_))
        {
            tracing::warn!(
                request_id = %ctx.request_id,
                trace_id = ctx.trace_id.as_deref().map(tracing::field::display),
                backend = %self.name,
                method,
                kind = err.kind(),
                error = %err,
                "backend call failed"
            );
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::spec::Kind;

    #[test]
    fn headers_are_filtered_per_backend() {
        let mut spec = BackendSpec::new(Kind::Json, "http://127.0.0.1:9/".parse().unwrap());
        spec.forward_headers = vec!["authorization".into(), "x-shared".into()];
        spec.headers.insert(
            HeaderName::from_static("x-api"),
            HeaderValue::from_static("k"),
        );
        let ep = Endpoint::new("b", &spec, &Metrics::new()).unwrap();
        let ctx = CallContext {
            request_id: Arc::from("req-1"),
            headers: Arc::new(vec![
                ("authorization".into(), "Basic x".into()),
                ("x-shared".into(), "s".into()),
                ("x-other".into(), "no".into()),
            ]),
            ..CallContext::default()
        };
        let h = ep.request_headers(&ctx);
        assert_eq!(h["authorization"], "Basic x");
        assert_eq!(h["x-shared"], "s");
        assert_eq!(h["x-api"], "k");
        assert_eq!(h["x-request-id"], "req-1");
        assert!(h.get("x-other").is_none());
    }
}
