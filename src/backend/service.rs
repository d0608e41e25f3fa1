//! What the dispatcher sees of a backend: the [`Backend`] trait, the
//! [`BackendCall`] it is handed after routing, and the params shapes a JSON
//! service is sent.

use futures_util::future::BoxFuture;
use serde_json::Value as Json;

use std::sync::Arc;

use super::convert;
use super::error::BackendError;
use super::mapping::Mapping;
use crate::call::CallContext;
use crate::xmlrpc::Value;

/// A call as a backend receives it, after routing.
#[derive(Clone, Debug)]
pub struct BackendCall {
    /// The name the backend sees (after the route's rename).
    pub method: String,
    /// The params, as the client sent them.
    pub params: Vec<Value>,
    /// Route-level path appended to the backend URL (json backends).
    pub path: Option<String>,
    /// Names for the params (json backends: send an object, not an array).
    pub param_names: Option<Vec<String>>,
    /// Whether the call may be retried after a transport failure.
    pub idempotent: bool,
    /// The route's request and answer mapping (json backends).
    pub mapping: Option<Arc<Mapping>>,
    /// When the dispatcher gives up on the call and drops its future (the
    /// route's `timeout`, else `limits.call_timeout`); `None`: no deadline
    /// but the backend's own timeout. A call dropped unanswered at or after
    /// its deadline counts as a failure for the backend's circuit breaker;
    /// one dropped before it (the client went away) does not.
    pub deadline: Option<tokio::time::Instant>,
}

/// What introspection calls to a backend resolve to.
pub type Introspected<T> = Option<BoxFuture<'static, Result<T, BackendError>>>;

/// One method a backend describes of itself (for the methods page), under
/// the backend's own name for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MethodInfo {
    /// The backend's name for it (before any route's prefix).
    pub name: String,
    /// Signature rows: the result type first, then each param's.
    pub signatures: Vec<Vec<String>>,
    /// Its help text, empty when none.
    pub help: String,
}

/// A service behind the gateway.
pub trait Backend: Send + Sync + 'static {
    /// The backend's name in config (used in logs and metrics, never in faults).
    fn name(&self) -> &str;

    /// Sends one call; the future owns what it needs.
    fn call(
        &self,
        call: BackendCall,
        ctx: CallContext,
    ) -> BoxFuture<'static, Result<Value, BackendError>>;

    /// Whether its circuit breaker refuses calls now (`/readyz` can wait
    /// for it to close).
    fn circuit_open(&self) -> bool {
        false
    }

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

    /// Its methods with their signatures and help, at most `max` of them,
    /// when it can list them (xmlrpc: `system.listMethods` and friends;
    /// jsonrpc: `rpc.discover`, an OpenRPC document).
    fn describe(&self, _max: usize, _ctx: CallContext) -> Introspected<Vec<MethodInfo>> {
        None
    }
}

/// Signature rows from a `system.methodSignature` answer: an array of
/// arrays of type names; anything else (Python's `"signatures not
/// supported"`) is none.
pub(super) fn signature_rows(value: &Value) -> Vec<Vec<String>> {
    let Some(rows) = value.as_array() else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(|row| {
            row.as_array().map(|types| {
                types
                    .iter()
                    .map(|t| t.as_str().unwrap_or("?").to_owned())
                    .collect()
            })
        })
        .collect()
}

/// The params as JSON: an object when the route names them, else an array.
pub(super) fn json_params(call: &BackendCall) -> Result<Json, BackendError> {
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

    fn call(params: Vec<Value>, names: Option<&[&str]>) -> BackendCall {
        BackendCall {
            method: "m".into(),
            params,
            path: None,
            param_names: names.map(|n| n.iter().map(|s| (*s).to_owned()).collect()),
            idempotent: false,
            mapping: None,
            deadline: None,
        }
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
}
