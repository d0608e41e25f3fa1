//! Decoding: bytes of a `<methodCall>` or `<methodResponse>` into values.
//!
//! This module owns the XML-RPC grammar. It reads tokens from the
//! [`Lexer`](super::lexer::Lexer) (which owns the XML rules) and builds
//! values with an explicit stack, so nesting depth never touches the call
//! stack: a document nested 100,000 deep fails on [`Limits::max_depth`], it
//! does not overflow.
//!
//! Depth counts containers: a scalar param is depth 0, `[1]` is depth 1,
//! and `max_depth` containers may nest (64 arrays inside each other pass
//! with the default, 65 do not).

use std::borrow::Cow;

use super::error::{DecodeError, DecodeErrorKind};
use super::input::prepare;
use super::lexer::{Failure, Lexer, Tag, Token, is_xml_whitespace};
use super::limits::Limits;
use super::scalar;
use super::value::{Fault, MethodCall, MethodResponse, Struct, Value};

/// Decodes a `<methodCall>`.
pub fn decode_call(input: &[u8], limits: &Limits) -> Result<MethodCall, DecodeError> {
    let prepared = prepare(input)?;
    let mut parser = Parser::new(&prepared.text, prepared.has_cr, limits);
    parser.call().map_err(|e| prepared.relocate(*e))
}

/// Decodes a `<methodResponse>`: `Ok(Ok(value))`, `Ok(Err(fault))`, or an error.
pub fn decode_response(input: &[u8], limits: &Limits) -> Result<MethodResponse, DecodeError> {
    let prepared = prepare(input)?;
    let mut parser = Parser::new(&prepared.text, prepared.has_cr, limits);
    parser.response().map_err(|e| prepared.relocate(*e))
}

type Parsed<T> = std::result::Result<T, Failure>;

/// An array or struct whose children are being read.
enum Frame {
    Array(Vec<Value>),
    /// `name` is the member whose `<value>` is being read.
    Struct {
        members: Struct,
        name: String,
    },
}

/// Where reading a container's children got to.
enum Step {
    /// A child `<value>` was opened.
    Child,
    /// The container closed (with its `</value>`); here is its value.
    Done(Value),
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, has_cr: bool, limits: &Limits) -> Self {
        Parser {
            lexer: Lexer::new(text, has_cr, limits),
            max_depth: limits.max_depth,
        }
    }

    fn call(&mut self) -> Parsed<MethodCall> {
        self.root(Tag::MethodCall)?;
        if self.structural()? != Some(Tag::MethodName) {
            return Err(self.structure("<methodCall> must start with <methodName>"));
        }
        let name = self.text_content()?.into_owned();
        if name.is_empty() {
            return Err(self.structure("empty <methodName>"));
        }
        let params = match self.structural()? {
            Some(Tag::Params) => {
                let params = self.params()?;
                self.expect_close()?;
                params
            }
            Some(other) => return Err(self.unexpected(other)),
            None => Vec::new(),
        };
        self.finish()?;
        Ok(MethodCall { name, params })
    }

    fn response(&mut self) -> Parsed<MethodResponse> {
        self.root(Tag::MethodResponse)?;
        let response = match self.structural()? {
            Some(Tag::Params) => {
                let mut params = self.params()?;
                if params.len() != 1 {
                    return Err(self.structure("a response holds exactly one <param>"));
                }
                Ok(params.swap_remove(0))
            }
            Some(Tag::Fault) => {
                self.expect_open(Tag::Value)?;
                let value = self.value()?;
                self.expect_close()?;
                Err(self.fault(value)?)
            }
            Some(other) => return Err(self.unexpected(other)),
            None => return Err(self.structure("empty <methodResponse>")),
        };
        self.expect_close()?;
        self.finish()?;
        Ok(response)
    }

    /// Reads up to and including the root start tag, which must be `tag`.
    fn root(&mut self, tag: Tag) -> Parsed<()> {
        match self.lexer.next_token()? {
            Token::Open(found) if found == tag => Ok(()),
            Token::Open(found) => Err(self.structure(&format!(
                "expected <{}>, found <{}>",
                tag.name(),
                found.name()
            ))),
            Token::Eof => Err(self
                .lexer
                .error(DecodeErrorKind::Syntax("no element found".into()))),
            Token::Close | Token::Text(_) => Err(self.structure("expected a root element")),
        }
    }

    /// After the root end tag: only comments, PIs and whitespace may follow.
    fn finish(&mut self) -> Parsed<()> {
        match self.lexer.next_token()? {
            Token::Eof => Ok(()),
            _ => Err(self.lexer.error(DecodeErrorKind::Syntax(
                "junk after document element".into(),
            ))),
        }
    }

    /// `<param><value>..</value></param>` until `</params>` (consumed).
    fn params(&mut self) -> Parsed<Vec<Value>> {
        let mut params = Vec::new();
        loop {
            match self.structural()? {
                Some(Tag::Param) => {
                    self.expect_open(Tag::Value)?;
                    params.push(self.value()?);
                    self.expect_close()?;
                }
                Some(other) => return Err(self.unexpected(other)),
                None => return Ok(params),
            }
        }
    }

    /// The fault struct: `faultCode` (32-bit int) and `faultString` (string).
    fn fault(&self, value: Value) -> Parsed<Fault> {
        let Value::Struct(mut members) = value else {
            return Err(self.structure("<fault> must hold a struct"));
        };
        let code = match members.swap_remove("faultCode") {
            Some(Value::Int(code)) => {
                i32::try_from(code).map_err(|_| self.structure("faultCode out of range"))?
            }
            _ => return Err(self.structure("fault needs an int faultCode")),
        };
        match members.swap_remove("faultString") {
            Some(Value::String(message)) => Ok(Fault { code, message }),
            _ => Err(self.structure("fault needs a string faultString")),
        }
    }

    /// Reads a value whose `<value>` start tag was just consumed, through
    /// its `</value>`.
    fn value(&mut self) -> Parsed<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let mut done = match self.value_content(&mut stack)? {
                Some(scalar) => scalar,
                None => match self.next_child(&mut stack)? {
                    Step::Child => continue,
                    Step::Done(container) => container,
                },
            };
            loop {
                let Some(frame) = stack.last_mut() else {
                    return Ok(done);
                };
                self.attach(frame, done)?;
                match self.next_child(&mut stack)? {
                    Step::Child => break,
                    Step::Done(container) => done = container,
                }
            }
        }
    }

    /// The inside of a `<value>`. A scalar is read through `</value>` and
    /// returned; a container is pushed on `stack` and `None` returned.
    fn value_content(&mut self, stack: &mut Vec<Frame>) -> Parsed<Option<Value>> {
        let tag = match self.lexer.next_token()? {
            Token::Close => return Ok(Some(Value::String(self.lexer.gap()?.into_owned()))),
            Token::Open(tag) => tag,
            Token::Text(first) => match self.text_run(first)? {
                (text, Token::Close) => return Ok(Some(Value::String(text.into_owned()))),
                (text, Token::Open(tag)) if is_xml_whitespace(&text) => tag,
                (_, Token::Open(_)) => return Err(self.structure("text mixed with a typed value")),
                (_, Token::Text(_) | Token::Eof) => return Err(self.unclosed()),
            },
            Token::Eof => return Err(self.unclosed()),
        };
        match tag {
            Tag::Array => {
                self.check_depth(stack)?;
                self.expect_open(Tag::Data)?;
                stack.push(Frame::Array(Vec::new()));
                Ok(None)
            }
            Tag::Struct => {
                self.check_depth(stack)?;
                stack.push(Frame::Struct {
                    // Most structs are small: this skips the early regrowths.
                    members: Struct::with_capacity(8),
                    name: String::new(),
                });
                Ok(None)
            }
            scalar_tag => {
                let value = self.scalar(scalar_tag)?;
                self.expect_close()?;
                Ok(Some(value))
            }
        }
    }

    /// A typed scalar whose start tag was just read, through its end tag.
    fn scalar(&mut self, tag: Tag) -> Parsed<Value> {
        let parse_error = |detail: String| DecodeErrorKind::BadValue {
            ty: tag.name(),
            detail,
        };
        if !is_scalar(tag) {
            return Err(self.unexpected(tag));
        }
        let at = self.lexer.position();
        let text = self.text_content()?;
        let value = match tag {
            Tag::String => Ok(Value::String(text.into_owned())),
            Tag::Int | Tag::I4 | Tag::I8 | Tag::I1 | Tag::I2 | Tag::BigInteger => {
                scalar::parse_int(&text).map(Value::Int)
            }
            Tag::Boolean => scalar::parse_bool(&text).map(Value::Bool),
            Tag::Double | Tag::Float => scalar::parse_double(&text).map(Value::Double),
            Tag::DateTime => scalar::parse_datetime(&text).map(Value::DateTime),
            Tag::Base64 => scalar::parse_base64(&text).map(Value::Base64),
            _ if is_xml_whitespace(&text) => Ok(Value::Nil),
            _ => Err("<nil/> must be empty".into()),
        };
        value.map_err(|detail| {
            Box::new(DecodeError {
                kind: parse_error(detail),
                offset: at,
            })
        })
    }

    fn check_depth(&self, stack: &[Frame]) -> Parsed<()> {
        if stack.len() >= self.max_depth {
            return Err(self.lexer.error(DecodeErrorKind::Limit {
                what: "nesting depth",
                limit: self.max_depth,
            }));
        }
        Ok(())
    }

    /// Adds a finished child to its container (reading `</member>` for structs).
    fn attach(&mut self, frame: &mut Frame, child: Value) -> Parsed<()> {
        match frame {
            Frame::Array(items) => items.push(child),
            Frame::Struct { members, name } => {
                members.insert(std::mem::take(name), child);
                self.expect_close()?;
            }
        }
        Ok(())
    }

    /// Opens the next child `<value>` of the innermost container, or closes
    /// the container (through its `</value>`) and pops it.
    fn next_child(&mut self, stack: &mut Vec<Frame>) -> Parsed<Step> {
        let tag = self.structural()?;
        let frame = stack
            .last_mut()
            .expect("next_child needs an open container");
        match (frame, tag) {
            (Frame::Array(_), Some(Tag::Value)) => return Ok(Step::Child),
            (Frame::Struct { name, .. }, Some(Tag::Member)) => {
                *name = self.member_name()?;
                return Ok(Step::Child);
            }
            (_, Some(other)) => return Err(self.unexpected(other)),
            (_, None) => {}
        }
        let container = match stack.pop() {
            Some(Frame::Array(items)) => {
                self.expect_close()?; // </array>
                Value::Array(items)
            }
            Some(Frame::Struct { members, .. }) => Value::Struct(members),
            None => unreachable!("checked above"),
        };
        self.expect_close()?; // </value>
        Ok(Step::Done(container))
    }

    /// `<name>..</name><value>` of a member whose start tag was just read.
    fn member_name(&mut self) -> Parsed<String> {
        self.expect_open(Tag::Name)?;
        let name = self.text_content()?.into_owned();
        self.expect_open(Tag::Value)?;
        Ok(name)
    }

    /// The next start tag (`Some`) or end tag (`None`), skipping
    /// whitespace; other text is a structure error.
    #[inline(always)]
    fn structural(&mut self) -> Parsed<Option<Tag>> {
        loop {
            match self.lexer.next_token()? {
                Token::Open(tag) => return Ok(Some(tag)),
                Token::Close => return Ok(None),
                Token::Text(text) if is_xml_whitespace(&text) => {}
                Token::Text(_) => return Err(self.structure("unexpected text")),
                Token::Eof => return Err(self.unclosed()),
            }
        }
    }

    fn expect_open(&mut self, tag: Tag) -> Parsed<()> {
        match self.structural()? {
            Some(found) if found == tag => Ok(()),
            Some(found) => Err(self.structure(&format!(
                "expected <{}>, found <{}>",
                tag.name(),
                found.name()
            ))),
            None => Err(self.structure(&format!("expected <{}>", tag.name()))),
        }
    }

    fn expect_close(&mut self) -> Parsed<()> {
        match self.structural()? {
            None => Ok(()),
            Some(found) => Err(self.unexpected(found)),
        }
    }

    /// The text of an element whose start tag was just read, through its
    /// end tag; empty when there is none. Child elements are an error.
    fn text_content(&mut self) -> Parsed<Cow<'a, str>> {
        match self.lexer.next_token()? {
            Token::Close => self.lexer.gap(),
            Token::Text(first) => match self.text_run(first)? {
                (text, Token::Close) => Ok(text),
                (_, Token::Open(tag)) => Err(self.unexpected(tag)),
                (_, Token::Text(_) | Token::Eof) => Err(self.unclosed()),
            },
            Token::Open(tag) => Err(self.unexpected(tag)),
            Token::Eof => Err(self.unclosed()),
        }
    }

    /// `first` joined with the text pieces right after it (a text node,
    /// CDATA and references make one run) and the whitespace before the
    /// end tag, and the token that ended it.
    #[inline]
    fn text_run(&mut self, first: Cow<'a, str>) -> Parsed<(Cow<'a, str>, Token<'a>)> {
        let start = self.lexer.token_start();
        let mut run = first;
        loop {
            match self.lexer.next_token()? {
                Token::Text(piece) => self.lexer.append(&mut run, piece, start)?,
                Token::Close => {
                    // Whitespace between the last piece and the end tag.
                    let gap = self.lexer.gap()?;
                    if !gap.is_empty() {
                        self.lexer.append(&mut run, gap, start)?;
                    }
                    return Ok((run, Token::Close));
                }
                end => return Ok((run, end)),
            }
        }
    }

    fn structure(&self, detail: &str) -> Failure {
        self.lexer
            .error(DecodeErrorKind::Structure(detail.to_owned()))
    }

    fn unexpected(&self, tag: Tag) -> Failure {
        self.structure(&format!("unexpected <{}>", tag.name()))
    }

    fn unclosed(&self) -> Failure {
        self.lexer
            .error(DecodeErrorKind::Syntax("unclosed token".into()))
    }
}

fn is_scalar(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::String
            | Tag::Int
            | Tag::I4
            | Tag::I8
            | Tag::I1
            | Tag::I2
            | Tag::BigInteger
            | Tag::Boolean
            | Tag::Double
            | Tag::Float
            | Tag::DateTime
            | Tag::Base64
            | Tag::Nil
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(doc: &str) -> std::result::Result<MethodCall, DecodeErrorKind> {
        decode_call(doc.as_bytes(), &Limits::default()).map_err(|e| e.kind)
    }

    fn param(inner: &str) -> std::result::Result<Value, DecodeErrorKind> {
        let doc = format!(
            "<methodCall><methodName>m</methodName><params><param>{inner}</param></params></methodCall>"
        );
        call(&doc).map(|c| c.params.into_iter().next().unwrap())
    }

    fn nested_arrays(depth: usize) -> String {
        let mut doc = String::from("<methodCall><methodName>m</methodName><params><param>");
        doc.push_str(&"<value><array><data>".repeat(depth));
        doc.push_str(&"</data></array></value>".repeat(depth));
        doc.push_str("</param></params></methodCall>");
        doc
    }

    #[test]
    fn decodes_a_simple_call() {
        let doc = "<?xml version='1.0'?>\n<methodCall>\n <methodName>add</methodName>\n <params>\n  <param><value><int>2</int></value></param>\n  <param><value><i4>3</i4></value></param>\n </params>\n</methodCall>\n";
        let got = call(doc).unwrap();
        assert_eq!(got.name, "add");
        assert_eq!(got.params, [Value::Int(2), Value::Int(3)]);
    }

    #[test]
    fn untyped_values_are_strings_with_whitespace_kept() {
        assert_eq!(
            param("<value> a b </value>"),
            Ok(Value::String(" a b ".into()))
        );
        assert_eq!(param("<value></value>"), Ok(Value::String(String::new())));
        assert_eq!(param("<value/>"), Ok(Value::String(String::new())));
        assert_eq!(param("<value> <int>1</int> </value>"), Ok(Value::Int(1)));
        assert!(matches!(
            param("<value>x<int>1</int></value>"),
            Err(DecodeErrorKind::Structure(_))
        ));
    }

    #[test]
    fn structs_keep_order_and_last_duplicate_wins() {
        let doc = "<value><struct><member><name>b</name><value>1</value></member><member><name>a</name><value>2</value></member><member><name>b</name><value>3</value></member></struct></value>";
        let Value::Struct(members) = param(doc).unwrap() else {
            panic!()
        };
        let pairs: Vec<_> = members
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        assert_eq!(pairs, [("b", "3"), ("a", "2")]);
    }

    #[test]
    fn member_needs_name_and_value() {
        let no_value = "<value><struct><member><name>a</name></member></struct></value>";
        assert!(matches!(
            param(no_value),
            Err(DecodeErrorKind::Structure(_))
        ));
        let no_name = "<value><struct><member><value>1</value></member></struct></value>";
        assert!(matches!(param(no_name), Err(DecodeErrorKind::Structure(_))));
    }

    #[test]
    fn array_needs_data() {
        assert!(matches!(
            param("<value><array></array></value>"),
            Err(DecodeErrorKind::Structure(_))
        ));
        assert_eq!(
            param("<value><array><data/></array></value>"),
            Ok(Value::Array(vec![]))
        );
    }

    #[test]
    fn depth_limit_is_exact() {
        assert!(call(&nested_arrays(64)).is_ok());
        assert!(matches!(
            call(&nested_arrays(65)),
            Err(DecodeErrorKind::Limit { .. })
        ));
    }

    #[test]
    fn very_deep_nesting_is_a_limit_error_not_a_crash() {
        let doc = nested_arrays(200_000); // 600,000 elements
        assert!(matches!(call(&doc), Err(DecodeErrorKind::Limit { .. })));
        let limits = Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        };
        // With the depth limit off, the element limit still stops it, and
        // a deep value still decodes without recursion.
        let err = decode_call(doc.as_bytes(), &limits).unwrap_err();
        assert!(matches!(
            err.kind,
            DecodeErrorKind::Limit {
                what: "element count",
                ..
            }
        ));
        let ok = decode_call(nested_arrays(20_000).as_bytes(), &limits).unwrap();
        let mut value = ok.params.into_iter().next().unwrap();
        // Dismantle iteratively: dropping a 20,000-deep Value recursively
        // would itself be the stack overflow this test guards against.
        let mut levels = 0;
        while let Value::Array(mut items) = value {
            levels += 1;
            value = items.pop().unwrap_or(Value::Nil);
        }
        assert_eq!(levels, 20_000);
    }

    #[test]
    fn whitespace_text_is_held_to_the_size_limit() {
        let limits = Limits {
            max_string_bytes: 8,
            ..Limits::default()
        };
        let spaces = " ".repeat(9);
        for inner in [
            format!("<string>{spaces}</string>"),
            spaces.clone(),
            format!("<string>{spaces}<![CDATA[x]]></string>"),
            format!("<string>{spaces}&amp;</string>"),
            format!("<string>a&amp;{spaces}</string>"),
            format!("<string>{spaces}<!-- c --></string>"),
        ] {
            let doc = format!(
                "<methodCall><methodName>m</methodName><params><param><value>{inner}</value></param></params></methodCall>"
            );
            let err = decode_call(doc.as_bytes(), &limits).unwrap_err();
            assert!(
                matches!(
                    err.kind,
                    DecodeErrorKind::Limit {
                        what: "text size",
                        ..
                    }
                ),
                "{inner}: {err:?}"
            );
        }
        let fits = "<methodCall><methodName>m</methodName><params><param><value><string>        </string></value></param></params></methodCall>";
        assert!(decode_call(fits.as_bytes(), &limits).is_ok());
    }

    #[test]
    fn errors_carry_offsets() {
        let doc = "<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>";
        let err = decode_call(doc.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(
            err.kind,
            DecodeErrorKind::BadValue { ty: "int", .. }
        ));
        assert_eq!(err.offset, doc.find("x<").unwrap());
    }

    #[test]
    fn response_and_fault() {
        let ok = "<methodResponse><params><param><value><string>hi</string></value></param></params></methodResponse>";
        assert_eq!(
            decode_response(ok.as_bytes(), &Limits::default()),
            Ok(Ok(Value::from("hi")))
        );
        let fault = "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>no</value></member></struct></value></fault></methodResponse>";
        assert_eq!(
            decode_response(fault.as_bytes(), &Limits::default()),
            Ok(Err(Fault::new(4, "no")))
        );
        let two = "<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>";
        let err = decode_response(two.as_bytes(), &Limits::default()).unwrap_err();
        assert!(matches!(err.kind, DecodeErrorKind::Structure(_)));
    }

    #[test]
    fn call_without_params_or_name() {
        assert_eq!(
            call("<methodCall><methodName>x</methodName></methodCall>")
                .unwrap()
                .params,
            []
        );
        assert_eq!(
            call("<methodCall><methodName>x</methodName><params/></methodCall>")
                .unwrap()
                .params,
            []
        );
        assert!(matches!(
            call("<methodCall><params/></methodCall>"),
            Err(DecodeErrorKind::Structure(_))
        ));
        assert!(matches!(
            call("<methodCall><methodName></methodName></methodCall>"),
            Err(DecodeErrorKind::Structure(_))
        ));
        assert_eq!(
            call("<methodCall><methodName> a </methodName></methodCall>")
                .unwrap()
                .name,
            " a "
        );
    }
}
