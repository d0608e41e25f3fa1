//! Decoding: bytes of a `<methodCall>` or `<methodResponse>` into values.

use super::error::DecodeError;
use super::value::{MethodCall, MethodResponse};

/// Bounds on what a decoder accepts. Every field has a safe default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Nested arrays/structs, counted from the outermost value (default 64).
    pub max_depth: usize,
    /// XML elements in the whole document (default 500,000).
    pub max_elements: usize,
    /// Bytes in one string, base64 text or name (default 8 MiB).
    pub max_string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_elements: 500_000,
            max_string_bytes: 8 << 20,
        }
    }
}

/// Decodes a `<methodCall>`.
pub fn decode_call(input: &[u8], limits: &Limits) -> Result<MethodCall, DecodeError> {
    let _ = (input, limits);
    todo!("codec helper")
}

/// Decodes a `<methodResponse>`: `Ok(Ok(value))`, `Ok(Err(fault))`, or an error.
pub fn decode_response(input: &[u8], limits: &Limits) -> Result<MethodResponse, DecodeError> {
    let _ = (input, limits);
    todo!("codec helper")
}
