//! What the methods page (`server.docs`) shows: every method a caller may
//! call through one table, with its signatures, help and what serves it
//! (a handler, the gateway, or a backend's name: never its URL). Backends
//! that can describe their methods are asked, all at once, each within
//! the call timeout, and their answers are kept for `docs_cache`; at most
//! `docs_max_methods` are listed.
//!
//! Absent: HTML (the edge renders the page), and anything a caller may not
//! call.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt;

use super::introspection;
use super::options::DispatchOptions;
use super::table::{Pattern, Rename, Resolved, Route, RoutingTable, Target};
use crate::backend::{Backend, MethodInfo};
use crate::call::CallContext;
use crate::defaults;

/// The methods one caller may call on one RPC path, sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The methods, and the prefix routes whose methods are not listed.
    pub methods: Vec<MethodDoc>,
    /// More than `docs_max_methods` were found; the rest are left out.
    pub truncated: bool,
    /// Methods left out because they need credentials the caller did not
    /// send.
    pub need_credentials: usize,
}

/// One entry of the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodDoc {
    /// The name a client calls, or a route's pattern (`inventory.*`) when
    /// `unlisted` says why its methods are not listed one by one.
    pub name: String,
    /// Signature rows: the result type first, then each param's.
    pub signatures: Vec<Vec<String>>,
    /// Help text, empty when none.
    pub help: String,
    /// Who answers it.
    pub served_by: ServedBy,
    /// Set for a pattern entry.
    pub unlisted: Option<Unlisted>,
}

/// Who answers a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServedBy {
    /// The gateway itself (`system.*`).
    Gateway,
    /// An in-process handler, by its route label (`add`), or `instance`.
    Handler(String),
    /// A backend, by its configured name.
    Backend(String),
}

/// Why a pattern route's methods are not listed one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlisted {
    /// Its backend can list methods but did not answer (failed, timed out).
    CouldNotList,
    /// Its target cannot list methods (a handler, a json backend, a route
    /// that renames every call to one name).
    CannotList,
}

/// Whether a caller may call a name, as the dispatcher would decide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// It may.
    Yes,
    /// It needs credentials the caller did not send.
    NeedsCredentials,
    /// Its roles do not allow it.
    No,
}

/// A backend's methods, and when it said them.
type Dated = (Instant, Arc<Vec<MethodInfo>>);

/// Backends' descriptions, by backend name.
#[derive(Default)]
pub(super) struct DocsCache {
    entries: Mutex<HashMap<String, Dated>>,
}

impl DocsCache {
    fn fresh(&self, backend: &str, ttl: std::time::Duration) -> Option<Arc<Vec<MethodInfo>>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (at, methods) = entries.get(backend)?;
        (at.elapsed() < ttl).then(|| methods.clone())
    }

    fn store(&self, backend: &str, methods: Arc<Vec<MethodInfo>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(backend.to_owned(), (Instant::now(), methods));
    }
}

/// What a backend said of its methods.
enum Described {
    /// It cannot describe them.
    Cannot,
    /// It can, but did not this time (logged).
    Failed,
    /// Its methods, under its own names.
    Listed(Arc<Vec<MethodInfo>>),
}

/// One table's view for the catalog.
pub(super) struct CatalogView<'a> {
    pub(super) table: &'a RoutingTable,
    pub(super) options: &'a DispatchOptions,
    pub(super) cache: &'a DocsCache,
    /// Whether the caller may call a name.
    pub(super) may_call: &'a (dyn Fn(&str) -> Verdict + Sync),
}

impl CatalogView<'_> {
    /// The catalog for `ctx`'s caller.
    pub(super) async fn catalog(&self, ctx: &CallContext) -> Catalog {
        let described = self.describe_backends(ctx).await;
        let mut entries = Vec::new();
        for system in introspection::enabled(self.options) {
            entries.push(MethodDoc {
                name: system.name.to_owned(),
                signatures: system.rows(),
                help: system.help.to_owned(),
                served_by: ServedBy::Gateway,
                unlisted: None,
            });
        }
        for route in self.table.routes() {
            self.route_entries(route, &described, &mut entries);
        }
        if let Some(instance) = self.table.instance() {
            for name in instance.list_methods() {
                if matches!(self.table.resolve(&name), Resolved::Instance(_)) {
                    entries.push(MethodDoc {
                        help: instance.method_help(&name).unwrap_or_default(),
                        name,
                        signatures: Vec::new(),
                        served_by: ServedBy::Handler("instance".to_owned()),
                        unlisted: None,
                    });
                }
            }
        }
        self.finish(entries)
    }

    /// Keeps what the caller may call, once per name, sorted and bounded.
    fn finish(&self, entries: Vec<MethodDoc>) -> Catalog {
        let mut catalog = Catalog::default();
        let mut seen = HashSet::new();
        for entry in entries {
            if !seen.insert(entry.name.clone()) {
                continue;
            }
            match (self.may_call)(&entry.name) {
                Verdict::Yes => catalog.methods.push(entry),
                Verdict::NeedsCredentials => catalog.need_credentials += 1,
                Verdict::No => {}
            }
        }
        catalog.methods.sort_by(|a, b| a.name.cmp(&b.name));
        let max = self.options.docs_max_methods;
        if catalog.methods.len() > max {
            catalog.methods.truncate(max);
            catalog.truncated = true;
        }
        catalog
    }

    fn route_entries(
        &self,
        route: &Route,
        described: &HashMap<String, Described>,
        entries: &mut Vec<MethodDoc>,
    ) {
        let served_by = match &route.target {
            Target::Handler(_) => ServedBy::Handler(
                route
                    .label
                    .strip_prefix("handler:")
                    .unwrap_or(&route.label)
                    .to_owned(),
            ),
            // A canary: the backends that share the calls, by name.
            Target::Backend { .. } if route.split.is_some() => {
                let split = route.split.as_deref().into_iter();
                let names: Vec<&str> = split
                    .flat_map(|s| s.backends.iter())
                    .filter(|w| w.weight > 0)
                    .map(|w| w.backend.name())
                    .collect();
                ServedBy::Backend(names.join(", "))
            }
            Target::Backend { backend, .. } => ServedBy::Backend(backend.name().to_owned()),
        };
        let own = |name: &str| match &route.target {
            Target::Backend { backend, .. } => match described.get(backend.name()) {
                Some(Described::Listed(list)) => {
                    let target = route.target_name(name);
                    list.iter().find(|m| m.name == target).cloned()
                }
                _ => None,
            },
            Target::Handler(_) => None,
        };
        match &route.pattern {
            Pattern::Exact(name) => {
                let found = own(name).unwrap_or_default();
                entries.push(MethodDoc {
                    name: name.clone(),
                    signatures: route.signatures().unwrap_or(found.signatures),
                    help: route.help.clone().unwrap_or(found.help),
                    served_by,
                    unlisted: None,
                });
            }
            pattern => {
                let listed = match &route.target {
                    Target::Backend {
                        backend,
                        rename: Rename::Full | Rename::StripPrefix,
                        ..
                    } => described.get(backend.name()),
                    _ => None,
                };
                let unlisted = match listed {
                    Some(Described::Listed(list)) => {
                        for info in list.iter() {
                            if let Some(name) = client_name(self.table, route, &info.name) {
                                entries.push(MethodDoc {
                                    name,
                                    signatures: info.signatures.clone(),
                                    help: info.help.clone(),
                                    served_by: served_by.clone(),
                                    unlisted: None,
                                });
                            }
                        }
                        return;
                    }
                    Some(Described::Failed) => Unlisted::CouldNotList,
                    Some(Described::Cannot) | None => Unlisted::CannotList,
                };
                entries.push(MethodDoc {
                    name: pattern.to_string(),
                    signatures: Vec::new(),
                    help: route.help.clone().unwrap_or_default(),
                    served_by,
                    unlisted: Some(unlisted),
                });
            }
        }
    }

    /// Asks every backend of the table (each once) for its methods: from
    /// the cache when fresh, else all at once, each within the call
    /// timeout. Failures are logged and leave the cache as it was.
    async fn describe_backends(&self, ctx: &CallContext) -> HashMap<String, Described> {
        let mut backends: HashMap<&str, &Arc<dyn Backend>> = HashMap::new();
        for route in self.table.routes() {
            if let Target::Backend { backend, .. } = &route.target {
                backends.entry(backend.name()).or_insert(backend);
            }
        }
        let ttl = self.options.docs_cache;
        let limit = self.options.call_timeout.unwrap_or(defaults::CALL_TIMEOUT);
        let max = self.options.docs_max_methods;
        let asks = backends.into_iter().map(|(name, backend)| {
            if let Some(methods) = self.cache.fresh(name, ttl) {
                return async move { (name, Described::Listed(methods)) }.boxed();
            }
            let Some(ask) = backend.describe(max, ctx.clone()) else {
                return async move { (name, Described::Cannot) }.boxed();
            };
            async move {
                let described = match tokio::time::timeout(limit, ask).await {
                    Ok(Ok(methods)) => {
                        let methods = Arc::new(methods);
                        if !ttl.is_zero() {
                            self.cache.store(name, methods.clone());
                        }
                        Described::Listed(methods)
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(request_id = %ctx.request_id, backend = name, kind = err.kind(), error = %err, "backend could not list its methods for the methods page");
                        Described::Failed
                    }
                    Err(_) => {
                        tracing::warn!(request_id = %ctx.request_id, backend = name, "backend did not list its methods for the methods page in time");
                        Described::Failed
                    }
                };
                (name, described)
            }
            .boxed()
        });
        futures_util::future::join_all(asks)
            .await
            .into_iter()
            .map(|(name, described)| (name.to_owned(), described))
            .collect()
    }
}

/// The name a client calls to reach the backend's `name` through `route`
/// (prefixed back when the route strips its prefix), when the table really
/// sends that name to this route.
fn client_name(table: &RoutingTable, route: &Route, name: &str) -> Option<String> {
    if name.starts_with("system.") {
        return None;
    }
    let strip = matches!(
        &route.target,
        Target::Backend {
            rename: Rename::StripPrefix,
            ..
        }
    );
    let client = match (&route.pattern, strip) {
        (Pattern::Prefix(prefix), true) => format!("{prefix}{name}"),
        _ => name.to_owned(),
    };
    let routed_here =
        matches!(table.resolve(&client), Resolved::Route(r) if std::ptr::eq(r, route));
    (routed_here && !client.starts_with("system.")).then_some(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{BackendCall, BackendError, Introspected};
    use crate::xmlrpc::Value;
    use futures_util::future::BoxFuture;

    /// A backend that describes the methods it was made with (`Some(vec![])`
    /// with the name `broken`: fails), counting how often it is asked.
    struct Listing(
        &'static str,
        Option<Vec<&'static str>>,
        Arc<std::sync::atomic::AtomicUsize>,
    );

    impl Listing {
        fn new(name: &'static str, methods: Option<Vec<&'static str>>) -> Self {
            Listing(name, methods, Arc::default())
        }
    }

    impl Backend for Listing {
        fn name(&self) -> &str {
            self.0
        }
        fn call(
            &self,
            _: BackendCall,
            _: CallContext,
        ) -> BoxFuture<'static, Result<Value, BackendError>> {
            async { Ok(Value::Nil) }.boxed()
        }
        fn describe(&self, _max: usize, _: CallContext) -> Introspected<Vec<MethodInfo>> {
            let names = self.1.clone()?;
            self.2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.0 == "broken" {
                return Some(async { Err(BackendError::BadBody("no".into())) }.boxed());
            }
            let list = names
                .into_iter()
                .map(|n| MethodInfo {
                    name: n.to_owned(),
                    signatures: vec![vec!["int".into(), "int".into()]],
                    help: format!("{n} help"),
                })
                .collect();
            Some(async move { Ok(list) }.boxed())
        }
    }

    fn backend_route(pattern: &str, backend: Listing, rename: Rename) -> Route {
        let name = backend.0;
        Route {
            pattern: Pattern::parse(pattern),
            target: Target::Backend {
                backend: Arc::new(backend),
                rename,
                path: None,
                param_names: None,
                mapping: None,
            },
            label: format!("backend:{name}"),
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

    async fn catalog_of(
        table: &RoutingTable,
        may_call: &(dyn Fn(&str) -> Verdict + Sync),
    ) -> Catalog {
        let options = DispatchOptions::default();
        let cache = DocsCache::default();
        let view = CatalogView {
            table,
            options: &options,
            cache: &cache,
            may_call,
        };
        view.catalog(&CallContext::default()).await
    }

    #[tokio::test]
    async fn backends_list_under_client_names_and_the_caller_sees_only_its_own() {
        let mut table = RoutingTable::new();
        table
            .register_function("add", |a: i64, b: i64| a + b)
            .unwrap();
        table
            .add(backend_route(
                "inv.*",
                Listing::new("inventory", Some(vec!["get", "put", "system.listMethods"])),
                Rename::StripPrefix,
            ))
            .unwrap();
        table
            .add(backend_route(
                "legacy.*",
                Listing::new("legacy", None),
                Rename::Full,
            ))
            .unwrap();
        let everyone = |_: &str| Verdict::Yes;
        let all = catalog_of(&table, &everyone).await;
        let names: Vec<&str> = all.methods.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["add", "inv.get", "inv.put", "legacy.*"]);
        assert_eq!(
            all.methods[1].served_by,
            ServedBy::Backend("inventory".into())
        );
        assert_eq!(all.methods[1].help, "get help");
        assert_eq!(all.methods[0].served_by, ServedBy::Handler("add".into()));
        assert_eq!(all.methods[3].unlisted, Some(Unlisted::CannotList));

        let some = |name: &str| match name {
            "inv.put" => Verdict::No,
            "add" => Verdict::NeedsCredentials,
            _ => Verdict::Yes,
        };
        let mine = catalog_of(&table, &some).await;
        let names: Vec<&str> = mine.methods.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["inv.get", "legacy.*"]);
        assert_eq!(mine.need_credentials, 1);
    }

    #[tokio::test]
    async fn answers_are_cached_for_docs_cache_and_failures_are_not() {
        let good = Listing::new("good", Some(vec!["a"]));
        let broken = Listing::new("broken", Some(vec![]));
        let (good_asks, broken_asks) = (good.2.clone(), broken.2.clone());
        let mut table = RoutingTable::new();
        table
            .add(backend_route("good.*", good, Rename::StripPrefix))
            .unwrap();
        table
            .add(backend_route("bad.*", broken, Rename::Full))
            .unwrap();
        let everyone = |_: &str| Verdict::Yes;
        for (ttl, asked) in [
            (std::time::Duration::from_secs(60), 1),
            (std::time::Duration::ZERO, 2),
        ] {
            good_asks.store(0, std::sync::atomic::Ordering::SeqCst);
            broken_asks.store(0, std::sync::atomic::Ordering::SeqCst);
            let options = DispatchOptions {
                docs_cache: ttl,
                ..DispatchOptions::default()
            };
            let cache = DocsCache::default();
            let view = CatalogView {
                table: &table,
                options: &options,
                cache: &cache,
                may_call: &everyone,
            };
            for _ in 0..2 {
                let catalog = view.catalog(&CallContext::default()).await;
                let names: Vec<&str> = catalog.methods.iter().map(|m| m.name.as_str()).collect();
                assert_eq!(names, ["bad.*", "good.a"]);
                assert_eq!(catalog.methods[0].unlisted, Some(Unlisted::CouldNotList));
            }
            assert_eq!(
                good_asks.load(std::sync::atomic::Ordering::SeqCst),
                asked,
                "{ttl:?}"
            );
            assert_eq!(
                broken_asks.load(std::sync::atomic::Ordering::SeqCst),
                2,
                "failures are asked again"
            );
        }
    }
}
