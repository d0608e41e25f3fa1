//! The pipeline in one place: request bytes -> decode -> dispatch -> encode
//! -> response bytes. Shared by the HTTP server and CGI mode; knows nothing
//! of either.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::dispatch::{CallContext, Dispatcher, fault, system};
use crate::xmlrpc::{self, EncodeOptions, Fault, Limits, Value};

/// What one request produced, for the transport and the access log.
#[derive(Debug)]
pub struct Outcome {
    /// The XML-RPC response document.
    pub body: Vec<u8>,
    /// The method called (`None` when the body did not decode).
    pub method: Option<String>,
    /// Calls in a multicall, if it was one.
    pub multicall_size: Option<usize>,
    /// The fault code answered, if any.
    pub fault_code: Option<i32>,
}

/// The decode/dispatch/encode pipeline. The dispatcher is swapped whole on
/// config reload; a request keeps the one it started with.
pub struct Gateway {
    dispatcher: ArcSwap<Dispatcher>,
    limits: Limits,
    encode: EncodeOptions,
}

impl Gateway {
    pub fn new(dispatcher: Dispatcher, limits: Limits, encode: EncodeOptions) -> Self {
        Gateway {
            dispatcher: ArcSwap::from_pointee(dispatcher),
            limits,
            encode,
        }
    }

    /// Installs a new dispatcher (config reload). Calls in flight finish on
    /// the old one.
    pub fn replace_dispatcher(&self, dispatcher: Dispatcher) {
        self.dispatcher.store(Arc::new(dispatcher));
    }

    /// The dispatcher new requests will use.
    pub fn dispatcher(&self) -> Arc<Dispatcher> {
        self.dispatcher.load_full()
    }

    pub fn encode_options(&self) -> &EncodeOptions {
        &self.encode
    }

    /// Answers one XML-RPC request body. Always produces a response
    /// document: every failure becomes a fault.
    pub async fn handle(&self, body: &[u8], ctx: &CallContext) -> Outcome {
        let call = match xmlrpc::decode_call(body, &self.limits) {
            Ok(call) => call,
            Err(err) => {
                tracing::debug!(request_id = %ctx.request_id, error = %err, "request did not decode");
                return self.fault_outcome(None, None, fault::decode_fault(&err));
            }
        };
        let multicall_size = (call.name == system::MULTICALL).then(|| {
            call.params
                .first()
                .and_then(Value::as_array)
                .map_or(0, <[Value]>::len)
        });
        let dispatcher = self.dispatcher.load_full();
        let result = dispatcher.call(&call.name, call.params, ctx).await;
        let value = match result {
            Ok(value) => value,
            Err(err) => {
                let fault = dispatcher.fault_for(&call.name, &err, ctx);
                return self.fault_outcome(Some(call.name), multicall_size, fault);
            }
        };
        match xmlrpc::encode_response(&value, &self.encode) {
            Ok(body) => Outcome {
                body,
                method: Some(call.name),
                multicall_size,
                fault_code: None,
            },
            Err(err) => {
                tracing::warn!(request_id = %ctx.request_id, method = %call.name, error = %err, "result did not encode");
                let fault = fault::encode_fault(&call.name, &err);
                self.fault_outcome(Some(call.name), multicall_size, fault)
            }
        }
    }

    fn fault_outcome(
        &self,
        method: Option<String>,
        multicall_size: Option<usize>,
        fault: Fault,
    ) -> Outcome {
        Outcome {
            body: xmlrpc::encode_fault(&fault, &self.encode),
            method,
            multicall_size,
            fault_code: Some(fault.code),
        }
    }
}
