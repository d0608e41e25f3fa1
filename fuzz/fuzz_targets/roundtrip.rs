//! Fuzz target `roundtrip`: see `check_roundtrip` in fuzz/src/lib.rs.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    xmlrpc_gateway_fuzz::check_roundtrip(data);
});
