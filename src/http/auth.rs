//! HTTP authentication: who is calling, from the `Authorization` header
//! (Basic or bearer), checked against secrets held only as SHA-256 digests
//! and compared in constant time. Answers "this principal", "nobody" or
//! "401". Which methods need a principal is decided by the dispatcher
//! (`[[routes]] auth`, `auth.default`); this file never sees a method name.
//! Secrets and the header's value never reach a log line.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use http::{HeaderMap, header};
use subtle::{Choice, ConstantTimeEq};

use crate::call::AuthFailure;

/// What `WWW-Authenticate` says for Basic.
pub(super) const BASIC_CHALLENGE: &str = "Basic realm=\"xmlrpc-gateway\"";
/// What `WWW-Authenticate` says for bearer tokens.
pub(super) const BEARER_CHALLENGE: &str = "Bearer";

/// `auth.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum AuthMode {
    /// No authentication: `Authorization` headers are ignored.
    #[default]
    None,
    /// `Authorization: Basic base64(name:password)`.
    Basic,
    /// `Authorization: Bearer TOKEN`.
    Bearer,
}

impl TryFrom<String> for AuthMode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "none" => Ok(AuthMode::None),
            "basic" => Ok(AuthMode::Basic),
            "bearer" => Ok(AuthMode::Bearer),
            _ => Err(format!("{text:?} is not one of none, basic, bearer")),
        }
    }
}

impl AuthMode {
    /// The `WWW-Authenticate` value a 401 carries.
    pub fn challenge(self) -> &'static str {
        match self {
            AuthMode::Basic => BASIC_CHALLENGE,
            AuthMode::None | AuthMode::Bearer => BEARER_CHALLENGE,
        }
    }
}

type Digest = [u8; 32];

fn digest(secret: &[u8]) -> Digest {
    let d = ring::digest::digest(&ring::digest::SHA256, secret);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The credentials a server accepts. Secrets are kept as digests, so
/// comparing them takes the same time whatever their length, and `Debug`
/// shows only user names and a token count.
#[derive(Clone, Default)]
pub struct Authenticator {
    mode: AuthMode,
    /// Basic: names and password digests.
    users: Vec<(String, Digest)>,
    /// Bearer: token digests; the principal is `token:N` (1-based).
    tokens: Vec<Digest>,
    /// Whether some method may be called without credentials. When none
    /// can, a request without them is refused before its body is read.
    anonymous: bool,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("mode", &self.mode)
            .field(
                "users",
                &self
                    .users
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("tokens", &self.tokens.len())
            .field("anonymous", &self.anonymous)
            .finish()
    }
}

impl Authenticator {
    /// No authentication (the default).
    pub fn none() -> Self {
        Authenticator {
            anonymous: true,
            ..Authenticator::default()
        }
    }

    /// Basic auth with these `(name, password)` pairs. `anonymous`: whether
    /// some method may be called without credentials.
    pub fn basic(users: impl IntoIterator<Item = (String, String)>, anonymous: bool) -> Self {
        Authenticator {
            mode: AuthMode::Basic,
            users: users
                .into_iter()
                .map(|(name, password)| (name, digest(password.as_bytes())))
                .collect(),
            tokens: Vec::new(),
            anonymous,
        }
    }

    /// Bearer auth with these tokens.
    pub fn bearer(tokens: impl IntoIterator<Item = String>, anonymous: bool) -> Self {
        Authenticator {
            mode: AuthMode::Bearer,
            users: Vec::new(),
            tokens: tokens.into_iter().map(|t| digest(t.as_bytes())).collect(),
            anonymous,
        }
    }

    /// The mode, for the 401's challenge.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Who sent these headers: `Ok(Some(principal))`, `Ok(None)` for nobody
    /// (allowed when some method is public; the dispatcher decides per
    /// call), or why the request gets 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Arc<str>>, AuthFailure> {
        if self.mode == AuthMode::None {
            return Ok(None);
        }
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return if self.anonymous {
                Ok(None)
            } else {
                Err(AuthFailure::Missing)
            };
        };
        if values.next().is_some() {
            return Err(AuthFailure::Malformed);
        }
        let text = value.to_str().map_err(|_| AuthFailure::Malformed)?.trim();
        let (scheme, credentials) = text.split_once(' ').ok_or(AuthFailure::Malformed)?;
        let credentials = credentials.trim();
        match self.mode {
            AuthMode::Basic if scheme.eq_ignore_ascii_case("basic") => {
                self.check_basic(credentials).map(Some)
            }
            AuthMode::Bearer if scheme.eq_ignore_ascii_case("bearer") => {
                self.check_bearer(credentials).map(Some)
            }
            _ => Err(AuthFailure::Malformed),
        }
    }

    fn check_basic(&self, credentials: &str) -> Result<Arc<str>, AuthFailure> {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .map_err(|_| AuthFailure::Malformed)?;
        let text = String::from_utf8(decoded).map_err(|_| AuthFailure::Malformed)?;
        let (name, password) = text.split_once(':').ok_or(AuthFailure::Malformed)?;
        let presented = digest(password.as_bytes());
        // Every user is compared, so the time taken does not say whether
        // the name exists.
        let mut found: Option<&str> = None;
        for (user, secret) in &self.users {
            let matches = Choice::from(u8::from(user == name)) & secret.ct_eq(&presented);
            if bool::from(matches) {
                found = Some(user);
            }
        }
        found.map(Arc::from).ok_or(AuthFailure::Invalid)
    }

    fn check_bearer(&self, token: &str) -> Result<Arc<str>, AuthFailure> {
        if token.is_empty() {
            return Err(AuthFailure::Malformed);
        }
        let presented = digest(token.as_bytes());
        let mut found = None;
        for (i, secret) in self.tokens.iter().enumerate() {
            if bool::from(secret.ct_eq(&presented)) {
                found = Some(i + 1);
            }
        }
        found
            .map(|i| Arc::from(format!("token:{i}")))
            .ok_or(AuthFailure::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic(name: &str, password: &str) -> HeaderMap {
        let text = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
        headers(&format!("Basic {text}"))
    }

    #[test]
    fn basic_users_are_checked() {
        let a = Authenticator::basic([("alice".into(), "s3cret".into())], false);
        assert_eq!(
            a.authenticate(&basic("alice", "s3cret"))
                .unwrap()
                .as_deref(),
            Some("alice")
        );
        assert_eq!(
            a.authenticate(&basic("alice", "wrong")),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(
            a.authenticate(&basic("bob", "s3cret")),
            Err(AuthFailure::Invalid)
        );
        assert_eq!(a.authenticate(&HeaderMap::new()), Err(AuthFailure::Missing));
        assert_eq!(
            a.authenticate(&headers("Basic !!!")),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            a.authenticate(&headers("Bearer abc")),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            a.authenticate(&headers("Basic")),
            Err(AuthFailure::Malformed)
        );
    }

    #[test]
    fn bearer_tokens_are_checked() {
        let a = Authenticator::bearer(["t1".to_owned(), "t2".to_owned()], true);
        assert_eq!(
            a.authenticate(&headers("Bearer t2")).unwrap().as_deref(),
            Some("token:2")
        );
        assert_eq!(
            a.authenticate(&headers("bearer t1")).unwrap().as_deref(),
            Some("token:1")
        );
        assert_eq!(
            a.authenticate(&headers("Bearer t3")),
            Err(AuthFailure::Invalid)
        );
        // Anonymous callers pass here; the dispatcher decides per method.
        assert_eq!(a.authenticate(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn none_ignores_headers_and_debug_hides_secrets() {
        let a = Authenticator::none();
        assert_eq!(a.authenticate(&headers("Basic !!!")), Ok(None));
        let b = Authenticator::basic([("alice".into(), "s3cret".into())], false);
        let shown = format!("{b:?}");
        assert!(
            shown.contains("alice") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
