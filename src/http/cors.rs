//! CORS for browser clients: an allowlist of origins (`[cors]`). An
//! `OPTIONS` preflight on an RPC path from an allowed origin asking for
//! `POST` gets 204 and the `Access-Control-*` headers; from any other
//! origin, 403 without them. Responses to allowed origins carry
//! `Access-Control-Allow-Origin` and `Vary: Origin`. With no origins
//! configured CORS is off: no headers, and `OPTIONS` stays 405.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use http_body_util::Full;

use super::status::plain;

/// `[cors]`, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsOptions {
    /// Origins allowed, exactly as browsers send them
    /// (`https://app.example`); `*` allows any. Empty turns CORS off.
    pub allow_origins: Vec<String>,
    /// Request headers a preflight allows (lower case).
    pub allow_headers: Vec<String>,
    /// How long browsers may cache a preflight answer.
    pub max_age: Option<Duration>,
    /// `Access-Control-Allow-Credentials: true` (cookies, HTTP auth).
    pub allow_credentials: bool,
}

impl CorsOptions {
    /// Whether any origin is allowed.
    pub fn enabled(&self) -> bool {
        !self.allow_origins.is_empty()
    }

    /// The origin header of `headers` when it is allowed.
    fn allowed<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.allow_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(text))
            .then_some(origin)
    }

    /// The answer to a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or `None` when the request is not
    /// one or CORS is off (it then gets the usual 405).
    pub fn preflight(&self, method: &Method, headers: &HeaderMap) -> Option<Response<Full<Bytes>>> {
        if !self.enabled()
            || method != Method::OPTIONS
            || !headers.contains_key(header::ORIGIN)
            || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let asks_post = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .is_some_and(|m| m.as_bytes() == b"POST");
        let Some(origin) = self.allowed(headers).filter(|_| asks_post) else {
            return Some(plain(StatusCode::FORBIDDEN, "origin not allowed\n"));
        };
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let h = response.headers_mut();
        self.allow(h, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        if !self.allow_headers.is_empty()
            && let Ok(value) = HeaderValue::from_str(&self.allow_headers.join(", "))
        {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, value);
        }
        if let Some(age) = self.max_age {
            h.insert(header::ACCESS_CONTROL_MAX_AGE, age.as_secs().into());
        }
        Some(response)
    }

    /// Adds the CORS headers to a response for an allowed origin.
    pub fn decorate(
        &self,
        request_origin: Option<&HeaderValue>,
        response: &mut Response<Full<Bytes>>,
    ) {
        // Preflight answers (204, 403; nothing else on an RPC path answers
        // those) are complete as they are.
        let preflight = matches!(
            response.status(),
            StatusCode::NO_CONTENT | StatusCode::FORBIDDEN
        );
        if !self.enabled() || preflight {
            return;
        }
        let mut probe = HeaderMap::new();
        if let Some(origin) = request_origin {
            probe.insert(header::ORIGIN, origin.clone());
        }
        if let Some(origin) = self.allowed(&probe) {
            self.allow(response.headers_mut(), origin);
        } else {
            // The answer depends on Origin even when it carries no CORS headers.
            add_vary_origin(response.headers_mut());
        }
    }

    fn allow(&self, h: &mut HeaderMap, origin: &HeaderValue) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        if self.allow_credentials {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        add_vary_origin(h);
    }
}

/// Appends `Origin` to `Vary`, keeping what is there (`Accept-Encoding`).
fn add_vary_origin(h: &mut HeaderMap) {
    let existing = h
        .get(header::VARY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let value = match existing {
        Some(v)
            if v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("origin")) =>
        {
            return;
        }
        Some(v) if !v.is_empty() => format!("{v}, Origin"),
        _ => "Origin".to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        h.insert(header::VARY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors() -> CorsOptions {
        CorsOptions {
            allow_origins: vec!["https://app.example".to_owned()],
            allow_headers: vec!["content-type".to_owned(), "authorization".to_owned()],
            max_age: Some(Duration::from_secs(600)),
            allow_credentials: false,
        }
    }

    fn preflight_headers(origin: &str, method: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_str(method).unwrap(),
        );
        h
    }

    #[test]
    fn allowed_preflight_gets_204_and_headers() {
        let r = cors()
            .preflight(
                &Method::OPTIONS,
                &preflight_headers("https://app.example", "POST"),
            )
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let h = r.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], "POST");
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type, authorization"
        );
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "600");
        assert_eq!(h[header::VARY], "Origin");
    }

    #[test]
    fn other_origins_and_methods_get_403_without_headers() {
        for (origin, method) in [
            ("https://evil.example", "POST"),
            ("https://app.example", "PUT"),
        ] {
            let r = cors()
                .preflight(&Method::OPTIONS, &preflight_headers(origin, method))
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
            assert!(
                !r.headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
        }
    }

    #[test]
    fn off_or_not_a_preflight_is_left_to_the_edge() {
        let h = preflight_headers("https://app.example", "POST");
        assert!(
            CorsOptions::default()
                .preflight(&Method::OPTIONS, &h)
                .is_none()
        );
        assert!(
            cors()
                .preflight(&Method::OPTIONS, &HeaderMap::new())
                .is_none()
        );
    }

    #[test]
    fn responses_to_allowed_origins_are_decorated() {
        let mut r = Response::new(Full::default());
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        let origin = HeaderValue::from_static("https://app.example");
        cors().decorate(Some(&origin), &mut r);
        assert_eq!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(r.headers()[header::VARY], "Accept-Encoding, Origin");
        let mut r = Response::new(Full::default());
        let evil = HeaderValue::from_static("https://evil.example");
        cors().decorate(Some(&evil), &mut r);
        assert!(
            !r.headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        );
    }
}
