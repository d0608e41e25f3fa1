//! Values and JSON, both ways. The mapping table (README "Values and JSON")
//! is the contract:
//!
//! | XML-RPC            | JSON                                             |
//! |--------------------|--------------------------------------------------|
//! | int, i4, i8        | integer                                          |
//! | double             | number with a fraction or exponent              |
//! | boolean            | true / false                                     |
//! | string             | string                                           |
//! | nil                | null                                             |
//! | array              | array                                            |
//! | struct             | object (member order kept)                       |
//! | dateTime.iso8601   | an ISO 8601 string going out; `{"$datetime": "..."}` coming back |
//! | base64             | a base64 string going out; `{"$base64": "..."}` coming back |
//!
//! JSON integers beyond i64 become doubles; a double with no fraction stays a
//! double only if JSON wrote it with one (`2.0`), which serde_json keeps.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value as Json};

use crate::xmlrpc::{DateTime, Struct, Value};

/// An XML-RPC value as JSON (for requests to JSON services and CLI output).
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Int(i) => Json::Number((*i).into()),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Double(d) => Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Value::DateTime(dt) => Json::String(iso8601(dt)),
        Value::Base64(bytes) => Json::String(STANDARD.encode(bytes)),
        Value::Struct(members) => Json::Object(
            members
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Nil => Json::Null,
    }
}

/// A JSON value as XML-RPC (answers from JSON services, CLI arguments).
pub fn from_json(json: Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(n.as_f64().ok_or("number out of range")?),
        },
        Json::String(s) => Value::String(s),
        Json::Array(items) => {
            Value::Array(items.into_iter().map(from_json).collect::<Result<_, _>>()?)
        }
        Json::Object(map) => from_object(map)?,
    })
}

fn from_object(mut map: Map<String, Json>) -> Result<Value, String> {
    if map.len() == 1 {
        if let Some(Json::String(text)) = map.get("$datetime") {
            return parse_datetime(text).map(Value::DateTime);
        }
        if let Some(Json::String(text)) = map.get("$base64") {
            return STANDARD
                .decode(text.as_bytes())
                .map(Value::Base64)
                .map_err(|_| "$base64 holds invalid base64".to_owned());
        }
    }
    let mut members = Struct::with_capacity(map.len());
    for (k, v) in std::mem::take(&mut map) {
        members.insert(k, from_json(v)?);
    }
    Ok(Value::Struct(members))
}

/// ISO 8601 extended form: `1998-07-17T14:08:55` (+ fraction, + offset).
pub fn iso8601(dt: &DateTime) -> String {
    let wire = dt.to_string(); // 19980717T14:08:55[.f][Z|+hh:mm]
    format!(
        "{}-{}-{}{}",
        &wire[0..4],
        &wire[4..6],
        &wire[6..8],
        &wire[8..]
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS` or `YYYYMMDDTHH:MM:SS`, with optional
/// fraction and `Z` / `±HH:MM`.
pub fn parse_datetime(text: &str) -> Result<DateTime, String> {
    let bad = || format!("{text:?} is not an ISO 8601 date and time");
    let compact: String = {
        let (date, time) = text.split_once('T').ok_or_else(bad)?;
        format!("{}T{time}", date.replace('-', ""))
    };
    let b = compact.as_bytes();
    if b.len() < 17 || b[8] != b'T' || b[11] != b':' || b[14] != b':' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| {
        compact
            .get(r)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(bad)
    };
    let mut dt = DateTime::new(
        num(0..4)?,
        num(4..6)? as u8,
        num(6..8)? as u8,
        num(9..11)? as u8,
        num(12..14)? as u8,
        num(15..17)? as u8,
    )
    .ok_or_else(bad)?;
    let mut rest = &compact[17..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return Err(bad());
        }
        dt.nanos = format!("{:0<9}", &frac[..digits])
            .parse()
            .map_err(|_| bad())?;
        rest = &frac[digits..];
    }
    dt.offset_minutes = match rest {
        "" => None,
        "Z" => Some(0),
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(bad()),
            };
            let (h, m) = rest[1..].split_once(':').ok_or_else(bad)?;
            let h: i16 = h.parse().map_err(|_| bad())?;
            let m: i16 = m.parse().map_err(|_| bad())?;
            Some(sign * (h * 60 + m))
        }
    };
    if dt.is_valid() { Ok(dt) } else { Err(bad()) }
}
