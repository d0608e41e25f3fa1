//! The codec's errors: what went wrong while decoding or encoding, and where.

use thiserror::Error;

/// Why a document could not be decoded, with the byte offset where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind} at byte {offset}")]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Offset into the input bytes (as received, before any transcoding).
    pub offset: usize,
}

/// The classes of decode failure. Each maps to one fault code (see `fault.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeErrorKind {
    /// Not well-formed XML (includes empty input and junk after the root).
    #[error("malformed XML: {0}")]
    Syntax(String),
    /// A `<!DOCTYPE ...>` was present; XML-RPC needs none and we never read one.
    #[error("DOCTYPE is not allowed")]
    Doctype,
    /// An entity reference other than `lt gt amp apos quot`.
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    /// A numeric character reference to a character XML cannot carry, or bytes
    /// that are not valid in the declared encoding.
    #[error("invalid character: {0}")]
    InvalidChar(String),
    /// The XML declaration names an encoding we do not read.
    #[error("unsupported encoding {0:?}")]
    UnsupportedEncoding(String),
    /// Well-formed XML that is not an XML-RPC call or response.
    #[error("not XML-RPC: {0}")]
    Structure(String),
    /// A typed value whose text is not valid for its type (e.g. `<int>abc</int>`).
    #[error("bad {ty} value: {detail}")]
    BadValue {
        /// The type.
        ty: &'static str,
        /// What is wrong with the text.
        detail: String,
    },
    /// A configured bound was exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    Limit {
        /// What was counted.
        what: &'static str,
        /// The bound.
        limit: usize,
    },
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// `Value::Nil` with `allow_none` off.
    #[error("cannot marshal nil unless allow_none is enabled")]
    NilNotAllowed,
    /// NaN or an infinity: XML-RPC doubles must be finite.
    #[error("cannot marshal a non-finite double")]
    NonFiniteDouble,
    /// A string or name holding a character XML 1.0 cannot carry (e.g. U+0000).
    #[error("string holds a character XML cannot carry (U+{0:04X})")]
    InvalidChar(u32),
    /// A dateTime whose fields are out of range.
    #[error("invalid dateTime")]
    InvalidDateTime,
}
