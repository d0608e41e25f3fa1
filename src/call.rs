//! Call-scoped facts that the HTTP edge, CGI, the dispatcher and the
//! backends all share: the request a call came in (peer, request id, the
//! client headers a route may forward), who the caller authenticated as,
//! the policy that decides what an anonymous caller may call, why a caller
//! was refused, and who caused a failure.
//!
//! A leaf: it imports nothing of the crate, so every layer may use it.

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
    /// The OpenTelemetry trace id of the request (32 hex digits), when
    /// tracing is on: warnings name it beside the request id.
    pub trace_id: Option<Arc<str>>,
}

/// The `tracing` target of the spans exported to OpenTelemetry (the
/// request, each call and multicall entry, each backend attempt). The log
/// subscriber never shows them; only the OpenTelemetry layer, when traces
/// are configured, takes them.
pub(crate) const TRACE_TARGET: &str = "xmlrpc_gateway::otel";

/// Whether a method may be called without credentials (`[[routes]] auth`,
/// `auth.default`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum AuthPolicy {
    /// Anyone may call it (`auth = "none"`).
    #[default]
    Public,
    /// Only an authenticated caller (`auth = "required"`).
    Required,
}

impl TryFrom<String> for AuthPolicy {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "none" => Ok(AuthPolicy::Public),
            "required" => Ok(AuthPolicy::Required),
            _ => Err(format!("{text:?} is not one of required, none")),
        }
    }
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
    /// Every reason, for metrics that start at zero.
    pub const ALL: [AuthFailure; 3] = [
        AuthFailure::Missing,
        AuthFailure::Invalid,
        AuthFailure::Malformed,
    ];

    /// The metric label.
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

/// Who caused a failed call: the `origin` label of the call metrics, and
/// what decides whether a failure is logged as a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The client sent something wrong (unknown method, bad params, no
    /// credentials).
    Client,
    /// The handler or backend answered with a fault of its own.
    Handler,
    /// A backend failed (timeout, transport, bad answer).
    Backend,
    /// The gateway itself (a bug, a timeout of its own).
    Gateway,
}

impl Origin {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Client => "client",
            Origin::Handler => "handler",
            Origin::Backend => "backend",
            Origin::Gateway => "gateway",
        }
    }
}
