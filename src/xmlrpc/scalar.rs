//! Scalar text to values: the lexical rules for `int` and its aliases,
//! `boolean`, `double`, `dateTime.iso8601` and `base64`.
//!
//! Each parser returns a short reason on failure; the decoder wraps it in
//! `DecodeErrorKind::BadValue` with the element's type name.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::value::DateTime;

/// Standard alphabet; padding optional on input (some encoders omit it).
const BASE64_IN: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn trim_xml(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r'])
}

/// Removes `_` digit separators the way Python's `int()`/`float()` allow
/// them: each one must sit between two ASCII digits.
fn strip_digit_separators(text: &str) -> Result<Cow<'_, str>, String> {
    if !text.contains('_') {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let between_digits = i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if b == b'_' && !between_digits {
            return Err("misplaced '_'".into());
        }
    }
    Ok(Cow::Owned(text.replace('_', "")))
}

/// An integer of any width tag: surrounding whitespace and a leading sign
/// allowed; must fit 64 bits.
pub(crate) fn parse_int(text: &str) -> Result<i64, String> {
    let trimmed = trim_xml(text);
    let digits = strip_digit_separators(trimmed)?;
    digits
        .parse::<i64>()
        .map_err(|e| format!("{trimmed:?}: {e}"))
}

/// `0` or `1`, nothing else (not even whitespace, as Python).
pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "0" => Ok(false),
        "1" => Ok(true),
        other => Err(format!("{other:?} is not 0 or 1")),
    }
}

/// What Python's `float()` accepts for finite numbers: whitespace around,
/// sign, digits with `_` separators, fraction, exponent. NaN, infinities
/// and overflow are refused.
pub(crate) fn parse_double(text: &str) -> Result<f64, String> {
    let trimmed = trim_xml(text);
    let cleaned = strip_digit_separators(trimmed)?;
    let looks_numeric = cleaned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    if !looks_numeric {
        return Err(format!("{trimmed:?} is not a finite number"));
    }
    match cleaned.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("{trimmed:?} is out of range")),
        Err(e) => Err(format!("{trimmed:?}: {e}")),
    }
}

/// Base64 with the standard alphabet; whitespace (line breaks) ignored.
pub(crate) fn parse_base64(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    if let Some(decoded) = decode_lines(bytes) {
        return Ok(decoded);
    }
    let result = if bytes.iter().any(u8::is_ascii_whitespace) {
        // Sized once (a filtered iterator would grow it step by step).
        let mut compact = Vec::with_capacity(bytes.len());
        compact.extend(bytes.iter().filter(|b| !b.is_ascii_whitespace()));
        BASE64_IN.decode(compact)
    } else {
        BASE64_IN.decode(bytes)
    };
    result.map_err(|e| e.to_string())
}

/// Base64 in lines whose lengths are multiples of four (what Python's
/// `encodebytes` and MIME writers produce), decoded line by line straight
/// into the result instead of first being copied free of whitespace. Each
/// line then starts a 4-character group, so this decodes exactly what the
/// joined text would. `None` for any other shape (other whitespace, padding
/// before the last line) and on any error: the general path decides, and
/// reports.
fn decode_lines(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 3);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &[][..]),
        };
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let last = rest.iter().all(|&b| matches!(b, b'\n' | b'\r'));
        if !last && (line.len() % 4 != 0 || line.ends_with(b"=")) {
            return None;
        }
        let start = out.len();
        out.resize(start + line.len().div_ceil(4) * 3, 0);
        let written = BASE64_IN.decode_slice(line, &mut out[start..]).ok()?;
        out.truncate(start + written);
    }
    Some(out)
}

/// A small cursor over the ASCII of a dateTime.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<u32> {
        let slice = self.bytes.get(self.pos..self.pos + count)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += count;
        Some(
            slice
                .iter()
                .fold(0, |acc, &b| acc * 10 + u32::from(b - b'0')),
        )
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.bytes.get(self.pos) == Some(&byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// The one ISO 8601 parser (XML-RPC's `dateTime.iso8601` and JSON strings
/// alike): `YYYYMMDDTHH:MM:SS`, with dashes in the date or no colons in
/// the time allowed, then an optional `.fraction` and `Z` / `±HH:MM` /
/// `±HHMM`.
pub fn parse_datetime(text: &str) -> Result<DateTime, String> {
    let trimmed = trim_xml(text);
    let bad = || format!("{trimmed:?} is not an ISO 8601 date and time");
    let mut cur = Cursor {
        bytes: trimmed.as_bytes(),
        pos: 0,
    };
    let (year, month, day) = parse_date(&mut cur).ok_or_else(bad)?;
    if !cur.eat(b'T') {
        return Err(bad());
    }
    let (hour, minute, second) = parse_time(&mut cur).ok_or_else(bad)?;
    let nanos = parse_fraction(&mut cur).ok_or_else(bad)?;
    let offset_minutes = parse_offset(&mut cur).ok_or_else(bad)?;
    if !cur.at_end() {
        return Err(bad());
    }
    let dt = DateTime {
        year: year as u16,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        nanos,
        offset_minutes,
    };
    if dt.is_valid() {
        Ok(dt)
    } else {
        Err(format!("{trimmed:?} is out of range"))
    }
}

fn parse_date(cur: &mut Cursor<'_>) -> Option<(u32, u32, u32)> {
    let year = cur.digits(4)?;
    let dashed = cur.eat(b'-');
    let month = cur.digits(2)?;
    if dashed && !cur.eat(b'-') {
        return None;
    }
    let day = cur.digits(2)?;
    Some((year, month, day))
}

fn parse_time(cur: &mut Cursor<'_>) -> Option<(u32, u32, u32)> {
    let hour = cur.digits(2)?;
    let colons = cur.eat(b':');
    let minute = cur.digits(2)?;
    if colons && !cur.eat(b':') {
        return None;
    }
    let second = cur.digits(2)?;
    Some((hour, minute, second))
}

/// `.d{1,9}` as nanoseconds; `Some(0)` when absent.
fn parse_fraction(cur: &mut Cursor<'_>) -> Option<u32> {
    if !cur.eat(b'.') {
        return Some(0);
    }
    let len = cur.bytes[cur.pos..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if len == 0 || len > 9 {
        return None;
    }
    let value = cur.digits(len)?;
    Some(value * 10u32.pow(9 - len as u32))
}

/// `Z`, `±HH:MM` or `±HHMM` as minutes; `Some(None)` when absent.
fn parse_offset(cur: &mut Cursor<'_>) -> Option<Option<i16>> {
    let sign = match cur.peek() {
        None => return Some(None),
        Some(b'Z') => {
            cur.pos += 1;
            return Some(Some(0));
        }
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => return None,
    };
    cur.pos += 1;
    let hours = cur.digits(2)?;
    cur.eat(b':');
    let minutes = cur.digits(2)?;
    if minutes >= 60 {
        return None;
    }
    Some(Some(sign * (hours * 60 + minutes) as i16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int(" 42 "), Ok(42));
        assert_eq!(parse_int("+42"), Ok(42));
        assert_eq!(parse_int("-7"), Ok(-7));
        assert_eq!(parse_int("1_000"), Ok(1000));
        assert_eq!(parse_int("99999999999"), Ok(99_999_999_999));
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        for bad in [
            "",
            "abc",
            "9223372036854775808",
            "1_",
            "_1",
            "1__0",
            "+-1",
            "1.0",
            "0x10",
        ] {
            assert!(parse_int(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("1"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        for bad in ["true", " 1", "2", ""] {
            assert!(parse_bool(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn doubles() {
        assert_eq!(parse_double(" 1.5 "), Ok(1.5));
        assert_eq!(parse_double("-.5"), Ok(-0.5));
        assert_eq!(parse_double("5."), Ok(5.0));
        assert_eq!(parse_double("1e3"), Ok(1000.0));
        assert_eq!(parse_double("1E-2"), Ok(0.01));
        assert_eq!(parse_double("1_0.2_5"), Ok(10.25));
        for bad in [
            "nan",
            "inf",
            "-Infinity",
            "1e999",
            "",
            ".",
            "1.5x",
            "0x1p3",
            "1,5",
            "e5",
        ] {
            assert!(parse_double(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn datetimes_print_in_wire_form() {
        let cases = [
            (
                DateTime::new(2026, 1, 25, 10, 20, 30).unwrap(),
                "20260125T10:20:30",
            ),
            (
                DateTime::new(5, 12, 1, 0, 0, 9).unwrap(),
                "00051201T00:00:09",
            ),
            (
                DateTime::new(9999, 12, 31, 23, 59, 60).unwrap(),
                "99991231T23:59:60",
            ),
        ];
        for (dt, want) in cases {
            assert_eq!(dt.to_string(), want);
            assert_eq!(parse_datetime(want), Ok(dt));
        }
        let full = parse_datetime("20260125T10:20:30.25+05:30").unwrap();
        assert_eq!(full.to_string(), "20260125T10:20:30.25+05:30");
        // Out of the wire range (refused by the encoder) still prints.
        let far = DateTime {
            year: 12026,
            ..DateTime::new(2026, 1, 1, 0, 0, 0).unwrap()
        };
        assert_eq!(far.to_string(), "120260101T00:00:00");
    }

    #[test]
    fn datetimes() {
        let plain = parse_datetime("20260125T10:20:30").unwrap();
        assert_eq!(plain, DateTime::new(2026, 1, 25, 10, 20, 30).unwrap());
        assert_eq!(parse_datetime("2026-01-25T10:20:30"), Ok(plain));
        assert_eq!(parse_datetime("20260125T102030"), Ok(plain));
        let full = parse_datetime("20260125T10:20:30.25+05:30").unwrap();
        assert_eq!(full.nanos, 250_000_000);
        assert_eq!(full.offset_minutes, Some(330));
        assert_eq!(
            parse_datetime("20260125T10:20:30-0100")
                .unwrap()
                .offset_minutes,
            Some(-60)
        );
        assert_eq!(
            parse_datetime("20260125T10:20:30Z").unwrap().offset_minutes,
            Some(0)
        );
        assert_eq!(parse_datetime(&full.to_string()), Ok(full));
        for bad in [
            "garbage",
            "20260230T10:20:30",
            "20261325T10:20:30",
            "20260125T24:00:00",
            "20260125 10:20:30",
            "2026-0125T10:20:30",
            "20260125T10:2030",
            "20260125T10:20:30.",
            "20260125T10:20:30+5",
            "20260125T10:20:30+25:00",
            "20260125T10:20:30Zjunk",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base64_with_line_breaks() {
        assert_eq!(parse_base64("aGVs\nbG8=\n"), Ok(b"hello".to_vec()));
        assert_eq!(parse_base64("aGVsbG8"), Ok(b"hello".to_vec()));
        assert_eq!(parse_base64(""), Ok(Vec::new()));
        assert!(parse_base64("a$b=").is_err());
        // Line by line or joined, the same answer and the same errors.
        assert_eq!(
            parse_base64("aGVs\nbG8gd29y\nbGQ=\n"),
            Ok(b"hello world".to_vec())
        );
        assert_eq!(
            parse_base64(" aGVs bG8gd29y \r\n bGQ= "),
            Ok(b"hello world".to_vec())
        );
        assert_eq!(
            parse_base64("aGVsbG\n8gd29ybGQ="),
            Ok(b"hello world".to_vec())
        );
        assert!(parse_base64("aGVsbA==\naGVsbA==").is_err());
        assert!(parse_base64("aGVs\nbG8$\n").is_err());
        assert!(
            parse_base64("aGVs\nbG8gd29ybGR=").is_err(),
            "non-zero trailing bits"
        );
        assert!(parse_base64("aGVsbG8==x").is_err());
    }
}
