//! The methods page (`server.docs`), as `DocXMLRPCServer` serves it: a
//! browser's GET on an RPC path gets one self-contained HTML document
//! listing what the dispatcher's catalog holds, grouped by prefix, with a
//! filter box and copy-paste examples. No external assets: inline CSS and
//! one inline script, which the `Content-Security-Policy` admits by their
//! sha256 hashes and nothing else.
//!
//! Absent: which methods are listed (the dispatcher decides, as for a
//! call), and any text not escaped: every value from config, backends or
//! the request goes through [`escape`].

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::OnceLock;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, header};
use http_body_util::Full;

use crate::gateway::{Catalog, MethodDoc, ServedBy, Unlisted};

/// Whether a request asks for the page: a GET whose `Accept` names
/// `text/html` (what browsers send for a page). Other GETs, `*/*` only
/// (curl) included, keep their 405.
pub(crate) fn wants_page(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::GET
        && headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let is_html = parts
                    .next()
                    .is_some_and(|m| m.eq_ignore_ascii_case("text/html"));
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                is_html && !refused
            })
}

/// Where the page says the methods are called: the request's own scheme,
/// `Host` (when it is a plain host name or address, else `localhost`) and
/// path.
pub(crate) fn endpoint(tls: bool, headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}{path}")
}

/// The page as a response: `text/html`, the CSP, `nosniff`, `no-store`.
pub(crate) fn response(html: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(html)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, csp().clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Nothing but the page's own inline style and script, by hash.
fn csp() -> &'static HeaderValue {
    static CSP: OnceLock<HeaderValue> = OnceLock::new();
    CSP.get_or_init(|| {
        let policy = format!(
            "default-src 'none'; style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            sha256(STYLE),
            sha256(SCRIPT)
        );
        HeaderValue::from_str(&policy).expect("a CSP is ASCII")
    })
}

/// A CSP hash source: `sha256-` and the base64 of the text's digest.
fn sha256(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b;background:#fff}h1{margin:.2rem 0}h2{border-bottom:2px solid #ccd;margin:1.6rem 0 .4rem;font-size:1.2rem}h3{margin:0;font-size:1rem}code,pre{font:13px/1.4 ui-monospace,monospace}pre{background:#f4f5f7;padding:.5rem;overflow-x:auto}#filter{width:100%;box-sizing:border-box;font-size:1rem;padding:.4rem;margin:.4rem 0}.m{border:1px solid #dde;border-radius:4px;padding:.5rem .7rem;margin:.5rem 0}.by{float:right;color:#555;font-size:.85rem}.sig{margin:.3rem 0;padding-left:1.2rem}.help{white-space:pre-wrap;margin:.3rem 0}.note{color:#8a4b00}summary{cursor:pointer;color:#335}[hidden]{display:none!important}";

/// Reads an initial filter from `?q=`, then hides the methods (and the
/// groups left empty) whose name does not contain the filter text.
const SCRIPT: &str = "(function(){var f=document.getElementById('filter'),c=document.getElementById('count'),ms=[].slice.call(document.querySelectorAll('.m')),gs=[].slice.call(document.querySelectorAll('.g'));function apply(){var q=f.value.trim().toLowerCase(),n=0;ms.forEach(function(m){var hit=m.getAttribute('data-name').toLowerCase().indexOf(q)>=0;m.hidden=!hit;if(hit)n++;});gs.forEach(function(g){g.hidden=!g.querySelector('.m:not([hidden])');});c.textContent=n+' of '+ms.length+' methods shown';}var q=new URLSearchParams(location.search).get('q');if(q!==null)f.value=q;f.addEventListener('input',apply);apply();})();";

/// Text for an HTML text node or a double-quoted attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The group a name belongs to: its text before the first `.` (`""` for
/// names without one).
pub(crate) fn group_of(name: &str) -> &str {
    name.split_once('.').map_or("", |(prefix, _)| prefix)
}

/// The methods by group, groups and methods in name order.
fn groups(methods: &[MethodDoc]) -> BTreeMap<&str, Vec<&MethodDoc>> {
    let mut groups: BTreeMap<&str, Vec<&MethodDoc>> = BTreeMap::new();
    for m in methods {
        groups.entry(group_of(&m.name)).or_default().push(m);
    }
    groups
}

/// The whole page for `catalog`, called at `endpoint`.
pub(crate) fn render(catalog: &Catalog, endpoint: &str) -> String {
    let mut html = String::with_capacity(4096 + catalog.methods.len() * 700);
    let ep = escape(endpoint);
    let total = catalog.methods.len();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Methods at {ep}</title><style>{STYLE}</style></head><body>\n\
         <header><h1>XML-RPC methods</h1><p>Call them at <code>{ep}</code> \
         (XML-RPC over HTTP POST).</p>\
         <input id=\"filter\" type=\"search\" placeholder=\"Filter by name\" aria-label=\"Filter by name\">\
         <p id=\"count\">{total} methods</p></header>\n<main>\n"
    );
    for (group, methods) in groups(&catalog.methods) {
        let title = if group.is_empty() {
            "(no prefix)".to_owned()
        } else {
            escape(group)
        };
        let _ = writeln!(html, "<section class=\"g\"><h2>{title}</h2>");
        for m in methods {
            method(&mut html, m, endpoint);
        }
        html.push_str("</section>\n");
    }
    html.push_str("</main>\n<footer>");
    if total == 0 {
        html.push_str("<p class=\"note\">No methods you may call here.</p>");
    }
    if catalog.truncated {
        let _ = write!(
            html,
            "<p class=\"note\">There are more: only the first {total} are listed (<code>server.docs_max_methods</code>).</p>"
        );
    }
    if catalog.need_credentials > 0 {
        let _ = write!(
            html,
            "<p class=\"note\">{} more need credentials.</p>",
            catalog.need_credentials
        );
    }
    let _ = write!(html, "</footer>\n<script>{SCRIPT}</script></body></html>\n");
    html
}

fn method(html: &mut String, m: &MethodDoc, endpoint: &str) {
    let name = escape(&m.name);
    let by = match &m.served_by {
        ServedBy::Gateway => "gateway".to_owned(),
        ServedBy::Handler(h) => format!("handler {}", escape(h)),
        ServedBy::Backend(b) => format!("backend {}", escape(b)),
    };
    let _ = write!(
        html,
        "<article class=\"m\" data-name=\"{name}\"><h3><code>{name}</code> <span class=\"by\">{by}</span></h3>"
    );
    if let Some(unlisted) = m.unlisted {
        let why = match unlisted {
            Unlisted::CouldNotList => "could not list its methods just now",
            Unlisted::CannotList => "does not list its methods",
        };
        let _ = write!(
            html,
            "<p class=\"note\">Every name this pattern matches; the target {why}.</p>"
        );
    }
    if !m.signatures.is_empty() {
        html.push_str("<ul class=\"sig\">");
        for row in &m.signatures {
            let (result, params) = row.split_first().map_or(("", &[][..]), |(r, p)| (r, p));
            let params: Vec<String> = params.iter().map(|p| escape(p)).collect();
            let _ = write!(
                html,
                "<li><code>{name}({}) \u{2192} {}</code></li>",
                params.join(", "),
                escape(result)
            );
        }
        html.push_str("</ul>");
    }
    if !m.help.is_empty() {
        let _ = write!(html, "<p class=\"help\">{}</p>", escape(m.help.trim()));
    }
    if m.unlisted.is_none() {
        let types: Vec<&str> = m
            .signatures
            .first()
            .map(|row| row.iter().skip(1).map(|t| param_type(t)).collect())
            .unwrap_or_default();
        let _ = write!(
            html,
            "<details><summary>Examples</summary><pre>{}</pre><pre>{}</pre></details>",
            escape(&python_example(endpoint, &m.name, &types)),
            escape(&cli_example(endpoint, &m.name, &types))
        );
    }
    html.push_str("</article>\n");
}

/// A param's type without its name (OpenRPC rows say `id: integer`).
fn param_type(param: &str) -> &str {
    param.rsplit_once(": ").map_or(param, |(_, ty)| ty)
}

/// A sample value for a type, in Python and in JSON.
fn sample(ty: &str) -> (&'static str, &'static str) {
    match ty.to_ascii_lowercase().as_str() {
        "int" | "i4" | "i8" | "integer" => ("1", "1"),
        "double" | "number" | "float" => ("1.5", "1.5"),
        "boolean" | "bool" => ("True", "true"),
        "string" => ("\"text\"", "\"text\""),
        "array" => ("[]", "[]"),
        "struct" | "object" => ("{}", "{}"),
        "base64" => ("xmlrpc.client.Binary(b\"\")", "\"\""),
        "datetime.iso8601" | "datetime" => (
            "xmlrpc.client.DateTime(\"20260101T00:00:00\")",
            "\"20260101T00:00:00\"",
        ),
        _ => ("None", "null"),
    }
}

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Python's `xmlrpc.client`: `proxy.a.b(...)` when every dotted part is
/// an identifier, else `getattr(proxy, "name")(...)`.
fn python_example(endpoint: &str, name: &str, types: &[&str]) -> String {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !PYTHON_KEYWORDS.contains(&part)
    };
    let callee = if name.split('.').all(identifier) {
        format!("proxy.{name}")
    } else {
        format!("getattr(proxy, {})", python_string(name))
    };
    let args: Vec<&str> = types.iter().map(|t| sample(t).0).collect();
    format!(
        "import xmlrpc.client\nproxy = xmlrpc.client.ServerProxy({})\nprint({callee}({}))",
        python_string(endpoint),
        args.join(", ")
    )
}

/// A Python string literal.
fn python_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `xmlrpc-gateway call URL METHOD ARGS...`, each word quoted for a POSIX
/// shell when it needs it.
fn cli_example(endpoint: &str, name: &str, types: &[&str]) -> String {
    let mut words = vec![shell_word(endpoint), shell_word(name)];
    words.extend(types.iter().map(|t| shell_word(sample(t).1)));
    format!("xmlrpc-gateway call {}", words.join(" "))
}

fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@,+=".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, help: &str) -> MethodDoc {
        MethodDoc {
            name: name.to_owned(),
            signatures: vec![vec!["int".into(), "int".into(), "string".into()]],
            help: help.to_owned(),
            served_by: ServedBy::Backend("inv\"<x>".to_owned()),
            unlisted: None,
        }
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            escape(r#"<script>alert("x" + 'y')</script> & co"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; co"
        );
        let catalog = Catalog {
            methods: vec![doc("a\"onmouseover=\"x.<b>", "<script>alert(1)</script>")],
            ..Catalog::default()
        };
        let html = render(&catalog, "http://h/RPC2");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("data-name=\"a&quot;onmouseover=&quot;x.&lt;b&gt;\""));
        assert!(html.contains("backend inv&quot;&lt;x&gt;"));
        // The only script element is the page's own.
        assert_eq!(html.matches("<script>").count(), 1);
    }

    #[test]
    fn methods_are_grouped_by_prefix() {
        assert_eq!(group_of("inventory.get.one"), "inventory");
        assert_eq!(group_of("add"), "");
        let catalog = Catalog {
            methods: vec![
                doc("add", ""),
                doc("inv.get", ""),
                doc("inv.put", ""),
                doc("b.x", ""),
            ],
            ..Catalog::default()
        };
        let grouped = groups(&catalog.methods);
        let names: Vec<(&str, Vec<&str>)> = grouped
            .iter()
            .map(|(g, ms)| (*g, ms.iter().map(|m| m.name.as_str()).collect()))
            .collect();
        assert_eq!(
            names,
            [
                ("", vec!["add"]),
                ("b", vec!["b.x"]),
                ("inv", vec!["inv.get", "inv.put"])
            ]
        );
        let html = render(&catalog, "http://h/RPC2");
        assert_eq!(html.matches("<section class=\"g\">").count(), 3);
        assert!(html.contains("<h2>(no prefix)</h2>"));
    }

    #[test]
    fn examples_call_the_method_with_sample_args() {
        let py = python_example("http://h:1/RPC2", "inv.get", &["int", "string"]);
        assert!(py.contains("ServerProxy(\"http://h:1/RPC2\")"));
        assert!(py.ends_with("print(proxy.inv.get(1, \"text\"))"), "{py}");
        let odd = python_example("http://h/", "class.x-y", &[]);
        assert!(
            odd.ends_with("print(getattr(proxy, \"class.x-y\")())"),
            "{odd}"
        );
        let cli = cli_example("http://h:1/RPC2", "it's", &["string", "integer"]);
        assert_eq!(
            cli,
            "xmlrpc-gateway call http://h:1/RPC2 'it'\\''s' '\"text\"' 1"
        );
    }

    #[test]
    fn only_an_accept_naming_html_asks_for_the_page() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            h
        };
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_page(&Method::GET, &with(browser)));
        assert!(!wants_page(&Method::POST, &with(browser)));
        assert!(!wants_page(&Method::GET, &with("*/*")));
        assert!(!wants_page(&Method::GET, &with("text/html;q=0")));
        assert!(!wants_page(&Method::GET, &HeaderMap::new()));
    }

    #[test]
    fn the_host_is_used_only_when_plain() {
        let host = |h: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
            endpoint(false, &m, "/RPC2")
        };
        assert_eq!(host("gw.example:8000"), "http://gw.example:8000/RPC2");
        assert_eq!(host("a\"b<c>"), "http://localhost/RPC2");
        assert_eq!(endpoint(true, &HeaderMap::new(), "/"), "https://localhost/");
    }

    #[test]
    fn the_policy_admits_the_inline_script_and_style_by_hash() {
        let policy = csp().to_str().unwrap();
        assert!(policy.contains(&format!("script-src '{}'", sha256(SCRIPT))));
        assert!(policy.contains(&format!("style-src '{}'", sha256(STYLE))));
        assert!(policy.starts_with("default-src 'none'"));
    }
}
