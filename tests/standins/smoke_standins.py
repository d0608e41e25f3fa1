#!/usr/bin/env python3
"""Smoke test for the stand-in REST services in this folder (stdlib only).

    python3 tests/standins/smoke_standins.py        # exits non-zero on failure

Starts each stand-in on an ephemeral port, hits every endpoint, checks status
codes and bodies, then stops it (by PID).  Prints "N passed, N failed".
"""

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    if cond:
        RESULTS["passed"] += 1
    else:
        RESULTS["failed"] += 1
        print("FAIL %s %s" % (name, detail))


class Server:
    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--port", "0", *args],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("PORT "), line
        self.base = "http://127.0.0.1:%s" % line.split()[1]

    def req(self, method, path, body=None, headers=None, form=False):
        data = None
        h = dict(headers or {})
        if body is not None:
            if form:
                data = body.encode()
                h.setdefault("Content-Type", "application/x-www-form-urlencoded")
            else:
                data = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
        h.setdefault("Accept", "application/json")
        r = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null"), dict(resp.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), dict(e.headers)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def smoke_bugzilla():
    s = Server("bugzilla_rest.py", "--api-key", "KEY", "--fixed-time", "2026-02-03T04:05:06Z")
    K = {"X-BUGZILLA-API-KEY": "KEY"}
    try:
        st, b, _ = s.req("GET", "/rest/version")
        check("bz version", st == 200 and b == {"version": "5.0.4"}, b)
        st, b, _ = s.req("GET", "/rest/login?login=admin@example.com&password=password")
        check("bz login", st == 200 and b["id"] == 1 and b["token"].startswith("1-"), b)
        token = b["token"]
        st, b, _ = s.req("GET", "/rest/login?login=admin@example.com&password=nope")
        check("bz bad login", st == 401 and b["code"] == 300 and b["error"] is True, b)
        st, b, _ = s.req("GET", "/rest/bug/1")
        bug = b["bugs"][0]
        check("bz get", st == 200 and b["faults"] == [] and bug["id"] == 1
              and bug["creation_time"] == "2026-01-02T03:04:05Z" and bug["is_open"] is True
              and bug["assigned_to_detail"]["name"] == "dev@example.com", b)
        st, b, _ = s.req("GET", "/rest/bug/slow-search?include_fields=id,summary")
        check("bz get alias+include", st == 200 and b["bugs"] == [{"id": 2, "summary": "Slow response on search"}], b)
        st, b, _ = s.req("GET", "/rest/bug/99")
        check("bz 404", st == 404 and b == {"error": True, "code": 101, "message": "Bug #99 does not exist.",
                                            "documentation": b.get("documentation")}, b)
        st, b, _ = s.req("GET", "/rest/bug/nosuchalias")
        check("bz bad alias", st == 400 and b["code"] == 100, b)
        st, b, _ = s.req("GET", "/rest/bug?product=TestProduct")
        check("bz search product", st == 200 and [x["id"] for x in b["bugs"]] == [1, 2], b)
        st, b, _ = s.req("GET", "/rest/bug?id=1&id=3")
        check("bz search ids repeated", [x["id"] for x in b["bugs"]] == [1, 3], b)
        st, b, _ = s.req("GET", "/rest/bug?id=2,3&status=RESOLVED")
        check("bz search csv+status", [x["id"] for x in b["bugs"]] == [3], b)
        st, b, _ = s.req("GET", "/rest/bug?product=TestProduct&limit=1&offset=1")
        check("bz search limit", [x["id"] for x in b["bugs"]] == [2], b)
        st, b, _ = s.req("GET", "/rest/bug")
        check("bz search no terms", st == 400 and b["code"] == 1000, b)
        st, b, _ = s.req("GET", "/rest/bug/1/comment")
        cs = b["bugs"]["1"]["comments"]
        check("bz comments", st == 200 and b["comments"] == {} and [c["count"] for c in cs] == [0, 1]
              and cs[0]["time"] == "2026-01-02T03:04:05Z", b)
        st, b, _ = s.req("GET", "/rest/bug/99/comment")
        check("bz comments 404", st == 404 and b["code"] == 101, b)
        new = {"product": "TestProduct", "component": "TestComponent", "version": "1.0",
               "summary": "Created via REST", "description": "body", "op_sys": "All"}
        st, b, _ = s.req("POST", "/rest/bug", new)
        check("bz create unauth", st == 401 and b["code"] == 410
              and b["message"] == "You must log in before using this part of Bugzilla.", b)
        st, b, _ = s.req("POST", "/rest/bug", new, headers={"X-BUGZILLA-API-KEY": "WRONG"})
        check("bz create bad key", st == 400 and b["code"] == 306, b)
        st, b, _ = s.req("POST", "/rest/bug", new, headers=K)
        check("bz create", st == 201 and b == {"id": 4}, b)
        st, b, _ = s.req("POST", "/rest/bug", dict(new, summary=""), headers=K)
        check("bz create no summary", st == 400 and b["code"] == 107, b)
        st, b, _ = s.req("GET", "/rest/bug/4")
        check("bz created fields", b["bugs"][0]["creator"] == "admin@example.com"
              and b["bugs"][0]["creation_time"] == "2026-02-03T04:05:06Z", b)
        st, b, _ = s.req("PUT", "/rest/bug/4", {"status": "IN_PROGRESS"})
        check("bz update unauth", st == 401 and b["code"] == 410, b)
        st, b, _ = s.req("PUT", "/rest/bug/4?Bugzilla_api_key=KEY",
                         {"status": "RESOLVED", "resolution": "FIXED", "comment": {"body": "done"},
                          "cc": {"add": ["x@example.com"]}})
        ch = b["bugs"][0]["changes"] if st == 200 else {}
        check("bz update (query key)", st == 200 and b["bugs"][0]["id"] == 4
              and ch.get("status") == {"added": "RESOLVED", "removed": "CONFIRMED"}
              and ch.get("resolution") == {"added": "FIXED", "removed": ""}
              and ch.get("cc") == {"added": "x@example.com", "removed": ""}, b)
        st, b, _ = s.req("PUT", "/rest/bug/4", {"status": "RESOLVED"}, headers={"X-BUGZILLA-TOKEN": token})
        check("bz update token no change", st == 200 and b["bugs"][0]["changes"] == {}, b)
        st, b, _ = s.req("PUT", "/rest/bug/1", {"status": "RESOLVED"}, headers=K)
        check("bz update missing resolution", st == 400 and b["code"] == 121, b)
        st, b, _ = s.req("PUT", "/rest/bug/99", {"status": "RESOLVED"}, headers=K)
        check("bz update 404", st == 404 and b["code"] == 101, b)
        st, b, _ = s.req("GET", "/rest/bug/4/comment")
        check("bz comment after update", [c["text"] for c in b["bugs"]["4"]["comments"]] == ["body", "done"], b)
        st, b, _ = s.req("POST", "/rest/bug/4/comment", {"comment": "more"}, headers=K)
        check("bz add comment", st == 201 and isinstance(b["id"], int), b)
        st, b, _ = s.req("GET", "/rest/whoami", headers=K)
        check("bz whoami", st == 200 and b["name"] == "admin@example.com", b)
        st, b, _ = s.req("GET", "/rest/user?ids=1")
        check("bz user ids logged out", st == 401 and b["code"] == 505, b)
        st, b, _ = s.req("GET", "/rest/user?ids=1", headers=K)
        check("bz user ids", st == 200 and b["users"][0]["name"] == "admin@example.com", b)
        st, b, _ = s.req("GET", "/rest/valid_login?login=admin@example.com&token=" + token)
        check("bz valid_login", st == 200 and b is True, b)
        st, b, _ = s.req("GET", "/rest/nope")
        check("bz unknown route", st == 404 and b["code"] == 32614, b)
        st, b, _ = s.req("GET", "/rest.cgi/bug/1")
        check("bz rest.cgi prefix", st == 200 and b["bugs"][0]["id"] == 1, b)
        st, b, _ = s.req("GET", "/__requests")
        check("bz __requests", st == 200 and len(b) >= 25
              and any(r["method"] == "POST" and r["path"] == "/rest/bug"
                      and r["headers"].get("x-bugzilla-api-key") == "KEY"
                      and r["body"]["summary"] == "Created via REST" for r in b)
              and any(r["query"].get("id") == ["1", "3"] for r in b), len(b))
        st, b, _ = s.req("DELETE", "/__requests")
        st, b, _ = s.req("GET", "/__requests")
        check("bz __requests cleared", b == [], b)
    finally:
        s.stop()


def smoke_wordpress():
    s = Server("wordpress_rest.py", "--user", "admin", "--password", "abcd efgh ijkl mnop qrst uvwx")
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:abcdefghijklmnopqrstuvwx").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()}
    try:
        st, b, _ = s.req("GET", "/wp-json/")
        check("wp index", st == 200 and b["name"] == "Example Site" and b["url"] == s.base
              and "wp/v2" in b["namespaces"], b)
        st, b, h = s.req("GET", "/wp-json/wp/v2/posts")
        check("wp list public", st == 200 and [p["id"] for p in b] == [2, 1]
              and h.get("X-WP-Total") == "2" and h.get("X-WP-TotalPages") == "1"
              and "raw" not in b[0]["title"] and b[1]["date"] == "2026-01-02T03:04:05", (b, h))
        p = b[1]
        check("wp post shape", set(["id", "date", "date_gmt", "modified", "slug", "status", "title",
                                    "content", "excerpt", "author", "categories", "link"]) <= set(p)
              and p["content"]["rendered"].startswith("<p>") and p["link"] == s.base + "/?p=1", p)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts?context=edit")
        check("wp edit ctx unauth", st == 401 and b["code"] == "rest_forbidden_context"
              and b["data"] == {"status": 401}, b)
        st, b, h = s.req("GET", "/wp-json/wp/v2/posts?context=edit&status=any&per_page=2&page=2", headers=auth)
        check("wp list auth paged", st == 200 and [x["id"] for x in b] == [1]
              and b[0]["title"]["raw"] == "Hello world!" and h.get("X-WP-Total") == "3", (b, h))
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts?categories=3")
        check("wp list by category", [x["id"] for x in b] == [2], b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts?page=9")
        check("wp bad page", st == 400 and b["code"] == "rest_post_invalid_page_number", b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts", headers=bad)
        check("wp wrong password", st == 401 and b["code"] == "incorrect_password", b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/users/me",
                         headers={"Authorization": "Basic " + base64.b64encode(b"bob:x").decode()})
        check("wp unknown user", st == 401 and b["code"] == "invalid_username", b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts/1")
        check("wp get", st == 200 and b["id"] == 1 and b["title"] == {"rendered": "Hello world!"}, b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts/3")
        check("wp get draft unauth", st == 401 and b["code"] == "rest_forbidden", b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/posts/999")
        check("wp get 404", st == 404 and b == {"code": "rest_post_invalid_id", "message": "Invalid post ID.",
                                                "data": {"status": 404}}, b)
        new = {"title": "From gateway", "content": "Hello\n\nWorld", "status": "publish", "categories": [2]}
        st, b, _ = s.req("POST", "/wp-json/wp/v2/posts", new)
        check("wp create unauth", st == 401 and b["code"] == "rest_cannot_create", b)
        st, b, h = s.req("POST", "/wp-json/wp/v2/posts", new, headers=auth)
        check("wp create", st == 201 and b["id"] == 4 and b["slug"] == "from-gateway"
              and b["title"]["raw"] == "From gateway" and b["categories"] == [2]
              and b["content"]["rendered"] == "<p>Hello</p>\n<p>World</p>\n"
              and h.get("Location", "").endswith("/wp-json/wp/v2/posts/4"), (b, h))
        st, b, _ = s.req("POST", "/wp-json/wp/v2/posts", {"status": "publish"}, headers=auth)
        check("wp create empty", st == 400 and b["code"] == "empty_content", b)
        st, b, _ = s.req("POST", "/wp-json/wp/v2/posts", dict(new, status="bogus"), headers=auth)
        check("wp create bad status", st == 400 and b["code"] == "rest_invalid_param", b)
        st, b, _ = s.req("POST", "/wp-json/wp/v2/posts", "title=Form+post&status=draft&categories=1,3",
                         headers=auth, form=True)
        check("wp create form", st == 201 and b["title"]["raw"] == "Form post" and b["categories"] == [1, 3]
              and b["status"] == "draft", b)
        st, b, _ = s.req("POST", "/wp-json/wp/v2/posts/4", {"title": "Edited"}, headers=auth)
        check("wp update", st == 200 and b["title"]["raw"] == "Edited" and b["content"]["raw"] == "Hello\n\nWorld", b)
        st, b, _ = s.req("POST", "/wp-json/wp/v2/posts/4", {"title": "x"})
        check("wp update unauth", st == 401 and b["code"] == "rest_cannot_edit", b)
        st, b, _ = s.req("PUT", "/wp-json/wp/v2/posts/999", {"title": "x"}, headers=auth)
        check("wp update 404", st == 404 and b["code"] == "rest_post_invalid_id", b)
        st, b, _ = s.req("DELETE", "/wp-json/wp/v2/posts/4", headers=auth)
        check("wp trash", st == 200 and b["status"] == "trash", b)
        st, b, _ = s.req("DELETE", "/wp-json/wp/v2/posts/4", headers=auth)
        check("wp trash twice", st == 410 and b["code"] == "rest_already_trashed", b)
        st, b, _ = s.req("DELETE", "/wp-json/wp/v2/posts/4?force=true", headers=auth)
        check("wp force delete", st == 200 and b["deleted"] is True and b["previous"]["id"] == 4, b)
        st, b, _ = s.req("DELETE", "/wp-json/wp/v2/posts/1?force=true")
        check("wp delete unauth", st == 401 and b["code"] == "rest_cannot_delete", b)
        st, b, h = s.req("GET", "/wp-json/wp/v2/categories")
        check("wp categories", st == 200 and [c["name"] for c in b] == ["News", "Releases", "Uncategorized"]
              and b[0]["taxonomy"] == "category" and b[0]["count"] == 1 and h.get("X-WP-Total") == "3", b)
        st, b, _ = s.req("POST", "/wp-json/wp/v2/categories", {"name": "News"}, headers=auth)
        check("wp category exists", st == 400 and b["code"] == "term_exists", b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/users/me")
        check("wp me unauth", st == 401 and b["code"] == "rest_not_logged_in", b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/users/me?context=edit", headers=auth)
        check("wp me", st == 200 and b["id"] == 1 and b["username"] == "admin"
              and "administrator" in b["roles"], b)
        st, b, _ = s.req("GET", "/?rest_route=/wp/v2/posts/1&_fields=id,title")
        check("wp rest_route + _fields", st == 200 and b == {"id": 1, "title": {"rendered": "Hello world!"}}, b)
        st, b, _ = s.req("GET", "/wp-json/wp/v2/nope")
        check("wp no route", st == 404 and b["code"] == "rest_no_route", b)
        st, b, _ = s.req("GET", "/__requests")
        check("wp __requests", any(r["method"] == "POST" and r["headers"].get("authorization", "").startswith("Basic ")
                                   and isinstance(r["body"], dict) and r["body"].get("title") == "From gateway"
                                   for r in b), len(b))
    finally:
        s.stop()


def smoke_odoo():
    s = Server("odoo_json2.py", "--api-key", "KEY", "--db", "mycompany")
    A = {"Authorization": "bearer KEY"}
    try:
        st, b, _ = s.req("GET", "/web/version")
        check("odoo version", st == 200 and b == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}, b)
        st, b, h = s.req("POST", "/json/2/res.partner/search_read", {"domain": []})
        check("odoo no auth", st == 401 and b["name"] == "werkzeug.exceptions.Unauthorized"
              and h.get("WWW-Authenticate") == "bearer", b)
        st, b, _ = s.req("POST", "/json/2/res.partner/search_read", {"domain": []},
                         headers={"Authorization": "bearer WRONG"})
        check("odoo bad key", st == 401 and b["message"] == "Invalid apikey"
              and b["arguments"] == ["Invalid apikey", 401], b)
        st, b, _ = s.req("POST", "/json/2/res.partner/search_read",
                         {"context": {"lang": "en_US"},
                          "domain": [["name", "ilike", "%deco%"], ["is_company", "=", True]],
                          "fields": ["name"]}, headers=dict(A, **{"X-Odoo-Database": "mycompany"}))
        check("odoo search_read (doc example)", st == 200 and b == [{"id": 4, "name": "Deco Addict"}], b)
        st, b, _ = s.req("POST", "/json/2/res.partner/search",
                         {"domain": ["|", ["is_company", "=", True], ["email", "!=", False]], "limit": 10}, headers=A)
        check("odoo search or-domain", st == 200 and sorted(b) == [1, 3, 4, 5, 6], b)
        st, b, _ = s.req("POST", "/json/2/res.partner/search_count", {"domain": []}, headers=A)
        check("odoo search_count (active_test)", st == 200 and b == 5, b)
        st, b, _ = s.req("POST", "/json/2/res.partner/read", {"ids": [6], "fields": ["name", "parent_id", "phone"]}, headers=A)
        check("odoo read m2o", st == 200 and b == [{"id": 6, "name": "Brandon Freeman",
                                                   "parent_id": [5, "Azure Interior"], "phone": "+1 555-0100"}], b)
        st, b, _ = s.req("POST", "/json/2/res.partner/read", {"ids": [99], "fields": ["name"]}, headers=A)
        check("odoo read missing", st == 404 and b["name"] == "odoo.exceptions.MissingError", b)
        st, b, _ = s.req("POST", "/json/2/res.partner/create",
                         {"vals_list": [{"name": "New Co", "is_company": True}]}, headers=A)
        check("odoo create", st == 200 and b == [7], b)
        st, b, _ = s.req("POST", "/json/2/res.partner/create", {"vals_list": [{"email": "x@y"}]}, headers=A)
        check("odoo create invalid", st == 422 and b["name"] == "odoo.exceptions.ValidationError", b)
        st, b, _ = s.req("POST", "/json/2/res.partner/write", {"ids": [7], "vals": {"city": "Ghent"}}, headers=A)
        check("odoo write", st == 200 and b is True, b)
        st, b, _ = s.req("POST", "/json/2/res.partner/read", {"ids": [7], "fields": ["city", "write_date"]}, headers=A)
        check("odoo read after write", b[0]["city"] == "Ghent" and len(b[0]["write_date"]) == 19, b)
        st, b, _ = s.req("POST", "/json/2/res.partner/unlink", {"ids": [7]}, headers=A)
        check("odoo unlink", st == 200 and b is True, b)
        st, b, _ = s.req("POST", "/json/2/res.partner/read", {"ids": [1], "badparameter": 1}, headers=A)
        check("odoo bad kwarg", st == 422 and b["message"] == "got an unexpected keyword argument 'badparameter'", b)
        st, b, _ = s.req("POST", "/json/2/res.partner/search", {"ids": [1], "domain": []}, headers=A)
        check("odoo api.model with ids", st == 422, b)
        st, b, _ = s.req("POST", "/json/2/res.nope/search", {"domain": []}, headers=A)
        check("odoo unknown model", st == 404 and "does not exist" in b["message"], b)
        st, b, _ = s.req("POST", "/json/2/res.partner/frobnicate", {}, headers=A)
        check("odoo unknown method", st == 404, b)
        st, b, _ = s.req("GET", "/json/2/res.partner/search", headers=A)
        check("odoo GET not allowed", st == 405, b)
        st, b, _ = s.req("POST", "/json/2/res.users/context_get", {}, headers=A)
        check("odoo context_get", st == 200 and b["uid"] == 2, b)
        st, b, _ = s.req("POST", "/json/2/res.partner/name_search", {"name": "azure"}, headers=A)
        check("odoo name_search", st == 200 and b == [[5, "Azure Interior"]], b)
        st, b, _ = s.req("GET", "/__requests")
        check("odoo __requests", any(r["path"] == "/json/2/res.partner/write" and r["body"] == {"ids": [7], "vals": {"city": "Ghent"}}
                                     and r["headers"].get("authorization") == "bearer KEY" for r in b), len(b))
    finally:
        s.stop()


if __name__ == "__main__":
    for fn in (smoke_bugzilla, smoke_wordpress, smoke_odoo):
        try:
            fn()
        except Exception as e:  # a crash counts as one failure, then go on
            RESULTS["failed"] += 1
            print("FAIL %s crashed: %r" % (fn.__name__, e))
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    sys.exit(1 if RESULTS["failed"] else 0)
