//! Character sets: reading a request in the encoding its XML declaration
//! names, and writing a response in the configured one.
//!
//! Decoding turns a document in any supported charset into UTF-8 text (with a
//! way to map offsets back to the input bytes); encoding tells the writer
//! which byte, if any, a character has in the target charset.

use std::borrow::Cow;

/// A character set the codec reads and writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8.
    #[default]
    Utf8,
    /// ISO-8859-1 (Latin-1): bytes are code points 0-255.
    Latin1,
    /// Windows-1252.
    Windows1252,
    /// US-ASCII.
    Ascii,
}

/// Labels accepted for each charset (compared case-insensitively), after the
/// WHATWG / IANA names in common use.
const LABELS: &[(&str, Charset)] = &[
    ("utf-8", Charset::Utf8),
    ("utf8", Charset::Utf8),
    ("unicode-1-1-utf-8", Charset::Utf8),
    ("iso-8859-1", Charset::Latin1),
    ("iso8859-1", Charset::Latin1),
    ("iso_8859-1", Charset::Latin1),
    ("iso88591", Charset::Latin1),
    ("iso_8859-1:1987", Charset::Latin1),
    ("latin1", Charset::Latin1),
    ("latin-1", Charset::Latin1),
    ("l1", Charset::Latin1),
    ("iso-ir-100", Charset::Latin1),
    ("ibm819", Charset::Latin1),
    ("cp819", Charset::Latin1),
    ("csisolatin1", Charset::Latin1),
    ("windows-1252", Charset::Windows1252),
    ("windows1252", Charset::Windows1252),
    ("cp1252", Charset::Windows1252),
    ("x-cp1252", Charset::Windows1252),
    ("us-ascii", Charset::Ascii),
    ("ascii", Charset::Ascii),
    ("us", Charset::Ascii),
    ("iso646-us", Charset::Ascii),
    ("ansi_x3.4-1968", Charset::Ascii),
    ("ansi_x3.4-1986", Charset::Ascii),
    ("cp367", Charset::Ascii),
    ("ibm367", Charset::Ascii),
    ("csascii", Charset::Ascii),
];

/// Windows-1252 bytes 0x80-0x9F. `None` marks the five bytes the code page
/// leaves undefined; those are never written (a character reference is used).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

impl Charset {
    /// Looks up an encoding label as it appears in an XML declaration or in
    /// config (case-insensitive: `utf-8`, `iso-8859-1`, `latin1`,
    /// `windows-1252`, `cp1252`, `us-ascii`, `ascii`, ...).
    pub fn from_label(label: &str) -> Option<Charset> {
        let label = label.trim();
        LABELS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(label))
            .map(|&(_, charset)| charset)
    }

    /// The label written in the XML declaration.
    pub fn label(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Latin1 => "iso-8859-1",
            Charset::Windows1252 => "windows-1252",
            Charset::Ascii => "us-ascii",
        }
    }

    /// The single byte `c` is written as in this charset, or `None` when the
    /// charset cannot hold it (the writer then uses `&#N;`). Not meaningful
    /// for UTF-8, which holds everything.
    pub(crate) fn encode_char(self, c: char) -> Option<u8> {
        let code = u32::from(c);
        match self {
            Charset::Utf8 | Charset::Ascii => (code < 0x80).then_some(code as u8),
            Charset::Latin1 => u8::try_from(code).ok(),
            Charset::Windows1252 => encode_cp1252(c),
        }
    }
}

fn encode_cp1252(c: char) -> Option<u8> {
    let code = u32::from(c);
    if code < 0x80 || (0xA0..=0xFF).contains(&code) {
        return Some(code as u8);
    }
    CP1252_HIGH
        .iter()
        .position(|&high| high == Some(c))
        .map(|i| 0x80 + i as u8)
}

/// Where transcoding stopped: the input byte offset of a byte the charset
/// does not allow.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadByte(pub usize);

/// `input` (without BOM) as UTF-8 text. Borrowed for UTF-8 and ASCII
/// input that checks out; owned for the single-byte charsets, where input
/// byte `i` becomes the `i`-th character of the output.
pub(crate) fn to_utf8(input: &[u8], charset: Charset) -> Result<Cow<'_, str>, BadByte> {
    match charset {
        // Clients that declare US-ASCII and send UTF-8 anyway are common
        // (Perl's RPC::XML does): ASCII is a subset of UTF-8, so read such
        // documents as UTF-8 and let its validation catch real garbage.
        Charset::Utf8 | Charset::Ascii => std::str::from_utf8(input)
            .map(Cow::Borrowed)
            .map_err(|e| BadByte(e.valid_up_to())),
        Charset::Latin1 => Ok(Cow::Owned(input.iter().map(|&b| char::from(b)).collect())),
        Charset::Windows1252 => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(input);
            Ok(Cow::Owned(text.into_owned()))
        }
    }
}

/// Maps an offset in the UTF-8 text [`to_utf8`] produced back to the input
/// offset: for single-byte charsets every character was one input byte.
pub(crate) fn input_offset(utf8: &[u8], offset: usize, charset: Charset) -> usize {
    match charset {
        Charset::Utf8 | Charset::Ascii => offset,
        Charset::Latin1 | Charset::Windows1252 => {
            let end = offset.min(utf8.len());
            utf8[..end].iter().filter(|&&b| b & 0xC0 != 0x80).count()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_case_insensitive() {
        assert_eq!(Charset::from_label("UTF-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_label("Latin1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_label("ISO-8859-1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_label("CP1252"), Some(Charset::Windows1252));
        assert_eq!(Charset::from_label("US-ASCII"), Some(Charset::Ascii));
        assert_eq!(Charset::from_label("utf-16"), None);
        assert_eq!(Charset::from_label(""), None);
    }

    #[test]
    fn labels_round_trip() {
        for cs in [
            Charset::Utf8,
            Charset::Latin1,
            Charset::Windows1252,
            Charset::Ascii,
        ] {
            assert_eq!(Charset::from_label(cs.label()), Some(cs));
        }
    }

    #[test]
    fn cp1252_table_matches_encoding_rs() {
        for byte in 0x80u8..=0x9F {
            let input = [byte];
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&input);
            let c = text.chars().next().unwrap();
            match CP1252_HIGH[usize::from(byte - 0x80)] {
                Some(expected) => {
                    assert_eq!(c, expected);
                    assert_eq!(encode_cp1252(c), Some(byte));
                }
                None => assert_eq!(encode_cp1252(c), None),
            }
        }
    }

    #[test]
    fn latin1_maps_bytes_to_code_points() {
        let utf8 = to_utf8(b"a\xe9\x80", Charset::Latin1).unwrap();
        assert_eq!(utf8, "a\u{e9}\u{80}");
        assert_eq!(
            input_offset(utf8.as_bytes(), utf8.len(), Charset::Latin1),
            3
        );
    }

    #[test]
    fn ascii_declared_documents_are_read_as_utf8() {
        assert_eq!(
            to_utf8("caf\u{e9}".as_bytes(), Charset::Ascii),
            Ok(Cow::Borrowed("caf\u{e9}"))
        );
        assert_eq!(to_utf8(b"ab\xe9", Charset::Ascii), Err(BadByte(2)));
        assert_eq!(to_utf8(b"ab\xe9", Charset::Utf8), Err(BadByte(2)));
    }

    #[test]
    fn encode_char_per_charset() {
        assert_eq!(Charset::Latin1.encode_char('\u{e9}'), Some(0xE9));
        assert_eq!(Charset::Latin1.encode_char('\u{20AC}'), None);
        assert_eq!(Charset::Windows1252.encode_char('\u{20AC}'), Some(0x80));
        assert_eq!(Charset::Windows1252.encode_char('\u{81}'), None);
        assert_eq!(Charset::Ascii.encode_char('\u{e9}'), None);
    }
}
