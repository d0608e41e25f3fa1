//! `[[routes]]`: the routing table, each route's target checked against
//! the handlers and backends that exist.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ConfigError;
use super::mapping;
use super::raw::{Config, RouteConfig, ShadowConfig};
use crate::backend::{self, Backend, Kind};
use crate::call::AuthPolicy;
use crate::dispatch::{
    Comparison, Pattern, Rename, Route, RoutingTable, Shadow, Split, Sticky, Target, Weighted,
};
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
    let split = build_split(rc, backends)?;
    // A split route's target names its first backend with a weight (for
    // introspection); its calls go where the split says.
    let first = split.as_ref().map(|s| {
        let w = s.backends.iter().find(|w| w.weight > 0).expect("checked");
        w.backend.name().to_owned()
    });
    if rc.sticky.is_some() && split.is_none() {
        return Err((
            "sticky".to_owned(),
            "applies to routes with backends (a weighted split)".to_owned(),
        ));
    }
    let backend_name = match (&rc.backend, &first) {
        (Some(_), Some(_)) => {
            return Err(whole("set backend or backends, not both".to_owned()));
        }
        (Some(name), None) => Some(name),
        (None, first) => first.as_ref(),
    };
    // Every backend a call of the route may go to: the mapping keys need
    // them all to be json services.
    let mut reached: Vec<&str> = match &rc.backends {
        Some(list) => list.iter().map(|w| w.name.as_str()).collect(),
        None => rc.backend.iter().map(String::as_str).collect(),
    };
    reached.extend(rc.shadow.iter().map(|s| s.backend.as_str()));
    let mut route = match (&rc.handler, backend_name) {
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
                for name in &reached {
                    if config
                        .backends
                        .get(*name)
                        .is_some_and(|b| b.kind != Kind::Json)
                    {
                        return Err(whole(format!(
                            "the mapping keys (http_method, a path template, query, headers, basic_auth, body, result) apply to json backends; {name:?} is not one"
                        )));
                    }
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
            let json = reached.iter().any(|n| {
                config
                    .backends
                    .get(*n)
                    .is_some_and(|b| b.kind == Kind::Json)
            });
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
                // A split's label names its backends, not their weights:
                // the metric series stay the same when weights change.
                label: match &rc.backends {
                    Some(list) => {
                        let names: Vec<&str> = list.iter().map(|w| w.name.as_str()).collect();
                        format!("split:{}", names.join(","))
                    }
                    None => format!("backend:{name}"),
                },
                help: None,
                signatures: None,
                timeout: None,
                idempotent: false,
                auth: None,
                roles: Vec::new(),
                split: split.map(Arc::new),
                shadow: None,
            }
        }
        (Some(_), Some(_)) => {
            return Err(whole(
                "set handler or backend (or backends), not both".to_owned(),
            ));
        }
        (None, None) => return Err(whole("set handler or backend".to_owned())),
    };
    if let Some(sc) = &rc.shadow {
        if rc.handler.is_some() {
            return Err((
                "shadow".to_owned(),
                "applies to backend routes only".to_owned(),
            ));
        }
        route.shadow = Some(Arc::new(build_shadow(rc, sc, backends)?));
    }
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

/// A route's `backends` and `sticky`, checked; `None` without `backends`.
fn build_split(
    rc: &RouteConfig,
    backends: &HashMap<&str, Arc<dyn Backend>>,
) -> Result<Option<Split>, (String, String)> {
    let Some(list) = &rc.backends else {
        return Ok(None);
    };
    let err = |msg: String| Err(("backends".to_owned(), msg));
    if list.is_empty() {
        return err("name at least one backend".to_owned());
    }
    let mut weighted = Vec::with_capacity(list.len());
    for (i, w) in list.iter().enumerate() {
        if list[..i].iter().any(|o| o.name == w.name) {
            return err(format!("{:?} is named twice", w.name));
        }
        let Some(backend) = backends.get(w.name.as_str()) else {
            return err(format!("no backend named {:?} in [backends]", w.name));
        };
        weighted.push(Weighted {
            backend: backend.clone(),
            weight: w.weight,
        });
    }
    if weighted.iter().all(|w| w.weight == 0) {
        return err("every weight is 0: no backend would take a call".to_owned());
    }
    let sticky = match &rc.sticky {
        Some(text) => Some(Sticky::parse(text).map_err(|m| ("sticky".to_owned(), m))?),
        None => None,
    };
    Ok(Some(Split {
        backends: weighted,
        sticky,
    }))
}

/// A route's `shadow`, checked.
fn build_shadow(
    rc: &RouteConfig,
    sc: &ShadowConfig,
    backends: &HashMap<&str, Arc<dyn Backend>>,
) -> Result<Shadow, (String, String)> {
    let key = |field: &str| format!("shadow.{field}");
    if !rc.idempotent && !sc.allow_writes {
        return Err((
            key("allow_writes"),
            "the route is not idempotent: shadowing it would make every copied call twice (a write written twice); mark the route idempotent = true, or set shadow.allow_writes = true".to_owned(),
        ));
    }
    let backend = backends.get(sc.backend.as_str()).ok_or_else(|| {
        (
            key("backend"),
            format!("no backend named {:?} in [backends]", sc.backend),
        )
    })?;
    if !(0.0..=100.0).contains(&sc.percent) {
        return Err((
            key("percent"),
            format!("{} is not between 0 and 100", sc.percent),
        ));
    }
    if sc.float_tolerance.is_nan() || sc.float_tolerance < 0.0 {
        return Err((key("float_tolerance"), "must be 0 or more".to_owned()));
    }
    if sc.timeout.is_zero() {
        return Err((key("timeout"), "must be greater than 0".to_owned()));
    }
    if sc.max_concurrent == 0 {
        return Err((key("max_concurrent"), "must be greater than 0".to_owned()));
    }
    let ignore = Comparison::ignore_paths(&sc.ignore).map_err(|m| (key("ignore"), m))?;
    Ok(Shadow {
        route: rc.method.clone(),
        backend: backend.clone(),
        percent: sc.percent,
        compare: sc.compare,
        comparison: Comparison {
            ignore,
            float_tolerance: sc.float_tolerance,
        },
        timeout: sc.timeout,
        slots: Arc::new(tokio::sync::Semaphore::new(sc.max_concurrent)),
    })
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
