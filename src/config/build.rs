//! From the raw config to what runs: runtime settings for each layer, and
//! the routing table. Every check that can fail names the key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::{Config, ConfigError, RouteConfig, Threshold};
use crate::backend::{self, Backend};
use crate::dispatch::AuthPolicy;
use crate::dispatch::{DispatchOptions, Pattern, Rename, Route, RoutingTable, Target};
use crate::http::{AdminOptions, Authenticator, CorsOptions, HttpOptions, Tls};
use crate::xmlrpc::{Charset, EncodeOptions, Limits};

/// The validated settings of every layer.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub http: HttpOptions,
    pub dispatch: DispatchOptions,
    pub limits: Limits,
    pub encode: EncodeOptions,
    pub log_format: LogFormat,
    pub log_level: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Checks the scalar settings and turns them into each layer's options.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let s = &self.server;
        let l = &self.limits;
        let listen = s.listen.parse().map_err(|_| {
            ConfigError::invalid(
                "server.listen",
                format!("{:?} is not an address like 127.0.0.1:8000", s.listen),
            )
        })?;
        for path in &s.rpc_paths {
            if !path.starts_with('/') {
                return Err(ConfigError::invalid(
                    "server.rpc_paths",
                    format!("{path:?} must start with /"),
                ));
            }
        }
        let charset = Charset::from_label(&s.encoding).ok_or_else(|| {
            ConfigError::invalid(
                "server.encoding",
                format!("{:?} is not a supported encoding", s.encoding),
            )
        })?;
        let encode_threshold = match s.encode_threshold {
            Threshold::Bytes(n) => Some(n as usize),
            Threshold::Switch(false) => None,
            Threshold::Switch(true) => {
                return Err(ConfigError::invalid(
                    "server.encode_threshold",
                    "give a size in bytes, or false",
                ));
            }
        };
        for (key, value) in [
            ("limits.max_body_bytes", l.max_body_bytes),
            ("limits.max_inflight_body_bytes", l.max_inflight_body_bytes),
            ("limits.max_decoded_bytes", l.max_decoded_bytes),
            ("limits.max_depth", l.max_depth),
            ("limits.max_elements", l.max_elements),
            ("limits.max_string_bytes", l.max_string_bytes),
            ("limits.max_multicall_calls", l.max_multicall_calls),
            ("limits.multicall_concurrency", l.multicall_concurrency),
            ("limits.max_connections", l.max_connections),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        let log_format = match self.log.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::invalid(
                    "log.format",
                    format!("{other:?} is not text or json"),
                ));
            }
        };
        let admin = self.admin_options()?;
        let (auth, auth_default) = self.auth_options()?;
        let cors = self.cors_options()?;
        let tls = match &s.tls {
            None => None,
            Some(t) => {
                Some(Arc::new(Tls::load(&t.cert, &t.key).map_err(|e| {
                    ConfigError::invalid("server.tls", e.to_string())
                })?))
            }
        };
        let nonzero = |d: std::time::Duration| (!d.is_zero()).then_some(d);
        Ok(Settings {
            listen,
            http: HttpOptions {
                rpc_paths: s.rpc_paths.clone(),
                max_body_bytes: l.max_body_bytes,
                max_inflight_body_bytes: l.max_inflight_body_bytes,
                max_decoded_bytes: l.max_decoded_bytes,
                encode_threshold,
                log_requests: s.log_requests,
                header_read_timeout: l.header_read_timeout,
                body_read_timeout: nonzero(l.body_read_timeout),
                max_connections: l.max_connections,
                drain_timeout: l.drain_timeout,
                forward_headers: self.forward_header_candidates(),
                admin,
                auth,
                cors,
                tls,
            },
            dispatch: DispatchOptions {
                introspection: s.introspection,
                multicall: s.multicall,
                max_multicall_calls: l.max_multicall_calls,
                multicall_concurrency: l.multicall_concurrency,
                allow_none: s.allow_none,
                call_timeout: nonzero(l.call_timeout),
                auth: auth_default,
            },
            limits: Limits {
                max_depth: l.max_depth,
                max_elements: l.max_elements,
                max_string_bytes: l.max_string_bytes,
            },
            encode: EncodeOptions {
                charset,
                allow_none: s.allow_none,
            },
            log_format,
            log_level: self.log.level.clone(),
        })
    }
}

impl Config {
    /// `[admin]`: an address if given, paths that start with `/`, differ from
    /// each other and from every `server.rpc_paths` entry (also when the
    /// endpoints have their own listener, so moving them back stays valid).
    fn admin_options(&self) -> Result<AdminOptions, ConfigError> {
        let a = &self.admin;
        let listen = match &a.listen {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                ConfigError::invalid(
                    "admin.listen",
                    format!("{text:?} is not an address like 127.0.0.1:9100"),
                )
            })?),
        };
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (key, path, served) in [
            ("admin.metrics_path", &a.metrics_path, a.metrics),
            ("admin.health_path", &a.health_path, true),
            ("admin.ready_path", &a.ready_path, true),
        ] {
            if !path.starts_with('/') {
                return Err(ConfigError::invalid(
                    key,
                    format!("{path:?} must start with /"),
                ));
            }
            if !served {
                continue;
            }
            if self.server.rpc_paths.contains(path) {
                return Err(ConfigError::invalid(
                    key,
                    format!("{path:?} is also in server.rpc_paths"),
                ));
            }
            if let Some((other, _)) = seen.iter().find(|(_, p)| p == path) {
                return Err(ConfigError::invalid(
                    key,
                    format!("{path:?} is also {other}"),
                ));
            }
            seen.push((key, path));
        }
        Ok(AdminOptions {
            listen,
            metrics: a.metrics,
            metrics_path: a.metrics_path.clone(),
            health_path: a.health_path.clone(),
            ready_path: a.ready_path.clone(),
        })
    }

    /// `[auth]` and the routes' `auth`: the authenticator (secrets read from
    /// the files now), and the policy of routes without their own.
    fn auth_options(&self) -> Result<(Arc<Authenticator>, AuthPolicy), ConfigError> {
        let a = &self.auth;
        let default =
            parse_policy(&a.default).map_err(|m| ConfigError::invalid("auth.default", m))?;
        let mut route_policies = Vec::new();
        for (i, rc) in self.routes.iter().enumerate() {
            if let Some(text) = &rc.auth {
                let policy = parse_policy(text).map_err(|m| {
                    ConfigError::invalid(format!("routes[{i}] (method {:?}).auth", rc.method), m)
                })?;
                route_policies.push((i, policy));
            }
        }
        let anonymous = default == AuthPolicy::Public
            || route_policies.iter().any(|(_, p)| *p == AuthPolicy::Public);
        let has_users = !a.users.is_empty() || a.users_file.is_some();
        let has_tokens = !a.tokens.is_empty() || a.tokens_file.is_some();
        let authenticator = match a.mode.as_str() {
            "none" => {
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
            "basic" => {
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
            "bearer" => {
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
            other => {
                return Err(ConfigError::invalid(
                    "auth.mode",
                    format!("{other:?} is not none, basic or bearer"),
                ));
            }
        };
        Ok((Arc::new(authenticator), default))
    }

    /// `[cors]`: origins look like `scheme://host[:port]` (or are `*`).
    fn cors_options(&self) -> Result<CorsOptions, ConfigError> {
        let c = &self.cors;
        for origin in &c.allow_origins {
            let shaped = origin == "*"
                || (origin.contains("://")
                    && !origin.ends_with('/')
                    && !origin.contains(char::is_whitespace));
            if !shaped {
                return Err(ConfigError::invalid(
                    "cors.allow_origins",
                    format!(
                        "{origin:?} is not an origin like https://app.example (no path, no trailing /)"
                    ),
                ));
            }
        }
        if c.allow_credentials && c.allow_origins.iter().any(|o| o == "*") {
            return Err(ConfigError::invalid(
                "cors.allow_credentials",
                "cannot be true with allow_origins = [\"*\"]; list the origins",
            ));
        }
        for name in &c.allow_headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::invalid(
                    "cors.allow_headers",
                    format!("{name:?} is not a header name"),
                ));
            }
        }
        Ok(CorsOptions {
            allow_origins: c.allow_origins.clone(),
            allow_headers: c
                .allow_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            max_age: (!c.max_age.is_zero()).then_some(c.max_age),
            allow_credentials: c.allow_credentials,
        })
    }

    /// Every client header name some backend may receive (lower case):
    /// `server.forward_headers` plus each backend's `forward_headers`. The
    /// HTTP edge passes these on; each backend keeps only its own allowlist.
    pub fn forward_header_candidates(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .server
            .forward_headers
            .iter()
            .chain(self.backends.values().flat_map(|b| &b.forward_headers))
            .map(|h| h.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

fn parse_policy(text: &str) -> Result<AuthPolicy, String> {
    match text {
        "required" => Ok(AuthPolicy::Required),
        "none" => Ok(AuthPolicy::Public),
        other => Err(format!("{other:?} is not required or none")),
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

/// Builds the routing table from `[[routes]]`: handler routes take their
/// handler from `handlers` (a table of named in-process handlers), backend
/// routes from `[backends]`.
pub fn build_table(config: &Config, handlers: &RoutingTable) -> Result<RoutingTable, ConfigError> {
    let mut backends: HashMap<&str, Arc<dyn Backend>> = HashMap::new();
    for (name, cfg) in &config.backends {
        let built = backend::from_config(name, cfg, &config.server.forward_headers)
            .map_err(|msg| ConfigError::invalid(format!("backends.{name}"), msg))?;
        backends.insert(name.as_str(), built);
    }
    let mut table = RoutingTable::new();
    for (i, rc) in config.routes.iter().enumerate() {
        let key = format!("routes[{i}] (method {:?})", rc.method);
        let route =
            build_route(rc, handlers, &backends).map_err(|msg| ConfigError::invalid(&key, msg))?;
        table
            .add(route)
            .map_err(|e| ConfigError::invalid(&key, e.to_string()))?;
    }
    Ok(table)
}

fn build_route(
    rc: &RouteConfig,
    handlers: &RoutingTable,
    backends: &HashMap<&str, Arc<dyn Backend>>,
) -> Result<Route, String> {
    if rc.method.is_empty() {
        return Err("method must not be empty".to_owned());
    }
    let pattern = Pattern::parse(&rc.method);
    let mut route = match (&rc.handler, &rc.backend) {
        (Some(name), None) => {
            if rc.path.is_some() || rc.params.is_some() || rc.rename.is_some() || rc.strip_prefix {
                return Err(
                    "path, params, rename and strip_prefix apply to backend routes only".to_owned(),
                );
            }
            let known = handlers.exact(name).ok_or_else(|| {
                let mut names: Vec<&str> = handlers.exact_names().collect();
                names.sort_unstable();
                format!("no handler named {name:?} (known: {})", names.join(", "))
            })?;
            let mut route = known.clone();
            route.pattern = pattern;
            route
        }
        (None, Some(name)) => {
            let backend = backends
                .get(name.as_str())
                .ok_or_else(|| format!("no backend named {name:?} in [backends]"))?;
            let rename = match (&rc.rename, rc.strip_prefix) {
                (Some(_), true) => return Err("set rename or strip_prefix, not both".to_owned()),
                (Some(to), false) => Rename::To(to.clone()),
                (None, true) if !matches!(pattern, Pattern::Prefix(_)) => {
                    return Err("strip_prefix needs a prefix route (method ending in *)".to_owned());
                }
                (None, true) => Rename::StripPrefix,
                (None, false) => Rename::Full,
            };
            Route {
                pattern,
                target: Target::Backend {
                    backend: backend.clone(),
                    rename,
                    path: rc.path.clone(),
                    param_names: rc.params.clone(),
                },
                label: format!("backend:{name}"),
                help: None,
                signatures: None,
                timeout: None,
                idempotent: false,
                auth: None,
            }
        }
        (Some(_), Some(_)) => return Err("set handler or backend, not both".to_owned()),
        (None, None) => return Err("set handler or backend".to_owned()),
    };
    if rc.help.is_some() {
        route.help = rc.help.clone();
    }
    if rc.signature.is_some() {
        route.signatures = rc.signature.clone();
    }
    route.timeout = rc.timeout.or(route.timeout);
    route.idempotent = rc.idempotent;
    route.auth = rc.auth.as_deref().map(parse_policy).transpose()?;
    Ok(route)
}
