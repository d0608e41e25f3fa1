//! The metrics as Prometheus itself sees them: `promtool check metrics`
//! lints the scraped text, and a real Prometheus server (Debian package
//! `prometheus`) scrapes a gateway and answers a query about its calls.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Gateway, TempDir, get, post, raw, rpc};

/// Traffic touching most families: calls ok and faulted, a multicall, a
/// gzipped request, a 404.
fn make_traffic(addr: SocketAddr) {
    for i in 0..5 {
        let resp = rpc(addr, "add", &[&format!("<int>{i}</int>"), "<int>1</int>"]);
        assert_eq!(resp.status, 200);
    }
    rpc(addr, "div", &["<int>1</int>", "<int>0</int>"]);
    rpc(addr, "nope", &[]);
    let multicall = common::call_xml(
        "system.multicall",
        &[
            "<array><data><value><struct><member><name>methodName</name><value>add</value></member><member><name>params</name><value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value></member></struct></value></data></array>",
        ],
    );
    raw(addr, &post("/RPC2", &[], multicall.as_bytes()));
    let gz = common::gzip(common::call_xml("echo", &["<int>1</int>"]).as_bytes());
    raw(addr, &post("/RPC2", &["Content-Encoding: gzip"], &gz));
    get(addr, "/nowhere");
}

#[test]
fn promtool_accepts_the_scraped_metrics() {
    let Some(promtool) = common::tool("promtool", "prometheus") else {
        return;
    };
    let gw = Gateway::start("");
    make_traffic(gw.addr);
    let text = gw.metrics();
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- metrics\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Prometheus server, killed when dropped (also when the test fails).
struct PrometheusServer {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl PrometheusServer {
    fn start(prometheus: &Path, target: SocketAddr) -> PrometheusServer {
        let dir = TempDir::new();
        let config = dir.0.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: gateway\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        // A free port: bound and released (Prometheus cannot take port 0
        // and tell us).
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log = std::fs::File::create(dir.0.join("prometheus.log")).unwrap();
        let child = Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.0.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus runs");
        PrometheusServer {
            child,
            addr,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.0.join("prometheus.log")).unwrap_or_default()
    }

    /// The first value of an instant query's result, if it has one.
    fn query(&self, promql: &str) -> Option<f64> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        // HTTP/1.0: a plain body, no chunks.
        let request = format!(
            "GET /api/v1/query?query={encoded} HTTP/1.0\r\nHost: {}\r\n\r\n",
            self.addr
        );
        let mut stream = std::net::TcpStream::connect(self.addr).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request.as_bytes()).ok()?;
        let resp = common::read_response(&mut stream);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
        json["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_prometheus_server_scrapes_the_gateway() {
    let Some(prometheus) = common::tool("prometheus", "prometheus") else {
        return;
    };
    let gw = Gateway::start("");
    let prom = PrometheusServer::start(&prometheus, gw.addr);
    make_traffic(gw.addr);
    let query = r#"sum(xmlrpc_gateway_calls_total{method="add",outcome="ok"})"#;
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        match prom.query(query) {
            Some(v) if v >= 6.0 => break v,
            _ if Instant::now() > deadline => panic!(
                "Prometheus never saw the calls (last: {:?}); its log:\n{}",
                prom.query(query),
                prom.log()
            ),
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    };
    assert_eq!(seen, 6.0, "5 single calls and 1 multicall entry");
    assert_eq!(prom.query(r#"up{job="gateway"}"#), Some(1.0));
    assert_eq!(
        prom.query(r#"xmlrpc_gateway_http_requests_total{path="other",status="404"}"#),
        Some(1.0)
    );
}
