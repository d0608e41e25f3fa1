//! What each fuzz target checks, as plain functions over bytes: the
//! libFuzzer targets call them, and `tests/fuzz_corpus.rs` (in the gateway's
//! own test suite, which includes this file by path) replays the seeds and
//! every saved crash through them. No fuzzer types here.

use xmlrpc_gateway::gzip::{GunzipError, gunzip, gzip};
use xmlrpc_gateway::xmlrpc::{
    EncodeOptions, Limits, Value, decode_call, decode_response, encode_call, encode_response,
};

/// Decoded bytes allowed out of one gunzip (small: the fuzzer needs speed,
/// and the limit path is what matters).
pub const GUNZIP_LIMIT: usize = 1 << 20;

/// Limits small enough that the fuzzer reaches them.
pub fn limits() -> Limits {
    Limits {
        max_depth: 32,
        max_elements: 10_000,
        max_string_bytes: 64 << 10,
    }
}

/// A request body: decoding never panics, whatever the bytes.
pub fn check_decode_call(data: &[u8]) {
    let _ = decode_call(data, &limits());
}

/// A backend's answer: decoding never panics.
pub fn check_decode_response(data: &[u8]) {
    let _ = decode_response(data, &limits());
}

/// A gzipped request body, as the HTTP edge handles it: bounded gunzip,
/// then decode. The input is tried as a gzip stream (hostile compressed
/// bytes) and, compressed by us, as the XML inside one: what comes out of
/// gunzip is what went in (or `TooLarge` past the limit), and decodes as the
/// plain bytes do.
pub fn check_gzip_decode_call(data: &[u8]) {
    if let Ok(body) = gunzip(data, GUNZIP_LIMIT) {
        assert!(body.len() <= GUNZIP_LIMIT, "gunzip passed its limit");
        let _ = decode_call(&body, &limits());
    }
    let packed = gzip(data);
    match gunzip(&packed, GUNZIP_LIMIT) {
        Ok(body) => {
            assert_eq!(body, data, "gunzip(gzip(x)) != x");
            assert_eq!(
                decode_call(&body, &limits()),
                decode_call(data, &limits()),
                "gzip changed how the body decodes"
            );
        }
        Err(GunzipError::TooLarge) => assert!(data.len() > GUNZIP_LIMIT),
        Err(GunzipError::Corrupt) => panic!("our own gzip does not gunzip"),
    }
}

/// Whatever decodes encodes, and decodes back to the same call; a
/// response holding the params decodes back to the same values too.
pub fn check_roundtrip(data: &[u8]) {
    let Ok(call) = decode_call(data, &limits()) else {
        return;
    };
    let opts = EncodeOptions {
        allow_none: true,
        ..EncodeOptions::default()
    };
    let encoded = encode_call(&call.name, &call.params, &opts)
        .unwrap_or_else(|e| panic!("a decoded call does not encode: {e}: {call:?}"));
    let again = decode_call(&encoded, &limits()).unwrap_or_else(|e| {
        panic!(
            "an encoded call does not decode: {e}\n{}",
            String::from_utf8_lossy(&encoded)
        )
    });
    assert!(
        same(&call.params, &again.params),
        "params changed: {call:?} -> {again:?}"
    );
    assert_eq!(call.name, again.name, "name changed");
    let response = Value::Array(call.params.clone());
    let encoded = encode_response(&response, &opts).expect("decoded values encode");
    let back = decode_response(&encoded, &limits())
        .unwrap_or_else(|e| panic!("an encoded response does not decode: {e}"))
        .expect("not a fault");
    assert!(
        same(std::slice::from_ref(&response), std::slice::from_ref(&back)),
        "response changed: {response:?} -> {back:?}"
    );
}

/// Equality where doubles compare by bits (so -0.0 differs from 0.0).
fn same(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => same(x, y),
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_value(vx, vy))
        }
        _ => a == b,
    }
}
