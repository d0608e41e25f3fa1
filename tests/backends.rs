//! Routing to backends, end to end: the demo backend (JSON-RPC and JSON)
//! and Python's SimpleXMLRPCServer (legacy XML-RPC) behind a gateway on a
//! loopback port, driven by Python's `xmlrpc.client`.

mod backends_support;
mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backends_support::{
    PY_PRELUDE, Recorder, Service, TestGateway, dispatcher, dispatcher_with, free_port, python,
};
use common::{Binary, Reload, get, rpc, sample_value};
use xmlrpc_gateway::RoutingTable;

/// Every route kind against the demo backend and the legacy server.
fn routes_config(demo: &Service, legacy: &Service, extra: &str) -> String {
    format!(
        r#"
[backends.inventory]
kind = "jsonrpc"
url = "{rpc}"
timeout = "2s"

[backends.users]
kind = "json"
url = "{base}"

[backends.legacy]
kind = "xmlrpc"
url = "{legacy}"

[[routes]]
method = "inventory.*"
backend = "inventory"

[[routes]]
method = "math.*"
backend = "inventory"
help = "math.* => arithmetic on the inventory service"
signature = [["int", "int", "int"]]

[[routes]]
method = "j.*"
backend = "inventory"
strip_prefix = true

[[routes]]
method = "item"
backend = "inventory"
rename = "inventory.get"

[[routes]]
method = "users.get"
backend = "users"
path = "/users/get"

[[routes]]
method = "users.lookup"
backend = "users"
rename = "users.get"
params = ["id"]

[[routes]]
method = "users.bad"
backend = "users"
path = "/bad"

[[routes]]
method = "old.*"
backend = "legacy"
strip_prefix = true

# A file's [[routes]] replace the embedded default's, so the handler is
# routed again here.
[[routes]]
method = "add"
handler = "add"

[[routes]]
method = "*"
backend = "legacy"
{extra}
"#,
        rpc = demo.url("/rpc"),
        base = demo.url(""),
        legacy = legacy.url("/RPC2"),
    )
}

fn script(body: &str) -> String {
    format!("{PY_PRELUDE}\n{body}")
}

#[test]
fn every_route_kind() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let gw = TestGateway::start(&routes_config(&demo, &legacy, ""));
    let out = python(
        &script(
            r#"
call("inventory.get", 7)          # prefix, full name
call("inventory.list")
call("j.echo", "stripped")        # strip_prefix: backend sees "echo"
call("item", 3)                   # rename
call("users.get", {"id": 5})      # exact, json, path; a lone struct is the body
call("users.get", 6)              # json, [6]
call("users.lookup", 9)           # json, named params, URL from the renamed name
call("add", 2, 3)                 # in-process handler
call("old.hello", "Ann")          # strip_prefix to xmlrpc
call("legacy.hello", "Bob")       # * to xmlrpc, full name
call("sum", 1, 2, 3)              # *
call("boom")                      # xmlrpc fault passes through unchanged
"#,
        ),
        &gw.url(),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "{'id': 7, 'name': 'widget-7', 'stock': 70, 'price': 2.5}",
            "[{'id': 1, 'name': 'widget-1'}, {'id': 2, 'name': 'widget-2'}, {'id': 3, 'name': 'widget-3'}]",
            "'stripped'",
            "{'id': 3, 'name': 'widget-3', 'stock': 30, 'price': 2.5}",
            "{'id': 5, 'name': 'user-5', 'active': True}",
            "{'id': 6, 'name': 'user-6', 'active': False}",
            "{'id': 9, 'name': 'user-9', 'active': True}",
            "5",
            "'Hello, Ann!'",
            "'Hi, Bob'",
            "6",
            "FAULT 1 <class 'ValueError'>:kaboom",
        ],
        "{out}"
    );
}

#[test]
fn every_row_of_the_json_mapping() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let gw = TestGateway::start(&routes_config(&demo, &legacy, ""));
    // j.echo reaches the JSON-RPC `echo`, which answers its param as is.
    let out = python(
        &script(
            r#"
import datetime
call("j.echo", 42)
call("math.add", 2147483647, 1)          # answer beyond 32 bits: i8
call("j.echo", 2.0)                      # a whole double stays a double
call("j.echo", -0.5)
call("j.echo", True)
call("j.echo", "é <&> \u2603")
call("j.echo", None)
call("j.echo", [])
call("j.echo", {})
call("j.echo", {"b": 1, "a": [None, 1.5]})
call("j.echo", datetime.datetime(1998, 7, 17, 14, 8, 55))   # goes out as a string
call("j.echo", b"hi\x00\xff")                                # goes out as base64 text
call("j.echo", {"$datetime": "1998-07-17T14:08:55"})         # comes back as dateTime
call("j.echo", {"$base64": "aGkA/w=="})                      # comes back as base64
call("j.echo", {"$datetime": "not a date"})                  # bad marker: bad body
"#,
        ),
        &gw.url(),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "42",
            "2147483648",
            "2.0",
            "-0.5",
            "True",
            "'é <&> ☃'",
            "None",
            "[]",
            "{}",
            "{'b': 1, 'a': [None, 1.5]}",
            "'1998-07-17T14:08:55'",
            "'aGkA/w=='",
            "datetime.datetime(1998, 7, 17, 14, 8, 55)",
            "b'hi\\x00\\xff'",
            "FAULT -32304 j.echo: backend bad body",
        ],
        "{out}"
    );
}

#[test]
fn failures_become_transport_faults() {
    let demo = Service::demo(&[]);
    let failing = Service::demo(&["--fail-rate", "1", "--fail-status", "500"]);
    let legacy = Service::legacy_python();
    let dead = free_port();
    let extra = format!(
        r#"
[backends.slow]
kind = "jsonrpc"
url = "{rpc}"
timeout = "200ms"

[backends.dead]
kind = "jsonrpc"
url = "http://127.0.0.1:{dead}/rpc"

[backends.failing]
kind = "json"
url = "{failing}"

[[routes]]
method = "slow.*"
backend = "slow"
strip_prefix = true

[[routes]]
method = "dead.*"
backend = "dead"

[[routes]]
method = "failing.*"
backend = "failing"

[[routes]]
method = "tight.sleep"
backend = "inventory"
rename = "sleep"
timeout = "150ms"
"#,
        rpc = demo.url("/rpc"),
        failing = failing.url(""),
    );
    let gw = TestGateway::start(&routes_config(&demo, &legacy, &extra));
    let started = Instant::now();
    let out = python(
        &script(
            r#"
call("slow.sleep", 1000)            # backend timeout
call("tight.sleep", 1000)           # route timeout
call("dead.get")                    # refused
call("failing.get", 1)              # 500 with a JSON error body
call("users.get", 0)                # 404 with {"error": ...}
call("users.bad")                   # 200 with a body that is not JSON
call("j.wrong_id")                  # JSON-RPC answer to another id
call("j.fail", 7, "out of stock")   # JSON-RPC error passes through
call("users.lookup", 1, 2)          # more params than names
"#,
        ),
        &gw.url(),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "FAULT -32301 slow.sleep: backend timeout",
            "FAULT -32301 tight.sleep: timeout",
            "FAULT -32305 dead.get: backend refused",
            "FAULT -32303 failing.get: backend answered 500: injected failure",
            "FAULT -32602 users.get: backend answered 404: no such user",
            "FAULT -32304 users.bad: backend bad body",
            "FAULT -32304 j.wrong_id: backend bad body",
            "FAULT 7 out of stock",
            "FAULT -32602 users.get() takes at most 1 parameters (2 given)",
        ],
        "{out}"
    );
    assert!(
        !out.contains("127.0.0.1"),
        "a fault leaked an address: {out}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn backend_redirects_are_not_followed() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let redirector = Service::redirector(&demo.url("/rpc"));
    let extra = format!(
        r#"
[backends.moved]
kind = "jsonrpc"
url = "{moved}"

[[routes]]
method = "moved.*"
backend = "moved"
strip_prefix = true
"#,
        moved = redirector.url("/rpc"),
    );
    let gw = TestGateway::start(&routes_config(&demo, &legacy, &extra));
    // Followed, the 307 would reach the demo backend and answer 5.
    let out = python(&script(r#"call("moved.math.add", 2, 3)"#), &gw.url());
    assert_eq!(
        out.trim(),
        "FAULT -32303 moved.math.add: backend answered 307",
        "{out}"
    );
}

#[test]
fn circuit_opens_then_recovers() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let port = free_port();
    let extra = format!(
        r#"
[backends.flaky]
kind = "jsonrpc"
url = "http://127.0.0.1:{port}/rpc"
circuit_breaker = {{ failures = 2, open_for = "300ms" }}

[[routes]]
method = "flaky.*"
backend = "flaky"
strip_prefix = true
"#
    );
    let gw = TestGateway::start(&routes_config(&demo, &legacy, &extra));
    let out = python(
        &script(r#"for _ in range(3): call("flaky.echo", 1)"#),
        &gw.url(),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "FAULT -32305 flaky.echo: backend refused",
            "FAULT -32305 flaky.echo: backend refused",
            "FAULT -32302 flaky.echo: backend circuit open",
        ]
    );
    // The service comes up; after open_for one probe is let through and
    // closes the circuit. The sleep is the behaviour under test: open_for
    // (300 ms) passing is what lets the probe through, and the circuit
    // shows nothing until a call comes.
    let _up = Service::demo_on(port, &[]);
    std::thread::sleep(Duration::from_millis(350));
    let out = python(
        &script(r#"for _ in range(3): call("flaky.echo", 1)"#),
        &gw.url(),
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["1", "1", "1"]);
}

#[test]
fn retries_only_for_idempotent_routes() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let dead = free_port();
    let extra = format!(
        r#"
[backends.dead]
kind = "jsonrpc"
url = "http://127.0.0.1:{dead}/rpc"
retries = 2
circuit_breaker = {{ failures = 0 }}

[[routes]]
method = "once"
backend = "dead"

[[routes]]
method = "again"
backend = "dead"
idempotent = true
"#
    );
    let gw = TestGateway::start(&routes_config(&demo, &legacy, &extra));
    let out = python(
        &script(
            r#"
for name in ["once", "again"]:
    t = time.monotonic()
    call(name)
    print(name, int((time.monotonic() - t) * 1000))
"#,
        ),
        &gw.url(),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "FAULT -32305 once: backend refused");
    assert_eq!(lines[2], "FAULT -32305 again: backend refused");
    let ms = |line: &str| line.split(' ').nth(1).unwrap().parse::<u64>().unwrap();
    // Two retries wait 50 ms + 100 ms; no retry waits nothing.
    assert!(ms(lines[3]) >= 150, "{out}");
    assert!(ms(lines[1]) < ms(lines[3]), "{out}");
}

/// 50 calls to a backend that answers after 100 ms, in one multicall.
fn fan_out(max_concurrency: usize) -> (Duration, String) {
    let slow = Service::demo(&["--delay", "100ms"]);
    let legacy = Service::legacy_python();
    let extra = format!(
        r#"
[backends.slow]
kind = "jsonrpc"
url = "{rpc}"
max_concurrency = {max_concurrency}

[[routes]]
method = "slow.*"
backend = "slow"
strip_prefix = true
"#,
        rpc = slow.url("/rpc"),
    );
    let gw = TestGateway::start(&routes_config(&slow, &legacy, &extra));
    let out = python(
        &script(
            r#"
m = xc.MultiCall(s)
for i in range(50):
    m.echo(i)
t = time.monotonic()
r = list(m())
print(int((time.monotonic() - t) * 1000))
print(r == list(range(50)))
"#,
        )
        .replace("m.echo(i)", "getattr(m, 'slow.echo')(i)"),
        &gw.url(),
    );
    let mut lines = out.lines();
    let ms: u64 = lines.next().unwrap().parse().unwrap();
    (Duration::from_millis(ms), lines.next().unwrap().to_owned())
}

#[test]
fn multicall_fans_out_to_backends() {
    let (took, ok) = fan_out(64);
    eprintln!("fan-out: 50 calls x 100 ms, max_concurrency 64: {took:?}");
    assert_eq!(ok, "True");
    // All at once this takes about 140 ms (README). Three at a time would
    // take 17 rounds of 100 ms, 1.7 s, and five at a time 1 s: the bound
    // fails both, with room for a loaded 2-core machine. (The exact timing,
    // with paused time, is tests/dispatch.rs
    // `multicall_runs_calls_concurrently_in_order`.)
    assert!(took < Duration::from_millis(900), "took {took:?}");
}

#[test]
fn multicall_respects_max_concurrency() {
    // 5 at a time: at least 10 rounds of 100 ms.
    let (took, ok) = fan_out(5);
    eprintln!("fan-out: 50 calls x 100 ms, max_concurrency 5: {took:?}");
    assert_eq!(ok, "True");
    assert!(took >= Duration::from_millis(950), "took {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn introspection_covers_backend_routes() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let gw = TestGateway::start(&routes_config(&demo, &legacy, ""));
    let out = python(
        &script(
            r#"
names = s.system.listMethods()
print(" ".join(names))
print(repr(s.system.methodHelp("math.add")))
print(repr(s.system.methodSignature("math.add")))
print(repr(s.system.methodHelp("hello")))
print(repr(s.system.methodHelp("old.hello")))
print(repr(s.system.methodSignature("sum")))
"#,
        ),
        &gw.url(),
    );
    let lines: Vec<&str> = out.lines().collect();
    let names: Vec<&str> = lines[0].split(' ').collect();
    // Exact routes, handlers and system methods...
    for want in [
        "add",
        "item",
        "users.get",
        "users.lookup",
        "system.multicall",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    // ...the legacy server's methods the `*` route sends it, and the ones
    // `old.*` reaches with its prefix put back...
    for want in [
        "hello",
        "legacy.hello",
        "sum",
        "boom",
        "old.hello",
        "old.sum",
    ] {
        assert!(names.contains(&want), "{want} missing: {names:?}");
    }
    // ...but not names another route takes (inventory.* goes to the
    // inventory service), nor the legacy server's own system.* under old.
    assert!(!names.contains(&"inventory.secret"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("old.system.")),
        "{names:?}"
    );
    assert_eq!(lines[1], "'math.* => arithmetic on the inventory service'");
    assert_eq!(lines[2], "[['int', 'int', 'int']]");
    assert_eq!(lines[3], "'hello(name) => a greeting'");
    assert_eq!(lines[4], "'hello(name) => a greeting'");
    assert_eq!(lines[5], "'signatures not supported'");
}

#[test]
fn listing_skips_a_backend_that_fails() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let mut cfg = routes_config(&demo, &legacy, "");
    cfg = cfg.replace(
        &legacy.url("/RPC2"),
        &format!("http://127.0.0.1:{}/RPC2", free_port()),
    );
    let gw = TestGateway::start(&cfg);
    let out = python(
        &script(r#"print(" ".join(s.system.listMethods()))"#),
        &gw.url(),
    );
    assert!(out.contains("users.get") && !out.contains("hello"), "{out}");
}

#[test]
fn headers_reach_the_backend() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let extra = format!(
        r#"
[server]
forward_headers = ["X-Tenant"]

[backends.h]
kind = "jsonrpc"
url = "{rpc}"
headers = {{ x-api-key = "key-${{API_KEY}}" }}
forward_headers = ["Authorization"]

[[routes]]
method = "h.headers"
backend = "h"
rename = "headers"
"#,
        rpc = demo.url("/rpc"),
    );
    let env = HashMap::from([("API_KEY".to_owned(), "s3cret".to_owned())]);
    let gw = TestGateway::start_env(&routes_config(&demo, &legacy, &extra), &env);
    let out = python(
        &script(
            r#"
p = xc.ServerProxy(os.environ["URL"], headers=[
    ("Authorization", "Bearer t"), ("X-Tenant", "acme"),
    ("X-Secret", "no"), ("X-Request-Id", "req-42")])
h = p.h.headers()
for k in ["authorization", "x-tenant", "x-secret", "x-api-key", "x-request-id"]:
    print(k, h.get(k))
h = s.j.headers()   # the inventory backend has no allowlist of its own
print("inventory", h.get("authorization"), h.get("x-tenant"), "x-request-id" in h)
"#,
        ),
        &gw.url(),
    );
    // `j.headers` is sent without Authorization: it is only h's to see.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "authorization Bearer t",
            "x-tenant acme",
            "x-secret None",
            "x-api-key key-s3cret",
            "x-request-id req-42",
            "inventory None None True",
        ],
        "{out}"
    );
}

/// The demo handlers plus `held` and `fresh`. The first call of `held`
/// tells `started` it began and waits for a permit of `release`; every
/// call of it answers "old table". `fresh` answers "new table" at once.
fn reload_handlers(
    started: std::sync::mpsc::Sender<()>,
    release: Arc<tokio::sync::Semaphore>,
) -> RoutingTable {
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut handlers = xmlrpc_gateway::demo::handlers();
    handlers
        .register_async("held", move || {
            let (started, release, first) = (started.clone(), release.clone(), first.clone());
            async move {
                if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    let _ = started.send(());
                    release.acquire().await.unwrap().forget();
                }
                "old table"
            }
        })
        .unwrap();
    handlers.register_function("fresh", || "new table").unwrap();
    handlers
}

/// Lets one held call go when dropped.
struct LetGo(Arc<tokio::sync::Semaphore>);

impl Drop for LetGo {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

#[test]
fn reload_swaps_the_table_and_calls_in_flight_finish() {
    let demo = Service::demo(&[]);
    let legacy = Service::legacy_python();
    let (started_tx, started) = std::sync::mpsc::channel();
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let handlers = reload_handlers(started_tx, release.clone());
    // `which` goes to a different handler in each table, so every answer
    // says which table served it.
    let which =
        |handler: &str| format!("[[routes]]\nmethod = \"which\"\nhandler = \"{handler}\"\n");
    let gw = TestGateway::start_with(&routes_config(&demo, &legacy, &which("held")), &handlers);
    // However the test ends, the held call is let go before the gateway
    // stops (which would wait for it).
    let _let_go = LetGo(release.clone());
    // A call starts on the old table and is held there...
    let url = gw.url();
    let held = std::thread::spawn(move || python(&script(r#"call("which")"#), &url));
    started
        .recv_timeout(Duration::from_secs(10))
        .expect("the held call reached its handler");
    // ...and the table is replaced: `which` now answers at once, `item`
    // goes to the legacy server (which does not know it), `renamed` is new.
    let extra = format!(
        "{}\n[[routes]]\nmethod = \"renamed\"\nbackend = \"legacy\"\nrename = \"hello\"\n",
        which("fresh")
    );
    let new_cfg = routes_config(&demo, &legacy, &extra).replace(
        "[[routes]]\nmethod = \"item\"\nbackend = \"inventory\"\nrename = \"inventory.get\"\n",
        "",
    );
    gw.app
        .gateway
        .reload(dispatcher_with(&new_cfg, &handlers), Default::default());
    let out = python(
        &script(r#"call("which"); call("renamed", "Cy"); call("item", 3)"#),
        &gw.url(),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "'new table'",
            "'Hello, Cy!'",
            "FAULT 1 <class 'Exception'>:method \"item\" is not supported",
        ]
    );
    // The call in flight finishes on the table it started with.
    assert!(!held.is_finished(), "the held call answered before release");
    release.add_permits(1);
    assert_eq!(held.join().unwrap().trim(), "'old table'");
}

#[test]
fn sighup_reloads_the_real_binary() {
    // Two tables that answer the same call differently: `calc` adds in the
    // first and raises to a power in the second; `first` and `second` are
    // routed in one table each.
    let table = |calc: &str, only: &str| {
        format!(
            "[server]\nlog_requests = false\n[[routes]]\nmethod = \"calc\"\nhandler = \"{calc}\"\n[[routes]]\nmethod = \"{only}\"\nhandler = \"echo\"\n"
        )
    };
    let bin = Binary::start(&table("add", "first"));
    let answer = |method: &str, params: &[&str]| rpc(bin.addr, method, params).text();
    let calc = || answer("calc", &["<int>2</int>", "<int>3</int>"]);
    let echo = |method: &str| answer(method, &["<int>7</int>"]);
    let not_found = "<int>-32601</int>";
    assert!(calc().contains("<int>5</int>"), "{}", calc());
    assert!(echo("first").contains("<int>7</int>"), "{}", echo("first"));
    assert!(echo("second").contains(not_found), "{}", echo("second"));

    std::fs::write(bin.config_path(), table("pow", "second")).unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
    assert!(calc().contains("<int>8</int>"), "{}", calc());
    assert!(
        echo("second").contains("<int>7</int>"),
        "{}",
        echo("second")
    );
    assert!(echo("first").contains(not_found), "{}", echo("first"));

    // A bad config (a typo in a key) is refused; the running table stays.
    std::fs::write(
        bin.config_path(),
        "[[routes]]\nmethod = \"calc\"\nhandlr = \"div\"\n",
    )
    .unwrap();
    assert_eq!(bin.reload(), Reload::Refused);
    assert!(calc().contains("<int>8</int>"), "{}", calc());
    assert!(
        echo("second").contains("<int>7</int>"),
        "{}",
        echo("second")
    );
    let metrics = get(bin.addr, "/metrics").text();
    for (result, n) in [("ok", 1.0), ("error", 1.0)] {
        let series = format!("xmlrpc_gateway_config_reloads_total{{result=\"{result}\"}}");
        assert_eq!(sample_value(&metrics, &series), n, "{metrics}");
    }
}

#[test]
fn check_config_accepts_the_example_and_names_a_typo() {
    let bin = env!("CARGO_BIN_EXE_xmlrpc-gateway");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gateway.toml");
    let out = std::process::Command::new(bin)
        .args(["check-config", example])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "config OK",
        "users.get",
        "backend:users",
        "inventory.*",
        "backend:inventory",
        "add",
        "handler:add",
        "backend:legacy",
    ] {
        assert!(stdout.contains(want), "{want} missing:\n{stdout}");
    }
    let dir = std::env::temp_dir().join(format!("xg-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("typo.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("timeout = \"2s\"", "timout = \"2s\"");
    std::fs::write(&bad, text).unwrap();
    let out = std::process::Command::new(bin)
        .args(["check-config"])
        .arg(&bad)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("timout"), "{stderr}");
}

/// A json backend's URL path comes from the method name only within the
/// backend's path (and the route's prefix): a name that would step out of
/// it is fault -32601, and nothing reaches the service.
#[test]
fn a_method_name_cannot_leave_a_json_backends_path() {
    let recorder = Recorder::start();
    let gw = TestGateway::start(&format!(
        r#"
[backends.users]
kind = "json"
url = "{base}"

[[routes]]
method = "users.*"
backend = "users"

[[routes]]
method = "short.*"
backend = "users"
strip_prefix = true
"#,
        base = recorder.url("/api/v1"),
    ));
    for name in [
        "users.a/%2e%2e/%2e%2e/%2e%2e/secret",
        "users.a/../../../secret",
        r"users.a\..\..\..\secret",
        "users.%2e%2e",
        "users..x",
        "users.x?admin=1",
        "short.%2e%2e",
        "short./secret",
    ] {
        let resp = common::rpc(gw.addr, name, &[]);
        let text = resp.text();
        assert!(
            text.contains("<int>-32601</int>"),
            "{name}: not refused as not found:\n{text}"
        );
        assert!(
            !text.contains("/api") && !text.contains("127.0.0.1"),
            "{name}: the fault leaked the backend URL:\n{text}"
        );
    }
    // A name that maps is sent, under the backend's path and the prefix.
    let resp = common::rpc(gw.addr, "users.ok", &[]);
    assert!(
        resp.text().contains("<string>/api/v1/users/ok</string>"),
        "{}",
        resp.text()
    );
    assert_eq!(
        recorder.seen(),
        ["/api/v1/users/ok"],
        "only the mappable name reached the backend"
    );
}

/// `limits.call_timeout` cancelling calls to a backend that never answers
/// counts toward opening its circuit; callers that go away before the
/// deadline do not (else any client hanging up could open it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_timeouts_open_the_circuit_and_hang_ups_do_not() {
    let hanging = common::SilentServer::start();
    let d = dispatcher(&format!(
        r#"
[limits]
call_timeout = "500ms"

[backends.hang]
kind = "xmlrpc"
url = "http://{addr}/RPC2"
circuit_breaker = {{ failures = 2, open_for = "60s" }}

[[routes]]
method = "hang.*"
backend = "hang"
"#,
        addr = hanging.addr,
    ));
    let ctx = xmlrpc_gateway::CallContext::detached();
    let code = |result: Result<_, xmlrpc_gateway::CallError>| match result {
        Ok(value) => panic!("answered {value:?}"),
        Err(err) => d.fault_for("hang.get", &err, &ctx).code,
    };
    // Callers giving up long before the deadline, as a client hanging up.
    for i in 1..=3 {
        let call = d.call("hang.get", vec![], &ctx);
        let answered = tokio::time::timeout(Duration::from_millis(10), call).await;
        assert!(
            answered.is_err(),
            "hang-up {i}: answered at once (the circuit opened?): {answered:?}"
        );
    }
    for _ in 0..2 {
        assert_eq!(code(d.call("hang.get", vec![], &ctx).await), -32301);
    }
    assert_eq!(
        code(d.call("hang.get", vec![], &ctx).await),
        -32302,
        "two timeouts open the circuit"
    );
}
