//! The binary as a user runs it: bare (embedded default config), with
//! `--config`/`--listen`, the `call` client, `check-config`, and the access
//! log.

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xmlrpc-gateway");

/// A gateway process, killed when dropped.
struct Running {
    child: Child,
    addr: String,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(BIN)
            .args(args)
            .args(["--listen", &addr])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "gateway did not start");
            std::thread::sleep(Duration::from_millis(25));
        }
        Running { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}/RPC2", self.addr)
    }

    /// Stops the process and returns what it logged.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        log
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn call_subcommand_takes_json_and_prints_json() {
    let gw = Running::start(&[]);
    let out = run(&["call", &gw.url(), "add", "2", "3"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "5");
    let out = run(&[
        "call",
        &gw.url(),
        "echo",
        r#"{"a": [1, 2.5, null, "x"], "b": true}"#,
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"a": [1, 2.5, null, "x"], "b": true})
    );
    let out = run(&[
        "call",
        &gw.url(),
        "--multicall",
        r#"["add", 1, 2]"#,
        r#"["div", 1, 0]"#,
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json[0], serde_json::json!([3]));
    assert_eq!(json[1]["faultCode"], -32500);
    // A fault exits 1 and says so on stderr.
    let out = run(&["call", &gw.url(), "div", "1", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Fault -32500:"));
    // Bad JSON arguments exit 2.
    let out = run(&["call", &gw.url(), "add", "{nope"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn access_log_has_one_line_per_request() {
    let gw = Running::start(&[]);
    run(&["call", &gw.url(), "add", "2", "3"]);
    run(&["call", &gw.url(), "nosuch"]);
    let log = gw.stop();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request"))
        .filter(|l| l.contains("status="))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    for want in [
        "peer=127.0.0.1:",
        "path=/RPC2",
        "method=add",
        "status=200",
        "duration_ms=",
    ] {
        assert!(lines[0].contains(want), "{want} missing in {}", lines[0]);
    }
    assert!(lines[1].contains("method=nosuch"));
}

#[test]
fn log_requests_off_means_no_access_lines() {
    let dir = std::env::temp_dir().join(format!("xg-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("quiet.toml");
    std::fs::write(&file, "[server]\nlog_requests = false\n").unwrap();
    let gw = Running::start(&["--config", file.to_str().unwrap()]);
    run(&["call", &gw.url(), "add", "2", "3"]);
    let log = gw.stop();
    assert!(!log.contains("status="), "{log}");
}

#[test]
fn the_log_filter_applies_to_access_lines() {
    let dir = std::env::temp_dir().join(format!("xg-cli-filter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("filtered.toml");
    std::fs::write(&file, "[log]\nlevel = \"info,access=off\"\n").unwrap();
    let gw = Running::start(&["--config", file.to_str().unwrap()]);
    run(&["call", &gw.url(), "add", "2", "3"]);
    let log = gw.stop();
    assert!(log.contains("serving XML-RPC"), "{log}");
    assert!(!log.contains("status="), "{log}");
}

#[test]
fn check_config_prints_the_table_and_refuses_typos_with_64() {
    let dir = std::env::temp_dir().join(format!("xg-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    std::fs::write(&good, "[[routes]]\nmethod = \"plus\"\nhandler = \"add\"\n").unwrap();
    let out = run(&["check-config", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("plus") && stdout(&out).contains("handler:add"));

    let typo = dir.join("typo.toml");
    std::fs::write(
        &typo,
        "[server]\nlisten = \"127.0.0.1:1\"\nallow_nones = true\n",
    )
    .unwrap();
    let out = run(&["check-config", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("allow_nones"));

    let bad_handler = dir.join("bad.toml");
    std::fs::write(
        &bad_handler,
        "[[routes]]\nmethod = \"x\"\nhandler = \"nope\"\n",
    )
    .unwrap();
    let out = run(&["check-config", bad_handler.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("routes[0]"));

    let out = run(&["check-config", "/nonexistent/file.toml"]);
    assert_eq!(out.status.code(), Some(64));
    // A bad config also stops `serve` with 64.
    let out = run(&["--config", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn environment_overrides_the_file() {
    let out = Command::new(BIN)
        .args(["check-config"])
        .env("XMLRPC_GATEWAY__SERVER__LISTEN", "127.0.0.1:9")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("listen 127.0.0.1:9"));
    let out = Command::new(BIN)
        .args(["check-config"])
        .env("XMLRPC_GATEWAY__LIMITS__MAX_DEPTH", "zero")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}
