//! The layers: the embedded default, then a file (TOML or YAML), then
//! `XMLRPC_GATEWAY__*` variables, read into the raw [`Config`]; `${NAME}`
//! in secrets and header values taken from the environment the caller
//! passes in (never the process's own).

use std::collections::HashMap;
use std::path::Path;

use super::error::ConfigError;
use super::raw::Config;

/// The embedded default config.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Prefix of environment variables that set config keys; `__` separates
/// levels: `XMLRPC_GATEWAY__SERVER__LISTEN=0.0.0.0:8000`.
pub const ENV_PREFIX: &str = "XMLRPC_GATEWAY";

/// Exit status for bad config (EX_USAGE... sysexits' EX_CONFIG is 78, but
/// 64 is what operators of this tool are told to expect).
pub const EXIT_BAD_CONFIG: i32 = 64;

impl Config {
    /// Reads the layers: default, then `file` (if any), then `env` (only
    /// variables starting with `XMLRPC_GATEWAY__`).
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut builder = ::config::Config::builder().add_source(::config::File::from_str(
            DEFAULT_TOML,
            ::config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::NoFile(path.to_owned()));
            }
            builder = builder.add_source(::config::File::from(path).required(true));
        }
        let prefixed: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        builder = builder.add_source(
            ::config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.rpc_paths")
                .with_list_parse_key("server.forward_headers")
                .with_list_parse_key("auth.tokens")
                .with_list_parse_key("cors.allow_origins")
                .with_list_parse_key("cors.allow_headers")
                .source(Some(prefixed)),
        );
        let mut config = builder.build()?.try_deserialize::<Config>()?;
        config.resolve_env(env)?;
        Ok(config)
    }

    /// Replaces `${NAME}` in backend and collector header values and in
    /// `[auth]` secrets with `env[NAME]`, and fills the `[tracing]` keys left
    /// unset from the `OTEL_*` variables (`traces.rs`). The environment is
    /// the map the caller passed, never the process's own.
    pub fn resolve_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        for (user, password) in &mut self.auth.users {
            *password = substitute(password, env)
                .map_err(|msg| ConfigError::invalid(format!("auth.users.{user}"), msg))?;
        }
        for (i, token) in self.auth.tokens.iter_mut().enumerate() {
            *token = substitute(token, env)
                .map_err(|msg| ConfigError::invalid(format!("auth.tokens[{i}]"), msg))?;
        }
        for (header, value) in &mut self.tracing.headers {
            *value = substitute(value, env)
                .map_err(|msg| ConfigError::invalid(format!("tracing.headers.{header}"), msg))?;
        }
        self.tracing.apply_otel_env(env);
        for (backend, cfg) in &mut self.backends {
            for (header, value) in &mut cfg.headers {
                *value = substitute(value, env).map_err(|msg| {
                    ConfigError::invalid(format!("backends.{backend}.headers.{header}"), msg)
                })?;
            }
        }
        Ok(())
    }

    /// Parses one document on its own (no layers), for tests and tools.
    /// `${NAME}` in header values fails here: use [`Config::from_toml_env`].
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_env(text, &HashMap::new())
    }

    /// Parses one document on its own, taking `${NAME}` values from `env`.
    pub fn from_toml_env(text: &str, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut config: Config = ::config::Config::builder()
            .add_source(::config::File::from_str(text, ::config::FileFormat::Toml))
            .build()?
            .try_deserialize()?;
        config.resolve_env(env)?;
        Ok(config)
    }
}

/// Expands every `${NAME}` in `text` from `env`.
fn substitute(text: &str, env: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "unclosed ${ in value".to_owned())?;
        let name = &after[..end];
        if name.is_empty() {
            return Err("empty ${} in value".to_owned());
        }
        let value = env
            .get(name)
            .ok_or_else(|| format!("environment variable {name} is not set"))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const WITH_HEADER: &str = r#"
[backends.inv]
kind = "jsonrpc"
url = "http://127.0.0.1:1/rpc"
headers = { authorization = "Bearer ${INV_TOKEN}", x-static = "plain" }
"#;

    #[test]
    fn header_values_come_from_the_given_env() {
        let env = HashMap::from([("INV_TOKEN".to_owned(), "s3cret".to_owned())]);
        let cfg = Config::from_toml_env(WITH_HEADER, &env).unwrap();
        let headers = &cfg.backends["inv"].headers;
        assert_eq!(headers["authorization"], "Bearer s3cret");
        assert_eq!(headers["x-static"], "plain");
    }

    #[test]
    fn a_missing_variable_names_the_key() {
        let err = Config::from_toml_env(WITH_HEADER, &HashMap::new()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("backends.inv.headers.authorization"),
            "{text}"
        );
        assert!(text.contains("INV_TOKEN"), "{text}");
    }

    #[test]
    fn the_shutdown_delay_is_none_by_default_and_set_from_the_environment() {
        let none = Config::load(None, &HashMap::new()).unwrap();
        assert_eq!(none.settings().unwrap().http.shutdown_delay, Duration::ZERO);
        let env = HashMap::from([(
            "XMLRPC_GATEWAY__LIMITS__SHUTDOWN_DELAY".to_owned(),
            "5s".to_owned(),
        )]);
        let set = Config::load(None, &env).unwrap();
        assert_eq!(
            set.settings().unwrap().http.shutdown_delay,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn backend_defaults_are_safe() {
        let cfg =
            Config::from_toml("[backends.b]\nkind = \"json\"\nurl = \"http://127.0.0.1:1\"\n")
                .unwrap();
        let b = &cfg.backends["b"];
        assert_eq!(b.timeout, std::time::Duration::from_secs(30));
        assert_eq!(b.connect_timeout, std::time::Duration::from_secs(5));
        assert_eq!(b.max_concurrency, 64);
        assert_eq!(b.retries, 2);
        assert_eq!(b.circuit_breaker.failures, 5);
        assert_eq!(b.http_method, crate::backend::HttpMethod::Post);
        assert!(b.forward_headers.is_empty() && b.headers.is_empty());
    }

    #[test]
    fn unknown_backend_keys_are_refused() {
        let err = Config::from_toml(
            "[backends.b]\nkind = \"json\"\nurl = \"http://x\"\ntimeuot = \"1s\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("timeuot"), "{err}");
    }
}
