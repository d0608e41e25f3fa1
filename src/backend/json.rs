//! The `json` backend kind: plain JSON over HTTP. A call goes to the backend
//! URL plus the route's `path` (or, without one, `/` + the method name with
//! dots as slashes: `users.get` -> `/users/get`); the params travel as the
//! body (POST/PUT/PATCH) or the query string (GET/DELETE); a 2xx JSON body is
//! the value.

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value as Json;

use super::client::{read_body, send};
use super::convert;
use super::endpoint::Endpoint;
use super::error::BackendError;
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
}

impl JsonBackend {
    pub(super) fn new(endpoint: Arc<Endpoint>, method: HttpMethod) -> Result<Self, BuildError> {
        Ok(JsonBackend {
            http: endpoint.http_only()?,
            endpoint,
            method,
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
        let has_body = self.method.has_body();
        let method = self.method.as_reqwest();
        async move {
            let body = body_for(&call)?;
            let mut url = target_url(&ep.url, &call);
            if !has_body {
                add_query(&mut url, &body);
            }
            let body =
                bytes::Bytes::from(serde_json::to_vec(&body).expect("JSON values serialize"));
            let retries = ep.retries_for(call.idempotent);
            let (ep, http, body, url, method) = (&*ep, &http, &body, &url, &method);
            ep.run(&call.method, &ctx, |headers| async move {
                let build = || {
                    let request = http
                        .request(method.clone(), url.clone())
                        .header(ACCEPT, "application/json")
                        .headers(headers.clone());
                    if has_body {
                        request
                            .header(CONTENT_TYPE, "application/json")
                            .body(body.clone())
                    } else {
                        request
                    }
                };
                let response = send(build, retries).await?;
                let status = response.status().as_u16();
                let body = read_body(response).await?;
                parse_response(status, &body)
            })
            .await
        }
        .boxed()
    }
}

/// The JSON a call sends: an object when the route names the params, the
/// struct itself when the only param is a struct, else an array.
pub(super) fn body_for(call: &BackendCall) -> Result<Json, BackendError> {
    match call.params.as_slice() {
        [Value::Struct(_)] if call.param_names.is_none() => Ok(convert::to_json(&call.params[0])),
        _ => json_params(call),
    }
}

/// The backend URL plus the route's path, or `/` + the method name with
/// dots turned into slashes.
pub(super) fn target_url(base: &reqwest::Url, call: &BackendCall) -> reqwest::Url {
    let path = match &call.path {
        Some(path) => path.clone(),
        None => format!("/{}", call.method.replace('.', "/")),
    };
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
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
/// nil); any other status is `Status` with the body's `error` / `message`.
pub(super) fn parse_response(status: u16, body: &[u8]) -> Result<Value, BackendError> {
    if !(200..300).contains(&status) {
        return Err(BackendError::Status(status, error_message(body)));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Nil);
    }
    let json: Json = serde_json::from_slice(body)
        .map_err(|e| BackendError::BadBody(format!("not JSON: {e}")))?;
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
    use serde_json::json;

    fn call(method: &str, path: Option<&str>, params: Vec<Value>) -> BackendCall {
        BackendCall {
            method: method.into(),
            params,
            path: path.map(str::to_owned),
            param_names: None,
            idempotent: false,
        }
    }

    #[test]
    fn urls_join_path_or_method_name() {
        let base = reqwest::Url::parse("http://127.0.0.1:1/api/").unwrap();
        let u = target_url(&base, &call("users.get", None, vec![]));
        assert_eq!(u.as_str(), "http://127.0.0.1:1/api/users/get");
        let u = target_url(&base, &call("x", Some("/v1/users"), vec![]));
        assert_eq!(u.as_str(), "http://127.0.0.1:1/api/v1/users");
        let bare = reqwest::Url::parse("http://127.0.0.1:1").unwrap();
        let u = target_url(&bare, &call("echo", None, vec![]));
        assert_eq!(u.as_str(), "http://127.0.0.1:1/echo");
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
                Err(BackendError::Status(404, msg)) => assert_eq!(msg.as_deref(), want),
                other => panic!("{other:?}"),
            }
        }
    }
}
