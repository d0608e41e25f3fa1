//! The dispatcher: answers one call (a multicall's entries included)
//! through the routing table, the introspection methods or
//! `system.multicall`, under the call's auth policy and timeout, and counts
//! it. No HTTP types here.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use tracing::Instrument;
use tracing::field::Empty;

use super::catalog::{Catalog, CatalogView, DocsCache, Verdict};
use super::compare::Answered;
use super::error::CallError;
use super::fault;
use super::handler::CallResult;
use super::introspection::{self, Introspection, Permits};
use super::limits::LimitOutcome;
use super::multicall::{self, Entries};
use super::options::DispatchOptions;
use super::shadow::{self, ShadowResult};
use super::split;
use super::table::{Pattern, Resolved, Route, RoutingTable, Target};
use crate::backend::{BackendCall, BackendError};
use crate::call::{AuthFailure, AuthPolicy, CallContext, Origin, TRACE_TARGET};
use crate::metrics::{CallSeries, Metrics, UNKNOWN_METHOD};
use crate::xmlrpc::{Fault, Value};

/// The routing table plus the `system.*` methods: answers one call.
pub struct Dispatcher {
    table: RoutingTable,
    options: DispatchOptions,
    /// Where calls are counted; `None` counts nothing.
    metrics: Option<Metrics>,
    /// The names the instance (if any) lists: valid `method` label values.
    instance_names: HashSet<String, foldhash::fast::RandomState>,
    /// Whether any method needs credentials; when none does (auth off, the
    /// usual case) calls skip the policy lookup.
    guarded: bool,
    /// Whether any route names roles; when none does, calls skip the check.
    roles_in_use: bool,
    /// The success series of every name that is its own `method` label
    /// (exact routes, the instance's names, `system.*`), resolved when
    /// metrics are attached: a multicall of fifty calls records fifty.
    ok_series: HashMap<String, CallSeries, foldhash::fast::RandomState>,
    /// The success series of the prefix routes (keyed by the prefix) and
    /// of the `*` route, whose `method` label is their pattern: resolved
    /// with the others, so that a routed call is counted without building
    /// its label and looking it up.
    prefix_ok_series: HashMap<String, CallSeries, foldhash::fast::RandomState>,
    any_ok_series: Option<CallSeries>,
    /// What `system.listMethods` lists on every call, sorted: the exact
    /// routes' names and the enabled `system.*` methods, made once.
    listed: Vec<String>,
    /// Dispatchers of their own for RPC paths with routes of their own.
    per_path: HashMap<String, Dispatcher, foldhash::fast::RandomState>,
    /// What backends said of their methods, for the methods page.
    docs_cache: DocsCache,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("table", &self.table)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher over `table` that counts nothing until given metrics.
    pub fn new(mut table: RoutingTable, options: DispatchOptions) -> Self {
        let per_path = table
            .take_per_path()
            .into_iter()
            .map(|(path, table)| (path, Dispatcher::new(table, options.clone())))
            .collect();
        let guarded = options.auth == AuthPolicy::Required
            || table.routes().any(|r| r.auth == Some(AuthPolicy::Required));
        let roles_in_use = table.routes().any(|r| !r.roles.is_empty());
        let instance_names = table
            .instance()
            .map(|i| i.list_methods().into_iter().collect())
            .unwrap_or_default();
        let listed = introspection::always_listed(&table, &options);
        Dispatcher {
            table,
            options,
            metrics: None,
            instance_names,
            guarded,
            roles_in_use,
            ok_series: HashMap::default(),
            prefix_ok_series: HashMap::default(),
            any_ok_series: None,
            listed,
            per_path,
            docs_cache: DocsCache::default(),
        }
    }

    /// Counts calls (and backend requests) in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        let exact = self.table.routes().filter_map(|r| match &r.pattern {
            Pattern::Exact(name) => Some(name.clone()),
            _ => None,
        });
        let system = introspection::all_names().map(str::to_owned);
        let ok_series = exact
            .chain(self.instance_names.iter().cloned())
            .chain(system)
            .filter_map(|name| {
                // Only names the label function itself maps to themselves,
                // on routes whose calls all go to one place.
                let (label, route) = self.method_label(&name);
                let backend = self.fixed_backend(&name)?;
                let series =
                    (label == name).then(|| metrics.ok_call_series(&label, route, backend))?;
                Some((name, series))
            })
            .collect();
        self.ok_series = ok_series;
        let results = ShadowResult::ALL.map(ShadowResult::as_str);
        for route in self.table.routes() {
            if let Some(shadow) = &route.shadow {
                metrics.shadow_route(&shadow.route, &results);
            }
            // A split route's calls go to one backend or another: its
            // series are looked up per call.
            let backend = match (&route.target, &route.split) {
                (_, Some(_)) => continue,
                (Target::Backend { backend, .. }, None) => backend.name(),
                (Target::Handler(_), None) => NO_BACKEND,
            };
            let series =
                || metrics.ok_call_series(&route.pattern.to_string(), &route.label, backend);
            match &route.pattern {
                Pattern::Exact(_) => {}
                Pattern::Prefix(prefix) => {
                    self.prefix_ok_series.insert(prefix.clone(), series());
                }
                Pattern::Any => self.any_ok_series = Some(series()),
            }
        }
        self.per_path = std::mem::take(&mut self.per_path)
            .into_iter()
            .map(|(path, d)| (path, d.with_metrics(metrics.clone())))
            .collect();
        self.metrics = Some(metrics);
        self
    }

    /// The dispatcher requests to `rpc_path` use: the path's own, when its
    /// routes differ, else this one.
    pub fn for_path(&self, rpc_path: Option<&str>) -> &Dispatcher {
        if self.per_path.is_empty() {
            // The usual case: no route names a path; no lookup per request.
            return self;
        }
        rpc_path.and_then(|p| self.per_path.get(p)).unwrap_or(self)
    }

    /// The `method` and `route` metric labels for a called name, from a
    /// closed set: exact route names, the instance's listed names and the
    /// `system.*` names as themselves; a prefix or `*` route's pattern
    /// (`inventory.*`); anything else `unknown`. So a client cannot add
    /// series by inventing names.
    pub fn method_label<'a>(&'a self, name: &'a str) -> (Cow<'a, str>, &'a str) {
        const SYSTEM: [&str; 4] = [
            introspection::LIST_METHODS,
            introspection::METHOD_HELP,
            introspection::METHOD_SIGNATURE,
            introspection::MULTICALL,
        ];
        if name.starts_with("system.") {
            return match SYSTEM.contains(&name) {
                true => (Cow::Borrowed(name), "system"),
                false => (Cow::Borrowed(UNKNOWN_METHOD), "none"),
            };
        }
        match self.table.resolve(name) {
            Resolved::Route(route) => match &route.pattern {
                Pattern::Exact(_) => (Cow::Borrowed(name), route.label.as_str()),
                pattern => (Cow::Owned(pattern.to_string()), route.label.as_str()),
            },
            Resolved::Instance(_) if self.instance_names.contains(name) => {
                (Cow::Borrowed(name), "instance")
            }
            Resolved::Instance(_) => (Cow::Borrowed(UNKNOWN_METHOD), "instance"),
            Resolved::NotFound => (Cow::Borrowed(UNKNOWN_METHOD), "none"),
        }
    }

    /// The `backend` label every call of `name` has, or `None` when it
    /// depends on the call (a split route).
    fn fixed_backend(&self, name: &str) -> Option<&str> {
        if name.starts_with("system.") {
            return Some(NO_BACKEND);
        }
        match self.table.resolve(name) {
            Resolved::Route(route) => match (&route.target, &route.split) {
                (_, Some(_)) => None,
                (Target::Backend { backend, .. }, None) => Some(backend.name()),
                (Target::Handler(_), None) => Some(NO_BACKEND),
            },
            _ => Some(NO_BACKEND),
        }
    }

    fn record_call(
        &self,
        name: &str,
        result: &Result<Value, CallError>,
        started: Instant,
        backend: Option<&str>,
    ) {
        if result.is_ok()
            && let Some(series) = self.ok_series(name)
        {
            series.record(started.elapsed());
            return;
        }
        if let Some(metrics) = &self.metrics {
            let (method, route) = self.method_label(name);
            let origin = result.as_ref().err().map(CallError::origin);
            let backend = backend.unwrap_or(NO_BACKEND);
            metrics.call(&method, route, backend, origin, started.elapsed());
        }
    }

    /// The success series of a called name, when resolved in advance:
    /// its own (exact routes, the instance's names, `system.*`), else its
    /// prefix or `*` route's, as [`Dispatcher::method_label`] labels it.
    fn ok_series(&self, name: &str) -> Option<&CallSeries> {
        if let Some(series) = self.ok_series.get(name) {
            return Some(series);
        }
        if name.starts_with("system.") {
            return None;
        }
        match self.table.resolve(name) {
            Resolved::Route(Route {
                pattern: Pattern::Prefix(prefix),
                ..
            }) => self.prefix_ok_series.get(prefix),
            Resolved::Route(Route {
                pattern: Pattern::Any,
                ..
            }) => self.any_ok_series.as_ref(),
            _ => None,
        }
    }

    /// The routing table.
    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// The switches and bounds.
    pub fn options(&self) -> &DispatchOptions {
        &self.options
    }

    /// Answers one top-level call, `system.multicall` included.
    pub async fn call(
        &self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
    ) -> Result<Value, CallError> {
        self.answer(name, params, ctx).await.result
    }

    /// Answers one top-level call and says what it was: for a multicall,
    /// its size and its entries' method names (what the access log shows).
    pub async fn answer(&self, name: &str, params: Vec<Value>, ctx: &CallContext) -> Answer {
        if name != introspection::MULTICALL || !self.options.multicall {
            let (result, backend) = self.call_one(name, params, ctx, 0).await;
            return Answer {
                result,
                multicall: None,
                backend: backend.map(str::to_owned),
            };
        }
        let size = params
            .first()
            .and_then(Value::as_array)
            .map_or(0, <[Value]>::len);
        if let Some(metrics) = &self.metrics {
            metrics.multicall(size);
        }
        let started = Instant::now();
        let mut names = Vec::new();
        let mut backends = Vec::new();
        let span = self.call_span(name);
        let result = multicall::run(self, &self.options, params, ctx, &mut names, &mut backends)
            .instrument(span.clone())
            .await;
        end_call_span(&span, &result);
        self.record_call(name, &result, started, None);
        if backends.iter().all(|b| b == multicall::NO_ENTRY_BACKEND) {
            backends.clear();
        }
        Answer {
            result,
            multicall: Some(MulticallSummary {
                size,
                names,
                backends,
            }),
            backend: None,
        }
    }

    /// Answers a call that is not a multicall (multicall entries come here,
    /// `entry` their place in it; 0 for a single call), and counts it. Also
    /// says which backend it went to, if one.
    async fn call_one<'s>(
        &'s self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
        entry: usize,
    ) -> (Result<Value, CallError>, Option<&'s str>) {
        let started = Instant::now();
        let span = self.call_span(name);
        let mut served = None;
        let result = self
            .call_one_uncounted(name, params, ctx, entry, &mut served)
            .instrument(span.clone())
            .await;
        end_call_span(&span, &result);
        self.record_call(name, &result, started, served);
        (result, served)
    }

    /// The exported span of one call or multicall entry, named by its
    /// `method` label (a closed set, as in metrics); disabled, at the cost
    /// of a callsite check, when traces are off. No param values.
    fn call_span(&self, name: &str) -> tracing::Span {
        let span = tracing::info_span!(
            target: TRACE_TARGET,
            "call",
            otel.name = Empty,
            otel.status_code = Empty,
            rpc.system = "xmlrpc",
            rpc.method = Empty,
            xmlrpc_gateway.route = Empty,
            rpc.xmlrpc.fault_code = Empty,
            error.type = Empty,
        );
        if !span.is_disabled() {
            // Only for a recording span: the label costs a table lookup.
            let (method, route) = self.method_label(name);
            span.record("otel.name", &*method);
            span.record("rpc.method", &*method);
            span.record("xmlrpc_gateway.route", route);
        }
        span
    }

    async fn call_one_uncounted<'s>(
        &'s self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
        entry: usize,
        served: &mut Option<&'s str>,
    ) -> Result<Value, CallError> {
        let Some(limits) = self
            .options
            .rate_limits
            .as_deref()
            .filter(|l| !l.is_empty())
        else {
            return self.call_admitted(name, params, ctx, entry, served).await;
        };
        let record = |limit: &str, outcome: LimitOutcome| {
            if let Some(metrics) = &self.metrics {
                match outcome {
                    LimitOutcome::StoreError => metrics.rate_limit_store_error(limit),
                    _ => metrics.rate_limit(limit, outcome.as_str()),
                }
            }
        };
        let taken = limits.admit(name, &params, ctx, &record).await?;
        let result = self.call_admitted(name, params, ctx, entry, served).await;
        let code = |err: &CallError| fault::call_fault(name, err).code;
        limits.settle(taken, &result, &code, &record);
        result
    }

    /// A call past the rate limits; `served` is set to the backend it goes
    /// to, if one.
    async fn call_admitted<'s>(
        &'s self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
        entry: usize,
        served: &mut Option<&'s str>,
    ) -> Result<Value, CallError> {
        if self.guarded && ctx.principal.is_none() && self.policy(name) == AuthPolicy::Required {
            if let Some(metrics) = &self.metrics {
                metrics.auth_failure(AuthFailure::Missing);
            }
            return Err(CallError::Unauthenticated(name.to_owned()));
        }
        if self.roles_in_use {
            self.check_roles(name, ctx)?;
        }
        // system.* names are reserved: never routed, even when disabled.
        if name.starts_with("system.") {
            return self
                .introspection()
                .call(name, params, ctx)
                .await
                .unwrap_or_else(|| Err(CallError::NotFound(name.to_owned())));
        }
        // A panicking handler costs its caller a fault, never the connection:
        // guard both the synchronous start (plain functions run there) and
        // the future.
        let started =
            std::panic::catch_unwind(AssertUnwindSafe(|| match self.table.resolve(name) {
                Resolved::Route(route) => {
                    let limit = route.timeout.or(self.options.call_timeout);
                    Some(self.start_route(route, name, params, ctx, limit, entry, served))
                }
                Resolved::Instance(instance) => instance
                    .dispatch(name, params, ctx.clone())
                    .map(|f| (f, Deadline::After(self.options.call_timeout))),
                Resolved::NotFound => None,
            }));
        let (future, deadline) = match started {
            Ok(Some(started)) => started,
            Ok(None) => return Err(CallError::NotFound(name.to_owned())),
            Err(_) => return Err(CallError::Internal("handler panicked".to_owned())),
        };
        let mut guarded = AssertUnwindSafe(future)
            .catch_unwind()
            .map(|r| r.unwrap_or_else(|_| Err(CallError::Internal("handler panicked".to_owned()))));
        // Plain functions answer on the first poll: no timer for them.
        if let std::task::Poll::Ready(result) = futures_util::poll!(&mut guarded) {
            return result;
        }
        let deadline = match deadline {
            Deadline::At(at) => at,
            Deadline::After(limit) => limit.map(|limit| tokio::time::Instant::now() + limit),
        };
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, guarded)
                .await
                .unwrap_or_else(|_| Err(CallError::Timeout(name.to_owned()))),
            None => guarded.await,
        }
    }

    /// Refuses a call whose route names roles the caller does not hold (or
    /// whose roles do not allow the name), and counts the decision.
    fn check_roles(&self, name: &str, ctx: &CallContext) -> Result<(), CallError> {
        if name.starts_with("system.") {
            return Ok(());
        }
        let Resolved::Route(route) = self.table.resolve(name) else {
            return Ok(());
        };
        if route.roles.is_empty() {
            return Ok(());
        }
        let decision = match &self.options.access {
            Some(access) => access.decide(ctx.principal.as_deref(), &route.roles, name),
            None => Err(Vec::new()),
        };
        match decision {
            Ok(role) => {
                if let Some(metrics) = &self.metrics {
                    metrics.access_decision(role, true);
                }
                Ok(())
            }
            Err(held) => {
                if let Some(metrics) = &self.metrics {
                    if held.is_empty() {
                        metrics.access_decision("none", false);
                    }
                    for role in held {
                        metrics.access_decision(role, false);
                    }
                }
                Err(CallError::Forbidden(name.to_owned()))
            }
        }
    }
}

impl Permits for Dispatcher {
    fn filters(&self) -> bool {
        self.roles_in_use
    }

    /// Whether `ctx`'s caller may call `name` (for `system.listMethods`).
    fn permits(&self, name: &str, ctx: &CallContext) -> bool {
        if !self.roles_in_use || name.starts_with("system.") {
            return true;
        }
        match self.table.resolve(name) {
            Resolved::Route(route) if !route.roles.is_empty() => {
                self.options.access.as_ref().is_some_and(|a| {
                    a.decide(ctx.principal.as_deref(), &route.roles, name)
                        .is_ok()
                })
            }
            _ => true,
        }
    }
}

impl Dispatcher {
    /// Whether `name` may be called anonymously: its route's `auth`, else
    /// the default. (`system.multicall` itself never gets here: each of its
    /// entries is checked on its own.)
    pub fn policy(&self, name: &str) -> AuthPolicy {
        match self.table.resolve(name) {
            Resolved::Route(route) if !name.starts_with("system.") => {
                route.auth.unwrap_or(self.options.auth)
            }
            _ => self.options.auth,
        }
    }

    /// Starts a routed call that the caller bounds by `limit`, and says
    /// when it will be given up; `served` is set to the backend it goes
    /// to (a split route's pick). A shadowed route's sampled call starts
    /// its shadow here too, beside it.
    #[allow(clippy::too_many_arguments)]
    fn start_route<'s>(
        &'s self,
        route: &'s Route,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
        limit: Option<std::time::Duration>,
        entry: usize,
        served: &mut Option<&'s str>,
    ) -> (
        futures_util::future::BoxFuture<'static, CallResult>,
        Deadline,
    ) {
        match &route.target {
            Target::Handler(handler) => (handler.call(params, ctx.clone()), Deadline::After(limit)),
            Target::Backend {
                backend,
                path,
                param_names,
                mapping,
                ..
            } => {
                let backend = match &route.split {
                    Some(split) => split.pick(&params, ctx),
                    None => backend,
                };
                *served = Some(backend.name());
                // Fixed now and handed down, so that the backend's breaker
                // can tell a call cancelled by this deadline (a failure)
                // from one whose client went away.
                let deadline = limit.map(|limit| tokio::time::Instant::now() + limit);
                let call = BackendCall {
                    method: route.target_name(name).into_owned(),
                    params,
                    path: path.clone(),
                    param_names: param_names.clone(),
                    idempotent: route.idempotent,
                    mapping: mapping.clone(),
                    deadline,
                };
                let shadow_tx = route
                    .shadow
                    .as_ref()
                    .filter(|s| split::sampled(s.percent, &ctx.request_id, entry))
                    .and_then(|shadow| {
                        shadow::Start {
                            shadow,
                            method: name,
                            metrics: self.metrics.as_ref(),
                        }
                        .spawn(call.clone(), ctx)
                    });
                let method = name.to_owned();
                let mut timer = self
                    .metrics
                    .clone()
                    .map(|m| BackendTimer::start(m, backend.name()));
                let future = backend
                    .call(call, ctx.clone())
                    .map(move |r| {
                        if let Some(timer) = timer.take() {
                            timer.finish(r.as_ref().err());
                        }
                        let r = r.map_err(|source| CallError::Backend { method, source });
                        if let Some(tx) = shadow_tx {
                            let answered = match &r {
                                Ok(value) => Answered::Value(value.clone()),
                                Err(err) => {
                                    Answered::Fault(fault::call_fault(name_of(err), err).code)
                                }
                            };
                            // The shadow may have given up already.
                            let _ = tx.send(answered);
                        }
                        r
                    })
                    .boxed();
                (future, Deadline::At(deadline))
            }
        }
    }

    /// The fault a client sees for `err`; internal details are logged here.
    pub fn fault_for(&self, method: &str, err: &CallError, ctx: &CallContext) -> Fault {
        match err.origin() {
            Origin::Gateway | Origin::Backend => {
                tracing::warn!(request_id = %ctx.request_id, trace_id = ctx.trace_id.as_deref().map(tracing::field::display), method, error = %err, "call failed");
            }
            Origin::Client | Origin::Handler => {
                tracing::debug!(request_id = %ctx.request_id, method, error = %err, "call faulted");
            }
        }
        fault::call_fault(method, err)
    }
}

impl Dispatcher {
    fn introspection(&self) -> Introspection<'_> {
        Introspection {
            table: &self.table,
            options: &self.options,
            listed: &self.listed,
            permits: self,
        }
    }

    /// The names of the backends behind this table whose circuit is open
    /// now, sorted, each once.
    pub fn open_circuits(&self) -> Vec<String> {
        let mut names: Vec<String> = std::iter::once(&self.table)
            .chain(self.per_path.values().map(|d| &d.table))
            .flat_map(RoutingTable::routes)
            .flat_map(|route| {
                let split = route.split.iter().flat_map(|s| &s.backends);
                let target = match &route.target {
                    Target::Backend { backend, .. } => Some(backend),
                    Target::Handler(_) => None,
                };
                target
                    .into_iter()
                    .chain(split.map(|w| &w.backend))
                    .filter(|backend| backend.circuit_open())
                    .map(|backend| backend.name().to_owned())
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// What the methods page shows `ctx`'s caller: every method it may
    /// call (its credentials and roles decide, as for a call), with
    /// signatures, help and who serves it; backends that can describe
    /// their methods are asked (cached for `docs_cache`).
    pub async fn catalog(&self, ctx: &CallContext) -> Catalog {
        let may_call = |name: &str| {
            if self.guarded && ctx.principal.is_none() && self.policy(name) == AuthPolicy::Required
            {
                Verdict::NeedsCredentials
            } else if self.permits(name, ctx) {
                Verdict::Yes
            } else {
                Verdict::No
            }
        };
        let view = CatalogView {
            table: &self.table,
            options: &self.options,
            cache: &self.docs_cache,
            may_call: &may_call,
        };
        view.catalog(ctx).await
    }

    /// What `system.listMethods` answers `ctx`'s caller: exact routes, the
    /// instance's names, system methods, and the methods of XML-RPC
    /// backends behind prefix and `*` routes; of those, only the ones the
    /// caller's roles allow.
    pub async fn list_methods(&self, ctx: &CallContext) -> Value {
        self.introspection().list_methods(ctx).await
    }
}

impl Entries for Dispatcher {
    fn call_one<'s>(
        &'s self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
        entry: usize,
    ) -> impl Future<Output = (Result<Value, CallError>, Option<&'s str>)> {
        Dispatcher::call_one(self, name, params, ctx, entry)
    }

    fn fault_for(&self, name: &str, err: &CallError, ctx: &CallContext) -> Fault {
        Dispatcher::fault_for(self, name, err, ctx)
    }
}

/// What one top-level call produced.
#[derive(Debug)]
pub struct Answer {
    /// The value, or why there is none.
    pub result: Result<Value, CallError>,
    /// Set when the call was a `system.multicall`.
    pub multicall: Option<MulticallSummary>,
    /// The backend a single call went to (a configured name), if one.
    pub backend: Option<String>,
}

/// A multicall as the access log shows it.
#[derive(Debug)]
pub struct MulticallSummary {
    /// Entries in it.
    pub size: usize,
    /// The first 20 entries' method names, in order (`-` for
    /// an entry that is not a well-formed call).
    pub names: Vec<String>,
    /// The backends the first 20 entries went to, in order (`-` for an
    /// entry that went to none); empty when none went to a backend.
    pub backends: Vec<String>,
}

/// The `backend` label of a call that went to no backend.
const NO_BACKEND: &str = "none";

/// The method named in a backend error (the name the client called).
fn name_of(err: &CallError) -> &str {
    match err {
        CallError::Backend { method, .. } => method,
        _ => "",
    }
}

/// When a started call is given up.
enum Deadline {
    /// At this instant (fixed when the call started; `None`: never).
    At(Option<tokio::time::Instant>),
    /// This long after its first poll, if it did not answer then (`None`:
    /// never). Plain functions answer on the first poll and never read the
    /// clock.
    After(Option<std::time::Duration>),
}

/// Times one backend request for metrics. Dropped unfinished (the call's
/// deadline passed, or the client went away), it counts as `cancelled`. A
/// call the backend refused before sending anything (circuit open...)
/// counts only as an error of its kind, not as a request.
struct BackendTimer {
    metrics: Metrics,
    backend: String,
    started: Instant,
    finished: bool,
}

impl BackendTimer {
    fn start(metrics: Metrics, backend: &str) -> Self {
        BackendTimer {
            metrics,
            backend: backend.to_owned(),
            started: Instant::now(),
            finished: false,
        }
    }

    fn finish(mut self, error: Option<&BackendError>) {
        self.finished = true;
        match error {
            Some(err) if !err.was_attempted() => {
                self.metrics.backend_refused(&self.backend, err.kind());
            }
            _ => self.metrics.backend_call(
                &self.backend,
                error.map(BackendError::kind),
                self.started.elapsed(),
            ),
        }
    }
}

impl Drop for BackendTimer {
    fn drop(&mut self) {
        if !self.finished {
            self.metrics
                .backend_call(&self.backend, Some("cancelled"), self.started.elapsed());
        }
    }
}

/// Ends a call's span: a failed call is an error, with its fault code and
/// who caused it (`error.type`: client, handler, backend, gateway).
fn end_call_span(span: &tracing::Span, result: &Result<Value, CallError>) {
    if span.is_disabled() {
        return;
    }
    if let Err(err) = result {
        span.record("otel.status_code", "error");
        span.record("error.type", err.origin().as_str());
        span.record("rpc.xmlrpc.fault_code", fault::call_fault("", err).code);
    }
}
