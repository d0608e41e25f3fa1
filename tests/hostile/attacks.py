"""Hostile clients against a running gateway (URL, PID in the environment).

Each attack is followed by a probe: a normal client must be answered
promptly, and the server's resident memory must come back near where it was.
Prints one line per attack: name, what the server answered, probe latency,
RSS after. Exits non-zero when an expectation fails.
"""
import gzip
import os
import resource
import select
import socket
import sys
import threading
import time
import urllib.parse
import zlib

URL = os.environ["URL"]
PID = int(os.environ["PID"])
u = urllib.parse.urlparse(URL)
HOST, PORT, PATH = u.hostname, u.port, u.path
HEADER_TIMEOUT = float(os.environ.get("HEADER_TIMEOUT", "2"))
IDLE_CONNECTIONS = 10_000
failures = []

# The idle-connection flood holds 10,000 sockets open at once: raise the soft
# open-file limit to the hard one, and say so plainly when even that is short.
FILES_NEEDED = IDLE_CONNECTIONS + 256
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < FILES_NEEDED:
    sys.exit(
        f"hostile: the flood of {IDLE_CONNECTIONS} idle connections needs {FILES_NEEDED} open files, "
        f"but the hard limit is {hard}: raise it (as root `ulimit -Hn {FILES_NEEDED}`, "
        f"in docker `--ulimit nofile={FILES_NEEDED}`)"
    )
if soft != resource.RLIM_INFINITY and soft < hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_files():
    """Files the server holds open now (its listener, its client sockets)."""
    return len(os.listdir(f"/proc/{PID}/fd"))


def wait_until(cond, timeout):
    """Polls `cond` until it holds (True), or `timeout` seconds pass (False)."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


def request(body, headers=(), timeout=30, raw=None):
    """Sends one POST (or raw bytes) while reading, and returns (status, body).
    The server may answer (413) before the body is all sent; sending stops
    then, and the answer is still read."""
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    if raw is None:
        head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        head += "".join(h + "\r\n" for h in headers) + "\r\n"
        raw = head.encode() + body

    def send():
        try:
            s.sendall(raw)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return 0, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def call(method, *params_xml):
    params = "".join(f"<param><value>{p}</value></param>" for p in params_xml)
    return f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>".encode()


def probe():
    t = time.time()
    status, body = request(call("add", "<int>2</int>", "<int>3</int>"), timeout=10)
    took = time.time() - t
    ok = status == 200 and b"<int>5</int>" in body
    return ok, took


def expect(name, cond, detail):
    if not cond:
        failures.append(f"{name}: {detail}")


baseline = rss_mb()
baseline_files = open_files()


def attack(name, run, expect_fn, max_probe_s=2.0):
    t = time.time()
    try:
        result = run()
    except Exception as e:  # an attack may get its connection cut: that is fine
        result = ("error", repr(e))
    took = time.time() - t
    ok, probe_s = probe()
    rss = rss_mb()
    verdict = expect_fn(result)
    expect(name, verdict is True, f"unexpected answer {str(result)[:300]}")
    expect(name, ok and probe_s < max_probe_s, f"probe failed or slow ({probe_s:.2f}s)")
    print(f"{name:<34} {str(result)[:60]:<62} attack {took:6.2f}s probe {probe_s * 1000:7.1f}ms rss {rss:6.1f}MB", flush=True)


def fault(code):
    def check(result):
        status, body = result
        return status == 200 and f"<int>{code}</int>".encode() in body
    return check


def status(code):
    return lambda result: result[0] == code


lol = "<!DOCTYPE lolz [<!ENTITY lol \"lol\">" + "".join(
    f"<!ENTITY lol{i} \"{('&lol' + str(i - 1) + ';') * 10 if i > 1 else '&lol;' * 10}\">" for i in range(1, 10)) + "]>"
attack("billion laughs", lambda: request(("<?xml version='1.0'?>" + lol).encode() + call("echo", "&lol9;")[21:]), fault(-32700))
big_entity = "<!DOCTYPE q [<!ENTITY a \"" + "x" * 100_000 + "\">]>"
attack("quadratic blowup", lambda: request(("<?xml version='1.0'?>" + big_entity).encode() + call("echo", "&a;" * 20_000)[21:]), fault(-32700))


def xxe():
    st, body = request(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY f SYSTEM \"file:///etc/passwd\">]>" + call("echo", "&f;")[21:])
    return st, body


attack("external entity (file)", xxe, lambda r: fault(-32700)(r) and b"root:" not in r[1])
attack("any DOCTYPE", lambda: request(b"<?xml version='1.0'?><!DOCTYPE methodCall>" + call("echo", "x")[21:]), fault(-32700))
attack("100,000-deep nesting", lambda: request(call("echo", "<array><data><value>" * 100_000 + "</value></data></array>" * 100_000)), fault(-32600))


def fifty_mb():
    return request(b"x" * (50 << 20))


attack("50 MB body", fifty_mb, status(413))


def fifty_mb_chunked():
    s = socket.create_connection((HOST, PORT), timeout=30)
    s.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
    chunk = b"%x\r\n" % (1 << 20) + b"y" * (1 << 20) + b"\r\n"
    try:
        for _ in range(50):
            s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except ConnectionResetError:
        pass
    s.close()
    return (int(data.split()[1]) if data else 0), b""


attack("50 MB chunked body", fifty_mb_chunked, status(413))


def bomb():
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    packed = b"".join(comp.compress(zeros) for _ in range(1024)) + comp.flush()
    return request(packed, headers=["Content-Encoding: gzip"])


attack("gzip bomb (1 GiB inflated)", bomb, status(413))


def slow_clients(kind):
    """Slow senders while a normal client is served; they get cut off."""
    socks = []
    for _ in range(50):
        s = socket.create_connection((HOST, PORT), timeout=30)
        if kind == "headers":
            s.sendall(b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n")
        else:
            s.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<methodCall>".encode())
        socks.append(s)
    served, probe_s = probe()
    deadline = time.time() + HEADER_TIMEOUT * 3 + 5
    cut = 0
    for s in socks:
        try:
            while time.time() < deadline:
                s.settimeout(max(0.1, deadline - time.time()))
                try:
                    s.sendall(b"X-Slow: 1\r\n" if kind == "headers" else b" ")
                except (BrokenPipeError, ConnectionResetError):
                    cut += 1
                    break
                data = s.recv(4096)
                if data == b"" or data.startswith(b"HTTP/1.1 408"):
                    cut += 1
                    break
        except (socket.timeout, ConnectionResetError):
            cut += 1 if time.time() < deadline else 0
        finally:
            s.close()
    return served, round(probe_s, 3), cut


attack("slow headers (slowloris) x50", lambda: slow_clients("headers"), lambda r: r[0] and r[1] < 2 and r[2] == 50)
attack("slow bodies x50", lambda: slow_clients("body"), lambda r: r[0] and r[1] < 2 and r[2] == 50)


def idle_connections(n=IDLE_CONNECTIONS):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((HOST, PORT))
        except BlockingIOError:
            pass
        socks.append(s)
    # Wait until every connection is established (writable), not a fixed time.
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLOUT)
    pending = len(socks)
    deadline = time.time() + 30
    while pending and time.time() < deadline:
        for fd, _ in poller.poll(100):
            poller.unregister(fd)
            pending -= 1
    if pending:
        failures.append(f"10,000 idle connections: {pending} never connected")
    peak = rss_mb()
    served, probe_s = probe()
    for s in socks:
        s.close()
    return served, round(probe_s, 3), round(peak, 1)


attack("10,000 idle connections", idle_connections, lambda r: r[0] and r[1] < 2)
attack("invalid UTF-8", lambda: request(call("echo", "<string>\xff\xfe</string>").replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe")), fault(-32702))
attack("invalid char refs", lambda: request(call("echo", "<string>&#0;&#xD800;&#99999999;</string>")), lambda r: r[0] == 200 and b"<int>-327" in r[1])
attack("huge base64 (over string limit)", lambda: request(call("echo", "<base64>" + "QUFB" * (3 << 19) + "</base64>")), fault(-32600))
attack("garbage request line", lambda: request(b"", raw=b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GARBAGE\r\n\r\n"), lambda r: r[0] in (0, 400))


def million_multicall():
    entry = b"<value><struct><member><name>methodName</name><value>add</value></member></struct></value>"
    body = b"<?xml version='1.0'?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>" + entry * 1_000_000 + b"</data></array></value></param></params></methodCall>"
    return request(gzip.compress(body, 1), headers=["Content-Encoding: gzip"])


attack("multicall of a million entries", million_multicall, status(413))


def ninety_thousand_multicall():
    entry = b"<value><struct><member><name>methodName</name><value>a</value></member></struct></value>"
    body = b"<methodCall><methodName>system.multicall</methodName><params><param><value><array><data>" + entry * 90_000 + b"</data></array></value></param></params></methodCall>"
    return request(body)


attack("multicall under the body limit", ninety_thousand_multicall, lambda r: r[0] == 200 and b"<int>-3260" in r[1])

# Every attacker's connection is gone from the server (closed by us, or by
# its header and body timeouts): its open files are back to the baseline (a
# few files of slack for what a runtime opens lazily; the flood was 10,000).
closed = wait_until(lambda: open_files() <= baseline_files + 4, HEADER_TIMEOUT * 3 + 10)
expect("connections closed", closed, f"{open_files()} open files, {baseline_files} before the attacks")
# Memory is judged as a live server's: under a little normal traffic, which
# is when the allocator hands freed pages back to the OS (a short while
# after the frees). Probe until it has, for 10 s at most.
deadline = time.time() + 10
for _ in range(200):
    probe()
while rss_mb() >= baseline + 48 and time.time() < deadline:
    probe()
    time.sleep(0.01)  # pacing of the traffic, not a wait: the loop's condition is RSS
final = rss_mb()
print(f"rss baseline {baseline:.1f} MB, after all attacks {final:.1f} MB")
expect("memory", final < baseline + 48, f"RSS grew from {baseline:.1f} MB to {final:.1f} MB")
for f in failures:
    print("FAIL", f)
print(f"hostile: {0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
