//! `[roles.NAME]` and `auth.roles`, checked into dispatch's [`Access`]: a
//! role named by a principal or a route must exist, roles need an
//! authentication mode, and routes that name roles need credentials.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ConfigError;
use super::raw::Config;
use crate::dispatch::{Access, Pattern, Role};
use crate::http::AuthMode;

impl Config {
    /// The roles and who holds them; `None` when no role is configured.
    pub(super) fn access(&self) -> Result<Option<Arc<Access>>, ConfigError> {
        let route_roles = self
            .routes
            .iter()
            .enumerate()
            .filter_map(|(i, rc)| Some((i, rc, rc.roles.as_ref()?)));
        for (i, rc, roles) in route_roles {
            let key = format!("routes[{i}] (method {:?}).roles", rc.method);
            if roles.is_empty() {
                return Err(ConfigError::invalid(key, "name at least one role"));
            }
            for role in roles {
                if !self.roles.contains_key(role) {
                    return Err(ConfigError::invalid(
                        key,
                        format!("no role named {role:?} in [roles]"),
                    ));
                }
            }
            if self.auth.mode == AuthMode::None {
                return Err(ConfigError::invalid(
                    key,
                    "roles need auth.mode basic or bearer (who holds them?)",
                ));
            }
        }
        for (principal, roles) in &self.auth.roles {
            for role in roles {
                if !self.roles.contains_key(role) {
                    return Err(ConfigError::invalid(
                        format!("auth.roles.{principal}"),
                        format!("no role named {role:?} in [roles]"),
                    ));
                }
            }
        }
        if self.roles.is_empty() {
            return Ok(None);
        }
        let patterns = |list: &[String]| list.iter().map(|p| Pattern::parse(p)).collect();
        let roles = self
            .roles
            .iter()
            .map(|(name, r)| {
                let role = Role {
                    allow: patterns(&r.allow),
                    deny: patterns(&r.deny),
                };
                (name.clone(), role)
            })
            .collect();
        let principals: HashMap<String, Vec<String>> = self
            .auth
            .roles
            .iter()
            .map(|(p, r)| (p.clone(), r.clone()))
            .collect();
        Ok(Some(Arc::new(Access::new(roles, principals))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::raw::Config;

    fn error(toml: &str) -> String {
        Config::from_toml(toml)
            .unwrap()
            .settings()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn roles_that_do_not_exist_are_refused_naming_the_key() {
        let users = "[auth]\nmode = \"basic\"\nusers = { ops = \"pw\" }\n";
        let err = error(&format!("{users}roles = {{ ops = [\"nobody\"] }}\n"));
        assert!(err.starts_with("auth.roles.ops:"), "{err}");
        let err = error(&format!(
            "{users}\n[[routes]]\nmethod = \"add\"\nhandler = \"add\"\nroles = [\"ghost\"]\n"
        ));
        assert!(
            err.starts_with("routes[0] (method \"add\").roles:"),
            "{err}"
        );
        let err = error(
            "[roles.r]\nallow = [\"*\"]\n\n[[routes]]\nmethod = \"add\"\nhandler = \"add\"\nroles = [\"r\"]\n",
        );
        assert!(err.contains("auth.mode"), "{err}");
    }
}
