//! The `json` backend kind: plain JSON over HTTP. Without a mapping, a call
//! goes to the backend URL plus the route's `path` (or, without one, `/` +
//! the method name with dots as slashes: `users.get` -> `/users/get`); the
//! params travel as the body (POST/PUT/PATCH) or the query string
//! (GET/DELETE); a 2xx JSON body is the value. A route's mapping
//! (`mapping.rs`) says otherwise where it is given; the backend's error
//! table turns error answers into the faults legacy clients expect.
//!
//! A path derived from a method name stays under the backend URL's path:
//! a name whose parts could step out of it, or be read as more or less than
//! one segment, is refused before anything is sent ([`target_url`]).

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value as Json;

use super::client::{read_body, send};
use super::convert;
use super::endpoint::Endpoint;
use super::error::BackendError;
use super::faults::ErrorMap;
use super::mapping::Mapped;
use super::service::Backend;
use super::service::BackendCall;
use super::service::json_params;
use super::spec::{BuildError, HttpMethod};
use crate::call::CallContext;
use crate::xmlrpc::Value;

/// A plain JSON/HTTP service.
pub(super) struct JsonBackend {
    endpoint: Arc<Endpoint>,
    http: reqwest::Client,
    method: HttpMethod,
    /// Error answers to faults.
    errors: Arc<ErrorMap>,
}

impl JsonBackend {
    pub(super) fn new(
        endpoint: Arc<Endpoint>,
        method: HttpMethod,
        errors: ErrorMap,
    ) -> Result<Self, BuildError> {
        Ok(JsonBackend {
            http: endpoint.http_only()?,
            endpoint,
            method,
            errors: Arc::new(errors),
        })
    }
}

impl Backend for JsonBackend {
    fn name(&self) -> &str {
        &self.endpoint.name
    }

    fn circuit_open(&self) -> bool {
        self.endpoint.circuit_open()
    }

    fn call(
        &self,
        call: BackendCall,
        ctx: CallContext,
    ) -> BoxFuture<'static, Result<Value, BackendError>> {
        let ep = self.endpoint.clone();
        let http = self.http.clone();
        let default_method = self.method;
        let errors = self.errors.clone();
        async move {
            let request = build_request(&ep.url, &call, default_method)?;
            let retries = ep.retries_for(call.idempotent);
            let (ep, http, request) = (&*ep, &http, &request);
            let answer = ep
                .run(&call.method, &ctx, call.deadline, |headers| async move {
                    let build = || {
                        let mut headers = headers.clone();
                        // The mapping's headers (credentials from params) win
                        // over configured ones of the same name.
                        for (name, value) in &request.headers {
                            headers.insert(name.clone(), value.clone());
                        }
                        let builder = http
                            .request(request.method.clone(), request.url.clone())
                            .header(ACCEPT, "application/json")
                            .headers(headers);
                        match &request.body {
                            Some(body) => builder
                                .header(CONTENT_TYPE, "application/json")
                                .body(body.clone()),
                            None => builder,
                        }
                    };
                    let response = send(build, retries).await?;
                    let status = response.status().as_u16();
                    let body = read_body(response).await?;
                    answer_of(status, &body, &errors)
                })
                .await?;
            match &call.mapping {
                Some(mapping) => mapping.result.apply(answer),
                None => convert::from_json(answer).map_err(BackendError::BadBody),
            }
        }
        .boxed()
    }
}

/// One call as an HTTP request.
struct Request {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    body: Option<bytes::Bytes>,
}

/// Maps a call onto an HTTP request: the route's mapping where it has one,
/// else the params as the body (POST, PUT, PATCH) or the query (GET,
/// DELETE).
fn build_request(
    base: &reqwest::Url,
    call: &BackendCall,
    default_method: HttpMethod,
) -> Result<Request, BackendError> {
    let method = call
        .mapping
        .as_ref()
        .and_then(|m| m.request.method)
        .unwrap_or(default_method);
    let has_body = method.has_body();
    let mapped = match &call.mapping {
        Some(mapping) => mapping
            .request
            .apply(&call.params, || body_for(call), has_body)?,
        None => Mapped {
            body: has_body.then(|| body_for(call)).transpose()?,
            ..Mapped::default()
        },
    };
    let mut url = match &mapped.segments {
        Some(segments) => {
            let mut url = base.clone();
            url.path_segments_mut()
                .map_err(|()| BackendError::Transport("the backend URL takes no path".into()))?
                .pop_if_empty()
                .extend(segments);
            url
        }
        None => target_url(base, call)?,
    };
    match &mapped.query {
        Some(pairs) if !pairs.is_empty() => {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Some(_) => {}
        None if !has_body => add_query(&mut url, &body_for(call)?),
        None => {}
    }
    let body = mapped
        .body
        .map(|json| bytes::Bytes::from(serde_json::to_vec(&json).expect("JSON values serialize")));
    Ok(Request {
        method: method.as_reqwest(),
        url,
        headers: mapped.headers,
        body,
    })
}

/// The JSON a call sends: an object when the route names the params, the
/// struct itself when the only param is a struct, else an array.
pub(super) fn body_for(call: &BackendCall) -> Result<Json, BackendError> {
    match call.params.as_slice() {
        [Value::Struct(_)] if call.param_names.is_none() => Ok(convert::to_json(&call.params[0])),
        _ => json_params(call),
    }
}

/// The backend URL plus the route's path (from config, taken as it is);
/// without one, plus one path segment per dot-separated part of the name
/// the backend sees (after `rename` / `strip_prefix`), percent-encoded:
/// `users.get` -> `/users/get`. A name with a part that cannot be one
/// segment of its own (see [`unmappable`]) is refused with
/// `MethodNotFound`, so a derived path always stays under the backend URL's
/// path (and, when the name keeps the route's prefix, under the prefix's
/// segments).
pub(super) fn target_url(
    base: &reqwest::Url,
    call: &BackendCall,
) -> Result<reqwest::Url, BackendError> {
    let base_path = base.path().trim_end_matches('/');
    let path = match &call.path {
        Some(path) => format!("{base_path}/{}", path.trim_start_matches('/')),
        None => derived_path(base_path, &call.method)?,
    };
    let mut url = base.clone();
    url.set_path(&path);
    Ok(url)
}

/// `base_path` plus `/` and one percent-encoded segment per dot-separated
/// part of `name`.
fn derived_path(base_path: &str, name: &str) -> Result<String, BackendError> {
    if let Some(why) = unmappable_name(name) {
        return Err(BackendError::MethodNotFound(format!("{name:?}: {why}")));
    }
    let mut path = String::with_capacity(base_path.len() + name.len() + 8);
    path.push_str(base_path);
    for part in name.split('.') {
        path.push('/');
        encode_segment(part, &mut path);
    }
    Ok(path)
}

/// Why `name` cannot become a json backend's URL path, if it cannot: the
/// first of its dot-separated parts that cannot be one path segment (see
/// [`unmappable`]). Config uses it on names a route fixes.
pub(crate) fn unmappable_name(name: &str) -> Option<String> {
    name.split('.')
        .find_map(|part| unmappable(part).map(|why| format!("part {part:?} {why}")))
}

/// Why `part` of a method name cannot be one URL path segment, if it
/// cannot: empty (the name has `..`, or starts or ends with a dot), a dot
/// segment (unreachable while parts are split at dots, kept so that the
/// rule does not hang on how names are split), or holding a character a
/// server could read as structure rather than text, even after decoding:
/// `/` and `\` (separators), `%` (an encoded `.`, `/` or another `%`),
/// `?` and `#` (query, fragment), control characters.
fn unmappable(part: &str) -> Option<&'static str> {
    match part {
        "" => Some("is empty"),
        "." | ".." => Some("is a dot segment"),
        _ => part.chars().find_map(|c| match c {
            '/' | '\\' => Some("holds a path separator"),
            '%' => Some("holds a percent sign"),
            '?' | '#' => Some("holds a query or fragment delimiter"),
            c if c.is_control() => Some("holds a control character"),
            _ => None,
        }),
    }
}

/// Appends `segment` percent-encoded (its UTF-8 bytes): everything but
/// ASCII letters, digits, `-`, `_` and `~` (RFC 3986's unreserved set;
/// `.` cannot occur), so the segment reaches the server as plain text with
/// no character a path parser treats specially (`;`, `:`, `@`...).
fn encode_segment(segment: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in segment.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// GET/DELETE: object members as `name=value`, array items as `arg0=...`;
/// strings go as they are, anything else as JSON text.
fn add_query(url: &mut reqwest::Url, params: &Json) {
    let pairs: Vec<(String, &Json)> = match params {
        Json::Object(members) => members.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("arg{i}"), v))
            .collect(),
        other => vec![("arg0".to_owned(), other)],
    };
    if pairs.is_empty() {
        return;
    }
    let mut query = url.query_pairs_mut();
    for (name, value) in pairs {
        match value {
            Json::String(s) => query.append_pair(&name, s),
            other => query.append_pair(&name, &other.to_string()),
        };
    }
}

/// Reads a JSON service's answer: a 2xx body is the value (an empty body is
/// null). An error answer is the fault the backend's error table names, or
/// `Rejected` (4xx: the service refused the params) or `Status` (anything
/// else), with the body's `error` / `message`.
pub(super) fn answer_of(status: u16, body: &[u8], errors: &ErrorMap) -> Result<Json, BackendError> {
    if !(200..300).contains(&status) {
        if let Some(fault) = errors.fault(status, body) {
            return Err(BackendError::Remote(fault));
        }
        let message = error_message(body);
        return Err(match status {
            400..=499 => BackendError::Rejected(status, message),
            _ => BackendError::Status(status, message),
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::Null);
    }
    serde_json::from_slice(body).map_err(|e| BackendError::BadBody(format!("not JSON: {e}")))
}

/// The value of an answer without a mapping (tests).
#[cfg(test)]
fn parse_response(status: u16, body: &[u8]) -> Result<Value, BackendError> {
    let json = answer_of(status, body, &ErrorMap::default())?;
    convert::from_json(json).map_err(BackendError::BadBody)
}

/// `error` or `message` from an error body: a string, or an object with a
/// string `message`.
fn error_message(body: &[u8]) -> Option<String> {
    let Json::Object(obj) = serde_json::from_slice::<Json>(body).ok()? else {
        return None;
    };
    ["error", "message"]
        .iter()
        .filter_map(|key| match obj.get(*key)? {
            Json::String(s) => Some(s.clone()),
            Json::Object(inner) => inner.get("message")?.as_str().map(str::to_owned),
            _ => None,
        })
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use serde_json::json;

    fn call(method: &str, path: Option<&str>, params: Vec<Value>) -> BackendCall {
        BackendCall {
            method: method.into(),
            params,
            path: path.map(str::to_owned),
            param_names: None,
            idempotent: false,
            mapping: None,
            deadline: None,
        }
    }

    #[test]
    fn a_mapped_request_stays_under_the_backend_path() {
        use crate::backend::mapping::{Mapping, PathTemplate, Query, RequestMap, Source};
        let base = reqwest::Url::parse("http://127.0.0.1:1/api/v1/").unwrap();
        let mapping = Mapping {
            request: RequestMap {
                method: Some(HttpMethod::Get),
                path: Some(PathTemplate::parse("/rest/bug/{0}", None).unwrap()),
                query: Query::Named(vec![(
                    "include_fields".into(),
                    Source::Literal(json!("id")),
                )]),
                ..RequestMap::default()
            },
            ..Mapping::default()
        };
        let mut c = call("Bug.get", None, vec![Value::from("../../admin?x=1#y")]);
        c.mapping = Some(Arc::new(mapping));
        let request = build_request(&base, &c, HttpMethod::Post).unwrap();
        assert_eq!(request.method, reqwest::Method::GET);
        assert_eq!(
            request.url.as_str(),
            "http://127.0.0.1:1/api/v1/rest/bug/..%2F..%2Fadmin%3Fx=1%23y?include_fields=id"
        );
        assert!(request.body.is_none());
    }

    #[test]
    fn urls_join_path_or_method_name() {
        let base = reqwest::Url::parse("http://127.0.0.1:1/api/").unwrap();
        let u = target_url(&base, &call("users.get", None, vec![])).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/api/users/get");
        let u = target_url(&base, &call("x", Some("/v1/users"), vec![])).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/api/v1/users");
        let bare = reqwest::Url::parse("http://127.0.0.1:1").unwrap();
        let u = target_url(&bare, &call("echo", None, vec![])).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:1/echo");
    }

    /// The path derived for `name` under `http://host/api/v1`, or the
    /// refusal.
    fn derived(name: &str) -> Result<String, BackendError> {
        let base = reqwest::Url::parse("http://host/api/v1").unwrap();
        target_url(&base, &call(name, None, vec![])).map(|u| u.path().to_owned())
    }

    fn assert_refused(name: &str) {
        match derived(name) {
            Err(BackendError::MethodNotFound(_)) => {}
            other => panic!("{name:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn the_traversal_of_the_report_is_refused() {
        // Before the rule, this reached /api/secret.
        assert_refused("users.a/%2e%2e/%2e%2e/%2e%2e/secret");
    }

    #[test]
    fn empty_parts_are_refused() {
        for name in ["", ".", "..", "users..get", ".users", "users.", "users...x"] {
            assert_refused(name);
        }
    }

    #[test]
    fn dot_segments_are_refused() {
        // Parts are split at dots, so no name yields one; the rule holds on
        // its own all the same.
        assert_eq!(unmappable("."), Some("is a dot segment"));
        assert_eq!(unmappable(".."), Some("is a dot segment"));
        assert_eq!(unmappable("..."), None);
    }

    #[test]
    fn separators_are_refused() {
        for name in [
            "users.a/b",
            "users./",
            "users.a\\b",
            "users.\\",
            "a/../../x",
        ] {
            assert_refused(name);
        }
    }

    #[test]
    fn percent_signs_are_refused() {
        for name in ["users.%2e%2e", "users.%2F", "users.100%", "users.%25"] {
            assert_refused(name);
        }
    }

    #[test]
    fn query_and_fragment_delimiters_are_refused() {
        for name in ["users.get?admin=1", "users.?", "users.get#top", "users.#"] {
            assert_refused(name);
        }
    }

    #[test]
    fn control_characters_are_refused() {
        for name in [
            "users.a\u{0}b",
            "users.a\tb",
            "users.a\nb",
            "users.a\rb",
            "users.a\u{7f}b",
            "users.a\u{85}b",
        ] {
            assert_refused(name);
        }
    }

    #[test]
    fn parts_are_percent_encoded_one_segment_each() {
        let cases = [
            ("users.get", "/api/v1/users/get"),
            ("a.A-z_0~9", "/api/v1/a/A-z_0~9"),
            ("users.caf\u{e9}", "/api/v1/users/caf%C3%A9"),
            ("a.\u{65e5}\u{672c}", "/api/v1/a/%E6%97%A5%E6%9C%AC"),
            ("a.b c", "/api/v1/a/b%20c"),
            ("a.x;y=1", "/api/v1/a/x%3By%3D1"),
            ("a.user@host:1", "/api/v1/a/user%40host%3A1"),
            ("a.<\"'>", "/api/v1/a/%3C%22%27%3E"),
            // Look-alikes of `.` and `/` are text like any other.
            ("a.\u{ff0e}\u{ff0e}", "/api/v1/a/%EF%BC%8E%EF%BC%8E"),
            ("a.\u{2215}", "/api/v1/a/%E2%88%95"),
        ];
        for (name, path) in cases {
            assert_eq!(derived(name).unwrap(), path, "{name:?}");
        }
    }

    #[test]
    fn a_route_path_is_not_a_method_name() {
        // The route's `path` comes from config and is taken as written.
        let base = reqwest::Url::parse("http://host/api/v1").unwrap();
        let u = target_url(&base, &call("a/../b", Some("/users/get"), vec![])).unwrap();
        assert_eq!(u.path(), "/api/v1/users/get");
    }

    /// `%XX` sequences back to bytes, as a server reads a path segment.
    fn percent_decode(segment: &str) -> Vec<u8> {
        let bytes = segment.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'%', Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (byte, _) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        out
    }

    /// Method names: any string, and names made of parts chosen to probe
    /// the rule (dots, separators, encoded dots and slashes, unicode).
    fn method_names() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            Just(String::new()),
            Just("..".to_owned()),
            Just("%2e%2e".to_owned()),
            Just("%2E".to_owned()),
            Just("%2f".to_owned()),
            Just("%".to_owned()),
            Just("/".to_owned()),
            Just("\\".to_owned()),
            Just("?a=1".to_owned()),
            Just("#f".to_owned()),
            Just(";".to_owned()),
            Just("\u{ff0e}".to_owned()),
            "[a-zA-Z0-9_~-]{1,6}",
            "[a-z./%\\\\?#;: \u{e9}\u{65e5}]{1,8}",
            "\\PC{1,6}",
            any::<String>(),
        ];
        prop_oneof![
            any::<String>(),
            "[a-z./%\\\\]{0,16}",
            prop::collection::vec(part, 0..6).prop_map(|parts| parts.join(".")),
        ]
    }

    /// Backend URLs with and without a path, a trailing slash, an encoded
    /// character.
    fn bases() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("http://host/api/v1"),
            Just("http://host/api/v1/"),
            Just("http://host"),
            Just("http://host/a%20b/c/"),
        ]
    }

    /// What a server must be able to rely on for a derived path: it stays
    /// under `under`, a server parsing it again finds nothing to resolve,
    /// and each segment decodes to one part of the name that is not empty,
    /// not a dot segment, and holds no separator, `%`, `?`, `#` or control
    /// character. Checked here without [`unmappable`].
    fn check_derived(url: &reqwest::Url, under: &str, name: &str) -> Result<(), TestCaseError> {
        let reparsed = reqwest::Url::parse(url.as_str()).unwrap();
        prop_assert_eq!(reparsed.path(), url.path());
        prop_assert!(url.query().is_none() && url.fragment().is_none());
        let Some(rest) = url.path().strip_prefix(under) else {
            return Err(TestCaseError::fail(format!("{url} left {under}")));
        };
        let parts: Vec<Vec<u8>> = rest.split('/').map(percent_decode).collect();
        let want: Vec<&[u8]> = name.split('.').map(str::as_bytes).collect();
        prop_assert_eq!(&parts, &want);
        for part in &parts {
            let text = String::from_utf8(part.clone()).unwrap();
            prop_assert!(!text.is_empty() && text != "." && text != "..");
            prop_assert!(
                !text.contains(['/', '\\', '%', '?', '#']) && !text.chars().any(char::is_control),
                "{:?}",
                text
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn a_derived_path_stays_under_the_backend_path(base in bases(), name in method_names()) {
            let base = reqwest::Url::parse(base).unwrap();
            let under = format!("{}/", base.path().trim_end_matches('/'));
            match target_url(&base, &call(&name, None, vec![])) {
                Ok(url) => check_derived(&url, &under, &name)?,
                Err(BackendError::MethodNotFound(_)) => {}
                Err(other) => prop_assert!(false, "{:?}", other),
            }
        }

        /// A name that keeps the route's prefix (no `strip_prefix`) stays
        /// under the prefix's segments too.
        #[test]
        fn a_prefixed_name_stays_under_the_prefix(base in bases(), rest in method_names()) {
            let base = reqwest::Url::parse(base).unwrap();
            let under = format!("{}/users/", base.path().trim_end_matches('/'));
            let name = format!("users.{rest}");
            match target_url(&base, &call(&name, None, vec![])) {
                Ok(url) => {
                    prop_assert!(url.path().starts_with(&under), "{}", url);
                    check_derived(&url, &under, &rest)?;
                }
                Err(BackendError::MethodNotFound(_)) => {}
                Err(other) => prop_assert!(false, "{:?}", other),
            }
        }
    }

    #[test]
    fn a_lone_struct_is_sent_as_itself() {
        let s = Value::structure([("id", Value::Int(3))]);
        assert_eq!(
            body_for(&call("m", None, vec![s])).unwrap(),
            json!({"id": 3})
        );
        assert_eq!(
            body_for(&call("m", None, vec![3.into()])).unwrap(),
            json!([3])
        );
        assert_eq!(body_for(&call("m", None, vec![])).unwrap(), json!([]));
    }

    #[test]
    fn query_strings_for_get() {
        let mut url = reqwest::Url::parse("http://127.0.0.1:1/u").unwrap();
        add_query(&mut url, &json!({"id": 3, "name": "a b"}));
        assert_eq!(url.query(), Some("id=3&name=a+b"));
        let mut url = reqwest::Url::parse("http://127.0.0.1:1/u").unwrap();
        add_query(&mut url, &json!([]));
        assert_eq!(url.query(), None);
    }

    #[test]
    fn answers_and_errors() {
        assert_eq!(
            parse_response(200, b"{\"a\":1}").unwrap(),
            Value::structure([("a", Value::Int(1))])
        );
        assert_eq!(parse_response(204, b"").unwrap(), Value::Nil);
        assert!(matches!(
            parse_response(200, b"{oops"),
            Err(BackendError::BadBody(_))
        ));
        let cases: [(&[u8], Option<&str>); 5] = [
            (b"{\"error\":\"no such user\"}", Some("no such user")),
            (b"{\"message\":\"gone\"}", Some("gone")),
            (
                b"{\"error\":{\"message\":\"deep\",\"code\":3}}",
                Some("deep"),
            ),
            (b"{\"error\":42}", None),
            (b"<html>", None),
        ];
        for (body, want) in cases {
            match parse_response(404, body) {
                Err(BackendError::Rejected(404, msg)) => assert_eq!(msg.as_deref(), want),
                other => panic!("{other:?}"),
            }
        }
    }
}
