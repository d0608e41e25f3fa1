//! Rate limits seen from outside: HTTP 429 with Retry-After for a single
//! call, fault -32429 for each multicall entry over the limit (the others
//! run), limits that count only failures, decisions counted by limit.

mod common;

use common::{Gateway, call_xml, multicall_xml as multicall, post, raw, sample_value};

const CONFIG: &str = r#"
[[routes]]
method = "pow"
handler = "pow"

[[routes]]
method = "div"
handler = "div"

[[rate_limits]]
name = "pow-per-client"
methods = ["pow"]
key = "peer"
rate = 3
per = "1m"

[[rate_limits]]
name = "failed-divisions"
methods = ["div"]
key = "{1}"
rate = 5
per = "1m"
count_faults = [-32500]
"#;

#[test]
fn a_single_call_over_the_limit_gets_429_with_retry_after() {
    let gw = Gateway::start(CONFIG);
    let pow = call_xml("pow", &["<int>2</int>", "<int>3</int>"]);
    for _ in 0..3 {
        let r = raw(gw.addr, &post("/RPC2", &[], pow.as_bytes()));
        assert_eq!(r.status, 200);
        assert!(r.text().contains("<int>8</int>"));
    }
    let r = raw(gw.addr, &post("/RPC2", &[], pow.as_bytes()));
    assert_eq!(r.status, 429, "{}", r.text());
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=20).contains(&wait),
        "one call earned back in 20 s: {wait}"
    );
    let metrics = gw.metrics();
    let v = |outcome: &str| {
        sample_value(
            &metrics,
            &format!(
                r#"xmlrpc_gateway_rate_limit_decisions_total{{limit="pow-per-client",outcome="{outcome}"}}"#
            ),
        )
    };
    assert_eq!((v("allowed"), v("limited")), (3.0, 1.0), "{metrics}");
}

#[test]
fn every_multicall_entry_counts_and_only_failures_use_up_the_limit() {
    let gw = Gateway::start(CONFIG);
    let ok = (
        "div",
        "<value><int>4</int></value><value><int>2</int></value>",
    );
    // Successes give their token back: twenty of them pass.
    let text = raw(
        gw.addr,
        &post("/RPC2", &[], multicall(&[ok; 20]).as_bytes()),
    )
    .text();
    assert_eq!(text.matches("<int>2</int>").count(), 20, "{text}");
    // Twenty failing entries in one request: five fail for real, the rest
    // are refused before they run.
    let bad = (
        "div",
        "<value><int>1</int></value><value><int>0</int></value>",
    );
    let text = raw(
        gw.addr,
        &post("/RPC2", &[], multicall(&[bad; 20]).as_bytes()),
    )
    .text();
    assert_eq!(text.matches("<int>-32500</int>").count(), 5, "{text}");
    assert_eq!(text.matches("<int>-32429</int>").count(), 15, "{text}");
    // The limit is per divisor (the key is param 1): another one is free.
    let other = (
        "div",
        "<value><int>1</int></value><value><int>2</int></value>",
    );
    let text = raw(gw.addr, &post("/RPC2", &[], multicall(&[other]).as_bytes())).text();
    assert!(!text.contains("-32429"), "{text}");
}
