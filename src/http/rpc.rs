//! The stages of one XML-RPC exchange at the edge, whatever carries it:
//! hyper's server (`service.rs`) and CGI (`cgi.rs`) both run these, so the
//! method, body size, content-coding, gunzip, credentials and response
//! rules are one set of functions. (The server gunzips inside its in-flight
//! budget, in `body.rs`, with the same limit and statuses.) Statuses come
//! from `status.rs`.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use super::app::LiveEdge;
use super::status::HttpError;
use crate::call::CallContext;
use crate::gateway::Outcome;
use crate::gzip;

const TEXT_XML: HeaderValue = HeaderValue::from_static("text/xml");
const GZIP: HeaderValue = HeaderValue::from_static("gzip");
const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding");

/// What the request's head says about its body and its answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Codings {
    /// The request body is gzipped (`Content-Encoding: gzip`).
    pub(crate) gzipped: bool,
    /// The client takes a gzipped answer (`Accept-Encoding`).
    pub(crate) wants_gzip: bool,
}

/// The head's checks: POST only, and a `Content-Encoding` we can read.
pub(crate) fn check_head(method: &Method, headers: &HeaderMap) -> Result<Codings, HttpError> {
    if method != Method::POST {
        return Err(HttpError::MethodNotAllowed);
    }
    let codings = headers.get_all(header::CONTENT_ENCODING).iter();
    let gzipped = gzip::request_is_gzip(codings.map(|v| v.to_str().unwrap_or("unreadable")))
        .map_err(|_| HttpError::UnsupportedEncoding)?;
    let wants_gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(gzip::accepts_gzip);
    Ok(Codings {
        gzipped,
        wants_gzip,
    })
}

/// A declared body length against `max_body_bytes`: refused before a byte
/// is read.
pub(crate) fn check_declared_length(declared: Option<u64>, limit: usize) -> Result<(), HttpError> {
    match declared {
        Some(len) if len > limit as u64 => Err(HttpError::BodyTooLarge),
        _ => Ok(()),
    }
}

/// The body the gateway decodes: gunzipped (at most `max_decoded_bytes`)
/// when it came gzipped. CGI's: one request per process, no budget.
pub(crate) fn decoded_body(
    raw: &[u8],
    gzipped: bool,
    limit: usize,
) -> Result<Cow<'_, [u8]>, HttpError> {
    if !gzipped {
        return Ok(Cow::Borrowed(raw));
    }
    Ok(Cow::Owned(gzip::gunzip(raw, limit)?))
}

/// The call's context: the request id, the peer, the client headers that
/// backends may see (only `forward_headers` names), and the principal.
pub(crate) fn call_context(
    live: &LiveEdge,
    request_id: Arc<str>,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    principal: Option<Arc<str>>,
) -> CallContext {
    CallContext {
        request_id,
        peer,
        headers: forwardable_headers(headers, &live.forward_headers),
        principal,
        trace_id: None,
    }
}

/// The client headers backends may see: only the configured names. With
/// none configured (the default), one shared empty list: no allocation.
fn forwardable_headers(headers: &HeaderMap, allow: &[String]) -> Arc<Vec<(String, String)>> {
    static NONE: OnceLock<Arc<Vec<(String, String)>>> = OnceLock::new();
    if allow.is_empty() {
        return NONE.get_or_init(Default::default).clone();
    }
    let found = allow
        .iter()
        .filter_map(|name| {
            let value = headers.get(name.as_str())?.to_str().ok()?;
            Some((name.clone(), value.to_owned()))
        })
        .collect();
    Arc::new(found)
}

/// The answer to a decoded request: 401 for a single call that needs
/// credentials it came without, 403 for one the caller's roles do not
/// allow (a multicall's entries fault instead),
/// else 200 with the response document, gzipped when it is worth it and
/// the client takes it. Returns whether it was gzipped.
pub(crate) fn answer(
    live: &LiveEdge,
    outcome: &mut Outcome,
    wants_gzip: bool,
) -> Result<(Response<Vec<u8>>, bool), HttpError> {
    if outcome.unauthenticated {
        // The dispatcher counted it (it counts multicall entries too).
        return Err(HttpError::Unauthorized(live.auth.mode()));
    }
    if outcome.forbidden {
        return Err(HttpError::Forbidden);
    }
    if let Some(wait) = outcome.retry_after {
        // Whole seconds, rounded up: a client retrying at once would be
        // refused again.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(HttpError::TooManyRequests(secs.max(1)));
    }
    let threshold = live.encode_threshold;
    let body = std::mem::take(&mut outcome.body);
    let (payload, gzipped) = gzip::compress_response(body, threshold, wants_gzip);
    let mut response = Response::new(payload);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, TEXT_XML);
    if threshold.is_some() {
        headers.insert(header::VARY, VARY);
    }
    if gzipped {
        headers.insert(header::CONTENT_ENCODING, GZIP);
    }
    Ok((response, gzipped))
}
