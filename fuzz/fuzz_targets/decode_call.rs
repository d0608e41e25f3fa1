//! Fuzz target `decode_call`: see `check_decode_call` in fuzz/src/lib.rs.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xmlrpc_gateway_fuzz::check_decode_call(data);
});
