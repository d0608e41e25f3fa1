//! CGI mode: `xmlrpc-gateway cgi` run as a CGI program, first directly with a
//! CGI environment and stdin, then behind a real CGI-capable web server
//! (Debian's lighttpd) driven by Python's xmlrpc.client.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xmlrpc-gateway");

/// Runs `xmlrpc-gateway cgi` with a clean CGI environment plus `env`.
fn run_cgi(env: &[(&str, &str)], stdin: &[u8]) -> (String, Vec<u8>) {
    let mut cmd = Command::new(BIN);
    cmd.arg("cgi")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let split = out
        .stdout
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("CGI head ends with a blank line");
    (
        String::from_utf8(out.stdout[..split].to_vec()).unwrap(),
        out.stdout[split + 2..].to_vec(),
    )
}

#[test]
fn the_web_servers_remote_user_is_the_principal() {
    // Bearer auth configured from the environment (tokens comma-separated);
    // in CGI mode the web server authenticates, and REMOTE_USER counts.
    // Without one, a single call that needs credentials gets the answer the
    // server gives it: 401 with the challenge.
    let body = add_call();
    let len = body.len().to_string();
    let auth = [
        ("REQUEST_METHOD", "POST"),
        ("CONTENT_LENGTH", len.as_str()),
        ("XMLRPC_GATEWAY__AUTH__MODE", "bearer"),
        ("XMLRPC_GATEWAY__AUTH__TOKENS", "t1,t2"),
    ];
    let (head, _) = run_cgi(&auth, body.as_bytes());
    assert!(head.starts_with("Status: 401 Unauthorized\n"), "{head}");
    assert!(head.contains("\nWww-Authenticate: Bearer\n"), "{head}");
    let mut with_user = auth.to_vec();
    with_user.push(("REMOTE_USER", "alice"));
    let (_, payload) = run_cgi(&with_user, body.as_bytes());
    let text = String::from_utf8(payload).unwrap();
    assert!(text.contains("<int>5</int>"), "{text}");
}

fn add_call() -> String {
    common::call_xml("add", &["<int>2</int>", "<int>3</int>"])
}

#[test]
fn post_is_answered_with_status_type_and_length() {
    let body = add_call();
    let len = body.len().to_string();
    let (head, payload) = run_cgi(
        &[("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", &len)],
        body.as_bytes(),
    );
    assert!(head.starts_with("Status: 200 OK\n"), "{head}");
    assert!(head.contains("Content-Type: text/xml\n"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {}", payload.len())),
        "{head}"
    );
    assert!(String::from_utf8_lossy(&payload).contains("<int>5</int>"));
}

#[test]
fn missing_content_length_reads_to_eof() {
    let (head, payload) = run_cgi(&[("REQUEST_METHOD", "POST")], add_call().as_bytes());
    assert!(head.starts_with("Status: 200 OK"), "{head}");
    assert!(String::from_utf8_lossy(&payload).contains("<int>5</int>"));
}

#[test]
fn get_gets_pythons_400_page() {
    let (head, payload) = run_cgi(&[("REQUEST_METHOD", "GET")], b"");
    assert_eq!(
        head,
        "Status: 400 Bad Request\nContent-Type: text/html;charset=utf-8\nContent-Length: 343"
    );
    assert_eq!(payload.len(), 343);
    assert!(String::from_utf8_lossy(&payload).contains("<p>Error code: 400</p>"));
}

#[test]
fn limits_and_codings_apply_as_in_the_server() {
    let (head, _) = run_cgi(
        &[
            ("REQUEST_METHOD", "POST"),
            ("CONTENT_LENGTH", "999999999999"),
        ],
        b"",
    );
    assert!(head.starts_with("Status: 413"), "{head}");
    let (head, _) = run_cgi(&[("REQUEST_METHOD", "PUT")], b"");
    assert!(
        head.starts_with("Status: 405") && head.contains("Allow: POST"),
        "{head}"
    );
    let packed = common::gzip(add_call().as_bytes());
    let len = packed.len().to_string();
    let (head, payload) = run_cgi(
        &[
            ("REQUEST_METHOD", "POST"),
            ("CONTENT_LENGTH", &len),
            ("HTTP_CONTENT_ENCODING", "gzip"),
        ],
        &packed,
    );
    assert!(head.starts_with("Status: 200"), "{head}");
    assert!(String::from_utf8_lossy(&payload).contains("<int>5</int>"));
    let (head, _) = run_cgi(
        &[("REQUEST_METHOD", "POST"), ("HTTP_CONTENT_ENCODING", "br")],
        b"x",
    );
    assert!(head.starts_with("Status: 415"), "{head}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the web server when the test ends, pass or fail.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn behind_lighttpd_with_python_client() {
    let Some(lighttpd) = common::tool("lighttpd", "lighttpd") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("xg-cgi-{}", std::process::id()));
    let docroot = dir.join("www");
    std::fs::create_dir_all(&docroot).unwrap();
    let script = docroot.join("gateway.cgi");
    std::fs::write(&script, format!("#!/bin/sh\nexec {BIN} cgi\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_port();
    let conf = dir.join("lighttpd.conf");
    std::fs::write(
        &conf,
        format!(
            "server.document-root = \"{}\"\nserver.bind = \"127.0.0.1\"\nserver.port = {port}\nserver.modules = (\"mod_cgi\")\ncgi.assign = (\".cgi\" => \"\")\nserver.errorlog = \"{}\"\n",
            docroot.display(),
            dir.join("error.log").display()
        ),
    )
    .unwrap();
    let _server = KillOnDrop(
        Command::new(lighttpd)
            .args(["-D", "-f"])
            .arg(&conf)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "lighttpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}/gateway.cgi");
    let out = common::python(
        r#"
import os, urllib.request, urllib.error, xmlrpc.client as xc
s = xc.ServerProxy(os.environ["URL"])
print(s.add(2, 3), s.pow(2, 10), s.echo({"k": [1, "x"]}))
try:
    s.div(1, 0)
except xc.Fault as f:
    print(f.faultCode)
m = xc.MultiCall(s); m.add(1, 1); m.nosuch()
print(m().results[0], len(s.system.listMethods()))
try:
    urllib.request.urlopen(os.environ["URL"])
except urllib.error.HTTPError as e:
    print(e.code)
"#,
        &url,
    );
    assert_eq!(out, "5 1024 {'k': [1, 'x']}\n-32500\n[2] 8\n400\n");
}
