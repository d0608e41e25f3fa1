#!/usr/bin/env python3
"""Stand-in WordPress REST API (wp/v2 posts, categories, users/me), stdlib only.

Written from WordPress's public documentation, not from any gateway config:
  * REST API Handbook: "Posts" reference (schema, List/Create/Retrieve/Update/
    Delete a Post, ?force=true), "Categories" reference, "Users" reference
    (/users/me), "Pagination" (per_page, page, X-WP-Total, X-WP-TotalPages),
    "Global Parameters" (context, _fields), "Discovery" (the /wp-json/ index)
  * REST API Handbook "Authentication" and the "Application Passwords"
    integration guide (HTTP Basic auth with user + application password;
    spaces in the password are ignored)
  * Error shape {"code": "rest_...", "message": ..., "data": {"status": N}} and
    the codes used by WP_REST_Posts_Controller / WP_REST_Users_Controller
    (rest_post_invalid_id 404, rest_cannot_create / rest_cannot_edit /
    rest_cannot_delete / rest_not_logged_in / rest_forbidden_context 401 when
    not logged in, rest_already_trashed 410, rest_no_route 404) and by
    wp_authenticate_application_password (incorrect_password,
    invalid_username, invalid_email -> 401).

Faithful details worth knowing:
  * "raw" members (title.raw, content.raw, excerpt.raw, guid.raw) and edit-only
    fields are present only with context=edit (which needs auth); responses
    to POST/PUT/PATCH/DELETE are rendered in the edit context, as WordPress does.
  * Dates are site-local "YYYY-MM-DDTHH:MM:SS" (no zone); the site runs in UTC,
    so date == date_gmt.
  * Bad Basic credentials fail every request with 401, even public GETs.
  * Create answers 201 with a Location header; DELETE without force moves the
    post to the trash (status "trash"); with force=true it answers
    {"deleted": true, "previous": {...}}.

Usage:
    python3 wordpress_rest.py --port 0 --user admin --password "abcd efgh ijkl mnop qrst uvwx"
                              [--site-name NAME] [--site-url URL] [--no-seed]
First stdout line: "PORT <n>" (flushed).  Test helpers (not WordPress):
    GET /__requests -> JSON list of received requests; DELETE /__requests clears it.
Routes are served under /wp-json/... and also via ?rest_route=/... .
"""

import argparse
import base64
import datetime as _dt
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POST_STATUSES = ["publish", "future", "draft", "pending", "private"]


class WpError(Exception):
    def __init__(self, status, code, message, **data):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.data = dict(status=status, **data)

    def body(self):
        return {"code": self.code, "message": self.message, "data": self.data}


def _now():
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _autop(text):
    text = (text or "").strip()
    if not text:
        return ""
    if text.startswith("<!-- wp:") or re.match(r"^\s*<(p|div|h\d|ul|ol|figure)\b", text):
        return text + "\n"
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>%s</p>\n" % p.replace("\n", "<br />\n") for p in paras)


def _auto_excerpt(content):
    words = re.sub(r"<[^>]+>", "", content or "").split()
    if not words:
        return ""
    more = " [&hellip;]" if len(words) > 55 else ""
    return "<p>%s%s</p>\n" % (" ".join(words[:55]), more)


def _slugify(s):
    s = re.sub(r"<[^>]+>", "", s or "").lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.requests = []
        self.user = {"id": 1, "username": args.user, "name": args.display_name,
                     "email": args.email, "slug": _slugify(args.user) or "admin"}
        self.categories = {}
        self.posts = {}
        self.next_post = 1
        self.next_term = 1
        self.add_category("Uncategorized", "uncategorized", "")
        if not args.no_seed:
            news = self.add_category("News", "news", "Announcements")
            rel = self.add_category("Releases", "releases", "Release notes", parent=news)
            self.add_post({"title": "Hello world!", "status": "publish",
                           "content": "Welcome to WordPress. This is your first post.",
                           "categories": [1]}, when="2026-01-02T03:04:05")
            self.add_post({"title": "Release 1.0", "status": "publish",
                           "content": "Version 1.0 is out.\n\nUpgrade now.",
                           "excerpt": "Version 1.0 is out.", "categories": [news, rel]},
                          when="2026-01-03T04:05:06")
            self.add_post({"title": "Draft ideas", "status": "draft",
                           "content": "Not ready yet.", "categories": [1]},
                          when="2026-01-04T05:06:07")

    @property
    def url(self):
        return self.args.site_url.rstrip("/")

    def add_category(self, name, slug, description, parent=0):
        tid = self.next_term
        self.next_term += 1
        self.categories[tid] = {"id": tid, "name": name, "slug": slug or _slugify(name),
                                "description": description, "parent": parent}
        return tid

    def unique_slug(self, slug, pid):
        base, n, s = slug, 2, slug
        while any(p["slug"] == s and p["id"] != pid for p in self.posts.values()):
            s = "%s-%d" % (base, n)
            n += 1
        return s

    def add_post(self, fields, when=None):
        pid = self.next_post
        when = when or _now()
        post = {"id": pid, "date": when, "date_gmt": when, "modified": when,
                "modified_gmt": when, "slug": "", "status": "draft",
                "title": "", "content": "", "excerpt": "", "author": self.user["id"],
                "categories": [1], "tags": [], "sticky": False, "format": "standard",
                "comment_status": "open", "ping_status": "open", "password": ""}
        self.apply(post, fields, creating=True)  # raises before anything is stored
        post["modified"] = post["modified_gmt"] = when
        self.posts[pid] = post
        self.next_post += 1
        return pid

    def apply(self, post, f, creating=False):
        def text(v):
            if isinstance(v, dict):
                return v.get("raw", v.get("rendered", ""))
            return "" if v is None else str(v)

        for k in ("title", "content", "excerpt"):
            if k in f:
                post[k] = text(f[k])
        if "status" in f:
            if f["status"] not in POST_STATUSES:
                raise WpError(400, "rest_invalid_param", "Invalid parameter(s): status",
                              params={"status": "status is not one of %s." % ", ".join(POST_STATUSES)},
                              details={})
            post["status"] = f["status"]
        for k in ("date", "date_gmt"):
            if f.get(k):
                v = str(f[k]).rstrip("Z")[:19]
                post["date"] = post["date_gmt"] = v
        for k in ("sticky",):
            if k in f:
                post[k] = f[k] in (True, "true", "1", 1)
        for k in ("format", "comment_status", "ping_status", "password"):
            if k in f:
                post[k] = str(f[k])
        if "author" in f:
            post["author"] = int(f["author"])
        for k in ("categories", "tags"):
            if k in f:
                v = f[k]
                if isinstance(v, str):
                    v = [x for x in v.split(",") if x.strip()]
                ids = []
                for x in v or []:
                    try:
                        ids.append(int(x))
                    except (TypeError, ValueError):
                        raise WpError(400, "rest_invalid_param", "Invalid parameter(s): %s" % k,
                                      params={k: "%s[0] is not of type integer." % k}, details={})
                if k == "categories":
                    for i in ids:
                        if i not in self.categories:
                            raise WpError(400, "rest_invalid_term_id", "Invalid term ID.")
                post[k] = ids
        if creating and not (post["title"] or post["content"] or post["excerpt"]):
            raise WpError(400, "empty_content", "Content, title, and excerpt are empty.")
        if "slug" in f and f["slug"]:
            post["slug"] = self.unique_slug(_slugify(f["slug"]), post["id"])
        elif not post["slug"] and post["status"] in ("publish", "future", "private"):
            post["slug"] = self.unique_slug(_slugify(post["title"]) or str(post["id"]), post["id"])
        if not post["categories"]:
            post["categories"] = [1]

    def render_post(self, p, context):
        link = "%s/?p=%d" % (self.url, p["id"])
        out = {
            "id": p["id"], "date": p["date"], "date_gmt": p["date_gmt"],
            "guid": {"rendered": link}, "modified": p["modified"],
            "modified_gmt": p["modified_gmt"], "slug": p["slug"], "status": p["status"],
            "type": "post", "link": link,
            "title": {"rendered": p["title"]},
            "content": {"rendered": _autop(p["content"]), "protected": bool(p["password"])},
            "excerpt": {"rendered": _autop(p["excerpt"]) if p["excerpt"] else _auto_excerpt(p["content"]),
                        "protected": bool(p["password"])},
            "author": p["author"], "featured_media": 0, "comment_status": p["comment_status"],
            "ping_status": p["ping_status"], "sticky": p["sticky"], "template": "",
            "format": p["format"], "meta": {"footnotes": ""}, "categories": list(p["categories"]),
            "tags": list(p["tags"]),
            "_links": {"self": [{"href": "%s/wp-json/wp/v2/posts/%d" % (self.url, p["id"])}],
                       "collection": [{"href": "%s/wp-json/wp/v2/posts" % self.url}]},
        }
        if context == "edit":
            out["guid"]["raw"] = link
            out["title"]["raw"] = p["title"]
            out["content"]["raw"] = p["content"]
            out["content"]["block_version"] = 1 if "<!-- wp:" in p["content"] else 0
            out["excerpt"]["raw"] = p["excerpt"]
            out["password"] = p["password"]
            out["permalink_template"] = "%s/?p=%d" % (self.url, p["id"])
            out["generated_slug"] = _slugify(p["title"])
        elif context == "embed":
            keep = ("id", "date", "slug", "type", "link", "title", "excerpt", "author", "_links")
            out = {k: v for k, v in out.items() if k in keep}
        return out

    def render_category(self, c, context):
        count = sum(1 for p in self.posts.values()
                    if c["id"] in p["categories"] and p["status"] == "publish")
        out = {"id": c["id"], "count": count, "description": c["description"],
               "link": "%s/?cat=%d" % (self.url, c["id"]), "name": c["name"],
               "slug": c["slug"], "taxonomy": "category", "parent": c["parent"], "meta": [],
               "_links": {"self": [{"href": "%s/wp-json/wp/v2/categories/%d" % (self.url, c["id"])}]}}
        if context == "embed":
            out = {k: out[k] for k in ("id", "link", "name", "slug", "taxonomy", "_links")}
        return out

    def render_me(self, context):
        u = self.user
        h = "0" * 32
        out = {"id": u["id"], "name": u["name"], "url": "", "description": "",
               "link": "%s/?author=%d" % (self.url, u["id"]), "slug": u["slug"],
               "avatar_urls": {s: "https://secure.gravatar.com/avatar/%s?s=%s&d=mm&r=g" % (h, s)
                               for s in ("24", "48", "96")},
               "meta": [], "_links": {"self": [{"href": "%s/wp-json/wp/v2/users/%d" % (self.url, u["id"])}]}}
        if context == "edit":
            out.update({"username": u["username"], "first_name": "", "last_name": "",
                        "email": u["email"], "locale": "en_US", "nickname": u["username"],
                        "registered_date": "2026-01-01T00:00:00+00:00",
                        "roles": ["administrator"],
                        "capabilities": {"administrator": True, "edit_posts": True,
                                         "publish_posts": True, "delete_posts": True},
                        "extra_capabilities": {"administrator": True}})
        return out


def _fields_filter(obj, fields):
    if not fields:
        return obj
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    out = {}
    for w in wanted:
        top, _, sub = w.partition(".")
        if top not in obj:
            continue
        if sub and isinstance(obj[top], dict):
            out.setdefault(top, {})
            if sub in obj[top]:
                out[top][sub] = obj[top][sub]
        else:
            out[top] = obj[top]
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WordPressStandin/1.0"
    state = None

    def log_message(self, fmt, *args):
        if self.state.args.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def _send(self, status, obj, headers=None):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _record(self, raw):
        parsed = urllib.parse.urlsplit(self.path)
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        with self.state.lock:
            self.state.requests.append({
                "method": self.command, "path": parsed.path, "raw_query": parsed.query,
                "query": urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "http_version": self.request_version, "body": body})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = lambda self: self._dispatch()

    def _dispatch(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path == "/__requests":
            with self.state.lock:
                if self.command == "DELETE":
                    self.state.requests.clear()
                    return self._send(200, {"cleared": True})
                return self._send(200, list(self.state.requests))
        self._record(raw)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        route = None
        if parsed.path.startswith("/wp-json"):
            route = parsed.path[len("/wp-json"):] or "/"
        elif "rest_route" in query:
            route = query.pop("rest_route") or "/"
        try:
            if route is None:
                raise WpError(404, "rest_no_route",
                              "No route was found matching the URL and request method.")
            body = self._parse_body(raw)
            with self.state.lock:
                user = self._authenticate()
                status, obj, headers = self._route(route.rstrip("/") or "/", query, body, user)
            if isinstance(obj, (dict, list)) and query.get("_fields"):
                if isinstance(obj, list):
                    obj = [_fields_filter(o, query["_fields"]) for o in obj]
                else:
                    obj = _fields_filter(obj, query["_fields"])
            self._send(status, obj, headers)
        except WpError as e:
            self._send(e.status, e.body())

    def _parse_body(self, raw):
        if not raw:
            return {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "application/x-www-form-urlencoded" in ctype:
            out = {}
            for k, v in urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True):
                if k.endswith("[]"):
                    out.setdefault(k[:-2], []).append(v)
                else:
                    out[k] = v
            return out
        try:
            body = json.loads(raw)
        except ValueError as e:
            raise WpError(400, "rest_invalid_json", "Invalid JSON body passed.",
                          json_error_code=4, json_error_message=str(e))
        return body if isinstance(body, dict) else {}

    def _authenticate(self):
        st = self.state
        h = self.headers.get("Authorization")
        if not h or not h.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(h.split(None, 1)[1]).decode("utf-8").partition(":")
        except Exception:
            return None
        if user not in (st.user["username"], st.user["email"]):
            if "@" in user:
                raise WpError(401, "invalid_email", "<strong>Error:</strong> Unknown email "
                              "address. Check again or try your username.")
            raise WpError(401, "invalid_username", "<strong>Error:</strong> Unknown username. "
                          "Check again or try your email address.")
        norm = lambda s: re.sub(r"[^a-z\d]", "", s, flags=re.I)
        if norm(pw) != norm(st.args.password):
            raise WpError(401, "incorrect_password",
                          "The provided password is an invalid application password.")
        return st.user

    def _route(self, route, q, body, user):
        st = self.state
        m = self.command if self.command != "HEAD" else "GET"
        ctx = q.get("context", "view")
        if ctx not in ("view", "embed", "edit"):
            raise WpError(400, "rest_invalid_param", "Invalid parameter(s): context",
                          params={"context": "context is not one of view, embed, and edit."},
                          details={})
        params = dict(body)
        params.update({k: v for k, v in q.items() if k not in ("context", "_fields", "force")})

        if route == "/" and m == "GET":
            return 200, self._index(), {}
        if route == "/wp/v2/posts":
            if m == "GET":
                if ctx == "edit" and not user:
                    raise WpError(401, "rest_forbidden_context",
                                  "Sorry, you are not allowed to edit posts in this post type.")
                return self._list_posts(q, ctx, user)
            if m == "POST":
                if not user:
                    raise WpError(401, "rest_cannot_create",
                                  "Sorry, you are not allowed to create posts as this user.")
                if "id" in body:
                    raise WpError(400, "rest_post_exists", "Cannot create existing post.")
                pid = st.add_post(params)
                return 201, st.render_post(st.posts[pid], "edit"), {
                    "Location": "%s/wp-json/wp/v2/posts/%d" % (st.url, pid)}
        mo = re.fullmatch(r"/wp/v2/posts/(\d+)", route)
        if mo:
            pid = int(mo.group(1))
            post = st.posts.get(pid)
            if m == "GET":
                if post is None:
                    raise WpError(404, "rest_post_invalid_id", "Invalid post ID.")
                if (post["status"] != "publish" or ctx == "edit") and not user:
                    if ctx == "edit":
                        raise WpError(401, "rest_forbidden_context",
                                      "Sorry, you are not allowed to edit this post.")
                    raise WpError(401, "rest_forbidden", "Sorry, you are not allowed to do that.")
                return 200, st.render_post(post, ctx), {}
            if m in ("POST", "PUT", "PATCH"):
                if post is None:
                    raise WpError(404, "rest_post_invalid_id", "Invalid post ID.")
                if not user:
                    raise WpError(401, "rest_cannot_edit",
                                  "Sorry, you are not allowed to edit this post.")
                updated = dict(post)
                st.apply(updated, params)  # validate on a copy: no partial updates
                updated["modified"] = updated["modified_gmt"] = _now()
                post.update(updated)
                return 200, st.render_post(post, "edit"), {}
            if m == "DELETE":
                if post is None:
                    raise WpError(404, "rest_post_invalid_id", "Invalid post ID.")
                if not user:
                    raise WpError(401, "rest_cannot_delete",
                                  "Sorry, you are not allowed to delete this post.")
                force = str(q.get("force", body.get("force", "false"))).lower() in ("true", "1")
                if force:
                    previous = st.render_post(post, "edit")
                    del st.posts[pid]
                    return 200, {"deleted": True, "previous": previous}, {}
                if post["status"] == "trash":
                    raise WpError(410, "rest_already_trashed", "The post has already been deleted.")
                post["status"] = "trash"
                post["modified"] = post["modified_gmt"] = _now()
                return 200, st.render_post(post, "edit"), {}
        if route == "/wp/v2/categories":
            if m == "GET":
                return self._list_categories(q, ctx)
            if m == "POST":
                if not user:
                    raise WpError(401, "rest_cannot_create",
                                  "Sorry, you are not allowed to create terms in this taxonomy.")
                name = (params.get("name") or "").strip()
                if not name:
                    raise WpError(400, "rest_missing_callback_param",
                                  "Missing parameter(s): name", params=["name"])
                for c in st.categories.values():
                    if c["name"].lower() == name.lower() and c["parent"] == int(params.get("parent") or 0):
                        raise WpError(400, "term_exists", "A term with the name provided already "
                                      "exists in this taxonomy.", term_id=c["id"])
                tid = st.add_category(name, _slugify(params.get("slug") or name),
                                      params.get("description", ""), int(params.get("parent") or 0))
                return 201, st.render_category(st.categories[tid], "view"), {
                    "Location": "%s/wp-json/wp/v2/categories/%d" % (st.url, tid)}
        mo = re.fullmatch(r"/wp/v2/categories/(\d+)", route)
        if mo and m == "GET":
            c = st.categories.get(int(mo.group(1)))
            if c is None:
                raise WpError(404, "rest_term_invalid", "Term does not exist.")
            return 200, st.render_category(c, ctx), {}
        if route == "/wp/v2/users/me" and m == "GET":
            if not user:
                raise WpError(401, "rest_not_logged_in", "You are not currently logged in.")
            return 200, st.render_me(ctx), {}
        raise WpError(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _page_args(self, q):
        try:
            per_page = int(q.get("per_page", 10))
            page = int(q.get("page", 1))
        except ValueError:
            raise WpError(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                          params={"per_page": "per_page is not of type integer."}, details={})
        if not 1 <= per_page <= 100:
            raise WpError(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                          params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
                          details={})
        if page < 1:
            raise WpError(400, "rest_invalid_param", "Invalid parameter(s): page",
                          params={"page": "page must be greater than or equal to 1"}, details={})
        return per_page, page

    def _paginate(self, items, q, invalid_page_code):
        per_page, page = self._page_args(q)
        total = len(items)
        pages = (total + per_page - 1) // per_page
        if page > 1 and page > pages:
            raise WpError(400, invalid_page_code, "The page number requested is larger than "
                          "the number of pages available.")
        return items[(page - 1) * per_page: page * per_page], {
            "X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}

    def _list_posts(self, q, ctx, user):
        st = self.state
        statuses = [s for s in q.get("status", "publish").split(",") if s]
        if statuses != ["publish"] and not user:
            raise WpError(401, "rest_forbidden_status", "Status is forbidden.")
        allowed = POST_STATUSES + ["trash", "any"]
        for s in statuses:
            if s not in allowed:
                raise WpError(400, "rest_invalid_param", "Invalid parameter(s): status",
                              params={"status": "status[0] is not one of %s." % ", ".join(allowed)},
                              details={})
        items = [p for p in st.posts.values()
                 if ("any" in statuses and p["status"] != "trash") or p["status"] in statuses]
        if q.get("categories"):
            cats = {int(x) for x in q["categories"].split(",") if x}
            items = [p for p in items if cats & set(p["categories"])]
        if q.get("author"):
            authors = {int(x) for x in q["author"].split(",") if x}
            items = [p for p in items if p["author"] in authors]
        if q.get("include"):
            inc = {int(x) for x in q["include"].split(",") if x}
            items = [p for p in items if p["id"] in inc]
        if q.get("slug"):
            slugs = set(q["slug"].split(","))
            items = [p for p in items if p["slug"] in slugs]
        if q.get("search"):
            s = q["search"].lower()
            items = [p for p in items if s in p["title"].lower() or s in p["content"].lower()
                     or s in p["excerpt"].lower()]
        orderby = q.get("orderby", "date")
        key = {"date": lambda p: (p["date"], p["id"]), "id": lambda p: p["id"],
               "title": lambda p: p["title"].lower(), "modified": lambda p: p["modified"],
               "slug": lambda p: p["slug"], "include": lambda p: p["id"]}.get(orderby)
        if key is None:
            raise WpError(400, "rest_invalid_param", "Invalid parameter(s): orderby",
                          params={"orderby": "orderby is not one of author, date, id, include, "
                                             "modified, parent, relevance, slug, include_slugs, title."},
                          details={})
        items.sort(key=key, reverse=q.get("order", "desc") == "desc")
        page, headers = self._paginate(items, q, "rest_post_invalid_page_number")
        return 200, [st.render_post(p, ctx) for p in page], headers

    def _list_categories(self, q, ctx):
        st = self.state
        items = list(st.categories.values())
        if q.get("search"):
            s = q["search"].lower()
            items = [c for c in items if s in c["name"].lower() or s in c["slug"]]
        if q.get("include"):
            inc = {int(x) for x in q["include"].split(",") if x}
            items = [c for c in items if c["id"] in inc]
        if q.get("parent"):
            items = [c for c in items if c["parent"] == int(q["parent"])]
        if q.get("post"):
            post = st.posts.get(int(q["post"]))
            items = [c for c in items if post and c["id"] in post["categories"]]
        rendered = [st.render_category(c, ctx) for c in items]
        if q.get("hide_empty", "false").lower() in ("true", "1"):
            rendered = [c for c in rendered if c["count"] > 0]
        orderby = q.get("orderby", "name")
        keyf = {"id": lambda c: c["id"], "name": lambda c: c["name"].lower(),
                "slug": lambda c: c["slug"], "count": lambda c: c["count"]}.get(orderby, lambda c: c["name"].lower())
        rendered.sort(key=keyf, reverse=q.get("order", "asc") == "desc")
        page, headers = self._paginate(rendered, q, "rest_term_invalid_page_number")
        return 200, page, headers

    def _index(self):
        st = self.state
        return {
            "name": st.args.site_name, "description": "Just another WordPress site",
            "url": st.url, "home": st.url, "gmt_offset": 0, "timezone_string": "UTC",
            "namespaces": ["oembed/1.0", "wp/v2", "wp-site-health/v1"],
            "authentication": {"application-passwords": {"endpoints": {
                "authorization": "%s/wp-admin/authorize-application.php" % st.url}}},
            "routes": {
                "/wp/v2/posts": {"namespace": "wp/v2", "methods": ["GET", "POST"]},
                "/wp/v2/posts/(?P<id>[\\d]+)": {"namespace": "wp/v2",
                                                "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                "/wp/v2/categories": {"namespace": "wp/v2", "methods": ["GET", "POST"]},
                "/wp/v2/categories/(?P<id>[\\d]+)": {"namespace": "wp/v2", "methods": ["GET"]},
                "/wp/v2/users/me": {"namespace": "wp/v2", "methods": ["GET"]},
            },
            "site_logo": 0, "site_icon": 0, "site_icon_url": "",
            "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
        }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--email", default="admin@example.com")
    ap.add_argument("--display-name", default="Site Admin")
    ap.add_argument("--password", default="abcd efgh ijkl mnop qrst uvwx",
                    help="the user's application password (spaces are ignored)")
    ap.add_argument("--site-name", default="Example Site")
    ap.add_argument("--site-url", default=None, help="default http://HOST:PORT")
    ap.add_argument("--no-seed", action="store_true",
                    help="start with no posts and only the Uncategorized category")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    if not args.site_url:
        args.site_url = "http://%s:%d" % (args.host, srv.server_address[1])
    Handler.state = State(args)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
