//! Mapping and routing keys seen from outside: routes limited to an RPC
//! path (two legacy APIs whose names collide, each with its own
//! introspection), and `check-config` printing a route's mapping or
//! refusing a bad one with exit 64 naming the key.

mod common;

use std::process::Command;

use common::{Gateway, call_xml, post, raw};

fn call_at(gw: &Gateway, path: &str, method: &str, params: &[&str]) -> String {
    raw(
        gw.addr,
        &post(path, &[], call_xml(method, params).as_bytes()),
    )
    .text()
}

#[test]
fn two_apis_whose_names_collide_live_on_their_own_paths() {
    let gw = Gateway::start(
        r#"
[server]
rpc_paths = ["/", "/tracker", "/wiki"]

[[routes]]
method = "getVersion"
handler = "echo"
rpc_path = "/tracker"

[[routes]]
method = "getVersion"
handler = "add"
rpc_path = "/wiki"

[[routes]]
method = "pow"
handler = "pow"
"#,
    );
    let two_three = ["<int>2</int>", "<int>3</int>"];
    let tracker = call_at(&gw, "/tracker", "getVersion", &["<string>t-1.0</string>"]);
    assert!(tracker.contains("<string>t-1.0</string>"), "{tracker}");
    assert!(call_at(&gw, "/wiki", "getVersion", &two_three).contains("<int>5</int>"));
    assert!(call_at(&gw, "/", "getVersion", &two_three).contains("<int>-32601</int>"));
    // Shared routes answer on every path.
    for path in ["/", "/tracker", "/wiki"] {
        assert!(
            call_at(&gw, path, "pow", &two_three).contains("<int>8</int>"),
            "{path}"
        );
    }
    // Introspection answers per path.
    let listed = |path| call_at(&gw, path, "system.listMethods", &[]);
    assert!(listed("/tracker").contains("<string>getVersion</string>"));
    assert!(!listed("/").contains("getVersion"), "{}", listed("/"));
    let help = |path| {
        call_at(
            &gw,
            path,
            "system.methodSignature",
            &["<string>getVersion</string>"],
        )
    };
    assert_ne!(help("/tracker"), help("/wiki"), "each path's own signature");
}

fn check_config(toml: &str) -> (i32, String) {
    let dir = common::TempDir::new();
    let file = dir.0.join("gateway.toml");
    std::fs::write(&file, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
        .arg("check-config")
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

const BACKEND: &str = "[backends.bz]\nkind = \"json\"\nurl = \"http://127.0.0.1:9/\"\n\n[[routes]]\nmethod = \"Bug.get\"\nbackend = \"bz\"\n";

#[test]
fn check_config_prints_each_routes_mapping() {
    let (code, text) = check_config(&format!(
        "{BACKEND}http_method = \"GET\"\npath = \"/rest/bug/{{0.ids.0}}\"\nheaders = {{ X-BUGZILLA-API-KEY = \"{{0.Bugzilla_api_key}}\" }}\nrpc_path = \"/RPC2\"\n[routes.result]\npointer = \"/bugs\"\n"
    ));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("on RPC path /RPC2 only:"), "{text}");
    assert!(
        text.contains("GET /rest/bug/{0.ids.0} x-bugzilla-api-key: {0.Bugzilla_api_key} -> /bugs"),
        "{text}"
    );
}

#[test]
fn check_config_refuses_a_bad_mapping_naming_the_key() {
    for (route, key) in [
        (
            "path = \"/bug/{3}\"\nparams = [\"id\"]\n",
            "routes[0] (method \"Bug.get\").path:",
        ),
        (
            "[routes.result]\npointer = \"bugs\"\n",
            "routes[0] (method \"Bug.get\").result.pointer:",
        ),
        (
            "rpc_path = \"/elsewhere\"\n",
            "routes[0] (method \"Bug.get\").rpc_path:",
        ),
    ] {
        let (code, text) = check_config(&format!("{BACKEND}{route}"));
        assert_eq!(code, 64, "{route}: {text}");
        assert!(text.contains(key), "{route}: {text}");
    }
}
