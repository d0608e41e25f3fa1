//! Operations: the admin endpoints (where they are served, config checks),
//! what the metrics count and that clients cannot grow their label sets,
//! request ids in the logs, and graceful shutdown of the real binary.

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Binary, Gateway, call_xml, get, post, raw, rpc, sample_value, samples};
use xmlrpc_gateway::config::{Config, ConfigError};

fn ok_int(resp: &common::RawResponse, want: i64) {
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(
        resp.text().contains(&format!("<int>{want}</int>")),
        "{}",
        resp.text()
    );
}

/// A `system.multicall` body calling each name with no params.
fn multicall_xml(names: &[String]) -> String {
    let entries: String = names
        .iter()
        .map(|n| {
            format!(
                "<value><struct><member><name>methodName</name><value><string>{n}</string></value></member><member><name>params</name><value><array><data/></array></value></member></struct></value>"
            )
        })
        .collect();
    call_xml(
        "system.multicall",
        &[&format!("<array><data>{entries}</data></array>")],
    )
}

#[test]
fn endpoints_are_served_on_the_main_listener_by_default() {
    let gw = Gateway::start("");
    let health = get(gw.addr, "/healthz");
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"));
    assert_eq!(get(gw.addr, "/readyz").status, 200);
    let metrics = get(gw.addr, "/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    assert!(
        metrics
            .text()
            .contains("xmlrpc_gateway_build_info{version=")
    );
    assert!(metrics.text().contains("process_resident_memory_bytes"));
    let posted = raw(gw.addr, &post("/metrics", &[], b""));
    assert_eq!(posted.status, 405);
    assert_eq!(posted.header("allow"), Some("GET, HEAD"));
    // RPC paths still work beside them.
    ok_int(&rpc(gw.addr, "add", &["<int>2</int>", "<int>3</int>"]), 5);
    let text = gw.metrics();
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_http_requests_total{path="/healthz",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_http_requests_total{path="/RPC2",status="200"}"#
        ),
        1.0
    );
}

#[test]
fn an_admin_listener_takes_the_endpoints_off_the_main_one() {
    let gw = Gateway::start("[admin]\nlisten = \"127.0.0.1:0\"\n");
    let admin = gw.admin_addr.expect("admin listener bound");
    assert_ne!(admin, gw.addr);
    for path in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(get(gw.addr, path).status, 404, "main {path}");
        assert_eq!(get(admin, path).status, 200, "admin {path}");
    }
    let rpc_on_admin = raw(
        admin,
        &post("/RPC2", &[], call_xml("add", &["<int>1</int>"]).as_bytes()),
    );
    assert_eq!(rpc_on_admin.status, 404);
    // The admin listener shows the main listener's counts.
    ok_int(&rpc(gw.addr, "add", &["<int>2</int>", "<int>3</int>"]), 5);
    assert_eq!(
        sample_value(
            &gw.metrics(),
            r#"xmlrpc_gateway_calls_total{backend="none",method="add",origin="none",outcome="ok",route="handler:add"}"#
        ),
        1.0
    );
}

#[test]
fn endpoints_take_precedence_when_every_path_is_an_rpc_path() {
    let gw = Gateway::start("[server]\nrpc_paths = []\n");
    assert_eq!(get(gw.addr, "/healthz").text(), "ok\n");
    assert_eq!(get(gw.addr, "/metrics").status, 200);
    ok_int(
        &raw(
            gw.addr,
            &post(
                "/any/where",
                &[],
                call_xml("add", &["<int>1</int>", "<int>1</int>"]).as_bytes(),
            ),
        ),
        2,
    );
    // Every path is an RPC path: the label is "*", not the client's path.
    let text = gw.metrics();
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_http_requests_total{path="*",status="200"}"#
        ),
        1.0
    );
    assert!(!text.contains("/any/where"));
}

#[test]
fn metrics_can_be_switched_off_and_moved() {
    let gw = Gateway::start("[admin]\nmetrics = false\n");
    assert_eq!(get(gw.addr, "/metrics").status, 404);
    assert_eq!(get(gw.addr, "/healthz").status, 200);
    let gw = Gateway::start("[admin]\nmetrics_path = \"/_/prom\"\nready_path = \"/_/ready\"\n");
    assert_eq!(get(gw.addr, "/_/prom").status, 200);
    assert_eq!(get(gw.addr, "/_/ready").status, 200);
    assert_eq!(get(gw.addr, "/metrics").status, 404);
}

fn settings_error(extra: &str) -> String {
    let dir = common::TempDir::new();
    let file = dir.0.join("gateway.toml");
    std::fs::write(&file, extra).unwrap();
    let cfg = Config::load(Some(&file), &HashMap::new()).expect("loads");
    match cfg.settings() {
        Err(ConfigError::Invalid { key, .. }) => key,
        Err(other) => panic!("{extra}: not a key error: {other}"),
        Ok(_) => panic!("{extra}: accepted"),
    }
}

#[test]
fn admin_paths_must_not_collide_with_rpc_paths_or_each_other() {
    for (extra, key) in [
        (
            "[server]\nrpc_paths = [\"/metrics\"]\n",
            "admin.metrics_path",
        ),
        ("[admin]\nhealth_path = \"/RPC2\"\n", "admin.health_path"),
        ("[admin]\nready_path = \"/\"\n", "admin.ready_path"),
        ("[admin]\nready_path = \"/healthz\"\n", "admin.ready_path"),
        (
            "[admin]\nmetrics_path = \"metrics\"\n",
            "admin.metrics_path",
        ),
        ("[admin]\nlisten = \"not an address\"\n", "admin.listen"),
        // Also with a listener of their own: moving them back must stay valid.
        (
            "[admin]\nlisten = \"127.0.0.1:0\"\nmetrics_path = \"/RPC2\"\n",
            "admin.metrics_path",
        ),
    ] {
        assert_eq!(settings_error(extra), key, "{extra}");
    }
    // Switched off, the metrics path may be an RPC path.
    let dir = common::TempDir::new();
    let file = dir.0.join("ok.toml");
    std::fs::write(
        &file,
        "[server]\nrpc_paths = [\"/metrics\"]\n[admin]\nmetrics = false\n",
    )
    .unwrap();
    assert!(
        Config::load(Some(&file), &HashMap::new())
            .unwrap()
            .settings()
            .is_ok()
    );
}

#[test]
fn the_binary_exits_64_naming_the_colliding_key() {
    let dir = common::TempDir::new();
    let file = dir.0.join("bad.toml");
    std::fs::write(&file, "[admin]\nhealth_path = \"/RPC2\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
        .arg("--config")
        .arg(&file)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("admin.health_path"), "{stderr}");
}

#[test]
fn calls_are_counted_by_method_route_outcome_and_origin() {
    let gw = Gateway::start(
        &[
            // A file's [[routes]] replace the default ones.
            "[[routes]]\nmethod = \"sleep\"\nhandler = \"sleep\"\ntimeout = \"50ms\"\n",
            "[[routes]]\nmethod = \"calc.*\"\nhandler = \"echo\"\n",
            "[[routes]]\nmethod = \"add\"\nhandler = \"add\"\n",
            "[[routes]]\nmethod = \"div\"\nhandler = \"div\"\n",
            "[[routes]]\nmethod = \"echo\"\nhandler = \"echo\"\n",
        ]
        .concat(),
    );
    ok_int(&rpc(gw.addr, "add", &["<int>2</int>", "<int>3</int>"]), 5);
    rpc(gw.addr, "div", &["<int>1</int>", "<int>0</int>"]);
    rpc(gw.addr, "no.such.method", &[]);
    rpc(gw.addr, "sleep", &["<int>2000</int>"]);
    ok_int(&rpc(gw.addr, "calc.anything", &["<int>7</int>"]), 7);
    let names: Vec<String> = ["add", "system.listMethods", "nope"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let resp = raw(
        gw.addr,
        &post("/RPC2", &[], multicall_xml(&names).as_bytes()),
    );
    assert_eq!(resp.status, 200);
    let gz = common::gzip(call_xml("echo", &["<int>1</int>"]).as_bytes());
    let resp = raw(gw.addr, &post("/RPC2", &["Content-Encoding: gzip"], &gz));
    ok_int(&resp, 1);

    let text = gw.metrics();
    let calls =
        |labels: &str| sample_value(&text, &format!("xmlrpc_gateway_calls_total{{{labels}}}"));
    assert_eq!(
        calls(r#"backend="none",method="add",origin="none",outcome="ok",route="handler:add""#),
        1.0
    );
    assert_eq!(
        calls(
            r#"backend="none",method="div",origin="handler",outcome="fault",route="handler:div""#
        ),
        1.0
    );
    assert_eq!(
        calls(r#"backend="none",method="unknown",origin="client",outcome="fault",route="none""#),
        2.0,
        "no.such.method, and nope in the multicall\n{text}"
    );
    assert_eq!(
        calls(
            r#"backend="none",method="sleep",origin="gateway",outcome="error",route="handler:sleep""#
        ),
        1.0
    );
    assert_eq!(
        calls(r#"backend="none",method="calc.*",origin="none",outcome="ok",route="handler:echo""#),
        1.0
    );
    assert_eq!(
        calls(
            r#"backend="none",method="system.multicall",origin="none",outcome="ok",route="system""#
        ),
        1.0
    );
    assert_eq!(
        calls(
            r#"backend="none",method="system.listMethods",origin="none",outcome="ok",route="system""#
        ),
        1.0
    );
    assert_eq!(
        sample_value(&text, "xmlrpc_gateway_multicall_calls_count"),
        1.0
    );
    assert_eq!(
        sample_value(&text, "xmlrpc_gateway_multicall_calls_sum"),
        3.0
    );
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_http_gzip_total{direction="request"}"#
        ),
        1.0
    );
    assert_eq!(
        sample_value(&text, "xmlrpc_gateway_http_request_body_bytes_count"),
        7.0
    );
    assert!(sample_value(&text, "xmlrpc_gateway_http_response_body_bytes_sum") > 0.0);
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_call_duration_seconds_count{method="add"}"#
        ),
        2.0,
        "one single call and one multicall entry"
    );
    // The metrics request itself is the only one in flight.
    assert_eq!(
        sample_value(&text, "xmlrpc_gateway_http_requests_in_flight"),
        0.0
    );
    assert!(sample_value(&text, "xmlrpc_gateway_http_connections_open") >= 1.0);
}

/// Random-looking method names, some under a prefix route, some `system.`.
fn random_names(n: usize, seed: u64) -> Vec<String> {
    let mut x = seed;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match i % 3 {
                0 => format!("calc.m{x:x}"),
                1 => format!("system.m{x:x}"),
                _ => format!("m{x:x}"),
            }
        })
        .collect()
}

#[test]
fn random_method_names_do_not_add_series() {
    let gw = Gateway::start("[[routes]]\nmethod = \"calc.*\"\nhandler = \"echo\"\n");
    let count_series = |text: &str| {
        samples(text, "xmlrpc_gateway_calls_total").len()
            + samples(text, "xmlrpc_gateway_call_duration_seconds_bucket").len()
    };
    // Warm up: one name of each kind, so every label value exists.
    let send = |names: &[String]| {
        for chunk in names.chunks(100) {
            let resp = raw(
                gw.addr,
                &post("/RPC2", &[], multicall_xml(chunk).as_bytes()),
            );
            assert_eq!(resp.status, 200);
        }
    };
    send(&random_names(3, 1));
    for name in random_names(3, 2) {
        rpc(gw.addr, &name, &[]);
    }
    let before = gw.metrics();
    send(&random_names(1000, 3));
    for name in random_names(30, 4) {
        rpc(gw.addr, &name, &[]);
    }
    let after = gw.metrics();
    eprintln!(
        "series before: {}, after 1,030 random names: {}; total lines before {}, after {}",
        count_series(&before),
        count_series(&after),
        before.lines().count(),
        after.lines().count()
    );
    assert_eq!(count_series(&before), count_series(&after));
    assert_eq!(
        sample_value(
            &after,
            r#"xmlrpc_gateway_calls_total{backend="none",method="unknown",origin="client",outcome="fault",route="none"}"#
        ),
        sample_value(
            &before,
            r#"xmlrpc_gateway_calls_total{backend="none",method="unknown",origin="client",outcome="fault",route="none"}"#
        ) + 686.0,
        "the 2/3 of names outside calc.* are unknown"
    );
}

#[test]
fn the_request_id_is_in_every_log_line_of_its_request() {
    let bin = Binary::start("[log]\nlevel = \"debug\"\n");
    let body = call_xml("no.such", &[]);
    let resp = raw(
        bin.addr,
        &post("/RPC2", &["X-Request-Id: trace-me-42"], body.as_bytes()),
    );
    assert_eq!(resp.header("x-request-id"), Some("trace-me-42"));
    let fresh = rpc(bin.addr, "add", &["<int>1</int>", "<int>1</int>"]);
    let fresh_id = fresh.header("x-request-id").unwrap().to_owned();
    assert_eq!(fresh_id.len(), 16);
    // The access line is logged after the response is sent: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = bin.logs();
        let access = logs
            .iter()
            .filter(|l| l["target"] == "access" && l["message"] == "request")
            .count();
        if access >= 2 || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let request_id_of = |line: &serde_json::Value| {
        line["span"]["request_id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let access: Vec<&serde_json::Value> = logs
        .iter()
        .filter(|l| l["target"] == "access" && l["message"] == "request")
        .collect();
    assert_eq!(access.len(), 2, "{logs:#?}");
    let first = access[0];
    for field in [
        "peer",
        "path",
        "method",
        "status",
        "duration_ms",
        "http_method",
    ] {
        assert!(
            !first[field].is_null(),
            "access line lacks {field}: {first}"
        );
    }
    assert_eq!(first["request_id"], "trace-me-42");
    assert_eq!(first["method"], "no.such");
    assert_eq!(first["status"], 200);
    assert_eq!(request_id_of(first), "trace-me-42");
    assert_eq!(access[1]["request_id"], fresh_id.as_str());
    // The dispatcher's own line about the call carries the id, through the span.
    let dispatch_line = logs
        .iter()
        .find(|l| l["message"] == "call faulted")
        .unwrap_or_else(|| panic!("no dispatch line in {logs:#?}"));
    assert_eq!(request_id_of(dispatch_line), "trace-me-42");
}

const SLOW: &str =
    "[limits]\ndrain_timeout = \"10s\"\n\n[[routes]]\nmethod = \"sleep\"\nhandler = \"sleep\"\n";

/// Starts `n` calls of `sleep(ms)` and waits until all are in flight.
fn start_slow_calls(
    addr: SocketAddr,
    metrics_addr: SocketAddr,
    n: usize,
    ms: i64,
) -> Vec<std::thread::JoinHandle<Option<common::RawResponse>>> {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            std::thread::spawn(move || {
                let body = call_xml("sleep", &[&format!("<int>{ms}</int>")]);
                let mut stream = TcpStream::connect(addr).ok()?;
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                use std::io::Write;
                stream
                    .write_all(&post("/RPC2", &[], body.as_bytes()))
                    .ok()?;
                let resp = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    common::read_response(&mut stream)
                }))
                .ok()?;
                (resp.status != 0).then_some(resp)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = get(metrics_addr, "/metrics").text();
        if sample_value(&text, "xmlrpc_gateway_http_requests_in_flight") >= n as f64 {
            break;
        }
        assert!(Instant::now() < deadline, "calls never got in flight");
        std::thread::sleep(Duration::from_millis(20));
    }
    calls
}

/// Polls until connecting to `addr` is refused.
fn wait_refused(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        assert!(Instant::now() < deadline, "the listener still accepts");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_finishes_every_call_in_flight_then_exits_0() {
    let mut bin = Binary::start(SLOW);
    let n = 8;
    let calls = start_slow_calls(bin.addr, bin.addr, n, 1500);
    let signalled = Instant::now();
    bin.signal("TERM");
    wait_refused(bin.addr);
    for call in calls {
        let resp = call.join().unwrap().expect("the call got an answer");
        ok_int(&resp, 1500);
        assert_eq!(resp.header("connection"), Some("close"));
    }
    let status = bin
        .wait_exit(Duration::from_secs(10))
        .expect("exits within the drain timeout");
    assert_eq!(status.code(), Some(0));
    assert!(signalled.elapsed() < Duration::from_secs(10));
    let logs = bin.logs();
    assert!(logs.iter().any(|l| l["message"] == "drained"), "{logs:#?}");
}

#[test]
fn while_draining_the_admin_listener_answers_readyz_503() {
    let toml = format!("{SLOW}\n[admin]\nlisten = \"127.0.0.1:0\"\n");
    let mut bin = Binary::start(&toml);
    let admin = bin.admin_addr.unwrap();
    assert_eq!(get(admin, "/readyz").status, 200);
    let calls = start_slow_calls(bin.addr, admin, 4, 2000);
    bin.signal("INT");
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(admin, "/readyz").status != 503 {
        assert!(Instant::now() < deadline, "readyz never turned 503");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(get(admin, "/healthz").status, 200);
    wait_refused(bin.addr);
    for call in calls {
        ok_int(&call.join().unwrap().expect("answered"), 2000);
    }
    let status = bin.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn the_drain_timeout_bounds_shutdown() {
    let mut bin = Binary::start(
        "[limits]\ndrain_timeout = \"500ms\"\n\n[[routes]]\nmethod = \"sleep\"\nhandler = \"sleep\"\n",
    );
    let calls = start_slow_calls(bin.addr, bin.addr, 2, 8000);
    let signalled = Instant::now();
    bin.signal("TERM");
    let status = bin.wait_exit(Duration::from_secs(5)).expect("exits");
    assert_eq!(status.code(), Some(0));
    assert!(signalled.elapsed() < Duration::from_secs(5));
    for call in calls {
        assert!(call.join().unwrap().is_none(), "cut off at the deadline");
    }
}

/// A backend answering by method name: `ok`, `fault`, `refused`, `open`
/// (its circuit is open), `params` (they do not fit the route), or `slow`
/// (never within the test's call timeout).
struct ScriptedBackend;

impl xmlrpc_gateway::Backend for ScriptedBackend {
    fn name(&self) -> &str {
        "inventory"
    }

    fn call(
        &self,
        call: xmlrpc_gateway::BackendCall,
        _ctx: xmlrpc_gateway::CallContext,
    ) -> futures_util::future::BoxFuture<
        'static,
        Result<xmlrpc_gateway::Value, xmlrpc_gateway::BackendError>,
    > {
        use xmlrpc_gateway::BackendError;
        Box::pin(async move {
            match call.method.as_str() {
                "inv.ok" => Ok(xmlrpc_gateway::Value::Int(1)),
                "inv.fault" => Err(BackendError::Remote(xmlrpc_gateway::Fault::new(
                    4, "no stock",
                ))),
                "inv.refused" => Err(BackendError::Refused),
                "inv.open" => Err(BackendError::CircuitOpen),
                "inv.params" => Err(BackendError::InvalidParams("too many".to_owned())),
                _ => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(xmlrpc_gateway::Value::Nil)
                }
            }
        })
    }
}

#[tokio::test]
async fn backend_calls_are_counted_by_backend_and_error_kind() {
    use std::sync::Arc;
    use xmlrpc_gateway::{DispatchOptions, Metrics, Pattern, Rename, Route, Target};
    let mut table = xmlrpc_gateway::RoutingTable::new();
    table
        .add(Route {
            pattern: Pattern::parse("inv.*"),
            target: Target::Backend {
                backend: Arc::new(ScriptedBackend),
                rename: Rename::Full,
                path: None,
                param_names: None,
                mapping: None,
            },
            label: "backend:inventory".to_owned(),
            help: None,
            signatures: None,
            timeout: Some(Duration::from_millis(50)),
            idempotent: false,
            auth: None,
            roles: Vec::new(),
            split: None,
            shadow: None,
        })
        .unwrap();
    let metrics = Metrics::new();
    let d = xmlrpc_gateway::Dispatcher::new(table, DispatchOptions::default())
        .with_metrics(metrics.clone());
    let ctx = xmlrpc_gateway::CallContext::detached();
    for name in [
        "inv.ok",
        "inv.ok",
        "inv.fault",
        "inv.refused",
        "inv.slow",
        "inv.open",
        "inv.params",
    ] {
        let _ = d.call(name, vec![], &ctx).await;
    }
    let (text, _) = metrics.render();
    let v = |series: &str| sample_value(&text, series);
    // Refused before sending (circuit open, params): errors, not requests.
    assert_eq!(
        v(r#"xmlrpc_gateway_backend_requests_total{backend="inventory"}"#),
        5.0,
        "{text}"
    );
    for (kind, n) in [
        ("fault", 1.0),
        ("refused", 1.0),
        ("cancelled", 1.0),
        ("circuit open", 1.0),
        ("invalid params", 1.0),
    ] {
        assert_eq!(
            v(&format!(
                r#"xmlrpc_gateway_backend_errors_total{{backend="inventory",kind="{kind}"}}"#
            )),
            n,
            "{kind}\n{text}"
        );
    }
    assert_eq!(
        v(r#"xmlrpc_gateway_backend_request_duration_seconds_count{backend="inventory"}"#),
        5.0
    );
    let calls = |labels: &str| v(&format!("xmlrpc_gateway_calls_total{{{labels}}}"));
    assert_eq!(
        calls(
            r#"backend="inventory",method="inv.*",origin="none",outcome="ok",route="backend:inventory""#
        ),
        2.0
    );
    assert_eq!(
        calls(
            r#"backend="inventory",method="inv.*",origin="handler",outcome="fault",route="backend:inventory""#
        ),
        1.0
    );
    assert_eq!(
        calls(
            r#"backend="inventory",method="inv.*",origin="backend",outcome="error",route="backend:inventory""#
        ),
        2.0,
        "refused, and circuit open"
    );
    assert_eq!(
        calls(
            r#"backend="inventory",method="inv.*",origin="client",outcome="fault",route="backend:inventory""#
        ),
        1.0,
        "params that do not fit"
    );
    assert_eq!(
        calls(
            r#"backend="inventory",method="inv.*",origin="gateway",outcome="error",route="backend:inventory""#
        ),
        1.0,
        "the slow one timed out"
    );
}

const DEAD_BACKEND: &str = "[backends.dead]\nkind = \"jsonrpc\"\nurl = \"http://127.0.0.1:1/\"\ncircuit_breaker = { failures = 2, open_for = \"60s\" }\n\n[[routes]]\nmethod = \"dead.*\"\nbackend = \"dead\"\n";

#[test]
fn a_real_breaker_shows_its_state_in_its_own_servers_metrics() {
    // Two servers in one process, each with its own registry: the breaker
    // of one must not show in the other's gauge.
    let a = Gateway::start(DEAD_BACKEND);
    let b = Gateway::start(DEAD_BACKEND);
    let state = |gw: &Gateway| {
        let text = gw.metrics();
        let series = r#"xmlrpc_gateway_backend_circuit_state{backend="dead"}"#;
        assert!(text.contains(series), "no circuit series in\n{text}");
        sample_value(&text, series)
    };
    assert_eq!(state(&a), 0.0, "closed at start");
    for _ in 0..2 {
        let resp = rpc(a.addr, "dead.anything", &[]);
        assert!(resp.text().contains("<int>-32305</int>"), "{}", resp.text());
    }
    assert_eq!(state(&a), 1.0, "two refusals open it");
    assert_eq!(state(&b), 0.0, "the other server's breaker is its own");
    let resp = rpc(a.addr, "dead.anything", &[]);
    assert!(resp.text().contains("<int>-32302</int>"), "{}", resp.text());
}

#[test]
fn real_reloads_are_counted_in_the_binarys_metrics() {
    let bin = common::Binary::start("[admin]\nlisten = \"127.0.0.1:0\"\n");
    let admin = bin.admin_addr.unwrap();
    let reloads = |result: &str| {
        let text = get(admin, "/metrics").text();
        sample_value(
            &text,
            &format!(r#"xmlrpc_gateway_config_reloads_total{{result="{result}"}}"#),
        )
    };
    assert_eq!((reloads("ok"), reloads("error")), (0.0, 0.0));
    bin.signal("HUP");
    common::wait_until(Duration::from_secs(10), || reloads("ok") == 1.0);
    std::fs::write(bin.config_path(), "[server]\nencoding = \"klingon\"\n").unwrap();
    bin.signal("HUP");
    common::wait_until(Duration::from_secs(10), || reloads("error") == 1.0);
    assert_eq!(reloads("ok"), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedder_can_give_the_endpoints_a_listener() {
    use xmlrpc_gateway::{Server, ServerOptions};
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Server::from_listener(
        main,
        xmlrpc_gateway::demo::handlers(),
        ServerOptions::default(),
    )
    .with_admin_listener(admin)
    .unwrap();
    let (addr, admin_addr) = (server.local_addr().unwrap(), server.admin_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let (main_health, admin_health) = tokio::task::spawn_blocking(move || {
        (
            get(addr, "/healthz").status,
            get(admin_addr, "/healthz").status,
        )
    })
    .await
    .unwrap();
    assert_eq!((main_health, admin_health), (404, 200));
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[test]
fn a_configured_backend_that_refuses_is_counted() {
    // Port 1 on loopback: nothing listens, so connecting is refused.
    let gw = Gateway::start(
        "[backends.dead]\nkind = \"jsonrpc\"\nurl = \"http://127.0.0.1:1/\"\n\n[[routes]]\nmethod = \"dead.*\"\nbackend = \"dead\"\n",
    );
    let resp = rpc(gw.addr, "dead.anything", &[]);
    assert!(resp.text().contains("<fault>"), "{}", resp.text());
    let text = gw.metrics();
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_backend_errors_total{backend="dead",kind="refused"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample_value(
            &text,
            r#"xmlrpc_gateway_calls_total{backend="dead",method="dead.*",origin="backend",outcome="error",route="backend:dead"}"#
        ),
        1.0
    );
}

#[test]
fn readiness_can_wait_for_every_backends_circuit() {
    // Port 1 on loopback refuses; one failure opens the circuit.
    let backend = "[backends.dead]\nkind = \"jsonrpc\"\nurl = \"http://127.0.0.1:1/secret-path\"\ncircuit_breaker = { failures = 1, open_for = \"60s\" }\n\n[[routes]]\nmethod = \"dead.*\"\nbackend = \"dead\"\n";
    let strict = Gateway::start(&format!(
        "[admin]\nready_requires_backends = true\n\n{backend}"
    ));
    let lax = Gateway::start(backend);
    for gw in [&strict, &lax] {
        assert_eq!(
            get(gw.addr, "/readyz").status,
            200,
            "closed circuits: ready"
        );
        rpc(gw.addr, "dead.x", &[]);
    }
    let resp = get(strict.addr, "/readyz");
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(
        resp.text(),
        "circuit open: dead\n",
        "names the backend, never its URL"
    );
    assert_eq!(get(lax.addr, "/readyz").status, 200, "off by default");
}

/// A route timeout that cancels calls to a backend that never answers
/// counts as the backend's failure: the breaker opens, and the next call is
/// refused at once without being sent or counted as a backend request.
#[test]
fn route_timeouts_open_the_circuit_of_a_backend_that_hangs() {
    let hanging = common::SilentServer::start();
    let bin = Binary::start(&format!(
        r#"
[backends.hang]
kind = "jsonrpc"
url = "http://{addr}/rpc"
circuit_breaker = {{ failures = 3, open_for = "60s" }}

[[routes]]
method = "hang.*"
backend = "hang"
timeout = "100ms"
"#,
        addr = hanging.addr,
    ));
    for i in 1..=3 {
        let resp = rpc(bin.addr, "hang.get", &[]);
        assert!(
            resp.text().contains("<int>-32301</int>"),
            "call {i}: not a timeout:\n{}",
            resp.text()
        );
    }
    // Sent, this call could not be answered before the route's 100 ms
    // timeout (timers never fire early). An answer well inside it, with
    // room left for a slow machine's scheduling, shows the breaker refused
    // it without waiting for the backend.
    let started = Instant::now();
    let resp = rpc(bin.addr, "hang.get", &[]);
    let took = started.elapsed();
    assert!(
        resp.text().contains("<int>-32302</int>"),
        "the fourth call was not refused by the open circuit:\n{}",
        resp.text()
    );
    assert!(took < Duration::from_millis(90), "refused after {took:?}");
    let text = get(bin.addr, "/metrics").text();
    let v = |series: &str| sample_value(&text, series);
    assert_eq!(
        v(r#"xmlrpc_gateway_backend_circuit_state{backend="hang"}"#),
        1.0,
        "open\n{text}"
    );
    assert_eq!(
        v(r#"xmlrpc_gateway_backend_requests_total{backend="hang"}"#),
        3.0,
        "the refused call was not sent, so it is no backend request\n{text}"
    );
    assert_eq!(
        v(r#"xmlrpc_gateway_backend_request_duration_seconds_count{backend="hang"}"#),
        3.0,
        "{text}"
    );
    assert_eq!(
        v(r#"xmlrpc_gateway_backend_errors_total{backend="hang",kind="circuit open"}"#),
        1.0,
        "{text}"
    );
}

/// A client that hangs up cancels its call (hyper drops the request's
/// future), but before the call's deadline that is no failure of the
/// backend: else any client could open a healthy backend's circuit.
#[test]
fn a_client_hanging_up_does_not_open_the_circuit() {
    use std::io::Write;
    let hanging = common::SilentServer::start();
    let bin = Binary::start(&format!(
        r#"
[backends.hang]
kind = "jsonrpc"
url = "http://{addr}/rpc"
circuit_breaker = {{ failures = 1, open_for = "60s" }}

[[routes]]
method = "hang.*"
backend = "hang"
timeout = "30s"
"#,
        addr = hanging.addr,
    ));
    let metric = |series: &str| sample_value(&get(bin.addr, "/metrics").text(), series);
    let cancelled = r#"xmlrpc_gateway_backend_errors_total{backend="hang",kind="cancelled"}"#;
    let state = r#"xmlrpc_gateway_backend_circuit_state{backend="hang"}"#;
    for i in 1..=2 {
        let mut client = TcpStream::connect(bin.addr).unwrap();
        client
            .write_all(&post("/RPC2", &[], call_xml("hang.get", &[]).as_bytes()))
            .unwrap();
        // The call has reached the backend; then the client goes away.
        common::wait_until(Duration::from_secs(10), || hanging.accepted() >= i);
        drop(client);
        common::wait_until(Duration::from_secs(10), || metric(cancelled) == i as f64);
        assert_eq!(metric(state), 0.0, "hang-up {i} opened the circuit");
    }
}

/// Calls `add` `n` times over one kept-alive connection, each with the
/// request id `{prefix}-{i}`, and checks every answer.
fn add_calls(addr: SocketAddr, prefix: &str, n: usize) {
    use std::io::Write;
    let mut stream = TcpStream::connect(addr).unwrap();
    // A request held up by its access line would end the test here.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = call_xml("add", &["<int>2</int>", "<int>3</int>"]);
    for i in 0..n {
        let request = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: t\r\nX-Request-Id: {prefix}-{i}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        ok_int(&common::read_response(&mut stream), 5);
    }
}

#[test]
fn sigterm_writes_out_every_queued_log_line_before_exit() {
    let mut bin = Binary::start("");
    let n = 300;
    add_calls(bin.addr, "drain", n);
    // At once: the last lines are still in the queue (it is written out
    // in batches, up to 10 ms apart).
    bin.signal("TERM");
    let status = bin.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(status.code(), Some(0));
    let logs = bin.logs_to_end(Duration::from_secs(10));
    let ids: Vec<&str> = logs
        .iter()
        .filter(|l| l["target"] == "access")
        .filter_map(|l| l["request_id"].as_str())
        .collect();
    let want: Vec<String> = (0..n).map(|i| format!("drain-{i}")).collect();
    assert_eq!(ids, want);
    // Every line in the order it was logged, down to the last.
    let messages: Vec<&str> = logs
        .iter()
        .rev()
        .take(2)
        .filter_map(|l| l["message"].as_str())
        .collect();
    assert_eq!(messages, ["stopped", "drained"], "{logs:#?}");
}

/// A process killed when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_stuck_stderr_drops_access_lines_and_never_holds_up_a_request() {
    let dir = common::TempDir::new();
    let file = dir.0.join("gateway.toml");
    std::fs::write(&file, "[log]\nqueue_bytes = 4096\n").unwrap();
    let addr: SocketAddr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    // stderr is a pipe nobody reads: once its buffer (64 KiB on Linux) and
    // the 4 KiB queue are full, nothing more can be written.
    let mut child = Killed(
        std::process::Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
            .arg("--config")
            .arg(&file)
            .arg("--listen")
            .arg(addr.to_string())
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let _unread = child.0.stderr.take().unwrap();
    common::wait_until(Duration::from_secs(20), || TcpStream::connect(addr).is_ok());
    let dropped = || {
        sample_value(
            &get(addr, "/metrics").text(),
            "xmlrpc_gateway_access_log_dropped_total",
        )
    };
    assert_eq!(dropped(), 0.0);
    let mut answered = 0;
    while dropped() == 0.0 {
        assert!(answered < 20_000, "no access line dropped");
        add_calls(addr, "flood", 100);
        answered += 100;
    }
    // From now on nearly every access line is dropped (one of a slightly
    // shorter length may still fit), and every request is answered.
    let before = dropped();
    add_calls(addr, "stuck", 200);
    let after = dropped();
    assert!(after - before >= 195.0, "{before} -> {after}");
    // Shutdown does not wait for stderr for long either (2 s at most).
    let signalled = Instant::now();
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exited = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "SIGTERM did not end it"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exited.code(), Some(0));
}
