//! Logging: `tracing` to stderr as text or JSON lines, every line through
//! one bounded, non-blocking queue that a thread of its own writes out.
//!
//! - `setup.rs`: the subscriber, counting reloads; `format.rs`: the log
//!   format;
//! - `writer.rs`: the queue and its writer thread (a line that does not
//!   fit is dropped and counted, never waited for);
//! - `access.rs`: the access line, formatted straight into a buffer;
//! - `traces.rs`: OpenTelemetry traces (off unless configured): the
//!   exporter, its bounded queue, the sampler, the W3C trace context of
//!   incoming requests.

mod access;
mod format;
mod setup;
mod traces;
mod writer;

pub use access::AccessLog;
pub use format::LogFormat;
pub use setup::{Logs, init, record_reload};
pub use traces::{TraceSampler, TraceSettings};

pub(crate) use access::AccessLine;
pub(crate) use traces::continue_trace;
