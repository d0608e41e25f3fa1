#!/usr/bin/env python3
"""Stand-in OpenTelemetry collector (OTLP/HTTP, protobuf) and a recording
JSON-RPC 2.0 backend, on one loopback port.

Written from the OTLP specification ("OTLP/HTTP": POST /v1/traces with
Content-Type application/x-protobuf, body an ExportTraceServiceRequest,
answered 200 with an ExportTraceServiceResponse) and decoded with PyPI's
`opentelemetry-proto` (the protobuf classes the OpenTelemetry project
generates from its .proto files).

Usage:
    python3 otlp_collector.py --port 0
First stdout line: "PORT <n>" (flushed). Test helpers:
    GET /spans -> JSON list of every span received: name, kind, trace_id,
        span_id, parent_span_id (hex, "" for a root), status_code,
        attributes (a flat object), service_name.
    POST /rpc -> a JSON-RPC 2.0 service answering every method with its
        params; GET /__requests -> the headers of each request it got.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToDict  # noqa: F401 (ensures protobuf)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

LOCK = threading.Lock()
SPANS = []
REQUESTS = []


def any_value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    return getattr(v, kind)


def record(body):
    req = trace_service_pb2.ExportTraceServiceRequest()
    req.ParseFromString(body)
    for rs in req.resource_spans:
        resource = {a.key: any_value(a.value) for a in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                with LOCK:
                    SPANS.append({
                        "name": s.name,
                        "kind": s.kind,
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "status_code": s.status.code,
                        "attributes": {a.key: any_value(a.value) for a in s.attributes},
                        "service_name": resource.get("service.name"),
                    })


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/spans":
            with LOCK:
                body = json.dumps(SPANS).encode()
        elif self.path == "/__requests":
            with LOCK:
                body = json.dumps(REQUESTS).encode()
        else:
            return self.reply(404, b"not found", "text/plain")
        self.reply(200, body, "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/v1/traces":
            if self.headers.get("Content-Type") != "application/x-protobuf":
                return self.reply(415, b"protobuf only", "text/plain")
            try:
                record(body)
            except Exception as exc:  # a malformed export is the test's failure
                return self.reply(400, str(exc).encode(), "text/plain")
            answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            return self.reply(200, answer, "application/x-protobuf")
        if self.path == "/rpc":
            call = json.loads(body)
            with LOCK:
                REQUESTS.append({k.lower(): v for k, v in self.headers.items()})
            answer = {"jsonrpc": "2.0", "id": call.get("id"), "result": call.get("params")}
            return self.reply(200, json.dumps(answer).encode(), "application/json")
        self.reply(404, b"not found", "text/plain")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
