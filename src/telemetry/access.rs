//! The access log: one line per request (target `access`, message
//! `request`), exactly as `tracing-subscriber`'s text or JSON formatter
//! writes the event, but formatted here straight into a reused buffer
//! (integers with `itoa`, byte copies, no `format!`: no allocation once the
//! thread's buffer has grown) and queued on the non-blocking writer.
//!
//! The event through `tracing` stays as the way of an embedder (whose
//! subscriber it goes to) and of the binary when the line would look
//! different: with colours (stderr a terminal), or inside the `request`
//! span (`level = "debug"`), whose fields the line then carries.

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use super::format::LogFormat;
use super::writer::{Line, LogWriter, TARGET};

/// A line's buffer is kept for the next line unless a long name made it
/// larger than this.
const KEEP_BUFFER_BYTES: usize = 16 << 10;

/// Where access lines go: through `tracing` (the default: an embedder's
/// subscriber sees them as any event), or formatted here and queued on the
/// log writer [`super::init`] started (what the binary hands its server).
#[derive(Clone, Debug, Default)]
pub struct AccessLog {
    direct: Option<Direct>,
}

#[derive(Clone, Debug)]
struct Direct {
    writer: LogWriter,
    format: LogFormat,
}

/// What the access line of one request says.
#[derive(Debug)]
pub(crate) struct AccessLine<'a> {
    pub(crate) request_id: &'a str,
    /// The request's trace id, when traces are on.
    pub(crate) trace_id: Option<&'a str>,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) http_method: &'a str,
    pub(crate) path: &'a str,
    /// The XML-RPC method name, as the client sent it.
    pub(crate) method: Option<&'a str>,
    /// A multicall's entries' method names, as the client sent them.
    pub(crate) calls: &'a [String],
    /// The backend the call went to, or a multicall's entries' (`-` for
    /// none); empty: none.
    pub(crate) backends: &'a [String],
    pub(crate) status: u16,
    pub(crate) fault_code: Option<i32>,
    pub(crate) bytes_in: usize,
    pub(crate) bytes_out: usize,
    pub(crate) duration: Duration,
}

impl AccessLog {
    /// Formatted here and queued on `writer`, in `format`.
    pub(crate) fn direct(writer: LogWriter, format: LogFormat) -> AccessLog {
        AccessLog {
            direct: Some(Direct { writer, format }),
        }
    }

    /// Logs `line` at `info`, if the log filter lets `access` lines
    /// through. `in_span`: the request's `request` span is recording (its
    /// fields then go on the line, and only `tracing` writes those).
    pub(crate) fn log(&self, line: &AccessLine<'_>, in_span: bool) {
        match &self.direct {
            Some(direct) if !in_span => {
                if tracing::enabled!(target: TARGET, tracing::Level::INFO) {
                    direct.write(line);
                }
            }
            _ => line.trace(),
        }
    }
}

thread_local! {
    /// The line being formatted, reused from line to line.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Direct {
    fn write(&self, line: &AccessLine<'_>) {
        BUFFER.with_borrow_mut(|buf| {
            buf.clear();
            let now = SystemTime::now();
            match self.format {
                LogFormat::Text => text(buf, line, now),
                LogFormat::Json => json(buf, line, now),
            }
            self.writer.push(buf, Line::Access);
            if buf.capacity() > KEEP_BUFFER_BYTES {
                *buf = Vec::new();
            }
        });
    }
}

impl AccessLine<'_> {
    /// The line as a `tracing` event.
    fn trace(&self) {
        tracing::info!(
            target: TARGET,
            request_id = %self.request_id,
            trace_id = self.trace_id.map(tracing::field::display),
            peer = %Peer(self.peer),
            http_method = %self.http_method,
            path = %self.path,
            method = %Printable(self.method.unwrap_or("-")),
            calls = (!self.calls.is_empty())
                .then(|| Printable(&self.calls.join(",")).to_string())
                .map(tracing::field::display),
            backend = (!self.backends.is_empty())
                .then(|| self.backends.join(","))
                .map(tracing::field::display),
            status = self.status,
            fault_code = self.fault_code,
            bytes_in = self.bytes_in,
            bytes_out = self.bytes_out,
            duration_ms = self.duration.as_micros() as f64 / 1000.0,
            "request"
        );
    }
}

/// The client's address, `-` when there is none (CGI, tests).
struct Peer(Option<SocketAddr>);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(addr) => addr.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// A client-chosen name as log text: when it holds a control character,
/// escaped as Rust's `escape_debug` does, so a name cannot forge a log line
/// (JSON lines are escaped anyway).
struct Printable<'a>(&'a str);

impl std::fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if has_control(self.0) {
            self.0.escape_debug().fmt(f)
        } else {
            f.write_str(self.0)
        }
    }
}

fn has_control(name: &str) -> bool {
    name.chars().any(char::is_control)
}

/// `tracing-subscriber`'s full text format, without colours:
/// `TIMESTAMP  INFO access: request request_id=.. peer=.. ...`.
fn text(out: &mut Vec<u8>, line: &AccessLine<'_>, now: SystemTime) {
    timestamp(out, now);
    out.extend_from_slice(b"  INFO access: request request_id=");
    out.extend_from_slice(line.request_id.as_bytes());
    if let Some(trace_id) = line.trace_id {
        out.extend_from_slice(b" trace_id=");
        out.extend_from_slice(trace_id.as_bytes());
    }
    out.extend_from_slice(b" peer=");
    peer(out, line.peer);
    out.extend_from_slice(b" http_method=");
    out.extend_from_slice(line.http_method.as_bytes());
    out.extend_from_slice(b" path=");
    out.extend_from_slice(line.path.as_bytes());
    out.extend_from_slice(b" method=");
    names(out, line.method, &[], Raw);
    if !line.calls.is_empty() {
        out.extend_from_slice(b" calls=");
        names(out, None, line.calls, Raw);
    }
    if !line.backends.is_empty() {
        out.extend_from_slice(b" backend=");
        names(out, None, line.backends, Raw);
    }
    out.extend_from_slice(b" status=");
    integer(out, line.status);
    if let Some(code) = line.fault_code {
        out.extend_from_slice(b" fault_code=");
        integer(out, code);
    }
    out.extend_from_slice(b" bytes_in=");
    integer(out, line.bytes_in);
    out.extend_from_slice(b" bytes_out=");
    integer(out, line.bytes_out);
    out.extend_from_slice(b" duration_ms=");
    millis(out, line.duration);
    out.push(b'\n');
}

/// `tracing-subscriber`'s JSON format with the event's fields flattened:
/// `{"timestamp":..,"level":"INFO","message":"request",FIELDS,"target":"access"}`.
fn json(out: &mut Vec<u8>, line: &AccessLine<'_>, now: SystemTime) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamp(out, now);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"request\",\"request_id\":\"");
    json_str(out, line.request_id);
    if let Some(trace_id) = line.trace_id {
        out.extend_from_slice(b"\",\"trace_id\":\"");
        json_str(out, trace_id);
    }
    out.extend_from_slice(b"\",\"peer\":\"");
    peer(out, line.peer);
    out.extend_from_slice(b"\",\"http_method\":\"");
    json_str(out, line.http_method);
    out.extend_from_slice(b"\",\"path\":\"");
    json_str(out, line.path);
    out.extend_from_slice(b"\",\"method\":\"");
    names(out, line.method, &[], Json);
    if !line.calls.is_empty() {
        out.extend_from_slice(b"\",\"calls\":\"");
        names(out, None, line.calls, Json);
    }
    if !line.backends.is_empty() {
        out.extend_from_slice(b"\",\"backend\":\"");
        names(out, None, line.backends, Json);
    }
    out.extend_from_slice(b"\",\"status\":");
    integer(out, line.status);
    if let Some(code) = line.fault_code {
        out.extend_from_slice(b",\"fault_code\":");
        integer(out, code);
    }
    out.extend_from_slice(b",\"bytes_in\":");
    integer(out, line.bytes_in);
    out.extend_from_slice(b",\"bytes_out\":");
    integer(out, line.bytes_out);
    out.extend_from_slice(b",\"duration_ms\":");
    millis(out, line.duration);
    out.extend_from_slice(b",\"target\":\"access\"}\n");
}

/// How text is written into a line: as is, or as the inside of a JSON
/// string.
trait Escape: Copy {
    fn str(self, out: &mut Vec<u8>, text: &str);
    fn char(self, out: &mut Vec<u8>, c: char);
}

#[derive(Clone, Copy)]
struct Raw;

impl Escape for Raw {
    fn str(self, out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(text.as_bytes());
    }

    fn char(self, out: &mut Vec<u8>, c: char) {
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
}

#[derive(Clone, Copy)]
struct Json;

impl Escape for Json {
    fn str(self, out: &mut Vec<u8>, text: &str) {
        json_str(out, text);
    }

    fn char(self, out: &mut Vec<u8>, c: char) {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => json_control(out, c as u8),
            c => Raw.char(out, c),
        }
    }
}

/// A method name (`-` when there is none), or names joined with commas,
/// through [`Printable`]'s rule: escaped when any holds a control
/// character.
fn names(out: &mut Vec<u8>, method: Option<&str>, calls: &[String], escape: impl Escape) {
    if calls.is_empty() {
        let name = method.unwrap_or("-");
        if has_control(name) {
            for c in name.escape_debug() {
                escape.char(out, c);
            }
        } else {
            escape.str(out, name);
        }
    } else if calls.iter().any(|name| has_control(name)) {
        // Rare (a client's forgery attempt): escaped as one string, as the
        // rule is for the joined names.
        for c in calls.join(",").escape_debug() {
            escape.char(out, c);
        }
    } else {
        for (i, name) in calls.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            escape.str(out, name);
        }
    }
}

/// The inside of a JSON string, escaped as serde_json does: `"`, `\` and
/// the control characters below U+0020.
fn json_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            _ => json_control(out, b),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn json_control(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

fn integer(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// The client's address as `SocketAddr` displays it, `-` when none.
fn peer(out: &mut Vec<u8>, peer: Option<SocketAddr>) {
    match peer {
        None => out.push(b'-'),
        Some(SocketAddr::V4(addr)) => {
            // `255.255.255.255:65535` at most: built on the stack, copied once.
            let mut text = [0u8; 21];
            let mut len = 0;
            for (i, octet) in addr.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    text[len] = b'.';
                    len += 1;
                }
                len += decimal(&mut text[len..], u32::from(octet));
            }
            text[len] = b':';
            len += 1;
            len += decimal(&mut text[len..], u32::from(addr.port()));
            out.extend_from_slice(&text[..len]);
        }
        // IPv6's shortening rules: the standard library's. Writing into a
        // `Vec` cannot fail.
        Some(addr) => {
            let _ = write!(out, "{addr}");
        }
    }
}

/// Writes `n` (below 100,000) in decimal at the start of `text`; how many
/// digits that took.
fn decimal(text: &mut [u8], n: u32) -> usize {
    let digits = match n {
        0..10 => 1,
        10..100 => 2,
        100..1000 => 3,
        1000..10_000 => 4,
        _ => 5,
    };
    let mut rest = n;
    for at in (0..digits).rev() {
        text[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    digits
}

/// A duration in milliseconds with microsecond precision, as the `f64`
/// `micros / 1000.0` prints (Rust's `Debug` and serde_json alike: the
/// shortest digits that read back, `.0` on whole numbers): `0.079`, `12.5`,
/// `3.0`.
fn millis(out: &mut Vec<u8>, duration: Duration) {
    // Whole microseconds as u64 (584,000 years): dividing a u128 is a call.
    let micros = duration.as_micros() as u64;
    integer(out, micros / 1000);
    out.push(b'.');
    let frac = (micros % 1000) as u32;
    let digits = [
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ];
    let len = if frac.is_multiple_of(100) {
        1
    } else if frac.is_multiple_of(10) {
        2
    } else {
        3
    };
    out.extend_from_slice(&digits[..len]);
}

/// RFC 3339 in UTC with microseconds, as `tracing-subscriber` writes its
/// timestamps: `2026-11-25T09:35:08.188791Z`. (A clock before 1970 shows
/// 1970.)
fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let micros = since.subsec_micros();
    let mut fraction = *b".000000Z";
    let mut put = |at: usize, n: u32| {
        fraction[at] = b'0' + (n / 10) as u8;
        fraction[at + 1] = b'0' + (n % 10) as u8;
    };
    put(1, micros / 10_000);
    put(3, micros / 100 % 100);
    put(5, micros % 100);
    // The date and time to the second change once a second: the last one
    // a thread wrote is kept.
    let (last, mut text) = SECOND.get();
    if last != secs {
        text = seconds(secs);
        SECOND.set((secs, text));
    }
    if text[0] == b'+' {
        let (year, ..) = civil_from_days(secs / 86_400);
        out.push(b'+');
        integer(out, year);
        out.extend_from_slice(&text[4..]);
    } else {
        out.extend_from_slice(&text);
    }
    out.extend_from_slice(&fraction);
}

thread_local! {
    /// The second last stamped on this thread, and its text.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// `YYYY-MM-DDTHH:MM:SS` of a second counted from 1970; after the year
/// 9999, `+` then the rest from the month on (the caller writes the year).
fn seconds(secs: u64) -> [u8; 19] {
    let (year, month, day) = civil_from_days(secs / 86_400);
    let time = (secs % 86_400) as u32;
    let mut text = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, n: u32| {
        text[at] = b'0' + (n / 10) as u8;
        text[at + 1] = b'0' + (n % 10) as u8;
    };
    put(0, (year / 100 % 100) as u32);
    put(2, (year % 100) as u32);
    put(5, month);
    put(8, day);
    put(11, time / 3600);
    put(14, time / 60 % 60);
    put(17, time % 60);
    if year > 9999 {
        text[0] = b'+';
    }
    text
}

/// Year, month (1-12) and day (1-31) of a day counted from 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv6Addr, SocketAddrV6};
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// What a `tracing-subscriber` fmt layer writes, captured.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;

        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    /// The line as the binary's subscriber formats the `tracing` event.
    fn through_tracing(line: &AccessLine<'_>, format: LogFormat) -> String {
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(capture.clone());
        match format {
            LogFormat::Text => {
                tracing::subscriber::with_default(builder.finish(), || line.trace());
            }
            LogFormat::Json => {
                let subscriber = builder.json().flatten_event(true).finish();
                tracing::subscriber::with_default(subscriber, || line.trace());
            }
        }
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    fn formatted(line: &AccessLine<'_>, format: LogFormat) -> String {
        let mut out = Vec::new();
        let now = SystemTime::now();
        match format {
            LogFormat::Text => text(&mut out, line, now),
            LogFormat::Json => json(&mut out, line, now),
        }
        String::from_utf8(out).unwrap()
    }

    /// The line without its timestamp (the two were taken at different
    /// times), checking that there is one of the right shape.
    fn untimed(line: &str, format: LogFormat) -> String {
        let (before, stamp, after) = match format {
            LogFormat::Text => {
                let (stamp, rest) = line.split_once(' ').unwrap();
                ("", stamp, rest)
            }
            LogFormat::Json => {
                let rest = line.strip_prefix("{\"timestamp\":\"").unwrap();
                let (stamp, rest) = rest.split_once('"').unwrap();
                ("{\"timestamp\":\"\"", stamp, rest)
            }
        };
        assert_eq!(stamp.len(), "2026-11-25T09:35:08.188791Z".len(), "{line}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{line}"
        );
        format!("{before}{after}")
    }

    fn calls(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn lines_are_what_tracing_writes_in_both_formats() {
        let v6 = SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            8080,
            0,
            2,
        ));
        let multicall = calls(&["add", "div", "ünïcode"]);
        let forged = calls(&["a\tb", "c\"d", "\u{301}e"]);
        let quoted = calls(&["say \"hi\"", "back\\slash"]);
        let legacy = calls(&["legacy"]);
        let split = calls(&["legacy", "-", "candidate"]);
        let base = AccessLine {
            request_id: "459b75b3514f7f01",
            trace_id: None,
            peer: Some("127.0.0.1:51510".parse().unwrap()),
            http_method: "POST",
            path: "/RPC2",
            method: Some("add"),
            calls: &[],
            backends: &[],
            status: 200,
            fault_code: None,
            bytes_in: 176,
            bytes_out: 114,
            duration: Duration::from_micros(79),
        };
        let lines = [
            AccessLine { ..base },
            AccessLine {
                backends: &legacy,
                ..base
            },
            AccessLine {
                method: Some("system.multicall"),
                calls: &multicall,
                backends: &split,
                duration: Duration::from_micros(1000),
                ..base
            },
            AccessLine {
                method: Some("bad\nname\u{7f}"),
                calls: &forged,
                fault_code: Some(-32601),
                duration: Duration::ZERO,
                ..base
            },
            AccessLine {
                method: Some("\u{301}starts with a combining mark\r"),
                calls: &quoted,
                ..base
            },
            AccessLine {
                request_id: "a \"quoted\\\" id",
                peer: None,
                http_method: "DELETE",
                path: "/a\"b\\c",
                method: None,
                status: 405,
                bytes_in: 0,
                bytes_out: 0,
                duration: Duration::from_micros(123_456_789),
                ..base
            },
            AccessLine {
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
                ..base
            },
            AccessLine {
                peer: Some(v6),
                method: Some("caf\u{e9}"),
                fault_code: Some(7),
                duration: Duration::from_micros(12_500),
                ..base
            },
        ];
        for line in &lines {
            for format in [LogFormat::Text, LogFormat::Json] {
                let ours = formatted(line, format);
                let theirs = through_tracing(line, format);
                assert!(ours.ends_with('\n') && ours.matches('\n').count() == 1);
                assert_eq!(untimed(&ours, format), untimed(&theirs, format));
            }
        }
    }

    #[test]
    fn names_cannot_forge_log_lines() {
        let line = AccessLine {
            request_id: "r",
            trace_id: None,
            peer: None,
            http_method: "POST",
            path: "/",
            method: Some("a\n2026-01-01 INFO forged"),
            calls: &calls(&["tab\there", "x\ny"]),
            backends: &[],
            status: 200,
            fault_code: None,
            bytes_in: 0,
            bytes_out: 0,
            duration: Duration::ZERO,
        };
        let text = formatted(&line, LogFormat::Text);
        assert!(
            text.contains(" method=a\\n2026-01-01 INFO forged calls=tab\\there,x\\ny "),
            "{text}"
        );
        let json = formatted(&line, LogFormat::Json);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["method"], "a\\n2026-01-01 INFO forged");
        assert_eq!(value["calls"], "tab\\there,x\\ny");
        assert_eq!(text.lines().count(), 1);
        assert_eq!(json.lines().count(), 1);
    }

    #[test]
    fn peers_print_as_socket_addresses_do() {
        for addr in [
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.0.0.1:80",
            "192.168.100.7:8080",
            "1.22.133.4:9",
            "[::1]:443",
            "[2001:db8::8:800:200c:417a]:10000",
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut out = Vec::new();
            peer(&mut out, Some(addr));
            assert_eq!(String::from_utf8(out).unwrap(), addr.to_string());
        }
    }

    #[test]
    fn milliseconds_print_as_the_float_does() {
        let micros = (0..200_000u64).chain((0..40).map(|i| 1u64 << i)).chain([
            999_999_999,
            3_600_000_000,
            86_400_000_001,
        ]);
        for us in micros {
            let mut out = Vec::new();
            millis(&mut out, Duration::from_micros(us));
            let ours = String::from_utf8(out).unwrap();
            let float = us as f64 / 1000.0;
            assert_eq!(ours, format!("{float:?}"), "{us} us");
            assert_eq!(ours, serde_json::to_string(&float).unwrap(), "{us} us");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_with_microseconds() {
        let mut secs: u64 = 0;
        let mut seen = 0;
        // Every day from 1970 to 2400 at a varying time of day, and the
        // turns of years and leap days among them.
        while secs < 13_569_465_600 {
            let at = SystemTime::UNIX_EPOCH + Duration::new(secs, (secs % 1_000_000) as u32 * 997);
            let mut out = Vec::new();
            timestamp(&mut out, at);
            let ours = String::from_utf8(out).unwrap();
            assert_eq!(ours, humantime::format_rfc3339_micros(at).to_string());
            secs += 86_400 + 3_607;
            seen += 1;
        }
        assert!(seen > 100_000);
        // Within one second (the thread's last second reused), and back.
        for (secs, micros) in [
            (1_798_761_599, 1),
            (1_798_761_599, 999_999),
            (5, 42),
            (1_798_761_599, 7),
        ] {
            let at = SystemTime::UNIX_EPOCH + Duration::new(secs, micros * 1000);
            let mut out = Vec::new();
            timestamp(&mut out, at);
            let ours = String::from_utf8(out).unwrap();
            assert_eq!(ours, humantime::format_rfc3339_micros(at).to_string());
        }
        for (at, want) in [
            (0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, "2000-02-29T00:00:00.000000Z"),
            (1_798_761_599, "2026-12-31T23:59:59.000000Z"),
            (4_107_542_400, "2100-03-01T00:00:00.000000Z"),
            (253_402_300_800, "+10000-01-01T00:00:00.000000Z"),
        ] {
            let mut out = Vec::new();
            timestamp(&mut out, SystemTime::UNIX_EPOCH + Duration::from_secs(at));
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
