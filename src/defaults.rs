//! Every default, in one place: the raw config layer (`config/raw.rs`) and
//! the runtime settings (`HttpOptions`, `DispatchOptions`, the codec's
//! `Limits`, a backend's spec) take their defaults from here, so a bound
//! cannot differ between the file-less binary and an embedded server.
//!
//! Where the binary and the library differ on purpose (Python's library
//! switches introspection, multicall and nil off until asked; the binary's
//! embedded `default.toml` switches them on), both values are here.
//!
//! A leaf: it imports nothing of the crate.

use std::time::Duration;

/// `server.listen`.
pub(crate) const LISTEN: &str = "127.0.0.1:8000";
/// `server.rpc_paths`: Python's `rpc_paths`.
pub(crate) const RPC_PATHS: [&str; 2] = ["/", "/RPC2"];
/// `server.encoding`.
pub(crate) const ENCODING: &str = "utf-8";
/// `server.encode_threshold`: Python's `encode_threshold`.
pub(crate) const ENCODE_THRESHOLD: usize = 1400;
/// `server.log_requests`: Python's `logRequests`.
pub(crate) const LOG_REQUESTS: bool = true;
/// `server.allow_none` in the library (Python's default); the binary's
/// embedded config sets it to `true`.
pub(crate) const ALLOW_NONE: bool = false;
/// `server.introspection` and `server.multicall` in config; the library
/// leaves both off until switched on, as Python's `register_*` calls do.
pub(crate) const SYSTEM_METHODS_IN_CONFIG: bool = true;

/// `server.docs`: the methods page is off (a GET keeps its 405).
pub(crate) const DOCS: bool = false;
/// `server.docs_cache`.
pub(crate) const DOCS_CACHE: Duration = Duration::from_secs(60);
/// `server.docs_max_methods`.
pub(crate) const DOCS_MAX_METHODS: usize = 2000;

/// `limits.max_body_bytes`.
pub(crate) const MAX_BODY_BYTES: usize = 8 << 20;
/// `limits.max_inflight_body_bytes`.
pub(crate) const MAX_INFLIGHT_BODY_BYTES: usize = 8 << 20;
/// `limits.max_decoded_bytes`.
pub(crate) const MAX_DECODED_BYTES: usize = 8 << 20;
/// `limits.max_depth`.
pub(crate) const MAX_DEPTH: usize = 64;
/// `limits.max_elements`.
pub(crate) const MAX_ELEMENTS: usize = 500_000;
/// `limits.max_string_bytes`.
pub(crate) const MAX_STRING_BYTES: usize = 8 << 20;
/// `limits.max_multicall_calls`.
pub(crate) const MAX_MULTICALL_CALLS: usize = 1000;
/// `limits.multicall_concurrency`.
pub(crate) const MULTICALL_CONCURRENCY: usize = 64;
/// `limits.max_connections`.
pub(crate) const MAX_CONNECTIONS: usize = 10_000;
/// `limits.header_read_timeout`.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// `limits.body_read_timeout`.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// `limits.call_timeout`.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// `limits.shutdown_delay`: none, in the binary and the library alike (a
/// deployment behind a load balancer sets its own; the compose file and
/// the Kubernetes base set 5s).
pub(crate) const SHUTDOWN_DELAY: Duration = Duration::ZERO;
/// `limits.drain_timeout`.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// `log.format`'s default is text; `log.level`'s is this filter.
pub(crate) const LOG_LEVEL: &str = "info";
/// `log.queue_bytes`: about 5,000 access lines waiting for stderr.
pub(crate) const LOG_QUEUE_BYTES: usize = 1 << 20;

/// `tracing.service_name`, when `OTEL_SERVICE_NAME` does not say.
pub(crate) const TRACE_SERVICE_NAME: &str = "xmlrpc-gateway";
/// `tracing.sampler`, when `OTEL_TRACES_SAMPLER` does not say: the
/// client's decision, else `tracing.sampler_ratio`.
pub(crate) const TRACE_SAMPLER: &str = "parentbased_traceidratio";
/// `tracing.sampler_ratio`, when `OTEL_TRACES_SAMPLER_ARG` does not say:
/// every trace (the OpenTelemetry default).
pub(crate) const TRACE_SAMPLER_RATIO: f64 = 1.0;
/// `tracing.queue_size`: spans waiting for export (the OpenTelemetry
/// default; a span is about 1 KiB).
pub(crate) const TRACE_QUEUE_SIZE: usize = 2048;
/// `tracing.max_export_batch` (the OpenTelemetry default).
pub(crate) const TRACE_MAX_EXPORT_BATCH: usize = 512;
/// `tracing.export_interval` (the OpenTelemetry default).
pub(crate) const TRACE_EXPORT_INTERVAL: Duration = Duration::from_secs(5);
/// `tracing.export_timeout`.
pub(crate) const TRACE_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// `admin.metrics_path`.
pub(crate) const METRICS_PATH: &str = "/metrics";
/// `admin.health_path`.
pub(crate) const HEALTH_PATH: &str = "/healthz";
/// `admin.ready_path`.
pub(crate) const READY_PATH: &str = "/readyz";

/// `cors.allow_headers`.
pub(crate) const CORS_ALLOW_HEADERS: [&str; 2] = ["content-type", "authorization"];
/// `cors.max_age`.
pub(crate) const CORS_MAX_AGE: Duration = Duration::from_secs(600);

/// `backends.NAME.timeout`.
pub(crate) const BACKEND_TIMEOUT: Duration = Duration::from_secs(30);
/// `backends.NAME.connect_timeout`.
pub(crate) const BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// `backends.NAME.max_concurrency`.
pub(crate) const BACKEND_MAX_CONCURRENCY: usize = 64;
/// `backends.NAME.retries`.
pub(crate) const BACKEND_RETRIES: u32 = 2;
/// `backends.NAME.circuit_breaker.failures`.
pub(crate) const BREAKER_FAILURES: u32 = 5;
/// `backends.NAME.circuit_breaker.open_for`.
pub(crate) const BREAKER_OPEN_FOR: Duration = Duration::from_secs(10);

/// `rate_limit.store_timeout`: how long a check waits for the store.
pub(crate) const RATE_LIMIT_STORE_TIMEOUT: Duration = Duration::from_millis(50);
/// `rate_limit.replicas`: how many ways a cluster limit splits while the
/// store is away.
pub(crate) const RATE_LIMIT_REPLICAS: u32 = 1;
/// `rate_limit.key_prefix`.
pub(crate) const RATE_LIMIT_KEY_PREFIX: &str = "xmlrpc-gateway:rl";
/// `routes[].shadow.percent`: every call, once a route names a shadow.
pub(crate) const SHADOW_PERCENT: f64 = 100.0;
/// `routes[].shadow.compare`.
pub(crate) const SHADOW_COMPARE: bool = true;
/// `routes[].shadow.float_tolerance`: doubles this close are equal.
pub(crate) const SHADOW_FLOAT_TOLERANCE: f64 = 1e-9;
/// `routes[].shadow.timeout`: a shadow call given up after this.
pub(crate) const SHADOW_TIMEOUT: Duration = Duration::from_secs(5);
/// `routes[].shadow.max_concurrent`: shadow calls of one route at once;
/// more are dropped (and counted).
pub(crate) const SHADOW_MAX_CONCURRENT: usize = 64;
