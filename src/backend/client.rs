//! The outbound HTTP client (one pooled `reqwest::Client` per process) and
//! an XML-RPC client on it, used by the `xmlrpc` backend kind and by the
//! `call` subcommand.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT,
};

use super::BackendError;
use crate::xmlrpc::{self, EncodeOptions, Limits, Value};

/// Answers larger than this are refused (after gunzip too).
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// The process-wide pooled client. TLS uses rustls with the ring provider.
pub fn http_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let mut headers = HeaderMap::new();
            headers.insert(
                USER_AGENT,
                HeaderValue::from_static(concat!("xmlrpc-gateway/", env!("CARGO_PKG_VERSION"))),
            );
            reqwest::Client::builder()
                .default_headers(headers)
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(64)
                .tcp_nodelay(true)
                .connect_timeout(Duration::from_secs(5))
                .build()
                .expect("the HTTP client's static settings are valid")
        })
        .clone()
}

/// Maps a transport failure to its kind.
pub fn classify(err: &reqwest::Error) -> BackendError {
    if err.is_timeout() {
        BackendError::Timeout
    } else if err.is_connect() {
        BackendError::Refused
    } else {
        BackendError::Transport(err.to_string())
    }
}

/// Reads a response body, bounded, gunzipping it when the server gzipped it.
pub async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BackendError> {
    let gzipped = response
        .headers()
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(BackendError::BadBody("response too large".to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    if gzipped {
        body = crate::http::gunzip(&body, MAX_RESPONSE_BYTES)
            .map_err(|_| BackendError::BadBody("bad gzip".to_owned()))?;
    }
    Ok(body)
}

/// Calls XML-RPC methods on one server.
#[derive(Clone, Debug)]
pub struct XmlRpcClient {
    http: reqwest::Client,
    url: reqwest::Url,
    timeout: Option<Duration>,
    limits: Limits,
}

impl XmlRpcClient {
    pub fn new(url: &str) -> Result<XmlRpcClient, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{url} is not an http or https URL"));
        }
        Ok(XmlRpcClient {
            http: http_client(),
            url,
            timeout: None,
            limits: Limits::default(),
        })
    }

    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Calls `method`; a fault answer is `BackendError::Remote`.
    pub async fn call(
        &self,
        method: &str,
        params: &[Value],
        extra: &HeaderMap,
    ) -> Result<Value, BackendError> {
        let opts = EncodeOptions {
            allow_none: true,
            ..EncodeOptions::default()
        };
        let body = xmlrpc::encode_call(method, params, &opts)
            .map_err(|e| BackendError::Transport(e.to_string()))?;
        let mut request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "text/xml")
            .header(ACCEPT_ENCODING, "gzip")
            .headers(extra.clone())
            .body(body);
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|e| classify(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(BackendError::Status(status.as_u16(), None));
        }
        let body = read_body(response).await?;
        match xmlrpc::decode_response(&body, &self.limits) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(fault)) => Err(BackendError::Remote(fault)),
            Err(err) => Err(BackendError::BadBody(err.to_string())),
        }
    }
}
