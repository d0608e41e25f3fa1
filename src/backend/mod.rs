//! Backends: the only place that opens outbound connections. Each kind
//! (JSON-RPC, plain JSON, XML-RPC) turns a routed call into a request to a
//! service and its answer back into a value.

pub mod client;
pub mod convert;

use futures_util::future::BoxFuture;
use thiserror::Error;

use crate::dispatch::CallContext;
use crate::xmlrpc::{Fault, Value};

/// A call as a backend receives it, after routing.
#[derive(Clone, Debug)]
pub struct BackendCall {
    /// The name the backend sees (after the route's rename).
    pub method: String,
    pub params: Vec<Value>,
    /// Route-level path appended to the backend URL (json backends).
    pub path: Option<String>,
    /// Names for the params (json backends: send an object, not an array).
    pub param_names: Option<Vec<String>>,
    /// Whether the call may be retried after a transport failure.
    pub idempotent: bool,
}

/// A service behind the gateway.
pub trait Backend: Send + Sync + 'static {
    /// The backend's name in config (used in logs and metrics, never in faults).
    fn name(&self) -> &str;

    fn call(
        &self,
        call: BackendCall,
        ctx: CallContext,
    ) -> BoxFuture<'static, Result<Value, BackendError>>;
}

/// Why a backend call failed. The kind names it for the client's fault;
/// details (URLs, bodies) go to logs only.
#[derive(Debug, Error)]
pub enum BackendError {
    /// The service answered with a fault or a JSON-RPC error of its own.
    #[error("{0}")]
    Remote(Fault),
    #[error("timeout")]
    Timeout,
    #[error("connection refused")]
    Refused,
    #[error("bad status {0}")]
    Status(u16, Option<String>),
    #[error("bad body: {0}")]
    BadBody(String),
    #[error("circuit open")]
    CircuitOpen,
    #[error("transport error: {0}")]
    Transport(String),
}

impl BackendError {
    /// A short, closed name for the kind of failure (metrics label, fault text).
    pub fn kind(&self) -> &'static str {
        match self {
            BackendError::Remote(_) => "fault",
            BackendError::Timeout => "timeout",
            BackendError::Refused => "refused",
            BackendError::Status(..) => "bad status",
            BackendError::BadBody(_) => "bad body",
            BackendError::CircuitOpen => "circuit open",
            BackendError::Transport(_) => "transport",
        }
    }
}

/// Builds a backend from its `[backends.NAME]` section.
pub fn from_config(
    name: &str,
    cfg: &crate::config::BackendConfig,
) -> Result<std::sync::Arc<dyn Backend>, String> {
    let _ = name;
    Err(format!(
        "backend kind {:?} is not available in this build",
        cfg.kind
    ))
}
