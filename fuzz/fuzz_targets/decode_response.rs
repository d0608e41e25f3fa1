//! Fuzz target `decode_response`: see `check_decode_response` in fuzz/src/lib.rs.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xmlrpc_gateway_fuzz::check_decode_response(data);
});
