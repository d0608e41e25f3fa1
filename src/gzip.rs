//! Content codings: bounded gunzip (request bodies at the edge, answers of
//! backends), gzip of responses, and the `Accept-Encoding` negotiation.
//!
//! A leaf: it imports nothing of the crate, so the edge and the backends
//! share it.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

/// Why a gzip body could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum GunzipError {
    /// It inflates past the limit (a gzip bomb, or just too big).
    TooLarge,
    /// Not gzip, truncated, or a bad checksum.
    Corrupt,
}

/// Inflates `data`, reading at most `limit` bytes of output: memory stays
/// bounded whatever the input claims.
pub fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    gunzip_into(data, limit, data.len().saturating_mul(4).min(limit))
}

/// As [`gunzip`], into a buffer allocated once for `limit` bytes (and the
/// one more that tells a body over the limit): the output never takes more
/// memory than that, as it could while a buffer grows by doubling. For a
/// caller that has set `limit` bytes aside already.
pub fn gunzip_exact(data: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    gunzip_into(data, limit, limit.saturating_add(1))
}

fn gunzip_into(data: &[u8], limit: usize, capacity: usize) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::with_capacity(capacity);
    let mut decoder = MultiGzDecoder::new(data).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|_| GunzipError::Corrupt)?;
    if out.len() > limit {
        return Err(GunzipError::TooLarge);
    }
    Ok(out)
}

/// The size `data` says it inflates to: the ISIZE field of the gzip trailer
/// (its last member's size modulo 4 GiB). The sender wrote it: a hint for
/// what to set aside, never a bound (a stream of several members, or a lie,
/// inflates to more). `None` when `data` is too short to be gzip.
pub fn stated_size(data: &[u8]) -> Option<usize> {
    // A gzip member is at least a 10-byte header, an empty deflate block and
    // an 8-byte trailer.
    const SMALLEST_MEMBER: usize = 20;
    if data.len() < SMALLEST_MEMBER {
        return None;
    }
    let trailer: [u8; 4] = data[data.len() - 4..].try_into().ok()?;
    usize::try_from(u32::from_le_bytes(trailer)).ok()
}

/// Compresses a response body (fast level: the gain is in bytes on the
/// wire, not the last percent of ratio).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4 + 64), Compression::fast());
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// A request `Content-Encoding` we cannot read.
#[derive(Debug, PartialEq, Eq)]
pub struct UnsupportedCoding;

/// Whether request bodies with these `Content-Encoding` values are gzipped:
/// `identity` (or nothing) and `gzip`/`x-gzip` (any case) are understood;
/// anything else, or gzip twice, is refused.
pub fn request_is_gzip<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Result<bool, UnsupportedCoding> {
    let mut gzipped = false;
    for value in values {
        for coding in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                if gzipped {
                    return Err(UnsupportedCoding);
                }
                gzipped = true;
            } else if !coding.eq_ignore_ascii_case("identity") {
                return Err(UnsupportedCoding);
            }
        }
    }
    Ok(gzipped)
}

/// The response body as sent: gzipped when it is larger than `threshold`
/// (`None`: never) and the client accepts gzip. Returns whether it was.
pub fn compress_response(
    body: Vec<u8>,
    threshold: Option<usize>,
    client_accepts: bool,
) -> (Vec<u8>, bool) {
    match threshold {
        Some(limit) if client_accepts && body.len() > limit => (gzip(&body), true),
        _ => (body, false),
    }
}

/// Whether an `Accept-Encoding` header value allows gzip: the `gzip` (or
/// `x-gzip`) entry's q-value if present, else `*`'s, must be above zero.
/// Tokens are case-insensitive; malformed entries are ignored.
pub fn accepts_gzip(header: &str) -> bool {
    let mut gzip_q: Option<f32> = None;
    let mut star_q: Option<f32> = None;
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let token = parts.next().unwrap_or("").trim();
        let Some(q) = parse_q(parts) else { continue };
        if token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip") {
            gzip_q = Some(gzip_q.map_or(q, |old| old.max(q)));
        } else if token == "*" {
            star_q = Some(q);
        }
    }
    gzip_q.or(star_q).is_some_and(|q| q > 0.0)
}

/// The q-value among an entry's parameters: 1.0 when absent, `None` when
/// malformed (RFC 9110: at most three decimals, between 0 and 1).
fn parse_q<'a>(params: impl Iterator<Item = &'a str>) -> Option<f32> {
    for param in params {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("q") {
            continue;
        }
        let value = value.trim();
        let valid = match value.split_once('.') {
            None => value == "0" || value == "1",
            Some(("0", frac)) => frac.len() <= 3 && frac.bytes().all(|b| b.is_ascii_digit()),
            Some(("1", frac)) => frac.len() <= 3 && frac.bytes().all(|b| b == b'0'),
            Some(_) => false,
        };
        return if valid { value.parse().ok() } else { None };
    }
    Some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_cases() {
        let cases = [
            ("gzip", true),
            ("GZIP", true),
            ("x-gzip", true),
            ("gzip;q=0", false),
            ("gzip; q=0.0", false),
            ("gzip;q=0.5", true),
            ("deflate, gzip;q=1.0", true),
            ("*", true),
            ("*;q=0", false),
            ("*, gzip;q=0", false),
            ("identity", false),
            ("", false),
            ("gzip;q=abc", false),
            ("gzip;q=.", false),
            ("gzip;q=1.5", false),
            ("br, gzip ; Q=0.001", true),
            ("deflate", false),
        ];
        for (header, want) in cases {
            assert_eq!(accepts_gzip(header), want, "Accept-Encoding: {header:?}");
        }
    }

    #[test]
    fn gunzip_round_trip_and_limits() {
        let data = b"hello world ".repeat(1000);
        let packed = gzip(&data);
        assert_eq!(gunzip(&packed, data.len()).unwrap(), data);
        assert_eq!(gunzip(&packed, data.len() - 1), Err(GunzipError::TooLarge));
        assert_eq!(
            gunzip(&packed[..packed.len() / 2], data.len()),
            Err(GunzipError::Corrupt)
        );
        assert_eq!(gunzip(b"not gzip", 100), Err(GunzipError::Corrupt));
    }

    #[test]
    fn the_trailer_states_the_size_and_exact_gunzip_keeps_to_it() {
        let data = b"abc".repeat(10_000);
        let packed = gzip(&data);
        assert_eq!(stated_size(&packed), Some(data.len()));
        let out = gunzip_exact(&packed, data.len()).unwrap();
        assert_eq!(out, data);
        assert_eq!(out.capacity(), data.len() + 1, "allocated once");
        assert_eq!(
            gunzip_exact(&packed, data.len() - 1),
            Err(GunzipError::TooLarge)
        );
        assert_eq!(stated_size(b"short"), None);
        // Two members: the trailer states the last one only.
        let two = [gzip(b"first "), gzip(b"second")].concat();
        assert_eq!(stated_size(&two), Some(6));
        assert_eq!(gunzip_exact(&two, 6), Err(GunzipError::TooLarge));
        assert_eq!(gunzip_exact(&two, 12).unwrap(), b"first second");
    }

    #[test]
    fn bomb_stops_at_the_limit() {
        // 64 MiB of zeros packs into ~64 KiB; we stop reading at 1 MiB.
        let zeros = vec![0u8; 64 << 20];
        let packed = gzip(&zeros);
        assert!(packed.len() < 1 << 20);
        assert_eq!(gunzip(&packed, 1 << 20), Err(GunzipError::TooLarge));
    }
}
