//! Logging setup: `tracing` to stderr as text or JSON lines. Every line
//! logged while a request is answered carries its id: the HTTP layer opens
//! a `request` span with a `request_id` field (text: `request{request_id=..}:`,
//! JSON: `"span":{"request_id":..}` and `"spans":[..]`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `level`.
/// Calling it twice is harmless (the second call does nothing).
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Config reloads so far: `(applied, refused)`. The hook point for the
/// metrics to come; for now a counter and a log line.
static RELOADS_OK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static RELOADS_REFUSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Records one config reload (SIGHUP): applied, or refused with `error`;
/// also in `xmlrpc_gateway_config_reloads_total` (the binary's metrics).
pub fn record_reload(error: Option<&dyn std::fmt::Display>) {
    use std::sync::atomic::Ordering::Relaxed;
    crate::metrics::record_config_reload(error.is_none());
    match error {
        None => {
            let n = RELOADS_OK.fetch_add(1, Relaxed) + 1;
            tracing::info!(
                reloads = n,
                "config reloaded; new calls use the new routing table"
            );
        }
        Some(err) => {
            let n = RELOADS_REFUSED.fetch_add(1, Relaxed) + 1;
            tracing::warn!(refused = n, error = %err, "config reload refused; keeping the running routing table");
        }
    }
}

/// `(applied, refused)` reload counts.
pub fn reload_counts() -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    (RELOADS_OK.load(Relaxed), RELOADS_REFUSED.load(Relaxed))
}
