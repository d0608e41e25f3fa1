//! SCGI, the client side (the protocol of python.ca/scgi/protocol.txt, as
//! rTorrent serves XML-RPC): one connection per call, over TCP or a Unix
//! socket. The request is a netstring of NUL-separated CGI variables
//! (`CONTENT_LENGTH` first, then `SCGI=1`) followed by the body; the answer
//! is CGI-style, `Status: 200 OK` and other header lines, a blank line,
//! then the body until the server closes the connection (or until its
//! `Content-Length`, when it gives one).

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use super::client::{MAX_RESPONSE_BYTES, backoff};
use super::error::BackendError;
use super::spec::BuildError;

/// A response head longer than this is refused (a CGI head is a few lines).
const MAX_HEAD_BYTES: usize = 64 << 10;

/// Where an SCGI server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

/// Sends requests to one SCGI server.
#[derive(Clone, Debug)]
pub(super) struct ScgiClient {
    target: Target,
    /// The URL's path (`PATH_INFO`), never empty.
    path: String,
    /// The URL's query string, without `?` (`QUERY_STRING`).
    query: String,
    connect_timeout: Duration,
    /// Answers longer than this (head and body) are refused.
    max_response: usize,
}

impl ScgiClient {
    /// A client for the `scgi://host:port/path` URL, or for the server on
    /// `socket` (the URL then gives only the path).
    pub(super) fn new(
        url: &reqwest::Url,
        socket: Option<&Path>,
        connect_timeout: Duration,
    ) -> Result<ScgiClient, BuildError> {
        let target = match socket {
            Some(path) => Target::Unix(path.to_owned()),
            None => {
                let host = match url.host_str() {
                    Some(host) if !host.is_empty() => host,
                    _ => return Err(BuildError::Transport("an scgi URL needs a host")),
                };
                // `[::1]` as written in a URL is `::1` to connect to.
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host)
                    .to_owned();
                let port = url.port().ok_or(BuildError::Transport(
                    "an scgi URL needs a port (there is no default), or a socket",
                ))?;
                Target::Tcp { host, port }
            }
        };
        let path = match url.path() {
            "" => "/".to_owned(),
            path => path.to_owned(),
        };
        Ok(ScgiClient {
            target,
            path,
            query: url.query().unwrap_or_default().to_owned(),
            connect_timeout,
            max_response: MAX_RESPONSE_BYTES,
        })
    }

    /// POSTs `body` (with `headers` as `HTTP_*` variables) and returns the
    /// answer's body. A failure to connect is tried again up to `retries`
    /// times, as over HTTP: nothing was sent.
    pub(super) async fn post(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        retries: u32,
    ) -> Result<Vec<u8>, BackendError> {
        let request = encode_request(&self.path, &self.query, headers, body);
        let mut attempt = 0;
        loop {
            match self.exchange(&request).await {
                Err(Failure::Connect(err)) if attempt < retries => {
                    attempt += 1;
                    tracing::debug!(error = %err, attempt, "scgi connect failed; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(Failure::Connect(err)) if err.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(BackendError::Timeout);
                }
                // Refused, no such socket, unreachable: nothing was sent.
                Err(Failure::Connect(_)) => return Err(BackendError::Refused),
                Err(Failure::Call(err)) => return Err(err),
                Ok(body) => return Ok(body),
            }
        }
    }

    /// One connection: connect, send, read the answer to the end.
    async fn exchange(&self, request: &[u8]) -> Result<Vec<u8>, Failure> {
        let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
        match &self.target {
            Target::Tcp { host, port } => {
                let connect = TcpStream::connect((host.as_str(), *port));
                let stream = tokio::time::timeout(self.connect_timeout, connect)
                    .await
                    .map_err(|_| Failure::Connect(timed_out()))?
                    .map_err(Failure::Connect)?;
                let _ = stream.set_nodelay(true);
                send_and_read(stream, request, self.max_response).await
            }
            Target::Unix(path) => {
                let stream = tokio::time::timeout(self.connect_timeout, UnixStream::connect(path))
                    .await
                    .map_err(|_| Failure::Connect(timed_out()))?
                    .map_err(Failure::Connect)?;
                send_and_read(stream, request, self.max_response).await
            }
        }
    }
}

/// Why one connection produced no answer: it could not be opened (and may
/// be tried again), or the call failed after that.
enum Failure {
    Connect(std::io::Error),
    Call(BackendError),
}

async fn send_and_read<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    max: usize,
) -> Result<Vec<u8>, Failure> {
    let io = |err: std::io::Error| Failure::Call(BackendError::Transport(err.to_string()));
    stream.write_all(request).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    read_response(&mut stream, max).await.map_err(Failure::Call)
}

/// The request: a netstring of `NAME\0VALUE\0` pairs (`CONTENT_LENGTH`
/// first, `SCGI=1`, the CGI variables of a POST of XML to `path`, each
/// header as `HTTP_NAME`), then the body.
pub(super) fn encode_request(path: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    let mut pair = |name: &[u8], value: &[u8]| {
        head.extend_from_slice(name);
        head.push(0);
        head.extend_from_slice(value);
        head.push(0);
    };
    pair(b"CONTENT_LENGTH", body.len().to_string().as_bytes());
    pair(b"SCGI", b"1");
    pair(b"REQUEST_METHOD", b"POST");
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    pair(b"REQUEST_URI", uri.as_bytes());
    pair(b"SCRIPT_NAME", b"");
    pair(b"PATH_INFO", path.as_bytes());
    pair(b"QUERY_STRING", query.as_bytes());
    pair(b"SERVER_PROTOCOL", b"HTTP/1.1");
    pair(b"CONTENT_TYPE", b"text/xml");
    // Header names are tokens and values hold no NUL (`http` checks both),
    // so neither can break the framing. A name with several values is one
    // variable, its values joined with ", " as CGI servers do.
    for name in headers.keys() {
        if name == CONTENT_TYPE || name == CONTENT_LENGTH {
            continue;
        }
        let var: Vec<u8> = b"HTTP_"
            .iter()
            .copied()
            .chain(name.as_str().bytes().map(|b| match b {
                b'-' => b'_',
                b => b.to_ascii_uppercase(),
            }))
            .collect();
        let values: Vec<&[u8]> = headers.get_all(name).iter().map(|v| v.as_bytes()).collect();
        pair(&var, &values.join(&b", "[..]));
    }
    let mut out = Vec::with_capacity(head.len() + body.len() + 12);
    out.extend_from_slice(head.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(&head);
    out.push(b',');
    out.extend_from_slice(body);
    out
}

/// What the head of an answer says.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    /// `Status:` (or an `HTTP/1.x` status line); 200 without one, as CGI.
    status: u16,
    /// Where the body starts.
    body_start: usize,
    /// `Content-Length`, when given.
    content_length: Option<usize>,
}

fn malformed(what: &str) -> BackendError {
    BackendError::BadBody(format!("malformed scgi response: {what}"))
}

/// Reads the head at the start of `buf`: `None` while its blank line has
/// not arrived. Lines end in `\r\n` or `\n`.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, BackendError> {
    let mut head = Head {
        status: 200,
        body_start: 0,
        content_length: None,
    };
    let mut start = 0;
    loop {
        let Some(len) = memchr::memchr(b'\n', &buf[start..]) else {
            if buf.len() > MAX_HEAD_BYTES {
                return Err(malformed("head too long"));
            }
            return Ok(None);
        };
        let line = &buf[start..start + len];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let first = start == 0;
        start += len + 1;
        if start > MAX_HEAD_BYTES {
            return Err(malformed("head too long"));
        }
        if line.is_empty() {
            if first {
                return Err(malformed("no head"));
            }
            head.body_start = start;
            return Ok(Some(head));
        }
        if first && line.starts_with(b"HTTP/1.") {
            // An NPH-style status line: `HTTP/1.1 200 OK`.
            let code = line.split(|&b| b == b' ').nth(1).unwrap_or_default();
            head.status = status_code(code)?;
            continue;
        }
        let colon =
            memchr::memchr(b':', line).ok_or_else(|| malformed("a head line without ':'"))?;
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
            return Err(malformed("a bad header name"));
        }
        if name.eq_ignore_ascii_case(b"status") {
            let code = value.split(|&b| b == b' ').next().unwrap_or_default();
            head.status = status_code(code)?;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let length = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or_else(|| malformed("a bad Content-Length"))?;
            head.content_length = Some(length);
        }
    }
}

fn status_code(text: &[u8]) -> Result<u16, BackendError> {
    match text {
        [a, b, c] if text.iter().all(u8::is_ascii_digit) && (b'1'..=b'5').contains(a) => {
            Ok(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => Err(malformed("a bad status")),
    }
}

/// Reads an answer: its head, then the body until `Content-Length` bytes
/// or the end of the stream; at most `max` bytes in all. Returns the body
/// of a 2xx answer; any other status is `Status`, an answer that cannot be
/// read `BadBody`.
async fn read_response<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Vec<u8>, BackendError> {
    let mut buf = Vec::with_capacity(8 << 10);
    let mut chunk = vec![0u8; 16 << 10];
    let mut head: Option<Head> = None;
    loop {
        if head.is_none() {
            head = parse_head(&buf)?;
            if let Some(h) = &head {
                if !(200..300).contains(&h.status) {
                    return Err(BackendError::Status(h.status, None));
                }
                if h.content_length.is_some_and(|n| n > max) {
                    return Err(BackendError::BadBody("response too large".to_owned()));
                }
            }
        }
        if let Some(Head {
            body_start,
            content_length: Some(length),
            ..
        }) = head
            && buf.len() >= body_start.saturating_add(length)
        {
            buf.truncate(body_start + length);
            break;
        }
        let n = reader
            .read(&mut chunk)
            .await
            .map_err(|e| BackendError::Transport(e.to_string()))?;
        if n == 0 {
            break;
        }
        if buf.len() + n > max {
            return Err(BackendError::BadBody("response too large".to_owned()));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let Some(head) = head else {
        return Err(malformed(if buf.is_empty() {
            "empty"
        } else {
            "truncated head"
        }));
    };
    if let Some(length) = head.content_length
        && buf.len() < head.body_start.saturating_add(length)
    {
        return Err(malformed("truncated body"));
    }
    buf.drain(..head.body_start);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn a_request_is_a_netstring_of_cgi_variables_then_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-request-id"),
            HeaderValue::from_static("r-1"),
        );
        headers.append(
            HeaderName::from_static("x-many"),
            HeaderValue::from_static("a"),
        );
        headers.append(
            HeaderName::from_static("x-many"),
            HeaderValue::from_static("b"),
        );
        // Set by the client itself, never as an HTTP_ variable.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let body = b"<?xml version=\"1.0\"?><methodCall/>";
        let out = encode_request("/RPC2", "a=1", &headers, body);
        let head: &[u8] = b"CONTENT_LENGTH\x0034\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00\
REQUEST_URI\x00/RPC2?a=1\x00SCRIPT_NAME\x00\x00PATH_INFO\x00/RPC2\x00QUERY_STRING\x00a=1\x00\
SERVER_PROTOCOL\x00HTTP/1.1\x00CONTENT_TYPE\x00text/xml\x00\
HTTP_X_REQUEST_ID\x00r-1\x00HTTP_X_MANY\x00a, b\x00";
        let mut want = format!("{}:", head.len()).into_bytes();
        want.extend_from_slice(head);
        want.push(b',');
        want.extend_from_slice(body);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&want)
        );
        assert!(out.starts_with(b"199:CONTENT_LENGTH\x0034\x00"), "{out:?}");
    }

    #[test]
    fn urls_give_the_target_and_the_path() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let t = Duration::from_secs(1);
        let c = ScgiClient::new(&url("scgi://127.0.0.1:5000/RPC2"), None, t).unwrap();
        assert_eq!(
            c.target,
            Target::Tcp {
                host: "127.0.0.1".into(),
                port: 5000
            }
        );
        assert_eq!(c.path, "/RPC2");
        let c = ScgiClient::new(&url("scgi://[::1]:5000"), None, t).unwrap();
        assert_eq!(
            (c.target, c.path.as_str()),
            (
                Target::Tcp {
                    host: "::1".into(),
                    port: 5000
                },
                "/"
            )
        );
        let sock = Path::new("/run/rtorrent.sock");
        let c = ScgiClient::new(&url("scgi://localhost/RPC2"), Some(sock), t).unwrap();
        assert_eq!(c.target, Target::Unix(sock.to_owned()));
        let err = ScgiClient::new(&url("scgi://localhost/RPC2"), None, t).unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
    }

    async fn read(response: &[u8], max: usize) -> Result<Vec<u8>, BackendError> {
        read_response(&mut &response[..], max).await
    }

    fn bad_body(result: Result<Vec<u8>, BackendError>) -> String {
        match result {
            Err(BackendError::BadBody(msg)) => msg,
            other => panic!("not a bad body: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_good_answer_is_its_body() {
        let body = read(
            b"Status: 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\n<a/>\n",
            1024,
        )
        .await
        .unwrap();
        assert_eq!(body, b"<a/>\n");
        // Bare \n line ends, no Content-Length: the body runs to the end.
        let body = read(b"Content-Type: text/xml\n\n<a/>", 1024).await.unwrap();
        assert_eq!(body, b"<a/>");
        // An NPH-style status line.
        let body = read(b"HTTP/1.1 200 OK\r\n\r\nx", 1024).await.unwrap();
        assert_eq!(body, b"x");
        // Bytes past Content-Length are not part of the body.
        let body = read(b"Content-Length: 2\r\n\r\nabcd", 1024).await.unwrap();
        assert_eq!(body, b"ab");
    }

    #[tokio::test]
    async fn no_status_line_is_200() {
        let body = read(b"Content-Type: text/xml\r\n\r\nok", 1024)
            .await
            .unwrap();
        assert_eq!(body, b"ok");
    }

    #[tokio::test]
    async fn another_status_is_a_status_error() {
        for (answer, code) in [
            (
                &b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope"[..],
                404,
            ),
            (b"status: 500\n\n", 500),
            (b"HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", 302),
        ] {
            match read(answer, 1024).await {
                Err(BackendError::Status(got, None)) => assert_eq!(got, code),
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_truncated_answer_is_a_bad_body() {
        let msg = bad_body(read(b"Status: 200 OK\r\nContent-Len", 1024).await);
        assert!(msg.contains("truncated head"), "{msg}");
        let msg = bad_body(read(b"Content-Length: 10\r\n\r\nabc", 1024).await);
        assert!(msg.contains("truncated body"), "{msg}");
        let msg = bad_body(read(b"", 1024).await);
        assert!(msg.contains("empty"), "{msg}");
    }

    #[tokio::test]
    async fn an_oversized_answer_is_a_bad_body() {
        let mut answer = b"Status: 200 OK\r\n\r\n".to_vec();
        answer.resize(2000, b'x');
        let msg = bad_body(read(&answer, 1000).await);
        assert!(msg.contains("too large"), "{msg}");
        // A Content-Length beyond the bound is refused before any body,
        // however large the number.
        for length in ["1001", &usize::MAX.to_string()] {
            let answer = format!("Content-Length: {length}\r\n\r\nabc");
            let msg = bad_body(read(answer.as_bytes(), 1000).await);
            assert!(msg.contains("too large"), "{msg}");
        }
        let answer = format!("Content-Length: {}\r\n\r\nabc", usize::MAX);
        let msg = bad_body(read(answer.as_bytes(), usize::MAX).await);
        assert!(msg.contains("truncated body"), "{msg}");
        // A head that never ends stops at its own bound.
        let endless = vec![b'a'; MAX_HEAD_BYTES + 10];
        let msg = bad_body(read(&endless, usize::MAX).await);
        assert!(msg.contains("head too long"), "{msg}");
        // The bound the client is built with is the HTTP client's.
        let c = ScgiClient::new(
            &"scgi://h:1/".parse().unwrap(),
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(c.max_response, MAX_RESPONSE_BYTES);
    }

    #[tokio::test]
    async fn garbage_is_a_bad_body() {
        for garbage in [
            &b"<?xml version=\"1.0\"?>\n<methodResponse/>\n"[..],
            b"\r\n\r\n<methodResponse/>",
            b"Status: OK\r\n\r\n",
            b"Status: 2000 OK\r\n\r\n",
            b"Content-Length: -1\r\n\r\n",
            b"Bad Name: x\r\n\r\n",
            b"\x00\x01\x02\n\n",
        ] {
            let msg = bad_body(read(garbage, 1024).await);
            assert!(msg.starts_with("malformed scgi response"), "{msg}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_connect_is_tried_again_after_the_backoff() {
        let dir = std::env::temp_dir().join(format!("xg-scgi-retry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("late.sock");
        let _ = std::fs::remove_file(&sock);
        let client = ScgiClient::new(
            &"scgi://localhost/RPC2".parse().unwrap(),
            Some(&sock),
            Duration::from_secs(5),
        )
        .unwrap();
        let started = tokio::time::Instant::now();
        let mut call = tokio::spawn(async move { client.post(b"x", &HeaderMap::new(), 2).await });
        // The first attempt finds no socket and backs off for 50 ms (on
        // the paused clock); the server appears in the meantime.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let (mut conn, _) = tokio::select! {
            accepted = listener.accept() => accepted.unwrap(),
            gave_up = &mut call => panic!("the call ended without trying again: {gave_up:?}"),
        };
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        while !got.ends_with(b",x") {
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&chunk[..n]);
        }
        conn.write_all(b"Status: 200 OK\r\n\r\nok").await.unwrap();
        drop(conn);
        assert_eq!(call.await.unwrap().unwrap(), b"ok");
        let took = started.elapsed();
        assert!(
            took >= backoff(1) && took < Duration::from_secs(1),
            "{took:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_request_goes_out_and_the_answer_comes_back_over_a_socket() {
        let dir = std::env::temp_dir().join(format!("xg-scgi-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("s.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut chunk = [0u8; 1024];
            while !got.ends_with(b",hello") {
                let n = conn.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the request ends early: {got:?}");
                got.extend_from_slice(&chunk[..n]);
            }
            conn.write_all(b"Status: 200 OK\r\n\r\nworld")
                .await
                .unwrap();
            got
        });
        let client = ScgiClient::new(
            &"scgi://localhost/RPC2".parse().unwrap(),
            Some(&sock),
            Duration::from_secs(5),
        )
        .unwrap();
        let body = client.post(b"hello", &HeaderMap::new(), 0).await.unwrap();
        assert_eq!(body, b"world");
        let got = server.await.unwrap();
        assert_eq!(
            got,
            encode_request("/RPC2", "", &HeaderMap::new(), b"hello")
        );
        // Nobody listens now: refused, after the retries.
        drop(std::fs::remove_file(&sock));
        let err = client.post(b"x", &HeaderMap::new(), 1).await.unwrap_err();
        assert!(matches!(err, BackendError::Refused), "{err:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
