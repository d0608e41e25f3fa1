//! A backend's settings, typed and already checked: what `config` validates
//! `[backends.NAME]` into, and what [`build`](super::build) turns into a
//! running backend. The config layer depends on these types; this layer
//! never reads config.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;
use thiserror::Error;

use super::faults::ErrorMap;
use crate::defaults;

/// The kinds of backend (`kind` in config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Kind {
    /// JSON-RPC 2.0 over HTTP POST.
    JsonRpc,
    /// Plain JSON over HTTP.
    Json,
    /// Another XML-RPC server.
    XmlRpc,
}

/// The HTTP method a `json` backend is called with (`http_method`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum HttpMethod {
    /// Params in a JSON body (the default).
    #[default]
    Post,
    /// Params in a JSON body.
    Put,
    /// Params in a JSON body.
    Patch,
    /// Params in the query string.
    Get,
    /// Params in the query string.
    Delete,
}

impl TryFrom<String> for Kind {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "jsonrpc" => Ok(Kind::JsonRpc),
            "json" => Ok(Kind::Json),
            "xmlrpc" => Ok(Kind::XmlRpc),
            _ => Err(format!("{text:?} is not one of jsonrpc, json, xmlrpc")),
        }
    }
}

impl TryFrom<String> for HttpMethod {
    type Error = String;

    /// Any case, as HTTP methods are written in config files.
    fn try_from(text: String) -> Result<Self, String> {
        match text.to_ascii_uppercase().as_str() {
            "POST" => Ok(HttpMethod::Post),
            "PUT" => Ok(HttpMethod::Put),
            "PATCH" => Ok(HttpMethod::Patch),
            "GET" => Ok(HttpMethod::Get),
            "DELETE" => Ok(HttpMethod::Delete),
            _ => Err(format!(
                "{text:?} is not one of POST, PUT, PATCH, GET, DELETE"
            )),
        }
    }
}

impl HttpMethod {
    /// The method as reqwest sends it.
    pub fn as_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Delete => reqwest::Method::DELETE,
        }
    }

    /// Whether the params travel as a body (else as the query string).
    pub fn has_body(self) -> bool {
        matches!(self, HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch)
    }
}

/// The circuit breaker's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerSpec {
    /// Consecutive failures that open the circuit; 0 turns it off.
    pub failures: u32,
    /// How long it stays open before one probe call is let through.
    pub open_for: Duration,
}

impl Default for BreakerSpec {
    fn default() -> Self {
        BreakerSpec {
            failures: defaults::BREAKER_FAILURES,
            open_for: defaults::BREAKER_OPEN_FOR,
        }
    }
}

/// One backend, checked: an `http` or `https` URL (or, for `xmlrpc`, an
/// `scgi` one), an absolute socket path if any, non-zero bounds, valid
/// header names and values.
#[derive(Clone, Debug)]
pub struct BackendSpec {
    /// What the service speaks.
    pub kind: Kind,
    /// Where it is: `http` or `https`, or `scgi` (xmlrpc only). With
    /// `socket`, the URL gives only the path (and, for HTTP, the `Host`
    /// header and TLS name).
    pub url: reqwest::Url,
    /// A Unix socket to connect to instead of the URL's host and port.
    pub socket: Option<PathBuf>,
    /// Bound on one call: waiting for a slot, connecting, sending, reading.
    pub timeout: Duration,
    /// Bound on opening a connection.
    pub connect_timeout: Duration,
    /// Requests in flight at once (at least 1); more wait.
    pub max_concurrency: usize,
    /// Headers sent with every request (secrets already substituted).
    pub headers: HeaderMap,
    /// Client header names (lower case) this backend receives.
    pub forward_headers: Vec<String>,
    /// Extra attempts after a failure to connect, idempotent routes only.
    pub retries: u32,
    /// The circuit breaker.
    pub breaker: BreakerSpec,
    /// `json` backends: the HTTP method.
    pub http_method: HttpMethod,
    /// `json` backends: error answers to faults.
    pub errors: ErrorMap,
}

impl BackendSpec {
    /// A backend of `kind` at `url`, every other setting at its default.
    pub fn new(kind: Kind, url: reqwest::Url) -> Self {
        BackendSpec {
            kind,
            url,
            socket: None,
            timeout: defaults::BACKEND_TIMEOUT,
            connect_timeout: defaults::BACKEND_CONNECT_TIMEOUT,
            max_concurrency: defaults::BACKEND_MAX_CONCURRENCY,
            headers: HeaderMap::new(),
            forward_headers: Vec::new(),
            retries: defaults::BACKEND_RETRIES,
            breaker: BreakerSpec::default(),
            http_method: HttpMethod::default(),
            errors: ErrorMap::default(),
        }
    }
}

/// Why a backend could not be built from a checked spec.
#[derive(Debug, Error)]
pub(crate) enum BuildError {
    /// The HTTP client (TLS setup, resolver) could not be made.
    #[error("cannot build an HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The URL cannot be called.
    #[error("url {0:?} cannot be called")]
    Url(String),
    /// The transport does not fit the kind or the URL (SCGI for a JSON
    /// kind, an SCGI URL with neither a port nor a socket).
    #[error("{0}")]
    Transport(&'static str),
}

impl BackendSpec {
    /// Whether the backend speaks SCGI (an `scgi://` URL) rather than HTTP.
    pub fn is_scgi(&self) -> bool {
        self.url.scheme() == "scgi"
    }
}
