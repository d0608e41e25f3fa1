#!/usr/bin/env python3
"""Instructions per request, repeatably: the gateway under callgrind.

Starts the gateway binary under `valgrind --tool=callgrind`, sends N
requests over one kept-alive connection, stops it with SIGTERM, and reads
the total instruction count (every thread, user space only). Run once with
a small N and once with a large one: the difference divided by the
difference in N is what one request costs, start-up and shutdown cancelled
out.

Usage:
  cargo build --profile profiling --bins
  python3 benches/callgrind_requests.py [--config FILE] [--method add|list|routed]
      [--stderr FILE] [--keep FILE] [--bin PATH] [--backend-bin PATH] 100 2100

`--method routed` calls `math.add(2, 3)` routed to a JSON-RPC backend, as
the load bench's workload 6 does: the script starts `demo-backend` (the
profiling build's, or `--backend-bin`; natively, not under valgrind) and,
unless `--config` is given, writes a config routing `math.*` to it with
the access log off. Only the gateway is counted.

Prints one line per N and the per-request difference. The gateway's stderr
goes to /dev/null unless --stderr names a file (to check its lines).
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "profiling", "xmlrpc-gateway")
BACKEND_BIN = os.path.join(ROOT, "target", "profiling", "demo-backend")

ROUTED_CONFIG = """
[server]
log_requests = false
[backends.fast]
kind = "jsonrpc"
url = "http://127.0.0.1:{port}/rpc"
[[routes]]
method = "math.*"
backend = "fast"
"""

BODIES = {
    "add": b"<?xml version='1.0'?>\n<methodCall>\n<methodName>add</methodName>\n<params>\n"
    b"<param>\n<value><int>2</int></value>\n</param>\n<param>\n<value><int>3</int></value>\n"
    b"</param>\n</params>\n</methodCall>\n",
    "routed": b"<?xml version='1.0'?>\n<methodCall>\n<methodName>math.add</methodName>\n"
    b"<params>\n<param>\n<value><int>2</int></value>\n</param>\n<param>\n"
    b"<value><int>3</int></value>\n</param>\n</params>\n</methodCall>\n",
    "list": b"<?xml version='1.0'?>\n<methodCall>\n<methodName>system.listMethods</methodName>\n"
    b"<params>\n</params>\n</methodCall>\n",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def read_response(sock, buf):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(rest) < length:
        rest += sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"<fault>" not in rest[:length], rest[:length]
    return rest[length:]


def run(n, args, keep=None):
    port = free_port()
    out = keep or tempfile.mktemp(prefix="callgrind.", suffix=".out")
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", args.bin, "--listen",
            f"127.0.0.1:{port}"]
    if args.config:
        argv[4:4] = ["--config", args.config]
    stderr = open(args.stderr, "ab") if args.stderr else subprocess.DEVNULL
    env = dict(os.environ)
    env.pop("RUST_LOG", None)
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        sock = connect(port, time.time() + 60)
        body = BODIES[args.method]
        request = (b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body)) + body
        buf = b""
        for _ in range(n):
            sock.sendall(request)
            buf = read_response(sock, buf)
        sock.close()
        p.send_signal(signal.SIGTERM)
        p.wait(60)
    finally:
        if p.poll() is None:
            p.kill()
    with open(out) as f:
        text = f.read()
    if not keep:
        os.unlink(out)
    return int(re.search(r"^summary:\s*(\d+)", text, re.M).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--bin", default=BIN, help="the gateway binary (default: the profiling build)")
    ap.add_argument("--method", default="add", choices=sorted(BODIES))
    ap.add_argument("--stderr")
    ap.add_argument("--keep", help="keep the larger run's callgrind output in this file")
    ap.add_argument("counts", nargs=2, type=int)
    ap.add_argument("--backend-bin", default=BACKEND_BIN,
                    help="the JSON-RPC backend for --method routed (default: the profiling build's)")
    args = ap.parse_args()
    small, large = args.counts
    if args.method == "routed":
        return routed(args, small, large)
    measure(args, small, large)


def routed(args, small, large):
    port = free_port()
    backend = subprocess.Popen([args.backend_bin, "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = None
    try:
        connect(port, time.time() + 30).close()
        if not args.config:
            fd, config = tempfile.mkstemp(prefix="gateway.", suffix=".toml")
            with os.fdopen(fd, "w") as f:
                f.write(ROUTED_CONFIG.format(port=port))
            args.config = config
        measure(args, small, large)
    finally:
        backend.terminate()
        backend.wait(10)
        if config:
            os.unlink(config)


def measure(args, small, large):
    a = run(small, args)
    print(f"{small} requests: {a} instructions")
    b = run(large, args, args.keep)
    print(f"{large} requests: {b} instructions")
    print(f"per request: {(b - a) / (large - small):.0f}")


if __name__ == "__main__":
    sys.exit(main())
