//! WordPress's legacy XML-RPC clients, unchanged, through the gateway
//! running `examples/wordpress.toml`, against a stand-in of WordPress's
//! REST API written from the REST API Handbook (`tests/standins/`): the
//! calls a desktop blog editor makes (MetaWeblog and Blogger APIs, with
//! Python's `xmlrpc.client`), and PyPI's `python-wordpress-xmlrpc` (the
//! wp.* API).

mod common;

use base64::Engine;
use std::time::Duration;

use common::{Binary, StandIn, python, python_module_available, wait_until};

const USER: &str = "admin";
/// An application password: WordPress shows it in groups of four.
const PASSWORD: &str = "abcd efgh ijkl mnop qrst uvwx";
/// A wrong one, distinct enough to be looked for in what was sent.
const WRONG: &str = "Wr0ng-Passw0rd-9z";

fn wordpress() -> StandIn {
    StandIn::start(
        "wordpress_rest.py",
        &["--user", USER, "--password", PASSWORD],
    )
}

fn gateway(wordpress: &StandIn) -> Binary {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/wordpress.toml"
    ))
    .unwrap();
    Binary::start_env(
        &example,
        &[("XMLRPC_GATEWAY__BACKENDS__WORDPRESS__URL", &wordpress.url())],
    )
}

/// Runs `script` with `s` a stdlib `ServerProxy` on the gateway's
/// `/xmlrpc.php`, `x` the `xmlrpc.client` module, and `USER`, `PASSWORD`,
/// `WRONG` and `SITE` (the stand-in's URL) defined; its stdout.
fn desktop_editor(bin: &Binary, wordpress: &StandIn, script: &str) -> String {
    let prelude = format!(
        "import os, xmlrpc.client as x\nUSER = {USER:?}\nPASSWORD = {PASSWORD:?}\nWRONG = {WRONG:?}\nSITE = {site:?}\ns = x.ServerProxy(os.environ['URL'], allow_none=True)\n",
        site = wordpress.url()
    );
    python(
        &format!("{prelude}{script}"),
        &format!("http://{}/xmlrpc.php", bin.addr),
    )
}

/// Every `want` is one whole line of `out`.
fn assert_lines(out: &str, want: &[&str]) {
    for line in want {
        assert!(
            out.lines().any(|l| l == *line),
            "missing line {line:?} in:\n{out}"
        );
    }
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// The forms a password could take in a URL or a body.
fn spellings(password: &str) -> Vec<String> {
    vec![
        password.to_owned(),
        password.replace(' ', "+"),
        password.replace(' ', "%20"),
        password.replace(' ', ""),
    ]
}

/// Every request that reached WordPress carried the caller's credentials
/// in `Authorization: Basic` (right or wrong, as the test sent them), never
/// in its path, query or body; only mt.supportedMethods (no params) went
/// without. And none of them is in the gateway's log lines, which did log
/// the calls.
fn credentials_only_in_the_header(wp: &StandIn, bin: &Binary) {
    let right = basic(USER, PASSWORD);
    let sent = [right.clone(), basic(USER, WRONG), basic("nobody", PASSWORD)];
    let requests: Vec<serde_json::Value> = wp
        .requests()
        .into_iter()
        .filter(|r| r["path"] != "/__requests")
        .collect();
    assert!(requests.len() > 10, "{requests:?}");
    let mut anonymous = 0;
    for request in &requests {
        let text = request.to_string();
        match request["headers"]["authorization"].as_str() {
            Some(auth) => assert!(sent.iter().any(|s| s == auth), "{text}"),
            None => {
                assert_eq!(request["path"], "/wp-json/", "{text}");
                anonymous += 1;
            }
        }
        let outside_the_header = format!(
            "{} {} {}",
            request["path"], request["raw_query"], request["body"]
        );
        for secret in spellings(PASSWORD).iter().chain(&spellings(WRONG)) {
            assert!(
                !outside_the_header.contains(secret.as_str()),
                "a password left its header: {text}"
            );
        }
    }
    assert!(anonymous >= 1, "mt.supportedMethods reached WordPress");
    // The access log line of the last call is written before its answer,
    // and read from the gateway's stderr by a thread of its own.
    let logged = |l: &serde_json::Value| l["path"] == "/xmlrpc.php" && l["fault_code"] == 403;
    wait_until(Duration::from_secs(10), || bin.logs().iter().any(logged));
    let logs = bin.logs();
    let text = format!("{logs:?}");
    for secret in spellings(PASSWORD)
        .iter()
        .chain(&spellings(WRONG))
        .chain(&sent)
    {
        let bare = secret.trim_start_matches("Basic ");
        assert!(!text.contains(bare), "{secret:?} in the logs: {text}");
    }
}

#[test]
fn a_desktop_editors_calls_are_answered_from_the_rest_api() {
    let wp = wordpress();
    let bin = gateway(&wp);
    let out = desktop_editor(
        &bin,
        &wp,
        r#"
def show(prefix, value):
    print(prefix, type(value).__name__, value.value if isinstance(value, x.DateTime) else value)

served = set(s.system.listMethods())
listed = s.mt.supportedMethods()
print("supportedMethods served", all(m in served for m in listed), len(listed))

blogs = s.blogger.getUsersBlogs("appkey", USER, PASSWORD)
print("blogs", len(blogs), sorted(blogs[0]))
b = blogs[0]
show("blogid", b["blogid"])
show("blogName", b["blogName"])
print("url is the site", b["url"] == SITE)
show("isAdmin", b["isAdmin"])
print("xmlrpc", b["xmlrpc"].endswith("/xmlrpc.php"))
print("wp.getUsersBlogs same", s.wp.getUsersBlogs(USER, PASSWORD) == blogs)

recent = s.metaWeblog.getRecentPosts("1", USER, PASSWORD, 2)
print("recent", [(p["postid"], p["post_status"]) for p in recent])
print("recent ten", [p["postid"] for p in s.metaWeblog.getRecentPosts("1", USER, PASSWORD)])

p = s.metaWeblog.getPost("1", USER, PASSWORD)
print("post members", sorted(p))
for k in ("postid", "title", "description", "userid", "wp_author_id", "dateCreated",
          "date_created_gmt", "post_status", "wp_slug", "sticky", "wp_post_format",
          "wp_post_thumbnail"):
    show("post." + k, p[k])
print("post link", p["link"] == SITE + "/?p=1", p["permaLink"] == p["link"])

new = s.metaWeblog.newPost("1", USER, PASSWORD, {
    "title": "From the editor", "description": "Body <b>bold</b>", "mt_excerpt": "Short",
    "post_status": "publish", "dateCreated": x.DateTime("20260105T06:07:08"),
    "categories": ["News"], "mt_keywords": "a, b"}, True)
show("newPost", new)
got = s.metaWeblog.getPost(new, USER, PASSWORD)
for k in ("title", "description", "mt_excerpt", "post_status", "dateCreated"):
    show("new." + k, got[k])

draft = s.metaWeblog.newPost("1", USER, PASSWORD, {"title": "Flag only", "description": "x"}, True)
show("flag only status", s.metaWeblog.getPost(draft, USER, PASSWORD)["post_status"])

show("editPost", s.metaWeblog.editPost(new, USER, PASSWORD, {"title": "Edited", "description": "New body"}, True))
got = s.metaWeblog.getPost(new, USER, PASSWORD)
show("edited.title", got["title"])
show("edited.description", got["description"])
show("edited.post_status", got["post_status"])

show("deletePost", s.blogger.deletePost("appkey", new, USER, PASSWORD, True))
show("deleted.post_status", s.metaWeblog.getPost(new, USER, PASSWORD)["post_status"])

cats = s.wp.getCategories("1", USER, PASSWORD)
print("categories", [(c["categoryId"], c["parentId"], c["categoryName"], c["description"]) for c in cats])
show("categoryId", cats[0]["categoryId"])
print("category members", sorted(cats[0]))

def fault(call):
    try:
        call()
    except x.Fault as f:
        print("fault", f.faultCode, f.faultString)
    else:
        print("no fault")

fault(lambda: s.metaWeblog.getPost("999", USER, PASSWORD))
fault(lambda: s.metaWeblog.editPost("999", USER, PASSWORD, {"title": "t"}, True))
fault(lambda: s.blogger.deletePost("appkey", "999", USER, PASSWORD, True))
fault(lambda: s.metaWeblog.getPost("1", USER, WRONG))
fault(lambda: s.blogger.getUsersBlogs("appkey", "nobody", PASSWORD))
fault(lambda: s.metaWeblog.newPost("1", USER, WRONG, {"title": "t"}, True))
"#,
    );
    assert_lines(
        &out,
        &[
            "supportedMethods served True 14",
            "blogs 1 ['blogName', 'blogid', 'isAdmin', 'url', 'xmlrpc']",
            "blogid str 1",
            "blogName str Example Site",
            "url is the site True",
            "isAdmin bool False",
            "xmlrpc True",
            "wp.getUsersBlogs same True",
            // Newest first, drafts too, as WordPress's getRecentPosts.
            "recent [('3', 'draft'), ('2', 'publish')]",
            "recent ten ['3', '2', '1']",
            "post members ['dateCreated', 'date_created_gmt', 'date_modified', 'date_modified_gmt', 'description', 'link', 'mt_excerpt', 'permaLink', 'post_status', 'postid', 'sticky', 'title', 'userid', 'wp_author_id', 'wp_password', 'wp_post_format', 'wp_post_thumbnail', 'wp_slug']",
            "post.postid str 1",
            "post.title str Hello world!",
            "post.description str Welcome to WordPress. This is your first post.",
            "post.userid str 1",
            "post.wp_author_id str 1",
            // dateTime.iso8601 in the compact form, no zone, as WordPress.
            "post.dateCreated DateTime 20260102T03:04:05",
            "post.date_created_gmt DateTime 20260102T03:04:05",
            "post.post_status str publish",
            "post.wp_slug str hello-world",
            "post.sticky bool False",
            "post.wp_post_format str standard",
            "post.wp_post_thumbnail int 0",
            "post link True True",
            "newPost str 4",
            "new.title str From the editor",
            "new.description str Body <b>bold</b>",
            "new.mt_excerpt str Short",
            "new.post_status str publish",
            "new.dateCreated DateTime 20260105T06:07:08",
            // The `publish` flag is not read: without post_status, a draft.
            "flag only status str draft",
            "editPost bool True",
            "edited.title str Edited",
            "edited.description str New body",
            "edited.post_status str publish",
            "deletePost bool True",
            "deleted.post_status str trash",
            "categories [(2, 0, 'News', 'News'), (3, 2, 'Releases', 'Releases'), (1, 0, 'Uncategorized', 'Uncategorized')]",
            "categoryId int 2",
            "category members ['categoryDescription', 'categoryId', 'categoryName', 'description', 'htmlUrl', 'parentId']",
        ],
    );
    let faults: Vec<&str> = out.lines().filter(|l| l.starts_with("fault")).collect();
    assert_eq!(
        faults,
        [
            "fault 404 Invalid post ID.",
            "fault 404 Invalid post ID.",
            "fault 404 Invalid post ID.",
            "fault 403 Incorrect username or password.",
            "fault 403 Incorrect username or password.",
            "fault 403 Incorrect username or password.",
        ],
        "{out}"
    );

    // What reached WordPress: the query and body the mapping says.
    let requests: Vec<serde_json::Value> = wp
        .requests()
        .into_iter()
        .filter(|r| r["path"] != "/__requests")
        .collect();
    let recent = requests
        .iter()
        .find(|r| r["path"] == "/wp-json/wp/v2/posts" && r["method"] == "GET")
        .expect("getRecentPosts reached WordPress");
    assert_eq!(
        recent["query"],
        serde_json::json!({"context": ["edit"], "status": ["publish,future,draft,pending,private"], "per_page": ["2"]})
    );
    let created = requests
        .iter()
        .find(|r| r["path"] == "/wp-json/wp/v2/posts" && r["method"] == "POST")
        .expect("newPost reached WordPress");
    assert_eq!(
        created["body"],
        serde_json::json!({"title": "From the editor", "content": "Body <b>bold</b>", "excerpt": "Short", "status": "publish", "date": "2026-01-05T06:07:08"})
    );
    credentials_only_in_the_header(&wp, &bin);
}

#[test]
fn python_wordpress_xmlrpc_reads_and_writes_posts_through_the_rest_api() {
    if !python_module_available("wordpress_xmlrpc", "python-wordpress-xmlrpc") {
        return;
    }
    let wp = wordpress();
    let bin = gateway(&wp);
    let out = desktop_editor(
        &bin,
        &wp,
        r#"
# python-wordpress-xmlrpc 2.3 predates Python 3.10's removal of this alias.
import collections, collections.abc
collections.Iterable = collections.abc.Iterable
import datetime
from wordpress_xmlrpc import Client, WordPressPost
from wordpress_xmlrpc.exceptions import InvalidCredentialsError
from wordpress_xmlrpc.methods.posts import GetPosts, GetPost, NewPost, EditPost, DeletePost
from wordpress_xmlrpc.methods.users import GetUsersBlogs

c = Client(os.environ["URL"], USER, PASSWORD)
print("blogs", [(b.id, b.name, b.url == SITE, b.is_admin) for b in c.call(GetUsersBlogs())])
print("published", [(p.id, p.title, p.post_status) for p in c.call(GetPosts({"post_status": "publish"}))])
print("number", [p.id for p in c.call(GetPosts({"number": 1, "post_status": "draft"}))])

p = c.call(GetPost(2))
print("post", p.id, p.title, p.post_status, p.slug, p.user, p.date.isoformat(), p.date_modified.isoformat())
print("post content", repr(p.content), repr(p.excerpt))

new = WordPressPost()
new.title = "Via python-wordpress-xmlrpc"
new.content = "Hello from the wp API"
new.post_status = "publish"
new.date = datetime.datetime(2026, 2, 3, 4, 5, 6)
nid = c.call(NewPost(new))
print("new", repr(nid))
got = c.call(GetPost(nid))
print("got", got.title, got.post_status, got.date.isoformat())

edit = WordPressPost()
edit.title = "Edited via wp.editPost"
edit.content = "Hello again"
print("edit", c.call(EditPost(nid, edit)))
got = c.call(GetPost(nid))
print("edited", got.title, got.content, got.post_status)
print("delete", c.call(DeletePost(nid)))
print("after delete", c.call(GetPost(nid)).post_status)

try:
    c.call(GetPost(999))
except x.Fault as f:
    print("fault", f.faultCode, f.faultString)
try:
    Client(os.environ["URL"], USER, WRONG).call(GetPosts())
except InvalidCredentialsError as e:
    print("invalid credentials:", e)
"#,
    );
    assert_lines(
        &out,
        &[
            "blogs [('1', 'Example Site', True, False)]",
            "published [('2', 'Release 1.0', 'publish'), ('1', 'Hello world!', 'publish')]",
            "number ['3']",
            "post 2 Release 1.0 publish release-1-0 1 2026-01-03T04:05:06 2026-01-03T04:05:06",
            "post content 'Version 1.0 is out.\\n\\nUpgrade now.' 'Version 1.0 is out.'",
            "new '4'",
            "got Via python-wordpress-xmlrpc publish 2026-02-03T04:05:06",
            "edit True",
            "edited Edited via wp.editPost Hello again publish",
            "delete True",
            "after delete trash",
            "fault 404 Invalid post ID.",
            "invalid credentials: Incorrect username or password.",
        ],
    );
    credentials_only_in_the_header(&wp, &bin);
}

#[test]
fn a_multicall_of_a_hundred_guesses_lets_five_reach_wordpress() {
    let wp = wordpress();
    let bin = gateway(&wp);
    let before = wp.requests().len();
    let out = desktop_editor(
        &bin,
        &wp,
        r#"
m = x.MultiCall(s)
for _ in range(100):
    m.wp.getUsersBlogs(USER, WRONG)
results = m()
codes = []
for i in range(100):
    try:
        results[i]
    except x.Fault as f:
        codes.append(f.faultCode)
print("403:", codes.count(403), "-32429:", codes.count(-32429), "other:", len(codes) - codes.count(403) - codes.count(-32429))
"#,
    );
    assert_lines(&out, &["403: 5 -32429: 95 other: 0"]);
    // Only five requests reached WordPress (the stand-in's own /__requests
    // calls are not counted).
    let reached = wp.requests()[before..]
        .iter()
        .filter(|r| r["path"] != "/__requests")
        .count();
    assert_eq!(reached, 5, "{:?}", wp.requests());
    // Five failures used the address's tokens up: until one is earned back,
    // even the right password waits (a single call: HTTP 429).
    let out = desktop_editor(
        &bin,
        &wp,
        "try:\n    s.wp.getUsersBlogs(USER, PASSWORD)\nexcept x.ProtocolError as e:\n    print(e.errcode)\n",
    );
    assert_lines(&out, &["429"]);
}
