//! Logging setup: `tracing` to stderr as text or JSON lines. Every line
//! logged while a request is answered carries its id: the HTTP layer opens
//! a `request` span with a `request_id` field (text: `request{request_id=..}:`,
//! JSON: `"span":{"request_id":..}` and `"spans":[..]`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::metrics::Metrics;

/// `log.format`: how log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

impl TryFrom<String> for LogFormat {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{text:?} is not one of text, json")),
        }
    }
}

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
