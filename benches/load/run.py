#!/usr/bin/env python3
"""Load benchmarks, side by side, with wrk.

Targets: the gateway (release build), CPython's SimpleXMLRPCServer with
ThreadingMixIn (cpython_server.py), the hyper floor (examples/hyper_floor.rs:
fixed right answer, no parsing), and for routed calls the JSON-RPC demo
backend called directly. Every workload is checked for a correct answer
before it is timed. The target under test pinned to CPU 0; wrk and the
backends behind the gateway to CPU 1. The targets of a workload run in
turn, --repeat rounds, and each keeps its best run: on a shared VM noise
only ever slows a run down, and interleaving exposes every target to it.

Usage: python3 benches/load/run.py [--duration 3] [--repeat 3] [--only 1,2] [--out bench-results]
Writes bench-results/load.json and prints a markdown table.
"""
import argparse
import base64
import datetime
import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import xmlrpc.client as xc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "benches", "load")
RELEASE = os.path.join(ROOT, "target", "release")
SERVER_CPU, LOAD_CPU = "0", "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


class Proc:
    def __init__(self, argv, port, cpu=SERVER_CPU, env=None):
        self.port = port
        self.p = subprocess.Popen(["taskset", "-c", cpu] + argv, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env)
        wait_port(port)

    def rss_mb(self):
        # taskset execs the program, so the pid is the server's.
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def big_value():
    """The ~350 KB value: 500 structs with every scalar type and a nested array."""
    rnd = random.Random(42)
    items = []
    for i in range(500):
        items.append({
            "id": i,
            "price": rnd.random() * 1000,
            "active": i % 2 == 0,
            "name": f"item <{i}> & \"friends\" — ünïcødé ☃ {'x' * 200}",
            "created": datetime.datetime(2026, 1, 1 + i % 28, i % 24, i % 60, i % 60),
            "blob": bytes(rnd.getrandbits(8) for _ in range(150)),
            "tags": [f"t{j}" for j in range(5)] + [[j, j * 1.5] for j in range(3)],
        })
    return items


def call_body(method, params):
    return xc.dumps(tuple(params), methodname=method, allow_none=True).encode()


def response_body(value):
    return xc.dumps((value,), methodresponse=True, allow_none=True).encode()


def post(url, body, ctype="text/xml", headers=None):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype, **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        data = r.read()
        if r.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return data


def wrk(url, body, conns, duration, ctype="text/xml", accept_encoding="", threads=1):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(body)
        path = f.name
    env = dict(os.environ, WRK_BODY=path, WRK_CTYPE=ctype, WRK_ACCEPT_ENCODING=accept_encoding)
    out = subprocess.run(["taskset", "-c", LOAD_CPU, "wrk", "-t", str(threads), "-c", str(conns),
                          "-d", f"{duration}s", "--timeout", "10s", "-s", os.path.join(HERE, "post.lua"), url],
                         capture_output=True, text=True, env=env, timeout=duration + 60)
    os.unlink(path)
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk said: {out.stdout}\n{out.stderr}")
    r = json.loads(line[len("WRKJSON "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    if r["socket_errors"] or r["bad_status"]:
        print(f"  warning: {r['socket_errors']} socket errors, {r['bad_status']} bad statuses", file=sys.stderr)
    return r


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins", "--example", "hyper_floor",
                    "--example", "proxy_floor"], cwd=ROOT, check=True)


def gateway_config(backend_port, direct_port, slow_port):
    return f"""
[server]
log_requests = false
[limits]
multicall_concurrency = 64
[backends.fast]
kind = "jsonrpc"
url = "http://127.0.0.1:{backend_port}/rpc"
max_concurrency = 256
[backends.local]
kind = "jsonrpc"
url = "http://127.0.0.1:{direct_port}/rpc"
max_concurrency = 256
[backends.slow]
kind = "jsonrpc"
url = "http://127.0.0.1:{slow_port}/rpc"
max_concurrency = 256
[[routes]]
method = "pow"
handler = "pow"
[[routes]]
method = "add"
handler = "add"
[[routes]]
method = "div"
handler = "div"
[[routes]]
method = "echo"
handler = "echo"
[[routes]]
method = "math.*"
backend = "fast"
[[routes]]
method = "local.*"
backend = "local"
strip_prefix = true
[[routes]]
method = "slow.*"
backend = "slow"
strip_prefix = true
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3,
                    help="interleaved runs per target; the best one counts (noise only slows a run)")
    ap.add_argument("--only", default="1,2,3,4,5,6,7,mem")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results"))
    args = ap.parse_args()
    only = set(args.only.split(","))
    if shutil.which("wrk") is None:
        sys.exit("run.py needs wrk: apt-get install wrk (Debian's package)")
    d = args.duration
    build()
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="xg-bench-")
    results = {"date": datetime.date.today().isoformat(), "machine": machine(), "duration_s": d,
               "repeat": args.repeat, "rows": []}

    def row(workload, target, r, **extra):
        entry = {"workload": workload, "target": target, **r, **extra}
        results["rows"].append(entry)
        print(f"  {workload:<34} {target:<26} {r.get('rps', 0):>10.0f} req/s  p50 {r.get('p50_us', 0) / 1000:.3f} ms  p99 {r.get('p99_us', 0) / 1000:.3f} ms", flush=True)

    def compare(workload, targets):
        """Runs every (name, run) in turn, --repeat rounds, so a slow spell
        of the machine hits all targets alike; keeps each target's best
        run (most requests), with the others' req/s for the record."""
        runs = {name: [] for name, _ in targets}
        for _ in range(args.repeat):
            for name, run in targets:
                runs[name].append(run())
        for name, _ in targets:
            best = max(runs[name], key=lambda r: r["rps"])
            row(workload, name, best, rps_all=[round(r["rps"]) for r in runs[name]])

    def compare_urls(workload, targets, body, conns, duration=None, **wrk_args):
        """`compare` of the same request to each (name, url)."""
        secs = duration or d
        compare(workload, [(name, lambda url=url: wrk(url, body, conns, secs, **wrk_args))
                           for name, url in targets])

    add_body = call_body("add", [2, 3])
    big = big_value()
    echo_big = call_body("echo", [big])
    mc_body = call_body("system.multicall", [[{"methodName": "add", "params": [i, i]} for i in range(50)]])
    echo_20k = call_body("echo", [["twenty kilobytes of text " * 8] * 100])
    list_body = call_body("system.listMethods", [])

    # The target under test has CPU 0 to itself; everything else (wrk, and
    # the backends behind the gateway) runs on CPU 1. So workload 6 starts
    # the JSON-RPC backend twice: on CPU 1 behind the gateway, and on CPU 0
    # when it is the target called directly.
    backend_port, direct_port, slow_port = free_port(), free_port(), free_port()
    backend = Proc([os.path.join(RELEASE, "demo-backend"), "--listen", f"127.0.0.1:{backend_port}"], backend_port, cpu=LOAD_CPU)
    direct = Proc([os.path.join(RELEASE, "demo-backend"), "--listen", f"127.0.0.1:{direct_port}"], direct_port)
    slow = Proc([os.path.join(RELEASE, "demo-backend"), "--listen", f"127.0.0.1:{slow_port}", "--delay", "20ms"], slow_port, cpu=LOAD_CPU)
    cfg = os.path.join(tmp, "gateway.toml")
    with open(cfg, "w") as f:
        f.write(gateway_config(backend_port, direct_port, slow_port))
    gw_port = free_port()
    gw = Proc([os.path.join(RELEASE, "xmlrpc-gateway"), "--config", cfg, "--listen", f"127.0.0.1:{gw_port}"], gw_port)
    py_port = free_port()
    py = Proc([sys.executable, os.path.join(HERE, "cpython_server.py"), str(py_port)], py_port)
    gw_url, py_url = f"http://127.0.0.1:{gw_port}/RPC2", f"http://127.0.0.1:{py_port}/RPC2"
    floors = {}

    def floor_for(name, answer):
        port = free_port()
        path = os.path.join(tmp, f"{name}.xml")
        with open(path, "wb") as f:
            f.write(answer)
        floors[name] = Proc([os.path.join(RELEASE, "examples", "hyper_floor"), f"127.0.0.1:{port}", path], port)
        return f"http://127.0.0.1:{port}/RPC2"

    def check(url, body, want, headers=None):
        got = xc.loads(post(url, body, headers=headers), use_builtin_types=False)[0][0]
        if got != want:
            raise RuntimeError(f"{url}: wrong answer {str(got)[:200]!r}")

    try:
        # Idle: the embedded default config, and the bench config (three
        # backends, each with its own HTTP client and connection pool).
        idle_port = free_port()
        idle = Proc([os.path.join(RELEASE, "xmlrpc-gateway"), "--listen", f"127.0.0.1:{idle_port}"], idle_port)
        time.sleep(1)
        results["rss_idle_mb"] = round(idle.rss_mb(), 1)
        idle.stop()
        results["rss_idle_backends_mb"] = round(gw.rss_mb(), 1)
        if "1" in only:
            floor = floor_for("add", response_body(5))
            for url in (gw_url, py_url, floor):
                check(url, add_body, 5)
            for conns in (1, 64):
                compare_urls(f"1 add(2,3) c={conns}",
                             (("gateway", gw_url), ("cpython", py_url), ("floor", floor)), add_body, conns)
        if "2" in only:
            want = xc.loads(response_body(big))[0][0]
            floor = floor_for("big", response_body(big))
            for url in (gw_url, py_url, floor):
                check(url, echo_big, want)
            # CPython takes about a second per request here: in a 3 s run
            # its 16 connections finish two or three rounds each, so its
            # count moves by a whole round (a third) with where the run
            # ends. Ten seconds at least keep that under a tenth.
            compare_urls("2 echo 350KB c=16",
                         (("gateway", gw_url), ("cpython", py_url), ("floor", floor)), echo_big, 16,
                         duration=max(d, 10))
        if "3" in only:
            want = [[2 * i] for i in range(50)]
            for url in (gw_url, py_url):
                check(url, mc_body, want)
            compare_urls("3 multicall 50 x add c=16", (("gateway", gw_url), ("cpython", py_url)), mc_body, 16)
        if "4" in only:
            want = xc.loads(echo_20k)[0][0]
            for url in (gw_url, py_url):
                check(url, echo_20k, want, headers={"Accept-Encoding": "gzip"})
            compare_urls("4 echo 20KB gzip c=16", (("gateway", gw_url), ("cpython", py_url)), echo_20k, 16,
                         accept_encoding="gzip")
        if "5" in only:
            want = xc.loads(post(gw_url, list_body))[0][0]
            floor = floor_for("list", response_body(want))
            check(gw_url, list_body, want)
            check(floor, list_body, want)
            compare_urls("5 system.listMethods c=16", (("gateway", gw_url), ("floor", floor)), list_body, 16)
        if "6" in only:
            direct_body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "math.add", "params": [2, 3]}).encode()
            direct_url = f"http://127.0.0.1:{direct_port}/rpc"
            got = json.loads(post(direct_url, direct_body, ctype="application/json"))
            assert got["result"] == 5, got
            routed = call_body("math.add", [2, 3])
            check(gw_url, routed, 5)
            # For comparison: the backend sharing CPU 0 with the gateway
            # (what a co-located sidecar would see), through a route to the
            # CPU 0 backend.
            shared = call_body("local.math.add", [2, 3])
            check(gw_url, shared, 5)
            # The limit of any proxy that makes one HTTP/1.1 exchange per
            # call: fixed bytes to the same backend (CPU 1), fixed answer.
            port = free_port()
            paths = [os.path.join(tmp, n) for n in ("proxy-request.json", "proxy-response.xml")]
            for path, data in zip(paths, (direct_body, response_body(5))):
                with open(path, "wb") as f:
                    f.write(data)
            floors["proxy"] = Proc([os.path.join(RELEASE, "examples", "proxy_floor"), f"127.0.0.1:{port}",
                                    f"http://127.0.0.1:{backend_port}/rpc", *paths], port)
            proxy_url = f"http://127.0.0.1:{port}/RPC2"
            check(proxy_url, routed, 5)
            for conns in (1, 64):
                compare(f"6 routed JSON-RPC c={conns}", [
                    ("gateway", lambda: wrk(gw_url, routed, conns, d)),
                    ("proxy floor", lambda: wrk(proxy_url, routed, conns, d)),
                    ("direct", lambda: wrk(direct_url, direct_body, conns, d, ctype="application/json")),
                    ("gateway, backend on CPU 0", lambda: wrk(gw_url, shared, conns, d)),
                ])
        if "7" in only:
            body = call_body("system.multicall", [[{"methodName": "slow.math.add", "params": [i, 1]} for i in range(50)]])
            check(gw_url, body, [[i + 1] for i in range(50)])
            compare("7 multicall 50 x 20ms backend c=1", [("gateway", lambda: wrk(gw_url, body, 1, d))])
        if "mem" in only:
            peak = [0.0]
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], gw.rss_mb())
                    time.sleep(0.05)

            t = threading.Thread(target=sample)
            t.start()
            r = wrk(gw_url, echo_big, 256, d, threads=2)
            stop.set()
            t.join()
            results["rss_256_conns_echo_350kb_mb"] = round(peak[0], 1)
            row("mem echo 350KB c=256", "gateway", r, rss_peak_mb=round(peak[0], 1))
            results["rss_after_mb"] = round(gw.rss_mb(), 1)
    finally:
        for p in [gw, py, backend, direct, slow, *floors.values()]:
            p.stop()
    with open(os.path.join(args.out, "load.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(summary(results))


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({cpu}), {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"


def summary(results):
    by = {(r["workload"], r["target"]): r for r in results["rows"]}

    def ratio(w, a, b, key="rps"):
        if (w, a) in by and (w, b) in by and by[(w, b)][key]:
            return by[(w, a)][key] / by[(w, b)][key]
        return None

    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]

    def add(name, value, goal, ok, fmt="{:.2f}"):
        if value is None:
            lines.append(f"| {name} | not run | {goal} | |")
        else:
            met = "" if ok is None else ("yes" if ok(value) else "NO")
            lines.append(f"| {name} | {fmt.format(value)} | {goal} | {met} |")

    add("1 c=64: gateway / floor req/s", ratio("1 add(2,3) c=64", "gateway", "floor"), ">= 0.6", lambda v: v >= 0.6)
    add("1 c=64: gateway / CPython req/s", ratio("1 add(2,3) c=64", "gateway", "cpython"), ">= 15", lambda v: v >= 15)
    add("1 c=1: gateway / floor p50 latency", ratio("1 add(2,3) c=1", "gateway", "floor", "p50_us"), "<= 1.2", lambda v: v <= 1.2)
    add("2: gateway / CPython req/s", ratio("2 echo 350KB c=16", "gateway", "cpython"), ">= 15", lambda v: v >= 15)
    add("3: gateway / CPython req/s", ratio("3 multicall 50 x add c=16", "gateway", "cpython"), ">= 10", lambda v: v >= 10)
    add("4: gateway / CPython req/s", ratio("4 echo 20KB gzip c=16", "gateway", "cpython"), ">= 8", lambda v: v >= 8)
    add("5: gateway / floor req/s", ratio("5 system.listMethods c=16", "gateway", "floor"), ">= 0.6", lambda v: v >= 0.6)
    g1, d1 = by.get(("6 routed JSON-RPC c=1", "gateway")), by.get(("6 routed JSON-RPC c=1", "direct"))
    add("6 c=1: added median latency (us)", (g1["p50_us"] - d1["p50_us"]) if g1 and d1 else None, "<= 100", lambda v: v <= 100, "{:.0f}")
    add("6 c=64: gateway / direct req/s", ratio("6 routed JSON-RPC c=64", "gateway", "direct"), ">= 0.5", lambda v: v >= 0.5)
    p1 = by.get(("6 routed JSON-RPC c=1", "proxy floor"))
    add("6 c=1, proxy floor (the limit): added median latency (us)", (p1["p50_us"] - d1["p50_us"]) if p1 and d1 else None,
        "<= 100", lambda v: v <= 100, "{:.0f}")
    add("6 c=64, proxy floor (the limit): proxy floor / direct req/s", ratio("6 routed JSON-RPC c=64", "proxy floor", "direct"),
        ">= 0.5", lambda v: v >= 0.5, "{:.3f}")
    add("6 c=64: gateway / proxy floor req/s", ratio("6 routed JSON-RPC c=64", "gateway", "proxy floor"), "(reference)", None)
    s1 = by.get(("6 routed JSON-RPC c=1", "gateway, backend on CPU 0"))
    add("6 c=1, backend on CPU 0: added median latency (us)", (s1["p50_us"] - d1["p50_us"]) if s1 and d1 else None, "<= 100", lambda v: v <= 100, "{:.0f}")
    add("6 c=64, backend on CPU 0: gateway / direct req/s", ratio("6 routed JSON-RPC c=64", "gateway, backend on CPU 0", "direct"), ">= 0.5", lambda v: v >= 0.5)
    r7 = by.get(("7 multicall 50 x 20ms backend c=1", "gateway"))
    add("7: multicall p50 (ms)", r7["p50_us"] / 1000 if r7 else None, "< 30", lambda v: v < 30)
    add("memory idle, default config (MB RSS)", results.get("rss_idle_mb"), "< 15", lambda v: v < 15, "{:.1f}")
    add("memory idle, bench config with 3 backends (MB RSS)", results.get("rss_idle_backends_mb"), "< 15", lambda v: v < 15, "{:.1f}")
    add("memory, workload 2 at 256 conns (MB RSS)", results.get("rss_256_conns_echo_350kb_mb"), "< 64", lambda v: v < 64, "{:.1f}")
    table = ["| workload | target | req/s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for r in results["rows"]:
        table.append(f"| {r['workload']} | {r['target']} | {r['rps']:.0f} | {r['p50_us'] / 1000:.3f} | {r['p99_us'] / 1000:.3f} |")
    return (f"Machine: {results['machine']}; date {results['date']}; {results['duration_s']} s per run "
            f"(workload 2: {max(results['duration_s'], 10)} s), "
            f"best of {results['repeat']} interleaved runs\n\n"
            + "\n".join(table) + "\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
