//! `[admin]`: the operator's endpoints, checked.

use super::error::ConfigError;
use super::raw::Config;
use crate::http::AdminOptions;

impl Config {
    /// `[admin]`: an address if given, paths that start with `/`, differ from
    /// each other and from every `server.rpc_paths` entry (also when the
    /// endpoints have their own listener, so moving them back stays valid).
    pub(super) fn admin_options(&self) -> Result<AdminOptions, ConfigError> {
        let a = &self.admin;
        let listen = match &a.listen {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                ConfigError::invalid(
                    "admin.listen",
                    format!("{text:?} is not an address like 127.0.0.1:9100"),
                )
            })?),
        };
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (key, path, served) in [
            ("admin.metrics_path", &a.metrics_path, a.metrics),
            ("admin.health_path", &a.health_path, true),
            ("admin.ready_path", &a.ready_path, true),
        ] {
            if !path.starts_with('/') {
                return Err(ConfigError::invalid(
                    key,
                    format!("{path:?} must start with /"),
                ));
            }
            if !served {
                continue;
            }
            if self.server.rpc_paths.contains(path) {
                return Err(ConfigError::invalid(
                    key,
                    format!("{path:?} is also in server.rpc_paths"),
                ));
            }
            if let Some((other, _)) = seen.iter().find(|(_, p)| p == path) {
                return Err(ConfigError::invalid(
                    key,
                    format!("{path:?} is also {other}"),
                ));
            }
            seen.push((key, path));
        }
        Ok(AdminOptions {
            listen,
            metrics: a.metrics,
            metrics_path: a.metrics_path.clone(),
            health_path: a.health_path.clone(),
            ready_path: a.ready_path.clone(),
            ready_requires_backends: a.ready_requires_backends,
        })
    }
}
