//! From the raw config to each layer's runtime settings: the scalars of
//! `[server]`, `[limits]` and `[log]` checked here, `[tracing]` in
//! `traces.rs`; `[admin]`, `[auth]`
//! and `[cors]` each in a file of their own.

use std::net::SocketAddr;
use std::sync::Arc;

use super::error::ConfigError;
use super::raw::{Config, Threshold};
use crate::dispatch::{DispatchOptions, Sticky};
use crate::http::{HttpOptions, Tls};
use crate::metrics::Metrics;
use crate::server::ServerOptions;
use crate::telemetry::{AccessLog, LogFormat, TraceSettings};
use crate::xmlrpc::{Charset, EncodeOptions, Limits};

/// The validated settings of every layer.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The HTTP edge's settings.
    pub http: HttpOptions,
    /// Dispatch's switches and bounds.
    pub dispatch: DispatchOptions,
    /// The decoder's bounds.
    pub limits: Limits,
    /// The encoder's options.
    pub encode: EncodeOptions,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// The log filter.
    pub log_level: String,
    /// Bytes of log lines waiting for stderr (`log.queue_bytes`).
    pub log_queue_bytes: usize,
    /// Where and how traces are exported (`[tracing]`); `None`: off.
    pub traces: Option<TraceSettings>,
}

impl Config {
    /// Checks the scalar settings and turns them into each layer's options.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let s = &self.server;
        let l = &self.limits;
        let listen = s.listen.parse().map_err(|_| {
            ConfigError::invalid(
                "server.listen",
                format!("{:?} is not an address like 127.0.0.1:8000", s.listen),
            )
        })?;
        for path in &s.rpc_paths {
            if !path.starts_with('/') {
                return Err(ConfigError::invalid(
                    "server.rpc_paths",
                    format!("{path:?} must start with /"),
                ));
            }
        }
        let charset = Charset::from_label(&s.encoding).ok_or_else(|| {
            ConfigError::invalid(
                "server.encoding",
                format!("{:?} is not a supported encoding", s.encoding),
            )
        })?;
        let encode_threshold = match s.encode_threshold {
            Threshold::Bytes(n) => Some(n as usize),
            Threshold::Switch(false) => None,
            Threshold::Switch(true) => {
                return Err(ConfigError::invalid(
                    "server.encode_threshold",
                    "give a size in bytes, or false",
                ));
            }
        };
        for (key, value) in [
            ("limits.max_body_bytes", l.max_body_bytes),
            ("limits.max_inflight_body_bytes", l.max_inflight_body_bytes),
            ("limits.max_decoded_bytes", l.max_decoded_bytes),
            ("limits.max_depth", l.max_depth),
            ("limits.max_elements", l.max_elements),
            ("limits.max_string_bytes", l.max_string_bytes),
            ("limits.max_multicall_calls", l.max_multicall_calls),
            ("limits.multicall_concurrency", l.multicall_concurrency),
            ("limits.max_connections", l.max_connections),
            ("server.docs_max_methods", s.docs_max_methods),
            ("log.queue_bytes", self.log.queue_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        let admin = self.admin_options()?;
        let (auth, auth_default) = self.auth_options()?;
        let cors = self.cors_options()?;
        let tls = match &s.tls {
            None => None,
            Some(t) => Some(Arc::new(
                Tls::load(&t.cert, &t.key).map_err(|e| ConfigError::refused("server.tls", e))?,
            )),
        };
        let nonzero = |d: std::time::Duration| (!d.is_zero()).then_some(d);
        Ok(Settings {
            listen,
            http: HttpOptions {
                rpc_paths: s.rpc_paths.clone(),
                max_body_bytes: l.max_body_bytes,
                max_inflight_body_bytes: l.max_inflight_body_bytes,
                max_decoded_bytes: l.max_decoded_bytes,
                encode_threshold,
                log_requests: s.log_requests,
                access_log: AccessLog::default(),
                header_read_timeout: l.header_read_timeout,
                body_read_timeout: nonzero(l.body_read_timeout),
                max_connections: l.max_connections,
                shutdown_delay: l.shutdown_delay,
                drain_timeout: l.drain_timeout,
                forward_headers: self.forward_header_candidates(),
                docs: s.docs,
                admin,
                auth,
                cors,
                tls,
            },
            dispatch: DispatchOptions {
                introspection: s.introspection,
                multicall: s.multicall,
                max_multicall_calls: l.max_multicall_calls,
                multicall_concurrency: l.multicall_concurrency,
                allow_none: s.allow_none,
                call_timeout: nonzero(l.call_timeout),
                auth: auth_default,
                access: self.access()?,
                rate_limits: self.rate_limits()?,
                docs_cache: s.docs_cache,
                docs_max_methods: s.docs_max_methods,
            },
            limits: Limits {
                max_depth: l.max_depth,
                max_elements: l.max_elements,
                max_string_bytes: l.max_string_bytes,
            },
            encode: EncodeOptions {
                charset,
                allow_none: s.allow_none,
            },
            log_format: self.log.format,
            log_level: self.log.level.clone(),
            log_queue_bytes: self.log.queue_bytes,
            traces: self.tracing.settings()?,
        })
    }
}

impl Config {
    /// Every client header name some backend may receive (lower case):
    /// `server.forward_headers` plus each backend's `forward_headers`, and
    /// the headers routes keep callers on a backend by (`sticky`). The
    /// HTTP edge passes these on; each backend keeps only its own allowlist.
    pub fn forward_header_candidates(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .server
            .forward_headers
            .iter()
            .chain(self.backends.values().flat_map(|b| &b.forward_headers))
            .map(|h| h.to_ascii_lowercase())
            .chain(self.routes.iter().filter_map(|r| {
                let sticky = Sticky::parse(r.sticky.as_deref()?).ok()?;
                sticky.header().map(str::to_owned)
            }))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl Settings {
    /// The embeddable server's options, counting into `metrics`.
    pub fn server_options(&self, metrics: Metrics) -> ServerOptions {
        ServerOptions {
            http: self.http.clone(),
            dispatch: self.dispatch.clone(),
            limits: self.limits,
            encode: self.encode,
            metrics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sticky_header_is_passed_on_by_the_edge() {
        let cfg = Config::from_toml(
            "[backends.a]\nkind = \"jsonrpc\"\nurl = \"http://127.0.0.1:1/\"\nforward_headers = [\"X-Tenant\"]\n\n[[routes]]\nmethod = \"o.*\"\nbackends = [{ name = \"a\", weight = 1 }]\nsticky = \"header:X-Customer\"\n",
        )
        .unwrap();
        assert_eq!(
            cfg.forward_header_candidates(),
            ["x-customer".to_owned(), "x-tenant".to_owned()]
        );
    }
}
