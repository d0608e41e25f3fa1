//! Legacy transports behind the gateway, driven by Python's `xmlrpc.client`
//! through it: XML-RPC over SCGI (rTorrent's way), over TCP and over a Unix
//! socket, against `tests/standins/scgi_xmlrpc.py`; HTTP over a Unix socket
//! (`socket = ...`), against Python's SimpleXMLRPCServer bound to AF_UNIX
//! (`tests/standins/unix_http.py`), for the xmlrpc and the jsonrpc kinds;
//! and `check-config` refusing what cannot work.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Gateway, TempDir, python, sample_value};

const PRELUDE: &str = r#"
import os, xmlrpc.client as xc
s = xc.ServerProxy(os.environ["URL"], allow_none=True, use_builtin_types=True)
def call(name, *args):
    try:
        print(repr(getattr(s, name)(*args)))
    except xc.Fault as f:
        print("FAULT", f.faultCode, f.faultString)
"#;

/// A stand-in from tests/standins, killed (by its pid) when dropped.
struct Standin {
    child: Child,
    /// Its first line: `listening on ...`.
    said: String,
}

impl Standin {
    fn start(script: &str, args: &[&str]) -> Standin {
        let path = format!("{}/tests/standins/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let said = rx.recv_timeout(Duration::from_secs(15)).unwrap_or_default();
        let standin = Standin { child, said };
        assert!(
            standin.said.starts_with("listening on"),
            "{script} did not start: {:?}",
            standin.said
        );
        standin
    }

    /// SCGI on a loopback port.
    fn scgi_tcp() -> Standin {
        Standin::start("scgi_xmlrpc.py", &["--tcp", "0"])
    }

    /// SCGI on a Unix socket.
    fn scgi_unix(socket: &Path) -> Standin {
        Standin::start("scgi_xmlrpc.py", &["--unix", socket.to_str().unwrap()])
    }

    /// HTTP (XML-RPC at /RPC2, JSON-RPC at /jsonrpc) on a Unix socket.
    fn http_unix(socket: &Path) -> Standin {
        Standin::start("unix_http.py", &[socket.to_str().unwrap()])
    }

    fn port(&self) -> u16 {
        self.said
            .trim()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn xmlrpc_over_scgi_on_tcp_and_on_a_unix_socket() {
    let dir = TempDir::new();
    let socket = dir.0.join("rtorrent.sock");
    let tcp = Standin::scgi_tcp();
    let _unix = Standin::scgi_unix(&socket);
    let gw = Gateway::start(&format!(
        r#"
[server]
log_requests = false

[backends.rt_tcp]
kind = "xmlrpc"
url = "scgi://127.0.0.1:{port}/RPC2"

[backends.rt_unix]
kind = "xmlrpc"
url = "scgi://localhost/RPC2"
socket = "{socket}"

[[routes]]
method = "tcp.*"
backend = "rt_tcp"
strip_prefix = true

[[routes]]
method = "unix.*"
backend = "rt_unix"
strip_prefix = true
"#,
        port = tcp.port(),
        socket = socket.display(),
    ));
    let out = python(
        &format!(
            "{PRELUDE}{}",
            r#"
call("tcp.add", 2, 3)
call("unix.add", 40, 2)
call("unix.echo", {"name": "ünï", "list": [1, 2.5, True, None], "nested": {"b": b"\x00\x01"}})
call("tcp.d.names", 2)
call("unix.fail")
env = s.unix.env()
for key in ["SCGI", "REQUEST_METHOD", "REQUEST_URI", "PATH_INFO", "CONTENT_TYPE"]:
    print(key, env[key])
print("request id sent", bool(env.get("HTTP_X_REQUEST_ID")))
names = s.system.listMethods()
print([n for n in names if n.startswith(("tcp.", "unix."))])
print(repr(s.system.methodHelp("unix.add")))
print(repr(s.system.methodHelp("tcp.d.names")))
m = xc.MultiCall(s)
m.tcp.add(1, 1)
m.unix.add(2, 2)
m.unix.fail()
try:
    print([r for r in m()])
except xc.Fault as f:
    print("FAULT in multicall", f.faultCode)
"#
        ),
        &gw.url("/RPC2"),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "5",
            "42",
            "{'name': 'ünï', 'list': [1, 2.5, True, None], 'nested': {'b': b'\\x00\\x01'}}",
            "['torrent-0', 'torrent-1']",
            "FAULT 42 it failed on purpose",
            "SCGI 1",
            "REQUEST_METHOD POST",
            "REQUEST_URI /RPC2",
            "PATH_INFO /RPC2",
            "CONTENT_TYPE text/xml",
            "request id sent True",
            "['tcp.add', 'tcp.d.names', 'tcp.echo', 'tcp.env', 'tcp.fail', 'tcp.sleep', \
'unix.add', 'unix.d.names', 'unix.echo', 'unix.env', 'unix.fail', 'unix.sleep']",
            "'add(a, b) => a + b'",
            "'names(n) => n torrent-like names'",
            "FAULT in multicall 42",
        ],
        "{out}"
    );
}

#[test]
fn scgi_failures_are_transport_faults_that_name_no_path() {
    let dir = TempDir::new();
    let missing = dir.0.join("nobody-listens-here.sock");
    let tcp = Standin::scgi_tcp();
    let gw = Gateway::start(&format!(
        r#"
[server]
log_requests = false

[backends.wrong_path]
kind = "xmlrpc"
url = "scgi://127.0.0.1:{port}/elsewhere"

[backends.slow]
kind = "xmlrpc"
url = "scgi://127.0.0.1:{port}/RPC2"
timeout = "300ms"

[backends.gone]
kind = "xmlrpc"
url = "scgi://localhost/RPC2"
socket = "{missing}"
retries = 1
circuit_breaker = {{ failures = 2, open_for = "1h" }}

[[routes]]
method = "wrong.*"
backend = "wrong_path"
strip_prefix = true

[[routes]]
method = "slow.*"
backend = "slow"
strip_prefix = true

[[routes]]
method = "gone.*"
backend = "gone"
strip_prefix = true
idempotent = true
"#,
        port = tcp.port(),
        missing = missing.display(),
    ));
    let out = python(
        &format!(
            "{PRELUDE}{}",
            r#"
call("wrong.add", 1, 2)
call("slow.sleep", 3)
call("gone.add", 1, 2)
call("gone.add", 1, 2)
call("gone.add", 1, 2)
"#
        ),
        &gw.url("/RPC2"),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "FAULT -32303 wrong.add: backend answered 404",
            "FAULT -32301 slow.sleep: backend timeout",
            "FAULT -32305 gone.add: backend refused",
            "FAULT -32305 gone.add: backend refused",
            "FAULT -32302 gone.add: backend circuit open",
        ],
        "{out}"
    );
    assert!(!out.contains(dir.0.to_str().unwrap()) && !out.contains("127.0.0.1"));
    let metrics = gw.metrics();
    for (series, want) in [
        (
            r#"xmlrpc_gateway_backend_errors_total{backend="wrong_path",kind="bad status"}"#,
            1.0,
        ),
        (
            r#"xmlrpc_gateway_backend_errors_total{backend="slow",kind="timeout"}"#,
            1.0,
        ),
        (
            r#"xmlrpc_gateway_backend_errors_total{backend="gone",kind="refused"}"#,
            2.0,
        ),
        (
            r#"xmlrpc_gateway_backend_circuit_state{backend="gone"}"#,
            1.0,
        ),
    ] {
        assert_eq!(sample_value(&metrics, series), want, "{series}\n{metrics}");
    }
}

#[test]
fn http_over_a_unix_socket_for_xmlrpc_and_jsonrpc_backends() {
    let dir = TempDir::new();
    let socket = dir.0.join("daemon.sock");
    let _server = Standin::http_unix(&socket);
    let gw = Gateway::start(&format!(
        r#"
[server]
log_requests = false

[backends.local]
kind = "xmlrpc"
url = "http://localhost/RPC2"
socket = "{socket}"

[backends.local_json]
kind = "jsonrpc"
url = "http://daemon.local/jsonrpc"
socket = "{socket}"

[[routes]]
method = "local.*"
backend = "local"
strip_prefix = true

[[routes]]
method = "j.*"
backend = "local_json"
strip_prefix = true
"#,
        socket = socket.display(),
    ));
    let out = python(
        &format!(
            "{PRELUDE}{}",
            r#"
call("local.add", 2, 3)
call("local.whoami")
call("local.fail")
call("j.add", 20, 22)
call("j.whoami")
print([n for n in s.system.listMethods() if n.startswith("local.")])
print(repr(s.system.methodHelp("local.add")))
"#
        ),
        &gw.url("/RPC2"),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "5",
            "{'path': '/RPC2', 'host': 'localhost'}",
            "FAULT 42 it failed on purpose",
            "42",
            "{'path': '/jsonrpc', 'host': 'daemon.local'}",
            "['local.add', 'local.echo', 'local.fail', 'local.whoami']",
            "'add(a, b) => a + b'",
        ],
        "{out}"
    );
}

#[test]
fn check_config_refuses_a_relative_socket_and_scgi_for_json_kinds() {
    let dir = TempDir::new();
    let check = |name: &str, toml: &str| {
        let file = dir.0.join(name);
        std::fs::write(&file, toml).unwrap();
        Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
            .arg("check-config")
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = check(
        "relative.toml",
        "[backends.sv]\nkind = \"xmlrpc\"\nurl = \"http://localhost/RPC2\"\nsocket = \"run/supervisor.sock\"\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("backends.sv.socket:") && stderr.contains("absolute"),
        "{stderr}"
    );
    let out = check(
        "scgi-json.toml",
        "[backends.j]\nkind = \"jsonrpc\"\nurl = \"scgi://127.0.0.1:5000/\"\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("backends.j.url:"), "{stderr}");
    let out = check(
        "good.toml",
        "[backends.rt]\nkind = \"xmlrpc\"\nurl = \"scgi://localhost/RPC2\"\nsocket = \"/run/rtorrent.sock\"\n\
         [[routes]]\nmethod = \"d.*\"\nbackend = \"rt\"\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("backend:rt"));
}
