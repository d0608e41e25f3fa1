//! Configuration: the embedded default, then a file (TOML or YAML), then
//! `XMLRPC_GATEWAY__*` environment variables, read into [`Config`] (raw, as
//! written) and checked into runtime settings and a routing table
//! (validated). Callers pass the environment in: tests never touch the
//! process's own.

mod build;
mod raw;

use std::collections::HashMap;
use std::path::Path;

pub use build::{LogFormat, Settings, build_table};
pub use raw::*;

/// The embedded default config.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Prefix of environment variables that set config keys; `__` separates
/// levels: `XMLRPC_GATEWAY__SERVER__LISTEN=0.0.0.0:8000`.
pub const ENV_PREFIX: &str = "XMLRPC_GATEWAY";

/// Exit status for bad config (EX_USAGE... sysexits' EX_CONFIG is 78, but
/// 64 is what operators of this tool are told to expect).
pub const EXIT_BAD_CONFIG: i32 = 64;

/// Why config could not be used. Always names the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Load(String),
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

impl ConfigError {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Reads the layers: default, then `file` (if any), then `env` (only
    /// variables starting with `XMLRPC_GATEWAY__`).
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "{}: no such file",
                    path.display()
                )));
            }
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let env: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.rpc_paths")
                .with_list_parse_key("server.forward_headers")
                .source(Some(env)),
        );
        let merged = builder
            .build()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        merged
            .try_deserialize::<Config>()
            .map_err(|e| ConfigError::Load(e.to_string()))
    }

    /// Parses one document on its own (no layers), for tests and tools.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError::Load(e.to_string()))
    }
}
