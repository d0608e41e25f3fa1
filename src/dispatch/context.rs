//! What a call knows about the request it came in: peer, request id, the
//! client headers a route may forward, and who the caller
//! authenticated as (with the policies that decide what an anonymous caller
//! may call).

use std::net::SocketAddr;
use std::sync::Arc;

/// Request-scoped facts handed to every handler and backend. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct CallContext {
    /// The id of the HTTP request (incoming `X-Request-Id`, or generated).
    pub request_id: Arc<str>,
    /// The client's address, when known (absent in CGI mode and in tests).
    pub peer: Option<SocketAddr>,
    /// Client headers, lower-cased names, that backends may forward.
    pub headers: Arc<Vec<(String, String)>>,
    /// Who the HTTP edge authenticated (a Basic user name, `token:N` for a
    /// bearer token, CGI's `REMOTE_USER`); `None` for an anonymous caller.
    pub principal: Option<Arc<str>>,
}

/// Whether a method may be called without credentials (`[[routes]] auth`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthPolicy {
    /// Anyone may call it (`auth = "none"`).
    #[default]
    Public,
    /// Only an authenticated caller (`auth = "required"`).
    Required,
}

/// Why a request (or a multicall entry) was refused: the `reason` label of
/// `xmlrpc_gateway_auth_failures_total`, a closed set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credentials where they are required.
    Missing,
    /// Credentials that match no user or token.
    Invalid,
    /// An `Authorization` header of the wrong scheme, not base64, or repeated.
    Malformed,
}

impl AuthFailure {
    pub const ALL: [AuthFailure; 3] = [
        AuthFailure::Missing,
        AuthFailure::Invalid,
        AuthFailure::Malformed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
            AuthFailure::Malformed => "malformed",
        }
    }
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
