//! OpenTelemetry traces on the real binary, exported to a stand-in
//! collector (`tests/standins/otlp_collector.py`, decoding OTLP/HTTP
//! protobuf with PyPI's `opentelemetry-proto`): the span tree of a call, a
//! multicall and a retried backend call; `traceparent` sent to the
//! backend with the attempt span's id; an incoming trace continued; a
//! collector that is down costing calls nothing.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::{
    Binary, StandIn, call_xml, get, post, python_module_available, raw, sample_value, wait_until,
};
use serde_json::Value as Json;

const SERVER: i64 = 2;
const CLIENT: i64 = 3;
const STATUS_ERROR: i64 = 2;

fn collector() -> Option<StandIn> {
    python_module_available("opentelemetry.proto", "opentelemetry-proto (pip)")
        .then(|| StandIn::start("otlp_collector.py", &[]))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn addr_of(standin: &StandIn) -> SocketAddr {
    format!("127.0.0.1:{}", standin.port).parse().unwrap()
}

fn spans(collector: &StandIn) -> Vec<Json> {
    let resp = get(addr_of(collector), "/spans");
    assert_eq!(resp.status, 200);
    serde_json::from_slice(&resp.body).unwrap()
}

/// The spans of one trace, once `count` of them have arrived.
fn trace_of(collector: &StandIn, trace_id: &str, count: usize) -> Vec<Json> {
    let of_trace = || -> Vec<Json> {
        spans(collector)
            .into_iter()
            .filter(|s| s["trace_id"] == trace_id)
            .collect()
    };
    wait_until(Duration::from_secs(10), || of_trace().len() >= count);
    of_trace()
}

fn children<'a>(spans: &'a [Json], parent: &Json) -> Vec<&'a Json> {
    spans
        .iter()
        .filter(|s| s["parent_span_id"] == parent["span_id"])
        .collect()
}

/// A gateway exporting to `collector` every 50 ms, with a JSON-RPC backend
/// (the collector's recording `/rpc`), a dead one retried once, and a dead
/// one whose circuit opens at the first failure.
fn gateway(collector: &StandIn, env: &[(&str, &str)]) -> Binary {
    let config = format!(
        r#"
[tracing]
export_interval = "50ms"

[backends.inventory]
kind = "jsonrpc"
url = "{}/rpc"

[backends.dead]
kind = "jsonrpc"
url = "http://127.0.0.1:{}/rpc"
retries = 1

[backends.fragile]
kind = "jsonrpc"
url = "http://127.0.0.1:{}/rpc"
circuit_breaker = {{ failures = 1, open_for = "1h" }}

[[routes]]
method = "add"
handler = "add"

[[routes]]
method = "fragile.get"
backend = "fragile"

[[routes]]
method = "inventory.*"
backend = "inventory"

[[routes]]
method = "dead.get"
backend = "dead"
idempotent = true
"#,
        collector.url(),
        free_port(),
        free_port()
    );
    let endpoint = collector.url();
    let mut all = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "gateway-under-test"),
    ];
    all.extend_from_slice(env);
    Binary::start_env(&config, &all)
}

/// The trace id the access line of the last request names.
fn last_trace_id(gw: &Binary) -> String {
    let mut id = None;
    wait_until(Duration::from_secs(5), || {
        id = gw
            .logs()
            .iter()
            .rev()
            .find(|l| l["target"] == "access")
            .and_then(|l| l["trace_id"].as_str().map(str::to_owned));
        id.is_some()
    });
    id.unwrap()
}

#[test]
fn a_call_is_one_trace_and_the_backend_gets_the_attempts_span_id() {
    let Some(collector) = collector() else { return };
    let gw = gateway(&collector, &[]);
    let body = call_xml("inventory.get", &["<string>s3cret-param</string>"]);
    let r = raw(gw.addr, &post("/RPC2", &[], body.as_bytes()));
    assert!(r.text().contains("s3cret-param"), "{}", r.text());
    let trace_id = last_trace_id(&gw);
    assert_eq!(trace_id.len(), 32);
    let spans = trace_of(&collector, &trace_id, 3);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let root = spans.iter().find(|s| s["parent_span_id"] == "").unwrap();
    assert_eq!(root["name"], "POST /RPC2");
    assert_eq!(root["kind"], SERVER);
    assert_eq!(root["service_name"], "gateway-under-test");
    assert_eq!(root["attributes"]["rpc.system"], "xmlrpc");
    assert_eq!(root["attributes"]["http.response.status_code"], 200);
    let calls = children(&spans, root);
    assert_eq!(calls.len(), 1, "{spans:#?}");
    // Named by the bounded method label: the route's pattern.
    assert_eq!(calls[0]["name"], "inventory.*");
    assert_eq!(calls[0]["attributes"]["rpc.method"], "inventory.*");
    let attempts = children(&spans, calls[0]);
    assert_eq!(attempts.len(), 1, "{spans:#?}");
    let attempt = attempts[0];
    assert_eq!(attempt["kind"], CLIENT);
    assert_eq!(attempt["attributes"]["http.response.status_code"], 200);
    assert_eq!(attempt["attributes"]["server.address"], "127.0.0.1");
    // The backend continued from the attempt span.
    let received = collector.requests();
    let sent = received.last().unwrap()["traceparent"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sent,
        format!("00-{trace_id}-{}-01", attempt["span_id"].as_str().unwrap())
    );
    // No param value anywhere in what was exported.
    let exported = serde_json::to_string(&spans).unwrap();
    assert!(!exported.contains("s3cret-param"), "{exported}");
}

#[test]
fn a_multicall_has_a_span_per_entry() {
    let Some(collector) = collector() else { return };
    let gw = gateway(&collector, &[]);
    let entry = |name: &str| {
        format!(
            "<value><struct><member><name>methodName</name><value><string>{name}</string></value></member><member><name>params</name><value><array><data><value><int>1</int></value></data></array></value></member></struct></value>"
        )
    };
    let body = call_xml(
        "system.multicall",
        &[&format!(
            "<array><data>{}{}{}</data></array>",
            entry("inventory.a"),
            entry("inventory.b"),
            entry("add")
        )],
    );
    let r = raw(gw.addr, &post("/RPC2", &[], body.as_bytes()));
    assert_eq!(r.status, 200);
    let trace_id = last_trace_id(&gw);
    // request, multicall, three entries, two backend attempts.
    let spans = trace_of(&collector, &trace_id, 7);
    let root = spans.iter().find(|s| s["parent_span_id"] == "").unwrap();
    let multicall = children(&spans, root);
    assert_eq!(multicall.len(), 1);
    assert_eq!(multicall[0]["name"], "system.multicall");
    let mut entries: Vec<&str> = children(&spans, multicall[0])
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    entries.sort_unstable();
    assert_eq!(entries, ["add", "inventory.*", "inventory.*"], "{spans:#?}");
    for entry in children(&spans, multicall[0]) {
        let attempts = children(&spans, entry).len();
        let expected = usize::from(entry["name"] == "inventory.*");
        assert_eq!(attempts, expected, "{spans:#?}");
    }
}

#[test]
fn a_retried_backend_call_shows_each_attempt() {
    let Some(collector) = collector() else { return };
    let gw = gateway(&collector, &[]);
    let r = raw(
        gw.addr,
        &post("/RPC2", &[], call_xml("dead.get", &[]).as_bytes()),
    );
    assert!(r.text().contains("faultCode"), "{}", r.text());
    let trace_id = last_trace_id(&gw);
    let spans = trace_of(&collector, &trace_id, 4);
    let call = spans.iter().find(|s| s["name"] == "dead.get").unwrap();
    assert_eq!(call["status_code"], STATUS_ERROR);
    assert_eq!(call["attributes"]["error.type"], "backend");
    let attempts = children(&spans, call);
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    for attempt in &attempts {
        assert_eq!(attempt["status_code"], STATUS_ERROR);
        assert_eq!(attempt["attributes"]["error.type"], "refused");
    }
    // The warning names the trace too.
    let warned = gw
        .logs()
        .iter()
        .any(|l| l["message"] == "backend call failed" && l["trace_id"] == trace_id.as_str());
    assert!(warned, "{:#?}", gw.logs());
    let resends: Vec<&Json> = attempts
        .iter()
        .map(|a| &a["attributes"]["http.request.resend_count"])
        .collect();
    assert!(resends.contains(&&Json::from(1)), "{spans:#?}");
}

#[test]
fn an_incoming_trace_is_continued() {
    let Some(collector) = collector() else { return };
    let gw = gateway(&collector, &[]);
    let given_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let given_span = "00f067aa0ba902b7";
    let header = format!("traceparent: 00-{given_trace}-{given_span}-01");
    let r = raw(
        gw.addr,
        &post("/RPC2", &[&header], call_xml("inventory.x", &[]).as_bytes()),
    );
    assert_eq!(r.status, 200);
    assert_eq!(last_trace_id(&gw), given_trace);
    let spans = trace_of(&collector, given_trace, 3);
    let root = spans.iter().find(|s| s["kind"] == SERVER).unwrap();
    assert_eq!(root["parent_span_id"], given_span);
}

#[test]
fn a_collector_that_is_down_costs_calls_nothing() {
    let Some(collector) = collector() else { return };
    let down = format!("http://127.0.0.1:{}", free_port());
    let gw = gateway(
        &collector,
        &[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &format!("{down}/v1/traces"),
        )],
    );
    for _ in 0..3 {
        let r = raw(
            gw.addr,
            &post(
                "/RPC2",
                &[],
                call_xml("inventory.get", &["<int>7</int>"]).as_bytes(),
            ),
        );
        assert_eq!(r.status, 200);
        assert!(
            r.text().contains("<int>7</int>") && !r.text().contains("fault"),
            "{}",
            r.text()
        );
    }
    wait_until(Duration::from_secs(10), || {
        let metrics = get(gw.addr, "/metrics").text();
        sample_value(
            &metrics,
            r#"xmlrpc_gateway_trace_spans_dropped_total{reason="export_failed"}"#,
        ) >= 1.0
    });
    assert!(spans(&collector).is_empty(), "the signal variable wins");
    // Said once (the metric may be counted before the line is written).
    let failed = "trace export failed; spans are dropped (and counted) until it works again";
    wait_until(Duration::from_secs(5), || gw.count_logged(failed) >= 1);
    assert_eq!(gw.count_logged(failed), 1);
}

#[test]
fn spans_beyond_the_queue_are_dropped_and_counted_never_waited_for() {
    let Some(collector) = collector() else { return };
    // A collector that takes the connection and never answers: the first
    // span's export hangs, the queue of one stays full.
    let hanging = common::SilentServer::start();
    let endpoint = format!("http://{}/v1/traces", hanging.addr);
    let gw = gateway(
        &collector,
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint),
            ("XMLRPC_GATEWAY__TRACING__QUEUE_SIZE", "1"),
            ("XMLRPC_GATEWAY__TRACING__EXPORT_TIMEOUT", "60s"),
        ],
    );
    for _ in 0..3 {
        let r = raw(
            gw.addr,
            &post(
                "/RPC2",
                &[],
                call_xml("inventory.get", &["<int>7</int>"]).as_bytes(),
            ),
        );
        assert!(r.text().contains("<int>7</int>"), "{}", r.text());
    }
    // Three calls, three spans each: one waits, the others are dropped.
    wait_until(Duration::from_secs(10), || {
        let metrics = get(gw.addr, "/metrics").text();
        sample_value(
            &metrics,
            r#"xmlrpc_gateway_trace_spans_dropped_total{reason="queue_full"}"#,
        ) >= 8.0
    });
    assert!(hanging.accepted() >= 1);
}

#[test]
fn check_config_refuses_a_bad_otel_variable_by_its_key() {
    let run = |env: &[(&str, &str)]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
            .arg("check-config")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    assert!(run(&[]).status.success());
    let out = run(&[("OTEL_TRACES_SAMPLER", "sometimes")]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tracing.sampler"), "{stderr}");
    let out = run(&[("OTEL_TRACES_SAMPLER_ARG", "2")]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn spans_still_queued_are_sent_at_exit() {
    let Some(collector) = collector() else { return };
    // Batches would wait an hour: only the exit sends them.
    let mut gw = gateway(
        &collector,
        &[("XMLRPC_GATEWAY__TRACING__EXPORT_INTERVAL", "1h")],
    );
    let r = raw(
        gw.addr,
        &post(
            "/RPC2",
            &[],
            call_xml("add", &["<int>1</int>", "<int>2</int>"]).as_bytes(),
        ),
    );
    assert!(r.text().contains("<int>3</int>"), "{}", r.text());
    let trace_id = last_trace_id(&gw);
    assert!(spans(&collector).is_empty());
    gw.signal("TERM");
    assert!(
        gw.wait_exit(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    assert_eq!(trace_of(&collector, &trace_id, 2).len(), 2);
}

#[test]
fn the_breakers_refusal_is_a_span() {
    let Some(collector) = collector() else { return };
    let gw = gateway(&collector, &[]);
    let call = call_xml("fragile.get", &[]);
    // The first call fails to connect and opens the circuit.
    let r = raw(gw.addr, &post("/RPC2", &[], call.as_bytes()));
    assert!(r.text().contains("-32305"), "{}", r.text());
    let r = raw(gw.addr, &post("/RPC2", &[], call.as_bytes()));
    assert!(r.text().contains("-32302"), "{}", r.text());
    let trace_id = last_trace_id(&gw);
    let spans = trace_of(&collector, &trace_id, 3);
    let call = spans.iter().find(|s| s["name"] == "fragile.get").unwrap();
    let refused = children(&spans, call);
    assert_eq!(refused.len(), 1, "{spans:#?}");
    assert_eq!(refused[0]["name"], "circuit open");
    assert_eq!(refused[0]["status_code"], STATUS_ERROR);
    assert_eq!(refused[0]["attributes"]["error.type"], "circuit_open");
}
