#!/usr/bin/env python3
"""Stand-in Odoo External JSON-2 API (res.partner, res.users), stdlib only.

Written from Odoo's public documentation, not from any gateway config:
  * Odoo 19 developer reference "External JSON-2 API": POST /json/2/<model>/<method>,
    "Authorization: bearer <api key>", optional X-Odoo-Database, JSON body with
    "ids", "context" and the method's parameters *by name* (no positional args),
    200 with the JSON return value, 4xx/5xx with an error object
    {name, message, arguments, context, debug}; the "Migrating from XML-RPC /
    JSON-RPC" section (GET /web/version, res.users/context_get for the own uid).
  * Odoo ORM reference for the methods served: search, search_read,
    search_count, read, create (vals_list), write (vals), unlink, name_search,
    fields_get, and the domain syntax (prefix '&', '|', '!' and
    [field, operator, value] leaves).
  * Status codes as Odoo's bearer auth and JSON-2 controller raise them:
    401 "Invalid apikey" / 'User not authenticated, use the "Authorization"
    header' (WWW-Authenticate: bearer), 404 unknown model/method and
    MissingError, 405 non-POST, 422 bad arguments / UserError / ValidationError,
    403 AccessError.

Usage:
    python3 odoo_json2.py --port 0 --api-key KEY [--db mycompany] [--no-seed]
First stdout line: "PORT <n>" (flushed).  Test helpers (not Odoo):
    GET /__requests -> JSON list of received requests; DELETE /__requests clears it.
Datetimes are Odoo's "YYYY-MM-DD HH:MM:SS" (UTC); empty values read as false;
many2one values read as [id, "display name"].
"""

import argparse
import datetime as _dt
import fnmatch
import inspect
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OdooError(Exception):
    def __init__(self, status, name, message, arguments=None):
        super().__init__(message)
        self.status, self.name, self.message = status, name, message
        self.arguments = arguments if arguments is not None else [message]

    def body(self, context):
        return {"name": self.name, "message": self.message, "arguments": self.arguments,
                "context": context or {},
                "debug": "Traceback (most recent call last):\n  (stand-in)\n%s: %s\n"
                         % (self.name, self.message)}


def http_error(status, cls, message):
    return OdooError(status, "werkzeug.exceptions." + cls, message, [message, status])


def _now():
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


PARTNER_FIELDS = {
    "id": {"type": "integer", "string": "ID", "readonly": True},
    "name": {"type": "char", "string": "Name", "required": False},
    "display_name": {"type": "char", "string": "Display Name", "readonly": True},
    "email": {"type": "char", "string": "Email"},
    "phone": {"type": "char", "string": "Phone"},
    "is_company": {"type": "boolean", "string": "Is a Company"},
    "active": {"type": "boolean", "string": "Active"},
    "city": {"type": "char", "string": "City"},
    "comment": {"type": "html", "string": "Notes"},
    "parent_id": {"type": "many2one", "string": "Related Company", "relation": "res.partner"},
    "country_id": {"type": "many2one", "string": "Country", "relation": "res.country"},
    "create_date": {"type": "datetime", "string": "Created on", "readonly": True},
    "write_date": {"type": "datetime", "string": "Last Updated on", "readonly": True},
}
DEFAULT_READ = ["name", "display_name", "email", "phone", "is_company", "active", "city",
                "comment", "parent_id", "country_id", "create_date", "write_date"]
COUNTRIES = {21: "Belgium", 75: "France", 233: "United States"}


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.requests = []
        self.partners = {}
        self.next_id = 1
        self.uid = 2
        base = {"create_date": "2026-01-02 03:04:05", "write_date": "2026-01-02 03:04:05"}
        # ids 1..3 exist in every Odoo database (company, root, admin partners)
        for name, extra in [("My Company", {"is_company": True, "city": "Brussels", "country_id": 21}),
                            ("OdooBot", {"email": "odoobot@example.com", "active": False}),
                            ("Mitchell Admin", {"email": "admin@example.com", "parent_id": 1})]:
            self._insert(dict(base, name=name, **extra))
        if not args.no_seed:
            for name, extra in [("Deco Addict", {"is_company": True, "email": "deco@example.com",
                                                 "city": "Paris", "country_id": 75}),
                                ("Azure Interior", {"is_company": True, "city": "Fremont",
                                                    "country_id": 233}),
                                ("Brandon Freeman", {"email": "brandon@example.com", "parent_id": 5,
                                                     "phone": "+1 555-0100"})]:
                self._insert(dict(base, name=name, **extra))

    def _insert(self, vals):
        pid = self.next_id
        self.next_id += 1
        rec = {"id": pid, "name": False, "email": False, "phone": False, "is_company": False,
               "active": True, "city": False, "comment": False, "parent_id": False,
               "country_id": False, "create_date": _now(), "write_date": _now()}
        rec.update(vals)
        self.partners[pid] = rec
        return pid

    # ------------------------------------------------------------ helpers
    def display(self, rec):
        if rec["parent_id"] and rec["parent_id"] in self.partners:
            return "%s, %s" % (self.partners[rec["parent_id"]]["name"], rec["name"])
        return rec["name"] or ""

    def value(self, rec, field):
        if field == "display_name":
            return self.display(rec)
        v = rec.get(field, False)
        if field == "parent_id" and v:
            p = self.partners.get(v)
            return [v, self.display(p)] if p else False
        if field == "country_id" and v:
            return [v, COUNTRIES.get(v, "Country %d" % v)]
        return v

    def match(self, rec, domain):
        """Evaluate an Odoo domain (prefix notation, implicit '&')."""
        def leaf(t):
            if t in (True, False) or t == [1, "=", 1]:
                return True
            if isinstance(t, (list, tuple)) and list(t) == [0, "=", 1]:
                return False
            field, op, val = t
            path = field.split(".")
            have = rec.get(path[0], False)
            if len(path) > 1 and path[0] == "parent_id":
                parent = self.partners.get(have) if have else None
                have = parent.get(path[1], False) if parent else False
            if op == "=":
                return have == val or (val is False and have in (False, None, ""))
            if op == "!=":
                return not (have == val or (val is False and have in (False, None, "")))
            if op in ("ilike", "not ilike", "like", "not like", "=like", "=ilike"):
                h = "" if have is False else str(have)
                v = str(val)
                if op in ("ilike", "not ilike", "=ilike"):
                    h, v = h.lower(), v.lower()
                if op.startswith("="):
                    ok = fnmatch.fnmatchcase(h, v.replace("%", "*").replace("_", "?"))
                else:
                    ok = v.replace("%", "") in h if "%" in v else v in h
                return not ok if op.startswith("not") else ok
            if op in ("in", "not in"):
                ok = have in (val or [])
                return not ok if op == "not in" else ok
            if op in ("<", ">", "<=", ">="):
                if have is False:
                    return False
                return {"<": have < val, ">": have > val, "<=": have <= val, ">=": have >= val}[op]
            if op == "child_of":
                ids = val if isinstance(val, list) else [val]
                return rec["id"] in ids or rec["parent_id"] in ids
            raise OdooError(422, "builtins.ValueError", "Invalid domain operator %r" % op)

        def ev(tokens):
            tok = tokens.pop(0)
            if tok == "!":
                return not ev(tokens)
            if tok in ("&", "|"):
                a, b = ev(tokens), ev(tokens)
                return (a and b) if tok == "&" else (a or b)
            return leaf(tok)

        items = list(domain or [])
        if not isinstance(items, list):
            raise OdooError(422, "builtins.ValueError", "Invalid domain")
        results = []
        while items:
            results.append(ev(items))
        return all(results)

    def search_ids(self, domain, offset=0, limit=None, order=None, context=None):
        mentions_active = any(isinstance(t, (list, tuple)) and t and t[0] == "active"
                              for t in (domain or []))
        active_test = (context or {}).get("active_test", True)
        recs = [r for r in self.partners.values()
                if (mentions_active or not active_test or r["active"]) and self.match(r, domain)]
        order = order or "complete_name asc, id desc"
        for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
            fname, _, direction = part.partition(" ")
            if fname == "complete_name":
                key = lambda r: self.display(r).lower()
            elif fname in PARTNER_FIELDS:
                key = lambda r, f=fname: (r.get(f) is False, r.get(f) if r.get(f) is not False else 0)
            else:
                raise OdooError(422, "builtins.ValueError", "Invalid field %r on model 'res.partner'" % fname)
            recs.sort(key=key, reverse=direction.strip().lower() == "desc")
        ids = [r["id"] for r in recs]
        ids = ids[offset or 0:]
        return ids[:limit] if limit else ids

    def read(self, ids, fields=None):
        missing = [i for i in ids if i not in self.partners]
        if missing:
            raise OdooError(404, "odoo.exceptions.MissingError",
                            "Record does not exist or has been deleted.\n(Record: res.partner(%s), "
                            "User: %d)" % (", ".join(map(str, missing)) + ("," if len(missing) == 1 else ""),
                                           self.uid))
        fields = fields or DEFAULT_READ
        for f in fields:
            if f not in PARTNER_FIELDS:
                raise OdooError(422, "builtins.ValueError",
                                "Invalid field %r on model 'res.partner'" % f)
        return [dict([("id", i)] + [(f, self.value(self.partners[i], f)) for f in fields if f != "id"])
                for i in ids]

    def check_vals(self, vals, creating):
        for k in vals:
            if k not in PARTNER_FIELDS or PARTNER_FIELDS[k].get("readonly"):
                if k not in PARTNER_FIELDS:
                    raise OdooError(422, "builtins.ValueError",
                                    "Invalid field %r on model 'res.partner'" % k)
        if creating and not vals.get("name"):
            raise OdooError(422, "odoo.exceptions.ValidationError", "Contacts require a name")
        for k in ("parent_id",):
            if vals.get(k) and vals[k] not in self.partners:
                raise OdooError(404, "odoo.exceptions.MissingError",
                                "Record does not exist or has been deleted.\n(Record: "
                                "res.partner(%s,), User: %d)" % (vals[k], self.uid))


# Methods: name -> (api_model, signature function).  Signatures mirror Odoo's ORM
# parameter names because JSON-2 binds body members to them by name.
def _sig_search(self, domain, offset=0, limit=None, order=None): pass
def _sig_search_read(self, domain=None, fields=None, offset=0, limit=None, order=None): pass
def _sig_search_count(self, domain, limit=None): pass
def _sig_read(self, fields=None, load="_classic_read"): pass
def _sig_create(self, vals_list): pass
def _sig_write(self, vals): pass
def _sig_unlink(self): pass
def _sig_name_search(self, name="", domain=None, operator="ilike", limit=100): pass
def _sig_fields_get(self, allfields=None, attributes=None): pass
def _sig_context_get(self): pass

PARTNER_METHODS = {
    "search": (True, _sig_search), "search_read": (True, _sig_search_read),
    "search_count": (True, _sig_search_count), "read": (False, _sig_read),
    "create": (True, _sig_create), "write": (False, _sig_write),
    "unlink": (False, _sig_unlink), "name_search": (True, _sig_name_search),
    "fields_get": (True, _sig_fields_get),
}
USERS_METHODS = {"context_get": (True, _sig_context_get), "read": (False, _sig_read)}
MODELS = {"res.partner": PARTNER_METHODS, "res.users": USERS_METHODS}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Werkzeug/3.0 Python/3 (odoo stand-in)"
    state = None

    def log_message(self, fmt, *args):
        if self.state.args.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def _send(self, status, obj, headers=None):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = lambda self: self._dispatch()

    def _dispatch(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        parsed = urllib.parse.urlsplit(self.path)
        st = self.state
        if parsed.path == "/__requests":
            with st.lock:
                if self.command == "DELETE":
                    st.requests.clear()
                    return self._send(200, {"cleared": True})
                return self._send(200, list(st.requests))
        body_rec = None
        if raw:
            try:
                body_rec = json.loads(raw)
            except ValueError:
                body_rec = raw.decode("utf-8", "replace")
        with st.lock:
            st.requests.append({"method": self.command, "path": parsed.path,
                                "raw_query": parsed.query,
                                "query": urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "http_version": self.request_version, "body": body_rec})
        context = {}
        try:
            if parsed.path in ("/web/version", "/json/version"):
                return self._send(200, {"version_info": st.args.version_info,
                                        "version": st.args.odoo_version})
            parts = parsed.path.split("/")
            if len(parts) != 5 or parts[:3] != ["", "json", "2"]:
                raise http_error(404, "NotFound", "The requested URL was not found on the server.")
            model, method = parts[3], parts[4]
            self._auth()
            db = self.headers.get("X-Odoo-Database")
            if db is not None and db != st.args.db:
                raise http_error(404, "NotFound", "database %r not found" % db)
            if self.command != "POST":
                raise http_error(405, "MethodNotAllowed",
                                 "The method is not allowed for the requested URL.")
            if raw:
                if "json" not in (self.headers.get("Content-Type") or ""):
                    raise http_error(415, "UnsupportedMediaType",
                                     "Content-Type must be application/json")
                if not isinstance(body_rec, dict):
                    raise http_error(400, "BadRequest", "could not parse the body, expecting a "
                                                        "json object")
            body = dict(body_rec or {})
            context = body.pop("context", {}) or {}
            ids = body.pop("ids", []) or []
            with st.lock:
                result = self._call(model, method, ids, body, context)
            self._send(200, result)
        except OdooError as e:
            headers = {"WWW-Authenticate": "bearer"} if e.status == 401 else None
            self._send(e.status, e.body(context), headers)

    def _auth(self):
        h = self.headers.get("Authorization") or ""
        scheme, _, token = h.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise http_error(401, "Unauthorized",
                             'User not authenticated, use the "Authorization" header')
        if token.strip() != self.state.args.api_key:
            raise http_error(401, "Unauthorized", "Invalid apikey")

    def _call(self, model, method, ids, kw, context):
        st = self.state
        if model not in MODELS and model not in ("res.country", "res.company", "ir.model"):
            raise http_error(404, "NotFound", "the model %r does not exist" % model)
        if method.startswith("_"):
            raise http_error(404, "NotFound", "Private methods (such as '%s.%s') cannot be "
                                              "called remotely." % (model, method))
        methods = MODELS.get(model, {})
        if method not in methods:
            raise http_error(404, "NotFound", "The method '%s.%s' does not exist" % (model, method))
        api_model, sig = methods[method]
        if api_model and ids:
            raise http_error(422, "UnprocessableEntity", "cannot call %s.%s with ids" % (model, method))
        try:
            bound = inspect.signature(sig).bind(None, **kw)
        except TypeError as exc:
            raise http_error(422, "UnprocessableEntity", exc.args[0])
        bound.apply_defaults()
        a = dict(bound.arguments)
        a.pop("self")
        if model == "res.users":
            if method == "context_get":
                return {"lang": context.get("lang", "en_US"), "tz": "Europe/Brussels", "uid": st.uid}
            users = {st.uid: {"id": st.uid, "name": "Mitchell Admin", "login": "admin",
                              "partner_id": [3, "Mitchell Admin"], "active": True}}
            missing = [i for i in ids if i not in users]
            if missing:
                raise OdooError(404, "odoo.exceptions.MissingError",
                                "Record does not exist or has been deleted.\n(Record: res.users(%s,), "
                                "User: %d)" % (missing[0], st.uid))
            fields = a["fields"] or ["name", "login", "partner_id", "active"]
            return [dict([("id", i)] + [(f, users[i].get(f, False)) for f in fields if f != "id"])
                    for i in ids]
        if method == "search":
            return st.search_ids(a["domain"], a["offset"], a["limit"], a["order"], context)
        if method == "search_count":
            n = len(st.search_ids(a["domain"], context=context))
            return min(n, a["limit"]) if a["limit"] else n
        if method == "search_read":
            found = st.search_ids(a["domain"] or [], a["offset"], a["limit"], a["order"], context)
            return st.read(found, a["fields"])
        if method == "read":
            return st.read([int(i) for i in ids], a["fields"])
        if method == "create":
            vals_list = a["vals_list"]
            if isinstance(vals_list, dict):
                vals_list = [vals_list]
            if not isinstance(vals_list, list):
                raise OdooError(422, "builtins.TypeError", "vals_list must be a list of dicts")
            for vals in vals_list:
                st.check_vals(vals, creating=True)
            return [st._insert(dict(v)) for v in vals_list]
        if method == "write":
            st.read(ids, ["name"])  # raises MissingError for unknown ids
            st.check_vals(a["vals"], creating=False)
            if "name" in a["vals"] and not a["vals"]["name"]:
                raise OdooError(422, "odoo.exceptions.ValidationError", "Contacts require a name")
            for i in ids:
                st.partners[i].update(a["vals"])
                st.partners[i]["write_date"] = _now()
            return True
        if method == "unlink":
            st.read(ids, ["name"])
            for i in ids:
                if i <= 3:
                    raise OdooError(422, "odoo.exceptions.UserError",
                                    "You cannot delete a partner that is linked to a company or user.")
            for i in ids:
                del st.partners[i]
            return True
        if method == "name_search":
            dom = list(a["domain"] or []) + ([["name", a["operator"], a["name"]]] if a["name"] else [])
            found = st.search_ids(dom, limit=a["limit"], context=context)
            return [[i, st.display(st.partners[i])] for i in found]
        if method == "fields_get":
            fields = {k: dict(v) for k, v in PARTNER_FIELDS.items()
                      if not a["allfields"] or k in a["allfields"]}
            if a["attributes"]:
                fields = {k: {x: v[x] for x in a["attributes"] if x in v} for k, v in fields.items()}
            return fields
        raise http_error(404, "NotFound", "The method '%s.%s' does not exist" % (model, method))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", default="test-api-key")
    ap.add_argument("--db", default="odoo", help="database name accepted in X-Odoo-Database")
    ap.add_argument("--odoo-version", default="19.0")
    ap.add_argument("--no-seed", action="store_true",
                    help="only the three partners every database has (ids 1-3)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    major, minor = (args.odoo_version.split(".") + ["0"])[:2]
    args.version_info = [int(major), int(minor), 0, "final", 0, ""]
    Handler.state = State(args)
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
