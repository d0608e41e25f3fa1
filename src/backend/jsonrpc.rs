//! The `jsonrpc` backend kind: each call is one JSON-RPC 2.0 request POSTed
//! to the backend URL; `result` is the value, `error` becomes the client's
//! fault unchanged (code and message).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

use super::client::{execute, read_body};
use super::convert;
use super::endpoint::Endpoint;
use super::error::BackendError;
use super::service::Backend;
use super::service::BackendCall;
use super::service::json_params;
use super::service::{Introspected, MethodInfo};
use super::spec::BuildError;
use crate::call::CallContext;
use crate::xmlrpc::{Fault, Struct, Value};

/// The media type of a request and of the answer asked for.
const JSON_TYPE: HeaderValue = HeaderValue::from_static("application/json");

/// A JSON-RPC 2.0 service.
pub(super) struct JsonRpcBackend {
    endpoint: Arc<Endpoint>,
    http: reqwest::Client,
    next_id: Arc<AtomicU64>,
}

impl JsonRpcBackend {
    pub(super) fn new(endpoint: Arc<Endpoint>) -> Result<Self, BuildError> {
        Ok(JsonRpcBackend {
            http: endpoint.http_only()?,
            endpoint,
            next_id: Arc::new(AtomicU64::new(1)),
        })
    }
}

impl Backend for JsonRpcBackend {
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
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        async move {
            let params = json_params(&call)?;
            let request = Request {
                jsonrpc: "2.0",
                id,
                method: &call.method,
                params: &params,
            };
            let body =
                bytes::Bytes::from(serde_json::to_vec(&request).expect("JSON values serialize"));
            let retries = ep.retries_for(call.idempotent);
            let (ep, http, body) = (&*ep, &http, &body);
            ep.run(
                &call.method,
                &ctx,
                call.deadline,
                |mut headers| async move {
                    // One request, built in place: the URL parsed at build, the
                    // headers of `run` moved in (a header from config or the
                    // client wins, as it did over the builder's).
                    headers.entry(CONTENT_TYPE).or_insert(JSON_TYPE);
                    headers.entry(ACCEPT).or_insert(JSON_TYPE);
                    let mut request = reqwest::Request::new(Method::POST, ep.url.clone());
                    *request.headers_mut() = headers;
                    *request.body_mut() = Some(body.clone().into());
                    let response = execute(http, request, retries).await?;
                    let status = response.status().as_u16();
                    let body = read_body(response).await?;
                    parse_response(status, &body, id)
                },
            )
            .await
        }
        .boxed()
    }

    /// `rpc.discover` (OpenRPC service discovery), sent as any call.
    fn describe(&self, max: usize, ctx: CallContext) -> Introspected<Vec<MethodInfo>> {
        let call = BackendCall {
            method: DISCOVER.to_owned(),
            params: Vec::new(),
            path: None,
            param_names: None,
            idempotent: true,
            mapping: None,
            deadline: None,
        };
        let answer = self.call(call, ctx);
        Some(async move { openrpc_methods(&answer.await?, max) }.boxed())
    }
}

/// The OpenRPC service discovery method.
const DISCOVER: &str = "rpc.discover";

/// The methods of an OpenRPC document (`methods[]`: `name`, `params[]`
/// with `name` and `schema`, `result`, `description` or `summary`), at
/// most `max`. A signature row is the result's type, then `name: type` for
/// each param.
fn openrpc_methods(doc: &Value, max: usize) -> Result<Vec<MethodInfo>, BackendError> {
    let methods = doc
        .as_struct()
        .and_then(|d| d.get("methods"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            BackendError::BadBody("rpc.discover answered no OpenRPC methods array".to_owned())
        })?;
    let text = |m: &Struct, key: &str| m.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(methods
        .iter()
        .filter_map(Value::as_struct)
        .filter_map(|m| {
            let name = text(m, "name")?;
            let params = m
                .get("params")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_struct)
                .map(|p| {
                    let ty = schema_type(p.get("schema"));
                    match text(p, "name") {
                        Some(pname) => format!("{pname}: {ty}"),
                        None => ty,
                    }
                });
            let result = schema_type(
                m.get("result")
                    .and_then(Value::as_struct)
                    .and_then(|r| r.get("schema")),
            );
            let row = std::iter::once(result).chain(params).collect();
            let help = text(m, "description")
                .filter(|d| !d.is_empty())
                .or_else(|| text(m, "summary"))
                .unwrap_or_default();
            Some(MethodInfo {
                name,
                signatures: vec![row],
                help,
            })
        })
        .take(max)
        .collect())
}

/// A JSON Schema's type for a signature: `type` (a name, or names joined
/// by `|`), else the last segment of a `$ref`, else `any`.
fn schema_type(schema: Option<&Value>) -> String {
    let Some(schema) = schema.and_then(Value::as_struct) else {
        return "any".to_owned();
    };
    match schema.get("type") {
        Some(Value::String(t)) => return t.clone(),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if !names.is_empty() {
                return names.join("|");
            }
        }
        _ => {}
    }
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .map_or_else(|| "any".to_owned(), str::to_owned)
}

/// A JSON-RPC 2.0 request, serialized in this member order.
#[derive(Serialize)]
struct Request<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: &'a Json,
}

/// The members of an answer the gateway reads; others are ignored. A
/// member that is present holds `Some`, even when it is `null`.
#[derive(Deserialize)]
struct Answer {
    #[serde(default, deserialize_with = "present")]
    id: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Json>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// Reads a JSON-RPC answer to request `id`.
pub(super) fn parse_response(status: u16, body: &[u8], id: u64) -> Result<Value, BackendError> {
    let ok = (200..300).contains(&status);
    let answer: Answer = match serde_json::from_slice(body) {
        // (serde would also read an array as the members in order.)
        Ok(answer) if body.trim_ascii_start().starts_with(b"{") => answer,
        _ if !ok => return Err(BackendError::Status(status, None)),
        Ok(_) => {
            return Err(BackendError::BadBody(
                "not a JSON-RPC response object".to_owned(),
            ));
        }
        // Valid JSON of another shape (a string, a member twice...).
        Err(e) if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() => {
            return Err(BackendError::BadBody(format!(
                "not a JSON-RPC response object: {e}"
            )));
        }
        Err(e) => return Err(BackendError::BadBody(format!("not JSON: {e}"))),
    };
    if let Some(error) = answer.error.filter(|e| !e.is_null()) {
        return Err(BackendError::Remote(remote_fault(error)?));
    }
    if !ok {
        return Err(BackendError::Status(status, None));
    }
    if answer.id != Some(Json::from(id)) {
        return Err(BackendError::BadBody(format!(
            "answer id {} does not match request id {id}",
            answer
                .id
                .as_ref()
                .map_or_else(|| "(none)".to_owned(), Json::to_string)
        )));
    }
    let result = answer
        .result
        .ok_or_else(|| BackendError::BadBody("neither result nor error".to_owned()))?;
    convert::from_json(result).map_err(BackendError::BadBody)
}

/// A JSON-RPC `error` member as a fault: its code and message as sent
/// (codes beyond 32 bits are clamped).
fn remote_fault(error: Json) -> Result<Fault, BackendError> {
    let bad = || BackendError::BadBody("error member is not {code, message}".to_owned());
    let Json::Object(error) = error else {
        return Err(bad());
    };
    let code = error.get("code").and_then(Json::as_i64).ok_or_else(bad)?;
    let code = code.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    let message = error
        .get("message")
        .and_then(Json::as_str)
        .ok_or_else(bad)?
        .to_owned();
    Ok(Fault::new(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> Result<Value, BackendError> {
        parse_response(status, body.as_bytes(), 7)
    }

    #[test]
    fn openrpc_methods_become_signatures_and_help() {
        let doc = convert::from_json(serde_json::json!({
            "openrpc": "1.2.6",
            "methods": [
                {"name": "get", "summary": "Gets one.",
                 "params": [{"name": "id", "schema": {"type": "integer"}}],
                 "result": {"name": "item", "schema": {"$ref": "#/components/schemas/Item"}}},
                {"name": "find", "description": "Finds.", "summary": "short",
                 "params": [{"name": "q", "schema": {"type": ["string", "null"]}}, {"name": "x"}]},
                {"summary": "no name: skipped"},
                {"name": "third"}
            ]
        }))
        .unwrap();
        let methods = openrpc_methods(&doc, 2).unwrap();
        assert_eq!(methods.len(), 2, "at most max");
        assert_eq!(methods[0].name, "get");
        assert_eq!(methods[0].signatures, vec![vec!["Item", "id: integer"]]);
        assert_eq!(methods[0].help, "Gets one.");
        assert_eq!(
            methods[1].signatures,
            vec![vec!["any", "q: string|null", "x: any"]]
        );
        assert_eq!(methods[1].help, "Finds.");
        assert!(openrpc_methods(&Value::from("x"), 10).is_err());
    }

    #[test]
    fn result_error_and_malformed_answers() {
        assert_eq!(
            parse(200, r#"{"jsonrpc":"2.0","id":7,"result":[1,"a"]}"#).unwrap(),
            Value::Array(vec![1.into(), "a".into()])
        );
        assert_eq!(
            parse(200, r#"{"jsonrpc":"2.0","id":7,"result":null}"#).unwrap(),
            Value::Nil
        );
        match parse(
            200,
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-5,"message":"no"}}"#,
        ) {
            Err(BackendError::Remote(f)) => assert_eq!(f, Fault::new(-5, "no")),
            other => panic!("{other:?}"),
        }
        // Many servers send errors with status 500; the error still wins.
        assert!(matches!(
            parse(
                500,
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}"#
            ),
            Err(BackendError::Remote(_))
        ));
        assert!(matches!(
            parse(200, r#"{"jsonrpc":"2.0","id":7}"#),
            Err(BackendError::BadBody(_))
        ));
        assert!(matches!(
            parse(200, r#"{"jsonrpc":"2.0","id":8,"result":1}"#),
            Err(BackendError::BadBody(_))
        ));
        assert!(matches!(
            parse(200, "not json"),
            Err(BackendError::BadBody(_))
        ));
        assert!(matches!(
            parse(502, "<html>"),
            Err(BackendError::Status(502, None))
        ));
        assert!(matches!(
            parse(200, r#"{"id":7,"error":"text"}"#),
            Err(BackendError::BadBody(_))
        ));
        // Other members are ignored; a null error is no error.
        assert_eq!(
            parse(
                200,
                r#"{"jsonrpc":"2.0","extra":{"a":[1]},"error":null,"id":7,"result":"x"}"#
            )
            .unwrap(),
            Value::from("x")
        );
        // Valid JSON that is not an answer object, or names a member twice.
        for body in [r#"[1,2]"#, r#""text""#, r#"{"id":7,"result":1,"result":2}"#] {
            match parse(200, body) {
                Err(BackendError::BadBody(msg)) => {
                    assert!(msg.starts_with("not a JSON-RPC response object"), "{msg}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(503, r#"[1,2]"#),
            Err(BackendError::Status(503, None))
        ));
    }
}
