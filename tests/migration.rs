//! Migrating a legacy XML-RPC service, on the real binary running
//! `examples/migration.toml`: shadow traffic compared on typed values, and
//! weighted, sticky canaries. The service is `tests/standins/migration.py`,
//! one process for `legacy` (XML-RPC) and one for `candidate` (JSON-RPC),
//! each able to answer slowly or differently.
//!
//! The hash functions' shares over tens of thousands of keys are unit tests
//! in `src/dispatch/split.rs`; here a few hundred real calls.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Binary, Reload, StandIn, call_xml, get, post, raw, sample_value, wait_until};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/migration.toml");

fn example() -> String {
    std::fs::read_to_string(EXAMPLE).unwrap()
}

fn service(args: &[&str]) -> StandIn {
    StandIn::start("migration.py", args)
}

/// The gateway on `toml`, its backends' URLs from the environment as an
/// operator sets them.
fn gateway(toml: &str, legacy: &StandIn, candidate_url: &str) -> Binary {
    Binary::start_env(
        toml,
        &[
            (
                "XMLRPC_GATEWAY__BACKENDS__LEGACY__URL",
                &format!("{}/RPC2", legacy.url()),
            ),
            ("XMLRPC_GATEWAY__BACKENDS__CANDIDATE__URL", candidate_url),
        ],
    )
}

fn candidate_url(candidate: &StandIn) -> String {
    format!("{}/rpc", candidate.url())
}

/// One call with a request id of the test's choosing; the response body.
fn call(bin: &Binary, id: &str, method: &str, params: &[&str]) -> Vec<u8> {
    let header = format!("X-Request-Id: {id}");
    let body = call_xml(method, params);
    let resp = raw(bin.addr, &post("/RPC2", &[&header], body.as_bytes()));
    assert_eq!(resp.status, 200);
    resp.body
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn metrics(bin: &Binary) -> String {
    let resp = get(bin.admin_addr.unwrap_or(bin.addr), "/metrics");
    assert_eq!(resp.status, 200);
    resp.text()
}

fn shadow_calls(bin: &Binary, result: &str) -> f64 {
    sample_value(
        &metrics(bin),
        &format!("xmlrpc_gateway_shadow_calls_total{{result=\"{result}\",route=\"inventory.*\"}}"),
    )
}

/// Waits until the shadow results are exactly these (10 s at most).
#[track_caller]
fn await_shadow(bin: &Binary, want: &[(&str, f64)]) {
    wait_until(Duration::from_secs(10), || {
        want.iter().all(|(r, n)| shadow_calls(bin, r) == *n)
    });
}

#[test]
fn the_example_passes_check_config_and_shows_weights_and_shadow() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
        .args(["check-config", EXAMPLE])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for want in [
        "inventory.*",
        "backend:legacy",
        "shadow 100% to candidate, compared",
        "orders.*",
        "split:legacy,candidate",
        "weights legacy=80 candidate=20 (sticky by param {0})",
    ] {
        assert!(stdout.contains(want), "{want} missing:\n{stdout}");
    }
}

#[test]
fn check_config_refuses_a_shadowed_write_and_bad_splits_naming_the_key() {
    let example = example();
    let cases = [
        (
            example.replace("idempotent = true\n", ""),
            "routes[0] (method \"inventory.*\").shadow.allow_writes",
        ),
        (
            example.replace(
                "backend = \"candidate\", percent",
                "backend = \"nope\", percent",
            ),
            "routes[0] (method \"inventory.*\").shadow.backend",
        ),
        (
            example.replace("name = \"candidate\", weight", "name = \"nope\", weight"),
            "routes[1] (method \"orders.*\").backends",
        ),
        (
            example
                .replace("weight = 80", "weight = 0")
                .replace("weight = 20", "weight = 0"),
            "routes[1] (method \"orders.*\").backends",
        ),
        (
            example.replace("sticky = ", "backend = \"legacy\"\nsticky = "),
            "routes[1] (method \"orders.*\")",
        ),
        (
            example.replace("sticky = \"param:{0}\"", "sticky = \"peer\""),
            "routes[1] (method \"orders.*\").sticky",
        ),
    ];
    let dir = common::TempDir::new();
    for (i, (toml, key)) in cases.iter().enumerate() {
        let file = dir.0.join(format!("case{i}.toml"));
        std::fs::write(&file, toml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
            .arg("check-config")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "case {i}: {stderr}");
        assert!(
            stderr.contains(key),
            "case {i}: {key} not named in {stderr}"
        );
    }
    // The explicit allow lets a write route be shadowed.
    let allowed = example.replace("idempotent = true\n", "").replace(
        "max_concurrent = 64 }",
        "max_concurrent = 64, allow_writes = true }",
    );
    let file = dir.0.join("allowed.toml");
    std::fs::write(&file, allowed).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
        .arg("check-config")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn the_client_gets_the_same_bytes_with_shadowing_on_and_off() {
    let legacy = service(&["--name", "legacy"]);
    let candidate = service(&["--name", "candidate"]);
    let on = example();
    let off: String = on
        .lines()
        .filter(|l| !l.starts_with("shadow = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(on, off);
    let calls: [(&str, &[&str]); 4] = [
        ("inventory.get", &["<int>3</int>"]),
        ("inventory.list", &[]),
        ("inventory.nothing", &[]),
        ("inventory.get", &["<string>not a number</string>"]),
    ];
    let mut answers = Vec::new();
    for toml in [&on, &off] {
        let bin = gateway(toml, &legacy, &candidate_url(&candidate));
        let bodies: Vec<Vec<u8>> = calls
            .iter()
            .enumerate()
            .map(|(i, (m, p))| call(&bin, &format!("same-{i}"), m, p))
            .collect();
        if toml == &on {
            // Each was compared and matched: the values (updated_at
            // ignored, the double price equal), the unknown method's faults
            // (-32601 on both sides), the bad param's (1 on both).
            await_shadow(&bin, &[("match", 4.0), ("mismatch", 0.0), ("error", 0.0)]);
        } else {
            assert!(!metrics(&bin).contains("xmlrpc_gateway_shadow_calls_total{"));
        }
        answers.push(bodies);
    }
    assert!(text(&answers[0][0]).contains("<name>price</name><value><double>2.5</double>"));
    assert_eq!(
        answers[0], answers[1],
        "shadowing changed the client's bytes"
    );
}

#[test]
fn a_slow_or_dead_shadow_costs_the_client_nothing() {
    let legacy = service(&["--name", "legacy"]);
    let slow = service(&["--name", "candidate", "--delay", "2"]);
    // A shadow that answers after 2 s, given 5 s; one shadow call at a time.
    let toml = example()
        .replace("timeout = \"2s\"", "timeout = \"5s\"")
        .replace("max_concurrent = 64", "max_concurrent = 1");
    let bin = gateway(&toml, &legacy, &candidate_url(&slow));
    let started = Instant::now();
    for i in 0..5 {
        let body = call(
            &bin,
            &format!("slow-{i}"),
            "inventory.get",
            &["<int>1</int>"],
        );
        assert!(text(&body).contains("widget-1"), "{}", text(&body));
    }
    // All five answered before the first shadow call could have: no call
    // waited for its shadow.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The first took the one slot for 2 s; the other four were dropped, and
    // the first, compared once the shadow answered, matched.
    await_shadow(&bin, &[("dropped", 4.0)]);
    await_shadow(&bin, &[("match", 1.0), ("dropped", 4.0), ("error", 0.0)]);
    assert_eq!(slow.requests().len(), 1);
    drop(bin);

    // A shadow that is down: every client call answered, every shadow call
    // an error.
    let bin = gateway(&example(), &legacy, "http://127.0.0.1:1/rpc");
    for i in 0..5 {
        let body = call(
            &bin,
            &format!("dead-{i}"),
            "inventory.get",
            &["<int>2</int>"],
        );
        assert!(
            text(&body).contains("widget-2") && !text(&body).contains("fault"),
            "{}",
            text(&body)
        );
    }
    await_shadow(&bin, &[("error", 5.0), ("match", 0.0), ("mismatch", 0.0)]);
}

#[test]
fn a_difference_is_counted_and_logged_once_per_sample_multicall_entries_too() {
    let legacy = service(&["--name", "legacy"]);
    let candidate = service(&["--name", "candidate", "--differ", "7"]);
    let bin = gateway(&example(), &legacy, &candidate_url(&candidate));
    call(&bin, "differs-1", "inventory.get", &["<int>7</int>"]);
    call(&bin, "same-1", "inventory.get", &["<int>1</int>"]);
    call(&bin, "differs-2", "inventory.get", &["<int>7</int>"]);
    let entries = common::multicall_entries(&[
        ("inventory.get", "<value><int>7</int></value>"),
        ("inventory.get", "<value><int>2</int></value>"),
        ("orders.get", "<value><string>c1</string></value>"),
    ]);
    let body = call(&bin, "multi-1", "system.multicall", &[&entries]);
    assert!(text(&body).contains("widget-2"), "{}", text(&body));
    await_shadow(&bin, &[("mismatch", 3.0), ("match", 2.0), ("error", 0.0)]);
    // Logged before it is counted, but read from stderr by a thread.
    wait_until(Duration::from_secs(10), || {
        bin.count_logged("shadow answer differs") >= 3
    });
    let mismatches: Vec<serde_json::Value> = bin
        .logs()
        .into_iter()
        .filter(|l| l["message"] == "shadow answer differs")
        .collect();
    let mut ids: Vec<&str> = mismatches
        .iter()
        .map(|l| l["request_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["differs-1", "differs-2", "multi-1"],
        "{mismatches:#?}"
    );
    for line in &mismatches {
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["method"], "inventory.get");
        assert_eq!(line["path"], "price");
        // The values only at debug level.
        assert!(line.get("primary").is_none() && line.get("shadow").is_none());
    }
    // The access log names the backend each call went to; a multicall's
    // entries' in order. (Access lines reach stderr through the log
    // writer's thread: wait for the last one.)
    let logged = |id: &str| {
        bin.logs()
            .iter()
            .any(|l| l["target"] == "access" && l["request_id"] == id)
    };
    wait_until(Duration::from_secs(10), || logged("multi-1"));
    let access: BTreeMap<String, String> = bin
        .logs()
        .into_iter()
        .filter(|l| l["target"] == "access")
        .map(|l| {
            let id = l["request_id"].as_str().unwrap().to_owned();
            (id, l["backend"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert_eq!(access["differs-1"], "legacy");
    let orders_backend = if text(&body).contains("<string>legacy</string>") {
        "legacy"
    } else {
        "candidate"
    };
    assert_eq!(access["multi-1"], format!("legacy,legacy,{orders_backend}"));
}

/// Where `customer`'s orders calls go: the backend that answered.
fn served_by(bin: &Binary, id: &str, customer: &str) -> String {
    let body = text(&call(
        bin,
        id,
        "orders.get",
        &[&format!("<string>{customer}</string>")],
    ));
    for name in ["legacy", "candidate"] {
        if body.contains(&format!(
            "<name>served_by</name><value><string>{name}</string>"
        )) {
            return name.to_owned();
        }
    }
    panic!("no served_by in {body}");
}

#[test]
fn shares_hold_and_callers_stay_on_their_backend_across_reloads() {
    let legacy = service(&["--name", "legacy"]);
    let candidate = service(&["--name", "candidate"]);
    // Shadow a quarter of the inventory calls.
    let toml = example().replace("percent = 100", "percent = 25");
    let bin = gateway(&toml, &legacy, &candidate_url(&candidate));
    let n = 400;
    for i in 0..n {
        call(
            &bin,
            &format!("req-{i}"),
            "inventory.get",
            &["<int>1</int>"],
        );
    }
    // 25% of 400 is 100; a binomial share has a standard deviation of 8.7
    // calls: within 30 calls (7.5 points) is 3.4 of them.
    wait_until(Duration::from_secs(10), || {
        let text = metrics(&bin);
        let total: f64 = ["match", "mismatch", "error", "dropped"]
            .iter()
            .map(|r| {
                sample_value(
                    &text,
                    &format!(
                        "xmlrpc_gateway_shadow_calls_total{{result=\"{r}\",route=\"inventory.*\"}}"
                    ),
                )
            })
            .sum();
        total == candidate.requests().len() as f64 && total > 0.0
    });
    let shadowed = shadow_calls(&bin, "match");
    eprintln!("shadow at 25%: {shadowed} of {n} calls copied");
    assert!(
        (shadowed - 100.0).abs() <= 30.0,
        "{shadowed} of {n} shadowed"
    );

    // 80/20 by customer: within 7.5 points of 20% (a standard deviation is
    // 2 points).
    let customers: Vec<String> = (0..n).map(|i| format!("customer-{i}")).collect();
    let place = |bin: &Binary, round: &str| -> Vec<String> {
        customers
            .iter()
            .map(|c| served_by(bin, &format!("{round}-{c}"), c))
            .collect()
    };
    let first = place(&bin, "a");
    let on_candidate = first.iter().filter(|b| *b == "candidate").count();
    let share = on_candidate as f64 / n as f64;
    eprintln!("split 80/20: {on_candidate} of {n} customers on candidate");
    assert!(
        (share - 0.2).abs() <= 0.075,
        "{on_candidate} of {n} on candidate"
    );
    // The call metrics carry the backend, from the configured names.
    let metrics = metrics(&bin);
    let series = |backend: &str| {
        sample_value(
            &metrics,
            &format!(
                "xmlrpc_gateway_calls_total{{backend=\"{backend}\",method=\"orders.*\",origin=\"none\",outcome=\"ok\",route=\"split:legacy,candidate\"}}"
            ),
        )
    };
    assert_eq!(series("candidate"), on_candidate as f64, "{metrics}");
    assert_eq!(series("legacy"), (n - on_candidate) as f64);

    // A reload that changes nothing of the split: everyone stays put.
    std::fs::write(bin.config_path(), format!("# reloaded\n{toml}")).unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
    assert_eq!(place(&bin, "b"), first);

    // Candidate's weight raised: only callers moving to candidate move.
    std::fs::write(
        bin.config_path(),
        toml.replace("weight = 80", "weight = 40"),
    )
    .unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
    let raised = place(&bin, "c");
    let mut moved = 0;
    for (before, after) in first.iter().zip(&raised) {
        if before != after {
            assert_eq!((before.as_str(), after.as_str()), ("legacy", "candidate"));
            moved += 1;
        }
    }
    // From 20% to a third: about 13 points of the callers move.
    let moved_share = moved as f64 / n as f64;
    eprintln!("legacy 80 -> 40: {moved} of {n} customers moved, all to candidate");
    assert!((moved_share - 0.133).abs() <= 0.075, "{moved} moved");

    // Legacy drained.
    std::fs::write(bin.config_path(), toml.replace("weight = 80", "weight = 0")).unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
    assert!(place(&bin, "d").iter().all(|b| b == "candidate"));
}
