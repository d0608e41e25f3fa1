//! The HTTP edge: the listener, connections, paths, methods, body limits,
//! gzip and status codes. Everything XML-RPC is delegated to the
//! [`Gateway`](crate::gateway::Gateway).

mod admin;
mod auth;
mod body;
mod cors;
mod gzip;
mod request_id;
mod server;
mod service;
mod status;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

pub use admin::{AdminOptions, AdminState, Readiness, serve as serve_admin};
pub use auth::{AuthFailure, AuthMode, Authenticator};
pub use cors::CorsOptions;
pub use gzip::{
    GunzipError, UnsupportedCoding, accepts_gzip, compress_response, gunzip, gzip, request_is_gzip,
};
pub use request_id::from_value as request_id_from;
pub use server::serve;
pub use status::HttpError;
pub use tls::{Tls, TlsError, load_certified_key};

use crate::gateway::Gateway;

/// The HTTP-level settings (see the README's config table).
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Paths that take XML-RPC POSTs, matched exactly (query ignored); empty
    /// means every path.
    pub rpc_paths: Vec<String>,
    /// Request body bytes as received.
    pub max_body_bytes: usize,
    /// Request body bytes being read or processed at once, over all
    /// connections; more requests wait for their turn.
    pub max_inflight_body_bytes: usize,
    /// Request body bytes after gunzip.
    pub max_decoded_bytes: usize,
    /// Gzip responses larger than this when the client accepts it; `None`
    /// turns response gzip off.
    pub encode_threshold: Option<usize>,
    pub log_requests: bool,
    /// From ready-for-a-request to the end of its head; also closes idle
    /// keep-alive connections.
    pub header_read_timeout: Duration,
    /// To read a whole request body.
    pub body_read_timeout: Option<Duration>,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long shutdown waits for calls in flight.
    pub drain_timeout: Duration,
    /// Client header names (lower case) passed on to backends.
    pub forward_headers: Vec<String>,
    /// `/metrics`, `/healthz`, `/readyz`: on this listener (taking
    /// precedence over the RPC paths) unless `admin.listen` is set.
    pub admin: AdminOptions,
    /// Who may call (`[auth]`); replaced on config reload.
    pub auth: Arc<Authenticator>,
    /// Browser origins allowed (`[cors]`); off when empty.
    pub cors: CorsOptions,
    /// TLS termination (`[server.tls]`); the certificate is replaced on
    /// config reload.
    pub tls: Option<Arc<Tls>>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            rpc_paths: vec!["/".to_owned(), "/RPC2".to_owned()],
            max_body_bytes: 8 << 20,
            max_inflight_body_bytes: 8 << 20,
            max_decoded_bytes: 8 << 20,
            encode_threshold: Some(1400),
            log_requests: true,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Some(Duration::from_secs(30)),
            max_connections: 10_000,
            drain_timeout: Duration::from_secs(30),
            forward_headers: Vec::new(),
            admin: AdminOptions::default(),
            auth: Arc::new(Authenticator::none()),
            cors: CorsOptions::default(),
            tls: None,
        }
    }
}

impl HttpOptions {
    pub fn is_rpc_path(&self, path: &str) -> bool {
        self.rpc_paths.is_empty() || self.rpc_paths.iter().any(|p| p == path)
    }

    /// The `path` metric label: the RPC path as configured (`*` when every
    /// path is one), else `other`. Never text the client chose.
    pub fn rpc_path_label<'a>(&'a self, path: &str) -> &'a str {
        if self.rpc_paths.is_empty() {
            return "*";
        }
        self.rpc_paths
            .iter()
            .find(|p| *p == path)
            .map_or(crate::metrics::OTHER_PATH, String::as_str)
    }
}

/// What every connection shares: the pipeline, the HTTP settings, and the
/// operator's endpoints (their metrics are the gateway's).
pub struct App {
    pub gateway: Gateway,
    pub options: HttpOptions,
    pub admin: AdminState,
    /// Request body bytes in flight (`max_inflight_body_bytes`).
    pub body_budget: body::BodyBudget,
    /// The credentials in force (the options' at start, then each reload's).
    auth: ArcSwap<Authenticator>,
}

impl App {
    pub fn new(gateway: Gateway, options: HttpOptions) -> App {
        let admin = AdminState {
            options: options.admin.clone(),
            metrics: gateway.metrics().clone(),
            readiness: Readiness::default(),
        };
        App {
            body_budget: body::BodyBudget::new(options.max_inflight_body_bytes),
            gateway,
            auth: ArcSwap::new(options.auth.clone()),
            options,
            admin,
        }
    }

    /// Applies what a config reload may change at the edge: the credentials
    /// and the TLS certificate. (Turning TLS on or off, and every other
    /// HTTP setting, needs a restart.)
    pub fn reload_edge(&self, new: &HttpOptions) {
        self.replace_auth(new.auth.clone());
        match (&self.options.tls, &new.tls) {
            (Some(current), Some(new)) => current.replace_cert(new),
            (None, None) => {}
            _ => {
                tracing::warn!("turning TLS on or off needs a restart; the listener stays as it is")
            }
        }
    }
}
