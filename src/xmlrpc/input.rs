//! Input preparation for the decoder: byte-order mark, the encoding the XML
//! declaration names, transcoding to UTF-8, and the check that every
//! character is one XML 1.0 allows. Also maps offsets in the prepared text
//! back to offsets in the bytes as received.

use std::borrow::Cow;

use super::charset::{self, Charset};
use super::error::{DecodeError, DecodeErrorKind};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A document ready for the XML reader: UTF-8 text holding only characters
/// XML 1.0 allows.
pub(crate) struct Prepared<'a> {
    pub text: Cow<'a, str>,
    charset: Charset,
    /// Bytes dropped from the front of the input (a BOM).
    base: usize,
    /// Whether `text` holds a raw `\r` (line ends then need normalizing).
    pub has_cr: bool,
}

impl Prepared<'_> {
    /// The offset into the original input of `offset` into `text`.
    pub(super) fn input_offset(&self, offset: usize) -> usize {
        self.base + charset::input_offset(self.text.as_bytes(), offset, self.charset)
    }

    /// `err` with its offset moved from `text` to the original input.
    pub(super) fn relocate(&self, err: DecodeError) -> DecodeError {
        DecodeError {
            offset: self.input_offset(err.offset),
            kind: err.kind,
        }
    }
}

/// Strips a BOM, reads the declared encoding, transcodes and checks characters.
pub(crate) fn prepare(input: &[u8]) -> Result<Prepared<'_>, DecodeError> {
    if input.starts_with(b"\xFE\xFF") || input.starts_with(b"\xFF\xFE") {
        return Err(error(
            0,
            DecodeErrorKind::UnsupportedEncoding("UTF-16".into()),
        ));
    }
    let has_bom = input.starts_with(UTF8_BOM);
    let base = if has_bom { UTF8_BOM.len() } else { 0 };
    let body = &input[base..];
    let charset = match declared_encoding(body) {
        None => Charset::Utf8,
        Some(label) => Charset::from_label(&label)
            .ok_or_else(|| error(base, DecodeErrorKind::UnsupportedEncoding(label.clone())))?,
    };
    if has_bom && charset != Charset::Utf8 {
        let detail = format!(
            "UTF-8 byte-order mark but the declaration says {}",
            charset.label()
        );
        return Err(error(0, DecodeErrorKind::Syntax(detail)));
    }
    let text = charset::to_utf8(body, charset).map_err(|bad| {
        let detail = match charset {
            Charset::Utf8 => "invalid UTF-8".to_owned(),
            _ => format!("byte 0x{:02X} is not {}", body[bad.0], charset.label()),
        };
        error(base + bad.0, DecodeErrorKind::InvalidChar(detail))
    })?;
    let mut prepared = Prepared {
        text,
        charset,
        base,
        has_cr: false,
    };
    prepared.has_cr = check_chars(prepared.text.as_bytes()).map_err(|(offset, detail)| {
        error(
            prepared.input_offset(offset),
            DecodeErrorKind::InvalidChar(detail),
        )
    })?;
    Ok(prepared)
}

fn error(offset: usize, kind: DecodeErrorKind) -> DecodeError {
    DecodeError { kind, offset }
}

/// The `encoding` pseudo-attribute of a leading `<?xml ...?>`, if any.
fn declared_encoding(doc: &[u8]) -> Option<String> {
    let rest = doc.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let mut decl = &rest[..end];
    loop {
        decl = trim_start(decl);
        let name_len = decl
            .iter()
            .position(|&b| b == b'=' || b.is_ascii_whitespace())?;
        let (name, after) = decl.split_at(name_len);
        let after = trim_start(after).strip_prefix(b"=")?;
        let after = trim_start(after);
        let quote = *after.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_len = after[1..].iter().position(|&b| b == quote)?;
        let value = &after[1..1 + value_len];
        if name == b"encoding" {
            return Some(String::from_utf8_lossy(value).into_owned());
        }
        decl = &after[value_len + 2..];
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

/// Checks UTF-8 `text` holds only XML 1.0 characters: no C0 control other
/// than tab, LF and CR, and no U+FFFE or U+FFFF (surrogates cannot occur in
/// valid UTF-8). Returns whether it holds a `\r`, or the offset of the
/// first offender.
fn check_chars(text: &[u8]) -> Result<bool, (usize, String)> {
    const CHUNK: usize = 64;
    let mut has_cr = false;
    for (index, chunk) in text.chunks(CHUNK).enumerate() {
        // One branch-free test first so the common case vectorizes; a `\r`
        // is rare and takes the slow path, which notes it.
        let suspicious = chunk.iter().fold(false, |acc, &b| acc | is_suspicious(b));
        if suspicious {
            let start = index * CHUNK;
            for (i, &b) in chunk.iter().enumerate() {
                has_cr |= b == b'\r';
                if let Some(code) = forbidden_at(text, start + i, b) {
                    return Err((start + i, format!("U+{code:04X} is not allowed in XML")));
                }
            }
        }
    }
    Ok(has_cr)
}

/// Whether `b` may start a forbidden character, or is a `\r`.
#[inline]
fn is_suspicious(b: u8) -> bool {
    (b < 0x20) & (b != b'\t') & (b != b'\n') | (b == 0xEF)
}

/// The forbidden code point starting at `text[i]`, if there is one.
fn forbidden_at(text: &[u8], i: usize, b: u8) -> Option<u32> {
    if b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') {
        return Some(u32::from(b));
    }
    if b == 0xEF && text.get(i + 1) == Some(&0xBF) {
        match text.get(i + 2) {
            Some(0xBE) => return Some(0xFFFE),
            Some(0xBF) => return Some(0xFFFF),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_encoding() {
        assert_eq!(declared_encoding(b"<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='ISO-8859-1'?>"),
            Some("ISO-8859-1".into())
        );
        assert_eq!(
            declared_encoding(b"<?xml version = \"1.0\"\n encoding = \"cp1252\" ?>"),
            Some("cp1252".into())
        );
        assert_eq!(declared_encoding(b"<?xml-stylesheet encoding='x'?>"), None);
        assert_eq!(declared_encoding(b"<a/>"), None);
    }

    #[test]
    fn rejects_forbidden_characters() {
        assert_eq!(check_chars(b"ok\t\r\n").map_err(|e| e.0), Ok(true));
        assert_eq!(check_chars(b"ok\t\n").map_err(|e| e.0), Ok(false));
        assert_eq!(check_chars(b"a\x01").map_err(|e| e.0), Err(1));
        assert_eq!(check_chars(b"ab\xEF\xBF\xBE").map_err(|e| e.0), Err(2));
        assert_eq!(check_chars(b"\xEF\xBF\xBD").map_err(|e| e.0), Ok(false));
        let mut long = vec![b'x'; 200];
        long[150] = 0;
        assert_eq!(check_chars(&long).map_err(|e| e.0), Err(150));
    }

    #[test]
    fn invalid_utf8_is_reported_where_it_starts() {
        let err = prepare(b"<a>ok\xC3</a>").err().unwrap();
        assert_eq!(
            err.kind,
            DecodeErrorKind::InvalidChar("invalid UTF-8".into())
        );
        assert_eq!(err.offset, 5);
    }

    #[test]
    fn strips_bom_and_reports_offsets_from_the_input() {
        let doc = b"\xEF\xBB\xBF<a>\x01</a>";
        let err = prepare(doc).err().unwrap();
        assert!(matches!(err.kind, DecodeErrorKind::InvalidChar(_)));
        assert_eq!(err.offset, 6);
    }

    #[test]
    fn latin1_offsets_count_input_bytes() {
        let doc = b"<?xml version='1.0' encoding='latin1'?><a>\xe9\xe9\x01</a>";
        let err = prepare(doc).err().unwrap();
        assert_eq!(err.offset, doc.iter().position(|&b| b == 1).unwrap());
    }

    #[test]
    fn unknown_encoding_is_reported() {
        let err = prepare(b"<?xml version='1.0' encoding='EBCDIC'?><a/>")
            .err()
            .unwrap();
        assert_eq!(
            err.kind,
            DecodeErrorKind::UnsupportedEncoding("EBCDIC".into())
        );
    }
}
