#!/usr/bin/env python3
"""Python's SimpleXMLRPCServer bound to a Unix socket (AF_UNIX), as local
daemons serve XML-RPC, plus JSON-RPC 2.0 on the same socket: a stand-in
for HTTP backends reached over a Unix socket. Stdlib only.

    python3 unix_http.py PATH      # prints "listening on unix PATH"

POST /RPC2: XML-RPC: add(a, b), echo(x), fail() (fault 42), whoami()
    (the request's path and Host header), and system.listMethods /
    methodHelp / methodSignature / multicall.
POST /jsonrpc: JSON-RPC 2.0: add, echo, whoami.
"""

import json
import os
import socket
import socketserver
import sys
import threading
from xmlrpc.client import Fault
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

CURRENT = threading.local()


def add(a, b):
    "add(a, b) => a + b"
    return a + b


def echo(x):
    "echo(x) => x"
    return x


def fail():
    "fail() => always fault 42"
    raise Fault(42, "it failed on purpose")


def whoami():
    "whoami() => the path and Host header this request came with"
    return {"path": CURRENT.path, "host": CURRENT.host}


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)
    disable_nagle_algorithm = False  # TCP_NODELAY means nothing on AF_UNIX

    def do_POST(self):
        CURRENT.path = self.path
        CURRENT.host = self.headers.get("Host", "")
        if self.path == "/jsonrpc":
            return self.json_rpc()
        return super().do_POST()

    def json_rpc(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        functions = {"add": add, "echo": echo, "whoami": whoami}
        try:
            result = {"result": functions[request["method"]](*request.get("params", []))}
        except KeyError:
            result = {"error": {"code": -32601, "message": "no such method"}}
        body = json.dumps(dict(jsonrpc="2.0", id=request.get("id"), **result)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"  # a Unix peer has no address; only log lines use it


class UnixXMLRPCServer(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    address_family = socket.AF_UNIX
    daemon_threads = True


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    server = UnixXMLRPCServer(path, requestHandler=Handler, logRequests=False, allow_none=True)
    for f in (add, echo, fail, whoami):
        server.register_function(f)
    server.register_introspection_functions()
    server.register_multicall_functions()
    print("listening on unix %s" % path, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
