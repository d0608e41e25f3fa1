//! The pipeline in one place: request bytes -> decode -> dispatch -> encode
//! -> response bytes. Shared by the HTTP server and CGI mode; knows nothing
//! of either.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::call::CallContext;
use crate::dispatch::{CallError, Dispatcher, fault};
pub use crate::dispatch::{Catalog, MethodDoc, ServedBy, Unlisted};
use crate::metrics::Metrics;
use crate::xmlrpc::{self, EncodeOptions, Fault, Limits};

/// What one request produced, for the transport and the access log.
#[derive(Debug)]
pub struct Outcome {
    /// The XML-RPC response document.
    pub body: Vec<u8>,
    /// The method called (`None` when the body did not decode).
    pub method: Option<String>,
    /// Calls in a multicall, if it was one.
    pub multicall_size: Option<usize>,
    /// The method names of a multicall's entries, in order (at most
    /// 20), for the access
    /// log: the dispatcher's, which parsed them.
    pub multicall_methods: Vec<String>,
    /// The backend a single call went to (one name), or those a
    /// multicall's first 20 entries went to (`-` for an entry that went to
    /// none); empty when the call went to no backend.
    pub backends: Vec<String>,
    /// The fault code answered, if any.
    pub fault_code: Option<i32>,
    /// The call needs credentials and came without: the HTTP edge answers
    /// 401 instead of the fault in `body` (multicall entries fault instead).
    pub unauthenticated: bool,
    /// The call's route names roles the caller does not hold: the HTTP edge
    /// answers 403 instead of the fault (multicall entries fault instead).
    pub forbidden: bool,
    /// A rate limit refused the call: the HTTP edge answers 429 with
    /// `Retry-After` instead of the fault (multicall entries fault instead).
    pub retry_after: Option<std::time::Duration>,
}

/// The decode/dispatch/encode pipeline. The dispatcher and the encoding
/// options are swapped together on config reload; a request keeps the pair
/// it started with, so a single call and a multicall's entries always agree
/// on `allow_none`.
pub struct Gateway {
    live: ArcSwap<Live>,
    limits: Limits,
    metrics: Metrics,
}

/// What a reload replaces.
#[derive(Debug)]
struct Live {
    dispatcher: Dispatcher,
    encode: EncodeOptions,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("live", &self.live.load())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway counting into a fresh [`Metrics`] of its own.
    pub fn new(dispatcher: Dispatcher, limits: Limits, encode: EncodeOptions) -> Self {
        Gateway::with_metrics(dispatcher, limits, encode, Metrics::new())
    }

    /// A gateway counting into `metrics` (calls and backend requests
    /// included: the dispatcher is handed the same metrics).
    pub fn with_metrics(
        dispatcher: Dispatcher,
        limits: Limits,
        encode: EncodeOptions,
        metrics: Metrics,
    ) -> Self {
        Gateway {
            live: ArcSwap::from_pointee(Live {
                dispatcher: dispatcher.with_metrics(metrics.clone()),
                encode,
            }),
            limits,
            metrics,
        }
    }

    /// Installs a new dispatcher and encoding (config reload). Calls in
    /// flight finish on the old pair.
    pub fn reload(&self, dispatcher: Dispatcher, encode: EncodeOptions) {
        self.live.store(Arc::new(Live {
            dispatcher: dispatcher.with_metrics(self.metrics.clone()),
            encode,
        }));
    }

    /// The names of the backends whose circuit is open now.
    pub fn open_circuits(&self) -> Vec<String> {
        self.live.load().dispatcher.open_circuits()
    }

    /// Where this gateway counts.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// What the methods page shows `ctx`'s caller on `rpc_path` (see
    /// [`Dispatcher::catalog`]).
    pub async fn catalog(&self, rpc_path: Option<&str>, ctx: &CallContext) -> Catalog {
        let live = self.live.load_full();
        live.dispatcher.for_path(rpc_path).catalog(ctx).await
    }

    /// Answers one XML-RPC request body. Always produces a response
    /// document: every failure becomes a fault.
    pub async fn handle(&self, body: &[u8], ctx: &CallContext) -> Outcome {
        self.handle_at(body, None, ctx).await
    }

    /// As [`Gateway::handle`], for a request to `rpc_path`: routes limited
    /// to that path answer there only.
    pub async fn handle_at(
        &self,
        body: &[u8],
        rpc_path: Option<&str>,
        ctx: &CallContext,
    ) -> Outcome {
        let call = match xmlrpc::decode_call(body, &self.limits) {
            Ok(call) => call,
            Err(err) => {
                tracing::debug!(request_id = %ctx.request_id, error = %err, "request did not decode");
                let mut outcome = Outcome::unanswered();
                finish_fault(
                    &mut outcome,
                    fault::decode_fault(&err),
                    &self.live.load().encode,
                );
                return outcome;
            }
        };
        let mut outcome = Outcome::unanswered();
        let name = call.name;
        let live = self.live.load_full();
        let (dispatcher, encode) = (live.dispatcher.for_path(rpc_path), &live.encode);
        let answer = dispatcher.answer(&name, call.params, ctx).await;
        if let Some(multicall) = answer.multicall {
            outcome.multicall_size = Some(multicall.size);
            outcome.multicall_methods = multicall.names;
            outcome.backends = multicall.backends;
        }
        if let Some(backend) = answer.backend {
            outcome.backends = vec![backend];
        }
        match answer.result {
            Ok(value) => match xmlrpc::encode_response(&value, encode) {
                Ok(body) => outcome.body = body,
                Err(err) => {
                    tracing::warn!(request_id = %ctx.request_id, trace_id = ctx.trace_id.as_deref().map(tracing::field::display), method = %name, error = %err, "result did not encode");
                    finish_fault(&mut outcome, fault::encode_fault(&name, &err), encode);
                }
            },
            Err(err) => {
                outcome.unauthenticated = matches!(err, CallError::Unauthenticated(_));
                outcome.forbidden = matches!(err, CallError::Forbidden(_));
                if let CallError::RateLimited { retry_after, .. } = &err {
                    outcome.retry_after = Some(*retry_after);
                }
                finish_fault(&mut outcome, dispatcher.fault_for(&name, &err, ctx), encode);
            }
        }
        outcome.method = Some(name);
        outcome
    }
}

/// Makes `outcome` answer with `fault`.
fn finish_fault(outcome: &mut Outcome, fault: Fault, encode: &EncodeOptions) {
    outcome.body = xmlrpc::encode_fault(&fault, encode);
    outcome.fault_code = Some(fault.code);
}

impl Outcome {
    /// An outcome with no answer yet.
    fn unanswered() -> Outcome {
        Outcome {
            body: Vec::new(),
            method: None,
            multicall_size: None,
            multicall_methods: Vec::new(),
            backends: Vec::new(),
            fault_code: None,
            unauthenticated: false,
            forbidden: false,
            retry_after: None,
        }
    }
}
