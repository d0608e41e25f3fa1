//! `[roles.NAME]` and `auth.roles`, checked into dispatch's [`Access`]: a
//! role named by a principal or a route must exist, roles need an
//! authentication mode, and routes that name roles need credentials. And
//! `[[rate_limits]]`, checked into dispatch's [`RateLimits`].

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ConfigError;
use super::raw::Config;
use crate::backend::CounterStore;
use crate::backend::mapping::ParamPath;
use crate::dispatch::{Access, Counts, Limit, LimitKey, Pattern, RateLimits, Role, Scope};
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

impl Config {
    /// `[[rate_limits]]`, checked: names unique, methods that some route or
    /// system method could answer, a key dispatch knows, a rate over 0, a
    /// store for `cluster` limits.
    pub(super) fn rate_limits(&self) -> Result<Option<Arc<RateLimits>>, ConfigError> {
        let store = self.rate_limit_store()?;
        if self.rate_limits.is_empty() {
            return Ok(None);
        }
        let mut limits = Vec::new();
        for (i, rl) in self.rate_limits.iter().enumerate() {
            let key = |field: &str| format!("rate_limits[{i}] ({:?}).{field}", rl.name);
            if rl.name.is_empty() || self.rate_limits[..i].iter().any(|o| o.name == rl.name) {
                return Err(ConfigError::invalid(
                    key("name"),
                    "names must be non-empty and unique",
                ));
            }
            if rl.rate == 0 || rl.per.is_zero() || rl.burst == Some(0) {
                return Err(ConfigError::invalid(
                    key("rate"),
                    "rate, per and burst must be above 0",
                ));
            }
            if rl.methods.is_empty() {
                return Err(ConfigError::invalid(
                    key("methods"),
                    "name at least one pattern",
                ));
            }
            for method in &rl.methods {
                if !self.names_a_route(method) {
                    return Err(ConfigError::invalid(
                        key("methods"),
                        format!("{method:?} matches no route"),
                    ));
                }
            }
            let limit_key = match rl.key.as_str() {
                "peer" => LimitKey::Peer,
                "principal" => LimitKey::Principal,
                text => match text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(inner) => LimitKey::Param(
                        ParamPath::parse(inner, None)
                            .map_err(|m| ConfigError::invalid(key("key"), m))?,
                    ),
                    None => {
                        return Err(ConfigError::invalid(
                            key("key"),
                            format!("{text:?} is not peer, principal or a param like \"{{1}}\""),
                        ));
                    }
                },
            };
            if rl.scope == Scope::Cluster && store.is_none() {
                return Err(ConfigError::invalid(
                    key("scope"),
                    "a cluster limit needs rate_limit.store (redis://host:port)",
                ));
            }
            limits.push(
                Limit::new(
                    rl.name.clone(),
                    rl.methods.iter().map(|m| Pattern::parse(m)).collect(),
                    limit_key,
                    rl.rate,
                    rl.per,
                    rl.burst.unwrap_or(rl.rate),
                    Counts {
                        faults: rl.count_faults.clone(),
                        statuses: rl.count_statuses.clone(),
                    },
                )
                .with_scope(rl.scope),
            );
        }
        let limits = RateLimits::new(limits);
        Ok(Some(Arc::new(match store {
            Some(store) => limits.with_store(store, self.rate_limit.replicas),
            None => limits,
        })))
    }

    /// `[rate_limit]`: the store, when one is named (not yet connected).
    fn rate_limit_store(&self) -> Result<Option<Arc<CounterStore>>, ConfigError> {
        let rl = &self.rate_limit;
        if rl.replicas == 0 {
            return Err(ConfigError::invalid(
                "rate_limit.replicas",
                "must be at least 1",
            ));
        }
        if rl.store.is_empty() {
            return Ok(None);
        }
        if rl.store_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "rate_limit.store_timeout",
                "must be above 0",
            ));
        }
        CounterStore::new(&rl.store, rl.store_timeout, &rl.key_prefix)
            .map(|store| Some(Arc::new(store)))
            .map_err(|why| ConfigError::invalid("rate_limit.store", why))
    }

    /// Whether some route could answer names `pattern` matches: a limit
    /// naming nothing that exists is a typo.
    fn names_a_route(&self, pattern: &str) -> bool {
        let limit = Pattern::parse(pattern);
        self.routes.iter().any(|rc| {
            let route = Pattern::parse(&rc.method);
            match (&limit, &route) {
                (Pattern::Any, _) | (_, Pattern::Any) => true,
                (Pattern::Exact(name), _) => route.matches(name),
                (Pattern::Prefix(p), Pattern::Exact(name)) => name.starts_with(p.as_str()),
                (Pattern::Prefix(a), Pattern::Prefix(b)) => {
                    a.starts_with(b.as_str()) || b.starts_with(a.as_str())
                }
            }
        })
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

    const LIMIT: &str = "[[routes]]\nmethod = \"add\"\nhandler = \"add\"\n\n[[rate_limits]]\nname = \"l\"\nmethods = [\"add\"]\nkey = \"peer\"\nrate = 5\nper = \"1m\"\n";

    #[test]
    fn a_cluster_limit_needs_a_store_and_the_store_a_redis_url() {
        let err = error(&format!("{LIMIT}scope = \"cluster\"\n"));
        assert!(err.starts_with("rate_limits[0] (\"l\").scope:"), "{err}");
        let err = error(&format!(
            "[rate_limit]\nstore = \"http://u:hunter2@h\"\n\n{LIMIT}scope = \"cluster\"\n"
        ));
        assert!(err.starts_with("rate_limit.store:"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = Config::from_toml(&format!("{LIMIT}scope = \"galaxy\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not one of replica, cluster"), "{err}");
        let err = error("[rate_limit]\nreplicas = 0\n");
        assert!(err.starts_with("rate_limit.replicas:"), "{err}");
        // With a store: accepted (nothing is connected yet).
        Config::from_toml(&format!(
            "[rate_limit]\nstore = \"redis://127.0.0.1:1\"\n\n{LIMIT}scope = \"cluster\"\n"
        ))
        .unwrap()
        .settings()
        .unwrap();
    }
}
