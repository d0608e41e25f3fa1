//! Cluster rate limits: two real gateway processes sharing Debian's
//! `redis-server` on loopback hold one limit between them, multicall
//! entries included; when Redis is away (stopped, or not answering) each
//! falls back to its share of the limit, calls are answered anyway, and the
//! store errors are counted; a restarted Redis has lost only counters.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Binary, call_xml, get, post, raw, sample_value, wait_until};

/// A `redis-server` of its own on a loopback port, killed when dropped.
struct Redis {
    bin: PathBuf,
    port: u16,
    child: Child,
}

impl Redis {
    fn start() -> Option<Redis> {
        let bin = common::tool("redis-server", "redis-server")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Redis::spawn(&bin, port);
        Some(Redis { bin, port, child })
    }

    fn spawn(bin: &PathBuf, port: u16) -> Child {
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        wait_until(Duration::from_secs(10), || ping(port));
        child
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.stop();
        self.child = Redis::spawn(&self.bin, self.port);
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        self.stop();
    }
}

/// Whether a Redis answers PING on `port`.
fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 16];
    s.write_all(b"*1\r\n$4\r\nPING\r\n").is_ok()
        && s.read(&mut buf)
            .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
}

fn config(store: &str) -> String {
    format!(
        r#"
[rate_limit]
store = "{store}"
store_timeout = "100ms"
replicas = 2

[[routes]]
method = "pow"
handler = "pow"

[[routes]]
method = "echo"
handler = "echo"

[[rate_limits]]
name = "pow-everywhere"
methods = ["pow"]
key = "peer"
rate = 5
per = "1h"
scope = "cluster"

[[rate_limits]]
name = "echo-per-word"
methods = ["echo"]
key = "{{0}}"
rate = 5
per = "1h"
scope = "cluster"
"#
    )
}

fn pow(addr: SocketAddr) -> u16 {
    let body = call_xml("pow", &["<int>2</int>", "<int>3</int>"]);
    raw(addr, &post("/RPC2", &[], body.as_bytes())).status
}

/// Status of `echo(word)`: 200 answered, 429 limited.
fn echo(addr: SocketAddr, word: &str) -> u16 {
    let body = call_xml("echo", &[&format!("<string>{word}</string>")]);
    raw(addr, &post("/RPC2", &[], body.as_bytes())).status
}

fn multicall_echo(addr: SocketAddr, word: &str, n: usize) -> String {
    let param = format!("<value><string>{word}</string></value>");
    let body = common::multicall_xml(&vec![("echo", param.as_str()); n]);
    let r = raw(addr, &post("/RPC2", &[], body.as_bytes()));
    assert_eq!(r.status, 200);
    r.text()
}

fn store_errors(addr: SocketAddr, limit: &str) -> f64 {
    let text = get(addr, "/metrics").text();
    sample_value(
        &text,
        &format!(r#"xmlrpc_gateway_rate_limit_store_errors_total{{limit="{limit}"}}"#),
    )
}

#[test]
fn a_cluster_limit_holds_across_two_gateways_multicall_entries_included() {
    let Some(redis) = Redis::start() else { return };
    let a = Binary::start(&config(&redis.url()));
    let b = Binary::start(&config(&redis.url()));
    // Ten calls, alternating between the replicas: five in all pass.
    let statuses: Vec<u16> = (0..10)
        .map(|i| pow(if i % 2 == 0 { a.addr } else { b.addr }))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(&statuses[..5], &[200; 5], "{statuses:?}");

    // Twenty entries of one multicall on A: five run, fifteen are refused;
    // then B has nothing left for that key either.
    let text = multicall_echo(a.addr, "guess", 20);
    assert_eq!(text.matches("<string>guess</string>").count(), 5, "{text}");
    assert_eq!(text.matches("<int>-32429</int>").count(), 15, "{text}");
    assert_eq!(echo(b.addr, "guess"), 429);
    // Another key is another bucket.
    assert_eq!(echo(b.addr, "other"), 200);
    // The store answered every check.
    assert_eq!(store_errors(a.addr, "echo-per-word"), 0.0);
    assert_eq!(store_errors(b.addr, "pow-everywhere"), 0.0);
}

#[test]
fn without_the_store_each_replica_holds_its_share_and_calls_are_answered() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let a = Binary::start(&config(&redis.url()));
    let b = Binary::start(&config(&redis.url()));
    assert_eq!(echo(a.addr, "warm"), 200);

    // Redis stopped (connections refused): each replica allows its share,
    // ceil(5 / 2) = 3, so the two together allow 6 instead of 5, not 10.
    redis.stop();
    let allowed = |addr| (0..5).filter(|_| echo(addr, "away") == 200).count();
    assert_eq!((allowed(a.addr), allowed(b.addr)), (3, 3));
    assert!(store_errors(a.addr, "echo-per-word") >= 1.0);
    assert!(store_errors(b.addr, "echo-per-word") >= 1.0);

    // Redis back, empty: the counters are gone, the limit whole again once
    // the replicas reconnect (they leave a failed store alone for a second).
    redis.restart();
    let mut probe = 0;
    wait_until(Duration::from_secs(15), || {
        probe += 1;
        let before = store_errors(a.addr, "echo-per-word");
        echo(a.addr, &format!("probe{probe}")) == 200
            && store_errors(a.addr, "echo-per-word") == before
    });
    wait_until(Duration::from_secs(15), || {
        probe += 1;
        let before = store_errors(b.addr, "echo-per-word");
        echo(b.addr, &format!("probe{probe}")) == 200
            && store_errors(b.addr, "echo-per-word") == before
    });
    let statuses: Vec<u16> = (0..6)
        .map(|i| echo(if i % 2 == 0 { a.addr } else { b.addr }, "back"))
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);

    // Redis hung (accepts, never answers): a call waits for the store at
    // most its timeout (100 ms) and is answered from the share.
    redis.signal("STOP");
    let started = Instant::now();
    assert_eq!(echo(a.addr, "hung"), 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a hung store held a call for {:?}",
        started.elapsed()
    );
    redis.signal("CONT");
}

#[test]
fn cluster_buckets_outlive_a_reload_and_the_store_can_be_set_by_reload() {
    let Some(redis) = Redis::start() else { return };
    // Started without a store: the limit is per replica.
    let replica_only = config("").replace("scope = \"cluster\"", "scope = \"replica\"");
    let replica_only = replica_only.replace("store = \"\"\n", "");
    let a = Binary::start(&replica_only);
    for _ in 0..5 {
        assert_eq!(echo(a.addr, "kept"), 200);
    }
    assert_eq!(echo(a.addr, "kept"), 429);
    // A reload names the store: the limit moves to Redis, starting full.
    std::fs::write(a.config_path(), config(&redis.url())).unwrap();
    assert_eq!(a.reload(), common::Reload::Applied);
    for _ in 0..5 {
        assert_eq!(echo(a.addr, "kept"), 200);
    }
    assert_eq!(echo(a.addr, "kept"), 429);
    // Another reload of the same file: in-memory buckets would start afresh,
    // Redis's do not.
    assert_eq!(a.reload(), common::Reload::Applied);
    assert_eq!(echo(a.addr, "kept"), 429);
    assert_eq!(store_errors(a.addr, "echo-per-word"), 0.0);
}
