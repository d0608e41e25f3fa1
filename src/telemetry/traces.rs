//! OpenTelemetry traces: the tracer provider (OTLP/HTTP protobuf export
//! through a bounded queue, a sampler), the `tracing` layer that turns the
//! spans of [`TRACE_TARGET`] into OpenTelemetry spans, and continuing a
//! client's W3C trace context.
//!
//! Off unless configured: without settings nothing here is built, and the
//! spans of [`TRACE_TARGET`] are disabled at their callsites. No global
//! state: the provider is held by [`super::Logs`], the propagator is made
//! where it is used, never installed process-wide.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
    SpanProcessor, Tracer,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::call::TRACE_TARGET;
use crate::metrics::SpanCounts;

/// The checked `[tracing]` settings (config keys, with the standard
/// `OTEL_*` variables filling what the config leaves unset).
#[derive(Clone, PartialEq)]
pub struct TraceSettings {
    /// The OTLP/HTTP traces URL spans are POSTed to (`.../v1/traces`).
    pub endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// Which traces are recorded.
    pub sampler: TraceSampler,
    /// Spans waiting for export at most; more are dropped and counted.
    pub queue_size: usize,
    /// Spans per export request at most.
    pub max_export_batch: usize,
    /// How long a span waits at most before its batch is sent.
    pub export_interval: Duration,
    /// Bound on one export request.
    pub export_timeout: Duration,
    /// Headers sent with every export (a collector's credentials).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for TraceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are credentials: only their names are shown.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("TraceSettings")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("sampler", &self.sampler)
            .field("queue_size", &self.queue_size)
            .field("max_export_batch", &self.max_export_batch)
            .field("export_interval", &self.export_interval)
            .field("export_timeout", &self.export_timeout)
            .field("headers", &names)
            .finish()
    }
}

/// Which traces are recorded: the samplers `OTEL_TRACES_SAMPLER` names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceSampler {
    /// Every trace (`always_on`).
    AlwaysOn,
    /// None (`always_off`).
    AlwaysOff,
    /// This fraction of traces, by trace id (`traceidratio`).
    Ratio(f64),
    /// The client's decision when it sent one; otherwise every trace
    /// (`parentbased_always_on`).
    ParentBasedAlwaysOn,
    /// The client's decision when it sent one; otherwise none
    /// (`parentbased_always_off`).
    ParentBasedAlwaysOff,
    /// The client's decision when it sent one; otherwise this fraction
    /// (`parentbased_traceidratio`, the default).
    ParentBasedRatio(f64),
}

impl TraceSampler {
    /// The sampler `name` (as `OTEL_TRACES_SAMPLER` spells it) with
    /// `ratio` for the ratio samplers; `None` for an unknown name.
    pub fn from_name(name: &str, ratio: f64) -> Option<TraceSampler> {
        Some(match name {
            "always_on" => TraceSampler::AlwaysOn,
            "always_off" => TraceSampler::AlwaysOff,
            "traceidratio" => TraceSampler::Ratio(ratio),
            "parentbased_always_on" => TraceSampler::ParentBasedAlwaysOn,
            "parentbased_always_off" => TraceSampler::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => TraceSampler::ParentBasedRatio(ratio),
            _ => return None,
        })
    }

    fn sdk(self) -> Sampler {
        let parent_based = |root: Sampler| Sampler::ParentBased(Box::new(root));
        match self {
            TraceSampler::AlwaysOn => Sampler::AlwaysOn,
            TraceSampler::AlwaysOff => Sampler::AlwaysOff,
            TraceSampler::Ratio(r) => Sampler::TraceIdRatioBased(r),
            TraceSampler::ParentBasedAlwaysOn => parent_based(Sampler::AlwaysOn),
            TraceSampler::ParentBasedAlwaysOff => parent_based(Sampler::AlwaysOff),
            TraceSampler::ParentBasedRatio(r) => parent_based(Sampler::TraceIdRatioBased(r)),
        }
    }
}

/// Builds the tracer provider for `settings`, counting exports and drops
/// in `counts`, and its tracer. The exporter thread starts here.
pub(super) fn provider(
    settings: &TraceSettings,
    counts: SpanCounts,
) -> Result<(SdkTracerProvider, Tracer), String> {
    // The exporter's HTTP client is reqwest's, on rustls with ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.clone())
        .with_timeout(settings.export_timeout)
        .with_headers(settings.headers.iter().cloned().collect())
        .build()
        .map_err(|e| e.to_string())?;
    let waiting = Arc::new(AtomicUsize::new(0));
    let exporter = Counting {
        inner: exporter,
        waiting: waiting.clone(),
        counts: counts.clone(),
        failing: AtomicBool::new(false),
    };
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(settings.queue_size)
        .with_max_export_batch_size(settings.max_export_batch.min(settings.queue_size))
        .with_scheduled_delay(settings.export_interval)
        .build();
    let processor = Bounded {
        inner: BatchSpanProcessor::new(exporter, batch),
        waiting,
        capacity: settings.queue_size,
        counts,
    };
    let resource = Resource::builder_empty()
        .with_service_name(settings.service_name.clone())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(settings.sampler.sdk())
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("xmlrpc-gateway");
    Ok((provider, tracer))
}

/// The batch processor behind a bound of its own: a span that finds
/// `capacity` spans already waiting (queued, or in an export under way) is
/// dropped and counted. The SDK's queue has the same capacity and so never
/// drops on its own (it would, uncounted).
#[derive(Debug)]
struct Bounded {
    inner: BatchSpanProcessor,
    /// Spans handed on and not yet through an export.
    waiting: Arc<AtomicUsize>,
    capacity: usize,
    counts: SpanCounts,
}

impl SpanProcessor for Bounded {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            self.counts.queue_full();
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP exporter, counting what each export did, and saying once in
/// the log when exports start failing and when they work again.
#[derive(Debug)]
struct Counting<E> {
    inner: E,
    waiting: Arc<AtomicUsize>,
    counts: SpanCounts,
    failing: AtomicBool,
}

impl<E: SpanExporter> SpanExporter for Counting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        self.waiting.fetch_sub(n, Ordering::AcqRel);
        match &result {
            Ok(()) => {
                self.counts.exported(n);
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::info!("trace export works again");
                }
            }
            Err(err) => {
                self.counts.export_failed(n);
                if !self.failing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(error = %export_error(err), "trace export failed; spans are dropped (and counted) until it works again");
                }
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// What a failed export says, for the log.
fn export_error(err: &OTelSdkError) -> String {
    match err {
        OTelSdkError::Timeout(limit) => format!("timed out after {limit:?}"),
        other => other.to_string(),
    }
}

/// Continues the client's trace: sets `span`'s parent from the W3C
/// `traceparent`/`tracestate` headers, when the request has them, and
/// returns the span's trace id (32 hex digits). `None` when tracing is off
/// (the span is disabled).
pub(crate) fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) -> Option<Arc<str>> {
    if span.is_disabled() {
        return None;
    }
    if headers.contains_key(TRACEPARENT) {
        let parent = TraceContextPropagator::new().extract(&Headers(headers));
        // Fails only when the span has started: it was made just now.
        let _ = span.set_parent(parent);
    }
    let cx = span.context();
    let span_context = cx.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| Arc::from(span_context.trace_id().to_string()))
}

const TRACEPARENT: &str = "traceparent";

/// Request headers read by the propagator.
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Whether `meta` is one of the spans exported (the OpenTelemetry layer's
/// filter: spans of [`TRACE_TARGET`] only, never events, so no log message
/// and no field of one reaches the collector).
pub(super) fn exported(meta: &tracing::Metadata<'_>) -> bool {
    meta.is_span() && meta.target() == TRACE_TARGET
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sampler_name_of_the_spec_is_known() {
        for name in [
            "always_on",
            "always_off",
            "traceidratio",
            "parentbased_always_on",
            "parentbased_always_off",
            "parentbased_traceidratio",
        ] {
            assert!(TraceSampler::from_name(name, 0.5).is_some(), "{name}");
        }
        assert_eq!(TraceSampler::from_name("jaeger_remote", 1.0), None);
    }

    #[test]
    fn header_values_stay_out_of_debug() {
        let settings = TraceSettings {
            endpoint: "http://c:4318/v1/traces".into(),
            service_name: "s".into(),
            sampler: TraceSampler::AlwaysOn,
            queue_size: 1,
            max_export_batch: 1,
            export_interval: Duration::from_secs(1),
            export_timeout: Duration::from_secs(1),
            headers: vec![("authorization".into(), "Bearer secret".into())],
        };
        let shown = format!("{settings:?}");
        assert!(shown.contains("authorization") && !shown.contains("secret"));
    }

    #[test]
    fn a_disabled_span_continues_nothing() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            TRACEPARENT,
            http::HeaderValue::from_static(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        );
        assert_eq!(continue_trace(&tracing::Span::none(), &headers), None);
    }
}
