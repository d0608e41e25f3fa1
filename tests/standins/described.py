#!/usr/bin/env python3
"""Two services that describe their methods, on one port, for the methods
page (tests/docs_page.rs). Stdlib only.

    python3 described.py --port 0      # prints "PORT n"

POST /RPC2: Python's own SimpleXMLRPCServer with
    register_introspection_functions: stock(sku), restock(sku, count),
    each with a docstring (system.methodHelp) and a signature table
    (Python's system.methodSignature always answers "signatures not
    supported", so that one method is replaced by one that reads it).
POST /jsonrpc: JSON-RPC 2.0 answering rpc.discover with an OpenRPC
    document (get, put), and calls to get.
"""

import argparse
import json
import sys
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


def stock(sku):
    "stock(sku) => units of sku in stock"
    return {"sku": sku, "units": 3}


def restock(sku, count):
    "restock(sku, count) => <b>new</b> units, after adding count"
    return 3 + count


SIGNATURES = {
    "stock": [["struct", "string"]],
    "restock": [["int", "string", "int"]],
}

OPENRPC = {
    "openrpc": "1.2.6",
    "info": {"title": "inventory", "version": "1"},
    "methods": [
        {
            "name": "inventory.get",
            "summary": "One item by id.",
            "params": [{"name": "id", "schema": {"type": "integer"}}],
            "result": {"name": "item", "schema": {"type": "object"}},
        },
        {
            "name": "inventory.put",
            "description": "Stores an item.",
            "params": [{"name": "item", "schema": {"type": "object"}}],
            "result": {"name": "ok", "schema": {"type": "boolean"}},
        },
    ],
}


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def do_POST(self):
        if self.path != "/jsonrpc":
            return super().do_POST()
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        if request.get("method") == "rpc.discover":
            answer = {"jsonrpc": "2.0", "id": request["id"], "result": OPENRPC}
        elif request.get("method") == "inventory.get":
            answer = {"jsonrpc": "2.0", "id": request["id"], "result": {"id": 1}}
        else:
            answer = {
                "jsonrpc": "2.0",
                "id": request.get("id"),
                "error": {"code": -32601, "message": "Method not found"},
            }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = SimpleXMLRPCServer(
        ("127.0.0.1", args.port), requestHandler=Handler, logRequests=False
    )
    server.register_introspection_functions()
    server.register_function(stock)
    server.register_function(restock)
    server.register_function(
        lambda name: SIGNATURES.get(name, "signatures not supported"),
        "system.methodSignature",
    )
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
