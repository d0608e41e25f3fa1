//! The HTTP edge seen with raw bytes: paths, methods, keep-alive, chunked
//! bodies, gzip both ways, limits and status codes.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Gateway, call_xml, gunzip, gzip, post, raw, read_response, sample_value, wait_until};

fn add_call() -> String {
    call_xml("add", &["<int>2</int>", "<int>3</int>"])
}

#[test]
fn post_to_rpc_paths_answers_text_xml_with_exact_length() {
    let gw = Gateway::start("");
    for path in ["/", "/RPC2", "/RPC2?trace=1"] {
        let resp = raw(gw.addr, &post(path, &[], add_call().as_bytes()));
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.header("content-type"), Some("text/xml"));
        assert_eq!(
            resp.header("content-length"),
            Some(resp.body.len().to_string().as_str())
        );
        assert!(resp.text().contains("<int>5</int>"), "{}", resp.text());
    }
}

#[test]
fn other_paths_are_404_and_other_methods_405() {
    let gw = Gateway::start("");
    for path in ["/RPC2/", "/foo", "/rpc2"] {
        let resp = raw(gw.addr, &post(path, &[], add_call().as_bytes()));
        assert_eq!(resp.status, 404, "{path}");
    }
    for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
        let req = format!("{method} /RPC2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let resp = raw(gw.addr, req.as_bytes());
        assert_eq!(resp.status, 405, "{method}");
        assert_eq!(resp.header("allow"), Some("POST"), "{method}");
    }
    let resp = raw(
        gw.addr,
        b"GET /elsewhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resp.status, 404);
}

#[test]
fn empty_rpc_paths_accept_every_path() {
    let gw = Gateway::start("[server]\nrpc_paths = []\n");
    let resp = raw(gw.addr, &post("/any/where", &[], add_call().as_bytes()));
    assert_eq!(resp.status, 200);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let gw = Gateway::start("");
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let body = add_call();
    for _ in 0..3 {
        let req = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).unwrap();
        let resp = read_response(&mut stream);
        assert_eq!(resp.status, 200);
        assert_eq!(resp.version, "HTTP/1.1");
        assert!(resp.text().contains("<int>5</int>"));
    }
}

#[test]
fn chunked_request_bodies_are_read() {
    let gw = Gateway::start("");
    let body = add_call();
    let (a, b) = body.split_at(body.len() / 2);
    let req = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let resp = raw(gw.addr, req.as_bytes());
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("<int>5</int>"));
}

#[test]
fn http10_and_missing_length_get_answers_not_500() {
    let gw = Gateway::start("");
    let body = add_call();
    let req = format!(
        "POST /RPC2 HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = raw(gw.addr, req.as_bytes());
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("<int>5</int>"));
    // HTTP/1.1 with neither length nor chunking has an empty body: a parse fault.
    let resp = raw(
        gw.addr,
        b"POST /RPC2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("<int>-32700</int>"), "{}", resp.text());
}

#[test]
fn gzip_request_bodies() {
    let gw = Gateway::start("");
    let packed = gzip(add_call().as_bytes());
    for coding in ["gzip", "GZIP", "x-gzip"] {
        let header = format!("Content-Encoding: {coding}");
        let resp = raw(gw.addr, &post("/RPC2", &[&header], &packed));
        assert_eq!(resp.status, 200, "{coding}");
        assert!(resp.text().contains("<int>5</int>"));
    }
    let resp = raw(
        gw.addr,
        &post(
            "/RPC2",
            &["Content-Encoding: identity"],
            add_call().as_bytes(),
        ),
    );
    assert_eq!(resp.status, 200);
    let resp = raw(
        gw.addr,
        &post("/RPC2", &["Content-Encoding: deflate"], &packed),
    );
    assert_eq!(resp.status, 415);
    let resp = raw(
        gw.addr,
        &post(
            "/RPC2",
            &["Content-Encoding: gzip"],
            &packed[..packed.len() - 6],
        ),
    );
    assert_eq!(resp.status, 400);
    let resp = raw(
        gw.addr,
        &post("/RPC2", &["Content-Encoding: gzip"], b"definitely not gzip"),
    );
    assert_eq!(resp.status, 400);
}

#[test]
fn gzip_bomb_is_413_and_server_keeps_serving() {
    let gw = Gateway::start("[limits]\nmax_decoded_bytes = 1048576\n");
    let bomb = gzip(&vec![b' '; 64 << 20]);
    assert!(bomb.len() < 1 << 20);
    let resp = raw(gw.addr, &post("/RPC2", &["Content-Encoding: gzip"], &bomb));
    assert_eq!(resp.status, 413);
    let resp = raw(gw.addr, &post("/RPC2", &[], add_call().as_bytes()));
    assert_eq!(resp.status, 200);
}

#[test]
fn oversized_bodies_are_413() {
    let gw = Gateway::start("[limits]\nmax_body_bytes = 1000\n");
    let big = call_xml("echo", &[&"x".repeat(2000)]);
    let resp = raw(gw.addr, &post("/RPC2", &[], big.as_bytes()));
    assert_eq!(resp.status, 413);
    // The same without Content-Length (chunked) is caught while reading.
    let req = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    let resp = raw(gw.addr, req.as_bytes());
    assert_eq!(resp.status, 413);
}

fn echo_of(len: usize) -> String {
    call_xml("echo", &[&"y".repeat(len)])
}

#[test]
fn responses_are_gzipped_above_the_threshold_when_accepted() {
    let gw = Gateway::start("");
    // Small answer: plain even when gzip is accepted.
    let resp = raw(
        gw.addr,
        &post("/RPC2", &["Accept-Encoding: gzip"], add_call().as_bytes()),
    );
    assert_eq!(resp.header("content-encoding"), None);
    assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
    // Large answer: gzipped, and it inflates to the plain answer.
    let plain = raw(gw.addr, &post("/RPC2", &[], echo_of(5000).as_bytes()));
    assert_eq!(plain.header("content-encoding"), None);
    let packed = raw(
        gw.addr,
        &post(
            "/RPC2",
            &["Accept-Encoding: deflate, gzip;q=0.5"],
            echo_of(5000).as_bytes(),
        ),
    );
    assert_eq!(packed.header("content-encoding"), Some("gzip"));
    assert_eq!(
        packed.header("content-length"),
        Some(packed.body.len().to_string().as_str())
    );
    assert!(packed.body.len() < plain.body.len());
    assert_eq!(gunzip(&packed.body), plain.body);
    // Refused with q=0: plain.
    let refused = raw(
        gw.addr,
        &post(
            "/RPC2",
            &["Accept-Encoding: gzip;q=0"],
            echo_of(5000).as_bytes(),
        ),
    );
    assert_eq!(refused.header("content-encoding"), None);
}

#[test]
fn threshold_is_exclusive_and_can_be_disabled() {
    let gw = Gateway::start("");
    // Find the body size the threshold compares: the plain response length.
    let probe = raw(gw.addr, &post("/RPC2", &[], echo_of(1000).as_bytes()));
    let overhead = probe.body.len() - 1000;
    let at = raw(
        gw.addr,
        &post(
            "/RPC2",
            &["Accept-Encoding: gzip"],
            echo_of(1400 - overhead).as_bytes(),
        ),
    );
    assert_eq!(at.body.len(), 1400);
    assert_eq!(at.header("content-encoding"), None);
    let over = raw(
        gw.addr,
        &post(
            "/RPC2",
            &["Accept-Encoding: gzip"],
            echo_of(1401 - overhead).as_bytes(),
        ),
    );
    assert_eq!(over.header("content-encoding"), Some("gzip"));

    let off = Gateway::start("[server]\nencode_threshold = false\n");
    let resp = raw(
        off.addr,
        &post(
            "/RPC2",
            &["Accept-Encoding: gzip"],
            echo_of(5000).as_bytes(),
        ),
    );
    assert_eq!(resp.header("content-encoding"), None);
    assert_eq!(resp.header("vary"), None);
}

#[test]
fn request_ids_are_echoed_or_made() {
    let gw = Gateway::start("");
    let resp = raw(
        gw.addr,
        &post("/RPC2", &["X-Request-Id: abc-123"], add_call().as_bytes()),
    );
    assert_eq!(resp.header("x-request-id"), Some("abc-123"));
    let resp = raw(gw.addr, &post("/RPC2", &[], add_call().as_bytes()));
    assert_eq!(resp.header("x-request-id").map(str::len), Some(16));
}

#[test]
fn parse_faults_for_bad_xml_and_doctype() {
    let gw = Gateway::start("");
    let cases: [(&[u8], &str); 4] = [
        (b"not xml at all", "-32700"),
        (b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall><methodName>echo</methodName><params><param><value>&a;</value></param></params></methodCall>", "-32700"),
        (b"<foo/>", "-32600"),
        (b"<methodCall><methodName>echo</methodName><params><param><value><int>abc</int></value></param></params></methodCall>", "-32600"),
    ];
    for (body, code) in cases {
        let resp = raw(gw.addr, &post("/RPC2", &[], body));
        assert_eq!(resp.status, 200);
        assert!(
            resp.text().contains(&format!("<int>{code}</int>")),
            "{}",
            resp.text()
        );
    }
}

#[test]
fn carriage_returns_sent_as_references_survive_the_round_trip() {
    let gw = Gateway::start("");
    let resp = raw(
        gw.addr,
        &post(
            "/RPC2",
            &[],
            call_xml("echo", &["<string>a&#13;&#10;b</string>"]).as_bytes(),
        ),
    );
    assert!(
        resp.text().contains("<string>a&#13;\nb</string>"),
        "{}",
        resp.text()
    );
}

/// Requests being answered now (`xmlrpc_gateway_http_requests_in_flight`;
/// a scrape of /metrics is not one of them).
fn in_flight(gw: &Gateway) -> f64 {
    sample_value(&gw.metrics(), "xmlrpc_gateway_http_requests_in_flight")
}

#[test]
fn a_request_waits_until_another_releases_the_inflight_budget() {
    // A budget of 100 KB. The first request declares 60 KB and sends all
    // but the end of its body: it holds 60 KB while it reads. A second one
    // of 60 KB does not fit, and must wait until the first is answered.
    let gw = Gateway::start("[limits]\nmax_inflight_body_bytes = 100000\n");
    let request = post("/RPC2", &[], echo_of(60_000).as_bytes());
    let (head_and_most, rest) = request.split_at(request.len() - 1000);
    let mut first = TcpStream::connect(gw.addr).unwrap();
    first.write_all(head_and_most).unwrap();
    // The first is being answered: it took its budget before reading.
    wait_until(Duration::from_secs(10), || in_flight(&gw) >= 1.0);
    let addr = gw.addr;
    let second = {
        let request = request.clone();
        std::thread::spawn(move || {
            let resp = raw(addr, &request);
            (resp.status, Instant::now())
        })
    };
    wait_until(Duration::from_secs(10), || {
        in_flight(&gw) >= 2.0 || second.is_finished()
    });
    // The second is in the server. This pause is the behaviour under test:
    // the second must not be answered while the first holds its budget,
    // and without the budget it would be (an echo takes milliseconds).
    std::thread::sleep(Duration::from_millis(300));
    let released = Instant::now();
    first.write_all(rest).unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let resp = read_response(&mut first);
    assert_eq!(resp.status, 200);
    assert!(resp.body.len() > 60_000);
    let (status, answered) = second.join().unwrap();
    assert_eq!(status, 200);
    assert!(
        answered > released,
        "the second request was answered {:?} before the first released its budget",
        released.duration_since(answered)
    );
}

#[test]
fn large_requests_beyond_the_inflight_budget_are_all_answered() {
    // A budget of 100 KB: 60 KB bodies run one at a time; chunked ones (no
    // length) grow their reservation while reading, releasing what they
    // hold first. None may deadlock: all must be answered. (That they wait
    // is a_request_waits_until_another_releases_the_inflight_budget.)
    let gw = Gateway::start("[limits]\nmax_inflight_body_bytes = 100000\n");
    let addr = gw.addr;
    let threads: Vec<_> = (0..12)
        .map(|i| {
            std::thread::spawn(move || {
                let body = echo_of(60_000);
                let req = if i % 2 == 0 {
                    post("/RPC2", &[], body.as_bytes())
                } else {
                    format!(
                        "POST /RPC2 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                        body.len()
                    )
                    .into_bytes()
                };
                let resp = raw(addr, &req);
                (resp.status, resp.body.len())
            })
        })
        .collect();
    for t in threads {
        let (status, len) = t.join().unwrap();
        assert_eq!(status, 200);
        assert!(len > 60_000);
    }
}
