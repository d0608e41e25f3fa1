//! The methods page (`server.docs`) on the real binary: a browser's GET on
//! an RPC path gets an HTML page of what the caller may call, with what
//! real backends (Python's SimpleXMLRPCServer with its introspection
//! functions, a JSON-RPC service answering `rpc.discover`) say of their
//! methods; everything escaped, no backend URL in sight; GETs that are not
//! a browser's, or with the page off, keep their 405. And in a real
//! headless browser (Debian's `chromium`): the page renders and its filter
//! box hides what does not match.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use base64::Engine;
use common::{Binary, RawResponse, StandIn, TempDir, raw, tool};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A GET of `path` with this `Accept` and, if given, Basic credentials.
fn get_page(addr: SocketAddr, path: &str, accept: &str, user: Option<(&str, &str)>) -> RawResponse {
    let auth = user.map_or_else(String::new, |(u, p)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        format!("Authorization: Basic {token}\r\n")
    });
    raw(
        addr,
        format!(
            "GET {path} HTTP/1.1\r\nHost: gw.test:8000\r\nAccept: {accept}\r\n{auth}Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

/// The gateway in front of both stand-in services: `legacy.*` to the
/// XML-RPC one (its prefix stripped), `inventory.*` to the JSON-RPC one
/// for the roles that may, and a route whose help is a script.
fn config(described: &StandIn, docs: bool) -> String {
    let url = described.url();
    format!(
        r#"
[server]
docs = {docs}

[auth]
mode = "basic"
default = "none"
users = {{ alice = "a-pw", bob = "b-pw" }}
roles = {{ alice = ["ops"], bob = ["reader"] }}

[roles.ops]
allow = ["*"]

[roles.reader]
allow = ["inventory.get"]

[backends.legacy]
kind = "xmlrpc"
url = "{url}/RPC2"

[backends.inventory]
kind = "jsonrpc"
url = "{url}/jsonrpc"

[[routes]]
method = "legacy.*"
backend = "legacy"
strip_prefix = true

[[routes]]
method = "inventory.*"
backend = "inventory"
roles = ["ops", "reader"]

[[routes]]
method = "shout"
handler = "echo"
help = "<script>alert('owned')</script> & friends"
"#
    )
}

#[test]
fn a_browser_gets_the_methods_with_what_backends_say_of_them() {
    let described = StandIn::start("described.py", &[]);
    let gw = Binary::start(&config(&described, true));
    let page = get_page(gw.addr, "/RPC2", BROWSER_ACCEPT, Some(("alice", "a-pw")));
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let html = page.text();

    // The XML-RPC backend's methods, under the names a client calls, with
    // the signatures and help it gave.
    assert!(html.contains("data-name=\"legacy.restock\""), "{html}");
    assert!(html.contains("<code>legacy.restock(string, int) \u{2192} int</code>"));
    assert!(html.contains("restock(sku, count) =&gt; &lt;b&gt;new&lt;/b&gt; units"));
    assert!(html.contains("<code>legacy.stock(string) \u{2192} struct</code>"));
    assert!(html.contains("backend legacy"));
    assert!(
        !html.contains("data-name=\"legacy.system."),
        "a backend's system.* is its own"
    );
    // The JSON-RPC backend's, from its OpenRPC document.
    assert!(html.contains("<code>inventory.get(id: integer) \u{2192} object</code>"));
    assert!(html.contains("One item by id."));
    assert!(html.contains("data-name=\"inventory.put\""));
    assert!(html.contains("backend inventory"));
    // Handlers, the gateway's own, and examples for both clients.
    assert!(html.contains("data-name=\"shout\""));
    assert!(html.contains("handler echo"));
    assert!(html.contains("data-name=\"system.listMethods\""));
    assert!(
        html.contains("proxy = xmlrpc.client.ServerProxy(&quot;http://gw.test:8000/RPC2&quot;)")
    );
    assert!(html.contains(
        "xmlrpc-gateway call http://gw.test:8000/RPC2 legacy.restock &#39;&quot;text&quot;&#39; 1"
    ));

    // A help text with a script shows as text: the page's own script is
    // the only one.
    assert!(html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; friends"));
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    // No backend URL, nor the port it is on.
    let port = described.port.to_string();
    assert!(!html.contains(&port), "the backend's port shows: {html}");
    assert!(!html.contains("/jsonrpc"));
    println!("page for this config: {} bytes", html.len());
}

#[test]
fn each_caller_sees_only_what_it_may_call() {
    let described = StandIn::start("described.py", &[]);
    let gw = Binary::start(&config(&described, true));
    let names = |user| {
        let page = get_page(gw.addr, "/RPC2", BROWSER_ACCEPT, user);
        (page.status, page.text())
    };
    let (status, bob) = names(Some(("bob", "b-pw")));
    assert_eq!(status, 200);
    assert!(bob.contains("data-name=\"inventory.get\""), "{bob}");
    assert!(
        !bob.contains("data-name=\"inventory.put\""),
        "reader may not put"
    );
    assert!(bob.contains("data-name=\"legacy.stock\""));
    // inventory.* needs credentials: an anonymous browser is asked for them.
    let anonymous = get_page(gw.addr, "/RPC2", BROWSER_ACCEPT, None);
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    // Wrong credentials: 401, as for a POST.
    assert_eq!(names(Some(("bob", "nope"))).0, 401);
}

#[test]
fn without_docs_or_a_browser_a_get_keeps_its_405() {
    let described = StandIn::start("described.py", &[]);
    let off = Binary::start(&config(&described, false));
    let page = get_page(off.addr, "/RPC2", BROWSER_ACCEPT, Some(("alice", "a-pw")));
    assert_eq!(page.status, 405);
    assert_eq!(page.header("allow"), Some("POST"));
    // server.docs reloads: turned on by SIGHUP, the same GET gets the page.
    std::fs::write(off.config_path(), config(&described, true)).unwrap();
    assert!(matches!(off.reload(), common::Reload::Applied));
    let page = get_page(off.addr, "/RPC2", BROWSER_ACCEPT, Some(("alice", "a-pw")));
    assert_eq!(page.status, 200);
    let on = off;
    for accept in ["*/*", "text/xml", "text/html;q=0"] {
        let page = get_page(on.addr, "/RPC2", accept, Some(("alice", "a-pw")));
        assert_eq!(page.status, 405, "Accept: {accept}");
    }
    // Not an RPC path: 404 still.
    let page = get_page(on.addr, "/nowhere", BROWSER_ACCEPT, Some(("alice", "a-pw")));
    assert_eq!(page.status, 404);
}

#[test]
fn a_backend_that_cannot_list_is_said_so_not_an_error_page() {
    // Nothing listens on port 9 of loopback.
    let gw = Binary::start(
        r#"
[server]
docs = true
[backends.gone]
kind = "xmlrpc"
url = "http://127.0.0.1:9/RPC2"
retries = 0
[[routes]]
method = "gone.*"
backend = "gone"
"#,
    );
    let page = get_page(gw.addr, "/RPC2", BROWSER_ACCEPT, None);
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains("data-name=\"gone.*\""), "{html}");
    assert!(html.contains("could not list its methods"));
    assert!(html.contains("data-name=\"system.listMethods\""));
    assert!(!html.contains("127.0.0.1:9"));
}

#[test]
fn each_rpc_path_shows_its_own_table() {
    let gw = Binary::start(
        r#"
[server]
docs = true
rpc_paths = ["/", "/admin"]
[[routes]]
method = "add"
handler = "add"
[[routes]]
method = "admin.echo"
handler = "echo"
rpc_path = "/admin"
"#,
    );
    let root = get_page(gw.addr, "/", BROWSER_ACCEPT, None).text();
    let admin = get_page(gw.addr, "/admin", BROWSER_ACCEPT, None).text();
    assert!(root.contains("data-name=\"add\""), "{root}");
    assert!(!root.contains("admin.echo"), "{root}");
    assert!(admin.contains("data-name=\"admin.echo\""), "{admin}");
    assert!(
        admin.contains("data-name=\"add\""),
        "shared routes show too"
    );
    assert!(admin.contains("ServerProxy(&quot;http://gw.test:8000/admin&quot;)"));
}

/// Runs headless chromium on `url` with `args`; `None` when it is missing.
fn chromium(args: &[&str], url: &str) -> Option<std::process::Output> {
    let chromium = tool("chromium", "chromium")?;
    let profile = TempDir::new();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.0.display()));
    if root {
        // Chromium refuses to run as root inside its sandbox.
        cmd.arg("--no-sandbox");
    }
    let out = cmd.args(args).arg(url).output().expect("chromium runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

/// The gateway the browser test looks at: no credentials needed, the
/// XML-RPC stand-in behind `legacy.*`.
fn browser_config(described: &StandIn) -> String {
    format!(
        r#"
[server]
docs = true

[backends.legacy]
kind = "xmlrpc"
url = "{}/RPC2"

[[routes]]
method = "legacy.*"
backend = "legacy"
strip_prefix = true

[[routes]]
method = "shout"
handler = "echo"
help = "<script>alert('owned')</script> shows as text"
"#,
        described.url()
    )
}

#[test]
fn in_a_real_browser_the_page_renders_and_the_filter_hides_the_rest() {
    let described = StandIn::start("described.py", &[]);
    let gw = Binary::start(&browser_config(&described));
    let url = format!("http://{}/RPC2", gw.addr);
    // `?q=` sets the filter box; the script then hides what does not match.
    let Some(out) = chromium(&["--dump-dom"], &format!("{url}?q=restock")) else {
        return;
    };
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("<h1>XML-RPC methods</h1>"), "{dom}");
    let article = |name: &str| {
        let at = dom
            .find(&format!("data-name=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} not on the page: {dom}"));
        let start = dom[..at].rfind("<article").unwrap();
        let end = at + dom[at..].find('>').unwrap();
        dom[start..end].to_owned()
    };
    assert!(!article("legacy.restock").contains("hidden"), "{dom}");
    for other in ["legacy.stock", "shout", "system.listMethods"] {
        assert!(
            article(other).contains("hidden"),
            "{other} not hidden: {dom}"
        );
    }
    assert!(
        dom.contains("<p id=\"count\">1 of "),
        "the script ran: {dom}"
    );
    // The script help text stayed text (the CSP would have blocked it, too).
    assert!(dom.contains("&lt;script&gt;alert('owned')&lt;/script&gt; shows as text"));

    // Unfiltered, every method shows; and the page renders to pixels. Set
    // METHODS_PAGE_SCREENSHOT to a path to keep the picture (the docs'
    // docs/methods-page.png is made so).
    let dom = chromium(&["--dump-dom"], &url).unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<p id=\"count\">7 of 7 methods shown"),
        "{dom}"
    );
    let dir = TempDir::new();
    let shot = std::env::var("METHODS_PAGE_SCREENSHOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.0.join("page.png"));
    chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,900",
        ],
        &url,
    )
    .unwrap();
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}
