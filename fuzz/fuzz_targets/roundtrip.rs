//! Fuzz target `roundtrip`: feeds arbitrary bytes to `checks::roundtrip`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::roundtrip(data));
