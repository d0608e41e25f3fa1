//! What a call knows about the request it came in: peer, request id, the
//! client headers a route may forward, and its deadline.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::time::Instant;

/// Request-scoped facts handed to every handler and backend. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct CallContext {
    /// The id of the HTTP request (incoming `X-Request-Id`, or generated).
    pub request_id: Arc<str>,
    /// The client's address, when known (absent in CGI mode and in tests).
    pub peer: Option<SocketAddr>,
    /// Client headers, lower-cased names, that backends may forward.
    pub headers: Arc<Vec<(String, String)>>,
    /// When the call must be answered by; `None` means no limit.
    pub deadline: Option<Instant>,
}

impl CallContext {
    /// A context for a call made outside any HTTP request (tests, CLI, CGI).
    pub fn detached() -> Self {
        CallContext {
            request_id: Arc::from("-"),
            ..CallContext::default()
        }
    }
}
