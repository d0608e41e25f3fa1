//! `[auth]` and the routes' `auth`: the authenticator (secrets read from
//! their files now, at load and at each reload) and the policy of routes
//! without one of their own.

use std::sync::Arc;

use super::error::ConfigError;
use super::raw::Config;
use crate::call::AuthPolicy;
use crate::http::{AuthMode, Authenticator};

impl Config {
    /// `[auth]` and the routes' `auth`: the authenticator (secrets read from
    /// the files now), and the policy of routes without their own.
    pub(super) fn auth_options(&self) -> Result<(Arc<Authenticator>, AuthPolicy), ConfigError> {
        let a = &self.auth;
        let default = a.default;
        let route_policies: Vec<(usize, AuthPolicy)> = self
            .routes
            .iter()
            .enumerate()
            .filter_map(|(i, rc)| Some((i, rc.auth?)))
            .collect();
        let anonymous = default == AuthPolicy::Public
            || route_policies.iter().any(|(_, p)| *p == AuthPolicy::Public);
        let has_users = !a.users.is_empty() || a.users_file.is_some();
        let has_tokens = !a.tokens.is_empty() || a.tokens_file.is_some();
        let authenticator = match a.mode {
            AuthMode::None => {
                if has_users || has_tokens {
                    return Err(ConfigError::invalid(
                        "auth.mode",
                        "users or tokens are set but mode is \"none\"; set basic or bearer",
                    ));
                }
                if let Some((i, _)) = route_policies
                    .iter()
                    .find(|(_, p)| *p == AuthPolicy::Required)
                {
                    return Err(ConfigError::invalid(
                        format!("routes[{i}].auth"),
                        "\"required\" needs auth.mode basic or bearer",
                    ));
                }
                // Nobody authenticates, so nothing can require it.
                return Ok((Arc::new(Authenticator::none()), AuthPolicy::Public));
            }
            AuthMode::Basic => {
                if has_tokens {
                    return Err(ConfigError::invalid(
                        "auth.tokens",
                        "tokens are for mode \"bearer\"",
                    ));
                }
                let mut users: Vec<(String, String)> = a
                    .users
                    .iter()
                    .map(|(n, p)| (n.clone(), p.clone()))
                    .collect();
                if let Some(path) = &a.users_file {
                    for line in secret_lines(path, "auth.users_file")? {
                        let (name, password) = line.split_once(':').ok_or_else(|| {
                            ConfigError::invalid("auth.users_file", "each line is name:password")
                        })?;
                        users.push((name.trim().to_owned(), password.to_owned()));
                    }
                }
                if users.is_empty() {
                    return Err(ConfigError::invalid(
                        "auth.users",
                        "mode \"basic\" needs at least one user",
                    ));
                }
                if let Some((name, _)) = users
                    .iter()
                    .find(|(n, p)| n.is_empty() || n.contains(':') || p.is_empty())
                {
                    return Err(ConfigError::invalid(
                        "auth.users",
                        format!(
                            "user {name:?}: names must be non-empty without ':', passwords non-empty"
                        ),
                    ));
                }
                Authenticator::basic(users, anonymous)
            }
            AuthMode::Bearer => {
                if has_users {
                    return Err(ConfigError::invalid(
                        "auth.users",
                        "users are for mode \"basic\"",
                    ));
                }
                let mut tokens = a.tokens.clone();
                if let Some(path) = &a.tokens_file {
                    tokens.extend(secret_lines(path, "auth.tokens_file")?);
                }
                if tokens.is_empty() {
                    return Err(ConfigError::invalid(
                        "auth.tokens",
                        "mode \"bearer\" needs at least one token",
                    ));
                }
                if tokens
                    .iter()
                    .any(|t| t.is_empty() || t.chars().any(char::is_whitespace))
                {
                    return Err(ConfigError::invalid(
                        "auth.tokens",
                        "tokens must be non-empty, without spaces",
                    ));
                }
                Authenticator::bearer(tokens, anonymous)
            }
        };
        Ok((Arc::new(authenticator), default))
    }
}

/// The non-empty, non-comment lines of a secrets file (read now: at load,
/// and again at each reload).
fn secret_lines(path: &std::path::Path, key: &str) -> Result<Vec<String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::invalid(key, format!("{}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}
