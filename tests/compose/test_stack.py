"""The compose stack end to end, through the gateway container, with
Python's xmlrpc.client: every backend kind, a multicall across them, the
metrics, a backend outage under load, a SIGHUP reload, and a SIGTERM drain
under load (last: it stops the gateway).

Run by tests/compose/run.sh, which starts the stack and passes:
  GATEWAY_URL      http://127.0.0.1:PORT
  COMPOSE          the compose command (e.g. "docker-compose -p NAME -f FILE")
  CONFIG_DIR       the directory mounted at /etc/xmlrpc-gateway
"""

import os
import shlex
import subprocess
import threading
import time
import unittest
import urllib.request
import xmlrpc.client

BASE = os.environ["GATEWAY_URL"]
RPC = BASE + "/RPC2"
COMPOSE = shlex.split(os.environ["COMPOSE"])
CONFIG_DIR = os.environ["CONFIG_DIR"]


def proxy():
    return xmlrpc.client.ServerProxy(RPC, allow_none=True)


def once(fn):
    """`fn(proxy)` on a connection of its own, closed afterwards."""
    with proxy() as s:
        return fn(s)


def compose(*args):
    return subprocess.run(
        COMPOSE + list(args), check=True, capture_output=True, text=True
    ).stdout


def container(service):
    ids = compose("ps", "-q", service).split()
    assert ids, f"no container for {service}"
    return ids[0]


def inspect(service, fmt):
    return subprocess.run(
        ["docker", "inspect", "-f", fmt, container(service)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def metrics_text():
    with urllib.request.urlopen(BASE + "/metrics", timeout=5) as response:
        return response.read().decode()


def metric(series):
    """The value of one sample (a name and its labels as rendered); 0 when absent."""
    for line in metrics_text().splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def eventually(what, check, timeout=60.0):
    """Polls `check` until it returns a true value; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            got = check()
            if got:
                return got
        except Exception as err:  # noqa: BLE001 - reported on timeout
            last = err
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


class Load:
    """Threads calling `call(proxy)` in a loop (bounded), recording
    (started, finished, result-or-exception) for each call."""

    def __init__(self, call, threads=4, max_calls=2000):
        self.call = call
        self.stop = threading.Event()
        self.records = []
        self.lock = threading.Lock()
        self.max_calls = max_calls
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        client = proxy()
        for _ in range(self.max_calls):
            if self.stop.is_set():
                break
            started = time.monotonic()
            try:
                outcome = self.call(client)
            except Exception as err:  # noqa: BLE001 - recorded and judged
                outcome = err
                client("close")()
                client = proxy()  # a fresh connection after a failure
            with self.lock:
                self.records.append((started, time.monotonic(), outcome))
            if isinstance(outcome, Exception):
                # Pacing, not a wait: a refused call fails at once, and the
                # load would spin through max_calls.
                time.sleep(0.02)
        client("close")()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def snapshot(self):
        with self.lock:
            return list(self.records)


def is_transport_fault(outcome):
    return isinstance(outcome, xmlrpc.client.Fault) and -32399 <= outcome.faultCode <= -32300


class Stack(unittest.TestCase):
    maxDiff = None

    def test_1_each_backend_kind(self):
        with proxy() as s:
            self._each_backend_kind(s)

    def _each_backend_kind(self, s):
        item = s.inventory.get(7)  # JSON-RPC 2.0
        self.assertEqual(item["name"], "widget-7")
        self.assertEqual(item["stock"], 70)
        self.assertEqual(len(s.inventory.list()), 3)
        self.assertEqual(s.users.get(3), {"id": 3, "name": "user-3", "active": True})  # plain JSON
        self.assertEqual(s.legacy.hello("compose"), "Hello, compose!")  # XML-RPC
        self.assertEqual(s.add(2, 3), 5)  # in-process
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            s.users.get(5000)  # the JSON service's 404: it refused the params
        self.assertEqual(caught.exception.faultCode, -32602)

    def test_2_multicall_spans_all_backends(self):
        with proxy() as s:
            m = xmlrpc.client.MultiCall(s)
            m.inventory.get(1)
            m.users.get(2)
            m.legacy.hello("multi")
            m.add(40, 2)
            m.nosuch.method()
            results = m().results
        self.assertEqual(results[0][0]["name"], "widget-1")
        self.assertEqual(results[1][0]["name"], "user-2")
        self.assertEqual(results[2], ["Hello, multi!"])
        self.assertEqual(results[3], [42])
        self.assertEqual(results[4]["faultCode"], -32601)

    def test_3_metrics_count_the_calls(self):
        once(lambda s: s.inventory.get(3))
        with urllib.request.urlopen(BASE + "/metrics", timeout=5) as response:
            text = response.read().decode()
        calls = {}
        for line in text.splitlines():
            if line.startswith("xmlrpc_gateway_calls_total{"):
                labels, value = line.rsplit(" ", 1)
                calls[labels[len("xmlrpc_gateway_calls_total"):]] = float(value)
        # The calls of tests 1-3; prefix routes are labelled by their pattern
        # (a closed label set).
        expected = {
            '{backend="inventory",method="inventory.*",origin="none",outcome="ok",route="backend:inventory"}': 4,
            '{backend="users",method="users.get",origin="none",outcome="ok",route="backend:users"}': 2,
            '{backend="users",method="users.get",origin="client",outcome="fault",route="backend:users"}': 1,
            '{backend="legacy",method="legacy.*",origin="none",outcome="ok",route="backend:legacy"}': 2,
            '{backend="none",method="add",origin="none",outcome="ok",route="handler:add"}': 2,
            '{backend="none",method="system.multicall",origin="none",outcome="ok",route="system"}': 1,
        }
        for labels, count in expected.items():
            self.assertEqual(calls.get(labels), count, f"{labels} in {calls}")
        self.assertIn("xmlrpc_gateway_call_duration_seconds_bucket", text)
        for path, body in (("/healthz", "ok"), ("/readyz", "ready")):
            with urllib.request.urlopen(BASE + path, timeout=5) as response:
                self.assertEqual(response.status, 200)
                self.assertIn(body, response.read().decode())

    def test_4_backend_outage_under_load(self):
        def split(client):
            out = []
            for name, fn in (("inventory", lambda: client.inventory.get(1)),
                             ("users", lambda: client.users.get(1))):
                try:
                    fn()
                    out.append((name, "ok"))
                except xmlrpc.client.Fault as fault:
                    out.append((name, fault))
            return out

        kinds = ("refused", "circuit open")

        def outage_seen():
            # Calls made while users is down, and the alert rules' inputs:
            # refusals, then the open circuit.
            text = metrics_text()
            return [r for r in load.snapshot() if r[0] > stopped_at + 0.5] and all(
                f'xmlrpc_gateway_backend_errors_total{{backend="users",kind="{kind}"}}' in text
                for kind in kinds
            )

        with Load(split, threads=3) as load:
            eventually("calls before the outage", lambda: len(load.snapshot()) >= 10, 30)
            before = len(load.snapshot())
            compose("stop", "-t", "5", "users")
            stopped_at = time.monotonic()
            eventually("the outage seen in calls and metrics", outage_seen, 30)
            # While users is down: its calls fault with transport codes, the
            # others go on, the gateway stays up.
            during = [r for r in load.snapshot() if r[0] > stopped_at + 0.5]
            self.assertTrue(during, "no calls while the backend was down")
            codes = {}
            for _, _, outcome in during:
                self.assertIsInstance(outcome, list, f"a call raised: {outcome!r}")
                (_, inv), (_, usr) = outcome
                self.assertEqual(inv, "ok")
                self.assertTrue(is_transport_fault(usr), f"users.get: {usr!r}")
                codes[usr.faultCode] = codes.get(usr.faultCode, 0) + 1
            self.assertEqual(inspect("gateway", "{{.State.Running}}"), "true")
            self.assertEqual(once(lambda s: s.add(1, 1)), 2)
            # The alert rules' inputs see it: refusals, then the open circuit.
            metrics = metrics_text()
            for kind in kinds:
                self.assertIn(
                    f'xmlrpc_gateway_backend_errors_total{{backend="users",kind="{kind}"}}', metrics
                )

            compose("start", "users")
            restarted = time.monotonic()
            eventually("users.get recovers", lambda: once(lambda s: s.users.get(4))["id"] == 4, 90)
            recovered = time.monotonic() - restarted
            self.assertGreater(before, 0)
        print(f"\n    outage: {len(during)} calls, users.get faults {codes}; "
              f"recovered {recovered:.1f}s after start", end=" ... ")
        self.assertEqual(once(lambda s: (s.inventory.get(1)["id"], s.users.get(1)["id"])), (1, 1))

    def test_5_sighup_reload(self):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            once(lambda s: s.math.add(2, 3))
        self.assertEqual(caught.exception.faultCode, -32601)
        path = os.path.join(CONFIG_DIR, "gateway.toml")
        with open(path) as f:
            text = f.read()
        text += '\n[[routes]]\nmethod = "math.add"\nbackend = "inventory"\n'
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        subprocess.run(["docker", "kill", "-s", "HUP", container("gateway")], check=True,
                       capture_output=True)
        self.assertEqual(eventually("math.add after reload", lambda: once(lambda s: s.math.add(2, 3)), 30), 5)
        self.assertEqual(once(lambda s: s.inventory.get(2)["id"]), 2)
        with urllib.request.urlopen(BASE + "/metrics", timeout=5) as response:
            self.assertIn('xmlrpc_gateway_config_reloads_total{result="ok"} 1', response.read().decode())

    def test_6_sigterm_drains_in_flight_calls(self):
        # Slow calls (500 ms each) from several connections; SIGTERM lands
        # while some are in flight. Every call started before the signal was
        # sent must complete; later ones may be refused (the listener closed).
        in_flight_now = lambda: metric("xmlrpc_gateway_http_requests_in_flight")  # noqa: E731
        with Load(lambda c: c.demo.sleep(500), threads=6, max_calls=200) as load:
            eventually("every load thread has a call in flight", lambda: in_flight_now() >= 6, 30)
            signalled = time.monotonic()
            subprocess.run(["docker", "stop", "-t", "40", container("gateway")], check=True,
                           capture_output=True)
            stopped = time.monotonic()
            # Once stopped, new calls are refused (recorded as exceptions).
            eventually(
                "a call after the stop is refused",
                lambda: any(r[0] > stopped and isinstance(r[2], Exception) for r in load.snapshot()),
                10,
            )
        records = load.snapshot()
        before = [r for r in records if r[0] < signalled]
        in_flight = [r for r in before if r[1] > signalled]
        lost = [r for r in before if r[2] != 500]
        self.assertTrue(in_flight, "no call was in flight at SIGTERM")
        self.assertEqual(lost, [], "calls started before SIGTERM did not complete")
        self.assertEqual(inspect("gateway", "{{.State.ExitCode}}"), "0")
        self.assertLess(stopped - signalled, 35)
        after = len(records) - len(before)
        print(f"\n    drain: {len(before)} calls before SIGTERM ({len(in_flight)} in flight) all "
              f"answered, {after} after; stopped in {stopped - signalled:.1f}s", end=" ... ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
