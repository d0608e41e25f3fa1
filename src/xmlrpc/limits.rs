//! The bounds on one decode, shared by the lexer (sizes, element count) and
//! the grammar (depth).

use crate::defaults;

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
            max_depth: defaults::MAX_DEPTH,
            max_elements: defaults::MAX_ELEMENTS,
            max_string_bytes: defaults::MAX_STRING_BYTES,
        }
    }
}
