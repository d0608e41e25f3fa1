//! What every connection shares: the pipeline, the HTTP settings, the
//! operator's endpoints, the body budget and the credentials in force, with
//! the edge's hooks (authenticate, CORS, TLS) over them.

use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response};
use http_body_util::Full;

use super::admin::{AdminState, Readiness};
use super::auth::{AuthMode, Authenticator};
use super::body::BodyBudget;
use super::options::HttpOptions;
use super::status::HttpError;
use super::tls::Tls;
use crate::call::AuthFailure;
use crate::gateway::Gateway;

/// What every connection shares: the pipeline, the HTTP settings, and the
/// operator's endpoints (their metrics are the gateway's).
pub struct App {
    /// The pipeline.
    pub gateway: Arc<Gateway>,
    /// The edge's settings as at start; what a reload may change is read
    /// from the live edge settings instead.
    pub options: HttpOptions,
    /// The operator's endpoints.
    pub admin: AdminState,
    /// Request body bytes in flight (`max_inflight_body_bytes`).
    pub(crate) body_budget: BodyBudget,
    /// The edge's settings a reload replaces.
    live: ArcSwap<LiveEdge>,
}

/// The edge's settings a reload replaces; a request reads them once.
#[derive(Debug)]
pub(crate) struct LiveEdge {
    /// The credentials in force.
    pub(crate) auth: Arc<Authenticator>,
    /// Client header names (lower case) passed on to backends.
    pub(crate) forward_headers: Vec<String>,
    /// One access log line per request.
    pub(crate) log_requests: bool,
    /// Gzip answers larger than this (when the client takes gzip).
    pub(crate) encode_threshold: Option<usize>,
    /// A browser's GET on an RPC path gets the methods page.
    pub(crate) docs: bool,
}

impl LiveEdge {
    fn of(options: &HttpOptions) -> LiveEdge {
        LiveEdge {
            auth: options.auth.clone(),
            forward_headers: options.forward_headers.clone(),
            log_requests: options.log_requests,
            encode_threshold: options.encode_threshold,
            docs: options.docs,
        }
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("gateway", &self.gateway)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The edge around `gateway`, with its options.
    pub fn new(gateway: Gateway, options: HttpOptions) -> App {
        let gateway = Arc::new(gateway);
        let admin = AdminState {
            options: options.admin.clone(),
            gateway: gateway.clone(),
            readiness: Readiness::default(),
        };
        App {
            body_budget: BodyBudget::new(options.max_inflight_body_bytes),
            gateway,
            live: ArcSwap::from_pointee(LiveEdge::of(&options)),
            options,
            admin,
        }
    }

    /// The edge's settings in force now.
    /// A request takes it once and keeps it to its end (an `Arc`, not a
    /// guard: it is held across the call's awaits).
    pub(crate) fn live(&self) -> Arc<LiveEdge> {
        self.live.load_full()
    }

    /// Applies what a config reload may change at the edge: the
    /// credentials, the forwarded header names, access logging, the answer
    /// gzip threshold, the methods page switch, and the TLS certificate. (Turning TLS on or off, and
    /// every other HTTP setting, needs a restart.)
    pub fn reload_edge(&self, new: &HttpOptions) {
        self.live.store(Arc::new(LiveEdge::of(new)));
        match (&self.options.tls, &new.tls) {
            (Some(current), Some(new)) => current.replace_cert(new),
            (None, None) => {}
            _ => {
                tracing::warn!("turning TLS on or off needs a restart; the listener stays as it is")
            }
        }
    }
}

impl App {
    /// The edge's hook: who is calling, or the 401 that refuses the request
    /// (counted, and logged without the credentials).
    pub(crate) fn authenticate(
        &self,
        live: &LiveEdge,
        headers: &HeaderMap,
    ) -> Result<Option<Arc<str>>, HttpError> {
        let auth = &live.auth;
        auth.authenticate(headers)
            .map_err(|failure| self.refuse(auth.mode(), failure))
    }

    fn refuse(&self, mode: AuthMode, failure: AuthFailure) -> HttpError {
        self.gateway.metrics().auth_failure(failure);
        tracing::info!(reason = failure.as_str(), "authentication failed");
        HttpError::Unauthorized(mode)
    }
}

impl App {
    /// The edge's hook for `OPTIONS`: a preflight answer, or `None`.
    pub(crate) fn cors_preflight(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Option<Response<Full<Bytes>>> {
        self.options.cors.preflight(method, headers)
    }

    /// The edge's hook for every RPC-path response.
    pub(crate) fn cors_decorate(
        &self,
        origin: Option<&HeaderValue>,
        response: &mut Response<Full<Bytes>>,
    ) {
        self.options.cors.decorate(origin, response);
    }
}

impl App {
    /// The TLS state, when the server terminates TLS.
    pub fn tls(&self) -> Option<Arc<Tls>> {
        self.options.tls.clone()
    }
}
