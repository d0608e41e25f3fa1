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
//! Member order is kept both ways (serde_json's `preserve_order`). What
//! cannot round-trip is listed in docs/json-mapping.md.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value as Json};

use crate::xmlrpc::{DateTime, Struct, Value, parse_datetime};

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

#[cfg(test)]
mod tests {
    //! One test per row of the mapping table (docs/json-mapping.md), both
    //! ways, and the cases that cannot round-trip.

    use super::*;
    use serde_json::json;

    fn back(text: &str) -> Value {
        from_json(serde_json::from_str(text).unwrap()).unwrap()
    }

    fn out(value: &Value) -> String {
        serde_json::to_string(&to_json(value)).unwrap()
    }

    #[test]
    fn integers_and_i8() {
        assert_eq!(out(&Value::Int(42)), "42");
        assert_eq!(out(&Value::Int(1 << 40)), "1099511627776");
        assert_eq!(out(&Value::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(back("42"), Value::Int(42));
        assert_eq!(back("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(back("9223372036854775807"), Value::Int(i64::MAX));
        // Beyond i64: a double (precision lost).
        assert_eq!(
            back("9223372036854775808"),
            Value::Double(9.223372036854776e18)
        );
        // Beyond f64, serde_json refuses the document (the backend's answer is a bad body).
        assert!(serde_json::from_str::<Json>("1e400").is_err());
    }

    #[test]
    fn doubles() {
        assert_eq!(out(&Value::Double(2.5)), "2.5");
        assert_eq!(
            out(&Value::Double(2.0)),
            "2.0",
            "a whole double keeps its fraction"
        );
        assert_eq!(back("2.0"), Value::Double(2.0));
        assert_eq!(back("1e3"), Value::Double(1000.0));
        assert_eq!(back("-0.5"), Value::Double(-0.5));
        // Not finite: JSON has no spelling for it.
        assert_eq!(to_json(&Value::Double(f64::NAN)), Json::Null);
        assert_eq!(to_json(&Value::Double(f64::INFINITY)), Json::Null);
    }

    #[test]
    fn booleans_strings_nil() {
        assert_eq!(out(&Value::Bool(true)), "true");
        assert_eq!(back("false"), Value::Bool(false));
        assert_eq!(out(&Value::String("é<&>\"".into())), "\"é<&>\\\"\"");
        assert_eq!(back("\"a\\u0000b\""), Value::String("a\u{0}b".into()));
        assert_eq!(out(&Value::Nil), "null");
        assert_eq!(back("null"), Value::Nil);
    }

    #[test]
    fn arrays_and_structs_keep_order() {
        let s = Value::structure([("b", Value::Int(1)), ("a", Value::Array(vec![Value::Nil]))]);
        assert_eq!(out(&s), r#"{"b":1,"a":[null]}"#);
        assert_eq!(back(r#"{"b":1,"a":[null]}"#), s);
        assert_eq!(
            back("[1,\"x\",[]]"),
            Value::Array(vec![1.into(), "x".into(), Value::Array(vec![])])
        );
    }

    #[test]
    fn empty_struct_and_empty_array_stay_apart() {
        assert_eq!(out(&Value::Struct(Struct::new())), "{}");
        assert_eq!(out(&Value::Array(vec![])), "[]");
        assert_eq!(back("{}"), Value::Struct(Struct::new()));
        assert_eq!(back("[]"), Value::Array(vec![]));
    }

    #[test]
    fn datetimes() {
        let mut dt = DateTime::new(1998, 7, 17, 14, 8, 55).unwrap();
        assert_eq!(out(&Value::DateTime(dt)), "\"1998-07-17T14:08:55\"");
        assert_eq!(
            back(r#"{"$datetime":"1998-07-17T14:08:55"}"#),
            Value::DateTime(dt)
        );
        assert_eq!(
            back(r#"{"$datetime":"19980717T14:08:55"}"#),
            Value::DateTime(dt)
        );
        dt.nanos = 250_000_000;
        dt.offset_minutes = Some(-330);
        assert_eq!(
            out(&Value::DateTime(dt)),
            "\"1998-07-17T14:08:55.25-05:30\""
        );
        assert_eq!(
            back(r#"{"$datetime":"1998-07-17T14:08:55.25-05:30"}"#),
            Value::DateTime(dt)
        );
        dt.offset_minutes = Some(0);
        assert_eq!(
            back(r#"{"$datetime":"1998-07-17T14:08:55.25Z"}"#),
            Value::DateTime(dt)
        );
        for bad in [
            "1998-07-17",
            "1998-13-17T14:08:55",
            "1998-02-30T14:08:55",
            "1998-07-17T14:08:55+05:75",
            "1998-07-17T14:08:55+5:30",
            "1998-07-17T14:08:55+05:-3",
            "1998-07-17T14:08:55.",
            "1998-07-17T14:08:55junk",
            "1998-07-17T14é08:55",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
            assert!(from_json(json!({ "$datetime": bad })).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64() {
        assert_eq!(out(&Value::Base64(b"hi\x00\xff".to_vec())), "\"aGkA/w==\"");
        assert_eq!(
            back(r#"{"$base64":"aGkA/w=="}"#),
            Value::Base64(b"hi\x00\xff".to_vec())
        );
        assert_eq!(back(r#"{"$base64":""}"#), Value::Base64(vec![]));
        assert!(from_json(json!({"$base64": "not base64!"})).is_err());
    }

    #[test]
    fn what_does_not_round_trip() {
        // dateTime and base64 go out as plain strings and come back as strings.
        let dt = Value::DateTime(DateTime::new(2024, 2, 29, 0, 0, 0).unwrap());
        assert_eq!(
            from_json(to_json(&dt)).unwrap(),
            Value::String("2024-02-29T00:00:00".into())
        );
        let b = Value::Base64(b"x".to_vec());
        assert_eq!(
            from_json(to_json(&b)).unwrap(),
            Value::String("eA==".into())
        );
        // A marker with other members, or a non-string value, is a struct.
        assert_eq!(back(r#"{"$base64":"eA==","x":1}"#).type_name(), "struct");
        assert_eq!(back(r#"{"$datetime":5}"#).type_name(), "struct");
        // Non-finite doubles become null; huge integers become doubles.
        assert_eq!(
            from_json(to_json(&Value::Double(f64::NAN))).unwrap(),
            Value::Nil
        );
    }
}
