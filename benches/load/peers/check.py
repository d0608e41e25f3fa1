#!/usr/bin/env python3
"""Checks an XML-RPC server's demo functions with Python's xmlrpc.client,
against what the gateway's handlers (src/demo.rs) answer, and prints what
it got, wire types included. For the load benchmark's peers (dxr,
xmlrpc-c) and CPython's server; works on the gateway too.

Usage: python3 benches/load/peers/check.py URL [URL...]
Exit status 1 when a call the load workloads 1 to 5 make answers wrongly.
"""
import gzip
import os
import re
import sys
import urllib.request
import xmlrpc.client as xc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from run import big_value, close  # noqa: E402  (the workload 2 value; run.py's comparison)


def raw(url, body, headers=None):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "text/xml", **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as r:
        data = r.read()
        enc = r.headers.get("Content-Encoding")
        if enc == "gzip":
            data = gzip.decompress(data)
        return data, enc


def call(url, method, *params, headers=None):
    """(value or Fault, the answer's first value type tag, Content-Encoding)."""
    body = xc.dumps(params, methodname=method, allow_none=True).encode()
    data, enc = raw(url, body, headers)
    m = re.search(rb"<value>\s*<(\w[\w.]*)", data)
    tag = m.group(1).decode() if m else "(bare string)"
    try:
        return xc.loads(data, use_builtin_types=False)[0][0], tag, enc
    except xc.Fault as f:
        return f, tag, enc


def fault(code):
    return ("fault", code)


# (label, method, params, what the gateway answers, needed by a workload)
CASES = [
    ("pow(2,3)", "pow", (2, 3), 8, False),
    ("pow(2,-1)", "pow", (2, -1), 0.5, False),
    ("pow(10,40)", "pow", (10, 40), fault(-32500), False),
    ("add(2,3)", "add", (2, 3), 5, True),
    ("add(2**30,2**30)", "add", (2**30, 2**30), 2**31, False),
    ("add(2,0.5)", "add", (2, 0.5), 2.5, False),
    ("add('a','b')", "add", ("a", "b"), "ab", False),
    ("add([1],[2])", "add", ([1], [2]), [1, 2], False),
    ("add(1,'b')", "add", (1, "b"), fault(-32602), False),
    ("div(5,2)", "div", (5, 2), 2, False),
    ("div(-5,2)", "div", (-5, 2), -3, False),
    ("div(5.0,2)", "div", (5.0, 2), 2.0, False),
    ("div(1,0)", "div", (1, 0), fault(-32500), False),
    ("echo(nested)", "echo", ({"a": [1, 2.5, "x<&>é", {"b": True}], "d": xc.DateTime("20260101T12:34:56"),
                               "bin": xc.Binary(b"\x00\xff"), "s": ""},), None, False),
    ("echo(None)", "echo", (None,), None, False),
    ("nosuch()", "nosuch", (), fault(None), False),
]


def same(got, want):
    if isinstance(want, tuple) and want[:1] == ("fault",):
        return isinstance(got, xc.Fault) and (want[1] is None or got.faultCode == want[1])
    if isinstance(got, xc.Fault):
        return False
    return got == want and type(got) is type(want)


def check(url):
    print(f"== {url}")
    bad = 0
    for label, method, params, want, needed in CASES:
        if want is None:  # echo: the argument itself
            want = params[0]
        try:
            got, tag, _ = call(url, method, *params)
        except Exception as e:  # noqa: BLE001 (a broken answer is a result here)
            got, tag = e, "-"
        ok = same(got, want)
        shown = f"fault {got.faultCode}: {got.faultString}" if isinstance(got, xc.Fault) else repr(got)[:100]
        print(f"  {'ok  ' if ok else 'DIFF'} {label:<18} <{tag}> {shown}")
        bad += needed and not ok
    # The workloads' own calls.
    big = big_value()
    want_big = xc.loads(xc.dumps((big,), methodresponse=True))[0][0]
    got, _, _ = call(url, "echo", big)
    if got == want_big:
        print("  ok   workload 2: echo of the 350 KB value round-trips")
    elif close(got, want_big):
        print("  ~    workload 2: echo of the 350 KB value round-trips, but doubles rounded in their last digits")
    else:
        print("  DIFF workload 2: echo of the 350 KB value")
        bad += 1
    mc = [{"methodName": "add", "params": [i, i]} for i in range(50)]
    got, _, _ = call(url, "system.multicall", mc)
    ok = got == [[2 * i] for i in range(50)]
    print(f"  {'ok  ' if ok else 'no  '} workload 3: system.multicall of 50 adds"
          + ("" if ok else f": {got}"))
    got, _, _ = call(url, "system.multicall", [{"methodName": "add", "params": [1, 2]},
                                               {"methodName": "div", "params": [1, 0]},
                                               {"methodName": "nosuch", "params": []}])
    print(f"       multicall [add(1,2), div(1,0), nosuch()]: {got}")
    text = ["twenty kilobytes of text " * 8] * 100
    got, _, enc = call(url, "echo", text, headers={"Accept-Encoding": "gzip"})
    print(f"  {'ok  ' if got == text else 'DIFF'} workload 4: echo of 20 KB, answer "
          f"{'gzip' if enc == 'gzip' else 'NOT compressed'}")
    bad += got != text
    got, _, _ = call(url, "system.listMethods")
    print(f"  {'ok  ' if isinstance(got, list) else 'no  '} workload 5: system.listMethods: {got}")
    return bad


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(1 if sum(check(u) for u in sys.argv[1:]) else 0)
