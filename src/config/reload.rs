//! What a reload (SIGHUP) may change, in one rule: what the gateway decides
//! per call or per request reloads; what the listener and the edge's
//! resources were built from needs a restart.
//!
//! Reloads: `[[routes]]` (a split's weights and a shadow's settings among
//! them; a shadow's concurrency slots start afresh), `[backends]`, `[auth]`
//! (files re-read), `[roles]`, `[[rate_limits]]` and `[rate_limit]`
//! (in-memory buckets start afresh; `cluster` ones live on in Redis),
//! `server.allow_none`, `server.encoding`, `server.encode_threshold`,
//! `server.log_requests`, `server.introspection`, `server.multicall`,
//! `server.forward_headers`, `server.docs`, `server.docs_cache`,
//! `server.docs_max_methods`, `limits.max_multicall_calls`,
//! `limits.multicall_concurrency`, `limits.call_timeout`, and the
//! certificate and key files of `server.tls`.
//!
//! Needs a restart: the keys [`RESTART_ONLY`] lists. A reload that changes
//! one keeps the running value and says so (the rest of the reload
//! applies).

use super::raw::Config;

/// Every key a reload does not apply.
pub const RESTART_ONLY: &[&str] = &[
    "server.listen",
    "server.rpc_paths",
    "server.tls (on or off)",
    "limits.max_body_bytes",
    "limits.max_inflight_body_bytes",
    "limits.max_decoded_bytes",
    "limits.max_depth",
    "limits.max_elements",
    "limits.max_string_bytes",
    "limits.max_connections",
    "limits.header_read_timeout",
    "limits.body_read_timeout",
    "limits.drain_timeout",
    "log",
    "tracing",
    "admin",
    "cors",
];

impl Config {
    /// The restart-only keys whose value differs in `new`, by their names
    /// in [`RESTART_ONLY`].
    pub fn restart_only_changes(&self, new: &Config) -> Vec<&'static str> {
        let (s, n) = (&self.server, &new.server);
        let (l, m) = (&self.limits, &new.limits);
        let changed = [
            s.listen != n.listen,
            s.rpc_paths != n.rpc_paths,
            s.tls.is_some() != n.tls.is_some(),
            l.max_body_bytes != m.max_body_bytes,
            l.max_inflight_body_bytes != m.max_inflight_body_bytes,
            l.max_decoded_bytes != m.max_decoded_bytes,
            l.max_depth != m.max_depth,
            l.max_elements != m.max_elements,
            l.max_string_bytes != m.max_string_bytes,
            l.max_connections != m.max_connections,
            l.header_read_timeout != m.header_read_timeout,
            l.body_read_timeout != m.body_read_timeout,
            l.drain_timeout != m.drain_timeout,
            self.log != new.log,
            self.tracing != new.tracing,
            self.admin != new.admin,
            self.cors != new.cors,
        ];
        RESTART_ONLY
            .iter()
            .zip(changed)
            .filter_map(|(key, changed)| changed.then_some(*key))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_restart_only_key_is_seen() {
        let base = Config::from_toml("").unwrap();
        for (toml, key) in [
            ("[server]\nlisten = \"127.0.0.1:9\"\n", "server.listen"),
            ("[server]\nrpc_paths = [\"/x\"]\n", "server.rpc_paths"),
            ("[limits]\nmax_body_bytes = 5\n", "limits.max_body_bytes"),
            ("[limits]\nmax_depth = 5\n", "limits.max_depth"),
            ("[limits]\ndrain_timeout = \"1s\"\n", "limits.drain_timeout"),
            ("[log]\nlevel = \"debug\"\n", "log"),
            ("[tracing]\nqueue_size = 5\n", "tracing"),
            ("[admin]\nmetrics = false\n", "admin"),
            ("[cors]\nallow_origins = [\"https://a.example\"]\n", "cors"),
        ] {
            let new = Config::from_toml(toml).unwrap();
            assert_eq!(base.restart_only_changes(&new), vec![key], "{toml}");
        }
        for reloadable in [
            "[server]\nallow_none = true\n",
            "[server]\ndocs = true\ndocs_cache = \"5s\"\n",
            "[limits]\nmax_multicall_calls = 3\n",
            "[limits]\ncall_timeout = \"1s\"\n",
            "[[routes]]\nmethod = \"x\"\nhandler = \"add\"\n",
        ] {
            let new = Config::from_toml(reloadable).unwrap();
            assert!(base.restart_only_changes(&new).is_empty(), "{reloadable}");
        }
    }
}
