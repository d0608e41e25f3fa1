//! Fuzz target `decode_call`: feeds arbitrary bytes to `checks::decode_call`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::decode_call(data));
