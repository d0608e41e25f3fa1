//! HTTP statuses, decided in one place: every way a request can fail before
//! or around the XML-RPC pipeline, and the response each one gets.
//! (Faults are not here: a decoded call gets 200 and an XML-RPC fault, but
//! for a single call that needs credentials it came without: 401.)

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use thiserror::Error;

use super::auth::AuthMode;
use crate::gzip::GunzipError;

/// A request refused at the HTTP layer.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// A path that is neither an RPC path nor an endpoint.
    #[error("no such page")]
    NotFound,
    /// A method other than POST on an RPC path (Python answers 501; 405 with
    /// `Allow` is what HTTP says).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A body over `max_body_bytes` (or over `max_decoded_bytes` gunzipped).
    #[error("request body too large")]
    BodyTooLarge,
    /// A body slower than `body_read_timeout`.
    #[error("request body took too long")]
    BodyTimeout,
    /// The connection failed while the body was read.
    #[error("request body could not be read")]
    BodyRead,
    /// A `Content-Length` (CGI's `CONTENT_LENGTH`) that is not a number.
    #[error("bad content length")]
    BadLength,
    /// A gzip body that does not inflate.
    #[error("error decoding gzip content")]
    BadGzip,
    /// A `Content-Encoding` other than identity or gzip.
    #[error("unsupported content encoding")]
    UnsupportedEncoding,
    /// The server is shutting down.
    #[error("server is shutting down")]
    Draining,
    /// Credentials missing, wrong or unreadable; the mode picks the
    /// `WWW-Authenticate` challenge.
    #[error("authentication required")]
    Unauthorized(AuthMode),
    /// A single call the caller's roles do not allow.
    #[error("not allowed")]
    Forbidden,
    /// A single call over a rate limit; retry after this many seconds.
    #[error("too many calls")]
    TooManyRequests(u64),
}

impl HttpError {
    /// The status code.
    pub fn status(self) -> StatusCode {
        match self {
            HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            HttpError::BodyRead | HttpError::BadGzip | HttpError::BadLength => {
                StatusCode::BAD_REQUEST
            }
            HttpError::UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::Draining => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden => StatusCode::FORBIDDEN,
            HttpError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// A short plain-text response naming the problem.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let (status, headers, body) = self.parts();
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }

    /// The response's status, headers and plain-text body, for any
    /// transport (the server and CGI).
    pub fn parts(self) -> (StatusCode, HeaderMap, Bytes) {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, TEXT_PLAIN);
        match self {
            HttpError::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            HttpError::UnsupportedEncoding => {
                headers.insert(
                    header::ACCEPT_ENCODING,
                    HeaderValue::from_static("gzip, identity"),
                );
            }
            // The rest of the body was not read; the connection cannot be reused.
            HttpError::BodyTooLarge
            | HttpError::BodyTimeout
            | HttpError::BodyRead
            | HttpError::Draining => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            HttpError::Unauthorized(mode) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(mode.challenge()),
                );
            }
            HttpError::TooManyRequests(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            HttpError::NotFound
            | HttpError::BadGzip
            | HttpError::BadLength
            | HttpError::Forbidden => {}
        }
        (self.status(), headers, Bytes::from(format!("{self}\n")))
    }
}

impl From<GunzipError> for HttpError {
    /// A gzip body that inflates past `max_decoded_bytes` is too large; one
    /// that does not inflate is a bad request.
    fn from(err: GunzipError) -> Self {
        match err {
            GunzipError::TooLarge => HttpError::BodyTooLarge,
            GunzipError::Corrupt => HttpError::BadGzip,
        }
    }
}

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// A `text/plain` response.
pub(super) fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, TEXT_PLAIN);
    response
}
