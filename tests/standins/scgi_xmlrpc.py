#!/usr/bin/env python3
"""An XML-RPC server spoken over SCGI, as rTorrent serves it: a stand-in
written from the SCGI spec (python.ca/scgi/protocol.txt), stdlib only.

    python3 scgi_xmlrpc.py --tcp 0          # prints "listening on 127.0.0.1:PORT"
    python3 scgi_xmlrpc.py --unix PATH      # prints "listening on unix PATH"

Each connection carries one request: a netstring of NUL-separated header
pairs (CONTENT_LENGTH first, SCGI=1 required), then CONTENT_LENGTH bytes
of body. A request that breaks the framing gets `Status: 400` and the
reason; a path other than /RPC2 gets `Status: 404`. The answer is
`Status: 200 OK`, Content-Type and Content-Length, a blank line, the
XML-RPC document; then the connection is closed.

Methods: add(a, b), echo(x), env() (this request's SCGI variables),
sleep(seconds), fail() (a fault 42), d.names(n) (a list of n names, the
shape of rTorrent's d.multicall2 answers), plus system.listMethods /
methodHelp / methodSignature / multicall.
"""

import argparse
import os
import socketserver
import sys
import threading
import time
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCDispatcher

MAX_HEAD = 64 * 1024
CURRENT = threading.local()


def add(a, b):
    "add(a, b) => a + b"
    return a + b


def echo(x):
    "echo(x) => x"
    return x


def env():
    "env() => the SCGI variables of this request"
    return dict(CURRENT.env)


def sleep(seconds):
    "sleep(seconds) => true, after that long"
    time.sleep(seconds)
    return True


def fail():
    "fail() => always fault 42"
    raise Fault(42, "it failed on purpose")


def names(n):
    "names(n) => n torrent-like names"
    return ["torrent-%d" % i for i in range(n)]


DISPATCHER = SimpleXMLRPCDispatcher(allow_none=True, encoding="utf-8")
for f, name in [(add, "add"), (echo, "echo"), (env, "env"), (sleep, "sleep"),
                (fail, "fail"), (names, "d.names")]:
    DISPATCHER.register_function(f, name)
DISPATCHER.register_introspection_functions()
DISPATCHER.register_multicall_functions()


class BadRequest(Exception):
    pass


def read_exact(rfile, n):
    data = rfile.read(n)
    if len(data) != n:
        raise BadRequest("connection closed early")
    return data


def read_request(rfile):
    """The SCGI variables and body of one request (per the spec)."""
    digits = b""
    while True:
        c = rfile.read(1)
        if not c:
            raise BadRequest("connection closed before the netstring")
        if c == b":":
            break
        if not c.isdigit() or len(digits) > 6:
            raise BadRequest("bad netstring length")
        digits += c
    if not digits:
        raise BadRequest("empty netstring length")
    length = int(digits)
    if length > MAX_HEAD:
        raise BadRequest("headers too long")
    head = read_exact(rfile, length)
    if read_exact(rfile, 1) != b",":
        raise BadRequest("netstring does not end with ','")
    items = head.split(b"\0")
    if items[-1] != b"" or len(items) % 2 != 1:
        raise BadRequest("headers are not NUL-terminated pairs")
    pairs = [(items[i].decode("latin-1"), items[i + 1].decode("latin-1"))
             for i in range(0, len(items) - 1, 2)]
    if not pairs or pairs[0][0] != "CONTENT_LENGTH":
        raise BadRequest("CONTENT_LENGTH is not the first header")
    env = {}
    for name, value in pairs:
        if name in env:
            raise BadRequest("header %s twice" % name)
        env[name] = value
    if env.get("SCGI") != "1":
        raise BadRequest("SCGI is not 1")
    if not env["CONTENT_LENGTH"].isdigit():
        raise BadRequest("bad CONTENT_LENGTH")
    body = read_exact(rfile, int(env["CONTENT_LENGTH"]))
    return env, body


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            env, body = read_request(self.rfile)
        except BadRequest as e:
            self.answer("400 Bad Request", "text/plain", str(e).encode())
            return
        if env.get("REQUEST_METHOD") != "POST":
            self.answer("405 Method Not Allowed", "text/plain", b"POST only")
            return
        if env.get("PATH_INFO") != "/RPC2":
            self.answer("404 Not Found", "text/plain", b"no such path")
            return
        CURRENT.env = env
        response = DISPATCHER._marshaled_dispatch(body)
        self.answer("200 OK", "text/xml", response)

    def answer(self, status, content_type, body):
        head = "Status: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
            status, content_type, len(body))
        self.wfile.write(head.encode("ascii") + body)


class TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Unix(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", type=int, metavar="PORT", help="listen on 127.0.0.1:PORT (0: any)")
    where.add_argument("--unix", metavar="PATH", help="listen on a Unix socket")
    args = parser.parse_args()
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        server = Unix(args.unix, Handler)
        print("listening on unix %s" % args.unix, flush=True)
    else:
        server = TCP(("127.0.0.1", args.tcp), Handler)
        print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
