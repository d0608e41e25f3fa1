//! Weighted, sticky canaries: a route's calls shared among several
//! backends by weight, each caller kept on one backend by a stickiness key
//! (the principal, a header, or a param), through weighted rendezvous
//! hashing; and the stable hash that shadow sampling uses too.
//!
//! Rendezvous (highest random weight) hashing scores every backend for a
//! key, `-weight / ln(u)` with `u` the key's hash with the backend's name
//! mapped into (0, 1), and takes the highest. Raising one weight moves only
//! keys to that backend, never between the others; a weight of 0 drains a
//! backend. The hash is written here (FNV-1a, then a SplitMix64 finish),
//! not the standard library's seeded one, so the same key lands on the same
//! backend in every process and after every reload.
//!
//! Absent: I/O, the backends' own calls (the dispatcher makes them).

use std::sync::Arc;

use crate::backend::Backend;
use crate::backend::mapping::ParamPath;
use crate::call::CallContext;
use crate::xmlrpc::Value;

/// What keeps a caller on one backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sticky {
    /// The authenticated principal.
    Principal,
    /// A client header (lower-case name).
    Header(String),
    /// A param or a member of one (`{1}`, `{0.login}`).
    Param(ParamPath),
}

impl Sticky {
    /// Parses config syntax: `principal`, `header:X-Name`, `param:{1}`.
    pub fn parse(text: &str) -> Result<Sticky, String> {
        if text == "principal" {
            return Ok(Sticky::Principal);
        }
        if let Some(name) = text.strip_prefix("header:") {
            if name.is_empty() || http_token(name).is_none() {
                return Err(format!("{text:?}: {name:?} is not a header name"));
            }
            return Ok(Sticky::Header(name.to_ascii_lowercase()));
        }
        if let Some(param) = text.strip_prefix("param:") {
            let inner = param
                .strip_prefix('{')
                .and_then(|p| p.strip_suffix('}'))
                .ok_or_else(|| format!("{text:?}: write a param as param:{{1}}"))?;
            return ParamPath::parse(inner, None).map(Sticky::Param);
        }
        Err(format!(
            "{text:?} is not principal, header:NAME or param:{{N}}"
        ))
    }

    /// The header it reads, if it reads one (the edge must pass it on).
    pub fn header(&self) -> Option<&str> {
        match self {
            Sticky::Header(name) => Some(name),
            _ => None,
        }
    }

    /// The call's key, when it has one (no principal, header absent, param
    /// missing: none).
    fn key<'a>(&self, params: &'a [Value], ctx: &'a CallContext) -> Option<KeyText<'a>> {
        match self {
            Sticky::Principal => ctx.principal.as_deref().map(KeyText::Borrowed),
            Sticky::Header(name) => ctx
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| KeyText::Borrowed(v.as_str())),
            Sticky::Param(path) => match path.find(params)? {
                Value::String(s) => Some(KeyText::Borrowed(s)),
                Value::Int(n) => Some(KeyText::Owned(n.to_string())),
                other => Some(KeyText::Owned(format!("{other:?}"))),
            },
        }
    }
}

/// Whether `name` is an HTTP token (a header name).
fn http_token(name: &str) -> Option<()> {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        .then_some(())
}

enum KeyText<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl KeyText<'_> {
    fn as_str(&self) -> &str {
        match self {
            KeyText::Borrowed(s) => s,
            KeyText::Owned(s) => s,
        }
    }
}

/// One backend of a split, and its share.
#[derive(Clone)]
pub struct Weighted {
    /// The service.
    pub backend: Arc<dyn Backend>,
    /// Its weight (0: drained).
    pub weight: u32,
}

impl std::fmt::Debug for Weighted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.backend.name(), self.weight)
    }
}

/// A route's backends by weight, and what keeps a caller on one.
#[derive(Clone, Debug)]
pub struct Split {
    /// The backends (at least one with a weight above 0).
    pub backends: Vec<Weighted>,
    /// The stickiness key; `None`, or a call without one, hashes the
    /// request id (each request placed on its own).
    pub sticky: Option<Sticky>,
}

impl Split {
    /// The backend for this call.
    pub fn pick(&self, params: &[Value], ctx: &CallContext) -> &Arc<dyn Backend> {
        let key = self.sticky.as_ref().and_then(|s| s.key(params, ctx));
        let key = key.as_ref().map_or(&*ctx.request_id, KeyText::as_str);
        let at = pick(
            self.backends.iter().map(|w| (w.backend.name(), w.weight)),
            key,
        );
        &self.backends[at].backend
    }
}

/// The index of the backend `key` lands on among `(name, weight)` pairs:
/// the highest score `-weight / ln(u)`. Weights of 0 never win unless all
/// are 0 (config refuses that); ties go to the first.
pub(crate) fn pick<'a>(backends: impl Iterator<Item = (&'a str, u32)>, key: &str) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, (name, weight)) in backends.enumerate() {
        if weight == 0 {
            continue;
        }
        let u = unit(hash(&[key.as_bytes(), b"\0", name.as_bytes()]));
        // ln(u) < 0 for u in (0, 1): the score is positive, larger for a
        // larger weight.
        let score = -f64::from(weight) / u.ln();
        if score > best.1 {
            best = (i, score);
        }
    }
    best.0
}

/// Whether a call is in a sample of `percent` (0-100): by the request id
/// and the call's place in its request (a multicall's entry index, 0 for a
/// single call), so the same request is sampled the same way every time,
/// and over many requests the share is `percent`.
pub(crate) fn sampled(percent: f64, request_id: &str, entry: usize) -> bool {
    if percent >= 100.0 {
        return true;
    }
    let u = unit(hash(&[
        request_id.as_bytes(),
        b"\0",
        &(entry as u64).to_le_bytes(),
    ]));
    u * 100.0 < percent
}

/// A 64-bit hash of the parts, the same in every process and version:
/// FNV-1a over the bytes, then SplitMix64's finish to spread the bits.
pub(crate) fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A hash mapped into the open interval (0, 1).
fn unit(h: u64) -> f64 {
    ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("customer-{i}"))
    }

    fn picks(weights: &[(&str, u32)], n: usize) -> Vec<usize> {
        keys(n).map(|k| pick(weights.iter().copied(), &k)).collect()
    }

    #[test]
    fn the_hash_is_fixed() {
        // Written down once: a change here moves every sticky caller.
        assert_eq!(hash(&[b""]), 0xf52a_15e9_a9b5_e89b, "{:#x}", hash(&[b""]));
        let placed: Vec<usize> = ["alice", "bob", "carol", "dave", "erin", "frank"]
            .iter()
            .map(|k| pick([("legacy", 50), ("candidate", 50)].into_iter(), k))
            .collect();
        assert_eq!(placed, [0, 0, 1, 1, 1, 1]);
    }

    #[test]
    fn shares_follow_the_weights_within_two_points() {
        // 20,000 keys: a binomial share of 20% has a standard deviation of
        // 0.28 points; two points is seven of them.
        let n = 20_000;
        for weights in [
            vec![("legacy", 80), ("candidate", 20)],
            vec![("a", 1), ("b", 1), ("c", 2)],
            vec![("legacy", 95), ("candidate", 5)],
        ] {
            let total: u32 = weights.iter().map(|w| w.1).sum();
            let got = picks(&weights, n);
            for (i, (name, weight)) in weights.iter().enumerate() {
                let share = got.iter().filter(|&&p| p == i).count() as f64 / n as f64;
                let want = f64::from(*weight) / f64::from(total);
                eprintln!("{weights:?}: {name} {share:.4} (weight share {want:.4})");
                assert!(
                    (share - want).abs() < 0.02,
                    "{name}: {share} against {want} in {weights:?}"
                );
            }
        }
    }

    #[test]
    fn raising_a_weight_moves_only_keys_that_must_move() {
        let n = 20_000;
        let before = picks(&[("legacy", 95), ("candidate", 5)], n);
        let after = picks(&[("legacy", 90), ("candidate", 10)], n);
        let mut moved = 0;
        for (b, a) in before.iter().zip(&after) {
            if b != a {
                // Only ever towards the backend whose share grew.
                assert_eq!((*b, *a), (0, 1));
                moved += 1;
            }
        }
        // About 5% must move; rendezvous moves about that and no more.
        let share = moved as f64 / n as f64;
        eprintln!("95/5 -> 90/10: {moved} of {n} keys moved");
        assert!((share - 0.05).abs() < 0.01, "{share}");
        // A third backend added at weight 0 moves nobody.
        let with_third = picks(&[("legacy", 90), ("candidate", 10), ("next", 0)], n);
        assert_eq!(with_third, after);
    }

    #[test]
    fn a_weight_of_zero_drains() {
        let got = picks(&[("legacy", 0), ("candidate", 7)], 5_000);
        assert!(got.iter().all(|&p| p == 1));
    }

    #[test]
    fn sampling_is_exact_within_three_quarters_of_a_point_and_deterministic() {
        // 20,000 request ids: at 50% a standard deviation is 0.35 points;
        // the ids are fixed, so the shares are too (0.09 points off at most).
        let n = 20_000;
        for percent in [1.0, 10.0, 50.0, 99.0] {
            let taken = (0..n)
                .filter(|i| sampled(percent, &format!("req-{i}"), 0))
                .count();
            let share = taken as f64 * 100.0 / n as f64;
            eprintln!("sampling {percent}%: {taken} of {n}");
            assert!((share - percent).abs() < 0.75, "{share} against {percent}");
        }
        assert!((0..1000).all(|i| sampled(100.0, &format!("r{i}"), i)));
        assert!(!(0..1000).any(|i| sampled(0.0, &format!("r{i}"), i)));
        // The same request and entry: the same answer every time.
        let first: Vec<bool> = (0..200).map(|e| sampled(30.0, "req-7", e)).collect();
        let again: Vec<bool> = (0..200).map(|e| sampled(30.0, "req-7", e)).collect();
        assert_eq!(first, again);
        // Entries of one multicall are sampled on their own.
        let share = first.iter().filter(|s| **s).count();
        assert!((30..90).contains(&share), "{share}");
    }

    /// A backend that is only a name.
    struct Named(&'static str);

    impl Backend for Named {
        fn name(&self) -> &str {
            self.0
        }

        fn call(
            &self,
            _: crate::backend::BackendCall,
            _: CallContext,
        ) -> futures_util::future::BoxFuture<'static, Result<Value, crate::backend::BackendError>>
        {
            unreachable!("never called")
        }
    }

    #[test]
    fn each_key_kind_places_a_caller_and_a_call_without_one_goes_by_request() {
        let split = |sticky: &str| Split {
            backends: vec![
                Weighted {
                    backend: Arc::new(Named("legacy")),
                    weight: 1,
                },
                Weighted {
                    backend: Arc::new(Named("candidate")),
                    weight: 1,
                },
            ],
            sticky: Some(Sticky::parse(sticky).unwrap()),
        };
        let ctx = |id: &str, principal: Option<&str>, header: Option<&str>| CallContext {
            request_id: Arc::from(id),
            principal: principal.map(Arc::from),
            headers: Arc::new(
                header
                    .map(|h| vec![("x-customer".to_owned(), h.to_owned())])
                    .unwrap_or_default(),
            ),
            ..CallContext::default()
        };
        let expected = |key: &str| {
            let at = pick([("legacy", 1), ("candidate", 1)].into_iter(), key);
            ["legacy", "candidate"][at]
        };
        for i in 0..50 {
            let key = format!("k{i}");
            let id = format!("r{i}");
            let by =
                |s: &Split, params: &[Value], c: &CallContext| s.pick(params, c).name().to_owned();
            assert_eq!(
                by(&split("principal"), &[], &ctx(&id, Some(&key), None)),
                expected(&key)
            );
            assert_eq!(
                by(
                    &split("header:X-Customer"),
                    &[],
                    &ctx(&id, None, Some(&key))
                ),
                expected(&key)
            );
            let params = [Value::Struct(
                [("login".to_owned(), Value::String(key.clone()))]
                    .into_iter()
                    .collect(),
            )];
            assert_eq!(
                by(&split("param:{0.login}"), &params, &ctx(&id, None, None)),
                expected(&key)
            );
            // No key: the request id places the call.
            assert_eq!(
                by(&split("principal"), &[], &ctx(&id, None, None)),
                expected(&id)
            );
            assert_eq!(
                by(&split("param:{1}"), &params, &ctx(&id, None, None)),
                expected(&id)
            );
        }
    }

    #[test]
    fn sticky_keys_parse() {
        assert_eq!(Sticky::parse("principal"), Ok(Sticky::Principal));
        assert_eq!(
            Sticky::parse("header:X-Customer"),
            Ok(Sticky::Header("x-customer".into()))
        );
        assert_eq!(
            Sticky::parse("param:{0.login}"),
            Ok(Sticky::Param(ParamPath {
                index: 0,
                members: vec!["login".into()]
            }))
        );
        for bad in ["peer", "header:", "header:a b", "param:1", "param:{x}"] {
            assert!(Sticky::parse(bad).is_err(), "{bad}");
        }
    }
}
