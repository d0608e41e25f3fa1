#!/usr/bin/env python3
"""Stand-in Bugzilla REST service (in-memory bugs and comments), stdlib only.

Written from Bugzilla's public REST documentation, not from any gateway config:
  * "WebService API" -> "Core API v1" -> "General" (data format, errors,
    authentication: Bugzilla_api_key / api_key, Bugzilla_login / login,
    Bugzilla_token / token, X-BUGZILLA-API-KEY / -LOGIN / -PASSWORD / -TOKEN
    headers, query string taking precedence over headers, include_fields /
    exclude_fields)
  * "Bugs" (Get Bug, Search Bugs, Create Bug, Update Bug, error codes 100-107)
  * "Comments" (Get Comments, Create Comments)
  * "Users" (Login, Logout, Valid Login, Get User: logged-out callers may not use
    "ids" -> error 505, which python-bugzilla's `logged_in` relies on)
  * "Bugzilla Information" (GET /rest/version)
  * Bugzilla::WebService::Constants (WS_ERROR_CODE numbers and the
    REST_STATUS_CODE_MAP that turns them into HTTP statuses: 101 -> 404,
    300/410 -> 401, 106 -> 401, anything unlisted -> 400) and
    Bugzilla::WebService::Server::REST::Resources::Bug (POST /rest/bug answers
    201 Created).

Datetimes are UTC "YYYY-MM-DDTHH:MM:SSZ" as the REST API returns them.

Usage:
    python3 bugzilla_rest.py --port 0 --api-key KEY [--login USER --password PW]
                             [--fixed-time 2026-01-02T03:04:05Z] [--no-seed]

The first stdout line is "PORT <n>" (flushed); then it serves until killed.
Test helpers (not part of Bugzilla):
    GET    /__requests   -> JSON list of every request received (method, path,
                            query, headers, body), oldest first
    DELETE /__requests   -> clears that list
Both /rest/... and /rest.cgi/... prefixes are served (Bugzilla 5.0 without
mod_rewrite exposes rest.cgi).
"""

import argparse
import datetime as _dt
import json
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DOC_URL = "https://bugzilla.readthedocs.org/en/5.0/api/"

# WS_ERROR_CODE -> HTTP status, from Bugzilla::WebService::Constants
REST_STATUS_CODE_MAP = {
    51: 404, 101: 404, 102: 401, 106: 401, 109: 401, 110: 401, 113: 401,
    115: 401, 120: 401, 300: 401, 301: 401, 302: 401, 303: 401, 304: 401,
    410: 401, 504: 401, 505: 401, 32614: 404,
}

OPEN_STATUSES = {"UNCONFIRMED", "CONFIRMED", "IN_PROGRESS", "NEW", "ASSIGNED", "REOPENED"}
CLOSED_STATUSES = {"RESOLVED", "VERIFIED", "CLOSED"}

# Parameters that never count as search criteria (auth and field selection).
NON_CRITERIA = {
    "Bugzilla_api_key", "api_key", "Bugzilla_login", "login", "Bugzilla_password",
    "password", "Bugzilla_token", "token", "Bugzilla_restrictlogin",
    "include_fields", "exclude_fields", "limit", "offset", "order", "callback",
    "count_only",
}

SCALAR_FIELDS = [
    "summary", "product", "component", "version", "status", "resolution",
    "priority", "severity", "op_sys", "platform", "assigned_to", "qa_contact",
    "url", "whiteboard", "target_milestone", "type", "deadline", "dupe_of",
    "classification", "is_cc_accessible", "is_creator_accessible",
]
LIST_OBJECT_FIELDS = ["cc", "keywords", "blocks", "depends_on", "groups",
                      "see_also", "alias", "regressed_by", "regressions"]


class BzError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self):
        return REST_STATUS_CODE_MAP.get(self.code, 400)


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.requests = []
        self.bugs = {}
        self.comments = {}  # comment id -> comment dict
        self.next_bug = 1
        self.next_comment = 1
        self.tokens = {}  # token -> login
        self.users = {args.login: {"id": 1, "name": args.login, "real_name": "Test User",
                                   "nick": args.login.split("@")[0]}}
        if not args.no_seed:
            self.seed()

    def now(self):
        if self.args.fixed_time:
            return self.args.fixed_time
        return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def user_detail(self, login):
        u = self.users.get(login)
        if u is None:
            u = {"id": 100 + len(self.users), "name": login, "real_name": "",
                 "nick": login.split("@")[0]}
            self.users[login] = u
        return {"id": u["id"], "real_name": u["real_name"], "nick": u["nick"],
                "name": login, "email": login}

    def add_comment(self, bug_id, text, creator, when, is_private=False):
        bug = self.bugs[bug_id]
        cid = self.next_comment
        self.next_comment += 1
        count = len([c for c in self.comments.values() if c["bug_id"] == bug_id])
        self.comments[cid] = {
            "id": cid, "bug_id": bug_id, "attachment_id": None, "count": count,
            "text": text, "creator": creator, "time": when, "creation_time": when,
            "is_private": bool(is_private), "is_markdown": False, "tags": [],
        }
        bug["comment_count"] = count + 1
        return cid

    def new_bug(self, fields, creator, when):
        bid = self.next_bug
        self.next_bug += 1
        status = fields.get("status") or "CONFIRMED"
        bug = {
            "id": bid,
            "alias": _listify(fields.get("alias")),
            "summary": fields["summary"],
            "product": fields["product"],
            "component": fields["component"],
            "version": fields["version"],
            "status": status,
            "resolution": fields.get("resolution") or "",
            "priority": fields.get("priority") or "--",
            "severity": fields.get("severity") or "normal",
            "type": fields.get("type") or "defect",
            "op_sys": fields.get("op_sys") or "All",
            "platform": fields.get("platform") or fields.get("rep_platform") or "All",
            "assigned_to": fields.get("assigned_to") or "nobody@example.com",
            "qa_contact": fields.get("qa_contact") or "",
            "creator": creator,
            "cc": _listify(fields.get("cc")),
            "keywords": _listify(fields.get("keywords")),
            "blocks": [int(x) for x in _listify(fields.get("blocked") or fields.get("blocks"))],
            "depends_on": [int(x) for x in _listify(fields.get("dependson") or fields.get("depends_on"))],
            "regressed_by": [int(x) for x in _listify(fields.get("regressed_by"))],
            "regressions": [],
            "groups": _listify(fields.get("groups")),
            "see_also": [],
            "flags": [],
            "url": fields.get("url") or "",
            "whiteboard": fields.get("whiteboard") or "",
            "target_milestone": fields.get("target_milestone") or "---",
            "classification": "Unclassified",
            "deadline": fields.get("deadline"),
            "dupe_of": None,
            "duplicates": [],
            "is_cc_accessible": True,
            "is_creator_accessible": True,
            "is_confirmed": status != "UNCONFIRMED",
            "is_open": status not in CLOSED_STATUSES,
            "creation_time": when,
            "last_change_time": when,
            "comment_count": 0,
        }
        self.bugs[bid] = bug
        self.add_comment(bid, fields.get("description") or "", creator, when,
                         fields.get("comment_is_private", False))
        return bid

    def seed(self):
        t0 = "2026-01-02T03:04:05Z"
        login = self.args.login
        b1 = self.new_bug({"product": "TestProduct", "component": "TestComponent",
                           "version": "1.0", "summary": "Gateway crashes on empty struct",
                           "description": "Steps to reproduce: send <struct/>.",
                           "priority": "P1", "severity": "major", "op_sys": "Linux",
                           "assigned_to": "dev@example.com", "cc": ["qa@example.com"],
                           "keywords": ["crash"]}, login, t0)
        self.add_comment(b1, "Confirmed on 1.0.", "dev@example.com", "2026-01-02T04:00:00Z")
        self.bugs[b1]["last_change_time"] = "2026-01-02T04:00:00Z"
        self.new_bug({"product": "TestProduct", "component": "TestComponent",
                      "version": "1.0", "summary": "Slow response on search",
                      "description": "Search takes 10s.", "status": "IN_PROGRESS",
                      "alias": ["slow-search"], "assigned_to": "dev@example.com"},
                     login, "2026-01-03T05:06:07Z")
        self.new_bug({"product": "OtherProduct", "component": "Docs", "version": "2.0",
                      "summary": "Typo in README", "description": "teh -> the",
                      "status": "RESOLVED", "resolution": "FIXED", "priority": "P3",
                      "severity": "trivial"}, "rep@example.com", "2026-01-04T06:07:08Z")


def _listify(v):
    if v is None:
        return []
    if isinstance(v, list):
        return list(v)
    return [v]


def _flatten_query(qs):
    """Query values: repeated params and comma-separated lists both allowed."""
    out = {}
    for k, vals in qs.items():
        items = []
        for v in vals:
            items.extend([p for p in v.split(",")] if k in ("id", "ids", "include_fields", "exclude_fields") else [v])
        out[k] = items
    return out


def _filter_fields(obj, include, exclude):
    if include:
        inc = set(include)
        if "_all" in inc or "_default" in inc:
            out = dict(obj)
        else:
            out = {k: v for k, v in obj.items() if k in inc}
    else:
        out = dict(obj)
    for k in exclude or []:
        out.pop(k, None)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BugzillaStandin/1.0"
    state = None  # set in main

    # ------------------------------------------------------------ plumbing
    def log_message(self, fmt, *args):  # quiet; tests read /__requests instead
        if self.state.args.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send_json(self, status, obj, extra_headers=None):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, err):
        self._send_json(err.status, {"error": True, "code": err.code,
                                     "message": err.message, "documentation": DOC_URL})

    def _record(self, raw_body):
        parsed = urllib.parse.urlsplit(self.path)
        body = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = raw_body.decode("utf-8", "replace")
        entry = {
            "method": self.command,
            "path": parsed.path,
            "raw_query": parsed.query,
            "query": urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "http_version": self.request_version,
            "body": body,
        }
        with self.state.lock:
            self.state.requests.append(entry)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def _dispatch(self):
        raw = self._read_body()
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        if path == "/__requests":
            if self.command == "DELETE":
                with self.state.lock:
                    self.state.requests.clear()
                return self._send_json(200, {"cleared": True})
            with self.state.lock:
                return self._send_json(200, list(self.state.requests))
        self._record(raw)
        try:
            query = _flatten_query(urllib.parse.parse_qs(parsed.query, keep_blank_values=True))
            body = {}
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise BzError(32000, "Could not parse the request body as JSON.")
                if not isinstance(body, dict):
                    raise BzError(32000, "The request body must be a JSON object.")
            for prefix in ("/rest.cgi", "/rest"):
                if path == prefix or path.startswith(prefix + "/"):
                    sub = path[len(prefix):] or "/"
                    break
            else:
                raise BzError(32614, "A REST API resource was not found for '%s %s'."
                              % (self.command, path))
            with self.state.lock:
                status, obj = self._route(sub.rstrip("/") or "/", query, body)
            self._send_json(status, obj)
        except BzError as e:
            self._send_error(e)

    # ------------------------------------------------------------ auth
    def _auth_user(self, query, body, required=False):
        """Return the login of the authenticated user, or None.

        Query string credentials win over headers; a body (non-GET) may carry
        them too.  Invalid credentials are an error even on public calls.
        """
        st = self.state

        def pick(*names):
            for src in (query, body):
                for n in names:
                    if n in src and src[n] not in (None, "", []):
                        v = src[n]
                        return v[0] if isinstance(v, list) else v
            return None

        api_key = pick("Bugzilla_api_key", "api_key") or self.headers.get("X-BUGZILLA-API-KEY")
        token = pick("Bugzilla_token", "token") or self.headers.get("X-BUGZILLA-TOKEN")
        login = pick("Bugzilla_login", "login") or self.headers.get("X-BUGZILLA-LOGIN")
        password = pick("Bugzilla_password", "password") or self.headers.get("X-BUGZILLA-PASSWORD")
        user = None
        if api_key is not None:
            if api_key != st.args.api_key:
                raise BzError(306, "The API key you specified is invalid. Please check that "
                                   "you typed it correctly.")
            user = st.args.login
        elif token is not None:
            if token not in st.tokens:
                raise BzError(32000, "The token you specified is invalid or expired. "
                                     "Please log in again.")
            user = st.tokens[token]
        elif login is not None or password is not None:
            if login != st.args.login or password != st.args.password:
                raise BzError(300, "The username or password you entered is not valid.")
            user = login
        if required and user is None:
            raise BzError(410, "You must log in before using this part of Bugzilla.")
        return user

    # ------------------------------------------------------------ routing
    def _route(self, sub, query, body):
        st = self.state
        parts = [urllib.parse.unquote(p) for p in sub.split("/") if p]
        m = self.command if self.command != "HEAD" else "GET"
        # Non-GET: query string parameters override the body (General doc).
        params = dict(body)
        for k, v in query.items():
            params[k] = v if len(v) != 1 else v[0]

        if parts == ["version"] and m == "GET":
            return 200, {"version": st.args.bz_version}
        if parts == ["timezone"] and m == "GET":
            return 200, {"timezone": "+0000"}
        if parts == ["login"] and m == "GET":
            return self._login(query)
        if parts == ["logout"] and m == "GET":
            tok = (query.get("token") or query.get("Bugzilla_token") or [None])[0]
            st.tokens.pop(tok, None)
            return 200, {}
        if parts == ["whoami"] and m == "GET":
            login = self._auth_user(query, {}, required=True)
            d = st.user_detail(login)
            return 200, {"id": d["id"], "real_name": d["real_name"], "nick": d["nick"],
                         "name": d["name"]}
        if parts == ["valid_login"] and m == "GET":
            login = (query.get("login") or [None])[0]
            tok = (query.get("token") or query.get("Bugzilla_token") or [None])[0]
            return 200, bool(login and st.tokens.get(tok) == login)
        if parts and parts[0] == "user" and len(parts) <= 2 and m == "GET":
            user = self._auth_user(query, {})
            return self._users(parts[1] if len(parts) == 2 else None, query, user)
        if parts == ["bug"]:
            if m == "GET":
                self._auth_user(query, {})
                return self._search(query)
            if m == "POST":
                user = self._auth_user(query, body, required=True)
                return self._create(params, user)
        if len(parts) == 2 and parts[0] == "bug" and parts[1] != "comment":
            if m == "GET":
                self._auth_user(query, {})
                return self._get(parts[1], query)
            if m == "PUT":
                user = self._auth_user(query, body, required=True)
                return self._update(parts[1], params, user)
        if len(parts) == 3 and parts[0] == "bug" and parts[2] == "comment":
            if m == "GET":
                self._auth_user(query, {})
                return self._comments(parts[1], query)
            if m == "POST":
                user = self._auth_user(query, body, required=True)
                return self._add_comment(parts[1], params, user)
        if len(parts) == 3 and parts[:2] == ["bug", "comment"] and m == "GET":
            self._auth_user(query, {})
            cid = int(parts[2]) if parts[2].isdigit() else None
            if cid not in st.comments:
                raise BzError(111, "There is no comment with id '%s'." % parts[2])
            return 200, {"bugs": {}, "comments": {str(cid): st.comments[cid]}}
        raise BzError(32614, "A REST API resource was not found for '%s /rest%s'."
                      % (self.command, sub))

    def _users(self, id_or_name, query, user):
        """User.get: logged-out callers may only look users up by name."""
        st = self.state
        ids = list(query.get("ids", []))
        names = list(query.get("names", [])) + list(query.get("name", []))
        if id_or_name is not None:
            (ids if id_or_name.isdigit() else names).append(id_or_name)
        if (ids or query.get("match")) and user is None:
            raise BzError(505, 'Logged-out users cannot use the "ids" or "match" arguments '
                               'to this function to access any user information.')
        by_id = {u["id"]: login for login, u in st.users.items()}
        out = []
        for i in ids:
            if int(i) not in by_id:
                raise BzError(51, "There is no user with the ID '%s'." % i)
            out.append(by_id[int(i)])
        for n in names:
            if n not in st.users:
                raise BzError(51, "There is no user named '%s'. Either you mis-typed the name "
                                  "or that user has not yet registered for a Bugzilla account." % n)
            out.append(n)
        for pat in query.get("match", []):
            out += [login for login, u in st.users.items()
                    if pat.lower() in login.lower() or pat.lower() in u["real_name"].lower()]
        users = []
        for login in dict.fromkeys(out):
            d = st.user_detail(login)
            users.append({"id": d["id"], "real_name": d["real_name"], "email": login,
                          "name": login, "can_login": True, "email_enabled": True,
                          "login_denied_text": ""})
        return 200, {"users": users}

    def _login(self, query):
        st = self.state
        login = (query.get("login") or query.get("Bugzilla_login") or [None])[0]
        password = (query.get("password") or query.get("Bugzilla_password") or [None])[0]
        if not login:
            raise BzError(50, "The function requires a login argument, and that argument "
                              "was not set.")
        if password is None:
            raise BzError(50, "The function requires a password argument, and that "
                              "argument was not set.")
        if login != st.args.login or password != st.args.password:
            raise BzError(300, "The username or password you entered is not valid.")
        uid = st.users[login]["id"]
        token = "%d-%s" % (uid, secrets.token_urlsafe(8))
        st.tokens[token] = login
        return 200, {"id": uid, "token": token}

    def _resolve(self, id_or_alias):
        st = self.state
        s = str(id_or_alias)
        if s.isdigit():
            bid = int(s)
            if bid not in st.bugs:
                raise BzError(101, "Bug #%d does not exist." % bid)
            return bid
        for bid, b in st.bugs.items():
            if s in b["alias"]:
                return bid
        raise BzError(100, "'%s' is not a valid bug number nor an alias to a bug." % s)

    def _render_bug(self, bug, query):
        st = self.state
        out = dict(bug)
        out["assigned_to_detail"] = st.user_detail(bug["assigned_to"])
        out["creator_detail"] = st.user_detail(bug["creator"])
        out["cc_detail"] = [st.user_detail(c) for c in bug["cc"]]
        if bug["qa_contact"]:
            out["qa_contact_detail"] = st.user_detail(bug["qa_contact"])
        include = query.get("include_fields")
        if include and ("comments" in include or "_all" in include or "_extra" in include):
            out["comments"] = [c for c in st.comments.values() if c["bug_id"] == bug["id"]]
        return _filter_fields(out, include, query.get("exclude_fields"))

    def _get(self, id_or_alias, query):
        # Bugzilla 5.0 (bug 1088253, "GET REST calls should allow arbitrary
        # URL parameters to be passed in addition the values in the path"):
        # `ids` in the query string override the id in the path, so
        # /rest/bug/35?ids=35&ids=36 gets both. With `permissive`, a bug that
        # does not exist goes to "faults" instead of failing the call.
        wanted = query.get("ids") or [id_or_alias]
        permissive = (query.get("permissive") or ["0"])[0] not in ("0", "", "false")
        bugs, faults = [], []
        for one in wanted:
            try:
                bid = self._resolve(one)
            except BzError as e:
                if not permissive:
                    raise
                faults.append({"id": one, "faultCode": e.code, "faultString": e.message})
                continue
            bugs.append(self._render_bug(self.state.bugs[bid], query))
        return 200, {"bugs": bugs, "faults": faults}

    def _search(self, query):
        st = self.state
        crit = {k: v for k, v in query.items() if k not in NON_CRITERIA}
        if not crit:
            raise BzError(1000, "You may not search, or create saved searches, without any "
                                "search terms.")
        res = []
        for bid in sorted(st.bugs):
            b = st.bugs[bid]
            ok = True
            for k, vals in crit.items():
                if k in ("id", "ids"):
                    ok = str(bid) in vals
                elif k == "alias":
                    ok = any(v in b["alias"] for v in vals)
                elif k in ("summary", "whiteboard"):
                    ok = any(v.lower() in b[k].lower() for v in vals)
                elif k in ("creator", "reporter"):
                    ok = b["creator"] in vals
                elif k in ("creation_time", "last_change_time"):
                    ok = b[k] >= vals[0]
                elif k == "is_open":
                    ok = str(b["is_open"]).lower() in [v.lower() for v in vals]
                elif k == "quicksearch":
                    ok = any(v.lower() in b["summary"].lower() for v in vals)
                elif k in b:
                    have = b[k]
                    if isinstance(have, list):
                        ok = any(v in [str(x) for x in have] for v in vals)
                    else:
                        ok = any(str(have).lower() == v.lower() for v in vals)
                else:
                    ok = True  # unknown criteria are ignored, as for advanced-search fields
                if not ok:
                    break
            if ok:
                res.append(b)
        offset = int((query.get("offset") or ["0"])[0] or 0)
        limit = int((query.get("limit") or ["0"])[0] or 0)
        res = res[offset:offset + limit] if limit else res[offset:]
        if (query.get("count_only") or ["0"])[0] in ("1", "true"):
            return 200, {"bug_count": len(res)}
        return 200, {"bugs": [self._render_bug(b, query) for b in res]}

    def _create(self, p, user):
        st = self.state
        for field, code, msg in (("product", 106, "You must select/enter a product."),
                                 ("component", 105, "You must select/enter a component."),
                                 ("summary", 107, "You must enter a summary for this bug."),
                                 ("version", 50, "You must select/enter a version.")):
            if not p.get(field):
                raise BzError(code, msg)
        for a in _listify(p.get("alias")):
            if any(a in b["alias"] for b in st.bugs.values()):
                raise BzError(103, "%s has already been taken as an alias by another bug." % a)
        if p.get("status") in CLOSED_STATUSES and not p.get("resolution"):
            raise BzError(121, "A valid resolution is required to mark bugs as %s." % p["status"])
        bid = st.new_bug(p, user, st.now())
        return 201, {"id": bid}

    def _update(self, id_or_alias, p, user):
        st = self.state
        ids = [self._resolve(id_or_alias)]
        for extra in _listify(p.get("ids")):
            bid = self._resolve(extra)
            if bid not in ids:
                ids.append(bid)
        when = st.now()
        out = []
        for bid in ids:
            b = st.bugs[bid]
            changes = {}
            new_status = p.get("status")
            if new_status and new_status in CLOSED_STATUSES and not (p.get("resolution") or b["resolution"]):
                raise BzError(121, "A valid resolution is required to mark bugs as %s." % new_status)
            if "resolution" in p and (new_status or b["status"]) in OPEN_STATUSES and p["resolution"]:
                raise BzError(122, "You cannot set a resolution for open bugs.")
            for f in SCALAR_FIELDS:
                if f in p and f not in ("resolution",):
                    if b.get(f) != p[f]:
                        changes[f] = {"added": "" if p[f] is None else str(p[f]),
                                      "removed": "" if b.get(f) is None else str(b.get(f))}
                        b[f] = p[f]
            if "resolution" in p and b["resolution"] != p["resolution"]:
                changes["resolution"] = {"added": p["resolution"] or "", "removed": b["resolution"]}
                b["resolution"] = p["resolution"] or ""
            if new_status in OPEN_STATUSES and b["resolution"]:
                changes["resolution"] = {"added": "", "removed": b["resolution"]}
                b["resolution"] = ""
            for f in LIST_OBJECT_FIELDS:
                if f not in p:
                    continue
                spec = p[f]
                if not isinstance(spec, dict):
                    spec = {"set": _listify(spec)}
                before = list(b[f])
                conv = int if f in ("blocks", "depends_on", "regressed_by", "regressions") else str
                if "set" in spec:
                    after = [conv(x) for x in _listify(spec["set"])]
                else:
                    after = [x for x in before if x not in [conv(y) for y in _listify(spec.get("remove"))]]
                    after += [conv(x) for x in _listify(spec.get("add")) if conv(x) not in after]
                added = [x for x in after if x not in before]
                removed = [x for x in before if x not in after]
                if added or removed:
                    changes[f] = {"added": ", ".join(map(str, added)),
                                  "removed": ", ".join(map(str, removed))}
                b[f] = after
            b["is_open"] = b["status"] not in CLOSED_STATUSES
            b["is_confirmed"] = b["is_confirmed"] or b["status"] != "UNCONFIRMED"
            comment = p.get("comment")
            added_comment = False
            if isinstance(comment, dict):
                text = comment.get("body", comment.get("comment"))
                if text:
                    st.add_comment(bid, text, user, when, comment.get("is_private", False))
                    added_comment = True
            elif isinstance(comment, str) and comment:
                st.add_comment(bid, comment, user, when)
                added_comment = True
            if changes or added_comment:
                b["last_change_time"] = when
            out.append({"id": bid, "alias": list(b["alias"]),
                        "last_change_time": b["last_change_time"], "changes": changes})
        return 200, {"bugs": out}

    def _comments(self, id_or_alias, query):
        st = self.state
        bid = self._resolve(id_or_alias)
        since = (query.get("new_since") or [None])[0]
        cs = [c for c in st.comments.values() if c["bug_id"] == bid
              and (since is None or c["creation_time"] > since)]
        cs.sort(key=lambda c: c["count"])
        cs = [_filter_fields(c, query.get("include_fields"), query.get("exclude_fields"))
              for c in cs]
        return 200, {"bugs": {str(bid): {"comments": cs}}, "comments": {}}

    def _add_comment(self, id_or_alias, p, user):
        st = self.state
        bid = self._resolve(id_or_alias)
        text = p.get("comment")
        if not isinstance(text, str) or not text.strip():
            raise BzError(50, "The function requires a comment argument, and that argument "
                              "was not set.")
        when = st.now()
        cid = st.add_comment(bid, text, user, when, p.get("is_private", False))
        st.bugs[bid]["last_change_time"] = when
        return 201, {"id": cid}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--api-key", default="test-api-key")
    ap.add_argument("--login", default="admin@example.com",
                    help="the one account: owner of --api-key and accepted by /rest/login")
    ap.add_argument("--password", default="password")
    ap.add_argument("--bz-version", default="5.0.4", help="value of GET /rest/version")
    ap.add_argument("--fixed-time", default=None,
                    help="use this UTC datetime (YYYY-MM-DDTHH:MM:SSZ) for every change")
    ap.add_argument("--no-seed", action="store_true", help="start with no bugs")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
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
