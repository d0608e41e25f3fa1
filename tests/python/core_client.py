"""Drives the gateway (embedded default config) with Python's own xmlrpc.client.

Run by tests/python_client.rs with URL set to the gateway's /RPC2 URL.
"""
import datetime
import os
import sys
import unittest
import xmlrpc.client as xc

URL = os.environ["URL"]


def proxy(**kw):
    return xc.ServerProxy(URL, **kw)


class Demo(unittest.TestCase):
    def test_seed_functions(self):
        s = proxy()
        self.assertEqual(s.pow(2, 3), 8)
        self.assertEqual(s.add(2, 3), 5)
        self.assertEqual(s.div(5, 2), 2)
        self.assertEqual(s.div(-5, 2), -3)
        self.assertEqual(s.add("ab", "cd"), "abcd")
        self.assertEqual(s.add(2, 0.5), 2.5)

    def test_division_by_zero_is_an_application_fault(self):
        with self.assertRaises(xc.Fault) as cm:
            proxy().div(1, 0)
        self.assertEqual(cm.exception.faultCode, -32500)
        self.assertIn("division by zero", cm.exception.faultString)

    def test_results_beyond_32_bits_come_back_as_i8(self):
        self.assertEqual(proxy().add(2**30, 2**30), 2**31)
        self.assertEqual(proxy().pow(2, 40), 2**40)


class Echo(unittest.TestCase):
    def roundtrip(self, value, **kw):
        return proxy(**kw).echo(value)

    def test_scalars(self):
        for v in [0, -1, 2**31 - 1, -(2**31), True, False, "", "plain",
                  "esc <&> \"quotes\" 'apos'", "ünïcødé ☃ 𝄞", 0.1, -1.5e300, 1e-300]:
            self.assertEqual(self.roundtrip(v), v)

    def test_carriage_returns_follow_xml_line_end_rules(self):
        # Python's client sends CR raw, and XML parsers must turn CR LF and
        # CR into LF; a CR sent as &#13; survives (see tests/http_edge.rs).
        self.assertEqual(self.roundtrip("a\r\nb\rc"), "a\nb\nc")

    def test_datetime_and_binary(self):
        dt = datetime.datetime(1998, 7, 17, 14, 8, 55)
        self.assertEqual(self.roundtrip(dt, use_builtin_types=True), dt)
        blob = bytes(range(256)) * 3
        self.assertEqual(self.roundtrip(blob, use_builtin_types=True), blob)
        self.assertEqual(self.roundtrip(xc.Binary(b"")).data, b"")

    def test_containers_keep_order(self):
        value = {"z": 1, "a": [1, "two", {"x": [], "y": {}}], "m": {"k": 3.5}}
        got = self.roundtrip(value)
        self.assertEqual(got, value)
        self.assertEqual(list(got), ["z", "a", "m"])

    def test_nil_is_allowed_by_the_default_config(self):
        self.assertIsNone(proxy(allow_none=True).echo(None))
        self.assertEqual(proxy(allow_none=True).echo([None, 1]), [None, 1])

    def test_large_value_comes_back_gzipped_and_whole(self):
        big = ["x" * 100] * 500
        self.assertEqual(self.roundtrip(big), big)

    def test_requests_in_legacy_encodings(self):
        # ServerProxy(encoding=...) declares and encodes the request in it.
        self.assertEqual(xc.ServerProxy(URL, encoding="iso-8859-1").echo("caf\u00e9 \u00ff"), "caf\u00e9 \u00ff")
        self.assertEqual(xc.ServerProxy(URL, encoding="windows-1252").echo("\u20ac \u2019"), "\u20ac \u2019")
        self.assertEqual(xc.ServerProxy(URL, encoding="us-ascii").echo("plain"), "plain")

    def test_gzip_request(self):
        t = xc.Transport()
        t.encode_threshold = 0  # gzip every request body
        s = xc.ServerProxy(URL, transport=t)
        self.assertEqual(s.echo("gzipped request " * 100), "gzipped request " * 100)


class Errors(unittest.TestCase):
    def test_unknown_method(self):
        with self.assertRaises(xc.Fault) as cm:
            proxy().nosuch()
        self.assertEqual(cm.exception.faultCode, -32601)
        self.assertEqual(cm.exception.faultString, 'method "nosuch" is not supported')

    def test_wrong_arity_and_type(self):
        with self.assertRaises(xc.Fault) as cm:
            proxy().echo()
        self.assertEqual(cm.exception.faultCode, -32602)
        self.assertIn("takes 1 parameter (0 given)", cm.exception.faultString)
        with self.assertRaises(xc.Fault) as cm:
            proxy().add(1, "x")
        self.assertEqual(cm.exception.faultCode, -32602)

    def test_unknown_path_is_404(self):
        with self.assertRaises(xc.ProtocolError) as cm:
            xc.ServerProxy(URL.rsplit("/", 1)[0] + "/nowhere").add(1, 2)
        self.assertEqual(cm.exception.errcode, 404)

    def test_root_path_also_serves(self):
        self.assertEqual(xc.ServerProxy(URL.rsplit("/", 1)[0] + "/").add(1, 2), 3)


class Introspection(unittest.TestCase):
    def test_list_methods_sorted_with_system_methods(self):
        names = proxy().system.listMethods()
        self.assertEqual(names, sorted(names))
        for n in ["add", "div", "echo", "pow", "system.listMethods", "system.methodHelp",
                  "system.methodSignature", "system.multicall"]:
            self.assertIn(n, names)

    def test_method_help(self):
        s = proxy()
        self.assertIn("x + y", s.system.methodHelp("add"))
        self.assertEqual(s.system.methodHelp("nosuch"), "")
        self.assertIn("multiple", s.system.methodHelp("system.multicall"))

    def test_method_signature(self):
        s = proxy()
        self.assertIn(["int", "int", "int"], s.system.methodSignature("add"))
        self.assertEqual(s.system.methodSignature("echo"), [["any", "any"]])
        self.assertEqual(s.system.methodSignature("nosuch"), "signatures not supported")


class Multicall(unittest.TestCase):
    def test_results_in_order_with_faults_in_place(self):
        m = xc.MultiCall(proxy())
        m.pow(2, 9)
        m.add(5, 1)
        m.div(1, 0)
        m.nosuch()
        m.add(24, 11)
        results = m().results
        self.assertEqual(results[0], [512])
        self.assertEqual(results[1], [6])
        self.assertEqual(results[2]["faultCode"], -32500)
        self.assertEqual(results[3]["faultCode"], -32601)
        self.assertEqual(results[4], [35])

    def test_nested_and_malformed_entries_fault_alone(self):
        calls = [
            {"methodName": "system.multicall", "params": [[]]},
            "not a struct",
            {"params": [1]},
            {"methodName": "add", "params": 5},
            {"methodName": "add", "params": [1, 1]},
        ]
        results = proxy().system.multicall(calls)
        self.assertEqual(len(results), 5)
        for r in results[:4]:
            self.assertEqual(r["faultCode"], -32600, r)
        self.assertEqual(results[4], [2])

    def test_empty_multicall(self):
        self.assertEqual(proxy().system.multicall([]), [])


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    ran, bad = result.testsRun, len(result.failures) + len(result.errors)
    print(f"python xmlrpc.client: {ran - bad} passed, {bad} failed")
    sys.exit(1 if bad or not ran else 0)
