//! Backends: the only place that opens outbound connections. Each kind
//! (JSON-RPC, plain JSON, XML-RPC) turns a routed call into a request to a
//! service and its answer back into a value. What every kind shares lives
//! here: [`Endpoint`] (URL, HTTP client, headers, limits) and the params
//! shapes; the circuit breaker and the concurrency limit are in `breaker`.

pub mod breaker;
pub mod client;
pub mod convert;
pub mod json;
pub mod jsonrpc;
pub mod xmlrpc;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value as Json;
use thiserror::Error;

use self::breaker::{Breaker, Limiter};
use crate::config::BackendConfig;
use crate::dispatch::CallContext;
use crate::xmlrpc::{Fault, Value};

/// The header carrying the gateway's request id to every backend.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

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

/// What introspection calls to a backend resolve to.
pub type Introspected<T> = Option<BoxFuture<'static, Result<T, BackendError>>>;

/// A service behind the gateway.
pub trait Backend: Send + Sync + 'static {
    /// The backend's name in config (used in logs and metrics, never in faults).
    fn name(&self) -> &str;

    fn call(
        &self,
        call: BackendCall,
        ctx: CallContext,
    ) -> BoxFuture<'static, Result<Value, BackendError>>;

    /// The backend's own `system.listMethods`, when it has one (xmlrpc).
    fn list_methods(&self, _ctx: CallContext) -> Introspected<Vec<String>> {
        None
    }

    /// The backend's own `system.methodHelp(method)`, when it has one.
    fn method_help(&self, _method: &str, _ctx: CallContext) -> Introspected<String> {
        None
    }

    /// The backend's own `system.methodSignature(method)`, when it has one.
    fn method_signature(&self, _method: &str, _ctx: CallContext) -> Introspected<Value> {
        None
    }
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
    /// The params do not fit the route's shape (e.g. more params than
    /// `params` names); nothing was sent.
    #[error("{0}")]
    InvalidParams(String),
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
            BackendError::InvalidParams(_) => "invalid params",
        }
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
            | BackendError::CircuitOpen
            | BackendError::InvalidParams(_) => false,
        }
    }
}

/// The kinds of backend, as written in config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    JsonRpc,
    Json,
    XmlRpc,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "jsonrpc" => Some(Kind::JsonRpc),
            "json" => Some(Kind::Json),
            "xmlrpc" => Some(Kind::XmlRpc),
            _ => None,
        }
    }
}

/// Builds a backend from its `[backends.NAME]` section. `shared_forward`
/// is `server.forward_headers`: names every backend receives.
pub fn from_config(
    name: &str,
    cfg: &BackendConfig,
    shared_forward: &[String],
) -> Result<Arc<dyn Backend>, String> {
    let kind = Kind::parse(&cfg.kind)
        .ok_or_else(|| format!("kind {:?} is not one of jsonrpc, json, xmlrpc", cfg.kind))?;
    let endpoint = Arc::new(Endpoint::from_config(name, cfg, shared_forward)?);
    Ok(match kind {
        Kind::JsonRpc => Arc::new(jsonrpc::JsonRpcBackend::new(endpoint)),
        Kind::Json => Arc::new(json::JsonBackend::new(endpoint, &cfg.http_method)?),
        Kind::XmlRpc => Arc::new(xmlrpc::XmlRpcBackend::new(endpoint)?),
    })
}

/// What every backend kind shares: where the service is, how to reach it,
/// and the limits that protect it.
pub struct Endpoint {
    pub name: String,
    pub url: reqwest::Url,
    /// This backend's own client: its own pool and connect timeout.
    pub http: reqwest::Client,
    /// Bound on a whole call, slot wait and retries included.
    pub timeout: Duration,
    /// Static headers from config (env already substituted).
    headers: HeaderMap,
    /// Client header names (lower case) this backend receives.
    forward: Vec<String>,
    /// Extra attempts after a failure to connect, idempotent routes only.
    pub retries: u32,
    breaker: Arc<Breaker>,
    limiter: Limiter,
}

impl Endpoint {
    pub fn from_config(
        name: &str,
        cfg: &BackendConfig,
        shared_forward: &[String],
    ) -> Result<Endpoint, String> {
        let url = reqwest::Url::parse(&cfg.url)
            .map_err(|e| format!("url {:?} is not a URL: {e}", cfg.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("url {:?} is not an http or https URL", cfg.url));
        }
        if cfg.max_concurrency == 0 {
            return Err("max_concurrency must be greater than 0".to_owned());
        }
        if cfg.timeout.is_zero() {
            return Err("timeout must be greater than 0".to_owned());
        }
        let mut headers = HeaderMap::new();
        for (key, value) in &cfg.headers {
            let header = HeaderName::from_bytes(key.as_bytes())
                .map_err(|_| format!("headers.{key}: not a valid header name"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("headers.{key}: not a valid header value"))?;
            headers.insert(header, value);
        }
        let mut forward: Vec<String> = shared_forward
            .iter()
            .chain(&cfg.forward_headers)
            .map(|h| h.to_ascii_lowercase())
            .collect();
        forward.sort();
        forward.dedup();
        let mut builder =
            client::client_builder(cfg.max_concurrency).connect_timeout(cfg.connect_timeout);
        if url.scheme() == "http" {
            builder = builder.tls_backend_preconfigured(client::plain_http_tls());
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Endpoint {
            name: name.to_owned(),
            url,
            http,
            timeout: cfg.timeout,
            headers,
            forward,
            retries: cfg.retries,
            breaker: Arc::new(Breaker::new(
                name,
                cfg.circuit_breaker.failures,
                cfg.circuit_breaker.open_for,
            )),
            limiter: Limiter::new(cfg.max_concurrency),
        })
    }

    /// The headers of one request: config headers, the client headers this
    /// backend may see, and `X-Request-Id`.
    pub fn request_headers(&self, ctx: &CallContext) -> HeaderMap {
        let mut headers = self.headers.clone();
        for (name, value) in ctx.headers.iter() {
            if !self.forward.iter().any(|f| f == name) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        if let Ok(id) = HeaderValue::from_str(&ctx.request_id) {
            headers.insert(REQUEST_ID_HEADER, id);
        }
        headers
    }

    /// Retries allowed for a call.
    pub fn retries_for(&self, idempotent: bool) -> u32 {
        if idempotent { self.retries } else { 0 }
    }

    /// Runs one call through the circuit breaker and the concurrency limit,
    /// bounded by the backend's timeout, and logs a failure (with the
    /// request id) at warn.
    pub async fn run<T, F, Fut>(
        &self,
        method: &str,
        ctx: &CallContext,
        attempt: F,
    ) -> Result<T, BackendError>
    where
        F: FnOnce(HeaderMap) -> Fut,
        Fut: Future<Output = Result<T, BackendError>>,
    {
        let result = match self.breaker.admit() {
            None => Err(BackendError::CircuitOpen),
            Some(ticket) => {
                let headers = self.request_headers(ctx);
                let work = async {
                    let _slot = self.limiter.acquire().await;
                    attempt(headers).await
                };
                let result = tokio::time::timeout(self.timeout, work)
                    .await
                    .unwrap_or(Err(BackendError::Timeout));
                ticket.record(result.as_ref().err());
                result
            }
        };
        if let Err(err) = &result
            && !matches!(err, BackendError::Remote(_))
        {
            tracing::warn!(
                request_id = %ctx.request_id,
                backend = %self.name,
                method,
                kind = err.kind(),
                error = %err,
                "backend call failed"
            );
        }
        result
    }
}

/// The params as JSON: an object when the route names them, else an array.
pub fn json_params(call: &BackendCall) -> Result<Json, BackendError> {
    match &call.param_names {
        Some(names) => {
            if call.params.len() > names.len() {
                return Err(BackendError::InvalidParams(format!(
                    "{}() takes at most {} parameters ({} given)",
                    call.method,
                    names.len(),
                    call.params.len()
                )));
            }
            Ok(Json::Object(
                names
                    .iter()
                    .zip(&call.params)
                    .map(|(name, value)| (name.clone(), convert::to_json(value)))
                    .collect(),
            ))
        }
        None => Ok(Json::Array(
            call.params.iter().map(convert::to_json).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn endpoint(extra: &str) -> Endpoint {
        let cfg = Config::from_toml(&format!(
            "[backends.b]\nkind = \"json\"\nurl = \"http://127.0.0.1:9/\"\n{extra}"
        ))
        .unwrap();
        Endpoint::from_config("b", &cfg.backends["b"], &["x-shared".to_owned()]).unwrap()
    }

    fn call(params: Vec<Value>, names: Option<&[&str]>) -> BackendCall {
        BackendCall {
            method: "m".into(),
            params,
            path: None,
            param_names: names.map(|n| n.iter().map(|s| (*s).to_owned()).collect()),
            idempotent: false,
        }
    }

    #[test]
    fn headers_are_filtered_per_backend() {
        let ep = endpoint("forward_headers = [\"Authorization\"]\nheaders = { x-api = \"k\" }");
        let ctx = CallContext {
            request_id: Arc::from("req-1"),
            headers: Arc::new(vec![
                ("authorization".into(), "Basic x".into()),
                ("x-shared".into(), "s".into()),
                ("x-other".into(), "no".into()),
            ]),
            ..CallContext::default()
        };
        let h = ep.request_headers(&ctx);
        assert_eq!(h["authorization"], "Basic x");
        assert_eq!(h["x-shared"], "s");
        assert_eq!(h["x-api"], "k");
        assert_eq!(h["x-request-id"], "req-1");
        assert!(h.get("x-other").is_none());
    }

    #[test]
    fn params_are_an_array_or_a_named_object() {
        let positional = json_params(&call(vec![1.into(), "a".into()], None)).unwrap();
        assert_eq!(positional, serde_json::json!([1, "a"]));
        let named = json_params(&call(vec![1.into()], Some(&["id", "verbose"]))).unwrap();
        assert_eq!(named, serde_json::json!({"id": 1}));
        let too_many = json_params(&call(vec![1.into(), 2.into()], Some(&["id"])));
        assert!(matches!(too_many, Err(BackendError::InvalidParams(_))));
    }

    #[test]
    fn bad_settings_are_refused() {
        let cfg =
            Config::from_toml("[backends.b]\nkind = \"soap\"\nurl = \"http://127.0.0.1:9/\"\n")
                .unwrap();
        let err = from_config("b", &cfg.backends["b"], &[]).err().unwrap();
        assert!(err.contains("soap"), "{err}");
        let cfg = Config::from_toml("[backends.b]\nkind = \"json\"\nurl = \"ftp://x/\"\n").unwrap();
        assert!(from_config("b", &cfg.backends["b"], &[]).is_err());
    }
}
