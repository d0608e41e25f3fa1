//! A route's mapping keys (`http_method`, `path`, `query`, `headers`,
//! `basic_auth`, `body`, `result`) and a backend's `errors`, checked into
//! the backend layer's [`Mapping`] and [`ErrorMap`]. Every refusal names the
//! key: a template naming a param the route cannot have, a placeholder that
//! is not a whole path segment, a bad JSON Pointer, an unknown type.

use reqwest::header::HeaderName;
use serde_json::Value as Json;

use super::raw::{BodyConfig, ErrorsConfig, QueryConfig, ResultConfig, RouteConfig};
use crate::backend::{
    Body, Coerce, ErrorMap, ErrorRule, HttpMethod, Mapping, PathTemplate, Query, RequestMap,
    ResultMap, Source,
};

/// Whether the route uses any mapping key (the plain `path` does not
/// count unless it is a template).
pub(super) fn has_mapping(rc: &RouteConfig) -> bool {
    rc.http_method.is_some()
        || rc.path.as_deref().is_some_and(|p| p.contains('{'))
        || rc.query.is_some()
        || !rc.headers.is_empty()
        || rc.basic_auth.is_some()
        || rc.body.is_some()
        || rc.result.is_some()
}

/// The route's mapping; errors are `(key, message)`, the key relative to
/// the route. `backend_method` is the backend's `http_method`, for a route
/// without its own.
pub(super) fn route_mapping(
    rc: &RouteConfig,
    backend_method: HttpMethod,
) -> Result<Mapping, (String, String)> {
    let names = rc.params.as_deref();
    fn at(key: &str) -> impl Fn(String) -> (String, String) + '_ {
        move |msg| (key.to_owned(), msg)
    }
    let path = match &rc.path {
        Some(p) if p.contains('{') => Some(PathTemplate::parse(p, names).map_err(at("path"))?),
        _ => None,
    };
    let source = |key: &str, value: &Json| Source::parse(value, names).map_err(at(key));
    let table = |key: &str, table: &std::collections::BTreeMap<String, Json>| {
        table
            .iter()
            .filter(|(name, _)| *name != "*")
            .map(|(name, value)| Ok((name.clone(), source(key, value)?)))
            .collect::<Result<Vec<_>, (String, String)>>()
    };
    let whole = |key: &str, text: &str| match Source::parse(&Json::String(text.to_owned()), names)
        .map_err(at(key))?
    {
        Source::Param(path) => Ok(path),
        Source::Literal(_) => Err((
            key.to_owned(),
            format!("{text:?} is not a placeholder like \"{{0}}\""),
        )),
    };
    let query = match &rc.query {
        None => Query::Params,
        Some(QueryConfig::Spread(text)) => Query::Spread(whole("query", text)?, Vec::new()),
        Some(QueryConfig::Table(t)) => {
            let named = table("query", t)?;
            match t.get("*") {
                Some(Json::String(text)) => Query::Spread(whole("query.*", text)?, named),
                Some(_) => {
                    return Err((
                        "query.*".into(),
                        "must be a placeholder like \"{0}\"".into(),
                    ));
                }
                None => Query::Named(named),
            }
        }
    };
    let mut headers = Vec::new();
    for (name, value) in &rc.headers {
        let key = format!("headers.{name}");
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| (key.clone(), "not a header name".to_owned()))?;
        headers.push((header, source(&key, &Json::String(value.clone()))?));
    }
    let basic_auth = match rc.basic_auth.as_deref() {
        None => None,
        Some([user, password]) => Some((
            source("basic_auth", &Json::String(user.clone()))?,
            source("basic_auth", &Json::String(password.clone()))?,
        )),
        Some(_) => return Err(("basic_auth".into(), "give [user, password]".into())),
    };
    let body = match &rc.body {
        None | Some(BodyConfig::Switch(true)) => Body::Params,
        Some(BodyConfig::Switch(false)) => Body::Empty,
        Some(BodyConfig::Whole(text)) => Body::Whole(whole("body", text)?),
        Some(BodyConfig::Table(t)) => Body::Members(table("body", t)?),
    };
    let result = match &rc.result {
        None => ResultMap::default(),
        Some(r) => result_map(r)?,
    };
    // A whole param sent as a header or as Basic auth (a password) must not
    // go out a second time in the params the route sends by default:
    // members of a struct are taken out of it, but a whole param can only
    // be left out by naming what is sent instead.
    let whole_credential = headers
        .iter()
        .map(|(_, s)| s)
        .chain(basic_auth.iter().flat_map(|(u, p)| [u, p]))
        .find_map(|s| match s {
            Source::Param(p) if p.members.is_empty() => Some(p.to_string()),
            _ => None,
        });
    if let Some(param) = whole_credential {
        let method = rc.http_method.unwrap_or(backend_method);
        let (key, unset) = if method.has_body() {
            ("body", matches!(body, Body::Params))
        } else {
            ("query", matches!(query, Query::Params))
        };
        if unset {
            return Err((
                key.to_owned(),
                format!(
                    "{param} goes in a header or Basic auth, and the default {key} would send it too: set {key} (e.g. {key} = {})",
                    if key == "body" { "false" } else { "{}" }
                ),
            ));
        }
    }
    Ok(Mapping {
        request: RequestMap {
            method: rc.http_method,
            path,
            query,
            headers,
            basic_auth,
            body,
        },
        result,
    })
}

fn pointer(key: &str, text: &str) -> Result<String, (String, String)> {
    if text.is_empty() || text.starts_with('/') {
        Ok(text.to_owned())
    } else {
        Err((
            key.to_owned(),
            format!("{text:?} is not a JSON Pointer (RFC 6901: empty, or starting with /)"),
        ))
    }
}

fn coerce(key: &str, name: &str) -> Result<Coerce, (String, String)> {
    Coerce::parse(name).map_err(|msg| (key.to_owned(), msg))
}

fn result_map(r: &ResultConfig) -> Result<ResultMap, (String, String)> {
    Ok(ResultMap {
        pointer: r
            .pointer
            .as_deref()
            .map(|p| pointer("result.pointer", p))
            .transpose()?,
        members: r
            .members
            .iter()
            .map(|(name, p)| Ok((name.clone(), pointer(&format!("result.members.{name}"), p)?)))
            .collect::<Result<_, (String, String)>>()?,
        rename: r
            .rename
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect(),
        defaults: r
            .defaults
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect(),
        types: r
            .types
            .iter()
            .map(|(name, ty)| Ok((name.clone(), coerce(&format!("result.types.{name}"), ty)?)))
            .collect::<Result<_, (String, String)>>()?,
        value_type: r
            .value_type
            .as_deref()
            .map(|t| coerce("result.type", t))
            .transpose()?,
        constant: r.value.clone(),
        wrap_array: r.array,
    })
}

/// A backend's `errors` table; errors are `(key, message)` relative to the
/// backend.
pub(super) fn error_map(e: &ErrorsConfig) -> Result<ErrorMap, (String, String)> {
    let defaults = ErrorMap::default();
    Ok(ErrorMap {
        code_pointer: match &e.code {
            Some(p) => pointer("errors.code", p)?,
            None => defaults.code_pointer,
        },
        message_pointer: match &e.message {
            Some(p) => pointer("errors.message", p)?,
            None => defaults.message_pointer,
        },
        rules: e
            .rules
            .iter()
            .map(|r| ErrorRule {
                status: r.status,
                code: r.code.clone(),
                fault_code: r.fault_code,
                fault_string: r.fault_string.clone(),
            })
            .collect(),
        pass_codes: e.pass_codes,
    })
}

/// A one-line description of a mapping, for `check-config`.
pub fn describe(mapping: &Mapping) -> String {
    let r = &mapping.request;
    let mut parts = Vec::new();
    if let Some(method) = r.method {
        parts.push(format!("{method:?}").to_uppercase());
    }
    if let Some(path) = &r.path {
        let text: Vec<String> = path
            .segments
            .iter()
            .map(|s| match s {
                crate::backend::Segment::Text(t) => t.clone(),
                crate::backend::Segment::Value(p) => p.to_string(),
            })
            .collect();
        parts.push(format!("/{}", text.join("/")));
    }
    let sources = |items: &[(String, Source)]| {
        items
            .iter()
            .map(|(n, s)| format!("{n}={}", source_text(s)))
            .collect::<Vec<_>>()
            .join("&")
    };
    match &r.query {
        Query::Params => {}
        Query::Spread(p, named) if named.is_empty() => parts.push(format!("?{p}")),
        Query::Spread(p, named) => parts.push(format!("?{p}&{}", sources(named))),
        Query::Named(named) => parts.push(format!("?{}", sources(named))),
    }
    for (name, s) in &r.headers {
        parts.push(format!("{name}: {}", source_text(s)));
    }
    if let Some((u, p)) = &r.basic_auth {
        parts.push(format!("basic {}:{}", source_text(u), source_text(p)));
    }
    match &r.body {
        Body::Params => {}
        Body::Empty => parts.push("no body".into()),
        Body::Whole(p) => parts.push(format!("body {p}")),
        Body::Members(m) => parts.push(format!("body {{{}}}", sources(m).replace('&', ", "))),
    }
    if let Some(p) = &mapping.result.pointer {
        parts.push(format!("-> {p}"));
    }
    parts.join(" ")
}

fn source_text(s: &Source) -> String {
    match s {
        Source::Param(p) => p.to_string(),
        Source::Literal(v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw::Config;

    fn route_error(route: &str) -> String {
        let toml = format!(
            "[backends.b]\nkind = \"json\"\nurl = \"http://127.0.0.1:9/\"\n\n[[routes]]\nmethod = \"m\"\nbackend = \"b\"\n{route}"
        );
        let cfg = Config::from_toml(&toml).unwrap();
        super::super::build_table(&cfg, &crate::RoutingTable::new(), &crate::Metrics::new())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_mappings_are_refused_naming_the_key() {
        for (route, key) in [
            ("path = \"/bug/{3}\"\nparams = [\"id\"]\n", ".path"),
            ("path = \"/bug/x{0}\"\n", ".path"),
            ("path = \"/bug/{nobody}\"\n", ".path"),
            ("query = \"not-a-placeholder\"\n", ".query"),
            ("[routes.result]\npointer = \"bugs/0\"\n", ".result.pointer"),
            (
                "[routes.result]\ntypes = { when = \"date\" }\n",
                ".result.types.when",
            ),
            ("basic_auth = [\"{0}\"]\n", ".basic_auth"),
            ("basic_auth = [\"{0}\", \"{1}\"]\n", ".body"),
            (
                "http_method = \"GET\"\nheaders = { X-Key = \"{1}\" }\n",
                ".query",
            ),
        ] {
            let err = route_error(route);
            assert!(
                err.contains(&format!("routes[0] (method \"m\"){key}:")),
                "{route}: {err}"
            );
        }
    }
}
