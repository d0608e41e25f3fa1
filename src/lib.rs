//! xmlrpc-gateway: an XML-RPC server and gateway.
//!
//! Data flows one way: the HTTP edge takes a request in (or CGI does), the
//! [`gateway`] decodes it with the [`xmlrpc`] codec, dispatches it through
//! the routing table (to an in-process handler or a backend service),
//! encodes the answer, and the edge sends it out. [`config`] assembles the
//! pieces at start and on reload; [`Metrics`] and logging are handed in.
//!
//! # What an embedder uses
//!
//! - A server: [`Server`] and its [`ServerOptions`] (the edge's
//!   [`http::HttpOptions`], dispatch's [`DispatchOptions`], the codec's
//!   [`xmlrpc::Limits`] and [`xmlrpc::EncodeOptions`], and [`Metrics`]).
//! - Values: [`Value`], [`Fault`], [`Struct`], [`DateTime`]; the codec's
//!   pure functions in [`xmlrpc`].
//! - Handlers: [`RoutingTable`] with typed Rust functions
//!   ([`RoutingTable::register_function`], [`RoutingTable::register_async`],
//!   through [`FromValue`], [`IntoValue`] and [`IntoCallResult`]), raw
//!   [`Handler`]s, an [`Instance`] (Python's `register_instance`), and
//!   custom [`Backend`]s; [`CallContext`] is what each call knows.
//! - The pipeline alone, bytes in and bytes out: [`gateway::Gateway`] with
//!   a [`Dispatcher`]; CGI mode: [`http::cgi`].
//! - Config files as the binary reads them: [`config`].
//! - A client: [`client::XmlRpcClient`]; values to and from JSON: [`json`];
//!   a route's mapping onto a REST service: [`mapping`], [`faults`];
//!   the content-coding rules (bounded gunzip) the edge applies: [`gzip`].
//! - Logging setup: [`telemetry`]; the demo functions: [`demo`].
//!
//! Embedding it, the Rust counterpart of Python's `register_function`:
//!
//! ```no_run
//! use xmlrpc_gateway::{Fault, RoutingTable, Server, ServerOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut table = RoutingTable::new();
//! table.register_function("add", |a: i64, b: i64| a + b)?;
//! table.register_function("div", |a: i64, b: i64| -> Result<i64, Fault> {
//!     a.checked_div(b).ok_or_else(|| Fault::new(1, "division by zero"))
//! })?;
//! table.register_async("double", |x: i64| async move { x * 2 })?;
//! let options = ServerOptions::default().introspection(true).multicall(true);
//! let server = Server::bind("127.0.0.1:8000", table, options).await?;
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! ```

mod backend;
mod call;
pub mod config;
mod defaults;
pub mod demo;
mod dispatch;
pub mod gateway;
pub mod gzip;
pub mod http;
mod metrics;
mod server;
pub mod telemetry;
pub mod xmlrpc;

pub use backend::convert as json;
pub use backend::{Backend, BackendCall, BackendError, Introspected, MethodInfo};
pub use backend::{faults, mapping};
pub use call::{AuthPolicy, CallContext};
pub use dispatch::fault;
pub use dispatch::{
    Access, Answer, Bytes, CallError, CallResult, Comparison, Counts, DispatchOptions, Dispatcher,
    FromValue, Handler, Instance, IntoCallResult, IntoValue, Limit, LimitKey, MulticallSummary,
    Pattern, RateLimits, RawFn, Rename, Role, Route, RoutingTable, Scope, Shadow, Split, Sticky,
    TableError, Target, Weighted,
};
pub use metrics::Metrics;
pub use server::{Server, ServerOptions};
pub use xmlrpc::{DateTime, Fault, Struct, Value};

/// Outbound clients: the XML-RPC client behind the `call` subcommand and
/// the `xmlrpc` backend kind, and the shared HTTP client it runs on.
pub mod client {
    pub use crate::backend::client::{XmlRpcClient, http_client};
}
