//! The dispatch layer's error: why a call produced no value.
//!
//! Converted into a wire fault in exactly one place, `dispatch/fault.rs`.

use thiserror::Error;

use crate::backend::BackendError;
use crate::call::Origin;
use crate::xmlrpc::Fault;

/// Why a call failed. Who caused it is part of the variant: the client
/// (`NotFound`, `InvalidParams`), the handler or backend's own answer
/// (`Fault`), an upstream (`Backend`) or the gateway (`Internal`, `Timeout`).
#[derive(Debug, Error)]
pub enum CallError {
    /// No route, instance or system method answers the name.
    #[error("method {0:?} is not supported")]
    NotFound(String),
    /// The params do not fit the method.
    #[error("{0}")]
    InvalidParams(String),
    /// A fault the handler or backend answered with; it reaches the client unchanged.
    #[error("{0}")]
    Fault(Fault),
    /// A backend call failed (or answered with a fault of its own).
    #[error("backend call for {method:?} failed: {source}")]
    Backend {
        /// The name the client called.
        method: String,
        /// What the backend layer said.
        #[source]
        source: BackendError,
    },
    /// The method needs an authenticated caller and this one is anonymous.
    #[error("method {0:?} needs credentials")]
    Unauthenticated(String),
    /// The caller holds no role that may call this method.
    #[error("method {0:?} is not allowed for this caller")]
    Forbidden(String),
    /// A rate limit refused the call.
    #[error("method {method:?} is over a rate limit")]
    RateLimited {
        /// The name called.
        method: String,
        /// When a call would be let through again.
        retry_after: std::time::Duration,
    },
    /// The call did not finish within its timeout.
    #[error("call {0:?} timed out")]
    Timeout(String),
    /// A bug or resource failure in the gateway; the detail goes to logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Fault> for CallError {
    fn from(f: Fault) -> Self {
        CallError::Fault(f)
    }
}

impl CallError {
    /// Who caused the failure, for logs and metrics.
    pub fn origin(&self) -> Origin {
        match self {
            CallError::NotFound(_)
            | CallError::InvalidParams(_)
            | CallError::Unauthenticated(_)
            | CallError::Forbidden(_)
            | CallError::RateLimited { .. } => Origin::Client,
            CallError::Fault(_) => Origin::Handler,
            CallError::Backend { source, .. } => match source {
                // The service answered on its own terms: a fault of its
                // own. Params that do not fit the route, or a name that
                // cannot be mapped to the service: the client's (nothing
                // was sent).
                BackendError::Remote(_) => Origin::Handler,
                BackendError::InvalidParams(_)
                | BackendError::Rejected(..)
                | BackendError::MethodNotFound(_) => Origin::Client,
                _ => Origin::Backend,
            },
            CallError::Timeout(_) | CallError::Internal(_) => Origin::Gateway,
        }
    }
}
