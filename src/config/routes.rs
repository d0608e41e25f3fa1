//! `[[routes]]`: the routing table, each route's target checked against
//! the handlers and backends that exist.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ConfigError;
use super::mapping;
use super::raw::{Config, RouteConfig};
use crate::backend::{self, Backend, Kind};
use crate::call::AuthPolicy;
use crate::dispatch::{Pattern, Rename, Route, RoutingTable, Target};
use crate::metrics::Metrics;

/// Builds the routing table from `[[routes]]`: handler routes take their
/// handler from `handlers` (a table of named in-process handlers), backend
/// routes from `[backends]`, whose circuit breakers show their state in
/// `metrics`.
pub fn build_table(
    config: &Config,
    handlers: &RoutingTable,
    metrics: &Metrics,
) -> Result<RoutingTable, ConfigError> {
    let backends = config.build_backends(metrics)?;
    let mut table = RoutingTable::new();
    let mut shared = Vec::new();
    for (i, rc) in config.routes.iter().enumerate() {
        let key = format!("routes[{i}] (method {:?})", rc.method);
        let route = build_route(config, rc, handlers, &backends).map_err(|(sub, msg)| {
            let key = if sub.is_empty() {
                key.clone()
            } else {
                format!("{key}.{sub}")
            };
            ConfigError::invalid(key, msg)
        })?;
        match &rc.rpc_path {
            None => {
                shared.push(route.clone());
                table
                    .add(route)
                    .map_err(|e| ConfigError::refused(&key, e))?;
            }
            Some(path) => {
                let rpc_paths = &config.server.rpc_paths;
                if !rpc_paths.is_empty() && !rpc_paths.contains(path) {
                    return Err(ConfigError::invalid(
                        format!("{key}.rpc_path"),
                        format!("{path:?} is not one of server.rpc_paths"),
                    ));
                }
                table
                    .for_path_mut(path)
                    .add(route)
                    .map_err(|e| ConfigError::refused(&key, e))?;
            }
        }
    }
    // A path with routes of its own also serves the shared ones, unless it
    // routes the same pattern itself.
    let paths: Vec<String> = table.rpc_paths().map(|(p, _)| p.to_owned()).collect();
    for path in paths {
        let own = table.for_path_mut(&path);
        for route in &shared {
            if !own.routes().any(|r| r.pattern == route.pattern) {
                own.add(route.clone())
                    .map_err(|e| ConfigError::refused(format!("routes (rpc_path {path:?})"), e))?;
            }
        }
    }
    Ok(table)
}

/// One route; an error is `(key below the route, message)`.
fn build_route(
    config: &Config,
    rc: &RouteConfig,
    handlers: &RoutingTable,
    backends: &HashMap<&str, Arc<dyn Backend>>,
) -> Result<Route, (String, String)> {
    let whole = |msg: String| (String::new(), msg);
    if rc.method.is_empty() {
        return Err(whole("method must not be empty".to_owned()));
    }
    let mapped = mapping::has_mapping(rc);
    let pattern = Pattern::parse(&rc.method);
    let mut route = match (&rc.handler, &rc.backend) {
        (Some(name), None) => {
            if rc.path.is_some()
                || rc.params.is_some()
                || rc.rename.is_some()
                || rc.strip_prefix
                || mapped
            {
                return Err(whole(
                    "path, params, rename, strip_prefix and the mapping keys apply to backend routes only".to_owned(),
                ));
            }
            let known = handlers.exact(name).ok_or_else(|| {
                let mut names: Vec<&str> = handlers.exact_names().collect();
                names.sort_unstable();
                whole(format!(
                    "no handler named {name:?} (known: {})",
                    names.join(", ")
                ))
            })?;
            let mut route = known.clone();
            route.pattern = pattern;
            route
        }
        (None, Some(name)) => {
            let backend = backends
                .get(name.as_str())
                .ok_or_else(|| whole(format!("no backend named {name:?} in [backends]")))?;
            let mapping = if mapped {
                if config.backends[name.as_str()].kind != Kind::Json {
                    return Err(whole(format!(
                        "the mapping keys (http_method, a path template, query, headers, basic_auth, body, result) apply to json backends; {name:?} is not one"
                    )));
                }
                let backend_method = config.backends[name.as_str()].http_method;
                Some(Arc::new(mapping::route_mapping(rc, backend_method)?))
            } else {
                None
            };
            let path = match &rc.path {
                Some(p) if p.contains('{') => None,
                other => other.clone(),
            };
            let rename = match (&rc.rename, rc.strip_prefix) {
                (Some(_), true) => {
                    return Err(whole("set rename or strip_prefix, not both".to_owned()));
                }
                (Some(to), false) => Rename::To(to.clone()),
                (None, true) if !matches!(pattern, Pattern::Prefix(_)) => {
                    return Err(whole(
                        "strip_prefix needs a prefix route (method ending in *)".to_owned(),
                    ));
                }
                (None, true) => Rename::StripPrefix,
                (None, false) => Rename::Full,
            };
            let json = config.backends[name.as_str()].kind == Kind::Json;
            if json && rc.path.is_none() {
                check_json_name(&pattern, &rename).map_err(whole)?;
            }
            Route {
                pattern,
                target: Target::Backend {
                    backend: backend.clone(),
                    rename,
                    path,
                    param_names: rc.params.clone(),
                    mapping,
                },
                label: format!("backend:{name}"),
                help: None,
                signatures: None,
                timeout: None,
                idempotent: false,
                auth: None,
                roles: Vec::new(),
            }
        }
        (Some(_), Some(_)) => return Err(whole("set handler or backend, not both".to_owned())),
        (None, None) => return Err(whole("set handler or backend".to_owned())),
    };
    if rc.help.is_some() {
        route.help = rc.help.clone();
    }
    if rc.signature.is_some() {
        route.signatures = rc.signature.clone();
    }
    route.timeout = rc.timeout.or(route.timeout);
    route.idempotent = rc.idempotent;
    route.auth = rc.auth;
    if let Some(roles) = &rc.roles {
        // Only an authenticated caller holds roles.
        route.roles = roles.clone();
        route.auth = Some(AuthPolicy::Required);
    }
    Ok(route)
}

/// A json route without `path` takes its URL path from the name the backend
/// sees; the part of that name the route fixes (a `rename`, an exact name,
/// a prefix up to its last dot) must map to path segments, or every call
/// of the route would be refused (fault -32601).
fn check_json_name(pattern: &Pattern, rename: &Rename) -> Result<(), String> {
    let (key, fixed) = match (rename, pattern) {
        (Rename::To(to), _) => ("rename", to.as_str()),
        (Rename::Full, Pattern::Exact(name)) => ("method", name.as_str()),
        (Rename::Full, Pattern::Prefix(prefix)) => match prefix.rsplit_once('.') {
            Some((fixed, _)) => ("method", fixed),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    match backend::unmappable_name(fixed) {
        Some(why) => Err(format!(
            "{key} {fixed:?} cannot be a json URL path ({why}); set path"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_error(route: &str) -> Option<String> {
        let cfg = Config::from_toml(&format!(
            "[backends.users]\nkind = \"json\"\nurl = \"http://127.0.0.1:9/api\"\n\n[[routes]]\nbackend = \"users\"\n{route}"
        ))
        .unwrap();
        build_table(&cfg, &RoutingTable::new(), &Metrics::new())
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn json_names_fixed_by_a_route_must_map_to_a_path() {
        for route in [
            "method = \"users.get\"\nrename = \"../admin\"\n",
            "method = \"users/../admin\"\n",
            "method = \"a..b.*\"\n",
            "method = \"users.*\"\nrename = \"x.%2e%2e\"\n",
        ] {
            let err = table_error(route).unwrap_or_else(|| panic!("accepted:\n{route}"));
            assert!(err.starts_with("routes[0]"), "{err}");
            assert!(err.contains("cannot be a json URL path"), "{err}");
        }
        for route in [
            "method = \"users.get\"\n",
            "method = \"users.*\"\n",
            "method = \"users*\"\n",
            "method = \"*\"\n",
            "method = \"users.*\"\nstrip_prefix = true\n",
            "method = \"users.get\"\nrename = \"people.get\"\n",
            // A route's own path is config's to choose.
            "method = \"users/../admin\"\npath = \"/admin\"\n",
        ] {
            assert_eq!(table_error(route), None, "{route}");
        }
    }
}
