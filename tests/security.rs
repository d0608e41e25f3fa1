//! Auth, CORS and TLS from the outside: raw HTTP for the exact statuses and
//! headers, Python's `xmlrpc.client` where users see the behaviour (Basic
//! credentials in the URL, HTTPS with a self-signed certificate), and the
//! real binary for SIGHUP reloads of tokens and certificates.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use common::{Binary, Gateway, RawResponse, Reload, TempDir, call_xml, post, raw, sample_value};

const ROUTES: &str = r#"
[[routes]]
method = "add"
handler = "add"
auth = "none"

[[routes]]
method = "pow"
handler = "pow"

[[routes]]
method = "echo"
handler = "echo"
"#;

fn basic(name: &str, password: &str) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
    format!("Authorization: Basic {text}")
}

fn call(gw: &Gateway, headers: &[&str], method: &str, params: &[&str]) -> RawResponse {
    raw(
        gw.addr,
        &post("/RPC2", headers, call_xml(method, params).as_bytes()),
    )
}

fn multicall_xml(entries: &[(&str, &[&str])]) -> String {
    let values: String = entries
        .iter()
        .map(|(name, params)| {
            let params: String = params
                .iter()
                .map(|p| format!("<value>{p}</value>"))
                .collect();
            format!(
                "<value><struct><member><name>methodName</name><value>{name}</value></member>\
                 <member><name>params</name><value><array><data>{params}</data></array></value></member></struct></value>"
            )
        })
        .collect();
    call_xml(
        "system.multicall",
        &[&format!("<array><data>{values}</data></array>")],
    )
}

fn basic_gateway() -> Gateway {
    let env = HashMap::from([("ALICE_PASSWORD".to_owned(), "wonder land".to_owned())]);
    Gateway::start_env(
        &format!(
            "[auth]\nmode = \"basic\"\nusers = {{ alice = \"${{ALICE_PASSWORD}}\" }}\n{ROUTES}"
        ),
        &env,
    )
}

#[test]
fn basic_auth_guards_required_routes_and_leaves_public_ones_open() {
    let gw = basic_gateway();
    let alice = basic("alice", "wonder land");

    // A public route: anonymous callers are served.
    let r = call(&gw, &[], "add", &["<int>2</int>", "<int>3</int>"]);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<int>5</int>"), "{}", r.text());

    // A route taking auth.default (required): 401 with the Basic challenge.
    let r = call(&gw, &[], "pow", &["<int>2</int>", "<int>3</int>"]);
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"xmlrpc-gateway\"")
    );

    // The right credentials open it.
    let r = call(&gw, &[&alice], "pow", &["<int>2</int>", "<int>3</int>"]);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<int>8</int>"), "{}", r.text());

    // Wrong credentials are refused even for a public route: one guess per
    // request, never a fault a script could loop on.
    let r = call(
        &gw,
        &[&basic("alice", "guess")],
        "add",
        &["<int>1</int>", "<int>1</int>"],
    );
    assert_eq!(r.status, 401);
    let r = call(&gw, &["Authorization: Basic %%%"], "add", &["<int>1</int>"]);
    assert_eq!(r.status, 401);

    // Unknown methods and introspection follow auth.default too.
    let r = call(&gw, &[], "nosuch", &[]);
    assert_eq!(r.status, 401);
    let r = call(&gw, &[], "system.listMethods", &[]);
    assert_eq!(r.status, 401);

    let m = gw.metrics();
    assert_eq!(
        sample_value(&m, "xmlrpc_gateway_auth_failures_total{reason=\"missing\"}"),
        3.0
    );
    assert_eq!(
        sample_value(&m, "xmlrpc_gateway_auth_failures_total{reason=\"invalid\"}"),
        1.0
    );
    assert_eq!(
        sample_value(
            &m,
            "xmlrpc_gateway_auth_failures_total{reason=\"malformed\"}"
        ),
        1.0
    );
}

#[test]
fn multicall_entries_are_checked_one_by_one() {
    let gw = basic_gateway();
    let body = multicall_xml(&[
        ("add", &["<int>1</int>", "<int>2</int>"]),
        ("pow", &["<int>2</int>", "<int>2</int>"]),
        ("echo", &["<string>x</string>"]),
    ]);
    let r = raw(gw.addr, &post("/RPC2", &[], body.as_bytes()));
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(text.contains("<int>3</int>"), "{text}");
    assert_eq!(text.matches("<int>-32401</int>").count(), 2, "{text}");
    let m = gw.metrics();
    assert_eq!(
        sample_value(&m, "xmlrpc_gateway_auth_failures_total{reason=\"missing\"}"),
        2.0
    );

    let alice = basic("alice", "wonder land");
    let r = raw(gw.addr, &post("/RPC2", &[&alice], body.as_bytes()));
    assert!(!r.text().contains("-32401"), "{}", r.text());
}

#[test]
fn python_sends_basic_credentials_from_the_url() {
    let gw = basic_gateway();
    let out = common::python(
        r#"
import os, xmlrpc.client
good = xmlrpc.client.ServerProxy(os.environ["URL"].replace("http://", "http://alice:wonder%20land@"))
print(good.pow(2, 5))
bad = xmlrpc.client.ServerProxy(os.environ["URL"])
try:
    bad.pow(2, 5)
except xmlrpc.client.ProtocolError as e:
    print(e.errcode, e.headers.get("www-authenticate"))
"#,
        &gw.url("/RPC2"),
    );
    assert_eq!(out, "32\n401 Basic realm=\"xmlrpc-gateway\"\n");
}

#[test]
fn bearer_tokens_from_a_file_and_no_public_route_refuse_early() {
    let dir = TempDir::new();
    let tokens = dir.0.join("tokens");
    std::fs::write(&tokens, "# CI\nci-token-1\n\nops-token-2\n").unwrap();
    let gw = Gateway::start(&format!(
        "[auth]\nmode = \"bearer\"\ntokens_file = {:?}\n[[routes]]\nmethod = \"add\"\nhandler = \"add\"\n",
        tokens.display().to_string()
    ));
    // Nothing is public: refused before the body is read.
    let r = call(&gw, &[], "add", &["<int>1</int>", "<int>2</int>"]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = call(
        &gw,
        &["Authorization: Bearer ops-token-2"],
        "add",
        &["<int>1</int>", "<int>2</int>"],
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<int>3</int>"));
    let r = call(
        &gw,
        &["Authorization: Bearer nope"],
        "add",
        &["<int>1</int>"],
    );
    assert_eq!(r.status, 401);
    let r = call(
        &gw,
        &["Authorization: Basic Y2k6eA=="],
        "add",
        &["<int>1</int>"],
    );
    assert_eq!(r.status, 401);
    let m = gw.metrics();
    for (reason, n) in [("missing", 1.0), ("invalid", 1.0), ("malformed", 1.0)] {
        assert_eq!(
            sample_value(
                &m,
                &format!("xmlrpc_gateway_auth_failures_total{{reason=\"{reason}\"}}")
            ),
            n,
            "{reason}"
        );
    }
}

#[test]
fn auth_config_mistakes_name_the_key() {
    use xmlrpc_gateway::config::Config;
    let cases: &[(&str, &str)] = &[
        (
            "[[routes]]\nmethod = \"add\"\nhandler = \"add\"\nauth = \"required\"\n",
            "routes[0].auth",
        ),
        ("[auth]\nmode = \"basic\"\n", "auth.users"),
        (
            "[auth]\nmode = \"bearer\"\ntokens = [\"\"]\n",
            "auth.tokens",
        ),
        ("[auth]\nmode = \"kerberos\"\n", "auth.mode"),
        (
            "[auth]\nmode = \"basic\"\nusers = { a = \"b\" }\ndefault = \"maybe\"\n",
            "auth.default",
        ),
        (
            "[auth]\nmode = \"bearer\"\ntokens_file = \"/nonexistent/tokens\"\n",
            "auth.tokens_file",
        ),
        (
            "[cors]\nallow_origins = [\"https://a.example/\"]\n",
            "cors.allow_origins",
        ),
        (
            "[server.tls]\ncert = \"/nonexistent/cert.pem\"\nkey = \"/nonexistent/key.pem\"\n",
            "server.tls",
        ),
    ];
    for (text, key) in cases {
        let err = Config::from_toml(text)
            .and_then(|c| c.settings().map(|_| ()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(key), "{text}: {err}");
    }
    // A missing ${NAME} names the user, and Debug never shows a secret.
    let err = Config::from_toml("[auth]\nmode = \"basic\"\nusers = { bob = \"${BOB_PW}\" }\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("auth.users.bob") && err.contains("BOB_PW"),
        "{err}"
    );
    let env = HashMap::from([("BOB_PW".to_owned(), "hunter2".to_owned())]);
    let cfg = Config::from_toml_env(
        "[auth]\nmode = \"basic\"\nusers = { bob = \"${BOB_PW}\" }\n",
        &env,
    )
    .unwrap();
    let shown = format!("{cfg:?} {:?}", cfg.settings().unwrap());
    assert!(
        shown.contains("bob") && !shown.contains("hunter2"),
        "{shown}"
    );
}

const CORS: &str = r#"
[cors]
allow_origins = ["https://app.example"]
max_age = "5m"
"#;

fn preflight(gw: &Gateway, origin: &str) -> RawResponse {
    raw(
        gw.addr,
        format!(
            "OPTIONS /RPC2 HTTP/1.1\r\nHost: test\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

#[test]
fn cors_off_keeps_options_at_405() {
    let gw = Gateway::start("");
    let r = preflight(&gw, "https://app.example");
    assert_eq!(r.status, 405);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = call(
        &gw,
        &["Origin: https://app.example"],
        "add",
        &["<int>1</int>", "<int>1</int>"],
    );
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[test]
fn cors_preflight_and_responses_for_allowed_origins_only() {
    // Auth on and nothing public: preflights still pass (browsers send
    // them without credentials), and the 401 carries CORS headers so the
    // page can read it.
    let gw = Gateway::start(&format!(
        "{CORS}[auth]\nmode = \"bearer\"\ntokens = [\"t0ken\"]\n"
    ));
    let r = preflight(&gw, "https://app.example");
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type, authorization")
    );
    assert_eq!(r.header("access-control-max-age"), Some("300"));
    assert_eq!(r.header("vary"), Some("Origin"));

    let r = preflight(&gw, "https://evil.example");
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = raw(
        gw.addr,
        b"OPTIONS /RPC2 HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n\
          Access-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());

    let r = call(
        &gw,
        &["Origin: https://app.example", "Authorization: Bearer t0ken"],
        "add",
        &["<int>1</int>", "<int>1</int>"],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(r.header("vary"), Some("Accept-Encoding, Origin"));

    let r = call(
        &gw,
        &["Origin: https://app.example"],
        "add",
        &["<int>1</int>"],
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );

    let r = call(
        &gw,
        &[
            "Origin: https://evil.example",
            "Authorization: Bearer t0ken",
        ],
        "add",
        &["<int>1</int>", "<int>1</int>"],
    );
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    assert_eq!(r.header("vary"), Some("Accept-Encoding, Origin"));
}

/// A self-signed certificate for 127.0.0.1 and localhost, made by openssl.
fn self_signed(openssl: &Path, dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let out = Command::new(openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// Calls `add(2, 3)` over HTTPS trusting only `ca`; prints the result or
/// the SSL error's class.
fn python_https(url: &str, ca: &Path) -> String {
    common::python(
        &format!(
            r#"
import os, ssl, xmlrpc.client
ctx = ssl.create_default_context(cafile={ca:?})
try:
    print(xmlrpc.client.ServerProxy(os.environ["URL"], context=ctx).add(2, 3))
except ssl.SSLCertVerificationError:
    print("untrusted")
"#,
            ca = ca.display().to_string()
        ),
        url,
    )
}

#[test]
fn tls_serves_python_and_sighup_swaps_the_certificate() {
    let Some(openssl) = common::tool("openssl", "openssl") else {
        return;
    };
    let dir = TempDir::new();
    let (cert_a, key_a) = self_signed(&openssl, &dir.0, "first");
    let (cert_b, key_b) = self_signed(&openssl, &dir.0, "second");
    let (cert, key) = (dir.0.join("live.crt"), dir.0.join("live.key"));
    std::fs::copy(&cert_a, &cert).unwrap();
    std::fs::copy(&key_a, &key).unwrap();
    let bin = Binary::start(&format!(
        "[server.tls]\ncert = {:?}\nkey = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    ));
    let url = format!("https://{}/RPC2", bin.addr);
    assert_eq!(python_https(&url, &cert_a), "5\n");
    assert_eq!(python_https(&url, &cert_b), "untrusted\n");
    // Plain HTTP on the TLS port gets no XML-RPC answer, and the server lives on.
    {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(bin.addr)
            .expect("the TLS port accepts a plain TCP connection");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // The server may cut the connection before all is written or read:
        // what matters is that no XML-RPC answer comes back.
        let _ = s.write_all(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let answer = String::from_utf8_lossy(&buf);
        assert!(!answer.contains("methodResponse"), "{answer}");
    }

    // Renew: new files in place, then SIGHUP.
    std::fs::copy(&cert_b, &cert).unwrap();
    std::fs::copy(&key_b, &key).unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
    assert_eq!(python_https(&url, &cert_b), "5\n");
    assert_eq!(python_https(&url, &cert_a), "untrusted\n");

    // A broken certificate on reload is refused; the running one stays.
    std::fs::write(&cert, "not a certificate").unwrap();
    assert_eq!(bin.reload(), Reload::Refused);
    assert_eq!(python_https(&url, &cert_b), "5\n");
}

#[test]
fn sighup_rotates_tokens_and_secrets_never_reach_the_logs() {
    let dir = TempDir::new();
    let tokens = dir.0.join("tokens");
    std::fs::write(&tokens, "old-secret-token\n").unwrap();
    let bin = Binary::start(&format!(
        "[auth]\nmode = \"bearer\"\ntokens_file = {:?}\n",
        tokens.display().to_string()
    ));
    let send = |token: &str| {
        raw(
            bin.addr,
            &post(
                "/RPC2",
                &[&format!("Authorization: Bearer {token}")],
                call_xml("add", &["<int>1</int>", "<int>2</int>"]).as_bytes(),
            ),
        )
        .status
    };
    assert_eq!(send("old-secret-token"), 200);
    assert_eq!(send("wrong-guess-token"), 401);
    std::fs::write(&tokens, "new-secret-token\n").unwrap();
    assert_eq!(bin.reload(), Reload::Applied);
    assert_eq!(send("new-secret-token"), 200);
    assert_eq!(send("old-secret-token"), 401);
    let logs = bin
        .logs()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(logs.contains("authentication failed"), "{logs}");
    for secret in ["old-secret-token", "new-secret-token", "wrong-guess-token"] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
}
