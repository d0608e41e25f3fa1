//! Dispatch: from a decoded call to a value or an error, through the
//! routing table (in-process handlers, instances, backends) and the
//! `system.*` methods. No HTTP types here.

mod context;
mod error;
pub mod fault;
mod handler;
pub mod system;
mod table;
mod typed;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;

pub use context::CallContext;
pub use error::{CallError, Origin};
pub use handler::{CallResult, Handler, Instance};
pub use table::{Pattern, Rename, Resolved, Route, RoutingTable, TableError, Target};
pub use typed::{Bytes, FromValue, IntoCallResult, IntoValue, RawFn};

use crate::backend::BackendCall;
use crate::xmlrpc::{Fault, Value};

/// Switches and bounds for dispatch (see the README's config table).
#[derive(Clone, Debug)]
pub struct DispatchOptions {
    /// Serve `system.listMethods`, `methodHelp`, `methodSignature`.
    pub introspection: bool,
    /// Serve `system.multicall`.
    pub multicall: bool,
    /// Calls allowed in one multicall.
    pub max_multicall_calls: usize,
    /// Calls of one multicall running at once.
    pub multicall_concurrency: usize,
    /// Whether nil may be sent back (checked per multicall entry here; the
    /// encoder checks single results).
    pub allow_none: bool,
    /// Per-call time bound, unless the route sets its own.
    pub call_timeout: Option<Duration>,
}

impl Default for DispatchOptions {
    /// Python's library defaults: no introspection or multicall until
    /// registered, no nil.
    fn default() -> Self {
        DispatchOptions {
            introspection: false,
            multicall: false,
            max_multicall_calls: 1000,
            multicall_concurrency: 64,
            allow_none: false,
            call_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// The routing table plus the `system.*` methods: answers one call.
pub struct Dispatcher {
    table: RoutingTable,
    options: DispatchOptions,
}

impl Dispatcher {
    pub fn new(table: RoutingTable, options: DispatchOptions) -> Self {
        Dispatcher { table, options }
    }

    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    pub fn options(&self) -> &DispatchOptions {
        &self.options
    }

    /// Answers one top-level call, `system.multicall` included.
    pub async fn call(
        &self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
    ) -> Result<Value, CallError> {
        if name == system::MULTICALL && self.multicall_enabled() {
            return self.multicall(params, ctx).await;
        }
        self.call_one(name, params, ctx).await
    }

    /// Answers a call that is not a multicall (multicall entries come here).
    async fn call_one(
        &self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
    ) -> Result<Value, CallError> {
        // system.* names are reserved: never routed, even when disabled.
        if name.starts_with("system.") {
            return self
                .call_introspection(name, params, ctx)
                .await
                .unwrap_or_else(|| Err(CallError::NotFound(name.to_owned())));
        }
        // A panicking handler costs its caller a fault, never the connection:
        // guard both the synchronous start (plain functions run there) and
        // the future.
        let started =
            std::panic::catch_unwind(AssertUnwindSafe(|| match self.table.resolve(name) {
                Resolved::Route(route) => {
                    Some((self.start_route(route, name, params, ctx), route.timeout))
                }
                Resolved::Instance(instance) => instance
                    .dispatch(name, params, ctx.clone())
                    .map(|f| (f, None)),
                Resolved::NotFound => None,
            }));
        let (future, timeout) = match started {
            Ok(Some(started)) => started,
            Ok(None) => return Err(CallError::NotFound(name.to_owned())),
            Err(_) => return Err(CallError::Internal("handler panicked".to_owned())),
        };
        let guarded = AssertUnwindSafe(future)
            .catch_unwind()
            .map(|r| r.unwrap_or_else(|_| Err(CallError::Internal("handler panicked".to_owned()))));
        match timeout.or(self.options.call_timeout) {
            Some(limit) => tokio::time::timeout(limit, guarded)
                .await
                .unwrap_or_else(|_| Err(CallError::Timeout(name.to_owned()))),
            None => guarded.await,
        }
    }

    fn start_route(
        &self,
        route: &Route,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
    ) -> futures_util::future::BoxFuture<'static, CallResult> {
        match &route.target {
            Target::Handler(handler) => handler.call(params, ctx.clone()),
            Target::Backend {
                backend,
                path,
                param_names,
                ..
            } => {
                let call = BackendCall {
                    method: route.target_name(name).into_owned(),
                    params,
                    path: path.clone(),
                    param_names: param_names.clone(),
                    idempotent: route.idempotent,
                };
                let method = name.to_owned();
                backend
                    .call(call, ctx.clone())
                    .map(move |r| {
                        r.map_err(|source| match source {
                            crate::backend::BackendError::Remote(f) => CallError::Fault(f),
                            crate::backend::BackendError::InvalidParams(msg) => {
                                CallError::InvalidParams(msg)
                            }
                            source => CallError::Backend { method, source },
                        })
                    })
                    .boxed()
            }
        }
    }

    /// The fault a client sees for `err`; internal details are logged here.
    pub fn fault_for(&self, method: &str, err: &CallError, ctx: &CallContext) -> Fault {
        match err.origin() {
            Origin::Gateway | Origin::Backend => {
                tracing::warn!(request_id = %ctx.request_id, method, error = %err, "call failed");
            }
            Origin::Client | Origin::Handler => {
                tracing::debug!(request_id = %ctx.request_id, method, error = %err, "call faulted");
            }
        }
        fault::call_fault(method, err)
    }
}
