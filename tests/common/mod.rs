//! Test helpers: a gateway on a free loopback port, raw HTTP, and Python's
//! `xmlrpc.client` as a real client.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use xmlrpc_gateway::config::{self, Config};
use xmlrpc_gateway::{Metrics, RoutingTable, Server, demo};

/// A running gateway; stops when dropped.
pub struct Gateway {
    pub addr: SocketAddr,
    /// The admin endpoints' own listener, when `[admin] listen` is set.
    pub admin_addr: Option<SocketAddr>,
    /// The shared pipeline (to swap the dispatcher, as a reload does).
    pub app: std::sync::Arc<xmlrpc_gateway::http::App>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    /// The embedded default config, plus `extra` TOML layered on top.
    pub fn start(extra: &str) -> Gateway {
        Gateway::start_env(extra, &HashMap::new())
    }

    /// As [`Gateway::start`], with `${NAME}` values taken from `env`.
    pub fn start_env(extra: &str, env: &HashMap<String, String>) -> Gateway {
        let dir =
            std::env::temp_dir().join(format!("xg-test-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gateway.toml");
        std::fs::write(&file, extra).unwrap();
        let cfg = Config::load(Some(&file), env).expect("test config loads");
        Gateway::from_config(cfg)
    }

    pub fn from_config(cfg: Config) -> Gateway {
        Gateway::from_config_with(cfg, &demo::handlers())
    }

    /// As [`Gateway::from_config`], with `handlers` as the named handlers
    /// the config's routes may name (instead of the demo functions).
    pub fn from_config_with(cfg: Config, handlers: &RoutingTable) -> Gateway {
        let settings = cfg.settings().expect("test config is valid");
        let metrics = Metrics::new();
        let table = config::build_table(&cfg, handlers, &metrics).expect("routes build");
        let mut options = settings.server_options(metrics);
        options.http.log_requests = false;
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let server = Server::bind("127.0.0.1:0", table, options).await.unwrap();
                addr_tx
                    .send((
                        server.local_addr().unwrap(),
                        server.admin_addr(),
                        server.app(),
                    ))
                    .unwrap();
                server
                    .run(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let (addr, admin_addr, app) = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("server starts");
        Gateway {
            addr,
            admin_addr,
            app,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The `/metrics` text (from the admin listener when there is one).
    pub fn metrics(&self) -> String {
        let resp = get(self.admin_addr.unwrap_or(self.addr), "/metrics");
        assert_eq!(resp.status, 200, "{}", resp.text());
        resp.text()
    }
}

/// A GET of `path`, on its own connection.
pub fn get(addr: SocketAddr, path: &str) -> RawResponse {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// The sample lines of one metric (`name` exactly, with or without labels)
/// in Prometheus text format.
pub fn samples<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .collect()
}

/// The value of the one sample line that starts with `series` (a name and
/// its labels as rendered, e.g. `m{a="b"}`); 0 when absent.
pub fn sample_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// An XML-RPC POST to `/RPC2`, answered on its own connection.
pub fn rpc(addr: SocketAddr, method: &str, params_xml: &[&str]) -> RawResponse {
    raw(
        addr,
        &post("/RPC2", &[], call_xml(method, params_xml).as_bytes()),
    )
}

/// The one rule for tests that need an outside tool (promtool, Prometheus,
/// lighttpd, Perl's RPC::XML, openssl; docker and compose in the shell
/// scripts, whose `need` function in `scripts/need.sh` is this rule again):
///
/// - the tool is there: the test runs;
/// - it is missing and the environment has `CI=true` (exactly): the test
///   fails, naming the package, because CI must run every test
///   (`scripts/install-test-deps.sh` installs them all);
/// - it is missing otherwise: the test prints
///   `SKIPPED: <tool> missing (install <package>)` on stderr and returns
///   early (the caller returns when this gives `false`).
///
/// Being root changes nothing: root without the tools installed (a fresh
/// container) skips like anyone else; `scripts/test.sh` installs them first.
/// Python 3 is not an outside tool here: it is required, like cargo.
pub fn needed(tool: &str, package: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "{tool} missing and CI=true: install {package} (scripts/install-test-deps.sh installs every tool the tests use)"
    );
    // Straight to the process's stderr: the test harness captures
    // `eprintln!` of passing tests, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {tool} missing (install {package})"
    );
    false
}

/// Whether a Python module the tests drive can be imported, under the rule
/// of [`needed`] (`scripts/install-test-deps.sh` installs it from PyPI).
pub fn python_module_available(module: &str, package: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    needed(&format!("python3 module {module}"), package, found)
}

/// An executable the test drives, found on `PATH` or in the sbin
/// directories (lighttpd lives in /usr/sbin, off a normal user's `PATH`);
/// `None` when missing and the test is to be skipped (see [`needed`]).
pub fn tool(tool: &str, package: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(Into::into))
        .map(|dir| dir.join(tool))
        .find(|file| {
            std::fs::metadata(file)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
    let present = found.is_some();
    needed(tool, package, present).then(|| found.expect("present"))
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw bytes, reads one response (by Content-Length, else to EOF).
pub fn raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    read_response(&mut stream)
}

/// Reads one response from a stream (for keep-alive tests).
pub fn read_response(stream: &mut TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => buf.push(byte[0]),
            Err(e) => panic!("reading response head: {e}"),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_owned();
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            stream.read_exact(&mut body).unwrap();
        }
        None => {
            let _ = stream.read_to_end(&mut body);
        }
    }
    RawResponse {
        status,
        version,
        headers,
        body,
    }
}

/// A POST of `body` to `path` with extra header lines.
pub fn post(path: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A `<methodCall>` document.
pub fn call_xml(method: &str, params_xml: &[&str]) -> String {
    let params: String = params_xml
        .iter()
        .map(|p| format!("<param><value>{p}</value></param>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

/// The param of a `system.multicall`: an array of entries, each a method
/// name and its params (a sequence of `<value>` elements).
pub fn multicall_entries(entries: &[(&str, &str)]) -> String {
    let entries: String = entries
        .iter()
        .map(|(name, params)| {
            format!(
                "<value><struct><member><name>methodName</name><value><string>{name}</string></value></member><member><name>params</name><value><array><data>{params}</data></array></value></member></struct></value>"
            )
        })
        .collect();
    format!("<array><data>{entries}</data></array>")
}

/// A `system.multicall` `<methodCall>` document of these entries.
pub fn multicall_xml(entries: &[(&str, &str)]) -> String {
    call_xml("system.multicall", &[&multicall_entries(entries)])
}

/// Runs a Python script with `URL` in its environment; returns stdout, or
/// panics with stderr when it fails.
pub fn python(script: &str, url: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("URL", url)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed:\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a Python file from tests/python with `URL` set.
pub fn python_file(name: &str, url: &str) -> String {
    let path = format!("{}/tests/python/{name}", env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(&path).unwrap();
    python(&script, url)
}

/// What the binary logs when a SIGHUP reload is applied.
pub const RELOADED: &str = "config reloaded; new calls use the new routing table";
/// What the binary logs when a SIGHUP reload is refused.
pub const RELOAD_REFUSED: &str = "config reload refused; keeping the running routing table";

/// The outcome of a SIGHUP, as the binary logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// The new config is in force.
    Applied,
    /// The new config was refused; the running one stays.
    Refused,
}

/// The real binary, serving a config file on free loopback ports, with its
/// log lines (stderr) collected. Killed when dropped, if still running.
pub struct Binary {
    pub child: Child,
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    logs: Arc<Mutex<Vec<String>>>,
    /// Its stderr has been read to the end (it closed: the process exited).
    logs_ended: Arc<std::sync::atomic::AtomicBool>,
    _dir: TempDir,
}

impl Binary {
    /// Starts `xmlrpc-gateway --config FILE --listen 127.0.0.1:0` with JSON
    /// logs, and waits for it to say where it listens.
    pub fn start(config_toml: &str) -> Binary {
        Binary::start_env(config_toml, &[])
    }

    /// As [`Binary::start`], with these environment variables set too
    /// (`XMLRPC_GATEWAY__BACKENDS__NAME__URL`, secrets).
    pub fn start_env(config_toml: &str, env: &[(&str, &str)]) -> Binary {
        let dir = TempDir::new();
        let file = dir.0.join("gateway.toml");
        std::fs::write(&file, config_toml).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
            .arg("--config")
            .arg(&file)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("XMLRPC_GATEWAY__LOG__FORMAT", "json")
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let logs_ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let logs = logs.clone();
            let ended = logs_ended.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let _ = tx.send(line.clone());
                    logs.lock().unwrap().push(line);
                }
                ended.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        }
        let wants_admin = Config::from_toml(config_toml).is_ok_and(|c| c.admin.listen.is_some());
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let (mut addr, mut admin_addr) = (None, None);
        while addr.is_none() || (wants_admin && admin_addr.is_none()) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "the binary did not start; logs:\n{}",
                    logs.lock().unwrap().join("\n")
                )
            });
            let json: serde_json::Value = match serde_json::from_str(&line) {
                Ok(json) => json,
                Err(_) => continue,
            };
            let listen = json["listen"].as_str().and_then(|a| a.parse().ok());
            match json["message"].as_str() {
                Some("serving XML-RPC") => addr = listen,
                Some("serving admin endpoints") => admin_addr = listen,
                _ => {}
            }
        }
        Binary {
            child,
            addr: addr.unwrap(),
            admin_addr,
            logs,
            logs_ended,
            _dir: dir,
        }
    }

    /// The config file it serves (rewrite it, then send SIGHUP).
    pub fn config_path(&self) -> std::path::PathBuf {
        self._dir.0.join("gateway.toml")
    }

    /// The log lines so far, parsed as JSON.
    pub fn logs(&self) -> Vec<serde_json::Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// How many log lines so far have exactly `message`.
    pub fn count_logged(&self, message: &str) -> usize {
        self.logs()
            .iter()
            .filter(|l| l["message"].as_str() == Some(message))
            .count()
    }

    /// Sends SIGHUP and waits (10 s at most) for the reload it causes to be
    /// logged: the outcome, applied or refused. Panics when neither comes,
    /// as when SIGHUP is not handled.
    #[track_caller]
    pub fn reload(&self) -> Reload {
        let count = || {
            (
                self.count_logged(RELOADED),
                self.count_logged(RELOAD_REFUSED),
            )
        };
        let (applied, refused) = count();
        self.signal("HUP");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match count() {
                (a, _) if a > applied => return Reload::Applied,
                (_, r) if r > refused => return Reload::Refused,
                _ => {}
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no reload logged within 10 s of SIGHUP; logs:\n{}",
                self.logs.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every log line it wrote, once its stderr has closed (after it
    /// exited); panics if that takes longer than `limit`.
    pub fn logs_to_end(&self, limit: Duration) -> Vec<serde_json::Value> {
        wait_until(limit, || {
            self.logs_ended.load(std::sync::atomic::Ordering::SeqCst)
        });
        self.logs()
    }

    /// Sends a signal with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("xg-test-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `data` gzipped, as a client sends a body (flate2, as the gateway uses).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// `data` gunzipped.
pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Waits up to `limit` for `done` to hold, checking every 10 ms; panics
/// when it does not.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A stand-in service from `tests/standins/` (Python, written from the real
/// product's public API documentation), on a free loopback port; killed
/// when dropped.
pub struct StandIn {
    child: Child,
    /// Where it listens.
    pub port: u16,
}

impl StandIn {
    /// Runs `tests/standins/SCRIPT --port 0 ARGS...` and reads the port from
    /// its first line (`PORT n`).
    pub fn start(script: &str, args: &[&str]) -> StandIn {
        use std::io::BufRead;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/standins/");
        let mut child = Command::new("python3")
            .arg(format!("{path}{script}"))
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("{script} did not say its port: {line:?}")
            });
        StandIn { child, port }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request it received, oldest first (`GET /__requests`).
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let resp = get(addr, "/__requests");
        assert_eq!(resp.status, 200);
        serde_json::from_slice(&resp.body).expect("a JSON list")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP service on a loopback port that accepts every connection, reads
/// nothing and never answers (a backend that hangs). Connections stay open
/// until it is dropped.
pub struct SilentServer {
    pub addr: SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (stopped, count) = (stop.clone(), accepted.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                match stream {
                    Ok(stream) => {
                        held.push(stream);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => break,
                }
            }
        });
        SilentServer {
            addr,
            stop,
            accepted,
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}
