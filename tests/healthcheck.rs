//! `xmlrpc-gateway healthcheck`, the probe container healthchecks run: exit 0
//! on 200 (or any answer with `--any-status`), 1 on another status, a refused
//! connection or a server that never answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_xmlrpc-gateway");

/// A one-thread HTTP server answering every request with `status`, or never
/// answering at all when `status` is `None`.
fn tiny_server(status: Option<&'static str>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            match status {
                Some(status) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    );
                }
                None => held.push(stream),
            }
        }
    });
    addr
}

fn healthcheck(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("healthcheck")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn ok_is_healthy() {
    let addr = tiny_server(Some("200 OK"));
    let out = healthcheck(&[&format!("http://{addr}/healthz")]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn other_statuses_are_unhealthy() {
    for status in ["503 Service Unavailable", "404 Not Found", "204 No Content"] {
        let addr = tiny_server(Some(status));
        let out = healthcheck(&[&format!("http://{addr}/healthz")]);
        assert_eq!(out.status.code(), Some(1), "{status}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&status[..3]), "{stderr}");
    }
}

#[test]
fn any_status_takes_any_answer() {
    let addr = tiny_server(Some("405 Method Not Allowed"));
    let out = healthcheck(&["--any-status", &format!("http://{addr}/rpc")]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn refused_is_unhealthy() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = healthcheck(&["--any-status", &format!("http://127.0.0.1:{port}/")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn silence_times_out() {
    let addr = tiny_server(None);
    let started = Instant::now();
    let out = healthcheck(&["--timeout", "300ms", &format!("http://{addr}/healthz")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn bad_url_is_unhealthy() {
    let out = healthcheck(&["not a url"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn serving_gateway_is_healthy() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .args(["--listen", &addr])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "gateway did not start");
        std::thread::sleep(Duration::from_millis(25));
    }
    let health = healthcheck(&[&format!("http://{addr}/healthz")]);
    let ready = healthcheck(&[&format!("http://{addr}/readyz")]);
    // A path the gateway 404s: the probe insists on 200 unless told otherwise.
    let strict = healthcheck(&[&format!("http://{addr}/no-such-path")]);
    let any = healthcheck(&["--any-status", &format!("http://{addr}/no-such-path")]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health.status.code(), Some(0), "{health:?}");
    assert_eq!(ready.status.code(), Some(0), "{ready:?}");
    assert_eq!(strict.status.code(), Some(1), "{strict:?}");
    assert_eq!(any.status.code(), Some(0), "{any:?}");
}
