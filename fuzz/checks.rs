//! The properties the codec fuzz targets check, shared by the libFuzzer
//! targets in `fuzz/fuzz_targets/` and the stable replay test
//! `tests/fuzz_corpus.rs` (both include this file with `#[path]`).
//!
//! Each function takes arbitrary bytes and panics only when a property fails.

#![allow(dead_code)] // each fuzz target uses one of these

use xmlrpc_gateway::xmlrpc::{
    Charset, EncodeOptions, Limits, decode_call as decode_call_bytes,
    decode_response as decode_response_bytes, encode_call, encode_fault, encode_response,
};

const CHARSETS: [Charset; 4] = [
    Charset::Utf8,
    Charset::Latin1,
    Charset::Windows1252,
    Charset::Ascii,
];

/// Limits for re-decoding our own output: re-encoding can add elements
/// (`<value>x</value>` becomes `<value><string>x</string></value>`).
fn relaxed() -> Limits {
    Limits {
        max_elements: usize::MAX,
        max_string_bytes: usize::MAX,
        ..Limits::default()
    }
}

/// `decode_call` never panics, and every error carries an offset inside the input.
pub fn decode_call(data: &[u8]) {
    if let Err(err) = decode_call_bytes(data, &Limits::default()) {
        assert!(
            err.offset <= data.len(),
            "offset {} past input of {} bytes",
            err.offset,
            data.len()
        );
    }
}

/// `decode_response` never panics, and every error carries an offset inside the input.
pub fn decode_response(data: &[u8]) {
    if let Err(err) = decode_response_bytes(data, &Limits::default()) {
        assert!(
            err.offset <= data.len(),
            "offset {} past input of {} bytes",
            err.offset,
            data.len()
        );
    }
}

/// Whatever decodes (as a call or as a response) encodes in every charset,
/// and decoding that output gives the same call or response back.
pub fn roundtrip(data: &[u8]) {
    if let Ok(call) = decode_call_bytes(data, &Limits::default()) {
        for charset in CHARSETS {
            let opts = EncodeOptions {
                charset,
                allow_none: true,
            };
            let bytes =
                encode_call(&call.name, &call.params, &opts).expect("a decoded call encodes");
            let again = decode_call_bytes(&bytes, &relaxed()).expect("our own call output decodes");
            assert_eq!(again, call, "call round trip in {charset:?}");
        }
    }
    if let Ok(response) = decode_response_bytes(data, &Limits::default()) {
        for charset in CHARSETS {
            let opts = EncodeOptions {
                charset,
                allow_none: true,
            };
            let bytes = match &response {
                Ok(value) => encode_response(value, &opts).expect("a decoded value encodes"),
                Err(fault) => encode_fault(fault, &opts),
            };
            let again =
                decode_response_bytes(&bytes, &relaxed()).expect("our own response output decodes");
            assert_eq!(again, response, "response round trip in {charset:?}");
        }
    }
}
