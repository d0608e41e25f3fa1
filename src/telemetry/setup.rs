//! Logging setup: `tracing` to stderr as text or JSON lines, through the
//! non-blocking writer. Every line logged while a request is answered
//! carries its id: the HTTP layer opens a `request` span with a
//! `request_id` field (text: `request{request_id=..}:`, JSON:
//! `"span":{"request_id":..}` and `"spans":[..]`).

use std::io::IsTerminal;
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use super::access::AccessLog;
use super::format::LogFormat;
use super::writer::LogWriter;
use crate::metrics::Metrics;

/// How long the process waits at exit for stderr to take the lines still
/// queued.
const EXIT_FLUSH_LIMIT: Duration = Duration::from_secs(2);

/// Installs the global subscriber, writing to stderr through a bounded,
/// non-blocking queue of `queue_bytes` (access lines that do not fit are
/// dropped and counted in `metrics`). `RUST_LOG`, when set, overrides
/// `level`. Keep the returned [`Logs`] until the end: dropping it writes
/// out the lines still queued. Calling it twice is harmless (the second
/// call installs nothing, and its `Logs` sends access lines through
/// `tracing`).
pub fn init(format: LogFormat, level: &str, queue_bytes: usize, metrics: &Metrics) -> Logs {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let writer = match LogWriter::spawn(
        Box::new(std::io::stderr()),
        queue_bytes,
        metrics.log_drops(),
    ) {
        Ok(writer) => writer,
        Err(_) => {
            // No thread for the writer: every line straight to stderr.
            install(format, filter, ansi, std::io::stderr);
            return Logs::default();
        }
    };
    if !install(format, filter, ansi, writer.clone()) {
        writer.close(Duration::ZERO);
        return Logs::default();
    }
    // Coloured lines are for a person at a terminal: `tracing` writes them.
    let access = if ansi {
        AccessLog::default()
    } else {
        AccessLog::direct(writer.clone(), format)
    };
    Logs {
        writer: Some(writer),
        access,
    }
}

/// Installs the fmt subscriber over `writer`; whether it was installed.
fn install<W>(format: LogFormat, filter: EnvFilter, ansi: bool, writer: W) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    }
    .is_ok()
}

/// The logging [`init`] set up: the access log to hand the server
/// ([`crate::http::HttpOptions::access_log`]). Dropping it writes out the
/// lines still queued, waiting up to 2 s for stderr.
#[derive(Debug, Default)]
pub struct Logs {
    writer: Option<LogWriter>,
    access: AccessLog,
}

impl Logs {
    /// Where the server should write its access lines.
    pub fn access_log(&self) -> AccessLog {
        self.access.clone()
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        if let Some(writer) = &self.writer {
            writer.close(EXIT_FLUSH_LIMIT);
        }
    }
}

/// Records one config reload (SIGHUP): applied, or refused with `error`;
/// counted in `metrics` (`xmlrpc_gateway_config_reloads_total`) and logged.
pub fn record_reload(metrics: &Metrics, error: Option<&dyn std::fmt::Display>) {
    metrics.config_reload(error.is_none());
    match error {
        None => tracing::info!("config reloaded; new calls use the new routing table"),
        Some(err) => {
            tracing::warn!(error = %err, "config reload refused; keeping the running routing table");
        }
    }
}
