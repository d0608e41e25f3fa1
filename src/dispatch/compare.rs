//! Typed comparison of two answers to the same call: the primary's (what
//! the client got) and a shadow backend's, both as the gateway's `Value`s
//! after each backend's usual mapping. Members on ignore paths are
//! skipped, doubles compare within a tolerance, struct member order does
//! not count (XML-RPC gives it no meaning). A fault against a value
//! differs; two faults with the same code match.
//!
//! Absent: I/O, logging, metrics (the shadow runner does those).

use crate::xmlrpc::Value;

/// An answer as the comparison sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Answered {
    /// A value.
    Value(Value),
    /// A fault, by code.
    Fault(i32),
}

/// How two answers are compared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Paths not compared: members by name, `*` for any member or index,
    /// segments joined by dots (`updated_at`, `items.*.id`). A path also
    /// skips everything below it.
    pub ignore: Vec<Vec<String>>,
    /// Doubles closer than this are equal.
    pub float_tolerance: f64,
}

/// The path of the whole value, in the text [`Comparison::first_difference`]
/// gives.
pub(crate) const ROOT: &str = "(root)";

/// The path given when one side is a fault.
pub(crate) const FAULT: &str = "(fault)";

impl Comparison {
    /// Parses ignore paths (`items.*.id`).
    pub fn ignore_paths(paths: &[String]) -> Result<Vec<Vec<String>>, String> {
        paths
            .iter()
            .map(|p| {
                let segments: Vec<String> = p.split('.').map(str::to_owned).collect();
                if segments.iter().any(String::is_empty) {
                    Err(format!("{p:?} has an empty segment"))
                } else {
                    Ok(segments)
                }
            })
            .collect()
    }

    /// Where two answers first differ (`items.3.price`, [`ROOT`],
    /// [`FAULT`]), or `None` when they match.
    pub(crate) fn first_difference(&self, primary: &Answered, shadow: &Answered) -> Option<String> {
        match (primary, shadow) {
            (Answered::Fault(a), Answered::Fault(b)) => (a != b).then(|| FAULT.to_owned()),
            (Answered::Value(a), Answered::Value(b)) => {
                let mut path = Vec::new();
                self.walk(a, b, &mut path).then(|| match path.is_empty() {
                    true => ROOT.to_owned(),
                    false => path.join("."),
                })
            }
            _ => Some(FAULT.to_owned()),
        }
    }

    fn ignored(&self, path: &[String]) -> bool {
        self.ignore.iter().any(|pattern| {
            pattern.len() <= path.len() && pattern.iter().zip(path).all(|(p, s)| p == "*" || p == s)
        })
    }

    /// True when `a` and `b` differ; `path` is left at the first difference.
    fn walk(&self, a: &Value, b: &Value, path: &mut Vec<String>) -> bool {
        if !path.is_empty() && self.ignored(path) {
            return false;
        }
        match (a, b) {
            (Value::Double(x), Value::Double(y)) => {
                !(x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= self.float_tolerance)
            }
            (Value::Array(xs), Value::Array(ys)) => {
                for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                    path.push(i.to_string());
                    if self.walk(x, y, path) {
                        return true;
                    }
                    path.pop();
                }
                if xs.len() != ys.len() {
                    let at = xs.len().min(ys.len());
                    path.push(at.to_string());
                    if !self.ignored(path) {
                        return true;
                    }
                    path.pop();
                }
                false
            }
            (Value::Struct(xs), Value::Struct(ys)) => {
                for (name, x) in xs {
                    path.push(name.clone());
                    let differs = match ys.get(name) {
                        Some(y) => self.walk(x, y, path),
                        None => !self.ignored(path),
                    };
                    if differs {
                        return true;
                    }
                    path.pop();
                }
                for name in ys.keys().filter(|k| !xs.contains_key(*k)) {
                    path.push(name.clone());
                    if !self.ignored(path) {
                        return true;
                    }
                    path.pop();
                }
                false
            }
            (a, b) => a != b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlrpc::Struct;

    fn obj(members: &[(&str, Value)]) -> Value {
        Value::Struct(
            members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<Struct>(),
        )
    }

    fn cmp(ignore: &[&str], tolerance: f64) -> Comparison {
        let paths: Vec<String> = ignore.iter().map(|s| (*s).to_owned()).collect();
        Comparison {
            ignore: Comparison::ignore_paths(&paths).unwrap(),
            float_tolerance: tolerance,
        }
    }

    fn diff(c: &Comparison, a: Value, b: Value) -> Option<String> {
        c.first_difference(&Answered::Value(a), &Answered::Value(b))
    }

    #[test]
    fn values_compare_by_type_and_content() {
        let c = cmp(&[], 0.0);
        assert_eq!(diff(&c, 1.into(), 1.into()), None);
        assert_eq!(diff(&c, 1.into(), 2.into()), Some(ROOT.into()));
        // An int is not a double, however close: the client sees the type.
        assert_eq!(
            diff(&c, Value::Int(2), Value::Double(2.0)),
            Some(ROOT.into())
        );
        let item = |id: i32, price: f64| obj(&[("id", id.into()), ("price", Value::Double(price))]);
        let a = obj(&[("items", Value::Array(vec![item(1, 2.5), item(2, 3.0)]))]);
        let b = obj(&[("items", Value::Array(vec![item(1, 2.5), item(2, 3.5)]))]);
        assert_eq!(diff(&c, a.clone(), b.clone()), Some("items.1.price".into()));
        assert_eq!(diff(&cmp(&[], 0.6), a.clone(), b.clone()), None);
        assert_eq!(diff(&cmp(&["items.*.price"], 0.0), a.clone(), b), None);
        // A missing item, a missing member, an extra member.
        let short = obj(&[("items", Value::Array(vec![item(1, 2.5)]))]);
        assert_eq!(diff(&c, a.clone(), short), Some("items.1".into()));
        let c2 = cmp(&["updated_at"], 0.0);
        let with = |at: &str| obj(&[("id", 1.into()), ("updated_at", at.into())]);
        assert_eq!(diff(&c2, with("x"), with("y")), None);
        assert_eq!(diff(&c, with("x"), with("y")), Some("updated_at".into()));
        assert_eq!(
            diff(&c, with("x"), obj(&[("id", 1.into())])),
            Some("updated_at".into())
        );
        assert_eq!(diff(&c2, with("x"), obj(&[("id", 1.into())])), None);
        assert_eq!(
            diff(&c, obj(&[("id", 1.into())]), with("x")),
            Some("updated_at".into())
        );
        // Member order does not count.
        let ab = obj(&[("a", 1.into()), ("b", 2.into())]);
        let ba = obj(&[("b", 2.into()), ("a", 1.into())]);
        assert_eq!(diff(&c, ab, ba), None);
    }

    #[test]
    fn faults_match_by_code_and_never_match_a_value() {
        let c = cmp(&[], 0.0);
        let f = |code| Answered::Fault(code);
        assert_eq!(c.first_difference(&f(4), &f(4)), None);
        assert_eq!(c.first_difference(&f(4), &f(5)), Some(FAULT.into()));
        let v = Answered::Value(1.into());
        assert_eq!(c.first_difference(&f(4), &v), Some(FAULT.into()));
        assert_eq!(c.first_difference(&v, &f(4)), Some(FAULT.into()));
    }

    #[test]
    fn empty_segments_are_refused() {
        assert!(Comparison::ignore_paths(&["a..b".into()]).is_err());
        assert!(Comparison::ignore_paths(&["".into()]).is_err());
    }
}
