//! The dispatch layer's error: why a call produced no value.
//!
//! Converted into a wire fault in exactly one place, `crate::fault`.

use thiserror::Error;

use crate::backend::BackendError;
use crate::xmlrpc::Fault;

/// Why a call failed. Who caused it is part of the variant: the client
/// (`NotFound`, `InvalidParams`), the handler or backend's own answer
/// (`Fault`), an upstream (`Backend`) or the gateway (`Internal`, `Timeout`).
#[derive(Debug, Error)]
pub enum CallError {
    #[error("method {0:?} is not supported")]
    NotFound(String),
    #[error("{0}")]
    InvalidParams(String),
    /// A fault the handler or backend answered with; it reaches the client unchanged.
    #[error("{0}")]
    Fault(Fault),
    #[error("backend call for {method:?} failed: {source}")]
    Backend {
        method: String,
        #[source]
        source: BackendError,
    },
    /// The method needs an authenticated caller and this one is anonymous.
    #[error("method {0:?} needs credentials")]
    Unauthenticated(String),
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
            | CallError::Unauthenticated(_) => Origin::Client,
            CallError::Fault(_) => Origin::Handler,
            CallError::Backend { .. } => Origin::Backend,
            CallError::Timeout(_) | CallError::Internal(_) => Origin::Gateway,
        }
    }
}

/// Who caused a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Client,
    /// The handler or backend answered with a fault of its own.
    Handler,
    Backend,
    Gateway,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Client => "client",
            Origin::Handler => "handler",
            Origin::Backend => "backend",
            Origin::Gateway => "gateway",
        }
    }
}
