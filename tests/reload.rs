//! Reload (SIGHUP) follows one rule, on the real binary: each key the
//! README calls reloadable is changed in the file, SIGHUP is sent, and the
//! new behaviour is seen (single calls and multicall entries alike); a key
//! that needs a restart is named in a warning and keeps its value.
//!
//! The TLS certificate's reload is in `tests/security.rs`.

mod backends_support;
mod common;

use std::time::{Duration, Instant};

use backends_support::Service;
use common::{Binary, Reload, call_xml, post, raw, rpc};

/// Rewrites the binary's config and waits for the reload to be applied.
#[track_caller]
fn reload(bin: &Binary, toml: &str) {
    std::fs::write(bin.config_path(), toml).unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
}

fn multicall(addr: std::net::SocketAddr, entries: &[(&str, &str)]) -> String {
    let body = common::multicall_xml(entries);
    raw(addr, &post("/RPC2", &[], body.as_bytes())).text()
}

/// A browser's GET of the methods page (`server.docs`).
fn docs_page(bin: &Binary) -> common::RawResponse {
    raw(
        bin.addr,
        b"GET /RPC2 HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
    )
}

const NIL: &str = "<value><nil/></value>";

/// One reloadable key: the config before and after, and a probe whose
/// answer tells them apart.
struct Row {
    key: &'static str,
    before: String,
    after: String,
    probe: Box<dyn Fn(&Binary) -> String>,
    /// Text the probe shows before the reload and not after, and the other
    /// way round.
    shows_before: &'static str,
    shows_after: &'static str,
}

fn rows(demo: &Service) -> Vec<Row> {
    let routes = "[[routes]]\nmethod = \"echo\"\nhandler = \"echo\"\n\n[[routes]]\nmethod = \"sleep\"\nhandler = \"sleep\"\n";
    let with = |extra: &str| format!("{extra}\n{routes}");
    let backend = |url: &str, forward: &str| {
        format!(
            "[server]\nforward_headers = [{forward}]\n\n[backends.demo]\nkind = \"jsonrpc\"\nurl = \"{url}\"\n\n[[routes]]\nmethod = \"demo.*\"\nbackend = \"demo\"\nstrip_prefix = true\n"
        )
    };
    let demo_rpc = demo.url("/rpc");
    let roles = |allowed: &str| {
        format!(
            "[auth]\nmode = \"basic\"\nusers = {{ ops = \"pw\" }}\nroles = {{ ops = [\"r\"] }}\n\n[roles.r]\nallow = [\"{allowed}\"]\n\n[[routes]]\nmethod = \"pow\"\nhandler = \"pow\"\nroles = [\"r\"]\n\n[[routes]]\nmethod = \"add\"\nhandler = \"add\"\nroles = [\"r\"]\n"
        )
    };
    let split = |a: u32, b: u32| {
        format!(
            "[backends.a]\nkind = \"jsonrpc\"\nurl = \"{demo_rpc}\"\n\n[backends.b]\nkind = \"xmlrpc\"\nurl = \"{}\"\n\n[[routes]]\nmethod = \"echo\"\nbackends = [{{ name = \"a\", weight = {a} }}, {{ name = \"b\", weight = {b} }}]\n",
            demo.url("/RPC2")
        )
    };
    let shadowed = |shadow: &str| {
        format!(
            "[backends.a]\nkind = \"jsonrpc\"\nurl = \"{demo_rpc}\"\n\n[backends.b]\nkind = \"xmlrpc\"\nurl = \"{}\"\n\n[[routes]]\nmethod = \"echo\"\nbackend = \"a\"\nidempotent = true\n{shadow}",
            demo.url("/RPC2")
        )
    };
    vec![
        Row {
            key: "[[routes]] backends (weights)",
            before: split(1, 0),
            after: split(0, 1),
            probe: Box::new(|b| {
                rpc(b.addr, "echo", &["<int>1</int>"]);
                let metrics = common::get(b.addr, "/metrics").text();
                let series = r#"xmlrpc_gateway_calls_total{backend="b",method="echo",origin="none",outcome="ok",route="split:a,b"}"#;
                format!("calls to b: {}", common::sample_value(&metrics, series))
            }),
            shows_before: "calls to b: 0",
            shows_after: "calls to b: 1",
        },
        Row {
            key: "[[routes]] shadow",
            before: shadowed(""),
            after: shadowed("shadow = { backend = \"b\" }\n"),
            probe: Box::new(|b| {
                rpc(b.addr, "echo", &["<int>1</int>"]);
                let series = r#"xmlrpc_gateway_shadow_calls_total{result="match",route="echo"}"#;
                let metrics = || common::get(b.addr, "/metrics").text();
                // Shown at 0 once a route is shadowed; then the copy of
                // this call, compared, matches.
                if !metrics().contains(series) {
                    return "shadowed: none".to_owned();
                }
                common::wait_until(Duration::from_secs(10), || {
                    common::sample_value(&metrics(), series) >= 1.0
                });
                "shadowed: matched".to_owned()
            }),
            shows_before: "shadowed: none",
            shows_after: "shadowed: matched",
        },
        Row {
            key: "[[routes]]",
            before: "[[routes]]\nmethod = \"add\"\nhandler = \"add\"\n".into(),
            after: "[[routes]]\nmethod = \"pow\"\nhandler = \"pow\"\n".into(),
            probe: Box::new(|b| rpc(b.addr, "add", &["<int>2</int>", "<int>3</int>"]).text()),
            shows_before: "<int>5</int>",
            shows_after: "<int>-32601</int>",
        },
        Row {
            key: "[backends]",
            before: backend("http://127.0.0.1:1/", ""),
            after: backend(&demo_rpc, ""),
            probe: Box::new(|b| rpc(b.addr, "demo.echo", &["<string>hi</string>"]).text()),
            shows_before: "<int>-32305</int>",
            shows_after: "<string>hi</string>",
        },
        Row {
            key: "server.allow_none (single call)",
            before: with("[server]\nallow_none = false\n"),
            after: with("[server]\nallow_none = true\n"),
            probe: Box::new(|b| rpc(b.addr, "echo", &["<nil/>"]).text()),
            shows_before: "<int>-32603</int>",
            shows_after: "<nil/></value></param>",
        },
        Row {
            key: "server.allow_none (multicall entry)",
            before: with("[server]\nallow_none = false\n"),
            after: with("[server]\nallow_none = true\n"),
            probe: Box::new(|b| multicall(b.addr, &[("echo", NIL)])),
            shows_before: "<int>-32603</int>",
            shows_after: "<array><data><value><nil/></value></data></array>",
        },
        Row {
            key: "server.encoding",
            before: with(""),
            after: with("[server]\nencoding = \"iso-8859-1\"\n"),
            probe: Box::new(|b| rpc(b.addr, "echo", &["<string>x</string>"]).text()),
            shows_before: "<?xml version=\"1.0\"?>",
            shows_after: "encoding=\"iso-8859-1\"",
        },
        Row {
            key: "server.encode_threshold",
            before: with(""),
            after: with("[server]\nencode_threshold = false\n"),
            probe: Box::new(|b| {
                let big = format!("<string>{}</string>", "x".repeat(5000));
                let body = call_xml("echo", &[&big]);
                let resp = raw(
                    b.addr,
                    &post("/RPC2", &["Accept-Encoding: gzip"], body.as_bytes()),
                );
                format!("content-encoding: {:?}", resp.header("content-encoding"))
            }),
            shows_before: "content-encoding: Some(\"gzip\")",
            shows_after: "content-encoding: None",
        },
        Row {
            key: "server.log_requests",
            before: with("[server]\nlog_requests = true\n"),
            after: with("[server]\nlog_requests = false\n"),
            probe: Box::new(|b| {
                let marker = format!("m{}", Instant::now().elapsed().as_nanos());
                let body = call_xml("echo", &["<int>1</int>"]);
                let header = format!("X-Request-Id: {marker}");
                raw(b.addr, &post("/RPC2", &[&header], body.as_bytes()));
                // The access line is written before the answer is sent, but
                // read from stderr by a thread: a reload of the same file
                // logs a line after it, and once that is read, so is it.
                reload(b, &std::fs::read_to_string(b.config_path()).unwrap());
                let logged = b
                    .logs()
                    .iter()
                    .any(|l| l["target"] == "access" && l["request_id"].as_str() == Some(&marker));
                format!("logged: {logged}")
            }),
            shows_before: "logged: true",
            shows_after: "logged: false",
        },
        Row {
            key: "server.introspection",
            before: with("[server]\nintrospection = false\n"),
            after: with("[server]\nintrospection = true\n"),
            probe: Box::new(|b| rpc(b.addr, "system.listMethods", &[]).text()),
            shows_before: "<int>-32601</int>",
            shows_after: "<string>echo</string>",
        },
        Row {
            key: "server.multicall",
            before: with("[server]\nmulticall = false\n"),
            after: with("[server]\nmulticall = true\n"),
            probe: Box::new(|b| multicall(b.addr, &[("echo", "<value><int>7</int></value>")])),
            shows_before: "<int>-32601</int>",
            shows_after: "<int>7</int>",
        },
        Row {
            key: "server.forward_headers",
            before: backend(&demo_rpc, ""),
            after: backend(&demo_rpc, "\"X-Tenant\""),
            probe: Box::new(|b| {
                let body = call_xml("demo.headers", &[]);
                let text = raw(b.addr, &post("/RPC2", &["X-Tenant: acme"], body.as_bytes())).text();
                assert!(text.contains("<name>x-request-id</name>"), "{text}");
                format!("tenant seen: {}", text.contains("<name>x-tenant</name>"))
            }),
            shows_before: "tenant seen: false",
            shows_after: "tenant seen: true",
        },
        Row {
            key: "server.docs",
            before: with("[server]\ndocs = false\n"),
            after: with("[server]\ndocs = true\n"),
            probe: Box::new(|b| format!("status {}", docs_page(b).status)),
            shows_before: "status 405",
            shows_after: "status 200",
        },
        Row {
            key: "server.docs_max_methods",
            before: with("[server]\ndocs = true\n"),
            after: with("[server]\ndocs = true\ndocs_max_methods = 1\n"),
            probe: Box::new(|b| {
                format!(
                    "cut: {}",
                    docs_page(b).text().contains("only the first 1 are listed")
                )
            }),
            shows_before: "cut: false",
            shows_after: "cut: true",
        },
        Row {
            key: "[auth]",
            before: with(""),
            after: with("[auth]\nmode = \"basic\"\nusers = { ops = \"pw\" }\n"),
            probe: Box::new(|b| {
                let body = call_xml("echo", &["<int>1</int>"]);
                let resp = raw(b.addr, &post("/RPC2", &[], body.as_bytes()));
                format!("status {}", resp.status)
            }),
            shows_before: "status 200",
            shows_after: "status 401",
        },
        Row {
            key: "[roles]",
            before: roles("pow"),
            after: roles("add"),
            probe: Box::new(|b| {
                let body = call_xml("pow", &["<int>2</int>", "<int>3</int>"]);
                let auth = "Authorization: Basic b3BzOnB3"; // ops:pw
                format!(
                    "status {}",
                    raw(b.addr, &post("/RPC2", &[auth], body.as_bytes())).status
                )
            }),
            shows_before: "status 200",
            shows_after: "status 403",
        },
        Row {
            key: "[[rate_limits]]",
            before: with(""),
            after: with(
                "[[rate_limits]]\nname = \"echoes\"\nmethods = [\"echo\"]\nkey = \"peer\"\nrate = 1\nper = \"1m\"\n",
            ),
            probe: Box::new(|b| {
                let body = call_xml("echo", &["<int>1</int>"]);
                let statuses: Vec<u16> = (0..2)
                    .map(|_| raw(b.addr, &post("/RPC2", &[], body.as_bytes())).status)
                    .collect();
                format!("statuses {statuses:?}")
            }),
            shows_before: "statuses [200, 200]",
            shows_after: "statuses [200, 429]",
        },
        Row {
            key: "limits.max_multicall_calls",
            before: with(""),
            after: with("[limits]\nmax_multicall_calls = 2\n"),
            probe: Box::new(|b| {
                let one = "<value><int>1</int></value>";
                multicall(b.addr, &[("echo", one), ("echo", one), ("echo", one)])
            }),
            shows_before: "<value><array><data><value><int>1</int></value></data></array></value>",
            shows_after: "<int>-32602</int>",
        },
        Row {
            key: "limits.multicall_concurrency",
            before: with("[limits]\nmulticall_concurrency = 1\n"),
            after: with("[limits]\nmulticall_concurrency = 4\n"),
            probe: Box::new(|b| {
                // Four calls of 500 ms: one at a time takes 2 s, four at
                // once about 0.5 s; the line between leaves room for a busy
                // machine either way.
                let ms = "<value><int>500</int></value>";
                let started = Instant::now();
                multicall(
                    b.addr,
                    &[("sleep", ms), ("sleep", ms), ("sleep", ms), ("sleep", ms)],
                );
                let serial = started.elapsed() >= Duration::from_millis(1500);
                format!("serial: {serial}")
            }),
            shows_before: "serial: true",
            shows_after: "serial: false",
        },
        Row {
            key: "limits.call_timeout",
            before: with(""),
            after: with("[limits]\ncall_timeout = \"100ms\"\n"),
            probe: Box::new(|b| rpc(b.addr, "sleep", &["<int>400</int>"]).text()),
            shows_before: "<int>400</int>",
            shows_after: "<int>-32301</int>",
        },
    ]
}

#[test]
fn every_reloadable_key_takes_effect_on_sighup() {
    let demo = Service::demo(&[]);
    let mut failures = Vec::new();
    for row in rows(&demo) {
        let bin = Binary::start(&row.before);
        let before = (row.probe)(&bin);
        reload(&bin, &row.after);
        let after = (row.probe)(&bin);
        let ok = before.contains(row.shows_before)
            && !before.contains(row.shows_after)
            && after.contains(row.shows_after)
            && !after.contains(row.shows_before);
        if !ok {
            failures.push(format!(
                "{}:\n  before: {before}\n  after:  {after}",
                row.key
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "keys that did not reload:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_restart_only_key_is_named_and_keeps_its_value() {
    let bin = Binary::start("");
    reload(
        &bin,
        "[server]\nrpc_paths = [\"/only\"]\n\n[limits]\nmax_body_bytes = 10\n",
    );
    let warned: Vec<String> = bin
        .logs()
        .iter()
        .filter(|l| l["level"] == "WARN")
        .filter_map(|l| l["key"].as_str().map(str::to_owned))
        .collect();
    assert!(warned.iter().any(|k| k == "server.rpc_paths"), "{warned:?}");
    assert!(
        warned.iter().any(|k| k == "limits.max_body_bytes"),
        "{warned:?}"
    );
    // The running values stay: /RPC2 still answers, and a body over ten
    // bytes is still taken.
    let resp = rpc(bin.addr, "add", &["<int>2</int>", "<int>3</int>"]);
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("<int>5</int>"), "{}", resp.text());
}
