//! The introspection methods (`system.listMethods`, `methodHelp`,
//! `methodSignature`): what they answer from the routing table, the
//! instance and the backends behind prefix routes.

use super::error::CallError;
use super::options::DispatchOptions;
use super::table::{Pattern, Rename, Resolved, Route, RoutingTable, Target};
use crate::call::CallContext;
use crate::xmlrpc::Value;

pub(super) const LIST_METHODS: &str = "system.listMethods";
pub(super) const METHOD_HELP: &str = "system.methodHelp";
pub(super) const METHOD_SIGNATURE: &str = "system.methodSignature";
pub(crate) const MULTICALL: &str = "system.multicall";

/// What `methodSignature` answers when nothing is known (as Python).
pub(super) const NO_SIGNATURE: &str = "signatures not supported";

pub(super) struct SystemMethod {
    pub(super) name: &'static str,
    pub(super) help: &'static str,
    signatures: &'static [&'static [&'static str]],
}

impl SystemMethod {
    /// Its signature rows, owned.
    pub(super) fn rows(&self) -> Vec<Vec<String>> {
        self.signatures
            .iter()
            .map(|row| row.iter().map(|t| (*t).to_owned()).collect())
            .collect()
    }
}

const INTROSPECTION: &[SystemMethod] = &[
    SystemMethod {
        name: LIST_METHODS,
        help: "system.listMethods() => ['add', 'subtract', 'multiple']\n\nReturns a list of the methods supported by the server.",
        signatures: &[&["array"]],
    },
    SystemMethod {
        name: METHOD_HELP,
        help: "system.methodHelp('add') => \"Adds two integers together\"\n\nReturns a string containing documentation for the specified method.",
        signatures: &[&["string", "string"]],
    },
    SystemMethod {
        name: METHOD_SIGNATURE,
        help: "system.methodSignature('add') => [['int', 'int', 'int']]\n\nReturns a list describing the signature of the method. In the above example, the add method takes two integers as arguments and returns an integer.",
        signatures: &[&["array", "string"]],
    },
];

const MULTICALL_METHOD: SystemMethod = SystemMethod {
    name: MULTICALL,
    help: "system.multicall([{'methodName': 'add', 'params': [2, 2]}, ...]) => [[4], ...]\n\nAllows the caller to package multiple XML-RPC calls into a single request. Each result is a one-element array holding the value, or a fault struct.",
    signatures: &[&["array", "array"]],
};

/// Every `system.*` name, enabled or not.
pub(super) fn all_names() -> impl Iterator<Item = &'static str> {
    INTROSPECTION
        .iter()
        .chain([&MULTICALL_METHOD])
        .map(|m| m.name)
}

/// The system methods `options` turn on.
pub(super) fn enabled(options: &DispatchOptions) -> impl Iterator<Item = &'static SystemMethod> {
    let intro = if options.introspection {
        INTROSPECTION
    } else {
        &[]
    };
    let multi = options.multicall.then_some(&MULTICALL_METHOD);
    intro.iter().chain(multi)
}

/// The names `system.listMethods` lists whatever the instance and the
/// backends say: exact routes and enabled system methods, sorted.
pub(super) fn always_listed(table: &RoutingTable, options: &DispatchOptions) -> Vec<String> {
    let mut names: Vec<String> = table.exact_names().map(str::to_owned).collect();
    names.extend(enabled(options).map(|m| m.name.to_owned()));
    names.sort();
    names.dedup();
    names
}

/// One call's view of what introspection answers from.
pub(super) struct Introspection<'a> {
    pub(super) table: &'a RoutingTable,
    pub(super) options: &'a DispatchOptions,
    /// Exact routes and enabled system methods, sorted once.
    pub(super) listed: &'a [String],
    /// Whether the caller may call a name (its roles); names it may not
    /// call are not listed.
    pub(super) permits: &'a (dyn Permits + Sync),
}

/// Whether a caller may call a name (the dispatcher knows, from roles).
pub(super) trait Permits {
    /// Whether any name is refused to anyone (when not, nothing is filtered).
    fn filters(&self) -> bool;

    /// `ctx`'s caller may call `name`.
    fn permits(&self, name: &str, ctx: &CallContext) -> bool;
}

impl Introspection<'_> {
    fn system_method(&self, name: &str) -> Option<&'static SystemMethod> {
        enabled(self.options).find(|m| m.name == name)
    }

    /// Runs an introspection method, or `None` when `name` is not one that
    /// is enabled.
    pub(super) async fn call(
        &self,
        name: &str,
        params: Vec<Value>,
        ctx: &CallContext,
    ) -> Option<Result<Value, CallError>> {
        let method = self.system_method(name)?;
        Some(match method.name {
            LIST_METHODS => match no_params(name, &params) {
                Ok(()) => Ok(self.list_methods(ctx).await),
                Err(err) => Err(err),
            },
            METHOD_HELP => match one_string(name, params) {
                Ok(m) => Ok(Value::String(self.method_help(&m, ctx).await)),
                Err(err) => Err(err),
            },
            METHOD_SIGNATURE => match one_string(name, params) {
                Ok(m) => Ok(self.method_signature(&m, ctx).await),
                Err(err) => Err(err),
            },
            _ => return None,
        })
    }

    /// Sorted names: exact routes, the instance's own list, system methods,
    /// and the methods of xmlrpc backends behind prefix and `*` routes that
    /// the route actually sends there.
    pub(super) async fn list_methods(&self, ctx: &CallContext) -> Value {
        // The instance and the backends are asked on every call (their
        // lists may change); the rest was sorted once.
        let mut names = self.listed.to_vec();
        if let Some(instance) = self.table.instance() {
            names.extend(instance.list_methods());
        }
        names.extend(self.backend_methods(ctx).await);
        if names.len() > self.listed.len() {
            names.sort();
            names.dedup();
        }
        if self.permits.filters() {
            names.retain(|name| self.permits.permits(name, ctx));
        }
        Value::Array(names.into_iter().map(Value::String).collect())
    }

    /// Asks every backend behind a prefix or `*` route for its methods (all
    /// at once); a backend that fails is logged and skipped.
    async fn backend_methods(&self, ctx: &CallContext) -> Vec<String> {
        let asks = self.table.routes().filter_map(|route| {
            let Target::Backend {
                backend, rename, ..
            } = &route.target
            else {
                return None;
            };
            if matches!(route.pattern, Pattern::Exact(_)) || matches!(rename, Rename::To(_)) {
                return None;
            }
            let future = backend.list_methods(ctx.clone())?;
            Some(async move { (route, backend.name().to_owned(), future.await) })
        });
        let answers = futures_util::future::join_all(asks).await;
        let mut names = Vec::new();
        for (route, backend, answer) in answers {
            let listed = match answer {
                Ok(listed) => listed,
                Err(err) => {
                    tracing::warn!(
                        request_id = %ctx.request_id,
                        backend = %backend,
                        kind = err.kind(),
                        error = %err,
                        "backend system.listMethods failed; its methods are not listed"
                    );
                    continue;
                }
            };
            names.extend(client_names(self.table, route, listed));
        }
        names
    }

    async fn method_help(&self, name: &str, ctx: &CallContext) -> String {
        if let Some(m) = self.system_method(name) {
            return m.help.to_owned();
        }
        match self.table.resolve(name) {
            Resolved::Route(route) => {
                if let Some(help) = &route.help {
                    return help.clone();
                }
                let Target::Backend { backend, .. } = &route.target else {
                    return String::new();
                };
                let Some(ask) = backend.method_help(&route.target_name(name), ctx.clone()) else {
                    return String::new();
                };
                ask.await.unwrap_or_else(|err| {
                    tracing::warn!(request_id = %ctx.request_id, backend = backend.name(), method = name, error = %err, "backend system.methodHelp failed");
                    String::new()
                })
            }
            Resolved::Instance(instance) => instance.method_help(name).unwrap_or_default(),
            Resolved::NotFound => String::new(),
        }
    }

    async fn method_signature(&self, name: &str, ctx: &CallContext) -> Value {
        let rows: Option<Vec<Vec<String>>> = if let Some(m) = self.system_method(name) {
            Some(m.rows())
        } else {
            match self.table.resolve(name) {
                Resolved::Route(route) => match (route.signatures(), &route.target) {
                    (Some(rows), _) => Some(rows),
                    (None, Target::Backend { backend, .. }) => {
                        if let Some(ask) =
                            backend.method_signature(&route.target_name(name), ctx.clone())
                        {
                            match ask.await {
                                Ok(value) => return value,
                                Err(err) => {
                                    tracing::warn!(request_id = %ctx.request_id, backend = backend.name(), method = name, error = %err, "backend system.methodSignature failed");
                                }
                            }
                        }
                        None
                    }
                    (None, Target::Handler(_)) => None,
                },
                _ => None,
            }
        };
        match rows {
            Some(rows) => Value::Array(
                rows.into_iter()
                    .map(|row| Value::Array(row.into_iter().map(Value::String).collect()))
                    .collect(),
            ),
            None => Value::String(NO_SIGNATURE.to_owned()),
        }
    }
}

/// The names a client would call to reach `listed` (a backend's own method
/// names) through `route`: prefixed back when the route strips its prefix,
/// and kept only when the table really sends that name to this route.
fn client_names(table: &RoutingTable, route: &Route, listed: Vec<String>) -> Vec<String> {
    let strip = matches!(
        &route.target,
        Target::Backend {
            rename: Rename::StripPrefix,
            ..
        }
    );
    listed
        .into_iter()
        .filter(|name| !name.starts_with("system."))
        .map(|name| match (&route.pattern, strip) {
            (Pattern::Prefix(prefix), true) => format!("{prefix}{name}"),
            _ => name,
        })
        .filter(|name| {
            !name.starts_with("system.")
                && matches!(table.resolve(name), Resolved::Route(r) if std::ptr::eq(r, route))
        })
        .collect()
}

fn no_params(name: &str, params: &[Value]) -> Result<(), CallError> {
    if params.is_empty() {
        Ok(())
    } else {
        Err(CallError::InvalidParams(format!(
            "{name}() takes 0 parameters ({} given)",
            params.len()
        )))
    }
}

fn one_string(name: &str, mut params: Vec<Value>) -> Result<String, CallError> {
    match (params.len(), params.pop()) {
        (1, Some(Value::String(s))) => Ok(s),
        (1, Some(other)) => Err(CallError::InvalidParams(format!(
            "{name}(): parameter 1 must be string, not {}",
            other.type_name()
        ))),
        (n, _) => Err(CallError::InvalidParams(format!(
            "{name}() takes 1 parameter ({n} given)"
        ))),
    }
}
