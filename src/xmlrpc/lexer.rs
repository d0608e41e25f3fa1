//! The decoder's tokenizer: turns quick-xml events into XML-RPC tokens
//! (known element opened, element closed, merged text, end of input).
//!
//! It owns everything that is about XML rather than XML-RPC: the prolog and
//! epilogue, rejecting DOCTYPE, resolving entity and character references,
//! stitching text, CDATA and references together, line-end normalization,
//! refusing attributes, and the element-count and text-size limits.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::de::Limits;
use super::error::{DecodeError, DecodeErrorKind};

/// The XML-RPC vocabulary. Any other element name is a structure error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    MethodCall,
    MethodResponse,
    MethodName,
    Params,
    Param,
    Fault,
    Value,
    Array,
    Data,
    Struct,
    Member,
    Name,
    Int,
    I4,
    I8,
    I1,
    I2,
    BigInteger,
    Boolean,
    String,
    Double,
    Float,
    DateTime,
    Base64,
    Nil,
}

impl Tag {
    /// Looks up a local name (namespace prefix already stripped).
    fn from_local_name(name: &[u8]) -> Option<Tag> {
        Some(match name {
            b"methodCall" => Tag::MethodCall,
            b"methodResponse" => Tag::MethodResponse,
            b"methodName" => Tag::MethodName,
            b"params" => Tag::Params,
            b"param" => Tag::Param,
            b"fault" => Tag::Fault,
            b"value" => Tag::Value,
            b"array" => Tag::Array,
            b"data" => Tag::Data,
            b"struct" => Tag::Struct,
            b"member" => Tag::Member,
            b"name" => Tag::Name,
            b"int" => Tag::Int,
            b"i4" => Tag::I4,
            b"i8" => Tag::I8,
            b"i1" => Tag::I1,
            b"i2" => Tag::I2,
            b"biginteger" => Tag::BigInteger,
            b"boolean" => Tag::Boolean,
            b"string" => Tag::String,
            b"double" => Tag::Double,
            b"float" => Tag::Float,
            b"dateTime.iso8601" => Tag::DateTime,
            b"base64" => Tag::Base64,
            b"nil" => Tag::Nil,
            _ => return None,
        })
    }

    /// The element name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Tag::MethodCall => "methodCall",
            Tag::MethodResponse => "methodResponse",
            Tag::MethodName => "methodName",
            Tag::Params => "params",
            Tag::Param => "param",
            Tag::Fault => "fault",
            Tag::Value => "value",
            Tag::Array => "array",
            Tag::Data => "data",
            Tag::Struct => "struct",
            Tag::Member => "member",
            Tag::Name => "name",
            Tag::Int => "int",
            Tag::I4 => "i4",
            Tag::I8 => "i8",
            Tag::I1 => "i1",
            Tag::I2 => "i2",
            Tag::BigInteger => "biginteger",
            Tag::Boolean => "boolean",
            Tag::String => "string",
            Tag::Double => "double",
            Tag::Float => "float",
            Tag::DateTime => "dateTime.iso8601",
            Tag::Base64 => "base64",
            Tag::Nil => "nil",
        }
    }
}

/// One step of the document as XML-RPC sees it.
#[derive(Debug)]
pub(crate) enum Token<'a> {
    /// A start tag (or the start half of an empty-element tag).
    Open(Tag),
    /// The end tag of the innermost open element (names already matched).
    Close,
    /// All character data up to the next tag: text, CDATA and references,
    /// concatenated, with line ends normalized.
    Text(Cow<'a, str>),
    /// End of input.
    Eof,
}

/// What one quick-xml event amounts to.
enum Step<'a> {
    Token(Token<'a>),
    /// Character data to add to the current text run.
    Piece(Cow<'a, str>),
    /// A comment, a processing instruction or the XML declaration.
    Skip,
}

pub(crate) struct Lexer<'a> {
    reader: Reader<&'a [u8]>,
    /// The whole document; text the reader borrows is sliced out of it, so
    /// no piece needs UTF-8 validation again.
    doc: &'a str,
    /// Whether the document holds any raw `\r` needing line-end handling.
    has_cr: bool,
    /// The token that ended a text run, with its start offset.
    peeked: Option<(Token<'a>, usize)>,
    /// Open elements.
    depth: usize,
    root_closed: bool,
    elements: usize,
    limits: Limits,
    /// Offset of the start of the last token returned.
    token_start: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer over UTF-8 text that [`super::input::prepare`] has checked.
    pub fn new(doc: &'a str, limits: &Limits) -> Self {
        let mut reader = Reader::from_reader(doc.as_bytes());
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
        Lexer {
            reader,
            doc,
            has_cr: doc.contains('\r'),
            peeked: None,
            depth: 0,
            root_closed: false,
            elements: 0,
            limits: *limits,
            token_start: 0,
        }
    }

    /// An error of `kind` at the start of the last token.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        self.error_at(self.token_start, kind)
    }

    fn error_at(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, offset }
    }

    /// The offset where the next token starts.
    pub fn position(&self) -> usize {
        match &self.peeked {
            Some((_, start)) => *start,
            None => offset(self.reader.buffer_position()),
        }
    }

    /// The next token. Comments, processing instructions, the XML
    /// declaration and whitespace outside the root element are skipped.
    pub fn next_token(&mut self) -> Result<Token<'a>, DecodeError> {
        if let Some((token, start)) = self.peeked.take() {
            self.token_start = start;
            return Ok(token);
        }
        // A text run: its pieces, where it started, and whether it is
        // inside the root element.
        let mut text: Option<(Cow<'a, str>, usize, bool)> = None;
        loop {
            let (step, start) = self.step()?;
            match (step, &mut text) {
                (Step::Skip, _) => {}
                (Step::Piece(piece), None) => text = Some((piece, start, self.depth > 0)),
                (Step::Piece(piece), Some((run, _, _))) => {
                    if run.is_empty() {
                        *run = piece;
                    } else {
                        if let Cow::Borrowed(first) = run {
                            // Text with references usually has several more
                            // pieces: start with room for them.
                            let mut owned =
                                String::with_capacity(2 * (first.len() + piece.len()) + 16);
                            owned.push_str(first);
                            *run = Cow::Owned(owned);
                        }
                        run.to_mut().push_str(&piece);
                    }
                    self.check_text_size(run, start)?;
                }
                (Step::Token(token), None) => {
                    self.token_start = start;
                    return Ok(token);
                }
                (Step::Token(token), Some(_)) => {
                    let (run, run_start, in_root) = text.take().expect("matched Some");
                    self.token_start = run_start;
                    if in_root {
                        self.peeked = Some((token, start));
                        return Ok(Token::Text(run));
                    }
                    if !is_xml_whitespace(&run) {
                        return Err(
                            self.error(DecodeErrorKind::Syntax(self.outside_root_message()))
                        );
                    }
                    self.token_start = start;
                    return Ok(token);
                }
            }
        }
    }

    fn outside_root_message(&self) -> String {
        if self.root_closed {
            "junk after document element".into()
        } else {
            "text before the document element".into()
        }
    }

    /// Reads and classifies one event.
    #[inline]
    fn step(&mut self) -> Result<(Step<'a>, usize), DecodeError> {
        let start = offset(self.reader.buffer_position());
        let step = match self.reader.read_event() {
            Ok(Event::Start(tag)) => Step::Token(Token::Open(self.open(&tag, start)?)),
            Ok(Event::End(_)) => Step::Token(self.close()),
            Ok(Event::Text(text)) => Step::Piece(self.character_data(&text, start)?),
            Ok(Event::CData(cdata)) => Step::Piece(self.character_data(&cdata, start)?),
            Ok(Event::GeneralRef(reference)) => {
                Step::Piece(self.resolve_reference(&reference, start)?)
            }
            Ok(Event::Comment(_) | Event::PI(_)) => Step::Skip,
            Ok(Event::Decl(_)) if start == 0 => Step::Skip,
            Ok(Event::Decl(_)) => {
                let detail = "XML declaration not at the start".into();
                return Err(self.error_at(start, DecodeErrorKind::Syntax(detail)));
            }
            Ok(Event::DocType(_)) => return Err(self.error_at(start, DecodeErrorKind::Doctype)),
            Ok(Event::Empty(_)) => {
                let detail = "unexpanded empty element".into();
                return Err(self.error_at(start, DecodeErrorKind::Syntax(detail)));
            }
            Ok(Event::Eof) => Step::Token(Token::Eof),
            Err(err) => return Err(self.xml_error(&err)),
        };
        Ok((step, start))
    }

    #[cold]
    fn xml_error(&self, err: &XmlError) -> DecodeError {
        let kind = match err {
            XmlError::Syntax(SyntaxError::UnclosedDoctype) => DecodeErrorKind::Doctype,
            other => DecodeErrorKind::Syntax(other.to_string()),
        };
        self.error_at(offset(self.reader.error_position()), kind)
    }

    #[inline]
    fn open(&mut self, start: &BytesStart<'_>, at: usize) -> Result<Tag, DecodeError> {
        if self.root_closed {
            return Err(self.error_at(at, DecodeErrorKind::Syntax(self.outside_root_message())));
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(self.error_at(
                at,
                DecodeErrorKind::Limit {
                    what: "element count",
                    limit: self.limits.max_elements,
                },
            ));
        }
        self.depth += 1;
        let qname = start.name();
        let full = qname.as_ref();
        let local = match full.iter().rposition(|&b| b == b':') {
            Some(colon) => &full[colon + 1..],
            None => full,
        };
        let Some(tag) = Tag::from_local_name(local) else {
            let name = String::from_utf8_lossy(full);
            let detail = format!("unknown tag '{name}'");
            return Err(self.error_at(at, DecodeErrorKind::Structure(detail)));
        };
        self.check_attributes(start, tag, at)?;
        Ok(tag)
    }

    /// XML-RPC elements carry no attributes; namespace declarations
    /// (`xmlns`, `xmlns:ex`) are tolerated so prefixed extension types work.
    fn check_attributes(
        &self,
        start: &BytesStart<'_>,
        tag: Tag,
        at: usize,
    ) -> Result<(), DecodeError> {
        if is_xml_whitespace_bytes(start.attributes_raw()) {
            return Ok(());
        }
        for attr in start.attributes() {
            let attr =
                attr.map_err(|e| self.error_at(at, DecodeErrorKind::Syntax(e.to_string())))?;
            let key = attr.key.as_ref();
            if key != b"xmlns" && !key.starts_with(b"xmlns:") {
                let detail = format!("attributes are not allowed on <{}>", tag.name());
                return Err(self.error_at(at, DecodeErrorKind::Structure(detail)));
            }
        }
        Ok(())
    }

    #[inline]
    fn close(&mut self) -> Token<'a> {
        self.depth -= 1;
        if self.depth == 0 {
            self.root_closed = true;
        }
        Token::Close
    }

    fn check_text_size(&self, text: &str, at: usize) -> Result<(), DecodeError> {
        if text.len() > self.limits.max_string_bytes {
            return Err(self.error_at(
                at,
                DecodeErrorKind::Limit {
                    what: "text size",
                    limit: self.limits.max_string_bytes,
                },
            ));
        }
        Ok(())
    }

    /// Raw text or CDATA content, borrowed from the document when possible.
    #[inline]
    fn character_data(&self, bytes: &[u8], at: usize) -> Result<Cow<'a, str>, DecodeError> {
        let text = match self.slice_of_doc(bytes) {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(
                std::str::from_utf8(bytes)
                    .map_err(|_| {
                        self.error_at(at, DecodeErrorKind::InvalidChar("invalid UTF-8".into()))
                    })?
                    .to_owned(),
            ),
        };
        self.check_text_size(&text, at)?;
        Ok(if self.has_cr {
            normalize_line_ends(text)
        } else {
            text
        })
    }

    /// `bytes`, if the reader borrowed them from the document, as the `str`
    /// they are in `doc` (so no second UTF-8 validation is needed).
    #[inline]
    fn slice_of_doc(&self, bytes: &[u8]) -> Option<&'a str> {
        let start = (bytes.as_ptr() as usize).wrapping_sub(self.doc.as_ptr() as usize);
        let text = self.doc.get(start..start.checked_add(bytes.len())?)?;
        std::ptr::eq(text.as_ptr(), bytes.as_ptr()).then_some(text)
    }

    fn resolve_reference(
        &self,
        reference: &BytesRef<'_>,
        at: usize,
    ) -> Result<Cow<'a, str>, DecodeError> {
        let name: &[u8] = reference;
        let predefined = match name {
            b"lt" => "<",
            b"gt" => ">",
            b"amp" => "&",
            b"apos" => "'",
            b"quot" => "\"",
            _ => {
                let Some(number) = name.strip_prefix(b"#") else {
                    let name = String::from_utf8_lossy(name).into_owned();
                    return Err(self.error_at(at, DecodeErrorKind::UnknownEntity(name)));
                };
                let c = char_reference(number)
                    .map_err(|detail| self.error_at(at, DecodeErrorKind::InvalidChar(detail)))?;
                return Ok(Cow::Owned(c.to_string()));
            }
        };
        Ok(Cow::Borrowed(predefined))
    }
}

fn offset(position: u64) -> usize {
    usize::try_from(position).unwrap_or(usize::MAX)
}

/// The character a `&#N;` / `&#xH;` reference names (`number` is what
/// follows `#`), if XML 1.0 allows it.
fn char_reference(number: &[u8]) -> Result<char, String> {
    let text = String::from_utf8_lossy(number);
    let (digits, radix) = match number.strip_prefix(b"x") {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    let valid_digits = !digits.is_empty() && digits.iter().all(|&b| (b as char).is_digit(radix));
    let code = std::str::from_utf8(digits)
        .ok()
        .filter(|_| valid_digits)
        .and_then(|d| u32::from_str_radix(d, radix).ok())
        .ok_or_else(|| format!("malformed character reference &#{text};"))?;
    char::from_u32(code)
        .filter(|&c| is_xml_char(c))
        .ok_or_else(|| format!("&#{text}; names a character XML does not allow"))
}

/// XML 1.0 `Char`: tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000 and up.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

pub(crate) fn is_xml_whitespace(text: &str) -> bool {
    is_xml_whitespace_bytes(text.as_bytes())
}

fn is_xml_whitespace_bytes(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// XML line-end handling: `\r\n` and a lone `\r` in the raw text become `\n`.
/// (A `\r` written as `&#13;` is a reference and is kept.)
fn normalize_line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if !text.contains('\r') {
        return text;
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(doc: &str) -> Result<Vec<String>, DecodeErrorKind> {
        let mut lexer = Lexer::new(doc, &Limits::default());
        let mut out = Vec::new();
        loop {
            match lexer.next_token().map_err(|e| e.kind)? {
                Token::Open(tag) => out.push(format!("<{}>", tag.name())),
                Token::Close => out.push("</>".into()),
                Token::Text(t) => out.push(format!("{t:?}")),
                Token::Eof => return Ok(out),
            }
        }
    }

    #[test]
    fn merges_text_cdata_and_references() {
        let got = tokens("<value>a&amp;<![CDATA[<b>]]>&#65;&#x42;<!-- c -->z</value>").unwrap();
        assert_eq!(got, ["<value>", "\"a&<b>ABz\"", "</>"]);
    }

    #[test]
    fn normalizes_raw_carriage_returns_but_keeps_references() {
        let got = tokens("<value>a\r\nb\rc&#13;</value>").unwrap();
        assert_eq!(got, ["<value>", "\"a\\nb\\nc\\r\"", "</>"]);
    }

    #[test]
    fn strips_namespace_prefixes() {
        assert_eq!(tokens("<ex:nil/>").unwrap(), ["<nil>", "</>"]);
    }

    #[test]
    fn rejects_unknown_entities_and_bad_char_refs() {
        assert_eq!(
            tokens("<value>&foo;</value>"),
            Err(DecodeErrorKind::UnknownEntity("foo".into()))
        );
        for bad in [
            "&#0;",
            "&#xD800;",
            "&#x110000;",
            "&#xFFFE;",
            "&#1;",
            "&#xZZ;",
            "&#;",
        ] {
            let doc = format!("<value>{bad}</value>");
            assert!(
                matches!(tokens(&doc), Err(DecodeErrorKind::InvalidChar(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_attributes_but_not_namespace_declarations() {
        assert!(matches!(
            tokens("<value a='1'/>"),
            Err(DecodeErrorKind::Structure(_))
        ));
        assert!(tokens("<value xmlns:ex='urn:x' xmlns='urn:y'/>").is_ok());
    }

    #[test]
    fn rejects_doctype_and_junk() {
        assert_eq!(
            tokens("<!DOCTYPE x [<!ENTITY a 'b'>]><value/>"),
            Err(DecodeErrorKind::Doctype)
        );
        assert!(matches!(
            tokens("<value/><value/>"),
            Err(DecodeErrorKind::Syntax(_))
        ));
        assert!(matches!(
            tokens("<value/>junk"),
            Err(DecodeErrorKind::Syntax(_))
        ));
        assert!(tokens("<?xml version='1.0'?>\n<!-- hi --><value/>\n<?pi x?>\n").is_ok());
    }

    #[test]
    fn counts_elements() {
        let limits = Limits {
            max_elements: 2,
            ..Limits::default()
        };
        let mut lexer = Lexer::new("<value><array><data/></array></value>", &limits);
        let err = std::iter::from_fn(|| Some(lexer.next_token()))
            .find_map(Result::err)
            .unwrap();
        assert!(matches!(err.kind, DecodeErrorKind::Limit { .. }));
    }
}
