//! Configuration, the assembly layer: it reads the layers (the embedded
//! default, a file, `XMLRPC_GATEWAY__*` variables) into the raw [`Config`],
//! checks them, and assembles each layer's runtime pieces from them: the
//! HTTP edge's, dispatch's and the codec's settings, each backend's spec,
//! and the routing table. It depends on every layer it assembles; none of
//! them depends on it.
//!
//! - `load.rs`: the layers and `${NAME}` substitution;
//! - `raw.rs`: the file's shape, as serde structs and enums;
//! - `settings.rs`, `admin.rs`, `auth.rs`, `access.rs` (roles), `cors.rs`:
//!   runtime settings;
//! - `traces.rs`: `[tracing]` and the `OTEL_*` variables to the trace
//!   exporter's settings;
//! - `backends.rs`: backend specs; `routes.rs`: the routing table;
//!   `mapping.rs`: a json route's request and answer mapping;
//! - `reload.rs`: which keys a reload applies, and which need a restart;
//! - `error.rs`: the layer's error, which names the key at fault.
//!
//! Absent: reading the process environment (callers pass it in).

mod access;
mod admin;
mod auth;
mod backends;
mod cors;
mod error;
mod load;
mod mapping;
mod raw;
mod reload;
mod routes;
mod settings;
mod traces;

pub use error::ConfigError;
pub use load::{DEFAULT_TOML, ENV_PREFIX, EXIT_BAD_CONFIG};
pub use mapping::describe as describe_mapping;
pub use raw::*;
pub use reload::RESTART_ONLY;
pub use routes::build_table;
pub use settings::Settings;
