//! Request and response mapping for `json` routes, on typed values: where a
//! call's params go in the HTTP request (path segments, query, headers,
//! Basic auth, body) and how the service's answer becomes the value the
//! client gets (a JSON Pointer, members picked, renamed and defaulted, types
//! coerced). How an error answer becomes a fault is `faults.rs`.
//!
//! Nothing here works on text: a param reaches the path as one
//! percent-encoded segment, so no value can change the path's shape; a value
//! that is missing or not a scalar where one is needed is fault -32602.

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value as Json;

use super::convert;
use super::error::BackendError;
use super::spec::HttpMethod;
use crate::xmlrpc::{Struct, Value, parse_datetime};

/// A reference to a call's params: `{0}`, `{0.ids}`, `{0.ids.0}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamPath {
    /// Which param (0 is the first).
    pub index: usize,
    /// Members (or array indices, written as numbers) below it.
    pub members: Vec<String>,
}

impl ParamPath {
    /// Parses `0`, `0.ids`, or `name.ids` with `name` one of `names`.
    pub fn parse(text: &str, names: Option<&[String]>) -> Result<ParamPath, String> {
        let mut parts = text.split('.');
        let head = parts.next().unwrap_or_default();
        let index = match head.parse::<usize>() {
            Ok(index) => index,
            Err(_) => names
                .and_then(|names| names.iter().position(|n| n == head))
                .ok_or_else(|| {
                    format!("{{{text}}} names no param (use a position or a `params` name)")
                })?,
        };
        if let Some(names) = names
            && index >= names.len()
        {
            return Err(format!(
                "{{{text}}}: the route names only {} params",
                names.len()
            ));
        }
        let members: Vec<String> = parts.map(str::to_owned).collect();
        if members.iter().any(String::is_empty) {
            return Err(format!("{{{text}}} has an empty member name"));
        }
        Ok(ParamPath { index, members })
    }

    /// The value it names in `params`, if there is one.
    pub(crate) fn find<'a>(&self, params: &'a [Value]) -> Option<&'a Value> {
        let mut value = params.get(self.index)?;
        for member in &self.members {
            value = match value {
                Value::Struct(members) => members.get(member.as_str())?,
                Value::Array(items) => items.get(member.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match value {
            Value::Nil => None,
            value => Some(value),
        }
    }
}

impl std::fmt::Display for ParamPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{}", self.index)?;
        for m in &self.members {
            write!(f, ".{m}")?;
        }
        f.write_str("}")
    }
}

/// Where a value comes from: a param, or a constant written in config.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A param or a member of one.
    Param(ParamPath),
    /// A constant.
    Literal(Json),
}

impl Source {
    /// `"{0.ids}"` is a param; any other value is a constant.
    pub fn parse(value: &Json, names: Option<&[String]>) -> Result<Source, String> {
        if let Json::String(text) = value
            && let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'))
            && !inner.contains(['{', '}'])
        {
            return ParamPath::parse(inner, names).map(Source::Param);
        }
        Ok(Source::Literal(value.clone()))
    }
}

/// One piece of a path template.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    /// Text written in config (already a path).
    Text(String),
    /// A value, sent as exactly one segment.
    Value(ParamPath),
}

/// A path template: `/rest/bug/{0.ids.0}/comment`.
#[derive(Clone, Debug, PartialEq)]
pub struct PathTemplate {
    /// The segments between slashes; each is text, or one value.
    pub segments: Vec<Segment>,
}

impl PathTemplate {
    /// Parses a template; a placeholder must be a whole segment.
    pub fn parse(text: &str, names: Option<&[String]>) -> Result<PathTemplate, String> {
        let mut segments = Vec::new();
        for part in text.split('/').filter(|p| !p.is_empty()) {
            if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                segments.push(Segment::Value(ParamPath::parse(inner, names)?));
            } else if part.contains(['{', '}']) {
                return Err(format!(
                    "{part:?}: a placeholder must be a whole path segment (`/{{0}}/`)"
                ));
            } else {
                segments.push(Segment::Text(part.to_owned()));
            }
        }
        Ok(PathTemplate { segments })
    }

    fn params(&self) -> impl Iterator<Item = &ParamPath> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Value(p) => Some(p),
            Segment::Text(_) => None,
        })
    }
}

/// What the request body is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Body {
    /// As without a mapping: the params (a lone struct param as itself),
    /// less the members the mapping sent elsewhere.
    #[default]
    Params,
    /// No body.
    Empty,
    /// One param or member (a struct less the members sent elsewhere).
    Whole(ParamPath),
    /// An object of these members.
    Members(Vec<(String, Source)>),
}

/// Where the query parameters come from.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Query {
    /// As without a mapping: GET and DELETE send the params as the query.
    #[default]
    Params,
    /// Every member of a struct param (less those sent elsewhere), then
    /// these named ones.
    Spread(ParamPath, Vec<(String, Source)>),
    /// These named parameters only.
    Named(Vec<(String, Source)>),
}

/// How a route's call becomes an HTTP request to a `json` backend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestMap {
    /// The HTTP method, when the route sets its own.
    pub method: Option<HttpMethod>,
    /// The path under the backend URL, when it is a template.
    pub path: Option<PathTemplate>,
    /// Query parameters.
    pub query: Query,
    /// Request headers from params (or constants).
    pub headers: Vec<(HeaderName, Source)>,
    /// `Authorization: Basic` from a user and a password.
    pub basic_auth: Option<(Source, Source)>,
    /// The body.
    pub body: Body,
}

/// An XML-RPC type a JSON value is coerced to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coerce {
    /// `string` (numbers and booleans written out).
    String,
    /// `int` (from a string of digits).
    Int,
    /// `boolean` (from 0/1 or "true"/"false").
    Boolean,
    /// `double`.
    Double,
    /// `dateTime.iso8601`, from an ISO 8601 string.
    DateTime,
    /// `base64`, from a base64 string.
    Base64,
}

impl Coerce {
    /// Parses an XML-RPC type name.
    pub fn parse(name: &str) -> Result<Coerce, String> {
        Ok(match name {
            "string" => Coerce::String,
            "int" | "i4" | "i8" => Coerce::Int,
            "boolean" => Coerce::Boolean,
            "double" => Coerce::Double,
            "dateTime.iso8601" => Coerce::DateTime,
            "base64" => Coerce::Base64,
            other => {
                return Err(format!(
                    "{other:?} is not one of string, int, boolean, double, dateTime.iso8601, base64"
                ));
            }
        })
    }

    fn apply(self, value: Value) -> Result<Value, String> {
        Ok(match (self, value) {
            (_, Value::Nil) => Value::Nil,
            (Coerce::String, Value::String(s)) => Value::String(s),
            (Coerce::String, Value::Int(n)) => Value::String(n.to_string()),
            (Coerce::String, Value::Double(n)) => Value::String(n.to_string()),
            (Coerce::String, Value::Bool(b)) => Value::String(b.to_string()),
            (Coerce::Int, Value::Int(n)) => Value::Int(n),
            (Coerce::Int, Value::String(s)) => Value::Int(
                s.trim()
                    .parse()
                    .map_err(|_| format!("{s:?} is not an integer"))?,
            ),
            (Coerce::Int, Value::Bool(b)) => Value::Int(i64::from(b)),
            (Coerce::Boolean, Value::Bool(b)) => Value::Bool(b),
            (Coerce::Boolean, Value::Int(n)) => Value::Bool(n != 0),
            (Coerce::Boolean, Value::String(s)) => match s.as_str() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" | "" => Value::Bool(false),
                _ => return Err(format!("{s:?} is not a boolean")),
            },
            (Coerce::Double, Value::Double(n)) => Value::Double(n),
            (Coerce::Double, Value::Int(n)) => Value::Double(n as f64),
            (Coerce::Double, Value::String(s)) => Value::Double(
                s.trim()
                    .parse()
                    .map_err(|_| format!("{s:?} is not a number"))?,
            ),
            (Coerce::DateTime, Value::String(s)) => Value::DateTime(parse_datetime(&s)?),
            (Coerce::DateTime, v @ Value::DateTime(_)) => v,
            (Coerce::Base64, Value::String(s)) => Value::Base64(
                base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .map_err(|_| "not base64".to_owned())?,
            ),
            (Coerce::Base64, v @ Value::Base64(_)) => v,
            (ty, other) => return Err(format!("a {} cannot become {ty:?}", other.type_name())),
        })
    }
}

/// How a service's answer becomes the value a client gets. Each step is
/// optional; they run in this order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultMap {
    /// An RFC 6901 JSON Pointer to the value in the answer (`/bugs/0`).
    pub pointer: Option<String>,
    /// Build a struct of these members, each a JSON Pointer into the value
    /// (into each item, when the value is an array).
    pub members: Vec<(String, String)>,
    /// Rename members (of each item, when the value is an array).
    pub rename: Vec<(String, String)>,
    /// Members added when missing or null (to each item of an array).
    pub defaults: Vec<(String, Json)>,
    /// Members coerced to an XML-RPC type, at any depth.
    pub types: Vec<(String, Coerce)>,
    /// The whole value coerced to an XML-RPC type.
    pub value_type: Option<Coerce>,
    /// Answer this constant instead (the call still has to succeed).
    pub constant: Option<Json>,
    /// Wrap the value in a one-item array.
    pub wrap_array: bool,
}

/// A route's mapping onto a `json` backend: the request and the answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// Where the params go.
    pub request: RequestMap,
    /// What the client gets.
    pub result: ResultMap,
}

/// A request, mapped: what the json backend sends.
#[derive(Debug, Default)]
pub(super) struct Mapped {
    /// Path segments to push under the backend URL (`None`: the route's
    /// plain path or the derived one).
    pub(super) segments: Option<Vec<String>>,
    /// Query pairs (`None`: as without a mapping).
    pub(super) query: Option<Vec<(String, String)>>,
    pub(super) headers: HeaderMap,
    /// The body (`None`: no body).
    pub(super) body: Option<Json>,
}

fn bad(msg: String) -> BackendError {
    BackendError::InvalidParams(msg)
}

/// The longest value that goes in a path segment, a query value or a header:
/// servers refuse longer URLs and headers, and a client could otherwise
/// make the gateway send them.
pub const MAX_VALUE_BYTES: usize = 4096;

/// A value as one path segment, query value or header value.
fn scalar_text(value: &Value, what: &dyn std::fmt::Display) -> Result<String, BackendError> {
    let text = scalar_text_unbounded(value, what)?;
    if text.len() > MAX_VALUE_BYTES {
        return Err(bad(format!(
            "{what}: longer than {MAX_VALUE_BYTES} bytes, too long for a URL or header"
        )));
    }
    Ok(text)
}

fn scalar_text_unbounded(
    value: &Value,
    what: &dyn std::fmt::Display,
) -> Result<String, BackendError> {
    Ok(match value {
        Value::String(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Double(n) => n.to_string(),
        Value::DateTime(dt) => convert::iso8601(dt),
        other => {
            return Err(bad(format!(
                "{what}: a {} cannot go in a URL or header",
                other.type_name()
            )));
        }
    })
}

fn source_value(source: &Source, params: &[Value]) -> Option<Value> {
    match source {
        Source::Param(path) => path.find(params).cloned(),
        Source::Literal(json) => convert::from_json(json.clone()).ok(),
    }
}

impl RequestMap {
    /// The params this map sends somewhere other than the body: removed
    /// from a struct that becomes the body (or the query).
    fn taken(&self) -> Vec<&ParamPath> {
        let mut taken: Vec<&ParamPath> = Vec::new();
        if let Some(path) = &self.path {
            taken.extend(path.params());
        }
        let named = match &self.query {
            Query::Spread(_, named) | Query::Named(named) => named.as_slice(),
            Query::Params => &[],
        };
        let sources = named
            .iter()
            .map(|(_, s)| s)
            .chain(self.headers.iter().map(|(_, s)| s))
            .chain(self.basic_auth.iter().flat_map(|(u, p)| [u, p]));
        for source in sources {
            if let Source::Param(p) = source {
                taken.push(p);
            }
        }
        taken
    }

    /// `params[path]` as JSON, a struct less the members `taken` names
    /// directly below it.
    fn without_taken(&self, path: &ParamPath, params: &[Value]) -> Option<Json> {
        let value = path.find(params)?;
        let Value::Struct(members) = value else {
            return Some(convert::to_json(value));
        };
        let taken = self.taken();
        let mut kept = Struct::with_capacity(members.len());
        for (name, member) in members {
            let removed = taken.iter().any(|t| {
                t.index == path.index
                    && t.members.len() > path.members.len()
                    && t.members[..path.members.len()] == path.members[..]
                    && t.members[path.members.len()] == *name
            });
            if !removed {
                kept.insert(name.clone(), member.clone());
            }
        }
        Some(convert::to_json(&Value::Struct(kept)))
    }

    /// Maps a call's params. `default_body` is the body without a mapping.
    pub(super) fn apply(
        &self,
        params: &[Value],
        default_body: impl FnOnce() -> Result<Json, BackendError>,
        has_body: bool,
    ) -> Result<Mapped, BackendError> {
        let mut mapped = Mapped::default();
        if let Some(template) = &self.path {
            let mut segments = Vec::with_capacity(template.segments.len());
            for segment in &template.segments {
                match segment {
                    Segment::Text(text) => segments.push(text.clone()),
                    Segment::Value(path) => {
                        let value = path.find(params).ok_or_else(|| {
                            bad(format!("{path} is missing (the URL path needs it)"))
                        })?;
                        let text = scalar_text(value, path)?;
                        if text.is_empty() || text == "." || text == ".." {
                            return Err(bad(format!("{path}: {text:?} cannot be a path segment")));
                        }
                        segments.push(text);
                    }
                }
            }
            mapped.segments = Some(segments);
        }
        let mut pairs = Vec::new();
        let add = |pairs: &mut Vec<(String, String)>,
                   name: &str,
                   value: &Value|
         -> Result<(), BackendError> {
            match value {
                Value::Array(items) => {
                    for item in items {
                        pairs.push((name.to_owned(), scalar_text(item, &name)?));
                    }
                }
                Value::Nil => {}
                value => pairs.push((name.to_owned(), scalar_text(value, &name)?)),
            }
            Ok(())
        };
        match &self.query {
            Query::Params if !has_body && matches!(params, [Value::Struct(_)]) => {
                let spread = ParamPath {
                    index: 0,
                    members: Vec::new(),
                };
                if let Some(Json::Object(members)) = self.without_taken(&spread, params) {
                    for (name, member) in members {
                        let value = convert::from_json(member).map_err(bad)?;
                        add(&mut pairs, &name, &value)?;
                    }
                }
                mapped.query = Some(pairs);
            }
            Query::Params => {}
            Query::Spread(path, named) => {
                if let Some(Json::Object(members)) = self.without_taken(path, params) {
                    for (name, member) in members {
                        let value = convert::from_json(member).map_err(bad)?;
                        add(&mut pairs, &name, &value)?;
                    }
                }
                for (name, source) in named {
                    if let Some(value) = source_value(source, params) {
                        add(&mut pairs, name, &value)?;
                    }
                }
                mapped.query = Some(pairs);
            }
            Query::Named(named) => {
                for (name, source) in named {
                    if let Some(value) = source_value(source, params) {
                        add(&mut pairs, name, &value)?;
                    }
                }
                mapped.query = Some(pairs);
            }
        }
        for (name, source) in &self.headers {
            let Some(value) = source_value(source, params) else {
                continue;
            };
            let text = scalar_text(&value, name)?;
            let value = HeaderValue::from_str(&text)
                .map_err(|_| bad(format!("{name}: not a valid header value")))?;
            mapped.headers.insert(name.clone(), value);
        }
        if let Some((user, password)) = &self.basic_auth {
            let user =
                source_value(user, params).ok_or_else(|| bad("the user name is missing".into()))?;
            let password = source_value(password, params)
                .ok_or_else(|| bad("the password is missing".into()))?;
            let pair = format!(
                "{}:{}",
                scalar_text(&user, &"user")?,
                scalar_text(&password, &"password")?
            );
            let token = base64::engine::general_purpose::STANDARD.encode(pair);
            let mut value = HeaderValue::from_str(&format!("Basic {token}"))
                .map_err(|_| bad("credentials do not fit a header".into()))?;
            value.set_sensitive(true);
            mapped.headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        mapped.body = match &self.body {
            Body::Empty => None,
            _ if !has_body => None,
            Body::Params => match params {
                [Value::Struct(_)] => self.without_taken(
                    &ParamPath {
                        index: 0,
                        members: Vec::new(),
                    },
                    params,
                ),
                _ => Some(default_body()?),
            },
            Body::Whole(path) => Some(self.without_taken(path, params).unwrap_or(Json::Null)),
            Body::Members(members) => {
                let mut object = serde_json::Map::new();
                for (name, source) in members {
                    if let Some(value) = source_value(source, params) {
                        object.insert(name.clone(), convert::to_json(&value));
                    }
                }
                Some(Json::Object(object))
            }
        };
        Ok(mapped)
    }
}

/// Picks `pointer` in `json`, moving it out.
fn take_pointer(json: &mut Json, pointer: &str) -> Option<Json> {
    json.pointer_mut(pointer).map(Json::take)
}

impl ResultMap {
    /// Turns a service's successful answer into the client's value.
    pub(super) fn apply(&self, mut json: Json) -> Result<Value, BackendError> {
        if let Some(constant) = &self.constant {
            return convert::from_json(constant.clone()).map_err(BackendError::BadBody);
        }
        if let Some(pointer) = &self.pointer {
            json = take_pointer(&mut json, pointer).ok_or_else(|| {
                BackendError::BadBody(format!("the answer has nothing at {pointer}"))
            })?;
        }
        json = match json {
            Json::Array(items) => Json::Array(items.into_iter().map(|i| self.shape(i)).collect()),
            other => self.shape(other),
        };
        let mut value = convert::from_json(json).map_err(BackendError::BadBody)?;
        if !self.types.is_empty() {
            value = self.coerce_members(value).map_err(BackendError::BadBody)?;
        }
        if let Some(ty) = self.value_type {
            value = ty.apply(value).map_err(BackendError::BadBody)?;
        }
        Ok(if self.wrap_array {
            Value::Array(vec![value])
        } else {
            value
        })
    }

    /// Members, renames and defaults, on one item.
    fn shape(&self, mut item: Json) -> Json {
        if !self.members.is_empty() {
            let mut picked = serde_json::Map::new();
            for (name, pointer) in &self.members {
                if let Some(value) = item.pointer(pointer) {
                    picked.insert(name.clone(), value.clone());
                }
            }
            item = Json::Object(picked);
        }
        let Json::Object(object) = &mut item else {
            return item;
        };
        for (from, to) in &self.rename {
            if let Some(value) = object.remove(from) {
                object.insert(to.clone(), value);
            }
        }
        for (name, default) in &self.defaults {
            let entry = object.entry(name.clone()).or_insert(Json::Null);
            if entry.is_null() {
                *entry = default.clone();
            }
        }
        item
    }

    fn coerce_members(&self, value: Value) -> Result<Value, String> {
        Ok(match value {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|i| self.coerce_members(i))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Struct(members) => {
                let mut out = Struct::with_capacity(members.len());
                for (name, member) in members {
                    let member = match self.types.iter().find(|(n, _)| *n == name) {
                        Some((_, ty)) => ty.apply(member).map_err(|e| format!("{name}: {e}"))?,
                        None => self.coerce_members(member)?,
                    };
                    out.insert(name, member);
                }
                Value::Struct(out)
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> ParamPath {
        ParamPath::parse(text, None).unwrap()
    }

    fn bug_struct() -> Vec<Value> {
        vec![Value::structure([
            ("ids", Value::Array(vec![Value::Int(7), Value::Int(8)])),
            ("Bugzilla_api_key", Value::from("k3y")),
            ("status", Value::from("RESOLVED")),
        ])]
    }

    #[test]
    fn param_paths_resolve_members_and_indices() {
        let params = bug_struct();
        assert_eq!(p("0.ids.1").find(&params), Some(&Value::Int(8)));
        assert_eq!(p("0.status").find(&params), Some(&Value::from("RESOLVED")));
        assert_eq!(p("0.nope").find(&params), None);
        assert_eq!(p("1").find(&params), None);
        let names = vec!["bug".to_owned()];
        assert_eq!(
            ParamPath::parse("bug.ids", Some(&names)).unwrap(),
            p("0.ids")
        );
        assert!(ParamPath::parse("other", Some(&names)).is_err());
        assert!(ParamPath::parse("1", Some(&names)).is_err());
        assert!(ParamPath::parse("0..x", None).is_err());
    }

    #[test]
    fn path_values_are_one_segment_and_never_dots() {
        let template = PathTemplate::parse("/rest/bug/{0}/comment", None).unwrap();
        let map = RequestMap {
            path: Some(template),
            ..RequestMap::default()
        };
        let segments = |v: Value| {
            map.apply(&[v], || Ok(Json::Null), false)
                .map(|m| m.segments)
        };
        assert_eq!(
            segments(Value::from("a/../b?c#d")).unwrap(),
            Some(vec![
                "rest".into(),
                "bug".into(),
                "a/../b?c#d".into(),
                "comment".into()
            ])
        );
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        assert!(matches!(
            segments(Value::from(long.as_str())),
            Err(BackendError::InvalidParams(_))
        ));
        for bad_value in ["..", ".", ""] {
            assert!(matches!(
                segments(Value::from(bad_value)),
                Err(BackendError::InvalidParams(_))
            ));
        }
        assert!(matches!(
            segments(Value::Array(vec![])),
            Err(BackendError::InvalidParams(_))
        ));
        assert!(PathTemplate::parse("/a/x{0}", None).is_err());
    }

    #[test]
    fn credentials_move_to_headers_and_leave_the_body() {
        let map = RequestMap {
            path: Some(PathTemplate::parse("/rest/bug/{0.ids.0}", None).unwrap()),
            headers: vec![(
                HeaderName::from_static("x-bugzilla-api-key"),
                Source::Param(p("0.Bugzilla_api_key")),
            )],
            ..RequestMap::default()
        };
        let mapped = map.apply(&bug_struct(), || unreachable!(), true).unwrap();
        assert_eq!(mapped.headers["x-bugzilla-api-key"], "k3y");
        assert_eq!(mapped.body, Some(json!({"status": "RESOLVED"})));
        assert_eq!(
            mapped.segments,
            Some(vec!["rest".into(), "bug".into(), "7".into()])
        );
    }

    #[test]
    fn a_struct_spreads_into_the_query_with_arrays_repeated() {
        let map = RequestMap {
            query: Query::Spread(p("0"), vec![("limit".into(), Source::Literal(json!(5)))]),
            headers: vec![(
                HeaderName::from_static("x-bugzilla-api-key"),
                Source::Param(p("0.Bugzilla_api_key")),
            )],
            ..RequestMap::default()
        };
        let mapped = map.apply(&bug_struct(), || unreachable!(), false).unwrap();
        assert_eq!(
            mapped.query.unwrap(),
            vec![
                ("ids".to_owned(), "7".to_owned()),
                ("ids".into(), "8".into()),
                ("status".into(), "RESOLVED".into()),
                ("limit".into(), "5".into()),
            ]
        );
        assert_eq!(mapped.body, None);
    }

    #[test]
    fn basic_auth_from_params_is_one_sensitive_header() {
        let map = RequestMap {
            basic_auth: Some((Source::Param(p("1")), Source::Param(p("2")))),
            body: Body::Members(vec![("title".into(), Source::Param(p("3.title")))]),
            ..RequestMap::default()
        };
        let params = vec![
            Value::from("1"),
            Value::from("admin"),
            Value::from("pw"),
            Value::structure([("title", Value::from("T")), ("x", Value::from("no"))]),
        ];
        let mapped = map.apply(&params, || unreachable!(), true).unwrap();
        let auth = &mapped.headers[reqwest::header::AUTHORIZATION];
        assert_eq!(auth, "Basic YWRtaW46cHc=");
        assert!(auth.is_sensitive());
        assert_eq!(mapped.body, Some(json!({"title": "T"})));
    }

    #[test]
    fn answers_are_picked_shaped_and_typed() {
        let map = ResultMap {
            pointer: Some("/posts".into()),
            members: vec![
                ("postid".into(), "/id".into()),
                ("title".into(), "/title/raw".into()),
                ("dateCreated".into(), "/date_gmt".into()),
            ],
            defaults: vec![("title".into(), json!(""))],
            types: vec![
                ("postid".into(), Coerce::String),
                ("dateCreated".into(), Coerce::DateTime),
            ],
            ..ResultMap::default()
        };
        let answer = json!({"posts": [
            {"id": 4, "title": {"raw": "Hello"}, "date_gmt": "2026-01-02T03:04:05"},
            {"id": 5, "title": {"raw": null}, "date_gmt": "2026-01-02T03:04:05"}
        ]});
        let value = map.apply(answer).unwrap();
        let items = value.as_array().unwrap();
        let first = items[0].as_struct().unwrap();
        assert_eq!(first.get("postid"), Some(&Value::from("4")));
        assert!(matches!(first.get("dateCreated"), Some(Value::DateTime(_))));
        assert_eq!(
            items[1].as_struct().unwrap().get("title"),
            Some(&Value::from(""))
        );
        let missing = ResultMap {
            pointer: Some("/nope".into()),
            ..ResultMap::default()
        };
        assert!(matches!(
            missing.apply(json!({})),
            Err(BackendError::BadBody(_))
        ));
    }
}
