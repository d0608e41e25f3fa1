//! Helpers for tests/backends.rs: the demo backend (the built binary) and
//! Python's SimpleXMLRPCServer as a legacy server, each on a free loopback
//! port, and a gateway built from a config string whose pipeline the test
//! can reach (for reloads).

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xmlrpc_gateway::config::{self, Config};
use xmlrpc_gateway::{Dispatcher, RoutingTable, demo};

/// A loopback port nobody listens on (right now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process that prints `... ADDR` as its first line; killed on drop.
pub struct Service {
    pub addr: SocketAddr,
    child: Child,
}

impl Service {
    fn spawn(mut cmd: Command) -> Service {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("service starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("service prints its address");
        let addr = line
            .split_whitespace()
            .last()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Service { addr, child }
    }

    /// The demo backend on `127.0.0.1:port` (0: any) with extra flags.
    pub fn demo_on(port: u16, args: &[&str]) -> Service {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_demo-backend"));
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args);
        Service::spawn(cmd)
    }

    pub fn demo(args: &[&str]) -> Service {
        Service::demo_on(0, args)
    }

    /// Python's SimpleXMLRPCServer with a few legacy methods and
    /// introspection: `hello`, `legacy.hello`, `sum`, `boom`, `inventory.secret`.
    pub fn legacy_python() -> Service {
        let script = r#"
import sys
from xmlrpc.server import SimpleXMLRPCServer
from socketserver import ThreadingMixIn
class S(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), logRequests=False, allow_none=True)
def hello(name):
    "hello(name) => a greeting"
    return "Hello, %s!" % name
def total(*xs):
    return sum(xs)
def boom():
    raise ValueError("kaboom")
s.register_function(hello, "hello")
s.register_function(lambda name: "Hi, %s" % name, "legacy.hello")
s.register_function(total, "sum")
s.register_function(boom, "boom")
s.register_function(lambda: "hidden", "inventory.secret")
s.register_introspection_functions()
s.register_multicall_functions()
print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
"#;
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script);
        Service::spawn(cmd)
    }

    /// A server answering every POST with `307 Temporary Redirect` to
    /// `location` (a redirect a client following it would resend as a POST).
    pub fn redirector(location: &str) -> Service {
        let script = r#"
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(307)
        self.send_header("Location", sys.argv[1])
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
s = HTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
"#;
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script).arg(location);
        Service::spawn(cmd)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gateway from `toml` (layered over the embedded default, env `env`);
/// stops on drop.
pub struct TestGateway(crate::common::Gateway);

/// Reads `toml` as a config file layered over the embedded default.
pub fn load_config(toml: &str, env: &HashMap<String, String>) -> Config {
    let file = std::env::temp_dir().join(format!(
        "xg-backends-{}-{}.toml",
        std::process::id(),
        unique()
    ));
    std::fs::write(&file, toml).unwrap();
    let cfg = Config::load(Some(&file), env);
    let _ = std::fs::remove_file(&file);
    cfg.expect("test config loads")
}

/// A dispatcher built from `toml`, as a reload would.
pub fn dispatcher(toml: &str) -> Dispatcher {
    dispatcher_with(toml, &demo::handlers())
}

/// A dispatcher built from `toml` with `handlers` as the named handlers.
pub fn dispatcher_with(toml: &str, handlers: &RoutingTable) -> Dispatcher {
    let cfg = load_config(toml, &HashMap::new());
    let settings = cfg.settings().expect("test config is valid");
    let table =
        config::build_table(&cfg, handlers, &xmlrpc_gateway::Metrics::new()).expect("routes build");
    Dispatcher::new(table, settings.dispatch)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl TestGateway {
    pub fn start(toml: &str) -> TestGateway {
        TestGateway::start_env(toml, &HashMap::new())
    }

    /// A gateway on `toml` layered over the embedded default.
    pub fn start_env(toml: &str, env: &HashMap<String, String>) -> TestGateway {
        TestGateway(crate::common::Gateway::from_config(load_config(toml, env)))
    }

    /// A gateway on `toml` whose routes name handlers of `handlers`.
    pub fn start_with(toml: &str, handlers: &RoutingTable) -> TestGateway {
        TestGateway(crate::common::Gateway::from_config_with(
            load_config(toml, &HashMap::new()),
            handlers,
        ))
    }

    pub fn url(&self) -> String {
        self.0.url("/RPC2")
    }
}

impl std::ops::Deref for TestGateway {
    type Target = crate::common::Gateway;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[allow(unused_imports)] // not every test crate that includes this module calls it
pub use crate::common::python;

/// The standard preamble of test scripts: a proxy `s` on `URL` and `call`,
/// which prints a result or `FAULT code message`.
pub const PY_PRELUDE: &str = r#"
import os, sys, time, xmlrpc.client as xc
s = xc.ServerProxy(os.environ["URL"], allow_none=True, use_builtin_types=True)
def call(name, *args):
    try:
        r = getattr(s, name)(*args)
        print(repr(r))
    except xc.Fault as f:
        print("FAULT", f.faultCode, f.faultString)
"#;

/// A plain HTTP/1.1 server on a loopback port that keeps the request
/// target of every request it gets, in order, and answers each with 200
/// and that target as a JSON string (so a json backend's call returns the
/// path it reached). Stops accepting when dropped.
pub struct Recorder {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Recorder {
    pub fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopped) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { break };
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = answer_recorded(stream, &log);
                });
            }
        });
        Recorder { addr, seen, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The request targets received so far (path and query, as sent).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

/// Serves the requests of one (keep-alive) connection until it closes.
fn answer_recorded(stream: std::net::TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        // Recorded before answering: once the gateway has its answer, the
        // request is in the log.
        log.lock().unwrap().push(target.clone());
        let answer = serde_json::to_string(&target).unwrap();
        write!(
            writer,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        )?;
        writer.flush()?;
    }
}
