//! `[cors]`, checked.

use super::error::ConfigError;
use super::raw::Config;
use crate::http::CorsOptions;

impl Config {
    /// `[cors]`: origins look like `scheme://host[:port]` (or are `*`).
    pub(super) fn cors_options(&self) -> Result<CorsOptions, ConfigError> {
        let c = &self.cors;
        for origin in &c.allow_origins {
            let shaped = origin == "*"
                || (origin.contains("://")
                    && !origin.ends_with('/')
                    && !origin.contains(char::is_whitespace));
            if !shaped {
                return Err(ConfigError::invalid(
                    "cors.allow_origins",
                    format!(
                        "{origin:?} is not an origin like https://app.example (no path, no trailing /)"
                    ),
                ));
            }
        }
        if c.allow_credentials && c.allow_origins.iter().any(|o| o == "*") {
            return Err(ConfigError::invalid(
                "cors.allow_credentials",
                "cannot be true with allow_origins = [\"*\"]; list the origins",
            ));
        }
        for name in &c.allow_headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::invalid(
                    "cors.allow_headers",
                    format!("{name:?} is not a header name"),
                ));
            }
        }
        Ok(CorsOptions {
            allow_origins: c.allow_origins.clone(),
            allow_headers: c
                .allow_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            max_age: (!c.max_age.is_zero()).then_some(c.max_age),
            allow_credentials: c.allow_credentials,
        })
    }
}
