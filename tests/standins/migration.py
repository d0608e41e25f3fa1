#!/usr/bin/env python3
"""A service being migrated, for tests/migration.rs: the same small
inventory and orders API over XML-RPC (the legacy side, POST /RPC2) and
JSON-RPC 2.0 (the candidate side, POST /rpc). Stdlib only.

    python3 migration.py --port 0 --name legacy [--delay 2] [--differ 7]

The first stdout line is "PORT <n>" (flushed); then it serves until killed.

Methods (both sides):
  inventory.get(id)   {"id", "name", "stock", "price" (a double),
                       "updated_at" (the serving side's name: it differs)}
                      --differ N: item N's price is 2.75 instead of 2.5
  inventory.list()    three items, as inventory.get gives them
  orders.get(customer) {"customer", "served_by": --name}
  orders.fail()       fault 17 "no such order"
GET /__requests: every call received, [{"path", "method"}], oldest first.
--delay S: every answer waits S seconds first.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xmlrpc.client import Fault, dumps, loads

ARGS = None
SEEN = []
LOCK = threading.Lock()


class Failed(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def item(n):
    price = 2.75 if ARGS.differ is not None and n == ARGS.differ else 2.5
    return {
        "id": n,
        "name": "widget-%d" % n,
        "stock": n * 10,
        "price": price,
        "updated_at": ARGS.name,
    }


def call(method, params):
    try:
        return answer(method, params)
    except (ValueError, TypeError, IndexError) as e:
        raise Failed(1, "bad params: %s" % e)


def answer(method, params):
    if method == "inventory.get":
        return item(int(params[0]))
    if method == "inventory.list":
        return [item(n) for n in (1, 2, 3)]
    if method == "orders.get":
        return {"customer": params[0], "served_by": ARGS.name}
    if method == "orders.fail":
        raise Failed(17, "no such order")
    raise Failed(-32601, "method %r not found" % method)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without this, Nagle holds the
    # body for the gateway's delayed ACK (40 ms a call).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/__requests":
            with LOCK:
                body = json.dumps(SEEN).encode()
            self.send(200, "application/json", body)
        else:
            self.send(404, "text/plain", b"not found")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if ARGS.delay:
            time.sleep(ARGS.delay)
        if self.path == "/RPC2":
            params, method = loads(body)
            with LOCK:
                SEEN.append({"path": self.path, "method": method})
            try:
                out = dumps((call(method, params),), methodresponse=True)
            except Failed as f:
                out = dumps(Fault(f.code, f.message))
            self.send(200, "text/xml", out.encode())
        elif self.path == "/rpc":
            req = json.loads(body)
            method = req.get("method")
            with LOCK:
                SEEN.append({"path": self.path, "method": method})
            params = req.get("params") or []
            try:
                answer = {"jsonrpc": "2.0", "id": req.get("id"), "result": call(method, params)}
            except Failed as f:
                answer = {
                    "jsonrpc": "2.0",
                    "id": req.get("id"),
                    "error": {"code": f.code, "message": f.message},
                }
            self.send(200, "application/json", json.dumps(answer).encode())
        else:
            self.send(404, "text/plain", b"not found")


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--name", default="legacy")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--differ", type=int, default=None)
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
