//! xmlrpc-gateway: an XML-RPC server and gateway.
//!
//! Data flows one way: [`http`] takes a request in, [`gateway`] decodes it
//! with [`xmlrpc`], dispatches it through the [`dispatch`] routing table (to
//! an in-process handler or a [`backend`]), encodes the answer, and [`http`]
//! sends it out. [`config`] and [`telemetry`] sit at the side.
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

pub mod backend;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod gateway;
pub mod http;
pub mod metrics;
pub mod server;
pub mod telemetry;
pub mod xmlrpc;

pub use dispatch::{CallContext, Dispatcher, RoutingTable};
pub use server::{Server, ServerOptions};
pub use xmlrpc::{Fault, Value};
pub mod cgi;
