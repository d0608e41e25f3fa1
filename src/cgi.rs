//! CGI mode: the same pipeline fed from the CGI environment and stdin, as
//! Python's `CGIXMLRPCRequestHandler` does, writing a CGI response (`Status`,
//! `Content-Type`, `Content-Length`) to stdout.
//!
//! `GET` gets Python's 400 page; `POST` is an XML-RPC call; other methods get
//! 405. Body size, gunzip and response gzip follow the same config as the
//! server.

use std::collections::HashMap;
use std::io::{self, Read, Write};

use crate::dispatch::CallContext;
use crate::gateway::Gateway;
use crate::http::{self, GunzipError, HttpOptions};

/// Python's `http.server.DEFAULT_ERROR_MESSAGE` for 400, byte for byte.
const GET_PAGE: &str = "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: 400</p>\n        <p>Message: Bad Request.</p>\n        <p>Error code explanation: 400 - Bad request syntax or unsupported method.</p>\n    </body>\n</html>\n";

/// A CGI response before it is written.
struct CgiResponse {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl CgiResponse {
    fn plain(status: &'static str, text: &str) -> Self {
        CgiResponse {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".to_owned())],
            body: format!("{text}\n").into_bytes(),
        }
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut head = format!("Status: {}\n", self.status);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\n"));
        }
        head.push_str(&format!("Content-Length: {}\n\n", self.body.len()));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

/// Handles one CGI request: `env` is the CGI environment, `stdin` the body.
pub async fn handle(
    gateway: &Gateway,
    options: &HttpOptions,
    env: &HashMap<String, String>,
    stdin: impl Read,
    stdout: &mut impl Write,
) -> io::Result<()> {
    respond(gateway, options, env, stdin).await.write_to(stdout)
}

async fn respond(
    gateway: &Gateway,
    options: &HttpOptions,
    env: &HashMap<String, String>,
    stdin: impl Read,
) -> CgiResponse {
    let var = |name: &str| env.get(name).map(String::as_str);
    match var("REQUEST_METHOD").unwrap_or("POST") {
        "POST" => {}
        "GET" => {
            return CgiResponse {
                status: "400 Bad Request",
                headers: vec![("Content-Type", "text/html;charset=utf-8".to_owned())],
                body: GET_PAGE.as_bytes().to_vec(),
            };
        }
        _ => {
            let mut response = CgiResponse::plain("405 Method Not Allowed", "method not allowed");
            response.headers.push(("Allow", "POST".to_owned()));
            return response;
        }
    }
    let limit = options.max_body_bytes;
    // No CONTENT_LENGTH: read stdin to EOF, as Python does (bounded here).
    let declared = match var("CONTENT_LENGTH").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return CgiResponse::plain("400 Bad Request", "bad CONTENT_LENGTH"),
        },
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return CgiResponse::plain("413 Payload Too Large", "request body too large");
    }
    let want = declared.unwrap_or(limit as u64 + 1);
    let mut body = Vec::new();
    if stdin.take(want).read_to_end(&mut body).is_err() {
        return CgiResponse::plain("400 Bad Request", "request body could not be read");
    }
    if body.len() > limit {
        return CgiResponse::plain("413 Payload Too Large", "request body too large");
    }
    let gzipped = match http::request_is_gzip(var("HTTP_CONTENT_ENCODING")) {
        Ok(g) => g,
        Err(_) => {
            return CgiResponse::plain(
                "415 Unsupported Media Type",
                "unsupported content encoding",
            );
        }
    };
    if gzipped {
        body = match http::gunzip(&body, options.max_decoded_bytes) {
            Ok(b) => b,
            Err(GunzipError::TooLarge) => {
                return CgiResponse::plain("413 Payload Too Large", "request body too large");
            }
            Err(GunzipError::Corrupt) => {
                return CgiResponse::plain("400 Bad Request", "error decoding gzip content");
            }
        };
    }
    // Authentication is the web server's: the user it vouches for is the
    // principal (routes with `auth = "required"` need one).
    let ctx = CallContext {
        request_id: http::request_id_from(var("HTTP_X_REQUEST_ID")),
        principal: var("REMOTE_USER")
            .filter(|u| !u.is_empty())
            .map(std::sync::Arc::from),
        ..CallContext::detached()
    };
    let outcome = gateway.handle(&body, &ctx).await;
    let accepts = var("HTTP_ACCEPT_ENCODING").is_some_and(http::accepts_gzip);
    let (payload, gzipped) =
        http::compress_response(outcome.body, options.encode_threshold, accepts);
    let mut headers = vec![("Content-Type", "text/xml".to_owned())];
    if gzipped {
        headers.push(("Content-Encoding", "gzip".to_owned()));
    }
    if options.encode_threshold.is_some() {
        headers.push(("Vary", "Accept-Encoding".to_owned()));
    }
    CgiResponse {
        status: "200 OK",
        headers,
        body: payload,
    }
}
