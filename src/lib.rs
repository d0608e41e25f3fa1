//! xmlrpc-gateway: an XML-RPC server and gateway.
//!
//! Data flows one way: [`http`] takes a request in, [`gateway`] decodes it
//! with [`xmlrpc`], dispatches it through the [`dispatch`] routing table (to
//! an in-process handler or a [`backend`]), encodes the answer, and [`http`]
//! sends it out. [`config`], [`metrics`] and [`telemetry`] sit at the side.

pub mod xmlrpc;
