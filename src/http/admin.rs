//! The operator's endpoints: `/metrics` (Prometheus text format), `/healthz`
//! (liveness) and `/readyz` (readiness: 503 once draining). Served on the
//! main listener before the RPC paths, or on a listener of their own when
//! `[admin] listen` is set. Reads metrics and readiness; changes neither.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::status::plain;
use crate::defaults;
use crate::gateway::Gateway;
use crate::metrics::OTHER_PATH;

/// Connections the admin listener serves at once (probes and scrapers).
const ADMIN_CONNECTIONS: usize = 64;

/// `[admin]`: where and what the operator's endpoints are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminOptions {
    /// A listener of their own; `None` serves them on the main listener.
    pub listen: Option<SocketAddr>,
    /// Serve `metrics_path`.
    pub metrics: bool,
    /// Where metrics are served.
    pub metrics_path: String,
    /// Liveness: always 200 while the process serves.
    pub health_path: String,
    /// Readiness: 200, or 503 once shutdown has begun.
    pub ready_path: String,
    /// Readiness also waits for every backend's circuit to be closed
    /// (`admin.ready_requires_backends`).
    pub ready_requires_backends: bool,
}

impl Default for AdminOptions {
    fn default() -> Self {
        AdminOptions {
            listen: None,
            metrics: true,
            metrics_path: defaults::METRICS_PATH.to_owned(),
            health_path: defaults::HEALTH_PATH.to_owned(),
            ready_path: defaults::READY_PATH.to_owned(),
            ready_requires_backends: false,
        }
    }
}

impl AdminOptions {
    /// The endpoint paths served (metrics only when switched on).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        [
            self.metrics.then_some(self.metrics_path.as_str()),
            Some(self.health_path.as_str()),
            Some(self.ready_path.as_str()),
        ]
        .into_iter()
        .flatten()
    }

    /// `path` itself when it is one of the endpoints (a closed set, fit
    /// for a metric label).
    pub fn endpoint<'a>(&'a self, path: &str) -> Option<&'a str> {
        self.paths().find(|p| *p == path)
    }
}

/// Whether the server takes new work: false from the shutdown signal on.
/// Cheap to clone; all clones share the flag.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
}

impl Readiness {
    /// From now on `/readyz` answers 503.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// What the endpoints read.
#[derive(Clone, Debug)]
pub struct AdminState {
    /// Where and what.
    pub options: AdminOptions,
    /// What `/metrics` renders (its metrics) and what readiness may ask
    /// (its backends' circuits).
    pub gateway: Arc<Gateway>,
    /// What `/readyz` answers from.
    pub readiness: Readiness,
}

impl AdminState {
    /// The response for `path`, or `None` when it is not an endpoint.
    pub fn respond(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>> {
        let endpoint = self.options.endpoint(path)?;
        if method != Method::GET && method != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Some(response);
        }
        let o = &self.options;
        Some(if o.metrics && endpoint == o.metrics_path {
            let (text, content_type) = self.gateway.metrics().render();
            let mut response = plain(StatusCode::OK, text);
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        } else if endpoint == o.health_path {
            plain(StatusCode::OK, "ok\n")
        } else if self.readiness.is_draining() {
            plain(StatusCode::SERVICE_UNAVAILABLE, "draining\n")
        } else if let Some(open) = self.open_circuits() {
            // Names, never URLs: the probe's answer may be seen by anyone
            // who can reach the endpoint.
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("circuit open: {}\n", open.join(", ")),
            )
        } else {
            plain(StatusCode::OK, "ready\n")
        })
    }

    /// The backends whose circuit is open, when readiness waits for them.
    fn open_circuits(&self) -> Option<Vec<String>> {
        if !self.options.ready_requires_backends {
            return None;
        }
        let open = self.gateway.open_circuits();
        (!open.is_empty()).then_some(open)
    }

    /// Answers one request on the admin listener: an endpoint, or 404.
    fn handle<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        let (response, label) = match self.respond(req.method(), path) {
            Some(response) => (response, self.options.endpoint(path)),
            None => (plain(StatusCode::NOT_FOUND, "no such page\n"), None),
        };
        self.gateway
            .metrics()
            .http_request(label.unwrap_or(OTHER_PATH), response.status().as_u16());
        tracing::debug!(target: "access", path, status = response.status().as_u16(), "admin request");
        response
    }
}

/// Serves the endpoints on their own listener until `shutdown` resolves
/// (the server calls it once the main listener has drained, so `/readyz`
/// answers 503 all through the shutdown delay and the drain).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AdminState>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(ADMIN_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "admin accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let state = state.clone();
        let service = service_fn(move |req| {
            let response = state.handle(&req);
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(1), graceful.shutdown()).await;
    Ok(())
}
