//! Encoding: values, calls, responses and faults into XML bytes.
//!
//! Everything is written into one pre-sized `Vec<u8>`. Containers are walked
//! with an explicit stack, so a deeply nested value cannot overflow the call
//! stack. Text is escaped in runs: bytes that need nothing are copied in
//! slices, and only `&`, `<`, `>`, `\r` and characters the charset cannot
//! hold are rewritten.

use std::io::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::charset::Charset;
use super::error::EncodeError;
use super::lexer::is_xml_char;
use super::value::{Fault, Value};

/// How to write a document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// The response charset; characters it cannot hold become `&#N;`.
    pub charset: Charset,
    /// Whether `Value::Nil` may be written as `<nil/>`.
    pub allow_none: bool,
}

/// Encodes a successful `<methodResponse>` holding `value`.
pub fn encode_response(value: &Value, opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new(opts, estimate_size(std::slice::from_ref(value)));
    w.markup("<methodResponse><params><param>");
    w.value(value)?;
    w.markup("</param></params></methodResponse>");
    Ok(w.out)
}

/// Encodes a fault `<methodResponse>`. Never fails: characters XML cannot
/// carry in the message are replaced.
pub fn encode_fault(fault: &Fault, opts: &EncodeOptions) -> Vec<u8> {
    let message: String = fault
        .message
        .chars()
        .map(|c| {
            if is_xml_char(c) {
                c
            } else {
                char::REPLACEMENT_CHARACTER
            }
        })
        .collect();
    let value = Fault::new(fault.code, message).to_value();
    let mut w = Writer::new(opts, 256 + fault.message.len());
    w.markup("<methodResponse><fault>");
    // A struct of an int and a sanitized string cannot fail to encode.
    if w.value(&value).is_err() {
        return generic_fault(opts);
    }
    w.markup("</fault></methodResponse>");
    w.out
}

/// Encodes a `<methodCall>`.
pub fn encode_call(
    name: &str,
    params: &[Value],
    opts: &EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new(opts, estimate_size(params) + name.len());
    w.markup("<methodCall><methodName>");
    w.text(name)?;
    w.markup("</methodName><params>");
    for param in params {
        w.markup("<param>");
        w.value(param)?;
        w.markup("</param>");
    }
    w.markup("</params></methodCall>");
    Ok(w.out)
}

/// The fault written if the real one somehow cannot be.
fn generic_fault(opts: &EncodeOptions) -> Vec<u8> {
    let mut w = Writer::new(opts, 256);
    w.markup("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>-32603</int></value></member><member><name>faultString</name><value><string>internal error</string></value></member></struct></value></fault></methodResponse>");
    w.out
}

/// A cheap upper-ish guess of the encoded size, so the output rarely grows.
fn estimate_size(values: &[Value]) -> usize {
    let mut total = 128;
    let mut stack: Vec<&Value> = values.iter().collect();
    while let Some(value) = stack.pop() {
        total += match value {
            Value::String(s) => s.len() + 32,
            Value::Base64(b) => b.len() / 3 * 4 + 40,
            Value::Array(items) => {
                stack.extend(items);
                40
            }
            Value::Struct(members) => {
                for (name, member) in members {
                    total += name.len() + 40;
                    stack.push(member);
                }
                30
            }
            _ => 48,
        };
    }
    total
}

/// A container being written: its remaining children and the markup that
/// closes it.
enum Frame<'v> {
    Array(std::slice::Iter<'v, Value>, &'static str),
    Struct(indexmap::map::Iter<'v, String, Value>, &'static str),
}

/// What to write next while walking the tree.
enum Next<'v> {
    Item(&'v Value),
    Member(&'v str, &'v Value),
    Close(&'static str),
}

struct Writer {
    out: Vec<u8>,
    charset: Charset,
    allow_none: bool,
}

impl Writer {
    fn new(opts: &EncodeOptions, capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        match opts.charset {
            Charset::Utf8 => out.extend_from_slice(b"<?xml version=\"1.0\"?>\n"),
            other => {
                out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"");
                out.extend_from_slice(other.label().as_bytes());
                out.extend_from_slice(b"\"?>\n");
            }
        }
        Writer {
            out,
            charset: opts.charset,
            allow_none: opts.allow_none,
        }
    }

    /// ASCII markup, written as is in every supported charset.
    fn markup(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    /// `<value>..</value>` for `root`, iteratively.
    fn value(&mut self, root: &Value) -> Result<(), EncodeError> {
        let mut stack: Vec<Frame<'_>> = Vec::new();
        self.open_value(root, false, &mut stack)?;
        loop {
            let next = match stack.last_mut() {
                None => return Ok(()),
                Some(Frame::Array(items, close)) => {
                    items.next().map_or(Next::Close(close), Next::Item)
                }
                Some(Frame::Struct(members, close)) => {
                    members.next().map_or(Next::Close(close), |(name, value)| {
                        Next::Member(name, value)
                    })
                }
            };
            match next {
                Next::Item(value) => self.open_value(value, false, &mut stack)?,
                Next::Member(name, value) => {
                    self.markup("<member><name>");
                    self.text(name)?;
                    self.markup("</name>");
                    self.open_value(value, true, &mut stack)?;
                }
                Next::Close(close) => {
                    self.markup(close);
                    stack.pop();
                }
            }
        }
    }

    /// Writes a scalar whole, or a container's opening markup (pushing a
    /// frame for its children). `in_member` adds `</member>` to the close.
    fn open_value<'v>(
        &mut self,
        value: &'v Value,
        in_member: bool,
        stack: &mut Vec<Frame<'v>>,
    ) -> Result<(), EncodeError> {
        match value {
            Value::Array(items) => {
                self.markup("<value><array><data>");
                let close = if in_member {
                    "</data></array></value></member>"
                } else {
                    "</data></array></value>"
                };
                stack.push(Frame::Array(items.iter(), close));
            }
            Value::Struct(members) => {
                self.markup("<value><struct>");
                let close = if in_member {
                    "</struct></value></member>"
                } else {
                    "</struct></value>"
                };
                stack.push(Frame::Struct(members.iter(), close));
            }
            scalar => {
                self.markup("<value>");
                self.scalar(scalar)?;
                self.markup(if in_member {
                    "</value></member>"
                } else {
                    "</value>"
                });
            }
        }
        Ok(())
    }

    fn scalar(&mut self, value: &Value) -> Result<(), EncodeError> {
        match value {
            Value::Int(i) if i32::try_from(*i).is_ok() => self.int("int", *i),
            Value::Int(i) => self.int("i8", *i),
            Value::Bool(b) => self.markup(if *b {
                "<boolean>1</boolean>"
            } else {
                "<boolean>0</boolean>"
            }),
            Value::String(s) => {
                self.markup("<string>");
                self.text(s)?;
                self.markup("</string>");
            }
            Value::Double(d) => self.double(*d)?,
            Value::DateTime(dt) if dt.is_valid() => self.typed("dateTime.iso8601", dt),
            Value::DateTime(_) => return Err(EncodeError::InvalidDateTime),
            Value::Base64(bytes) => self.base64(bytes),
            Value::Nil if self.allow_none => self.markup("<nil/>"),
            Value::Nil => return Err(EncodeError::NilNotAllowed),
            Value::Array(_) | Value::Struct(_) => {
                unreachable!("containers are written by open_value")
            }
        }
        Ok(())
    }

    /// `<ty>{display}</ty>` for output that is plain ASCII.
    fn typed(&mut self, ty: &str, content: impl std::fmt::Display) {
        self.out.push(b'<');
        self.markup(ty);
        self.out.push(b'>');
        write!(self.out, "{content}").expect("writing to a Vec cannot fail");
        self.markup("</");
        self.markup(ty);
        self.out.push(b'>');
    }

    /// `<ty>{i}</ty>`, the digits by `itoa` (no formatter machinery: ints
    /// are the commonest scalar).
    fn int(&mut self, ty: &str, i: i64) {
        self.out.push(b'<');
        self.markup(ty);
        self.out.push(b'>');
        self.markup(itoa::Buffer::new().format(i));
        self.markup("</");
        self.markup(ty);
        self.out.push(b'>');
    }

    /// Shortest round-trip digits, never in exponent form, with `.0` added
    /// to integral values. `zmij` (serde_json's float printer) writes the
    /// usual magnitudes in plain form at a fifth of the cost of `Display`;
    /// the rest (it would write `1e+16`) go through `Display`, which never
    /// uses an exponent. Both print the shortest digits that read back
    /// exactly; on a tie zmij rounds half to even, as CPython's `repr` does.
    fn double(&mut self, d: f64) -> Result<(), EncodeError> {
        if !d.is_finite() {
            return Err(EncodeError::NonFiniteDouble);
        }
        self.markup("<double>");
        let start = self.out.len();
        let mut buffer = zmij::Buffer::new();
        match buffer.format_finite(d) {
            plain if !plain.contains('e') => self.markup(plain),
            _ => write!(self.out, "{d}").expect("writing to a Vec cannot fail"),
        }
        if !self.out[start..].contains(&b'.') {
            self.markup(".0");
        }
        self.markup("</double>");
        Ok(())
    }

    fn base64(&mut self, bytes: &[u8]) {
        self.markup("<base64>");
        let start = self.out.len();
        let len = base64::encoded_len(bytes.len(), true).expect("base64 length fits usize");
        self.out.resize(start + len, 0);
        let written = BASE64
            .encode_slice(bytes, &mut self.out[start..])
            .expect("buffer sized by encoded_len");
        self.out.truncate(start + written);
        self.markup("</base64>");
    }

    /// Character data: `&`, `<`, `>` escaped, `\r` as `&#13;`, characters
    /// outside the charset as `&#N;`, and characters XML cannot carry refused.
    fn text(&mut self, s: &str) -> Result<(), EncodeError> {
        match self.charset {
            Charset::Utf8 => self.text_utf8(s),
            charset => self.text_single_byte(s, charset),
        }
    }

    fn text_utf8(&mut self, s: &str) -> Result<(), EncodeError> {
        let bytes = s.as_bytes();
        let mut run_start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if !NEEDS_CARE[usize::from(b)] {
                continue;
            }
            let replacement = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'\r' => "&#13;",
                0xEF => match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(0xBF), Some(0xBE)) => return Err(EncodeError::InvalidChar(0xFFFE)),
                    (Some(0xBF), Some(0xBF)) => return Err(EncodeError::InvalidChar(0xFFFF)),
                    _ => continue,
                },
                control => return Err(EncodeError::InvalidChar(u32::from(control))),
            };
            self.out.extend_from_slice(&bytes[run_start..i]);
            self.markup(replacement);
            run_start = i + 1;
        }
        self.out.extend_from_slice(&bytes[run_start..]);
        Ok(())
    }

    fn text_single_byte(&mut self, s: &str, charset: Charset) -> Result<(), EncodeError> {
        for c in s.chars() {
            match c {
                '&' => self.markup("&amp;"),
                '<' => self.markup("&lt;"),
                '>' => self.markup("&gt;"),
                '\r' => self.markup("&#13;"),
                c if !is_xml_char(c) => return Err(EncodeError::InvalidChar(u32::from(c))),
                c => match charset.encode_char(c) {
                    Some(byte) => self.out.push(byte),
                    None => write!(self.out, "&#{};", u32::from(c))
                        .expect("writing to a Vec cannot fail"),
                },
            }
        }
        Ok(())
    }
}

/// Bytes `text_utf8` must look at: markup characters, C0 controls other
/// than tab and LF, and 0xEF (which starts U+FFFE / U+FFFF).
static NEEDS_CARE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[0xEF] = true;
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlrpc::value::DateTime;

    fn body(value: &Value, charset: Charset) -> Result<String, EncodeError> {
        let opts = EncodeOptions {
            charset,
            allow_none: true,
        };
        let out = encode_response(value, &opts)?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let start = text.find("<param>").unwrap() + "<param>".len();
        let end = text.find("</param>").unwrap();
        Ok(text[start..end].to_owned())
    }

    /// `Display`'s form (shortest digits, never an exponent), `.0` added
    /// when there is no point.
    fn display_form(d: f64) -> String {
        let text = format!("{d}");
        match text.contains('.') {
            true => text,
            false => text + ".0",
        }
    }

    #[test]
    fn doubles_print_shortest_and_plain() {
        let mut edge = vec![
            0.0,
            -0.0,
            1.0,
            -2.0,
            0.1 + 0.2,
            1e-5,
            1e-6,
            1e-7,
            123_456.789,
            1e15,
            1e16,
            1e17,
            9_007_199_254_740_993.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            5e-324,
        ];
        edge.extend(edge.clone().iter().map(|d| -d));
        // Every decimal exponent, and random bit patterns (xorshift).
        edge.extend((-320..=308).map(|e| 1.2345 * 10f64.powi(e)));
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edge.push(f64::from_bits(x));
        }
        for d in edge.into_iter().filter(|d| d.is_finite()) {
            let got = body(&Value::Double(d), Charset::Utf8).unwrap();
            let digits = got
                .strip_prefix("<value><double>")
                .and_then(|rest| rest.strip_suffix("</double></value>"))
                .unwrap();
            let want = display_form(d);
            // Exactly the same value back, plain form, as short as Display.
            // On a tie the last digit may differ: zmij rounds half to even,
            // as CPython's repr does (1658206780088562.25 prints ...562.2;
            // Display gives ...562.3).
            let bits = format!("bits {:#x}: {digits} against {want}", d.to_bits());
            assert_eq!(
                digits.parse::<f64>().unwrap().to_bits(),
                d.to_bits(),
                "{bits}"
            );
            assert!(
                digits.contains('.') && !digits.contains(['e', 'E']),
                "{bits}"
            );
            assert_eq!(digits.len(), want.len(), "{bits}");
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(
            body(&Value::Int(5), Charset::Utf8).unwrap(),
            "<value><int>5</int></value>"
        );
        assert_eq!(
            body(&Value::Int(1 << 40), Charset::Utf8).unwrap(),
            "<value><i8>1099511627776</i8></value>"
        );
        assert_eq!(
            body(&Value::Bool(true), Charset::Utf8).unwrap(),
            "<value><boolean>1</boolean></value>"
        );
        assert_eq!(
            body(&Value::Double(1.5), Charset::Utf8).unwrap(),
            "<value><double>1.5</double></value>"
        );
        assert_eq!(
            body(&Value::Double(-0.0), Charset::Utf8).unwrap(),
            "<value><double>-0.0</double></value>"
        );
        let big = body(&Value::Double(1e300), Charset::Utf8).unwrap();
        assert!(
            big.starts_with("<value><double>1000000") && big.ends_with("0.0</double></value>"),
            "{big}"
        );
        assert!(!big[15..big.len() - 17].contains(['e', 'E']), "{big}");
        assert_eq!(
            body(&Value::Base64(b"hello".to_vec()), Charset::Utf8).unwrap(),
            "<value><base64>aGVsbG8=</base64></value>"
        );
        let dt = DateTime::new(2026, 11, 25, 9, 0, 1).unwrap();
        assert_eq!(
            body(&dt.into(), Charset::Utf8).unwrap(),
            "<value><dateTime.iso8601>20261125T09:00:01</dateTime.iso8601></value>"
        );
        assert_eq!(
            body(&Value::Nil, Charset::Utf8).unwrap(),
            "<value><nil/></value>"
        );
    }

    #[test]
    fn refusals() {
        let no_nil = EncodeOptions::default();
        assert_eq!(
            encode_response(&Value::Nil, &no_nil),
            Err(EncodeError::NilNotAllowed)
        );
        assert_eq!(
            body(&Value::Double(f64::NAN), Charset::Utf8),
            Err(EncodeError::NonFiniteDouble)
        );
        assert_eq!(
            body(&Value::Double(f64::INFINITY), Charset::Utf8),
            Err(EncodeError::NonFiniteDouble)
        );
        for cs in [Charset::Utf8, Charset::Latin1] {
            assert_eq!(
                body(&Value::from("a\u{0}"), cs),
                Err(EncodeError::InvalidChar(0))
            );
            assert_eq!(
                body(&Value::from("\u{FFFF}"), cs),
                Err(EncodeError::InvalidChar(0xFFFF))
            );
            assert_eq!(
                body(&Value::from("\u{B}"), cs),
                Err(EncodeError::InvalidChar(0xB))
            );
        }
        let bad_date = DateTime {
            month: 13,
            ..DateTime::new(2026, 1, 1, 0, 0, 0).unwrap()
        };
        assert_eq!(
            body(&bad_date.into(), Charset::Utf8),
            Err(EncodeError::InvalidDateTime)
        );
    }

    #[test]
    fn escapes_text() {
        let s = Value::from("a&b<c>d\re\tf\n\u{e9}\u{FFFD}");
        assert_eq!(
            body(&s, Charset::Utf8).unwrap(),
            "<value><string>a&amp;b&lt;c&gt;d&#13;e\tf\n\u{e9}\u{FFFD}</string></value>"
        );
    }

    #[test]
    fn single_byte_charsets_use_references() {
        let opts = |charset| EncodeOptions {
            charset,
            allow_none: false,
        };
        let v = Value::from("\u{e9}\u{20AC}\u{2603}");
        let latin1 = encode_response(&v, &opts(Charset::Latin1)).unwrap();
        assert!(latin1.starts_with(b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>"));
        assert!(latin1.windows(18).any(|w| w == b"\xe9&#8364;&#9731;</s"));
        let cp1252 = encode_response(&v, &opts(Charset::Windows1252)).unwrap();
        assert!(cp1252.windows(12).any(|w| w == b"\xe9\x80&#9731;</s"));
        let ascii = encode_response(&v, &opts(Charset::Ascii)).unwrap();
        assert!(ascii.windows(23).any(|w| w == b"&#233;&#8364;&#9731;</s"));
    }

    #[test]
    fn containers_and_call() {
        let v = Value::structure([(
            "a",
            Value::Array(vec![1.into(), Value::structure([("b", "x".into())])]),
        )]);
        let out = encode_call("m&", &[v], &EncodeOptions::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "<?xml version=\"1.0\"?>\n<methodCall><methodName>m&amp;</methodName><params><param><value><struct><member><name>a</name><value><array><data><value><int>1</int></value><value><struct><member><name>b</name><value><string>x</string></value></member></struct></value></data></array></value></member></struct></value></param></params></methodCall>"
        );
    }

    #[test]
    fn fault_never_fails() {
        let out = encode_fault(
            &Fault::new(7, "bad\u{0}\u{2603}"),
            &EncodeOptions {
                charset: Charset::Ascii,
                allow_none: false,
            },
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("<int>7</int>"));
        assert!(text.contains("bad&#65533;&#9731;"), "{text}");
    }

    #[test]
    fn deep_values_do_not_recurse() {
        let mut v = Value::Int(1);
        for _ in 0..100_000 {
            v = Value::Array(vec![v]);
        }
        let out = encode_response(&v, &EncodeOptions::default()).unwrap();
        assert!(out.len() > 100_000 * 20);
        // Dismantle iteratively (recursive drop of 100,000 levels would overflow).
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Nil);
        }
    }
}
