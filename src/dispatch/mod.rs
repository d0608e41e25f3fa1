//! Dispatch: from a decoded call to a value or an error, through the
//! routing table (in-process handlers, instances, backends) and the
//! `system.*` methods.
//!
//! - `dispatcher.rs`: one call, its auth policy, timeout and metrics;
//!   `access.rs`: roles, who may call what; `limits.rs`: rate limits;
//! - `table.rs`: which target answers a name; `handler.rs`, `typed.rs`:
//!   in-process handlers, and typed Rust functions as handlers;
//! - `introspection.rs`, `multicall.rs`: the `system.*` methods;
//!   `catalog.rs`: what the methods page lists (`server.docs`);
//! - `split.rs`: weighted, sticky canaries (and the stable hash);
//!   `shadow.rs`: shadow traffic, compared by `compare.rs`;
//! - `options.rs`: switches and bounds; `error.rs`: the layer's error;
//!   `fault.rs`: **every fault code**, and errors turned into faults.
//!
//! Absent: HTTP types, XML text.

mod access;
mod catalog;
mod compare;
mod dispatcher;
mod error;
pub mod fault;
mod handler;
mod introspection;
mod limits;
mod multicall;
mod options;
mod shadow;
mod split;
mod table;
mod typed;

pub use access::{Access, Role};
pub use catalog::{Catalog, MethodDoc, ServedBy, Unlisted};
pub use compare::Comparison;
pub use dispatcher::{Answer, Dispatcher, MulticallSummary};
pub use error::CallError;
pub use handler::{CallResult, Handler, Instance};
pub use limits::{Counts, Limit, LimitKey, RateLimits, Scope};
pub use options::DispatchOptions;
pub use shadow::Shadow;
pub use split::{Split, Sticky, Weighted};
pub use table::{Pattern, Rename, Route, RoutingTable, TableError, Target};
pub use typed::{Bytes, FromValue, IntoCallResult, IntoValue, RawFn};
