//! Fault codes, in one file: every error a client can see becomes a
//! [`Fault`] here, with the interoperability codes (the constants are
//! public: handlers may answer with them). Details that could leak
//! internals (paths, URLs, type names) stay in logs; fault strings are short
//! and fixed in shape.

use super::error::CallError;
use crate::backend::BackendError;
use crate::xmlrpc::{DecodeError, DecodeErrorKind, EncodeError, Fault};

/// Not well-formed XML.
pub const PARSE_ERROR: i32 = -32700;
/// The request names an encoding we do not read.
pub const UNSUPPORTED_ENCODING: i32 = -32701;
/// Invalid character for the encoding.
pub const INVALID_CHARACTER: i32 = -32702;
/// Well-formed XML that is not a valid XML-RPC call.
pub const INVALID_REQUEST: i32 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// The params do not fit the method.
pub const INVALID_PARAMS: i32 = -32602;
/// The gateway failed (the detail is in its log).
pub const INTERNAL_ERROR: i32 = -32603;
/// The method ran and failed on its own terms (e.g. division by zero).
pub const APPLICATION_ERROR: i32 = -32500;
/// The method needs credentials the caller did not send (a multicall entry;
/// a single call gets HTTP 401 instead).
pub const AUTHENTICATION_REQUIRED: i32 = -32401;
/// The caller holds no role that may call the method (a multicall entry;
/// a single call gets HTTP 403 instead).
pub const FORBIDDEN: i32 = -32403;
/// A rate limit refused the call (a multicall entry; a single call gets
/// HTTP 429 with `Retry-After` instead).
pub const RATE_LIMITED: i32 = -32429;
/// A backend could not be reached or answered badly.
pub const TRANSPORT_ERROR: i32 = -32300;
/// A backend did not answer in time.
pub const TRANSPORT_TIMEOUT: i32 = -32301;
/// A backend's circuit breaker is open.
pub const TRANSPORT_CIRCUIT_OPEN: i32 = -32302;
/// A backend answered with a non-success HTTP status.
pub const TRANSPORT_BAD_STATUS: i32 = -32303;
/// A backend's answer could not be read.
pub const TRANSPORT_BAD_BODY: i32 = -32304;
/// A backend refused the connection.
pub const TRANSPORT_REFUSED: i32 = -32305;

/// The fault a client sees for a call that failed.
pub(crate) fn call_fault(method: &str, err: &CallError) -> Fault {
    match err {
        CallError::NotFound(name) => Fault::new(
            METHOD_NOT_FOUND,
            format!("method \"{name}\" is not supported"),
        ),
        CallError::InvalidParams(msg) => Fault::new(INVALID_PARAMS, msg.clone()),
        CallError::Unauthenticated(name) => Fault::new(
            AUTHENTICATION_REQUIRED,
            format!("method \"{name}\" needs authentication"),
        ),
        CallError::Forbidden(name) => Fault::new(
            FORBIDDEN,
            format!("method \"{name}\" is not allowed for this caller"),
        ),
        CallError::RateLimited {
            method,
            retry_after,
        } => Fault::new(
            RATE_LIMITED,
            format!(
                "method \"{method}\": too many calls; retry in {} s",
                retry_after.as_secs().max(1)
            ),
        ),
        CallError::Fault(f) => f.clone(),
        CallError::Backend { source, .. } => backend_fault(method, source),
        CallError::Timeout(_) => Fault::new(TRANSPORT_TIMEOUT, format!("{method}: timeout")),
        CallError::Internal(_) => Fault::new(INTERNAL_ERROR, format!("{method}: internal error")),
    }
}

/// The fault code a client would see for a backend's failure (a shadow
/// backend's answer is compared by it).
pub(crate) fn backend_fault_code(method: &str, err: &BackendError) -> i32 {
    backend_fault(method, err).code
}

fn backend_fault(method: &str, err: &BackendError) -> Fault {
    let code = match err {
        BackendError::Remote(f) => return f.clone(),
        BackendError::Timeout => TRANSPORT_TIMEOUT,
        BackendError::CircuitOpen => TRANSPORT_CIRCUIT_OPEN,
        BackendError::Status(..) => TRANSPORT_BAD_STATUS,
        BackendError::Rejected(..) => INVALID_PARAMS,
        BackendError::BadBody(_) => TRANSPORT_BAD_BODY,
        BackendError::Refused => TRANSPORT_REFUSED,
        BackendError::Transport(_) => TRANSPORT_ERROR,
        BackendError::InvalidParams(msg) => return Fault::new(INVALID_PARAMS, msg.clone()),
        // The same fault as a name no route takes; why it cannot be mapped
        // (it names the backend's URL path) stays in the log.
        BackendError::MethodNotFound(_) => {
            return call_fault(method, &CallError::NotFound(method.to_owned()));
        }
    };
    let detail = match err {
        BackendError::Status(status, Some(msg)) | BackendError::Rejected(status, Some(msg)) => {
            format!("{method}: backend answered {status}: {msg}")
        }
        BackendError::Status(status, None) | BackendError::Rejected(status, None) => {
            format!("{method}: backend answered {status}")
        }
        other => format!("{method}: backend {}", other.kind()),
    };
    Fault::new(code, detail)
}

/// The fault for a request body that could not be decoded.
pub(crate) fn decode_fault(err: &DecodeError) -> Fault {
    let code = match err.kind {
        DecodeErrorKind::Syntax(_)
        | DecodeErrorKind::Doctype
        | DecodeErrorKind::UnknownEntity(_) => PARSE_ERROR,
        DecodeErrorKind::UnsupportedEncoding(_) => UNSUPPORTED_ENCODING,
        DecodeErrorKind::InvalidChar(_) => INVALID_CHARACTER,
        DecodeErrorKind::Structure(_)
        | DecodeErrorKind::BadValue { .. }
        | DecodeErrorKind::Limit { .. } => INVALID_REQUEST,
    };
    // The decoder's messages name only what the client sent, never internals.
    Fault::new(code, err.to_string())
}

/// The fault for a result that could not be encoded.
pub(crate) fn encode_fault(method: &str, err: &EncodeError) -> Fault {
    Fault::new(INTERNAL_ERROR, format!("{method}: {err}"))
}
