//! Rolling updates: with `limits.shutdown_delay`, the real binary keeps
//! accepting and serving new connections for that long after SIGTERM while
//! `/readyz` answers 503 (so a load balancer takes it out of rotation
//! without anyone being refused); then its listener closes, calls in flight
//! drain, and it exits 0.

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{Binary, RawResponse, call_xml, get, post, read_response, wait_until};

/// The delay the tests configure.
const DELAY: Duration = Duration::from_secs(2);
/// Attempts that start this close to the end of the delay may meet the
/// listener closing (a connection the kernel took but the server had not
/// accepted yet is reset): only earlier ones must be answered.
const CLOSING_MARGIN: Duration = Duration::from_millis(100);
/// How often the client opens a new connection.
const PACE: Duration = Duration::from_millis(20);

const CONFIG: &str = "[server]\nlog_requests = false\n[limits]\nshutdown_delay = \"2s\"\n";

/// What one call on a new connection got.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// 200 with add's sum.
    Answered,
    /// The listener refused the connection.
    Refused,
    /// Anything else: an error status, a reset, no answer.
    Failed(String),
}

/// One exchange on a new connection: `Some(response)`, `None` when the
/// connection was refused, `Err` for any other failure.
fn exchange(addr: SocketAddr, request: &[u8]) -> Result<Option<RawResponse>, String> {
    let mut stream = match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(stream) => stream,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(None),
        Err(e) => return Err(format!("connect: {e}")),
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request)
        .map_err(|e| format!("write: {e}"))?;
    let response =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_response(&mut stream)))
            .map_err(|_| "no answer (reset or timeout)".to_owned())?;
    Ok(Some(response))
}

fn call_add(addr: SocketAddr) -> Outcome {
    let body = call_xml("add", &["<int>2</int>", "<int>3</int>"]);
    match exchange(addr, &post("/RPC2", &[], body.as_bytes())) {
        Ok(Some(r)) if r.status == 200 && r.text().contains("<int>5</int>") => Outcome::Answered,
        Ok(Some(r)) => Outcome::Failed(format!("{} {}", r.status, r.text())),
        Ok(None) => Outcome::Refused,
        Err(e) => Outcome::Failed(e),
    }
}

/// The status of a GET of `path` on a new connection; `None` when refused.
fn status_of(addr: SocketAddr, path: &str) -> Result<Option<u16>, String> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    Ok(exchange(addr, request.as_bytes())?.map(|r| r.status))
}

/// A client that opens a new connection every `PACE` and calls `add(2, 3)`
/// on it, until `stop` is set or it has been refused five times in a row.
/// Returns when each call started and what it got; counts answers in
/// `answered` as it goes.
fn new_connection_client(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
) -> JoinHandle<Vec<(Instant, Outcome)>> {
    std::thread::spawn(move || {
        let mut calls = Vec::new();
        let mut refused_in_a_row = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !stop.load(Ordering::Relaxed) && refused_in_a_row < 5 && Instant::now() < deadline {
            let started = Instant::now();
            let outcome = call_add(addr);
            if outcome == Outcome::Answered {
                answered.fetch_add(1, Ordering::Relaxed);
            }
            refused_in_a_row = if outcome == Outcome::Refused {
                refused_in_a_row + 1
            } else {
                0
            };
            calls.push((started, outcome));
            std::thread::sleep(PACE);
        }
        calls
    })
}

/// Polls `/readyz` on `addr` every `PACE` until the connection is refused
/// (or 30 s pass): when each poll was sent and the status it got.
fn poll_readyz_until_refused(addr: SocketAddr) -> (Vec<(Instant, u16)>, Option<Instant>) {
    let mut polls = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let at = Instant::now();
        match status_of(addr, "/readyz") {
            Ok(Some(status)) => polls.push((at, status)),
            Ok(None) => return (polls, Some(at)),
            // A connection the closing listener reset: not an answer.
            Err(_) => {}
        }
        std::thread::sleep(PACE);
    }
    (polls, None)
}

/// Checks the `/readyz` polls made after the signal: 503 at once (the first
/// poll may come before the process has handled the signal: 200 is allowed
/// for the first 500 ms), then 503 on every poll, up to at least the end of
/// the delay; and the refusal after it.
fn check_readyz(
    polls: &[(Instant, u16)],
    refused_at: Option<Instant>,
    signalled: Instant,
    failures: &mut Vec<String>,
) {
    let first_503 = polls.iter().position(|&(_, status)| status == 503);
    match first_503 {
        None => failures.push(format!(
            "/readyz never answered 503 after SIGTERM: {:?}",
            statuses(polls, signalled)
        )),
        Some(i) => {
            let at = polls[i].0 - signalled;
            if at > Duration::from_millis(500) {
                failures.push(format!("/readyz turned 503 only {at:?} after SIGTERM"));
            }
            if polls[i..].iter().any(|&(_, status)| status != 503) {
                failures.push(format!(
                    "/readyz answered other than 503 after it turned 503: {:?}",
                    statuses(polls, signalled)
                ));
            }
        }
    }
    let last_answer = polls.last().map(|&(at, _)| at - signalled);
    if last_answer.is_none_or(|at| at < DELAY - CLOSING_MARGIN) {
        failures.push(format!(
            "/readyz stopped answering {last_answer:?} after SIGTERM, before the delay ended"
        ));
    }
    match refused_at {
        None => failures.push("/readyz was never refused: the listener did not close".to_owned()),
        Some(at) if at - signalled < DELAY => failures.push(format!(
            "/readyz refused {:?} after SIGTERM, before the delay ended",
            at - signalled
        )),
        Some(_) => {}
    }
}

fn statuses(polls: &[(Instant, u16)], signalled: Instant) -> Vec<(u128, u16)> {
    polls
        .iter()
        .map(|&(at, status)| ((at - signalled).as_millis(), status))
        .collect()
}

/// Checks the client's calls: every call before the signal and during the
/// delay answered (and enough of them during it that the check means
/// something), the listener refusing only once the delay is over, and
/// refusing in the end.
fn check_calls(calls: &[(Instant, Outcome)], signalled: Instant, failures: &mut Vec<String>) {
    let window_end = signalled + DELAY - CLOSING_MARGIN;
    let during: Vec<_> = calls
        .iter()
        .filter(|(at, _)| *at >= signalled && *at < window_end)
        .collect();
    let bad: Vec<_> = calls
        .iter()
        .filter(|(at, outcome)| *at < window_end && *outcome != Outcome::Answered)
        .map(|(at, outcome)| (at.saturating_duration_since(signalled), outcome))
        .collect();
    if !bad.is_empty() {
        failures.push(format!(
            "calls before the end of the delay not answered (time after SIGTERM, outcome): {bad:?}"
        ));
    }
    if during.len() < 10 {
        failures.push(format!(
            "only {} calls during the delay: the check means little",
            during.len()
        ));
    }
    let early_refusal = calls
        .iter()
        .find(|(at, outcome)| *outcome == Outcome::Refused && *at < signalled + DELAY);
    if let Some((at, _)) = early_refusal {
        failures.push(format!(
            "a connection was refused {:?} after SIGTERM, before the delay ended",
            at.saturating_duration_since(signalled)
        ));
    }
    if calls
        .last()
        .is_none_or(|(_, outcome)| *outcome != Outcome::Refused)
    {
        failures.push("the listener never refused the client after the delay".to_owned());
    }
    println!(
        "{} calls, {} during the delay, all answered: {}",
        calls.len(),
        during.len(),
        bad.is_empty()
    );
}

/// Starts the client and waits until it has been answered a few times.
fn start_client(addr: SocketAddr) -> (JoinHandle<Vec<(Instant, Outcome)>>, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let client = new_connection_client(addr, stop.clone(), answered.clone());
    wait_until(Duration::from_secs(10), || {
        answered.load(Ordering::Relaxed) >= 5
    });
    (client, stop)
}

#[test]
fn during_the_shutdown_delay_new_connections_are_served_and_the_admin_readyz_is_503() {
    let mut bin = Binary::start(&format!("{CONFIG}[admin]\nlisten = \"127.0.0.1:0\"\n"));
    let (addr, admin) = (bin.addr, bin.admin_addr.expect("an admin listener"));
    assert_eq!(get(admin, "/readyz").status, 200);
    let (client, stop) = start_client(addr);

    let signalled = Instant::now();
    bin.signal("TERM");
    // The admin listener answers until the process exits.
    let (polls, refused_at) = poll_readyz_until_refused(admin);
    let status = bin.wait_exit(Duration::from_secs(10));
    let exited = Instant::now();
    // The client ends once refused a few times in a row; told to stop only
    // when the process is still there.
    if status.is_none() {
        stop.store(true, Ordering::Relaxed);
    }
    let calls = client.join().expect("the client thread ends");

    let mut failures = Vec::new();
    check_readyz(&polls, refused_at, signalled, &mut failures);
    check_calls(&calls, signalled, &mut failures);
    match status {
        Some(status) if status.code() == Some(0) => {}
        other => failures.push(format!("exit: {other:?}")),
    }
    println!(
        "SIGTERM to exit: {:?}; {} /readyz polls, from {:?} to {:?} ms after SIGTERM",
        exited - signalled,
        polls.len(),
        statuses(&polls, signalled).first(),
        statuses(&polls, signalled).last(),
    );
    let logs = bin.logs();
    if !logs.iter().any(|l| l["message"] == "drained") {
        failures.push(format!("no drained line in {logs:#?}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn during_the_shutdown_delay_the_main_listener_answers_readyz_503_and_closes_connections() {
    let mut bin = Binary::start(CONFIG);
    let addr = bin.addr;
    // A keep-alive connection, opened before the signal.
    let mut kept = TcpStream::connect(addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let body = call_xml("add", &["<int>2</int>", "<int>3</int>"]);
    let keep_alive = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    kept.write_all(keep_alive.as_bytes()).unwrap();
    let before = read_response(&mut kept);
    assert_eq!(before.status, 200);
    assert_eq!(before.header("connection"), None, "kept alive before");
    let (client, stop) = start_client(addr);

    let signalled = Instant::now();
    bin.signal("TERM");
    wait_until(Duration::from_secs(1), || {
        status_of(addr, "/readyz") == Ok(Some(503))
    });
    // Shutdown has begun: the kept connection is answered, and closed.
    kept.write_all(keep_alive.as_bytes()).unwrap();
    let during = read_response(&mut kept);
    let (polls, refused_at) = poll_readyz_until_refused(addr);
    let status = bin.wait_exit(Duration::from_secs(10));
    // The client ends once refused a few times in a row; told to stop only
    // when the process is still there.
    if status.is_none() {
        stop.store(true, Ordering::Relaxed);
    }
    let calls = client.join().expect("the client thread ends");

    let mut failures = Vec::new();
    if during.status != 200 || during.header("connection") != Some("close") {
        failures.push(format!(
            "a keep-alive call during the delay: {} {:?}",
            during.status, during.headers
        ));
    }
    check_readyz(&polls, refused_at, signalled, &mut failures);
    check_calls(&calls, signalled, &mut failures);
    match status {
        Some(status) if status.code() == Some(0) => {}
        other => failures.push(format!("exit: {other:?}")),
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
