//! `[backends.NAME]`: each section checked into the [`BackendSpec`] that
//! the backend layer defines, then built (with the metrics its circuit
//! breaker writes to).

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};

use super::error::ConfigError;
use super::mapping;
use super::raw::{BackendConfig, Config};
use crate::backend::{self, Backend, BackendSpec, BreakerSpec, Kind};
use crate::metrics::Metrics;

impl Config {
    /// Every backend's checked spec, by name.
    pub fn backend_specs(&self) -> Result<Vec<(&str, BackendSpec)>, ConfigError> {
        self.backends
            .iter()
            .map(|(name, cfg)| Ok((name.as_str(), self.backend_spec(name, cfg)?)))
            .collect()
    }

    fn backend_spec(&self, name: &str, cfg: &BackendConfig) -> Result<BackendSpec, ConfigError> {
        let key = |field: &str| format!("backends.{name}.{field}");
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| ConfigError::refused(key("url"), e))?;
        match (url.scheme(), cfg.kind) {
            ("http" | "https", _) => {}
            ("scgi", Kind::XmlRpc) => {
                if cfg.socket.is_none() && url.port().is_none() {
                    return Err(ConfigError::invalid(
                        key("url"),
                        format!(
                            "{:?}: an scgi URL needs a port (there is no default), or set socket",
                            cfg.url
                        ),
                    ));
                }
            }
            ("scgi", _) => {
                return Err(ConfigError::invalid(
                    key("url"),
                    format!("{:?}: scgi is for xmlrpc backends only", cfg.url),
                ));
            }
            _ => {
                return Err(ConfigError::invalid(
                    key("url"),
                    format!("{:?} is not an http, https or scgi URL", cfg.url),
                ));
            }
        }
        if let Some(socket) = &cfg.socket
            && !socket.is_absolute()
        {
            return Err(ConfigError::invalid(
                key("socket"),
                format!("{:?} is not an absolute path", socket.display().to_string()),
            ));
        }
        if cfg.max_concurrency == 0 {
            return Err(ConfigError::invalid(
                key("max_concurrency"),
                "must be greater than 0",
            ));
        }
        if cfg.timeout.is_zero() {
            return Err(ConfigError::invalid(
                key("timeout"),
                "must be greater than 0",
            ));
        }
        let mut spec = BackendSpec::new(cfg.kind, url);
        spec.socket = cfg.socket.clone();
        for (header, value) in &cfg.headers {
            let header_key = key(&format!("headers.{header}"));
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|e| ConfigError::refused(&header_key, e))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| ConfigError::refused(&header_key, e))?;
            spec.headers.insert(name, value);
        }
        let mut forward: Vec<String> = self
            .server
            .forward_headers
            .iter()
            .chain(&cfg.forward_headers)
            .map(|h| h.to_ascii_lowercase())
            .collect();
        forward.sort();
        forward.dedup();
        spec.forward_headers = forward;
        spec.timeout = cfg.timeout;
        spec.connect_timeout = cfg.connect_timeout;
        spec.max_concurrency = cfg.max_concurrency;
        spec.retries = cfg.retries;
        spec.breaker = BreakerSpec {
            failures: cfg.circuit_breaker.failures,
            open_for: cfg.circuit_breaker.open_for,
        };
        spec.http_method = cfg.http_method;
        if let Some(errors) = &cfg.errors {
            spec.errors = mapping::error_map(errors)
                .map_err(|(sub, msg)| ConfigError::invalid(key(&sub), msg))?;
        }
        Ok(spec)
    }

    /// Builds every backend, its breaker showing its state in `metrics`.
    pub(super) fn build_backends(
        &self,
        metrics: &Metrics,
    ) -> Result<HashMap<&str, Arc<dyn Backend>>, ConfigError> {
        let mut built = HashMap::new();
        for (name, spec) in self.backend_specs()? {
            let backend = backend::build(name, &spec, metrics)
                .map_err(|e| ConfigError::refused(format!("backends.{name}"), e))?;
            built.insert(name, backend);
        }
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_error(section: &str) -> String {
        let cfg = Config::from_toml(&format!("[backends.b]\n{section}")).unwrap();
        cfg.backend_specs().unwrap_err().to_string()
    }

    #[test]
    fn bad_settings_are_refused_naming_the_key() {
        let err = spec_error("kind = \"json\"\nurl = \"ftp://x/\"\n");
        assert!(err.starts_with("backends.b.url:"), "{err}");
        let err = spec_error("kind = \"json\"\nurl = \"not a url\"\n");
        assert!(err.starts_with("backends.b.url:"), "{err}");
        let err = spec_error("kind = \"json\"\nurl = \"scgi://x:5000/\"\n");
        assert!(err.starts_with("backends.b.url:"), "{err}");
        assert!(err.contains("xmlrpc backends only"), "{err}");
        let err = spec_error("kind = \"xmlrpc\"\nurl = \"scgi://x/RPC2\"\n");
        assert!(err.starts_with("backends.b.url:"), "{err}");
        assert!(err.contains("port"), "{err}");
        let err =
            spec_error("kind = \"xmlrpc\"\nurl = \"http://localhost/\"\nsocket = \"run/x.sock\"\n");
        assert!(err.starts_with("backends.b.socket:"), "{err}");
        assert!(err.contains("absolute"), "{err}");
        let err = spec_error("kind = \"json\"\nurl = \"http://x/\"\nmax_concurrency = 0\n");
        assert!(err.starts_with("backends.b.max_concurrency:"), "{err}");
        let err = spec_error(
            "kind = \"json\"\nurl = \"http://x/\"\nheaders = { \"bad name\" = \"v\" }\n",
        );
        assert!(err.starts_with("backends.b.headers.bad name:"), "{err}");
    }

    #[test]
    fn sockets_and_scgi_urls_reach_the_spec() {
        let cfg = Config::from_toml(
            "[backends.h]\nkind = \"json\"\nurl = \"http://localhost/api\"\nsocket = \"/run/api.sock\"\n\
             [backends.s]\nkind = \"xmlrpc\"\nurl = \"scgi://localhost/RPC2\"\nsocket = \"/run/rt.sock\"\n\
             [backends.t]\nkind = \"xmlrpc\"\nurl = \"scgi://127.0.0.1:5000/RPC2\"\n",
        )
        .unwrap();
        let specs: std::collections::HashMap<_, _> =
            cfg.backend_specs().unwrap().into_iter().collect();
        assert_eq!(
            specs["h"].socket.as_deref(),
            Some(std::path::Path::new("/run/api.sock"))
        );
        assert!(!specs["h"].is_scgi());
        assert!(specs["s"].is_scgi() && specs["s"].socket.is_some());
        assert!(specs["t"].is_scgi() && specs["t"].socket.is_none());
    }

    #[test]
    fn unknown_kinds_list_the_known_ones() {
        let err =
            Config::from_toml("[backends.b]\nkind = \"soap\"\nurl = \"http://127.0.0.1:9/\"\n")
                .unwrap_err()
                .to_string();
        for word in ["soap", "jsonrpc", "json", "xmlrpc"] {
            assert!(err.contains(word), "{err}");
        }
    }
}
