//! The server core as Python's `xmlrpc.client` sees it: a real client
//! nobody here wrote, against the embedded default config.

mod common;

use common::{Gateway, python, python_file};

#[test]
fn python_client_against_default_config() {
    let gw = Gateway::start("");
    let out = python_file("core_client.py", &gw.url("/RPC2"));
    // Every test of the script ran and passed: the summary line names them
    // all as passed and none as failed (a failure also exits non-zero,
    // which `python_file` reports).
    let script = include_str!("python/core_client.py");
    let tests = script
        .lines()
        .filter(|l| l.trim_start().starts_with("def test_"))
        .count();
    assert!(tests > 0);
    let summary = out.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        format!("python xmlrpc.client: {tests} passed, 0 failed"),
        "{out}"
    );
}

#[test]
fn nil_is_a_fault_when_allow_none_is_off() {
    let gw = Gateway::start("[server]\nallow_none = false\n");
    let out = python(
        r#"
import os, xmlrpc.client as xc
s = xc.ServerProxy(os.environ["URL"], allow_none=True)
try:
    s.echo(None)
    print("no fault")
except xc.Fault as f:
    print(f.faultCode, f.faultString)
m = xc.MultiCall(s)
m.echo(None)
m.echo(1)
print(m().results)
"#,
        &gw.url("/RPC2"),
    );
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("-32603 echo: cannot marshal nil unless allow_none is enabled")
    );
    let multi = lines.next().unwrap();
    assert!(
        multi.contains("'faultCode': -32603") && multi.ends_with("[1]]"),
        "{multi}"
    );
}

#[test]
fn introspection_and_multicall_can_be_switched_off() {
    let gw = Gateway::start("[server]\nintrospection = false\nmulticall = false\n");
    let out = python(
        r#"
import os, xmlrpc.client as xc
s = xc.ServerProxy(os.environ["URL"])
for call in (lambda: s.system.listMethods(), lambda: s.system.multicall([])):
    try:
        call()
        print("answered")
    except xc.Fault as f:
        print(f.faultCode)
print(s.add(1, 2))
"#,
        &gw.url("/RPC2"),
    );
    assert_eq!(out.trim(), "-32601\n-32601\n3");
}

#[test]
fn latin1_response_encoding() {
    let gw = Gateway::start("[server]\nencoding = \"iso-8859-1\"\n");
    let out = python(
        r#"
import os, urllib.request
body = "<?xml version='1.0' encoding='utf-8'?><methodCall><methodName>echo</methodName><params><param><value><string>caf\u00e9 \u2603</string></value></param></params></methodCall>".encode("utf-8")
resp = urllib.request.urlopen(urllib.request.Request(os.environ["URL"], data=body, headers={"Content-Type": "text/xml"}))
raw = resp.read()
print(raw.split(b"?>")[0].decode("ascii"))
print(b"caf\xe9 &#9731;" in raw)
import xmlrpc.client as xc
print(xc.ServerProxy(os.environ["URL"]).echo("caf\u00e9 \u2603") == "caf\u00e9 \u2603")
"#,
        &gw.url("/RPC2"),
    );
    assert_eq!(
        out.trim(),
        "<?xml version=\"1.0\" encoding=\"iso-8859-1\"\nTrue\nTrue"
    );
}
