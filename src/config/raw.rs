//! The config as written: serde structs mirroring the file. Unknown keys are
//! errors, so a typo cannot silently drop a route.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::backend::{HttpMethod, Kind};
use crate::call::AuthPolicy;
use crate::defaults;
use crate::dispatch::Scope;
use crate::http::AuthMode;
use crate::telemetry::LogFormat;

/// The whole config file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[log]`.
    #[serde(default)]
    pub log: LogConfig,
    /// `[tracing]`: OpenTelemetry traces.
    #[serde(default)]
    pub tracing: TracingConfig,
    /// `[admin]`.
    #[serde(default)]
    pub admin: AdminConfig,
    /// `[auth]`.
    #[serde(default)]
    pub auth: AuthConfig,
    /// `[cors]`.
    #[serde(default)]
    pub cors: CorsConfig,
    /// `[backends.NAME]`, by name.
    #[serde(default)]
    pub backends: BTreeMap<String, BackendConfig>,
    /// `[[routes]]`, in order.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// `[roles.NAME]`: who may call what.
    #[serde(default)]
    pub roles: BTreeMap<String, RoleConfig>,
    /// `[[rate_limits]]`: how often.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitConfig>,
    /// `[rate_limit]`: where `cluster` limits keep their buckets.
    #[serde(default)]
    pub rate_limit: RateLimitStoreConfig,
}

/// `[rate_limit]`: the store every replica shares for `cluster` limits.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitStoreConfig {
    /// `redis://[:password@]host:port[/db]`; empty: no store (then no
    /// limit may be `cluster`).
    pub store: String,
    /// How long a check waits for the store before the replica's share
    /// decides.
    #[serde(with = "humantime_serde")]
    pub store_timeout: Duration,
    /// How many replicas share a cluster limit: each falls back to this
    /// fraction of it while the store is away.
    pub replicas: u32,
    /// Prefix of the store's keys (several gateways on one Redis).
    pub key_prefix: String,
}

impl Default for RateLimitStoreConfig {
    fn default() -> Self {
        RateLimitStoreConfig {
            store: String::new(),
            store_timeout: defaults::RATE_LIMIT_STORE_TIMEOUT,
            replicas: defaults::RATE_LIMIT_REPLICAS,
            key_prefix: defaults::RATE_LIMIT_KEY_PREFIX.to_owned(),
        }
    }
}

/// `[[rate_limits]]`: at most `rate` calls per `per` (bursts up to
/// `burst`), by method pattern, counted per key.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// The metric label.
    pub name: String,
    /// Method patterns (exact, `prefix*`, `*`) it applies to.
    pub methods: Vec<String>,
    /// `peer` (the client's address), `principal`, or a param: `"{1}"`,
    /// `"{0.login}"`.
    pub key: String,
    /// Calls earned back per `per`.
    pub rate: u32,
    /// The period of `rate`.
    #[serde(with = "humantime_serde")]
    pub per: Duration,
    /// Calls allowed in one burst (default `rate`).
    pub burst: Option<u32>,
    /// Count only answers with these fault codes (default: every call).
    #[serde(default)]
    pub count_faults: Vec<i32>,
    /// Count only backend answers with these HTTP statuses (not mapped to
    /// a fault by the backend's error table).
    #[serde(default)]
    pub count_statuses: Vec<u16>,
    /// `replica` (in memory, per replica) or `cluster` (in
    /// `rate_limit.store`, shared by every replica).
    #[serde(default)]
    pub scope: Scope,
}

/// `[roles.NAME]`: method patterns (exact, `prefix*`, `*`) a role may and
/// may not call; deny wins.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleConfig {
    /// Patterns the role may call.
    pub allow: Vec<String>,
    /// Patterns it may not call, whatever `allow` says.
    pub deny: Vec<String>,
}

/// `[server]`: what Python's `SimpleXMLRPCServer` takes, and the listener.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to serve on.
    pub listen: String,
    /// Paths that take XML-RPC POSTs; empty: every path.
    pub rpc_paths: Vec<String>,
    /// Whether nil may be sent back.
    pub allow_none: bool,
    /// Response charset.
    pub encoding: String,
    /// Bytes above which responses are gzipped, or `false` for never.
    pub encode_threshold: Threshold,
    /// One access log line per request.
    pub log_requests: bool,
    /// Serve the introspection methods.
    pub introspection: bool,
    /// Serve `system.multicall`.
    pub multicall: bool,
    /// Client header names passed on to backends (default none).
    pub forward_headers: Vec<String>,
    /// A browser's GET on an RPC path gets the methods page.
    pub docs: bool,
    /// How long the methods page reuses a backend's list of its methods.
    #[serde(with = "humantime_serde")]
    pub docs_cache: Duration,
    /// Methods the methods page lists at most.
    pub docs_max_methods: usize,
    /// `[server.tls]`: serve HTTPS instead of HTTP.
    pub tls: Option<TlsConfig>,
}

/// `[server.tls]`: PEM files, paths relative to the working directory;
/// re-read on reload (SIGHUP).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// `[auth]`: who may call. Secrets come from `${NAME}` (the environment
/// given to [`Config::load`]) or from files; `Debug`
/// never shows them.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `none`, `basic` or `bearer`.
    pub mode: AuthMode,
    /// Basic: user name to password (`"${ALICE_PASSWORD}"`).
    pub users: BTreeMap<String, String>,
    /// Basic: a file of `name:password` lines (`#` comments).
    pub users_file: Option<PathBuf>,
    /// Bearer: accepted tokens (`"${CI_TOKEN}"`).
    pub tokens: Vec<String>,
    /// Bearer: a file of tokens, one a line (`#` comments).
    pub tokens_file: Option<PathBuf>,
    /// What routes without an `auth` key of their own need: `required`
    /// (the default) or `none`.
    pub default: AuthPolicy,
    /// The roles each principal holds: a Basic user's name, or `token:N`
    /// for the Nth bearer token (from 0, `tokens` then `tokens_file`).
    pub roles: BTreeMap<String, Vec<String>>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::None,
            users: BTreeMap::new(),
            users_file: None,
            tokens: Vec::new(),
            tokens_file: None,
            default: AuthPolicy::Required,
            roles: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("mode", &self.mode)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("users_file", &self.users_file)
            .field("tokens", &self.tokens.len())
            .field("tokens_file", &self.tokens_file)
            .field("default", &self.default)
            .field("roles", &self.roles)
            .finish()
    }
}

/// `[cors]`: browser origins allowed to call; none by default (CORS off).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Exact origins (`https://app.example`), or `*` for any.
    pub allow_origins: Vec<String>,
    /// Request headers a preflight allows.
    pub allow_headers: Vec<String>,
    /// How long browsers may cache a preflight answer.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// Send `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            allow_origins: Vec::new(),
            allow_headers: defaults::CORS_ALLOW_HEADERS.map(str::to_owned).to_vec(),
            max_age: defaults::CORS_MAX_AGE,
            allow_credentials: false,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: defaults::LISTEN.to_owned(),
            rpc_paths: defaults::RPC_PATHS.map(str::to_owned).to_vec(),
            allow_none: defaults::ALLOW_NONE,
            encoding: defaults::ENCODING.to_owned(),
            encode_threshold: Threshold::Bytes(defaults::ENCODE_THRESHOLD as u64),
            log_requests: defaults::LOG_REQUESTS,
            introspection: defaults::SYSTEM_METHODS_IN_CONFIG,
            multicall: defaults::SYSTEM_METHODS_IN_CONFIG,
            forward_headers: Vec::new(),
            docs: defaults::DOCS,
            docs_cache: defaults::DOCS_CACHE,
            docs_max_methods: defaults::DOCS_MAX_METHODS,
            tls: None,
        }
    }
}

/// `encode_threshold = 1400` or `encode_threshold = false`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Threshold {
    /// A size in bytes.
    Bytes(u64),
    /// `false` (never); `true` is refused.
    Switch(bool),
}

/// `[limits]`: every size, count and time bound.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Request body as received.
    pub max_body_bytes: usize,
    /// Request bytes being read or answered at once.
    pub max_inflight_body_bytes: usize,
    /// Request body after gunzip.
    pub max_decoded_bytes: usize,
    /// Nested arrays and structs in one value.
    pub max_depth: usize,
    /// XML elements in one request.
    pub max_elements: usize,
    /// One string, base64 text or name.
    pub max_string_bytes: usize,
    /// Calls in one multicall.
    pub max_multicall_calls: usize,
    /// Calls of one multicall waiting at once.
    pub multicall_concurrency: usize,
    /// Connections served at once.
    pub max_connections: usize,
    /// From a connection's readiness to the end of a request head.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// To read a whole request body (0: no bound).
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// One call, unless its route sets its own (0: no bound).
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
    /// How long the listener keeps accepting after the shutdown signal,
    /// with `/readyz` answering 503, before it closes (0: it closes at once).
    #[serde(with = "humantime_serde")]
    pub shutdown_delay: Duration,
    /// How long shutdown waits for calls in flight.
    #[serde(with = "humantime_serde")]
    pub drain_timeout: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: defaults::MAX_BODY_BYTES,
            max_inflight_body_bytes: defaults::MAX_INFLIGHT_BODY_BYTES,
            max_decoded_bytes: defaults::MAX_DECODED_BYTES,
            max_depth: defaults::MAX_DEPTH,
            max_elements: defaults::MAX_ELEMENTS,
            max_string_bytes: defaults::MAX_STRING_BYTES,
            max_multicall_calls: defaults::MAX_MULTICALL_CALLS,
            multicall_concurrency: defaults::MULTICALL_CONCURRENCY,
            max_connections: defaults::MAX_CONNECTIONS,
            header_read_timeout: defaults::HEADER_READ_TIMEOUT,
            body_read_timeout: defaults::BODY_READ_TIMEOUT,
            call_timeout: defaults::CALL_TIMEOUT,
            shutdown_delay: defaults::SHUTDOWN_DELAY,
            drain_timeout: defaults::DRAIN_TIMEOUT,
        }
    }
}

/// `[log]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter: `info`, `debug`, `xmlrpc_gateway=debug,info`...
    pub level: String,
    /// Bytes of log lines waiting for stderr; access lines beyond are
    /// dropped (and counted).
    pub queue_bytes: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: defaults::LOG_LEVEL.to_owned(),
            queue_bytes: defaults::LOG_QUEUE_BYTES,
        }
    }
}

/// `[tracing]`: OpenTelemetry traces, exported over OTLP/HTTP (protobuf).
/// Off unless an endpoint is set, here or by `OTEL_EXPORTER_OTLP_*`. A key
/// left unset takes its standard `OTEL_*` variable, then the default.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingConfig {
    /// The OTLP/HTTP traces URL, whole (`http://collector:4318/v1/traces`).
    pub endpoint: Option<String>,
    /// The `service.name` spans carry.
    pub service_name: Option<String>,
    /// An `OTEL_TRACES_SAMPLER` name (`parentbased_traceidratio`...).
    pub sampler: Option<String>,
    /// The fraction of traces the ratio samplers keep, 0 to 1.
    pub sampler_ratio: Option<f64>,
    /// Spans waiting for export at most; more are dropped and counted.
    pub queue_size: usize,
    /// Spans per export request at most.
    pub max_export_batch: usize,
    /// How long a finished span waits at most before it is sent.
    #[serde(with = "humantime_serde")]
    pub export_interval: Duration,
    /// Bound on one export request.
    #[serde(with = "humantime_serde")]
    pub export_timeout: Duration,
    /// Headers sent to the collector (`${NAME}` taken from the environment).
    pub headers: BTreeMap<String, String>,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            endpoint: None,
            service_name: None,
            sampler: None,
            sampler_ratio: None,
            queue_size: defaults::TRACE_QUEUE_SIZE,
            max_export_batch: defaults::TRACE_MAX_EXPORT_BATCH,
            export_interval: defaults::TRACE_EXPORT_INTERVAL,
            export_timeout: defaults::TRACE_EXPORT_TIMEOUT,
            headers: BTreeMap::new(),
        }
    }
}

/// `[admin]`: the operator's endpoints (metrics, liveness, readiness).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// A listener of their own (e.g. `127.0.0.1:9100`); unset serves them
    /// on the main listener, where they take precedence over RPC paths.
    pub listen: Option<String>,
    /// Serve Prometheus metrics at `metrics_path`.
    pub metrics: bool,
    /// Where metrics are served.
    pub metrics_path: String,
    /// Liveness: always 200 while the process serves.
    pub health_path: String,
    /// Readiness: 200, or 503 once shutdown has begun.
    pub ready_path: String,
    /// Readiness also answers 503 while any backend's circuit is open.
    pub ready_requires_backends: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: None,
            metrics: true,
            metrics_path: defaults::METRICS_PATH.to_owned(),
            health_path: defaults::HEALTH_PATH.to_owned(),
            ready_path: defaults::READY_PATH.to_owned(),
            ready_requires_backends: false,
        }
    }
}

/// `[backends.NAME]`: a service behind the gateway. Every key but `kind`
/// and `url` has a safe default.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// `jsonrpc`, `json` or `xmlrpc`.
    pub kind: Kind,
    /// Where the service is: `http` or `https`, or for `xmlrpc` also
    /// `scgi://host:port/path`. With `socket`, only the path counts (and,
    /// for HTTP, the host as the `Host` header).
    pub url: String,
    /// An absolute path to a Unix socket the service listens on (HTTP or
    /// SCGI, as the URL says), used instead of the URL's host and port.
    #[serde(default)]
    pub socket: Option<PathBuf>,
    /// Bound on one call: waiting for a slot, connecting, sending and
    /// reading the answer (default 30s).
    #[serde(default = "default_backend_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Bound on opening a connection (default 5s). Each backend has its own
    /// HTTP client (and connection pool) so that this can differ.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Requests in flight to this backend; more wait (default 64).
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Extra headers sent with every request. A value written `${NAME}` is
    /// taken from the environment given to [`Config::load`].
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Client header names passed on to this backend (default none), on top
    /// of `server.forward_headers`.
    #[serde(default)]
    pub forward_headers: Vec<String>,
    /// Extra attempts for `idempotent` routes after a failure to connect
    /// (default 2).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The circuit breaker.
    #[serde(default)]
    pub circuit_breaker: CircuitBreakerConfig,
    /// json backends: the HTTP method (default POST).
    #[serde(default)]
    pub http_method: HttpMethod,
    /// json backends: error answers to faults.
    pub errors: Option<ErrorsConfig>,
}

/// `[backends.NAME.errors]`: how a json service's error answers become the
/// faults its legacy clients expect.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsConfig {
    /// JSON Pointer to the error's code in an error body (default `/code`).
    pub code: Option<String>,
    /// JSON Pointer to the error's message (default `/message`).
    pub message: Option<String>,
    /// First match wins.
    #[serde(default)]
    pub rules: Vec<ErrorRuleConfig>,
    /// After the rules, an integer code in the error body becomes the fault
    /// code, with the body's message. Unmatched: 4xx -32602, others -32303.
    #[serde(default)]
    pub pass_codes: bool,
}

/// `[[backends.NAME.errors.rules]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRuleConfig {
    /// Matches this HTTP status only.
    pub status: Option<u16>,
    /// Matches this error code only (a string or a number).
    pub code: Option<serde_json::Value>,
    /// The fault code (default: the body's code, when an integer).
    pub fault_code: Option<i32>,
    /// The fault string (default: the body's message).
    pub fault_string: Option<String>,
}

fn default_backend_timeout() -> Duration {
    defaults::BACKEND_TIMEOUT
}

fn default_connect_timeout() -> Duration {
    defaults::BACKEND_CONNECT_TIMEOUT
}

fn default_max_concurrency() -> usize {
    defaults::BACKEND_MAX_CONCURRENCY
}

fn default_retries() -> u32 {
    defaults::BACKEND_RETRIES
}

/// `[backends.NAME.circuit_breaker]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircuitBreakerConfig {
    /// Consecutive failures that open the circuit (default 5; 0 turns the
    /// breaker off).
    pub failures: u32,
    /// How long the circuit stays open before one probe call is let through
    /// (default 10s).
    #[serde(with = "humantime_serde")]
    pub open_for: Duration,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        CircuitBreakerConfig {
            failures: defaults::BREAKER_FAILURES,
            open_for: defaults::BREAKER_OPEN_FOR,
        }
    }
}

/// `[[routes]]`: a method pattern and where it goes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// An exact name, a prefix ending in `*`, or `*`.
    pub method: String,
    /// An in-process handler's name.
    pub handler: Option<String>,
    /// A backend's name.
    pub backend: Option<String>,
    /// json backends: appended to the backend URL.
    pub path: Option<String>,
    /// The backend sees this name instead of the client's.
    pub rename: Option<String>,
    /// The backend sees the name without the route's prefix.
    #[serde(default)]
    pub strip_prefix: bool,
    /// json backends: send params as an object with these names.
    pub params: Option<Vec<String>>,
    /// `system.methodHelp` text.
    pub help: Option<String>,
    /// `system.methodSignature` rows: `[["int", "int", "int"]]`.
    pub signature: Option<Vec<Vec<String>>>,
    /// Bound on one call of this route (default `limits.call_timeout`).
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Calls may be retried on transport failure.
    #[serde(default)]
    pub idempotent: bool,
    /// `required` or `none`: whether anonymous callers may call it
    /// (default `auth.default`).
    pub auth: Option<AuthPolicy>,
    /// Serve this route on this RPC path only (one of `server.rpc_paths`).
    pub rpc_path: Option<String>,
    /// Roles that may call it (one suffices, for the names it allows);
    /// the route then needs credentials.
    pub roles: Option<Vec<String>>,
    /// json backends: this route's HTTP method (default the backend's).
    pub http_method: Option<HttpMethod>,
    /// json backends: query parameters: `"{0}"` (every member of a struct
    /// param), or a table of names to `"{0.member}"` or constants (a `*`
    /// key spreads a struct too).
    pub query: Option<QueryConfig>,
    /// json backends: request headers from `"{0.member}"` or constants.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// json backends: `Authorization: Basic` from `["{1}", "{2}"]`.
    pub basic_auth: Option<Vec<String>>,
    /// json backends: the body: `false` (none), `"{0}"` (one param or
    /// member), or a table of names to `"{0.member}"` or constants.
    pub body: Option<BodyConfig>,
    /// json backends: what the client gets from the answer.
    pub result: Option<ResultConfig>,
    /// Several backends sharing the calls by weight (a canary), instead of
    /// `backend`: `[{ name = "legacy", weight = 80 }, ...]`.
    pub backends: Option<Vec<WeightedBackendConfig>>,
    /// What keeps a caller on one of `backends`: `principal`,
    /// `header:X-Name` or `param:{1}` (default, and for a call without
    /// the key: the request id).
    pub sticky: Option<String>,
    /// A copy of some calls sent to another backend, and compared.
    pub shadow: Option<ShadowConfig>,
}

/// One of a route's `backends`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightedBackendConfig {
    /// A backend's name in `[backends]`.
    pub name: String,
    /// Its share (0 drains it).
    pub weight: u32,
}

/// `[routes.shadow]`: shadow traffic.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowConfig {
    /// A backend's name in `[backends]`.
    pub backend: String,
    /// Percent of calls copied, 0-100 (default 100), sampled by request id.
    #[serde(default = "default_shadow_percent")]
    pub percent: f64,
    /// Compare the answers (default true).
    #[serde(default = "default_shadow_compare")]
    pub compare: bool,
    /// Paths not compared: `updated_at`, `items.*.id`.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Doubles this close are equal (default 1e-9).
    #[serde(default = "default_shadow_float_tolerance")]
    pub float_tolerance: f64,
    /// Bound on one shadow call (default 5s).
    #[serde(default = "default_shadow_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Shadow calls of this route at once; more are dropped (default 64).
    #[serde(default = "default_shadow_max_concurrent")]
    pub max_concurrent: usize,
    /// Shadow a route that is not `idempotent` (every copied call is
    /// made twice).
    #[serde(default)]
    pub allow_writes: bool,
}

fn default_shadow_percent() -> f64 {
    defaults::SHADOW_PERCENT
}

fn default_shadow_compare() -> bool {
    defaults::SHADOW_COMPARE
}

fn default_shadow_float_tolerance() -> f64 {
    defaults::SHADOW_FLOAT_TOLERANCE
}

fn default_shadow_timeout() -> Duration {
    defaults::SHADOW_TIMEOUT
}

fn default_shadow_max_concurrent() -> usize {
    defaults::SHADOW_MAX_CONCURRENT
}

/// A route's `query`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum QueryConfig {
    /// `"{0}"`: every member of a struct param.
    Spread(String),
    /// Names to `"{0.member}"` or constants.
    Table(BTreeMap<String, serde_json::Value>),
}

/// A route's `body`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum BodyConfig {
    /// `false`: no body; `true`: the params, as without a mapping.
    Switch(bool),
    /// `"{0}"`: one param or member.
    Whole(String),
    /// Names to `"{0.member}"` or constants.
    Table(BTreeMap<String, serde_json::Value>),
}

/// `[routes.result]`: the answer, shaped for the legacy client. Steps run
/// in the order of the fields.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultConfig {
    /// JSON Pointer to the value in the answer (`/bugs/0`).
    pub pointer: Option<String>,
    /// A struct of these members, each a JSON Pointer into the value (into
    /// each item of an array).
    #[serde(default)]
    pub members: BTreeMap<String, String>,
    /// Member renames, old = new.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Members set when missing or null.
    #[serde(default)]
    pub defaults: BTreeMap<String, serde_json::Value>,
    /// Members coerced to an XML-RPC type at any depth
    /// (`creation_time = "dateTime.iso8601"`).
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// The whole value coerced to an XML-RPC type.
    #[serde(rename = "type")]
    pub value_type: Option<String>,
    /// Answer this constant once the call succeeded.
    pub value: Option<serde_json::Value>,
    /// Wrap the value in a one-item array.
    #[serde(default)]
    pub array: bool,
}
