#!/usr/bin/env python3
"""Two builds of the gateway, side by side, on the load bench's workloads
that a refactoring could move: 1 (`add(2, 3)`, 64 connections), 3 (a
multicall of 50 `add`s), 5 (`system.listMethods`) and 6 (`math.add` routed
to the JSON-RPC demo backend, 64 connections), each on the bench's config
(access log off). The builds run in turn, --repeat rounds, each keeping its
best run, as run.py does; the gateway under test pinned to CPU 0, wrk and
the backend to CPU 1.

Usage: python3 benches/load/compare.py OLD_RELEASE_DIR NEW_RELEASE_DIR
           [--duration 3] [--repeat 3] [--default-config]
Each directory holds a release `xmlrpc-gateway` (and `demo-backend`, taken
from NEW). `--default-config` adds the embedded default config's access log
(`log_requests = true`) to both.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Proc, call_body, free_port, gateway_config, post, wrk  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--default-config", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="xg-compare-")
    backend_port = free_port()
    backend = Proc([os.path.join(args.new, "demo-backend"), "--listen", f"127.0.0.1:{backend_port}"],
                   backend_port, cpu="1")
    cfg = os.path.join(tmp, "gateway.toml")
    text = gateway_config(backend_port, backend_port, backend_port)
    if args.default_config:
        text = text.replace("log_requests = false", "log_requests = true")
    with open(cfg, "w") as f:
        f.write(text)
    workloads = {
        "1 add, 64 conns": (call_body("add", [2, 3]), 64),
        "3 multicall 50": (call_body("system.multicall", [[{"methodName": "add", "params": [i, 1]} for i in range(50)]]), 64),
        "5 listMethods": (call_body("system.listMethods", []), 64),
        "6 routed, 64 conns": (call_body("math.add", [2, 3]), 64),
    }
    best = {(w, b): 0.0 for w in workloads for b in ("old", "new")}
    for build in ("old", "new"):
        port = free_port()
        gw = Proc([os.path.join(getattr(args, build), "xmlrpc-gateway"), "--config", cfg,
                   "--listen", f"127.0.0.1:{port}"], port, env=dict(os.environ, RUST_LOG="warn"))
        url = f"http://127.0.0.1:{port}/RPC2"
        for name, (body, _) in workloads.items():
            answer = post(url, body)
            assert b"<fault>" not in answer, f"{build} {name}: {answer[:300]}"
        gw.stop()
    for _ in range(args.repeat):
        for name, (body, conns) in workloads.items():
            for build in ("old", "new"):
                port = free_port()
                gw = Proc([os.path.join(getattr(args, build), "xmlrpc-gateway"), "--config", cfg,
                           "--listen", f"127.0.0.1:{port}"], port, env=dict(os.environ, RUST_LOG="warn"))
                r = wrk(f"http://127.0.0.1:{port}/RPC2", body, conns, args.duration)
                gw.stop()
                best[(name, build)] = max(best[(name, build)], r["rps"])
    backend.stop()
    print(f"| workload | old req/s | new req/s | new / old |")
    print("|---|---|---|---|")
    for name in workloads:
        old, new = best[(name, "old")], best[(name, "new")]
        print(f"| {name} | {old:,.0f} | {new:,.0f} | {new / old:.3f} |")


if __name__ == "__main__":
    main()
