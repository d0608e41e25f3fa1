//! Who may call what: roles decided on the decoded name, for single calls
//! (HTTP 403) and each multicall entry (fault -32403, the others run),
//! listed methods filtered per caller, decisions counted by role.

mod common;

use common::{Gateway, call_xml, post, raw, sample_value};

const CONFIG: &str = r#"
[auth]
mode = "basic"
users = { monitor = "m-pw", operator = "o-pw" }
roles = { monitor = ["read"], operator = ["read", "control"] }

[roles.read]
allow = ["pow", "echo"]

[roles.control]
allow = ["*"]
deny = ["div"]

[[routes]]
method = "pow"
handler = "pow"
roles = ["read", "control"]

[[routes]]
method = "add"
handler = "add"
roles = ["read", "control"]

[[routes]]
method = "div"
handler = "div"
roles = ["read", "control"]

[[routes]]
method = "echo"
handler = "echo"
roles = ["read"]
"#;

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Authorization: Basic {token}")
}

fn send(gw: &Gateway, user: &str, password: &str, body: &str) -> common::RawResponse {
    raw(
        gw.addr,
        &post("/RPC2", &[&basic(user, password)], body.as_bytes()),
    )
}

const TWO_THREE: [&str; 2] = ["<int>2</int>", "<int>3</int>"];

#[test]
fn roles_decide_each_call_on_its_decoded_name() {
    let gw = Gateway::start(CONFIG);
    let pow = call_xml("pow", &TWO_THREE);
    let add = call_xml("add", &TWO_THREE);
    // monitor reads, and may not add.
    let r = send(&gw, "monitor", "m-pw", &pow);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<int>8</int>"), "{}", r.text());
    let r = send(&gw, "monitor", "m-pw", &add);
    assert_eq!(r.status, 403, "{}", r.text());
    // A character reference spells the same name: decided on the decoded one.
    let sneaky = add.replace("<methodName>add", "<methodName>&#97;dd");
    assert_eq!(send(&gw, "monitor", "m-pw", &sneaky).status, 403);
    // Case tricks name another method, which nothing routes.
    let upper = add.replace("<methodName>add", "<methodName>ADD");
    let r = send(&gw, "monitor", "m-pw", &upper);
    assert!(
        r.text().contains("<int>-32601</int>"),
        "ADD is not add: {}",
        r.text()
    );
    // operator may add; its own role denies div, and deny wins.
    assert!(
        send(&gw, "operator", "o-pw", &add)
            .text()
            .contains("<int>5</int>")
    );
    assert_eq!(
        send(&gw, "operator", "o-pw", &call_xml("div", &TWO_THREE)).status,
        403
    );
    // No credentials: 401 as for any route that needs them.
    assert_eq!(
        raw(gw.addr, &post("/RPC2", &[], pow.as_bytes())).status,
        401
    );
}

#[test]
fn multicall_entries_are_decided_one_by_one() {
    let gw = Gateway::start(CONFIG);
    let entry = |name: &str| {
        format!(
            "<value><struct><member><name>methodName</name><value><string>{name}</string></value></member><member><name>params</name><value><array><data><value><int>2</int></value><value><int>3</int></value></data></array></value></member></struct></value>"
        )
    };
    let entries = [entry("pow"), entry("add"), entry("&#97;dd"), entry("pow")].concat();
    let body = call_xml(
        "system.multicall",
        &[&format!("<array><data>{entries}</data></array>")],
    );
    let r = send(&gw, "monitor", "m-pw", &body);
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_eq!(text.matches("<int>8</int>").count(), 2, "{text}");
    assert_eq!(text.matches("<int>-32403</int>").count(), 2, "{text}");
    let metrics = gw.metrics();
    let decisions = |labels: &str| {
        sample_value(
            &metrics,
            &format!("xmlrpc_gateway_access_decisions_total{{{labels}}}"),
        )
    };
    assert_eq!(
        decisions(r#"outcome="allowed",role="read""#),
        2.0,
        "{metrics}"
    );
    assert_eq!(
        decisions(r#"outcome="denied",role="read""#),
        2.0,
        "{metrics}"
    );
    assert!(
        !metrics.contains("m-pw") && !metrics.contains("monitor"),
        "no secrets or names"
    );
}

#[test]
fn each_caller_lists_only_what_it_may_call() {
    let gw = Gateway::start(CONFIG);
    let list = call_xml("system.listMethods", &[]);
    let monitor = send(&gw, "monitor", "m-pw", &list).text();
    let operator = send(&gw, "operator", "o-pw", &list).text();
    for (text, has, hasnt) in [
        (&monitor, ["pow", "echo"], ["add", "div"]),
        (&operator, ["add", "echo"], ["div", "div"]),
    ] {
        for name in has {
            assert!(
                text.contains(&format!("<string>{name}</string>")),
                "{name}: {text}"
            );
        }
        for name in hasnt {
            assert!(
                !text.contains(&format!("<string>{name}</string>")),
                "{name}: {text}"
            );
        }
    }
}
