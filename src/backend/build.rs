//! From a checked [`BackendSpec`] to a running backend of its kind.

use std::sync::Arc;

use super::endpoint::Endpoint;
use super::json::JsonBackend;
use super::jsonrpc::JsonRpcBackend;
use super::service::Backend;
use super::spec::{BackendSpec, BuildError, Kind};
use super::xmlrpc::XmlRpcBackend;
use crate::metrics::Metrics;

/// Builds backend `name` from its spec; its circuit breaker shows its state
/// in `metrics` (the backend's requests are counted by the dispatcher).
pub(crate) fn build(
    name: &str,
    spec: &BackendSpec,
    metrics: &Metrics,
) -> Result<Arc<dyn Backend>, BuildError> {
    let endpoint = Arc::new(Endpoint::new(name, spec, metrics)?);
    Ok(match spec.kind {
        Kind::JsonRpc => Arc::new(JsonRpcBackend::new(endpoint)?),
        Kind::Json => Arc::new(JsonBackend::new(
            endpoint,
            spec.http_method,
            spec.errors.clone(),
        )?),
        Kind::XmlRpc => Arc::new(XmlRpcBackend::new(endpoint)?),
    })
}
