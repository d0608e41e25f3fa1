//! Shadow traffic: a sampled copy of a route's calls sent to another
//! backend beside the primary call, its answer compared with the one the
//! client got, and the outcome counted (`match`, `mismatch`, `error`,
//! `dropped`). The shadow never delays, changes or fails the client's
//! answer: it runs in a task of its own with its own timeout, and when
//! `max_concurrent` shadow calls are already running a new one is dropped
//! (counted), never waited for.
//!
//! Absent: the comparison rules (`compare.rs`), the sampling hash
//! (`split.rs`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

use super::compare::{Answered, Comparison};
use super::fault;
use crate::backend::{Backend, BackendCall, BackendError};
use crate::call::CallContext;
use crate::metrics::Metrics;

/// The message of the line logged for each mismatch.
pub(crate) const MISMATCH_MESSAGE: &str = "shadow answer differs";

/// A route's shadow: where copies go, how many, and how they compare.
pub struct Shadow {
    /// The route's label in `shadow_calls_total` (its method pattern).
    pub route: String,
    /// The backend copies go to.
    pub backend: Arc<dyn Backend>,
    /// Percent of calls copied (0-100), sampled by request id.
    pub percent: f64,
    /// Compare the answers (else only count `match` for any answer the
    /// shadow gave, `error` for none).
    pub compare: bool,
    /// How answers compare.
    pub comparison: Comparison,
    /// Bound on one shadow call.
    pub timeout: Duration,
    /// Shadow calls of this route running at once; more are dropped.
    pub slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Shadow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shadow")
            .field("route", &self.route)
            .field("backend", &self.backend.name())
            .field("percent", &self.percent)
            .field("compare", &self.compare)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How one shadow call ended: the `result` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShadowResult {
    Match,
    Mismatch,
    Error,
    Dropped,
}

impl ShadowResult {
    /// Every result, for series that start at zero.
    pub(crate) const ALL: [ShadowResult; 4] = [
        ShadowResult::Match,
        ShadowResult::Mismatch,
        ShadowResult::Error,
        ShadowResult::Dropped,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ShadowResult::Match => "match",
            ShadowResult::Mismatch => "mismatch",
            ShadowResult::Error => "error",
            ShadowResult::Dropped => "dropped",
        }
    }
}

/// Where the primary's answer goes once the client has it.
pub(crate) type PrimaryTx = oneshot::Sender<Answered>;

/// What one sampled shadow call needs besides the call itself.
pub(crate) struct Start<'a> {
    pub(crate) shadow: &'a Arc<Shadow>,
    /// The method the client called.
    pub(crate) method: &'a str,
    pub(crate) metrics: Option<&'a Metrics>,
}

impl Start<'_> {
    /// Starts the shadow call beside the primary; returns where to send the
    /// primary's answer, or `None` when the call was dropped (no slot, no
    /// runtime).
    pub(crate) fn spawn(self, call: BackendCall, ctx: &CallContext) -> Option<PrimaryTx> {
        let count = |metrics: Option<&Metrics>, route: &str, result: ShadowResult| {
            if let Some(m) = metrics {
                m.shadow_call(route, result.as_str());
            }
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            count(self.metrics, &self.shadow.route, ShadowResult::Dropped);
            return None;
        };
        let Ok(permit) = self.shadow.slots.clone().try_acquire_owned() else {
            count(self.metrics, &self.shadow.route, ShadowResult::Dropped);
            return None;
        };
        let (tx, rx) = oneshot::channel();
        let shadow = self.shadow.clone();
        let metrics = self.metrics.cloned();
        let method = self.method.to_owned();
        let ctx = ctx.clone();
        runtime.spawn(async move {
            let _permit = permit;
            let answered = run(&shadow, &method, call, &ctx).await;
            let result = match answered {
                None => ShadowResult::Error,
                Some(shadow_answer) => match rx.await {
                    // The primary was given up (timeout, client gone):
                    // nothing to compare with.
                    Err(_) => ShadowResult::Error,
                    Ok(_) if !shadow.compare => ShadowResult::Match,
                    Ok(primary) => {
                        match shadow.comparison.first_difference(&primary, &shadow_answer) {
                            None => ShadowResult::Match,
                            Some(path) => {
                                log_mismatch(
                                    &ctx,
                                    &method,
                                    &shadow.route,
                                    &path,
                                    &primary,
                                    &shadow_answer,
                                );
                                ShadowResult::Mismatch
                            }
                        }
                    }
                },
            };
            count(metrics.as_ref(), &shadow.route, result);
        });
        Some(tx)
    }
}

/// The shadow's answer, or `None` when it gave none (timeout, transport
/// failure, circuit open).
async fn run(
    shadow: &Shadow,
    method: &str,
    mut call: BackendCall,
    ctx: &CallContext,
) -> Option<Answered> {
    call.deadline = Some(tokio::time::Instant::now() + shadow.timeout);
    let answer = tokio::time::timeout(shadow.timeout, shadow.backend.call(call, ctx.clone()));
    match answer.await {
        Ok(Ok(value)) => Some(Answered::Value(value)),
        Ok(Err(BackendError::Remote(fault))) => Some(Answered::Fault(fault.code)),
        Ok(Err(err)) if !err.is_service_failure() && !matches!(err, BackendError::CircuitOpen) => {
            // An answer of a live service (a 4xx), or params the route
            // cannot send it: the fault a client would have got.
            Some(Answered::Fault(fault::backend_fault_code(method, &err)))
        }
        Ok(Err(err)) => {
            tracing::debug!(request_id = %ctx.request_id, backend = shadow.backend.name(), error = %err, "shadow call failed");
            None
        }
        Err(_) => {
            tracing::debug!(request_id = %ctx.request_id, backend = shadow.backend.name(), "shadow call timed out");
            None
        }
    }
}

/// One line per mismatch: the request id, the method and the first
/// differing path; the two answers only when `debug` is on (they may hold
/// what the operator's logs should not).
fn log_mismatch(
    ctx: &CallContext,
    method: &str,
    route: &str,
    path: &str,
    primary: &Answered,
    shadow: &Answered,
) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::warn!(
            request_id = %ctx.request_id,
            method,
            route,
            path,
            primary = ?primary,
            shadow = ?shadow,
            "{MISMATCH_MESSAGE}"
        );
    } else {
        tracing::warn!(request_id = %ctx.request_id, method, route, path, "{MISMATCH_MESSAGE}");
    }
}
