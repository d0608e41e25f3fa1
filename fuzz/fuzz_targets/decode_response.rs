//! Fuzz target `decode_response`: feeds arbitrary bytes to `checks::decode_response`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::decode_response(data));
