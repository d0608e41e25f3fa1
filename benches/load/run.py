#!/usr/bin/env python3
"""Load benchmarks, side by side, with wrk.

Targets: the gateway (release build), CPython's SimpleXMLRPCServer with
ThreadingMixIn (cpython_server.py), the hyper floor (examples/hyper_floor.rs:
fixed right answer, no parsing), and for routed calls the JSON-RPC demo
backend called directly. Peers (workloads 1 to 5, where they can serve
them): the XML-RPC servers a user could pick instead, with the same demo
functions, built by peers/build.py: dxr (dxr_server from crates.io) and
xmlrpc-c (its Abyss server in C, Debian's libxmlrpc-core-c3-dev; a peer
whose toolchain or package is missing is skipped with a message). Every
workload is checked for a correct answer
before it is timed. The target under test pinned to CPU 0; wrk and the
backends behind the gateway to CPU 1. The targets of a workload run in
turn, --repeat rounds, and each keeps its best run: on a shared VM noise
only ever slows a run down, and interleaving exposes every target to it.

Usage: python3 benches/load/run.py [--duration 3] [--repeat 3] [--only 1,2] [--out bench-results]
                                  [--peers dxr,xmlrpc-c] [--peers-target target/peers]
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

from peers.build import DEFAULT_TARGET as PEERS_TARGET, PEERS, build as build_peers

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
    return post_encoding(url, body, ctype, headers)[0]


def post_encoding(url, body, ctype="text/xml", headers=None):
    """The answer's body, gunzipped, and its Content-Encoding."""
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype, **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        data = r.read()
        encoding = r.headers.get("Content-Encoding")
        if encoding == "gzip":
            data = gzip.decompress(data)
        return data, encoding


def close(got, want, rel=1e-14):
    """Equal, but doubles only to `rel` (xmlrpc-c prints doubles to 15 or
    16 significant digits, so its echo of a double is not always exact)."""
    if isinstance(got, float) and isinstance(want, float):
        return got == want or abs(got - want) <= rel * max(abs(got), abs(want))
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(close(g, w, rel) for g, w in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(close(got[k], want[k], rel) for k in want)
    return got == want


def peers_for(peer_urls, workload, body, want, headers=None):
    """(target name, url) of the peers ({name: url}) that answer `body`
    rightly. A peer that cannot (a fault, say, for a method it lacks) is
    left out of the workload with a message. A name says how a peer's
    answer differs where it still does the work: not compressed, or
    doubles rounded. `want` may be a function of the answer instead."""
    ok = []
    for name, url in peer_urls.items():
        try:
            data, encoding = post_encoding(url, body, headers=headers)
            got = xc.loads(data, use_builtin_types=False)[0][0]
        except xc.Fault as f:
            print(f"  peer {name} left out of workload {workload}: fault {f.faultCode} {f.faultString!r}",
                  file=sys.stderr)
            continue
        except Exception as e:  # noqa: BLE001 (an HTTP error, a broken answer: the peer is left out)
            print(f"  peer {name} left out of workload {workload}: {e!r}", file=sys.stderr)
            continue
        notes = []
        right = want(got) if callable(want) else got == want
        if not right and not callable(want) and close(got, want):
            right = True
            notes.append("doubles rounded")
        if not right:
            print(f"  peer {name} left out of workload {workload}: wrong answer {str(got)[:200]!r}",
                  file=sys.stderr)
            continue
        if headers and "gzip" in headers.get("Accept-Encoding", "") and encoding != "gzip":
            notes.append("no gzip")
        ok.append((f"{name} ({', '.join(notes)})" if notes else name, url))
    return ok


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
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="the other XML-RPC servers to run on workloads 1 to 5 (dxr, xmlrpc-c); '' for none")
    ap.add_argument("--peers-target", default=PEERS_TARGET,
                    help="where peers/build.py builds them (default target/peers, or $XG_PEERS_TARGET)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    peer_names = [p for p in args.peers.split(",") if p]
    unknown = set(peer_names) - set(PEERS)
    if unknown:
        sys.exit(f"unknown peers {sorted(unknown)}; known: {', '.join(PEERS)}")
    if shutil.which("wrk") is None:
        sys.exit("run.py needs wrk: apt-get install wrk (Debian's package; benches/load/install-deps.sh)")
    d = args.duration
    build()
    peer_argv = build_peers(os.path.abspath(args.peers_target), peer_names) if only & set("12345") else {}
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
    # The peers: other XML-RPC servers with the same demo functions, each on
    # CPU 0 when under test, as the gateway.
    peer_procs, peer_urls = {}, {}
    for name, argv in peer_argv.items():
        port = free_port()
        try:
            peer_procs[name] = Proc([*argv, str(port)], port)
            peer_urls[name] = f"http://127.0.0.1:{port}/RPC2"
        except (OSError, RuntimeError) as e:
            print(f"peer {name} skipped: it did not start ({e})", file=sys.stderr)

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
        # The default config (access log on, to stderr, which goes to
        # /dev/null here) stays up: workloads 1 and 5 run on it too, as
        # "gateway, default config", beside the same config with only
        # `log_requests = false` changed (set through the environment).
        default_port, quiet_port = free_port(), free_port()
        default = Proc([os.path.join(RELEASE, "xmlrpc-gateway"), "--listen", f"127.0.0.1:{default_port}"],
                       default_port)
        quiet = Proc([os.path.join(RELEASE, "xmlrpc-gateway"), "--listen", f"127.0.0.1:{quiet_port}"], quiet_port,
                     env=dict(os.environ, XMLRPC_GATEWAY__SERVER__LOG_REQUESTS="false"))
        default_url = f"http://127.0.0.1:{default_port}/RPC2"
        quiet_url = f"http://127.0.0.1:{quiet_port}/RPC2"
        time.sleep(1)
        results["rss_idle_mb"] = round(default.rss_mb(), 1)
        results["rss_idle_backends_mb"] = round(gw.rss_mb(), 1)
        if "1" in only:
            floor = floor_for("add", response_body(5))
            for url in (gw_url, default_url, quiet_url, py_url, floor):
                check(url, add_body, 5)
            peers = peers_for(peer_urls, 1, add_body, 5)
            for conns in (1, 64):
                compare_urls(f"1 add(2,3) c={conns}",
                             (("gateway", gw_url), ("gateway, default config", default_url),
                              ("gateway, default config, log_requests = false", quiet_url), ("cpython", py_url),
                              *peers, ("floor", floor)), add_body, conns)
        if "2" in only:
            want = xc.loads(response_body(big))[0][0]
            floor = floor_for("big", response_body(big))
            for url in (gw_url, py_url, floor):
                check(url, echo_big, want)
            peers = peers_for(peer_urls, 2, echo_big, want)
            # CPython takes about a second per request here: in a 3 s run
            # its 16 connections finish two or three rounds each, so its
            # count moves by a whole round (a third) with where the run
            # ends. Ten seconds at least keep that under a tenth.
            compare_urls("2 echo 350KB c=16",
                         (("gateway", gw_url), ("cpython", py_url), *peers, ("floor", floor)), echo_big, 16,
                         duration=max(d, 10))
        if "3" in only:
            want = [[2 * i] for i in range(50)]
            for url in (gw_url, py_url):
                check(url, mc_body, want)
            peers = peers_for(peer_urls, 3, mc_body, want)
            compare_urls("3 multicall 50 x add c=16", (("gateway", gw_url), ("cpython", py_url), *peers), mc_body, 16)
        if "4" in only:
            want = xc.loads(echo_20k)[0][0]
            for url in (gw_url, py_url):
                check(url, echo_20k, want, headers={"Accept-Encoding": "gzip"})
            peers = peers_for(peer_urls, 4, echo_20k, want, headers={"Accept-Encoding": "gzip"})
            compare_urls("4 echo 20KB gzip c=16", (("gateway", gw_url), ("cpython", py_url), *peers), echo_20k, 16,
                         accept_encoding="gzip")
        if "5" in only:
            want = xc.loads(post(gw_url, list_body))[0][0]
            floor = floor_for("list", response_body(want))
            check(gw_url, list_body, want)
            check(floor, list_body, want)
            # The default config lists its own routes: the demo functions.
            for url in (default_url, quiet_url):
                listed = xc.loads(post(url, list_body))[0][0]
                if not {"add", "echo", "system.listMethods"} <= set(listed):
                    raise RuntimeError(f"{url}: wrong answer {listed!r}")
            # A peer lists its own names (xmlrpc-c: 12, its system.* ones
            # included; the gateway 8): it must list the demo functions.
            demo = {"pow", "add", "div", "echo", "system.listMethods"}
            peers = peers_for(peer_urls, 5, list_body, lambda got: isinstance(got, list) and demo <= set(got))
            compare_urls("5 system.listMethods c=16",
                         (("gateway", gw_url), ("gateway, default config", default_url),
                          ("gateway, default config, log_requests = false", quiet_url), *peers, ("floor", floor)),
                         list_body, 16)
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
        for p in [gw, default, quiet, py, backend, direct, slow, *floors.values(), *peer_procs.values()]:
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

    def peers(w, short):
        """The gateway's req/s over each peer's (no goal), for the peers
        that ran workload w; a peer's target name may say how its answer
        differed ("xmlrpc-c (no gzip)")."""
        for peer in PEERS:
            target = next((t for (ww, t) in by if ww == w and (t == peer or t.startswith(peer + " ("))), None)
            if target is not None:
                add(f"{short}: gateway / {target} req/s", ratio(w, "gateway", target), "> 1", lambda v: v > 1)

    add("1 c=64: gateway / floor req/s", ratio("1 add(2,3) c=64", "gateway", "floor"), ">= 0.6", lambda v: v >= 0.6)
    add("1 c=64: default config / log_requests = false req/s", ratio("1 add(2,3) c=64", "gateway, default config",
                                                                               "gateway, default config, log_requests = false"),
        ">= 0.95", lambda v: v >= 0.95, "{:.3f}")
    add("1 c=64: gateway / CPython req/s", ratio("1 add(2,3) c=64", "gateway", "cpython"), ">= 15", lambda v: v >= 15)
    peers("1 add(2,3) c=64", "1 c=64")
    add("1 c=1: gateway / floor p50 latency", ratio("1 add(2,3) c=1", "gateway", "floor", "p50_us"), "<= 1.2", lambda v: v <= 1.2)
    peers("1 add(2,3) c=1", "1 c=1")
    add("2: gateway / CPython req/s", ratio("2 echo 350KB c=16", "gateway", "cpython"), ">= 15", lambda v: v >= 15)
    peers("2 echo 350KB c=16", "2")
    add("3: gateway / CPython req/s", ratio("3 multicall 50 x add c=16", "gateway", "cpython"), ">= 10", lambda v: v >= 10)
    peers("3 multicall 50 x add c=16", "3")
    add("4: gateway / CPython req/s", ratio("4 echo 20KB gzip c=16", "gateway", "cpython"), ">= 8", lambda v: v >= 8)
    peers("4 echo 20KB gzip c=16", "4")
    add("5: gateway / floor req/s", ratio("5 system.listMethods c=16", "gateway", "floor"), ">= 0.6", lambda v: v >= 0.6)
    add("5: default config / log_requests = false req/s", ratio("5 system.listMethods c=16", "gateway, default config",
                                                                         "gateway, default config, log_requests = false"),
        ">= 0.95", lambda v: v >= 0.95, "{:.3f}")
    peers("5 system.listMethods c=16", "5")
    g1, d1 = by.get(("6 routed JSON-RPC c=1", "gateway")), by.get(("6 routed JSON-RPC c=1", "direct"))
    add("6 c=1: added median latency (us)", (g1["p50_us"] - d1["p50_us"]) if g1 and d1 else None, "<= 100", lambda v: v <= 100, "{:.0f}")
    add("6 c=64: gateway / direct req/s", ratio("6 routed JSON-RPC c=64", "gateway", "direct"), ">= 0.5", lambda v: v >= 0.5)
    p1 = by.get(("6 routed JSON-RPC c=1", "proxy floor"))
    add("6 c=1, proxy floor (the limit): added median latency (us)", (p1["p50_us"] - d1["p50_us"]) if p1 and d1 else None,
        "<= 100", lambda v: v <= 100, "{:.0f}")
    add("6 c=64, proxy floor (the limit): proxy floor / direct req/s", ratio("6 routed JSON-RPC c=64", "proxy floor", "direct"),
        ">= 0.5", lambda v: v >= 0.5, "{:.3f}")
    add("6 c=64: gateway / proxy floor req/s", ratio("6 routed JSON-RPC c=64", "gateway", "proxy floor"), ">= 0.8",
        lambda v: v >= 0.8)
    add("6 c=1: gateway p50 - proxy floor p50 (us)", (g1["p50_us"] - p1["p50_us"]) if g1 and p1 else None, "<= 40",
        lambda v: v <= 40, "{:.0f}")
    s1 = by.get(("6 routed JSON-RPC c=1", "gateway, backend on CPU 0"))
    add("6 c=1, backend on CPU 0: added median latency (us)", (s1["p50_us"] - d1["p50_us"]) if s1 and d1 else None, "<= 100", lambda v: v <= 100, "{:.0f}")
    add("6 c=64, backend on CPU 0: gateway / direct req/s", ratio("6 routed JSON-RPC c=64", "gateway, backend on CPU 0", "direct"), ">= 0.5", lambda v: v >= 0.5)
    r7 = by.get(("7 multicall 50 x 20ms backend c=1", "gateway"))
    add("7: multicall p50 (ms)", r7["p50_us"] / 1000 if r7 else None, "< 30", lambda v: v < 30)
    add("memory idle, default config (MB RSS)", results.get("rss_idle_mb"), "< 15", lambda v: v < 15, "{:.1f}")
    add("memory idle, bench config with 3 backends (MB RSS)", results.get("rss_idle_backends_mb"), "< 15", lambda v: v < 15, "{:.1f}")
    add("memory, workload 2 at 256 conns (MB RSS)", results.get("rss_256_conns_echo_350kb_mb"), "< 64", lambda v: v < 64, "{:.1f}")
    table = ["| workload | target | req/s (best) | p50 ms | p99 ms | req/s of every run |", "|---|---|---|---|---|---|"]
    for r in results["rows"]:
        runs = ", ".join(str(v) for v in r.get("rps_all", []))
        table.append(f"| {r['workload']} | {r['target']} | {r['rps']:.0f} | {r['p50_us'] / 1000:.3f} | {r['p99_us'] / 1000:.3f} "
                     f"| {runs} |")
    return (f"Machine: {results['machine']}; date {results['date']}; {results['duration_s']} s per run "
            f"(workload 2: {max(results['duration_s'], 10)} s), "
            f"best of {results['repeat']} interleaved runs\n\n"
            + "\n".join(table) + "\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
