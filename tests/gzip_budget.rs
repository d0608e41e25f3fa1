//! Gzipped request bodies against the in-flight body budget, on the real
//! binary with the default limits: a body that inflates to almost
//! `max_decoded_bytes` takes its decoded bytes out of
//! `max_inflight_body_bytes` before they exist, so many such bodies at once
//! wait for their turn instead of all being inflated at once.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Binary, RawResponse, call_xml, post, read_response, sample_value};

/// Bombs in flight at once.
const BOMBS: usize = 200;
/// The defaults of `limits.max_decoded_bytes` and
/// `limits.max_inflight_body_bytes`.
const MAX_DECODED_BYTES: usize = 8 << 20;
const BUDGET_BYTES: u64 = 8 << 20;
/// What the process may hold beyond the budget: the binary itself, the one
/// request being decoded and answered, allocator slack.
const HEADROOM_BYTES: u64 = 64 << 20;

/// The process's resident memory (VmRSS), in bytes.
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A valid `add(2, 3)` call padded with whitespace between its elements to
/// `MAX_DECODED_BYTES - 16` bytes, which gzip packs into about 8 KiB. (The
/// answer is small: an `echo` of as many bytes would spend the test's time
/// encoding and sending 8 MiB answers, one after the other.)
fn bomb_request() -> Vec<u8> {
    let call = call_xml("add", &["<int>2</int>", "<int>3</int>"]);
    let (head, tail) = call.split_at(call.find("<params>").unwrap());
    let padding = " ".repeat(MAX_DECODED_BYTES - 16 - call.len());
    let document = format!("{head}{padding}{tail}");
    assert_eq!(document.len(), MAX_DECODED_BYTES - 16);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(document.as_bytes()).unwrap();
    let packed = encoder.finish().unwrap();
    post(
        "/RPC2",
        &["Content-Type: text/xml", "Content-Encoding: gzip"],
        &packed,
    )
}

/// A GET of `path` that closes the connection.
fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Sends `request` on a connection of its own and reads the answer within
/// `timeout`; `None` when none came.
fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> Option<RawResponse> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.write_all(request).ok()?;
    let response =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_response(&mut stream)))
            .ok()?;
    (response.status != 0).then_some(response)
}

#[test]
fn gzip_bombs_wait_for_the_budget_and_others_are_served() {
    let started = Instant::now();
    let mut bin = Binary::start("");
    let addr = bin.addr;
    let pid = bin.child.id();
    let request = Arc::new(bomb_request());
    let baseline = rss_bytes(pid).expect("the binary's RSS is readable");

    // Samples the server's RSS every 5 ms until told to stop.
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = {
        let (done, peak) = (done.clone(), peak.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_bytes(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    let bombs: Vec<_> = (0..BOMBS)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || {
                exchange(addr, &request, Duration::from_secs(120))
                    .map(|r| (r.status, r.text().contains("<int>5</int>")))
            })
        })
        .collect();

    // Once half of them are in flight, a normal call on a connection of
    // its own must still be answered promptly.
    let in_flight = || {
        let metrics = exchange(addr, &get_request("/metrics"), Duration::from_secs(2))?;
        Some(sample_value(
            &metrics.text(),
            "xmlrpc_gateway_http_requests_in_flight",
        ))
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got_in_flight = false;
    while Instant::now() < deadline {
        if in_flight().is_some_and(|n| n >= (BOMBS / 2) as f64) {
            got_in_flight = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let asked = Instant::now();
    let add = exchange(
        addr,
        &post(
            "/RPC2",
            &[],
            call_xml("add", &["<int>2</int>", "<int>3</int>"]).as_bytes(),
        ),
        Duration::from_secs(60),
    );
    let add_latency = asked.elapsed();

    let answers: Vec<_> = bombs
        .into_iter()
        .map(|b| b.join().unwrap_or(None))
        .collect();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(Ordering::Relaxed);
    let alive = bin.child.try_wait().unwrap().is_none();
    drop(bin);

    let dropped = answers.iter().filter(|a| a.is_none()).count();
    let added = answers
        .iter()
        .filter(|a| matches!(a, Some((200, true))))
        .count();
    let refused = answers
        .iter()
        .filter(|a| matches!(a, Some((413, _))))
        .count();
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    println!(
        "{BOMBS} bombs: {added} added, {refused} refused (413), {dropped} dropped; \
         RSS {:.1} MiB before, peak {:.1} MiB; add answered in {add_latency:?}; \
         test took {:?}",
        mib(baseline),
        mib(peak),
        started.elapsed()
    );
    let mut failures = Vec::new();
    if !got_in_flight {
        failures.push(format!(
            "/metrics never showed {} requests in flight",
            BOMBS / 2
        ));
    }
    if !alive {
        failures.push("the gateway died".to_owned());
    }
    match &add {
        Some(add) if add.status == 200 && add.text().contains("<int>5</int>") => {}
        Some(add) => failures.push(format!("add answered {} {}", add.status, add.text())),
        None => failures.push("add got no answer".to_owned()),
    }
    if add_latency > Duration::from_secs(1) {
        failures.push(format!("add took {add_latency:?} (limit 1s)"));
    }
    if added + refused != BOMBS {
        failures.push(format!(
            "{} bombs not answered with 200 and 5, or 413 ({dropped} dropped): {:?}",
            BOMBS - added - refused,
            answers
                .iter()
                .filter(|a| !matches!(a, Some((200, true) | (413, _))))
                .take(5)
                .collect::<Vec<_>>()
        ));
    }
    if peak >= BUDGET_BYTES + HEADROOM_BYTES {
        failures.push(format!(
            "peak RSS {:.1} MiB, over the budget plus {:.0} MiB",
            mib(peak),
            mib(HEADROOM_BYTES)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
