//! Backends: the only place that opens outbound connections. Each kind
//! (JSON-RPC, plain JSON, XML-RPC) turns a routed call into a request to a
//! service and its answer back into a value.
//!
//! - `service.rs`: the [`Backend`] trait and the [`BackendCall`] it gets;
//! - `spec.rs`: a backend's checked settings, which `config` builds;
//! - `build.rs`: spec -> running backend;
//! - `endpoint.rs`: what every kind shares (URL, transport, headers,
//!   limits); `breaker.rs`: the circuit breaker and concurrency limit;
//! - `client.rs`: the outbound HTTP client and the XML-RPC client;
//!   `scgi.rs`: the SCGI client (xmlrpc over SCGI, as rTorrent serves it);
//! - `convert.rs`: values to and from JSON; `mapping.rs`: a route's
//!   request and answer mapped onto a REST service; `faults.rs`: a
//!   service's error answers to the faults its clients expect;
//! - one file per kind: `jsonrpc.rs`, `json.rs`, `xmlrpc.rs`;
//! - `counters.rs`: the rate-limit store, token buckets in Redis that
//!   every replica shares.
//!
//! Absent: routing decisions (dispatch), config (the spec is handed in),
//! process-wide state (metrics handles are handed in).

mod breaker;
mod build;
pub(crate) mod client;
pub mod convert;
mod counters;
mod endpoint;
mod error;
pub mod faults;
mod json;
mod jsonrpc;
pub mod mapping;
mod scgi;
mod service;
mod spec;
mod xmlrpc;

pub(crate) use build::build;
pub(crate) use counters::CounterStore;
pub use error::BackendError;
pub(crate) use faults::{ErrorMap, ErrorRule};
pub(crate) use json::unmappable_name;
pub(crate) use mapping::{
    Body, Coerce, Mapping, PathTemplate, Query, RequestMap, ResultMap, Segment, Source,
};
pub use service::{Backend, BackendCall, Introspected, MethodInfo};
pub(crate) use spec::{BackendSpec, BreakerSpec, HttpMethod, Kind};
