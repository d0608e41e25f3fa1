//! Request ids: the client's `X-Request-Id` when it sends a sane one, else a
//! fresh one.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use http::{HeaderMap, HeaderName};

/// `X-Request-Id`, made once at compile time (a `&str` name is parsed and
/// checked again on every use).
pub(super) const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The incoming id if it is short printable ASCII, else a new one.
pub(super) fn from_headers(headers: &HeaderMap) -> Arc<str> {
    from_value(headers.get(&HEADER).and_then(|v| v.to_str().ok()))
}

/// The given id if it is short printable ASCII, else a new one.
pub(super) fn from_value(value: Option<&str>) -> Arc<str> {
    value
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(generate, Arc::from)
}

/// 16 hex digits, unique in this process and unpredictable across runs.
pub(super) fn generate() -> Arc<str> {
    static SEED: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hash = SEED.get_or_init(RandomState::new).hash_one(n);
    // Hex digits written in place: one allocation, the Arc's.
    let mut hex = [0u8; 16];
    for (i, digit) in hex.iter_mut().enumerate() {
        *digit = b"0123456789abcdef"[((hash >> (60 - 4 * i)) & 0xf) as usize];
    }
    Arc::from(std::str::from_utf8(&hex).expect("hex digits are ASCII"))
}
