//! CGI mode: a second transport over the same edge. One request comes from
//! the CGI environment and stdin, as Python's `CGIXMLRPCRequestHandler`
//! takes it, runs through the stages of `rpc.rs` (method, body size,
//! content coding, gunzip, credentials, answer) with the statuses of
//! `status.rs`, and goes out as a CGI response (`Status`, headers,
//! `Content-Length`) on stdout.
//!
//! What differs from the server, and why: `GET` gets Python's 400 page (as
//! the CGI handler does); the path is the web server's business (no
//! `rpc_paths`); the web server authenticates, so the principal is
//! `REMOTE_USER`; the request's HTTP headers are the `HTTP_*` variables.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};

use super::app::App;
use super::request_id;
use super::rpc;
use super::status::HttpError;

/// Python's `http.server.DEFAULT_ERROR_MESSAGE` for 400, byte for byte.
const GET_PAGE: &str = "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 400</p>\n        <p>Message: Bad Request.</p>\n        <p>Error code explanation: 400 - Bad request syntax or unsupported method.</p>\n    </body>\n</html>\n";

/// A response before it is written out as CGI.
struct CgiResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl From<HttpError> for CgiResponse {
    fn from(err: HttpError) -> Self {
        let (status, headers, body) = err.parts();
        CgiResponse {
            status,
            headers,
            body: body.to_vec(),
        }
    }
}

impl CgiResponse {
    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut head = format!(
            "Status: {} {}\n",
            self.status.as_str(),
            self.status.canonical_reason().unwrap_or("")
        );
        for (name, value) in &self.headers {
            if name == header::CONTENT_LENGTH || name == header::CONNECTION {
                continue;
            }
            head.push_str(&canonical(name));
            head.push_str(": ");
            head.push_str(value.to_str().unwrap_or(""));
            head.push('\n');
        }
        head.push_str(&format!("Content-Length: {}\n\n", self.body.len()));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

/// `content-type` as `Content-Type`: how CGI scripts write header names.
fn canonical(name: &HeaderName) -> String {
    name.as_str()
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The request's HTTP headers, from the `HTTP_*` variables
/// (`HTTP_ACCEPT_ENCODING` is `accept-encoding`).
fn request_headers(env: &HashMap<String, String>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (key, value) in env {
        let Some(name) = key.strip_prefix("HTTP_") else {
            continue;
        };
        let name = name.to_ascii_lowercase().replace('_', "-");
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

/// Handles one CGI request: `env` is the CGI environment, `stdin` the body.
pub async fn handle(
    app: &App,
    env: &HashMap<String, String>,
    stdin: impl Read,
    stdout: &mut impl Write,
) -> io::Result<()> {
    let response = match respond(app, env, stdin).await {
        Ok(response) => response,
        Err(err) => CgiResponse::from(err),
    };
    response.write_to(stdout)
}

async fn respond(
    app: &App,
    env: &HashMap<String, String>,
    stdin: impl Read,
) -> Result<CgiResponse, HttpError> {
    let var = |name: &str| env.get(name).map(String::as_str);
    let method = Method::from_bytes(var("REQUEST_METHOD").unwrap_or("POST").as_bytes())
        .map_err(|_| HttpError::MethodNotAllowed)?;
    if method == Method::GET {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=utf-8"),
        );
        return Ok(CgiResponse {
            status: StatusCode::BAD_REQUEST,
            headers,
            body: GET_PAGE.as_bytes().to_vec(),
        });
    }
    let headers = request_headers(env);
    let codings = rpc::check_head(&method, &headers)?;
    let limit = app.options.max_body_bytes;
    // No CONTENT_LENGTH: read stdin to EOF, as Python does (bounded here).
    let declared = match var("CONTENT_LENGTH").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| HttpError::BadLength)?),
    };
    rpc::check_declared_length(declared, limit)?;
    let mut raw = Vec::new();
    stdin
        .take(declared.unwrap_or(limit as u64 + 1))
        .read_to_end(&mut raw)
        .map_err(|_| HttpError::BodyRead)?;
    if raw.len() > limit {
        return Err(HttpError::BodyTooLarge);
    }
    let xml = rpc::decoded_body(&raw, codings.gzipped, app.options.max_decoded_bytes)?;
    // Authentication is the web server's: the user it vouches for is the
    // principal (routes with `auth = "required"` need one).
    let principal = var("REMOTE_USER").filter(|u| !u.is_empty()).map(Arc::from);
    let request_id = request_id::from_value(var("HTTP_X_REQUEST_ID"));
    let live = app.live();
    let ctx = rpc::call_context(&live, request_id, None, &headers, principal);
    let mut outcome = app.gateway.handle(&xml, &ctx).await;
    let (response, _) = rpc::answer(&live, &mut outcome, codings.wants_gzip)?;
    let (parts, body) = response.into_parts();
    Ok(CgiResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
