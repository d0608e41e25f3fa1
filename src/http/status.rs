//! HTTP statuses, decided in one place: every way a request can fail before
//! or around the XML-RPC pipeline, and the response each one gets.
//! (Faults are not here: a decoded call always gets 200 and an XML-RPC fault.)

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use thiserror::Error;

use super::auth::AuthMode;

/// A request refused at the HTTP layer.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    #[error("no such page")]
    NotFound,
    /// A method other than POST on an RPC path (Python answers 501; 405 with
    /// `Allow` is what HTTP says).
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    BodyTooLarge,
    #[error("request body took too long")]
    BodyTimeout,
    #[error("request body could not be read")]
    BodyRead,
    #[error("error decoding gzip content")]
    BadGzip,
    #[error("unsupported content encoding")]
    UnsupportedEncoding,
    #[error("server is shutting down")]
    Draining,
    /// Credentials missing, wrong or unreadable; the mode picks the
    /// `WWW-Authenticate` challenge.
    #[error("authentication required")]
    Unauthorized(AuthMode),
}

impl HttpError {
    pub fn status(self) -> StatusCode {
        match self {
            HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            HttpError::BodyRead | HttpError::BadGzip => StatusCode::BAD_REQUEST,
            HttpError::UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::Draining => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        }
    }

    /// A short plain-text response naming the problem.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = plain(self.status(), format!("{self}\n"));
        let headers = response.headers_mut();
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
            HttpError::NotFound | HttpError::BadGzip => {}
        }
        response
    }
}

/// A `text/plain` response.
pub fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
