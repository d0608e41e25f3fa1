//! xmlrpc-gateway: an XML-RPC server and gateway.
//!
//! Data flows one way: [`http`] takes a request in, [`gateway`] decodes it
//! with [`xmlrpc`], dispatches it through the [`dispatch`] routing table (to
//! an in-process handler or a [`backend`]), encodes the answer, and [`http`]
//! sends it out. [`config`], [`metrics`] and [`telemetry`] sit at the side.

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
