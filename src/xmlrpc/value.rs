//! The XML-RPC data model: [`Value`], [`DateTime`], [`MethodCall`], [`Fault`].
//!
//! Plain data with no knowledge of XML text; `de` and `ser` turn it into and
//! out of bytes.

use std::fmt;

use indexmap::IndexMap;

/// A struct's members, in the order they arrived (a duplicate name keeps its
/// first position and takes the last value, as Python does).
pub type Struct = IndexMap<String, Value>;

/// One XML-RPC value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `<int>`, `<i4>`, `<i8>`, `<i1>`, `<i2>`, `<biginteger>` (within 64 bits).
    /// Encoded as `<int>` when it fits 32 bits, else `<i8>`.
    Int(i64),
    /// `<boolean>`: `0` or `1` only.
    Bool(bool),
    /// `<string>`, or a `<value>` with text and no type element.
    String(String),
    /// `<double>` (also `<float>` on input). Never NaN or infinite on output.
    Double(f64),
    /// `<dateTime.iso8601>`.
    DateTime(DateTime),
    /// `<base64>`, decoded.
    Base64(Vec<u8>),
    /// `<struct>`, member order kept.
    Struct(Struct),
    /// `<array>`.
    Array(Vec<Value>),
    /// `<nil/>` (extension; refused on output unless `allow_none`).
    Nil,
}

impl Value {
    /// The XML-RPC type name used by `system.methodSignature` and in faults.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(i) if i32::try_from(*i).is_ok() => "int",
            Value::Int(_) => "i8",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }

    /// A struct built from `(name, value)` pairs.
    pub fn structure<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number of an int or i8.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members of a struct.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(v)
    }
}
impl From<DateTime> for Value {
    fn from(v: DateTime) -> Self {
        Value::DateTime(v)
    }
}

/// A `dateTime.iso8601` value. XML-RPC carries no time zone; one given on
/// input (`Z` or `+HH:MM`) is kept so it can be passed on unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// Year, four digits.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Fractional seconds, in nanoseconds (0 when absent).
    pub nanos: u32,
    /// Offset from UTC in minutes, when the input named one.
    pub offset_minutes: Option<i16>,
}

impl DateTime {
    /// A date and time with no fraction and no offset. Returns `None` when a
    /// field is out of range.
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let dt = DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos: 0,
            offset_minutes: None,
        };
        dt.is_valid().then_some(dt)
    }

    /// True when every field is within its calendar range (leap years and a
    /// leap second `:60` included).
    pub fn is_valid(&self) -> bool {
        let days_in_month = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 => {
                let y = u32::from(self.year);
                if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                    29
                } else {
                    28
                }
            }
            _ => return false,
        };
        self.year <= 9999
            && self.day >= 1
            && self.day <= days_in_month
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
            && self.nanos < 1_000_000_000
            && self.offset_minutes.is_none_or(|m| m.abs() < 24 * 60)
    }
}

impl fmt::Display for DateTime {
    /// The wire form: `YYYYMMDDTHH:MM:SS`, then `.fff` and the offset when present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [self.month, self.day, self.hour, self.minute, self.second];
        if self.year <= 9999 && fields.iter().all(|&n| n < 100) {
            // Digits written in place: the formatter's machinery cost more
            // than the rest of encoding the value.
            let mut out = *b"00000000T00:00:00";
            let two = |out: &mut [u8; 17], at: usize, n: u8| {
                out[at] = b'0' + n / 10;
                out[at + 1] = b'0' + n % 10;
            };
            let (hi, lo) = (self.year / 100, self.year % 100);
            two(&mut out, 0, hi as u8);
            two(&mut out, 2, lo as u8);
            for (at, n) in [4, 6, 9, 12, 15].into_iter().zip(fields) {
                two(&mut out, at, n);
            }
            f.write_str(std::str::from_utf8(&out).expect("ASCII digits"))?;
        } else {
            write!(
                f,
                "{:04}{:02}{:02}T{:02}:{:02}:{:02}",
                self.year, self.month, self.day, self.hour, self.minute, self.second
            )?;
        }
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        match self.offset_minutes {
            None => Ok(()),
            Some(0) => f.write_str("Z"),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                let m = m.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
            }
        }
    }
}

/// A decoded `<methodCall>`.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodCall {
    /// The method's name.
    pub name: String,
    /// Its params.
    pub params: Vec<Value>,
}

/// An XML-RPC fault: what a call answers instead of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The fault code.
    pub code: i32,
    /// The fault string.
    pub message: String,
}

impl Fault {
    /// A fault with `code` and `message`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Fault {
            code,
            message: message.into(),
        }
    }

    /// The struct form used on the wire and inside `system.multicall` results.
    pub fn to_value(&self) -> Value {
        Value::structure([
            ("faultCode", Value::Int(self.code.into())),
            ("faultString", Value::String(self.message.clone())),
        ])
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault {}: {}", self.code, self.message)
    }
}

impl std::error::Error for Fault {}

/// A decoded `<methodResponse>`: a value or a fault.
pub type MethodResponse = Result<Value, Fault>;
