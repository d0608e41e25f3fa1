//! Logging setup: `tracing` to stderr as text or JSON lines, through the
//! non-blocking writer, and, when configured, the OpenTelemetry layer
//! beside it (`traces.rs`). Every line logged while a request is answered
//! carries its id: the HTTP layer opens a `request` span with a
//! `request_id` field (text: `request{request_id=..}:`, JSON:
//! `"span":{"request_id":..}` and `"spans":[..]`).

use std::io::IsTerminal;
use std::time::Duration;

use opentelemetry_sdk::trace::{SdkTracerProvider, Tracer};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::access::AccessLog;
use super::format::LogFormat;
use super::traces::{self, TraceSettings};
use super::writer::LogWriter;
use crate::call::TRACE_TARGET;
use crate::metrics::Metrics;

/// How long the process waits at exit for stderr to take the lines still
/// queued, and for the collector to take the spans still queued.
const EXIT_FLUSH_LIMIT: Duration = Duration::from_secs(2);

/// Installs the global subscriber, writing to stderr through a bounded,
/// non-blocking queue of `queue_bytes` (access lines that do not fit are
/// dropped and counted in `metrics`). `RUST_LOG`, when set, overrides
/// `level`. With `traces`, the request, call and backend-attempt spans are
/// exported to OpenTelemetry too (`traces.rs`); without, nothing of
/// OpenTelemetry is built. Keep the returned [`Logs`] until the end:
/// dropping it writes out the lines (and spans) still queued. Calling it
/// twice is harmless (the second call installs nothing, and its `Logs`
/// sends access lines through `tracing`).
pub fn init(
    format: LogFormat,
    level: &str,
    queue_bytes: usize,
    traces: Option<&TraceSettings>,
    metrics: &Metrics,
) -> Logs {
    let filter = log_filter(level);
    let ansi = std::io::stderr().is_terminal();
    let mut failed_traces = None;
    let otel =
        traces.and_then(
            |settings| match traces::provider(settings, metrics.span_counts()) {
                Ok(built) => Some(built),
                Err(err) => {
                    failed_traces = Some(err);
                    None
                }
            },
        );
    let (provider, tracer) = match otel {
        Some((provider, tracer)) => (Some(provider), Some(tracer)),
        None => (None, None),
    };
    let writer = match LogWriter::spawn(
        Box::new(std::io::stderr()),
        queue_bytes,
        metrics.log_drops(),
    ) {
        Ok(writer) => writer,
        Err(_) => {
            // No thread for the writer: every line straight to stderr.
            install(format, filter, ansi, std::io::stderr, tracer);
            return Logs {
                writer: None,
                access: AccessLog::default(),
                provider,
            };
        }
    };
    if !install(format, filter, ansi, writer.clone(), tracer) {
        writer.close(Duration::ZERO);
        return Logs::default();
    }
    if let Some(err) = failed_traces {
        tracing::warn!(error = %err, "traces are not exported: the exporter could not be built");
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
        provider,
    }
}

/// The log filter: `RUST_LOG`, else `level`, else `info`; the exported
/// spans ([`TRACE_TARGET`]) never shown in the log.
fn log_filter(level: &str) -> EnvFilter {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    match format!("{TRACE_TARGET}=off").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

/// Installs the fmt subscriber over `writer`, and the OpenTelemetry layer
/// when there is a `tracer`; whether it was installed.
fn install<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
    tracer: Option<Tracer>,
) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let Some(tracer) = tracer else {
        // No traces: the plain fmt subscriber, as cheap as it comes.
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(ansi)
            .with_writer(writer);
        return match format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder.json().flatten_event(true).try_init(),
        }
        .is_ok();
    };
    // Each layer filters for itself: the log shows what `filter` lets
    // through, the OpenTelemetry layer takes the exported spans whatever
    // the log level.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_target(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        // The exported spans are at `info`: debug and trace callsites stay
        // behind the global level check for this layer.
        .with_filter(filter_fn(traces::exported).with_max_level_hint(LevelFilter::INFO));
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(writer);
    let registry = tracing_subscriber::registry().with(otel);
    match format {
        LogFormat::Text => registry.with(fmt.with_filter(filter)).try_init(),
        LogFormat::Json => registry
            .with(fmt.json().flatten_event(true).with_filter(filter))
            .try_init(),
    }
    .is_ok()
}

/// The logging [`init`] set up: the access log to hand the server
/// ([`crate::http::HttpOptions::access_log`]). Dropping it writes out the
/// lines still queued, waiting up to 2 s for stderr, after the spans still
/// queued (waiting up to 2 s for the collector).
#[derive(Debug, Default)]
pub struct Logs {
    writer: Option<LogWriter>,
    access: AccessLog,
    /// The trace pipeline, when traces are exported.
    provider: Option<SdkTracerProvider>,
}

impl Logs {
    /// Where the server should write its access lines.
    pub fn access_log(&self) -> AccessLog {
        self.access.clone()
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Sends what is queued, waiting up to 2 s for the collector.
            let _ = provider.shutdown_with_timeout(EXIT_FLUSH_LIMIT);
        }
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
