//! Dispatch's switches and bounds.

use std::sync::Arc;
use std::time::Duration;

use super::access::Access;
use super::limits::RateLimits;

use crate::call::AuthPolicy;
use crate::defaults;

/// Switches and bounds for dispatch (see the README's config table).
#[derive(Clone, Debug)]
pub struct DispatchOptions {
    /// Serve `system.listMethods`, `methodHelp`, `methodSignature`.
    pub introspection: bool,
    /// Serve `system.multicall`.
    pub multicall: bool,
    /// Calls allowed in one multicall.
    pub max_multicall_calls: usize,
    /// Calls of one multicall running at once.
    pub multicall_concurrency: usize,
    /// Whether nil may be sent back (checked per multicall entry here; the
    /// encoder checks single results).
    pub allow_none: bool,
    /// Per-call time bound, unless the route sets its own.
    pub call_timeout: Option<Duration>,
    /// Who may call routes without an `auth` of their own, the routing
    /// table's instance, unknown names and introspection (`auth.default`;
    /// `Public` whenever `auth.mode` is `none`).
    pub auth: AuthPolicy,
    /// Roles and who holds them, for routes that name roles.
    pub access: Option<Arc<Access>>,
    /// Rate limits (`[[rate_limits]]`).
    pub rate_limits: Option<Arc<RateLimits>>,
    /// How long the methods page reuses what a backend said of its
    /// methods (`server.docs_cache`; zero: ask on every view).
    pub docs_cache: Duration,
    /// Methods the methods page lists at most, and asks a backend to
    /// describe at most (`server.docs_max_methods`).
    pub docs_max_methods: usize,
}

impl Default for DispatchOptions {
    /// Python's library defaults: no introspection or multicall until
    /// registered, no nil.
    fn default() -> Self {
        DispatchOptions {
            introspection: false,
            multicall: false,
            max_multicall_calls: defaults::MAX_MULTICALL_CALLS,
            multicall_concurrency: defaults::MULTICALL_CONCURRENCY,
            allow_none: defaults::ALLOW_NONE,
            call_timeout: Some(defaults::CALL_TIMEOUT),
            auth: AuthPolicy::Public,
            access: None,
            rate_limits: None,
            docs_cache: defaults::DOCS_CACHE,
            docs_max_methods: defaults::DOCS_MAX_METHODS,
        }
    }
}
