//! Prometheus metrics: the families, their closed label sets, and the text
//! rendering `/metrics` serves. At the side of the pipeline: the request
//! path only writes here, never reads (rendering happens on a scrape).
//!
//! Each [`Metrics`] owns its registry (never prometheus' global default), so
//! two servers in one process, or two tests, do not share counters. There
//! is no process-wide instance: `main` makes one and hands it down (to the
//! server, to each backend's circuit breaker, to the reload loop), as an
//! embedder does with its own.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::call::{AuthFailure, Origin};

/// Every metric name starts with this.
pub(crate) const PREFIX: &str = "xmlrpc_gateway";

/// The `path` label of requests to paths that are neither RPC paths nor
/// endpoints of the gateway's own (so clients cannot mint label values).
pub(crate) const OTHER_PATH: &str = "other";

/// The `method` label of a name the routing table does not know.
pub(crate) const UNKNOWN_METHOD: &str = "unknown";

/// Seconds: 0.5 ms to 30 s.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Calls in one multicall.
const MULTICALL_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// The `calls` and `call_duration_seconds` series of one method's
/// successful calls (see [`Metrics::ok_call_series`]).
#[derive(Clone, Debug)]
pub struct CallSeries {
    calls: IntCounter,
    duration: Histogram,
}

impl CallSeries {
    /// One successful call that took `took`.
    pub fn record(&self, took: Duration) {
        self.calls.inc();
        self.duration.observe(took.as_secs_f64());
    }
}

/// A circuit breaker's state, as the `backend_circuit_state` gauge shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircuitState {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

/// How a call ended, for the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallOutcome {
    /// A value.
    Ok,
    /// A fault the client caused or the handler/backend answered with.
    Fault,
    /// The gateway or an upstream failed (timeout, transport, bug).
    Error,
}

impl CallOutcome {
    /// The outcome of a failure of this origin.
    pub(crate) fn of(origin: Origin) -> Self {
        match origin {
            Origin::Client | Origin::Handler => CallOutcome::Fault,
            Origin::Backend | Origin::Gateway => CallOutcome::Error,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Fault => "fault",
            CallOutcome::Error => "error",
        }
    }
}

/// The families. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Families>,
}

struct Families {
    registry: Registry,
    http_requests: IntCounterVec,
    http_requests_in_flight: IntGauge,
    http_connections_open: IntGauge,
    /// Label-less: resolved once, so recording is one atomic add.
    http_request_body_bytes: Histogram,
    /// Label-less: resolved once, so recording is one atomic add.
    http_response_body_bytes: Histogram,
    http_gzip: IntCounterVec,
    calls: IntCounterVec,
    call_duration: HistogramVec,
    /// Label-less: resolved once, so recording is one atomic add.
    multicall_size: Histogram,
    backend_requests: IntCounterVec,
    backend_errors: IntCounterVec,
    backend_duration: HistogramVec,
    backend_circuit_state: IntGaugeVec,
    config_reloads: IntCounterVec,
    auth_failures: IntCounterVec,
    access_decisions: IntCounterVec,
    rate_limits: IntCounterVec,
    rate_limit_store_errors: IntCounterVec,
    shadow_calls: IntCounterVec,
    access_log_dropped: IntCounter,
    log_dropped: IntCounter,
    trace_spans_exported: IntCounter,
    trace_spans_dropped: IntCounterVec,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn name(short: &str) -> String {
    format!("{PREFIX}_{short}")
}

fn counter(registry: &Registry, short: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name(short), help), labels).expect("valid counter");
    registry.register(Box::new(c.clone())).expect("unique name");
    c
}

fn histogram(
    registry: &Registry,
    short: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let opts = HistogramOpts::new(name(short), help).buckets(buckets);
    let h = HistogramVec::new(opts, labels).expect("valid histogram");
    registry.register(Box::new(h.clone())).expect("unique name");
    h
}

fn plain_counter(registry: &Registry, short: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name(short), help).expect("valid counter");
    registry.register(Box::new(c.clone())).expect("unique name");
    c
}

fn gauge(registry: &Registry, short: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name(short), help).expect("valid gauge");
    registry.register(Box::new(g.clone())).expect("unique name");
    g
}

impl Metrics {
    /// A fresh registry with every family, the build info and the process
    /// collector (CPU, memory, file descriptors).
    pub fn new() -> Self {
        let r = Registry::new();
        let bytes = prometheus::exponential_buckets(64.0, 4.0, 10).expect("valid buckets");
        let families = Families {
            http_requests: counter(
                &r,
                "http_requests_total",
                "HTTP requests answered, by path (an RPC path, an admin endpoint, or other) and status.",
                &["path", "status"],
            ),
            http_requests_in_flight: gauge(
                &r,
                "http_requests_in_flight",
                "HTTP requests being answered now.",
            ),
            http_connections_open: gauge(
                &r,
                "http_connections_open",
                "Client connections open now (main listener).",
            ),
            http_request_body_bytes: histogram(
                &r,
                "http_request_body_bytes",
                "Size of XML-RPC request bodies as received (before gunzip).",
                &[],
                bytes.clone(),
            )
            .with_label_values(&[] as &[&str]),
            http_response_body_bytes: histogram(
                &r,
                "http_response_body_bytes",
                "Size of XML-RPC response bodies as sent (after gzip).",
                &[],
                bytes,
            )
            .with_label_values(&[] as &[&str]),
            http_gzip: counter(
                &r,
                "http_gzip_total",
                "Bodies that were gzipped: direction=request (gunzipped on the way in) or response.",
                &["direction"],
            ),
            calls: counter(
                &r,
                "calls_total",
                "XML-RPC calls (multicall entries included), by method, route, the backend the call went to (a configured backend name, or none), outcome (ok, fault, error) and fault origin (none, client, handler, backend, gateway).",
                &["method", "route", "backend", "outcome", "origin"],
            ),
            call_duration: histogram(
                &r,
                "call_duration_seconds",
                "Time to answer one call (a multicall entry, or a whole multicall), by method.",
                &["method"],
                DURATION_BUCKETS.to_vec(),
            ),
            multicall_size: histogram(
                &r,
                "multicall_calls",
                "Calls in one system.multicall.",
                &[],
                MULTICALL_BUCKETS.to_vec(),
            )
            .with_label_values(&[] as &[&str]),
            backend_requests: counter(
                &r,
                "backend_requests_total",
                "Calls sent to a backend (or a connection attempted), by backend; calls refused before sending (circuit open, invalid params, method not found) are not counted here.",
                &["backend"],
            ),
            backend_errors: counter(
                &r,
                "backend_errors_total",
                "Backend calls that failed, by backend and kind (fault, timeout, refused, bad status, bad body, transport, cancelled; and circuit open, invalid params, method not found: refused before sending, so not in backend_requests_total).",
                &["backend", "kind"],
            ),
            backend_duration: histogram(
                &r,
                "backend_request_duration_seconds",
                "Time a backend took to answer (or fail, or until the call was cancelled), by backend: the requests backend_requests_total counts.",
                &["backend"],
                DURATION_BUCKETS.to_vec(),
            ),
            backend_circuit_state: {
                let g = IntGaugeVec::new(
                    Opts::new(
                        name("backend_circuit_state"),
                        "Circuit breaker state by backend: 0 closed, 1 open, 2 half-open.",
                    ),
                    &["backend"],
                )
                .expect("valid gauge");
                r.register(Box::new(g.clone())).expect("unique name");
                g
            },
            config_reloads: counter(
                &r,
                "config_reloads_total",
                "Config reloads, by result (ok, error).",
                &["result"],
            ),
            auth_failures: counter(
                &r,
                "auth_failures_total",
                "Requests or calls refused for want of valid credentials, by reason (missing, invalid, malformed).",
                &["reason"],
            ),
            access_decisions: counter(
                &r,
                "access_decisions_total",
                "Calls to routes that name roles, by the role deciding (a configured role name, or none) and outcome (allowed, denied).",
                &["role", "outcome"],
            ),
            rate_limits: counter(
                &r,
                "rate_limit_decisions_total",
                "Calls a rate limit decided on, by limit (a configured name) and outcome (allowed, limited, given_back: a token returned for an answer the limit does not count).",
                &["limit", "outcome"],
            ),
            rate_limit_store_errors: counter(
                &r,
                "rate_limit_store_errors_total",
                "Checks of a cluster rate limit the store (Redis) did not answer within rate_limit.store_timeout, or skipped while backing off after such a failure: this replica's share of the limit decided them. By limit (a configured name).",
                &["limit"],
            ),
            shadow_calls: counter(
                &r,
                "shadow_calls_total",
                "Calls copied to a route's shadow backend, by route (its method pattern) and result (match, mismatch, error: the shadow gave no answer in time or the primary was given up; dropped: max_concurrent shadow calls were running).",
                &["route", "result"],
            ),
            access_log_dropped: plain_counter(
                &r,
                "access_log_dropped_total",
                "Access log lines dropped because the queue to stderr was full (log.queue_bytes): stderr did not keep up.",
            ),
            log_dropped: plain_counter(
                &r,
                "log_dropped_total",
                "Log lines other than access lines dropped because the queue to stderr and its reserve were full.",
            ),
            trace_spans_exported: plain_counter(
                &r,
                "trace_spans_exported_total",
                "Trace spans the OTLP collector accepted (tracing.endpoint).",
            ),
            trace_spans_dropped: counter(
                &r,
                "trace_spans_dropped_total",
                "Trace spans dropped, by reason: queue_full (tracing.queue_size spans were already waiting for export), export_failed (the collector refused them, was unreachable or slower than tracing.export_timeout).",
                &["reason"],
            ),
            registry: r,
        };
        for reason in ["queue_full", "export_failed"] {
            families.trace_spans_dropped.with_label_values(&[reason]);
        }
        for result in ["ok", "error"] {
            families.config_reloads.with_label_values(&[result]);
        }
        for reason in AuthFailure::ALL {
            families.auth_failures.with_label_values(&[reason.as_str()]);
        }
        let build = IntGaugeVec::new(
            Opts::new(
                name("build_info"),
                "Always 1; the version label is the gateway's version.",
            ),
            &["version"],
        )
        .expect("valid gauge");
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        families
            .registry
            .register(Box::new(build))
            .expect("unique name");
        families
            .registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("unique name");
        Metrics {
            inner: Arc::new(families),
        }
    }

    /// The text exposition format, and its content type.
    pub fn render(&self) -> (String, String) {
        let encoder = TextEncoder::new();
        let mut buf = Vec::new();
        encoder
            .encode(&self.inner.registry.gather(), &mut buf)
            .expect("text encoding of gathered metrics");
        (
            String::from_utf8(buf).expect("text format is UTF-8"),
            encoder.format_type().to_owned(),
        )
    }

    /// One answered HTTP request. `path` must come from a closed set (see
    /// `OTHER_PATH`).
    pub fn http_request(&self, path: &str, status: u16) {
        self.inner
            .http_requests
            .with_label_values(&[path, status_label(status)])
            .inc();
    }

    /// Counts a request in flight until the guard drops.
    pub fn request_in_flight(&self) -> GaugeGuard {
        GaugeGuard::new(self.inner.http_requests_in_flight.clone())
    }

    /// Counts an open connection until the guard drops.
    pub fn connection_open(&self) -> GaugeGuard {
        GaugeGuard::new(self.inner.http_connections_open.clone())
    }

    /// Body sizes of one XML-RPC exchange, and whether each side was gzipped.
    pub fn http_bodies(
        &self,
        request_bytes: usize,
        response_bytes: usize,
        request_gzip: bool,
        response_gzip: bool,
    ) {
        let f = &self.inner;
        f.http_request_body_bytes.observe(request_bytes as f64);
        f.http_response_body_bytes.observe(response_bytes as f64);
        if request_gzip {
            f.http_gzip.with_label_values(&["request"]).inc();
        }
        if response_gzip {
            f.http_gzip.with_label_values(&["response"]).inc();
        }
    }

    /// One finished call. `method`, `route` and `backend` must come from
    /// the routing table (see `Dispatcher::method_label`), never from the
    /// client; `backend` is a configured backend's name, or `none`.
    pub fn call(
        &self,
        method: &str,
        route: &str,
        backend: &str,
        origin: Option<Origin>,
        took: Duration,
    ) {
        let outcome = origin.map_or(CallOutcome::Ok, CallOutcome::of);
        let origin = origin.map_or("none", Origin::as_str);
        self.inner
            .calls
            .with_label_values(&[method, route, backend, outcome.as_str(), origin])
            .inc();
        self.inner
            .call_duration
            .with_label_values(&[method])
            .observe(took.as_secs_f64());
    }

    /// The series of successful calls of one `method` label (which must
    /// come from the routing table), resolved once so that recording one
    /// is two atomic updates and no label lookup.
    pub fn ok_call_series(&self, method: &str, route: &str, backend: &str) -> CallSeries {
        let f = &self.inner;
        CallSeries {
            calls: f.calls.with_label_values(&[
                method,
                route,
                backend,
                CallOutcome::Ok.as_str(),
                "none",
            ]),
            duration: f.call_duration.with_label_values(&[method]),
        }
    }

    /// The size of one multicall.
    pub fn multicall(&self, calls: usize) {
        self.inner.multicall_size.observe(calls as f64);
    }

    /// One finished backend request; `error` is `BackendError::kind()` (or
    /// `cancelled`) when it failed. For a call refused before anything was
    /// sent, see [`Metrics::backend_refused`].
    pub fn backend_call(&self, backend: &str, error: Option<&str>, took: Duration) {
        let f = &self.inner;
        f.backend_requests.with_label_values(&[backend]).inc();
        f.backend_duration
            .with_label_values(&[backend])
            .observe(took.as_secs_f64());
        if let Some(kind) = error {
            f.backend_errors.with_label_values(&[backend, kind]).inc();
        }
    }

    /// One backend call refused before anything was sent (`kind` is
    /// `BackendError::kind()`: `circuit open`, `invalid params`, `method
    /// not found`): an error of that kind, but no backend request and no
    /// duration.
    pub fn backend_refused(&self, backend: &str, kind: &str) {
        self.inner
            .backend_errors
            .with_label_values(&[backend, kind])
            .inc();
    }

    /// The `backend_circuit_state` series of one backend, for its circuit
    /// breaker to write to.
    pub fn circuit_gauge(&self, backend: &str) -> CircuitGauge {
        CircuitGauge(
            self.inner
                .backend_circuit_state
                .with_label_values(&[backend]),
        )
    }

    /// Counts a config reload.
    pub fn config_reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.inner.config_reloads.with_label_values(&[result]).inc();
    }

    /// The counters of trace spans exported and dropped, for the trace
    /// exporter to count into.
    pub fn span_counts(&self) -> SpanCounts {
        let dropped = &self.inner.trace_spans_dropped;
        SpanCounts {
            exported: self.inner.trace_spans_exported.clone(),
            queue_full: dropped.with_label_values(&["queue_full"]),
            export_failed: dropped.with_label_values(&["export_failed"]),
        }
    }

    /// The counters of log lines dropped on the way to stderr, for the
    /// log writer to count into.
    pub fn log_drops(&self) -> LogDrops {
        LogDrops {
            access: self.inner.access_log_dropped.clone(),
            other: self.inner.log_dropped.clone(),
        }
    }
}

impl Metrics {
    /// One decision on a route that names roles; `role` is a configured
    /// role name or `none`.
    pub(crate) fn access_decision(&self, role: &str, allowed: bool) {
        let outcome = if allowed { "allowed" } else { "denied" };
        self.inner
            .access_decisions
            .with_label_values(&[role, outcome])
            .inc();
    }

    /// One rate limit decision; `limit` is a configured name.
    pub(crate) fn rate_limit(&self, limit: &str, outcome: &str) {
        self.inner
            .rate_limits
            .with_label_values(&[limit, outcome])
            .inc();
    }

    /// One check of a cluster limit the store did not answer.
    pub(crate) fn rate_limit_store_error(&self, limit: &str) {
        self.inner
            .rate_limit_store_errors
            .with_label_values(&[limit])
            .inc();
    }

    /// One shadow call's result; `route` is a configured route pattern.
    pub(crate) fn shadow_call(&self, route: &str, result: &str) {
        self.inner
            .shadow_calls
            .with_label_values(&[route, result])
            .inc();
    }

    /// Makes a route's shadow series show (at zero) before its first call.
    pub(crate) fn shadow_route(&self, route: &str, results: &[&str]) {
        for result in results {
            self.inner.shadow_calls.with_label_values(&[route, result]);
        }
    }

    /// One request (or multicall entry) refused for want of credentials.
    pub fn auth_failure(&self, reason: AuthFailure) {
        self.inner
            .auth_failures
            .with_label_values(&[reason.as_str()])
            .inc();
    }
}

/// One backend's circuit state series: the handle a circuit breaker is
/// given. A breaker without one (a detached backend in a unit test) shows
/// nothing.
#[derive(Clone, Debug)]
pub struct CircuitGauge(IntGauge);

impl CircuitGauge {
    /// Shows `state`.
    pub fn set(&self, state: CircuitState) {
        self.0.set(state as i64);
    }
}

/// The counters a log writer counts dropped lines in: access lines
/// (`access_log_dropped_total`) and every other line (`log_dropped_total`).
#[derive(Clone, Debug)]
pub struct LogDrops {
    access: IntCounter,
    other: IntCounter,
}

impl LogDrops {
    /// One access line dropped.
    pub fn access(&self) {
        self.access.inc();
    }

    /// One other line dropped.
    pub fn other(&self) {
        self.other.inc();
    }
}

/// The counters of trace spans exported and dropped
/// (`trace_spans_exported_total`, `trace_spans_dropped_total`): the handle
/// the trace exporter counts into.
#[derive(Clone, Debug)]
pub struct SpanCounts {
    exported: IntCounter,
    queue_full: IntCounter,
    export_failed: IntCounter,
}

impl SpanCounts {
    /// `n` spans the collector accepted.
    pub fn exported(&self, n: usize) {
        self.exported.inc_by(n as u64);
    }

    /// One span dropped because the export queue was full.
    pub fn queue_full(&self) {
        self.queue_full.inc();
    }

    /// `n` spans lost to a failed export.
    pub fn export_failed(&self, n: usize) {
        self.export_failed.inc_by(n as u64);
    }
}

/// Increments a gauge now and decrements it when dropped.
#[derive(Debug)]
pub struct GaugeGuard(IntGauge);

impl GaugeGuard {
    fn new(gauge: IntGauge) -> Self {
        gauge.inc();
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A status code as label text, without allocating: every status the
/// gateway answers with, else `other` (a closed set).
fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        415 => "415",
        429 => "429",
        431 => "431",
        500 => "500",
        503 => "503",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_prefix_and_build_info() {
        let m = Metrics::new();
        m.http_request("/RPC2", 200);
        m.call(
            "add",
            "handler:add",
            "none",
            Some(Origin::Client),
            Duration::from_millis(3),
        );
        m.backend_call("inv", Some("timeout"), Duration::from_millis(5));
        m.circuit_gauge("inv").set(CircuitState::HalfOpen);
        let (text, content_type) = m.render();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        for line in [
            "xmlrpc_gateway_http_requests_total{path=\"/RPC2\",status=\"200\"} 1",
            "xmlrpc_gateway_calls_total{backend=\"none\",method=\"add\",origin=\"client\",outcome=\"fault\",route=\"handler:add\"} 1",
            "xmlrpc_gateway_backend_errors_total{backend=\"inv\",kind=\"timeout\"} 1",
            "xmlrpc_gateway_backend_circuit_state{backend=\"inv\"} 2",
            "xmlrpc_gateway_config_reloads_total{result=\"ok\"} 0",
            "xmlrpc_gateway_auth_failures_total{reason=\"invalid\"} 0",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(text.contains(&format!(
            "xmlrpc_gateway_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
    }

    #[test]
    fn refusals_before_sending_are_errors_not_requests() {
        let m = Metrics::new();
        m.backend_call("inv", Some("timeout"), Duration::from_millis(5));
        m.backend_refused("inv", "circuit open");
        let (text, _) = m.render();
        for line in [
            "xmlrpc_gateway_backend_requests_total{backend=\"inv\"} 1",
            "xmlrpc_gateway_backend_request_duration_seconds_count{backend=\"inv\"} 1",
            "xmlrpc_gateway_backend_errors_total{backend=\"inv\",kind=\"circuit open\"} 1",
            "xmlrpc_gateway_backend_errors_total{backend=\"inv\",kind=\"timeout\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }

    #[test]
    fn gauge_guards_go_back_down() {
        let m = Metrics::new();
        {
            let _a = m.request_in_flight();
            let _b = m.request_in_flight();
            assert!(
                m.render()
                    .0
                    .contains("xmlrpc_gateway_http_requests_in_flight 2")
            );
        }
        assert!(
            m.render()
                .0
                .contains("xmlrpc_gateway_http_requests_in_flight 0")
        );
    }
}
