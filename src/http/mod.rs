//! The HTTP edge: the listener, connections, paths, methods, body limits,
//! content codings, credentials and status codes. Everything XML-RPC is
//! delegated to the [`Gateway`](crate::gateway::Gateway).
//!
//! - `server.rs`: the accept loop, connection limits, TLS connections;
//! - `service.rs`: one request on the server; `cgi.rs`: one request in CGI
//!   mode; both run the stages in `rpc.rs`;
//! - `app.rs`: what every connection shares; `options.rs`: the settings;
//! - `body.rs`: request bodies against the in-flight byte budget;
//! - `status.rs`: **every HTTP status** the edge answers with;
//! - `auth.rs`: credentials to a principal; `cors.rs`: CORS;
//!   `tls.rs`: certificates; `request_id.rs`: request ids;
//! - `admin.rs`: `/metrics`, `/healthz`, `/readyz`.
//!
//! Absent: anything XML-RPC (no codec, no method names).

mod admin;
mod app;
mod auth;
mod body;
pub mod cgi;
mod cors;
mod docs_page;
mod options;
mod request_id;
mod rpc;
mod server;
mod service;
mod status;
mod tls;

pub use admin::{AdminOptions, AdminState, Readiness, serve as serve_admin};
pub use app::App;
pub use auth::{AuthMode, Authenticator};
pub use cors::CorsOptions;
pub use options::HttpOptions;
pub use server::serve;
pub use status::HttpError;
pub use tls::{Tls, TlsError, load_certified_key};
