//! The decoder's tokenizer: turns quick-xml events into XML-RPC tokens
//! (known element opened, element closed, a piece of text, end of input).
//!
//! It owns everything that is about XML rather than XML-RPC: the prolog and
//! epilogue, rejecting DOCTYPE, resolving entity and character references,
//! joining text, CDATA and references into runs ([`Lexer::append`]),
//! line-end normalization, refusing attributes, and the element-count and
//! text-size limits.
//!
//! The reader is set to skip whitespace before text and markup, so the
//! whitespace between tags (a third of the events in a document Python
//! wrote) costs no event. Where whitespace is character data it is taken
//! back from the document: a text node is sliced from where the previous
//! event ended, and [`Lexer::gap`] gives what was skipped before a tag.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::error::{DecodeError, DecodeErrorKind};
use super::limits::Limits;

/// An error inside the decoder. Boxed so that the `Ok` side sets the size
/// of the lexer's and the grammar's results (a `DecodeError` is 48 bytes,
/// a box 8): most of them then come back in registers, once per token.
/// `decode_call` and `decode_response` unbox it.
pub(crate) type Failure = Box<DecodeError>;

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
    /// Looks up a local name (namespace prefix already stripped). Byte
    /// patterns, not byte-string ones: they compile to a decision tree
    /// over the bytes instead of a `memcmp` call per candidate.
    #[inline(always)]
    #[rustfmt::skip]
    fn from_local_name(name: &[u8]) -> Option<Tag> {
        Some(match name {
            [b'm', b'e', b't', b'h', b'o', b'd', b'C', b'a', b'l', b'l'] => Tag::MethodCall,
            [b'm', b'e', b't', b'h', b'o', b'd', b'R', b'e', b's', b'p', b'o', b'n', b's', b'e'] => Tag::MethodResponse,
            [b'm', b'e', b't', b'h', b'o', b'd', b'N', b'a', b'm', b'e'] => Tag::MethodName,
            [b'p', b'a', b'r', b'a', b'm', b's'] => Tag::Params,
            [b'p', b'a', b'r', b'a', b'm'] => Tag::Param,
            [b'f', b'a', b'u', b'l', b't'] => Tag::Fault,
            [b'v', b'a', b'l', b'u', b'e'] => Tag::Value,
            [b'a', b'r', b'r', b'a', b'y'] => Tag::Array,
            [b'd', b'a', b't', b'a'] => Tag::Data,
            [b's', b't', b'r', b'u', b'c', b't'] => Tag::Struct,
            [b'm', b'e', b'm', b'b', b'e', b'r'] => Tag::Member,
            [b'n', b'a', b'm', b'e'] => Tag::Name,
            [b'i', b'n', b't'] => Tag::Int,
            [b'i', b'4'] => Tag::I4,
            [b'i', b'8'] => Tag::I8,
            [b'i', b'1'] => Tag::I1,
            [b'i', b'2'] => Tag::I2,
            [b'b', b'i', b'g', b'i', b'n', b't', b'e', b'g', b'e', b'r'] => Tag::BigInteger,
            [b'b', b'o', b'o', b'l', b'e', b'a', b'n'] => Tag::Boolean,
            [b's', b't', b'r', b'i', b'n', b'g'] => Tag::String,
            [b'd', b'o', b'u', b'b', b'l', b'e'] => Tag::Double,
            [b'f', b'l', b'o', b'a', b't'] => Tag::Float,
            [b'd', b'a', b't', b'e', b'T', b'i', b'm', b'e', b'.', b'i', b's', b'o', b'8', b'6', b'0', b'1'] => Tag::DateTime,
            [b'b', b'a', b's', b'e', b'6', b'4'] => Tag::Base64,
            [b'n', b'i', b'l'] => Tag::Nil,
            _ => return None,
        })
    }

    /// The element name, for messages.
    pub(super) fn name(self) -> &'static str {
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
    /// One piece of character data inside the root element: a text node,
    /// a CDATA section or a resolved reference, with line ends normalized.
    /// Adjacent pieces belong to one text run; [`Lexer::append`] joins them.
    Text(Cow<'a, str>),
    /// End of input.
    Eof,
}

pub(crate) struct Lexer<'a> {
    reader: Reader<&'a [u8]>,
    /// The whole document; text the reader borrows is sliced out of it, so
    /// no piece needs UTF-8 validation again.
    doc: &'a str,
    /// Whether the document holds any raw `\r` needing line-end handling.
    has_cr: bool,
    /// Open elements.
    depth: usize,
    /// An empty-element tag was returned as `Open`; its `Close` is next.
    empty_open: bool,
    /// Whether the last token was `Text` (else whitespace the reader
    /// skipped may lie at `token_start`, before the token's markup).
    at_text: bool,
    root_closed: bool,
    elements: usize,
    limits: Limits,
    /// Offset of the start of the last token returned.
    token_start: usize,
    /// Where whitespace the reader skipped before the last token starts
    /// (`usize::MAX`: none can, the token is the end of an empty tag).
    gap_at: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer over UTF-8 text that [`super::input::prepare`] has checked
    /// (`has_cr`: whether it holds a raw `\r`).
    pub(super) fn new(doc: &'a str, has_cr: bool, limits: &Limits) -> Self {
        let mut reader = Reader::from_reader(doc.as_bytes());
        let config = reader.config_mut();
        config.check_end_names = true;
        config.trim_text(false);
        // See the module doc: skipped whitespace is taken back where it is
        // character data (`text_node`, `gap`).
        config.trim_text_start = true;
        Lexer {
            reader,
            doc,
            has_cr,
            depth: 0,
            empty_open: false,
            at_text: false,
            root_closed: false,
            elements: 0,
            limits: *limits,
            token_start: 0,
            gap_at: 0,
        }
    }

    /// An error of `kind` at the start of the last token.
    pub(super) fn error(&self, kind: DecodeErrorKind) -> Failure {
        let at = match self.at_text {
            true => self.token_start,
            false => self.markup_start(self.token_start),
        };
        self.error_at(at, kind)
    }

    /// Where the markup of an event read from `start` begins: past the
    /// whitespace the reader skipped.
    fn markup_start(&self, start: usize) -> usize {
        let rest = self.doc.as_bytes().get(start..).unwrap_or_default();
        start + whitespace_len(rest)
    }

    fn error_at(&self, offset: usize, kind: DecodeErrorKind) -> Failure {
        Box::new(DecodeError { kind, offset })
    }

    /// The offset where the next token starts.
    pub(super) fn position(&self) -> usize {
        offset(self.reader.buffer_position())
    }

    /// The offset where the last token returned started.
    pub(super) fn token_start(&self) -> usize {
        self.token_start
    }

    /// The next token. Comments, processing instructions, the XML
    /// declaration and whitespace outside the root element are skipped;
    /// other text outside it is an error.
    #[inline(always)]
    pub(super) fn next_token(&mut self) -> Result<Token<'a>, Failure> {
        if self.empty_open {
            self.empty_open = false;
            self.at_text = false;
            self.gap_at = usize::MAX;
            self.close();
            return Ok(Token::Close);
        }
        loop {
            let start = offset(self.reader.buffer_position());
            self.token_start = start;
            self.gap_at = start;
            self.at_text = false;
            let piece = match self.reader.read_event() {
                Ok(Event::Start(tag)) => return Ok(Token::Open(self.open(&tag, start)?)),
                Ok(Event::End(_)) => {
                    self.close();
                    return Ok(Token::Close);
                }
                Ok(Event::Text(text)) => self.text_node(&text, start)?,
                Ok(Event::Empty(tag)) => {
                    let tag = self.open(&tag, start)?;
                    self.empty_open = true;
                    return Ok(Token::Open(tag));
                }
                Ok(Event::CData(cdata)) => {
                    let piece = self.character_data(&cdata, start)?;
                    self.after_gap(piece)?
                }
                Ok(Event::GeneralRef(reference)) => {
                    let piece = self.resolve_reference(&reference, start)?;
                    self.after_gap(piece)?
                }
                Ok(Event::Eof) => return Ok(Token::Eof),
                // Skipped, but whitespace before them inside an element is
                // character data.
                Ok(Event::Comment(_) | Event::PI(_)) => match self.gap()? {
                    gap if gap.is_empty() || self.depth == 0 => continue,
                    gap => gap,
                },
                Ok(Event::Decl(_)) if start == 0 => continue,
                Ok(other) => return Err(self.misplaced(&other, start)),
                Err(err) => return Err(self.xml_error(&err)),
            };
            if self.depth > 0 {
                self.at_text = true;
                return Ok(Token::Text(piece));
            }
            if !is_xml_whitespace(&piece) {
                self.at_text = true;
                return Err(self.error(DecodeErrorKind::Syntax(self.outside_root_message())));
            }
        }
    }

    /// The whitespace the reader skipped right before the last token, when
    /// that is an `Open` or `Close` (a `Text` token already holds its own):
    /// character data where the element holds text (`<string> </string>`),
    /// nothing where it holds elements.
    /// Held to the text-size limit like any text.
    #[inline(always)]
    pub(super) fn gap(&self) -> Result<Cow<'a, str>, Failure> {
        // Mostly the token's markup starts right there: nothing skipped.
        match self.doc.as_bytes().get(self.gap_at) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => self.skipped_whitespace(),
            _ => Ok(Cow::Borrowed("")),
        }
    }

    /// [`Lexer::gap`] when there is whitespace at `gap_at`.
    #[inline(never)]
    fn skipped_whitespace(&self) -> Result<Cow<'a, str>, Failure> {
        let rest = self.doc.as_bytes().get(self.gap_at..).unwrap_or_default();
        let gap = &self.doc[self.gap_at..self.gap_at + whitespace_len(rest)];
        self.check_text_size(gap, self.gap_at)?;
        Ok(match self.has_cr {
            true => normalize_line_ends(Cow::Borrowed(gap)),
            false => Cow::Borrowed(gap),
        })
    }

    /// `piece` (CDATA or a reference) with the whitespace skipped before it.
    #[inline]
    fn after_gap(&self, piece: Cow<'a, str>) -> Result<Cow<'a, str>, Failure> {
        let gap = self.gap()?;
        if gap.is_empty() {
            return Ok(piece);
        }
        let joined = gap.into_owned() + &piece;
        self.check_text_size(&joined, self.gap_at)?;
        Ok(Cow::Owned(joined))
    }

    #[inline]
    fn close(&mut self) {
        self.depth -= 1;
        self.root_closed |= self.depth == 0;
    }

    /// Adds `piece` to the text run `run` that started at `run_start`.
    pub(super) fn append(
        &self,
        run: &mut Cow<'a, str>,
        piece: Cow<'a, str>,
        run_start: usize,
    ) -> Result<(), Failure> {
        if run.is_empty() {
            *run = piece;
            return Ok(());
        }
        if let Cow::Borrowed(first) = run {
            // Text with references usually has several more pieces: start
            // with room for the run as written up to the next markup, which
            // resolving references only shortens.
            let rest = self.doc.as_bytes().get(run_start..).unwrap_or_default();
            let written = memchr::memchr(b'<', rest).unwrap_or(rest.len());
            let mut owned = String::with_capacity(written.max(first.len() + piece.len()));
            owned.push_str(first);
            *run = Cow::Owned(owned);
        }
        run.to_mut().push_str(&piece);
        self.check_text_size(run, run_start)
    }

    fn outside_root_message(&self) -> String {
        if self.root_closed {
            "junk after document element".into()
        } else {
            "text before the document element".into()
        }
    }

    /// A declaration not at the start, or a DOCTYPE.
    #[cold]
    fn misplaced(&self, event: &Event<'_>, start: usize) -> Failure {
        let start = self.markup_start(start);
        let kind = match event {
            Event::DocType(_) => DecodeErrorKind::Doctype,
            _ => DecodeErrorKind::Syntax("XML declaration not at the start".into()),
        };
        self.error_at(start, kind)
    }

    #[cold]
    fn xml_error(&self, err: &XmlError) -> Failure {
        let kind = match err {
            XmlError::Syntax(SyntaxError::UnclosedDoctype) => DecodeErrorKind::Doctype,
            other => DecodeErrorKind::Syntax(other.to_string()),
        };
        self.error_at(offset(self.reader.error_position()), kind)
    }

    #[inline(always)]
    fn open(&mut self, start: &BytesStart<'_>, at: usize) -> Result<Tag, Failure> {
        self.elements += 1;
        if self.root_closed || self.elements > self.limits.max_elements {
            return Err(self.refused_open(at));
        }
        self.depth += 1;
        let qname = start.name();
        let full = qname.as_ref();
        // Unprefixed names are the rule; a prefix is looked at only when
        // the whole name is not XML-RPC's.
        let tag = match Tag::from_local_name(full) {
            Some(tag) => tag,
            None => self.prefixed(full, at)?,
        };
        if !start.attributes_raw().is_empty() {
            self.check_attributes(start, tag, at)?;
        }
        Ok(tag)
    }

    /// Why a start tag cannot be taken: it follows the root element, or
    /// the element-count limit is reached.
    #[cold]
    fn refused_open(&self, at: usize) -> Failure {
        let at = self.markup_start(at);
        if self.root_closed {
            return self.error_at(at, DecodeErrorKind::Syntax(self.outside_root_message()));
        }
        self.error_at(
            at,
            DecodeErrorKind::Limit {
                what: "element count",
                limit: self.limits.max_elements,
            },
        )
    }

    /// The tag a prefixed name (`ex:nil`) names by its local part.
    #[cold]
    fn prefixed(&self, full: &[u8], at: usize) -> Result<Tag, Failure> {
        let at = self.markup_start(at);
        full.iter()
            .rposition(|&b| b == b':')
            .and_then(|colon| Tag::from_local_name(&full[colon + 1..]))
            .ok_or_else(|| {
                let name = String::from_utf8_lossy(full);
                let detail = format!("unknown tag '{name}'");
                self.error_at(at, DecodeErrorKind::Structure(detail))
            })
    }

    /// XML-RPC elements carry no attributes; namespace declarations
    /// (`xmlns`, `xmlns:ex`) are tolerated so prefixed extension types work.
    #[cold]
    fn check_attributes(&self, start: &BytesStart<'_>, tag: Tag, at: usize) -> Result<(), Failure> {
        if is_xml_whitespace_bytes(start.attributes_raw()) {
            return Ok(());
        }
        let at = self.markup_start(at);
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

    fn check_text_size(&self, text: &str, at: usize) -> Result<(), Failure> {
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
    #[inline(always)]
    fn character_data(&self, bytes: &[u8], at: usize) -> Result<Cow<'a, str>, Failure> {
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

    /// A text node, with the leading whitespace the reader trimmed taken
    /// back: it lies between `start` (the end of the previous event) and
    /// the node, in the document.
    #[inline(always)]
    fn text_node(&self, bytes: &[u8], start: usize) -> Result<Cow<'a, str>, Failure> {
        let Some(node) = self.slice_of_doc(bytes) else {
            let piece = self.character_data(bytes, start)?;
            return self.after_gap(piece);
        };
        let end = node.as_ptr() as usize - self.doc.as_ptr() as usize + node.len();
        let text = &self.doc[start..end];
        self.check_text_size(text, start)?;
        Ok(if self.has_cr {
            normalize_line_ends(Cow::Borrowed(text))
        } else {
            Cow::Borrowed(text)
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
    ) -> Result<Cow<'a, str>, Failure> {
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

/// How many bytes of XML whitespace `bytes` starts with.
fn whitespace_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count()
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
        let mut lexer = Lexer::new(doc, doc.contains('\r'), &Limits::default());
        let mut out = Vec::new();
        // A text run: its pieces joined, and where it started.
        let mut run: Option<(Cow<str>, usize)> = None;
        loop {
            let token = lexer.next_token().map_err(|e| e.kind)?;
            if let Token::Text(piece) = token {
                match &mut run {
                    None => run = Some((piece, lexer.token_start())),
                    Some((text, start)) => lexer.append(text, piece, *start).map_err(|e| e.kind)?,
                }
                continue;
            }
            if let Some((text, _)) = run.take() {
                out.push(format!("{text:?}"));
            }
            match token {
                Token::Open(tag) => out.push(format!("<{}>", tag.name())),
                Token::Close => out.push("</>".into()),
                Token::Text(_) => unreachable!("handled above"),
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
        let mut lexer = Lexer::new("<value><array><data/></array></value>", false, &limits);
        let err = std::iter::from_fn(|| Some(lexer.next_token()))
            .find_map(Result::err)
            .unwrap();
        assert!(matches!(err.kind, DecodeErrorKind::Limit { .. }));
    }
}
