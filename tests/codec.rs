//! Integration tests of the XML-RPC codec: the fixture corpus under
//! `tests/fixtures/codec/`, round-trip properties, and whole-document edge
//! cases (deep nesting, error offsets).
//!
//! # Fixture format
//!
//! Each case is a pair of files, `NAME.call.xml` + `NAME.call.json` (decoded
//! with `decode_call`) or `NAME.response.xml` + `NAME.response.json`
//! (decoded with `decode_response`). The `.xml` file holds the exact bytes
//! (any encoding). The `.json` file holds one of:
//!
//! * `{"call": {"method": NAME, "params": [VALUE, ...]}}`
//! * `{"response": VALUE}` or `{"fault": {"code": N, "message": S}}`
//! * `{"error": KIND}` where KIND is a `DecodeErrorKind` variant name
//!   (`Syntax`, `Doctype`, `UnknownEntity`, `InvalidChar`,
//!   `UnsupportedEncoding`, `Structure`, `BadValue`, `Limit`)
//!
//! plus an optional `"limits": {"max_depth": N, "max_elements": N,
//! "max_string_bytes": N}` overriding fields of `Limits::default()`.
//!
//! A VALUE is a one-key object naming the type:
//! `{"int": 5}`, `{"boolean": true}`, `{"string": "x"}`, `{"double": 1.5}`
//! (write integral doubles as `2.0`), `{"dateTime": "20261125T09:30:00"}`
//! (compared with `DateTime`'s `Display`), `{"base64": "aGk="}` (standard
//! alphabet, padded), `{"array": [VALUE, ...]}`,
//! `{"struct": [["name", VALUE], ...]}` (member order matters) and
//! `{"nil": null}`.
//!
//! Every case that decodes is also re-encoded in each charset and decoded
//! again, which must give the same result.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use xmlrpc_gateway::xmlrpc::{
    Charset, DateTime, DecodeErrorKind, EncodeOptions, Fault, Limits, MethodCall, MethodResponse,
    Struct, Value, decode_call, decode_response, encode_call, encode_fault, encode_response,
};

const CHARSETS: [Charset; 4] = [
    Charset::Utf8,
    Charset::Latin1,
    Charset::Windows1252,
    Charset::Ascii,
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codec")
}

fn value_json(value: &Value) -> Json {
    match value {
        Value::Int(i) => json!({ "int": i }),
        Value::Bool(b) => json!({ "boolean": b }),
        Value::String(s) => json!({ "string": s }),
        Value::Double(d) => json!({ "double": d }),
        Value::DateTime(dt) => json!({ "dateTime": dt.to_string() }),
        Value::Base64(bytes) => json!({ "base64": BASE64.encode(bytes) }),
        Value::Array(items) => json!({ "array": items.iter().map(value_json).collect::<Vec<_>>() }),
        Value::Struct(members) => {
            let pairs: Vec<Json> = members
                .iter()
                .map(|(k, v)| json!([k, value_json(v)]))
                .collect();
            json!({ "struct": pairs })
        }
        Value::Nil => json!({ "nil": null }),
    }
}

fn call_json(call: &MethodCall) -> Json {
    json!({ "call": { "method": call.name, "params": call.params.iter().map(value_json).collect::<Vec<_>>() } })
}

fn response_json(response: &MethodResponse) -> Json {
    match response {
        Ok(value) => json!({ "response": value_json(value) }),
        Err(fault) => json!({ "fault": { "code": fault.code, "message": fault.message } }),
    }
}

fn kind_name(kind: &DecodeErrorKind) -> &'static str {
    match kind {
        DecodeErrorKind::Syntax(_) => "Syntax",
        DecodeErrorKind::Doctype => "Doctype",
        DecodeErrorKind::UnknownEntity(_) => "UnknownEntity",
        DecodeErrorKind::InvalidChar(_) => "InvalidChar",
        DecodeErrorKind::UnsupportedEncoding(_) => "UnsupportedEncoding",
        DecodeErrorKind::Structure(_) => "Structure",
        DecodeErrorKind::BadValue { .. } => "BadValue",
        DecodeErrorKind::Limit { .. } => "Limit",
    }
}

fn limits_from(expected: &Json) -> Limits {
    let mut limits = Limits::default();
    let Some(overrides) = expected.get("limits") else {
        return limits;
    };
    let field = |name: &str| {
        overrides
            .get(name)
            .and_then(Json::as_u64)
            .map(|n| n as usize)
    };
    limits.max_depth = field("max_depth").unwrap_or(limits.max_depth);
    limits.max_elements = field("max_elements").unwrap_or(limits.max_elements);
    limits.max_string_bytes = field("max_string_bytes").unwrap_or(limits.max_string_bytes);
    limits
}

fn options(charset: Charset) -> EncodeOptions {
    EncodeOptions {
        charset,
        allow_none: true,
    }
}

/// Decodes one fixture; returns the JSON rendering of the result or error,
/// after checking that re-encoding round-trips.
fn run_fixture(xml: &[u8], is_call: bool, limits: &Limits) -> Result<Json, String> {
    if is_call {
        let call = decode_call(xml, limits).map_err(|e| kind_name(&e.kind).to_owned())?;
        for charset in CHARSETS {
            let bytes =
                encode_call(&call.name, &call.params, &options(charset)).expect("re-encode call");
            let again = decode_call(&bytes, limits).expect("decode re-encoded call");
            assert_eq!(again, call, "call round trip in {charset:?}");
        }
        Ok(call_json(&call))
    } else {
        let response = decode_response(xml, limits).map_err(|e| kind_name(&e.kind).to_owned())?;
        for charset in CHARSETS {
            let bytes = match &response {
                Ok(value) => encode_response(value, &options(charset)).expect("re-encode response"),
                Err(fault) => encode_fault(fault, &options(charset)),
            };
            let again = decode_response(&bytes, limits).expect("decode re-encoded response");
            assert_eq!(again, response, "response round trip in {charset:?}");
        }
        Ok(response_json(&response))
    }
}

#[test]
fn fixtures() {
    let mut names: Vec<PathBuf> = fs::read_dir(fixture_dir())
        .expect("fixture directory")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 100,
        "expected the full fixture corpus, found {}",
        names.len()
    );
    let mut failures = Vec::new();
    for xml_path in &names {
        let file = xml_path.file_name().unwrap().to_string_lossy().into_owned();
        let is_call = file.ends_with(".call.xml");
        assert!(
            is_call || file.ends_with(".response.xml"),
            "bad fixture name {file}"
        );
        let xml = fs::read(xml_path).unwrap();
        let expected: Json =
            serde_json::from_slice(&fs::read(xml_path.with_extension("json")).unwrap())
                .unwrap_or_else(|e| panic!("{file}: bad JSON: {e}"));
        let limits = limits_from(&expected);
        let got = match run_fixture(&xml, is_call, &limits) {
            Ok(mut rendered) => {
                if let Some(l) = expected.get("limits") {
                    rendered["limits"] = l.clone();
                }
                rendered
            }
            Err(kind) => {
                let mut rendered = json!({ "error": kind });
                if let Some(l) = expected.get("limits") {
                    rendered["limits"] = l.clone();
                }
                rendered
            }
        };
        if got != expected {
            failures.push(format!("{file}:\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_type_and_error_kind_is_covered() {
    let mut seen = std::collections::BTreeSet::new();
    for entry in fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = fs::read_to_string(&path).unwrap();
            for key in [
                "\"int\"",
                "\"boolean\"",
                "\"string\"",
                "\"double\"",
                "\"dateTime\"",
                "\"base64\"",
                "\"array\"",
                "\"struct\"",
                "\"nil\"",
                "\"fault\"",
                "\"response\"",
            ] {
                if text.contains(key) {
                    seen.insert(key.to_owned());
                }
            }
            if let Some(kind) = serde_json::from_str::<Json>(&text).unwrap().get("error") {
                seen.insert(kind.as_str().unwrap().to_owned());
            }
        }
    }
    for wanted in [
        "\"int\"",
        "\"boolean\"",
        "\"string\"",
        "\"double\"",
        "\"dateTime\"",
        "\"base64\"",
        "\"array\"",
        "\"struct\"",
        "\"nil\"",
        "\"fault\"",
        "\"response\"",
        "Syntax",
        "Doctype",
        "UnknownEntity",
        "InvalidChar",
        "UnsupportedEncoding",
        "Structure",
        "BadValue",
        "Limit",
    ] {
        assert!(seen.contains(wanted), "no fixture covers {wanted}");
    }
}

#[test]
fn nesting_100_000_deep_is_a_limit_error() {
    let depth = 100_000;
    let mut doc = String::from("<methodCall><methodName>m</methodName><params><param>");
    doc.push_str(&"<value><array><data>".repeat(depth));
    doc.push_str(&"</data></array></value>".repeat(depth));
    doc.push_str("</param></params></methodCall>");
    let err = decode_call(doc.as_bytes(), &Limits::default()).unwrap_err();
    assert!(matches!(
        err.kind,
        DecodeErrorKind::Limit {
            what: "nesting depth",
            limit: 64
        }
    ));
    // The 65th <array> is where it stops.
    let at = doc.match_indices("<array>").nth(64).unwrap().0;
    assert_eq!(err.offset, at);
}

#[test]
fn error_offsets_point_into_the_input_bytes() {
    let doc = b"<?xml version='1.0' encoding='latin1'?><methodCall><methodName>\xe9\xe9</methodName><params><param><value><int>zz</int></value></param></params></methodCall>";
    let err = decode_call(doc, &Limits::default()).unwrap_err();
    assert!(matches!(
        err.kind,
        DecodeErrorKind::BadValue { ty: "int", .. }
    ));
    assert_eq!(err.offset, doc.windows(2).position(|w| w == b"zz").unwrap());

    let doc = b"<methodCall><methodName>x</methodName></methodCall>  <junk/>";
    let err = decode_call(doc, &Limits::default()).unwrap_err();
    assert!(matches!(err.kind, DecodeErrorKind::Syntax(_)));
    assert_eq!(err.offset, doc.len() - "<junk/>".len());

    let err = decode_call(b"", &Limits::default()).unwrap_err();
    assert!(matches!(err.kind, DecodeErrorKind::Syntax(_)));
}

#[test]
fn fault_encoding_replaces_characters_xml_cannot_carry() {
    let fault = Fault::new(-32700, "bad \u{0} byte \u{FFFE} here & <there>\r");
    for charset in CHARSETS {
        let bytes = encode_fault(&fault, &options(charset));
        let decoded = decode_response(&bytes, &Limits::default()).unwrap();
        assert_eq!(
            decoded,
            Err(Fault::new(
                -32700,
                "bad \u{FFFD} byte \u{FFFD} here & <there>\r"
            ))
        );
    }
}

// ---------------------------------------------------------------- properties

/// Characters XML 1.0 can carry, weighted towards the interesting ones.
fn xml_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range(' ', '~'),
        2 => prop::sample::select(vec!['&', '<', '>', '"', '\'', '\r', '\n', '\t', ']', '\u{e9}', '\u{20AC}', '\u{81}', '\u{2603}', '\u{1F600}', '\u{FFFD}']),
        1 => any::<char>().prop_filter("XML 1.0 Char", |&c| {
            matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        }),
    ]
}

fn xml_string() -> impl Strategy<Value = String> {
    prop::collection::vec(xml_char(), 0..24).prop_map(|chars| chars.into_iter().collect())
}

fn datetime() -> impl Strategy<Value = DateTime> {
    (
        0u16..=9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..=60,
        prop_oneof![Just(0u32), 0u32..1_000_000_000],
        prop::option::of(-1439i16..=1439),
    )
        .prop_map(
            |(year, month, day, hour, minute, second, nanos, offset_minutes)| DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                nanos,
                offset_minutes,
            },
        )
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        xml_string().prop_map(Value::String),
        any::<f64>()
            .prop_filter("finite", |d| d.is_finite())
            .prop_map(Value::Double),
        datetime().prop_map(Value::DateTime),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Base64),
        Just(Value::Nil),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((xml_string(), inner), 0..6)
                .prop_map(|members| Value::Struct(members.into_iter().collect::<Struct>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn response_round_trips_in_every_charset(v in value()) {
        for charset in CHARSETS {
            let bytes = encode_response(&v, &options(charset)).unwrap();
            let decoded = decode_response(&bytes, &Limits::default());
            prop_assert_eq!(decoded, Ok(Ok(v.clone())), "charset {:?}", charset);
        }
    }

    #[test]
    fn call_round_trips_in_every_charset(
        name in xml_string().prop_filter("non-empty", |s| !s.is_empty()),
        params in prop::collection::vec(value(), 0..4),
    ) {
        for charset in CHARSETS {
            let bytes = encode_call(&name, &params, &options(charset)).unwrap();
            let decoded = decode_call(&bytes, &Limits::default());
            prop_assert_eq!(decoded, Ok(MethodCall { name: name.clone(), params: params.clone() }), "charset {:?}", charset);
        }
    }

    #[test]
    fn fault_round_trips(code in any::<i32>(), message in xml_string()) {
        let fault = Fault::new(code, message);
        for charset in CHARSETS {
            let bytes = encode_fault(&fault, &options(charset));
            prop_assert_eq!(decode_response(&bytes, &Limits::default()), Ok(Err(fault.clone())));
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_call(&bytes, &Limits::default());
        let _ = decode_response(&bytes, &Limits::default());
    }
}

/// One piece of hand-written character data and what it means.
#[derive(Clone, Debug)]
enum Piece {
    /// Raw text (line ends not yet normalized).
    Raw(&'static str),
    /// Markup that stands for text: a reference or a CDATA section.
    Markup(&'static str, &'static str),
    /// A comment or processing instruction: stands for nothing.
    Skipped(&'static str),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "a", "bc", " ", "  ", "\t", "\n", "\r\n", "\r", " x ", "é ☃", "\n  ",
        ])
        .prop_map(Piece::Raw),
        1 => prop::sample::select(vec![
            ("&amp;", "&"),
            ("&lt;", "<"),
            ("&#32;", " "),
            ("&#10;", "\n"),
            ("&#13;", "\r"),
            ("<![CDATA[ <b>&\n ]]>", " <b>&\n "),
            ("<![CDATA[]]>", ""),
        ])
        .prop_map(|(xml, text)| Piece::Markup(xml, text)),
        1 => prop::sample::select(vec!["<!-- c -->", "<?pi x?>"]).prop_map(Piece::Skipped),
    ]
}

/// The XML of `pieces` and the text an XML parser must give for it:
/// adjacent raw text is one run, whose `\r\n` and lone `\r` become `\n`.
fn text_case(pieces: &[Piece]) -> (String, String) {
    let (mut xml, mut text, mut run) = (String::new(), String::new(), String::new());
    let flush = |run: &mut String, text: &mut String| {
        text.push_str(&run.replace("\r\n", "\n").replace('\r', "\n"));
        run.clear();
    };
    for piece in pieces {
        match piece {
            Piece::Raw(raw) => {
                xml.push_str(raw);
                run.push_str(raw);
            }
            Piece::Markup(markup, meaning) => {
                xml.push_str(markup);
                flush(&mut run, &mut text);
                text.push_str(meaning);
            }
            Piece::Skipped(markup) => {
                xml.push_str(markup);
                flush(&mut run, &mut text);
            }
        }
    }
    flush(&mut run, &mut text);
    (xml, text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Text mixing whitespace, line ends, references, CDATA, comments and
    /// PIs decodes to exactly what an XML parser gives, in every place
    /// text goes: `<string>`, an untyped `<value>`, a member `<name>` and
    /// `<methodName>`. (The decoder's reader skips whitespace between
    /// tags and takes it back where it is text: this pins that down.)
    #[test]
    fn character_data_decodes_exactly(pieces in prop::collection::vec(piece(), 0..8)) {
        let (xml, text) = text_case(&pieces);
        let doc = format!(
            "<methodCall>\n<methodName>m{xml}</methodName>\n<params>\n\
             <param>\n<value><string>{xml}</string></value>\n</param>\n\
             <param>\n<value>{xml}</value>\n</param>\n\
             <param>\n<value><struct>\n<member>\n<name>{xml}</name>\n<value><int>1</int></value>\n</member>\n</struct></value>\n</param>\n\
             </params>\n</methodCall>\n"
        );
        let call = decode_call(doc.as_bytes(), &Limits::default());
        let member = [(text.clone(), Value::Int(1))].into_iter().collect::<Struct>();
        let expected = MethodCall {
            name: format!("m{text}"),
            params: vec![Value::String(text.clone()), Value::String(text.clone()), Value::Struct(member)],
        };
        prop_assert_eq!(call, Ok(expected), "document: {:?}", doc);
    }
}
