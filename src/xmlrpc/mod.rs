//! The XML-RPC codec: values, calls and responses to and from bytes.
//!
//! Pure functions over byte slices: no I/O, no tokio, no HTTP. Decoding is
//! bounded by [`Limits`]; it never expands a DOCTYPE or an entity beyond the
//! five predefined ones and numeric character references.

mod charset;
mod de;
mod error;
mod input;
mod lexer;
mod limits;
mod scalar;
mod ser;
pub mod value;

pub use charset::Charset;
pub use de::{decode_call, decode_response};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use limits::Limits;
pub use scalar::parse_datetime;
pub use ser::{EncodeOptions, encode_call, encode_fault, encode_response};
pub use value::{DateTime, Fault, MethodCall, MethodResponse, Struct, Value};
