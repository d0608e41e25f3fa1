//! Bugzilla's legacy XML-RPC client, unchanged (PyPI's `python-bugzilla`
//! in its XML-RPC mode), through the gateway running
//! `examples/bugzilla.toml`, against a stand-in of Bugzilla's REST API
//! written from Bugzilla's REST documentation (`tests/standins/`).

mod common;

use common::{Binary, StandIn, python_module_available};

const API_KEY: &str = "k3y-Secret-0123";

fn gateway(bugzilla: &StandIn) -> Binary {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/bugzilla.toml"
    ))
    .unwrap();
    Binary::start_env(
        &example,
        &[("XMLRPC_GATEWAY__BACKENDS__BUGZILLA__URL", &bugzilla.url())],
    )
}

/// Runs a python-bugzilla script against the gateway; its stdout. `open`
/// stands for the client's constructor with the key.
fn client(bin: &Binary, script: &str) -> String {
    let url = format!("http://{}/xmlrpc.cgi", bin.addr);
    let prelude = format!(
        "import bugzilla, xmlrpc.client\ndef open():\n    return bugzilla.Bugzilla({url:?}, api_key={API_KEY:?}, force_xmlrpc=True, use_creds=False)\n"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python-bugzilla failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn python_bugzilla_reads_and_writes_bugs_through_the_rest_api() {
    if !python_module_available("bugzilla", "python-bugzilla") {
        return;
    }
    let bugzilla = StandIn::start(
        "bugzilla_rest.py",
        &["--api-key", API_KEY, "--fixed-time", "2026-03-04T05:06:07Z"],
    );
    let bin = gateway(&bugzilla);
    let out = client(
        &bin,
        r#"
bz = open()
print("version", bz.bz_ver_major, bz.bz_ver_minor)
b = bz.getbug(1)
print("bug", b.id, b.summary, type(b.creation_time).__name__, b.creation_time)
print("bugs", sorted(x.id for x in bz.getbugs([1, 2])))
print("query", sorted(x.id for x in bz.query(bz.build_query(product="TestProduct"))))
c = b.getcomments()
print("comments", len(c), c[-1]["text"])
new = bz.createbug(bz.build_createbug(product="TestProduct", component="TestComponent", version="1.0", summary="New bug", description="It broke", op_sys="Linux", platform="All"))
bz.update_bugs([new.id], bz.build_update(status="RESOLVED", resolution="FIXED", comment="done"))
new.refresh()
print("updated", new.id, new.status, new.resolution)
try:
    bz.getbug(999)
except xmlrpc.client.Fault as f:
    print("fault", f.faultCode, f.faultString)
"#,
    );
    for want in [
        "version 5 ",
        "bug 1 Gateway crashes on empty struct DateTime 20260102T03:04:05Z",
        "bugs [1, 2]",
        "query [1, 2]",
        "comments 2 Confirmed on 1.0.",
        "updated 4 RESOLVED FIXED",
        "fault 101 Bug #999 does not exist.",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The API key travelled as Bugzilla's header, never in a URL or a body.
    let requests = bugzilla.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        let text = request.to_string();
        let header = request["headers"]["x-bugzilla-api-key"].as_str();
        if request["path"] == "/__requests" {
            continue;
        }
        assert_eq!(header, Some(API_KEY), "{text}");
        assert!(
            !request["raw_query"]
                .as_str()
                .unwrap_or("")
                .contains(API_KEY)
                && !request["body"].to_string().contains(API_KEY),
            "the key left its header: {text}"
        );
    }
    // ...and in none of the gateway's log lines.
    let logs = format!("{:?}", bin.logs());
    assert!(!logs.contains(API_KEY), "{logs}");
}

#[test]
fn a_wrong_key_is_bugzillas_fault_not_an_http_error() {
    if !python_module_available("bugzilla", "python-bugzilla") {
        return;
    }
    let bugzilla = StandIn::start("bugzilla_rest.py", &["--api-key", "right"]);
    let bin = gateway(&bugzilla);
    let out = client(
        &bin,
        r#"
try:
    open().getbug(1)
except xmlrpc.client.Fault as f:
    print("fault", f.faultCode)
"#,
    );
    assert!(out.contains("fault 306"), "{out}");
}
