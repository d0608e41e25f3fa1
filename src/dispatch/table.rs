//! The routing table: which target answers a method name.
//!
//! Exact names win over prefixes, longer prefixes over shorter, then a
//! registered [`Instance`], then the `*` route. `system.*` names are reserved
//! for the dispatcher and never routed.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::handler::{Handler, Instance};
use super::shadow::Shadow;
use super::split::Split;
use super::typed::{AsyncFn, SyncFn};
use crate::backend::{Backend, Mapping};
use crate::call::AuthPolicy;

/// Which method names a route matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// One name, exactly.
    Exact(String),
    /// Every name starting with this text (written `inventory.*` in config;
    /// stored as `inventory.`).
    Prefix(String),
    /// `*`: every name no other route takes.
    Any,
}

impl Pattern {
    /// Parses config syntax: `*`, `prefix*`, or an exact name.
    pub fn parse(text: &str) -> Pattern {
        if text == "*" {
            Pattern::Any
        } else if let Some(prefix) = text.strip_suffix('*') {
            Pattern::Prefix(prefix.to_owned())
        } else {
            Pattern::Exact(text.to_owned())
        }
    }
}

impl Pattern {
    /// Whether `name` is one this pattern names.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Exact(exact) => exact == name,
            Pattern::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Pattern::Any => true,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Exact(name) => f.write_str(name),
            Pattern::Prefix(prefix) => write!(f, "{prefix}*"),
            Pattern::Any => f.write_str("*"),
        }
    }
}

/// The name a backend sees for a routed call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Rename {
    /// The name the client sent (default).
    #[default]
    Full,
    /// The part after the route's prefix (`inventory.get` -> `get`).
    StripPrefix,
    /// A fixed name.
    To(String),
}

/// Where a route sends its calls.
#[derive(Clone)]
pub enum Target {
    /// An in-process handler.
    Handler(Arc<dyn Handler>),
    /// A service behind the gateway.
    Backend {
        /// The service.
        backend: Arc<dyn Backend>,
        /// The name it is sent.
        rename: Rename,
        /// Route-level path (json backends: appended to the backend URL).
        path: Option<String>,
        /// Named params for json backends (`params = ["id"]`).
        param_names: Option<Vec<String>>,
        /// Request and answer mapping (json backends).
        mapping: Option<Arc<Mapping>>,
    },
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Handler(_) => f.write_str("Handler"),
            Target::Backend { backend, .. } => write!(f, "Backend({})", backend.name()),
        }
    }
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Route {
    /// Which names it matches.
    pub pattern: Pattern,
    /// Where they go.
    pub target: Target,
    /// The label used in logs and metrics (`handler:add`, `backend:inventory`).
    pub label: String,
    /// `system.methodHelp` text.
    pub help: Option<String>,
    /// `system.methodSignature` rows, overriding what the handler knows.
    pub signatures: Option<Vec<Vec<String>>>,
    /// Per-call timeout overriding the global one.
    pub timeout: Option<Duration>,
    /// Whether failed calls may be retried (backends only).
    pub idempotent: bool,
    /// Whether anonymous callers may call it; `None` takes the dispatcher's
    /// default (`auth.default`).
    pub auth: Option<AuthPolicy>,
    /// Roles that may call it (one suffices, for the names its patterns
    /// allow); empty: anyone the auth policy admits.
    pub roles: Vec<String>,
    /// Backend routes: several backends sharing the calls by weight, each
    /// caller kept on one (a canary); `None`: the target's backend alone.
    pub split: Option<Arc<Split>>,
    /// Backend routes: a sampled copy of the calls sent to another backend
    /// and its answer compared (shadow traffic).
    pub shadow: Option<Arc<Shadow>>,
}

impl Route {
    /// A route to an in-process handler.
    pub fn handler(pattern: Pattern, label: &str, handler: Arc<dyn Handler>) -> Route {
        Route {
            pattern,
            target: Target::Handler(handler),
            label: format!("handler:{label}"),
            help: None,
            signatures: None,
            timeout: None,
            idempotent: false,
            auth: None,
            roles: Vec::new(),
            split: None,
            shadow: None,
        }
    }

    /// The name the target sees for `method`.
    pub fn target_name<'a>(&self, method: &'a str) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        match (&self.target, &self.pattern) {
            (Target::Backend { rename, .. }, pattern) => match rename {
                Rename::Full => Cow::Borrowed(method),
                Rename::To(name) => Cow::Owned(name.clone()),
                Rename::StripPrefix => match pattern {
                    Pattern::Prefix(p) => {
                        Cow::Borrowed(method.strip_prefix(p.as_str()).unwrap_or(method))
                    }
                    _ => Cow::Borrowed(method),
                },
            },
            (Target::Handler(_), _) => Cow::Borrowed(method),
        }
    }

    /// Signature rows: the route's own, else the handler's.
    pub fn signatures(&self) -> Option<Vec<Vec<String>>> {
        if let Some(sigs) = &self.signatures {
            return Some(sigs.clone());
        }
        match &self.target {
            Target::Handler(h) => h
                .signature()
                .map(|sig| vec![sig.into_iter().map(str::to_owned).collect()]),
            Target::Backend { .. } => None,
        }
    }
}

/// The result of looking a name up.
#[allow(missing_debug_implementations)] // holds trait objects; never printed
pub enum Resolved<'a> {
    Route(&'a Route),
    Instance(&'a Arc<dyn Instance>),
    NotFound,
}

/// Errors building a table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TableError {
    /// A name routed twice.
    #[error("method {0:?} is routed twice")]
    Duplicate(String),
    /// A `system.*` name, which the dispatcher keeps.
    #[error("method {0:?} is reserved: system.* methods belong to the gateway")]
    Reserved(String),
    /// An empty name.
    #[error("an empty method name cannot be routed")]
    Empty,
}

/// Method names to targets. Built once, then shared read-only; a config
/// reload builds a new one.
#[derive(Default)]
pub struct RoutingTable {
    /// Keys come from registration and config; clients only look names up,
    /// so a fast hasher is safe here (no flood of client keys to resist).
    exact: HashMap<String, Route, foldhash::fast::RandomState>,
    /// Longest prefix first.
    prefixes: Vec<Route>,
    fallback: Option<Route>,
    instance: Option<Arc<dyn Instance>>,
    /// Tables of their own for RPC paths that have routes of their own:
    /// those routes plus this table's (a request to such a path sees only
    /// its table; every other path sees this one).
    per_path: BTreeMap<String, RoutingTable>,
}

impl fmt::Debug for RoutingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutingTable")
            .field("routes", &self.routes().collect::<Vec<_>>())
            .field("instance", &self.instance.is_some())
            .finish()
    }
}

impl RoutingTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a plain function under `name` (Python's `register_function`).
    /// Parameters and result convert through `FromValue` / `IntoValue`.
    pub fn register_function<F, Args>(&mut self, name: &str, f: F) -> Result<&mut Route, TableError>
    where
        SyncFn<F, Args>: Handler,
    {
        self.register_handler(name, SyncFn::new(name, f))
    }

    /// Registers an async function under `name`.
    pub fn register_async<F, Args>(&mut self, name: &str, f: F) -> Result<&mut Route, TableError>
    where
        AsyncFn<F, Args>: Handler,
    {
        self.register_handler(name, AsyncFn::new(name, f))
    }

    /// Registers any [`Handler`] under `name`.
    pub fn register_handler(
        &mut self,
        name: &str,
        handler: impl Handler,
    ) -> Result<&mut Route, TableError> {
        let route = Route::handler(Pattern::Exact(name.to_owned()), name, Arc::new(handler));
        self.add(route)
    }

    /// Registers an object answering names no function or prefix route
    /// takes (Python's `register_instance`). A second call replaces the first.
    pub fn register_instance(&mut self, instance: impl Instance) {
        self.instance = Some(Arc::new(instance));
    }

    /// Adds a route, returning it for further settings (help, signatures...).
    pub fn add(&mut self, route: Route) -> Result<&mut Route, TableError> {
        match &route.pattern {
            Pattern::Exact(name) | Pattern::Prefix(name) if name.starts_with("system.") => {
                return Err(TableError::Reserved(route.pattern.to_string()));
            }
            Pattern::Exact(name) if name.is_empty() => return Err(TableError::Empty),
            _ => {}
        }
        let duplicate = || Err(TableError::Duplicate(route.pattern.to_string()));
        match route.pattern.clone() {
            Pattern::Exact(name) => match self.exact.entry(name) {
                std::collections::hash_map::Entry::Occupied(_) => duplicate(),
                std::collections::hash_map::Entry::Vacant(slot) => Ok(slot.insert(route)),
            },
            Pattern::Prefix(prefix) => {
                if self.prefixes.iter().any(|r| r.pattern == route.pattern) {
                    return duplicate();
                }
                // Keep longest first, so the first match is the best one.
                let at = self
                    .prefixes
                    .iter()
                    .position(
                        |r| matches!(&r.pattern, Pattern::Prefix(p) if p.len() < prefix.len()),
                    )
                    .unwrap_or(self.prefixes.len());
                self.prefixes.insert(at, route);
                Ok(&mut self.prefixes[at])
            }
            Pattern::Any => {
                if self.fallback.is_some() {
                    return duplicate();
                }
                Ok(self.fallback.insert(route))
            }
        }
    }

    /// The table requests to `rpc_path` use, created empty on first use
    /// (config fills it with the path's routes and the shared ones).
    pub fn for_path_mut(&mut self, rpc_path: &str) -> &mut RoutingTable {
        self.per_path.entry(rpc_path.to_owned()).or_default()
    }

    /// The RPC paths with a table of their own, and those tables (moved out).
    pub(crate) fn take_per_path(&mut self) -> BTreeMap<String, RoutingTable> {
        std::mem::take(&mut self.per_path)
    }

    /// The RPC paths with a table of their own.
    pub fn rpc_paths(&self) -> impl Iterator<Item = (&str, &RoutingTable)> {
        self.per_path.iter().map(|(p, t)| (p.as_str(), t))
    }

    /// Finds who answers `method`.
    pub fn resolve(&self, method: &str) -> Resolved<'_> {
        if let Some(route) = self.exact.get(method) {
            return Resolved::Route(route);
        }
        if let Some(route) = self
            .prefixes
            .iter()
            .find(|r| matches!(&r.pattern, Pattern::Prefix(p) if method.starts_with(p.as_str())))
        {
            return Resolved::Route(route);
        }
        if let Some(instance) = &self.instance {
            return Resolved::Instance(instance);
        }
        match &self.fallback {
            Some(route) => Resolved::Route(route),
            None => Resolved::NotFound,
        }
    }

    /// Every route: exact (sorted by name), then prefixes, then `*`.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        let mut exact: Vec<&Route> = self.exact.values().collect();
        exact.sort_by_key(|r| r.pattern.to_string());
        exact
            .into_iter()
            .chain(self.prefixes.iter())
            .chain(self.fallback.iter())
    }

    /// Exact route names, unsorted.
    pub fn exact_names(&self) -> impl Iterator<Item = &str> {
        self.exact.keys().map(String::as_str)
    }

    /// The instance, if one is registered.
    pub fn instance(&self) -> Option<&Arc<dyn Instance>> {
        self.instance.as_ref()
    }

    /// An exact route by name.
    pub fn exact(&self, name: &str) -> Option<&Route> {
        self.exact.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(patterns: &[&str]) -> RoutingTable {
        let mut t = RoutingTable::new();
        for p in patterns {
            let route = Route::handler(
                Pattern::parse(p),
                p,
                Arc::new(super::super::typed::RawFn(|_| {
                    Ok(crate::xmlrpc::Value::Nil)
                })),
            );
            t.add(route).unwrap();
        }
        t
    }

    fn winner(t: &RoutingTable, name: &str) -> Option<String> {
        match t.resolve(name) {
            Resolved::Route(r) => Some(r.pattern.to_string()),
            _ => None,
        }
    }

    #[test]
    fn exact_beats_prefix_beats_any() {
        let t = table(&["*", "inv.*", "inv.stock.*", "inv.get"]);
        assert_eq!(winner(&t, "inv.get").as_deref(), Some("inv.get"));
        assert_eq!(
            winner(&t, "inv.stock.count").as_deref(),
            Some("inv.stock.*")
        );
        assert_eq!(winner(&t, "inv.put").as_deref(), Some("inv.*"));
        assert_eq!(winner(&t, "other").as_deref(), Some("*"));
    }

    #[test]
    fn prefix_order_does_not_depend_on_insertion() {
        let t = table(&["a.b.*", "a.*"]);
        assert_eq!(winner(&t, "a.b.c").as_deref(), Some("a.b.*"));
        let t = table(&["a.*", "a.b.*"]);
        assert_eq!(winner(&t, "a.b.c").as_deref(), Some("a.b.*"));
    }

    #[test]
    fn nothing_matches_without_fallback() {
        let t = table(&["a"]);
        assert!(winner(&t, "b").is_none());
    }

    #[test]
    fn duplicates_and_reserved_names_are_refused() {
        let mut t = table(&["a"]);
        let dup = Route::handler(
            Pattern::parse("a"),
            "a",
            Arc::new(super::super::typed::RawFn(|_| {
                Ok(crate::xmlrpc::Value::Nil)
            })),
        );
        assert_eq!(t.add(dup).unwrap_err(), TableError::Duplicate("a".into()));
        let sys = Route::handler(
            Pattern::parse("system.listMethods"),
            "x",
            Arc::new(super::super::typed::RawFn(|_| {
                Ok(crate::xmlrpc::Value::Nil)
            })),
        );
        assert!(matches!(t.add(sys), Err(TableError::Reserved(_))));
    }
}
