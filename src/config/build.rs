//! From the raw config to what runs: runtime settings for each layer, and
//! the routing table. Every check that can fail names the key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::{Config, ConfigError, RouteConfig, Threshold};
use crate::backend::{self, Backend};
use crate::dispatch::{DispatchOptions, Pattern, Rename, Route, RoutingTable, Target};
use crate::http::{AdminOptions, HttpOptions};
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
            },
            dispatch: DispatchOptions {
                introspection: s.introspection,
                multicall: s.multicall,
                max_multicall_calls: l.max_multicall_calls,
                multicall_concurrency: l.multicall_concurrency,
                allow_none: s.allow_none,
                call_timeout: nonzero(l.call_timeout),
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
    Ok(route)
}
