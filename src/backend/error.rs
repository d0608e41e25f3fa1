//! The backend layer's error: why a backend call produced no value.
//! Converted into a client's fault in one place, `dispatch/fault.rs`.

use thiserror::Error;

use crate::xmlrpc::Fault;

/// Why a backend call failed. The kind names it for the client's fault;
/// details (URLs, bodies) go to logs only.
#[derive(Debug, Error)]
pub enum BackendError {
    /// The service answered with a fault or a JSON-RPC error of its own.
    #[error("{0}")]
    Remote(Fault),
    /// The service did not answer in time.
    #[error("timeout")]
    Timeout,
    /// The connection was refused.
    #[error("connection refused")]
    Refused,
    /// A non-success HTTP status, with the service's message if it gave one.
    #[error("bad status {0}")]
    Status(u16, Option<String>),
    /// A `json` service refused the call (a 4xx its error table does not
    /// map), with its message: the params did not suit it.
    #[error("rejected {0}")]
    Rejected(u16, Option<String>),
    /// An answer that could not be read.
    #[error("bad body: {0}")]
    BadBody(String),
    /// The circuit breaker is open: nothing was sent.
    #[error("circuit open")]
    CircuitOpen,
    /// Any other failure to reach the service.
    #[error("transport error: {0}")]
    Transport(String),
    /// The params do not fit the route's shape (e.g. more params than
    /// `params` names); nothing was sent.
    #[error("{0}")]
    InvalidParams(String),
    /// The method name cannot be mapped to a request to this backend (a
    /// json backend's URL path derived from it would not stay under the
    /// backend's path); nothing was sent. The text says why, for logs.
    #[error("method name not mappable: {0}")]
    MethodNotFound(String),
}

impl BackendError {
    /// A short, closed name for the kind of failure (metrics label, fault text).
    pub fn kind(&self) -> &'static str {
        match self {
            BackendError::Remote(_) => "fault",
            BackendError::Timeout => "timeout",
            BackendError::Refused => "refused",
            BackendError::Status(..) => "bad status",
            BackendError::Rejected(..) => "rejected",
            BackendError::BadBody(_) => "bad body",
            BackendError::CircuitOpen => "circuit open",
            BackendError::Transport(_) => "transport",
            BackendError::InvalidParams(_) => "invalid params",
            BackendError::MethodNotFound(_) => "method not found",
        }
    }

    /// Whether the gateway tried to reach the service (a request was sent,
    /// or a connection attempted). `false` for calls it refused itself
    /// before anything was sent: an open circuit, params that do not fit
    /// the route, a name that cannot be mapped. Metrics count only the
    /// former as backend requests.
    pub fn was_attempted(&self) -> bool {
        !matches!(
            self,
            BackendError::CircuitOpen
                | BackendError::InvalidParams(_)
                | BackendError::MethodNotFound(_)
        )
    }

    /// Whether the failure says the service is unwell (counts toward opening
    /// its circuit). A fault or a 4xx is an answer from a live service.
    pub fn is_service_failure(&self) -> bool {
        match self {
            BackendError::Timeout
            | BackendError::Refused
            | BackendError::BadBody(_)
            | BackendError::Transport(_) => true,
            BackendError::Status(code, _) => *code >= 500,
            BackendError::Remote(_)
            | BackendError::Rejected(..)
            | BackendError::CircuitOpen
            | BackendError::InvalidParams(_)
            | BackendError::MethodNotFound(_) => false,
        }
    }
}
