//! `[[routes]]`: the routing table, each route's target checked against
//! the handlers and backends that exist.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ConfigError;
use super::raw::{Config, RouteConfig};
use crate::backend::Backend;
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
    for (i, rc) in config.routes.iter().enumerate() {
        let key = format!("routes[{i}] (method {:?})", rc.method);
        let route =
            build_route(rc, handlers, &backends).map_err(|msg| ConfigError::invalid(&key, msg))?;
        table
            .add(route)
            .map_err(|e| ConfigError::refused(&key, e))?;
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
    route.auth = rc.auth;
    Ok(route)
}
