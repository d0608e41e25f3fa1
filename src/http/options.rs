//! The HTTP edge's settings.

use std::sync::Arc;
use std::time::Duration;

use super::admin::AdminOptions;
use super::auth::Authenticator;
use super::cors::CorsOptions;
use super::tls::Tls;
use crate::defaults;
use crate::metrics::OTHER_PATH;
use crate::telemetry::AccessLog;

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
    /// One access log line per request.
    pub log_requests: bool,
    /// Where access lines go: by default through `tracing`, as any event;
    /// the binary hands in the queue its logging writes through
    /// ([`crate::telemetry::Logs::access_log`]). Kept from start (a reload
    /// does not replace it).
    pub access_log: AccessLog,
    /// From ready-for-a-request to the end of its head; also closes idle
    /// keep-alive connections.
    pub header_read_timeout: Duration,
    /// To read a whole request body.
    pub body_read_timeout: Option<Duration>,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long the listener keeps accepting and serving after the
    /// shutdown signal, with `/readyz` answering 503 (so load balancers
    /// stop sending new connections first), before it closes.
    pub shutdown_delay: Duration,
    /// How long shutdown waits for calls in flight.
    pub drain_timeout: Duration,
    /// Client header names (lower case) passed on to backends.
    pub forward_headers: Vec<String>,
    /// A browser's GET on an RPC path (`Accept` naming `text/html`) gets
    /// the methods page (`server.docs`); replaced on config reload.
    pub docs: bool,
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
            rpc_paths: defaults::RPC_PATHS.map(str::to_owned).to_vec(),
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_inflight_body_bytes: defaults::MAX_INFLIGHT_BODY_BYTES,
            max_decoded_bytes: defaults::MAX_DECODED_BYTES,
            encode_threshold: Some(defaults::ENCODE_THRESHOLD),
            log_requests: defaults::LOG_REQUESTS,
            access_log: AccessLog::default(),
            header_read_timeout: defaults::HEADER_READ_TIMEOUT,
            body_read_timeout: Some(defaults::BODY_READ_TIMEOUT),
            max_connections: defaults::MAX_CONNECTIONS,
            shutdown_delay: defaults::SHUTDOWN_DELAY,
            drain_timeout: defaults::DRAIN_TIMEOUT,
            forward_headers: Vec::new(),
            docs: defaults::DOCS,
            admin: AdminOptions::default(),
            auth: Arc::new(Authenticator::none()),
            cors: CorsOptions::default(),
            tls: None,
        }
    }
}

impl HttpOptions {
    /// Whether `path` takes XML-RPC POSTs.
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
            .map_or(OTHER_PATH, String::as_str)
    }
}
