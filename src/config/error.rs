//! The config layer's error. Always names the key or file at fault; an
//! error another layer raised (a certificate, a backend's HTTP client)
//! stays its source.

use std::path::PathBuf;

/// Why config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or parsed, or a key has the wrong type or
    /// a value outside its set (the message names the key).
    #[error("{}", key_first(.0))]
    Load(#[from] ::config::ConfigError),
    /// The file given does not exist.
    #[error("{}: no such file", .0.display())]
    NoFile(PathBuf),
    /// A value this layer refuses.
    #[error("{key}: {message}")]
    Invalid {
        /// The key at fault, as written (`backends.inv.url`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A value another layer refused; its error is the source.
    #[error("{key}: {source}")]
    Refused {
        /// The key at fault.
        key: String,
        /// The other layer's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `key: message`, as every other config error reads, where the config
/// crate knows the key (it says "... for key `k`" at the end otherwise).
fn key_first(err: &::config::ConfigError) -> String {
    match err {
        ::config::ConfigError::At {
            error,
            key: Some(key),
            ..
        } => format!("{}: {error}", dotted(key)),
        ::config::ConfigError::Type { key: Some(key), .. } => {
            let text = err.to_string();
            let text = text.split(" for key `").next().unwrap_or(&text);
            format!("{}: {text}", dotted(key))
        }
        other => other.to_string(),
    }
}

/// The config crate writes a key inside an array of tables without its
/// dot (`rate_limits[0]scope`); it reads `rate_limits[0].scope` elsewhere.
fn dotted(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut after_index = false;
    for c in key.chars() {
        if after_index && c != '.' && c != '[' {
            out.push('.');
        }
        after_index = c == ']';
        out.push(c);
    }
    out
}

impl ConfigError {
    /// A value this layer refuses.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    /// A value another layer refused with `source`.
    pub fn refused(
        key: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ConfigError::Refused {
            key: key.into(),
            source: Box::new(source),
        }
    }

    /// The key at fault, when the error names one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } | ConfigError::Refused { key, .. } => Some(key),
            ConfigError::Load(_) | ConfigError::NoFile(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_in_arrays_of_tables_get_their_dot() {
        assert_eq!(super::dotted("rate_limits[0]scope"), "rate_limits[0].scope");
        assert_eq!(super::dotted("routes[2].roles[1]"), "routes[2].roles[1]");
        assert_eq!(super::dotted("a[0][1]b"), "a[0][1].b");
        assert_eq!(super::dotted("server.listen"), "server.listen");
    }
}
