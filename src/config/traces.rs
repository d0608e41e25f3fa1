//! `[tracing]` to the trace exporter's settings, with the standard
//! OpenTelemetry variables taking the place of unset keys.
//!
//! Precedence, per key: the config (file, then `XMLRPC_GATEWAY__TRACING__*`),
//! then the `OTEL_*` variable, then the default; as the OpenTelemetry spec
//! has it, what is configured explicitly wins over the environment, and the
//! signal-specific `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as-is) over
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` appended).
//! `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn traces off
//! whatever the config says. The environment is the map the caller passes.

use std::collections::HashMap;

use super::error::ConfigError;
use super::raw::TracingConfig;
use crate::defaults;
use crate::telemetry::{TraceSampler, TraceSettings};

impl TracingConfig {
    /// Fills the keys the config left unset from the `OTEL_*` variables in
    /// `env`; clears the endpoint when the environment turns traces off.
    pub(super) fn apply_otel_env(&mut self, env: &HashMap<String, String>) {
        let var = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"))
        {
            self.endpoint = None;
            return;
        }
        if self.endpoint.is_none() {
            self.endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .map(str::to_owned)
                .or_else(|| {
                    var("OTEL_EXPORTER_OTLP_ENDPOINT")
                        .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
                });
        }
        if self.service_name.is_none() {
            self.service_name = var("OTEL_SERVICE_NAME").map(str::to_owned);
        }
        if self.sampler.is_none() {
            self.sampler = var("OTEL_TRACES_SAMPLER").map(str::to_owned);
        }
        if self.sampler_ratio.is_none()
            && let Some(arg) = var("OTEL_TRACES_SAMPLER_ARG")
        {
            // A value that is not a number stays, to be refused by name.
            self.sampler_ratio = Some(arg.parse().unwrap_or(f64::NAN));
        }
    }

    /// The checked settings; `None` when no endpoint is set (traces off).
    pub(super) fn settings(&self) -> Result<Option<TraceSettings>, ConfigError> {
        let Some(endpoint) = self.endpoint.as_deref().filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        match reqwest::Url::parse(endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => {
                return Err(ConfigError::invalid(
                    "tracing.endpoint",
                    format!("{endpoint:?} is not an http or https URL"),
                ));
            }
        }
        let ratio = self.sampler_ratio.unwrap_or(defaults::TRACE_SAMPLER_RATIO);
        if !(0.0..=1.0).contains(&ratio) {
            return Err(ConfigError::invalid(
                "tracing.sampler_ratio",
                "must be a number from 0 to 1 (also read from OTEL_TRACES_SAMPLER_ARG)",
            ));
        }
        let name = self.sampler.as_deref().unwrap_or(defaults::TRACE_SAMPLER);
        let sampler = TraceSampler::from_name(name, ratio).ok_or_else(|| {
            ConfigError::invalid(
                "tracing.sampler",
                format!(
                    "{name:?} is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio (also read from OTEL_TRACES_SAMPLER)"
                ),
            )
        })?;
        for (key, zero) in [
            ("tracing.queue_size", self.queue_size == 0),
            ("tracing.max_export_batch", self.max_export_batch == 0),
            ("tracing.export_interval", self.export_interval.is_zero()),
            ("tracing.export_timeout", self.export_timeout.is_zero()),
        ] {
            if zero {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        for (name, value) in &self.headers {
            let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && http::HeaderValue::from_str(value).is_ok();
            if !valid {
                // The value may be a secret: only the name is shown.
                return Err(ConfigError::invalid(
                    format!("tracing.headers.{name}"),
                    "not a valid HTTP header name and value",
                ));
            }
        }
        Ok(Some(TraceSettings {
            endpoint: endpoint.to_owned(),
            service_name: self
                .service_name
                .clone()
                .unwrap_or_else(|| defaults::TRACE_SERVICE_NAME.to_owned()),
            sampler,
            queue_size: self.queue_size,
            max_export_batch: self.max_export_batch,
            export_interval: self.export_interval,
            export_timeout: self.export_timeout,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn traces(toml: &str, pairs: &[(&str, &str)]) -> Result<Option<TraceSettings>, ConfigError> {
        Config::from_toml_env(toml, &env(pairs))?.tracing.settings()
    }

    #[test]
    fn off_unless_an_endpoint_is_set() {
        assert_eq!(traces("", &[]).unwrap(), None);
        assert_eq!(traces("", &[("OTEL_SERVICE_NAME", "x")]).unwrap(), None);
    }

    #[test]
    fn the_signal_variable_wins_and_the_base_one_gets_the_path() {
        let base = traces("", &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]);
        assert_eq!(base.unwrap().unwrap().endpoint, "http://c:4318/v1/traces");
        let both = traces(
            "",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/x"),
            ],
        );
        assert_eq!(both.unwrap().unwrap().endpoint, "http://t:1/x");
    }

    #[test]
    fn config_keys_win_over_the_otel_variables() {
        let toml = "[tracing]\nendpoint = \"http://cfg:4318/v1/traces\"\nservice_name = \"gw\"\nsampler = \"always_off\"\n";
        let got = traces(
            toml,
            &[
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://env:1/v1/traces",
                ),
                ("OTEL_SERVICE_NAME", "env"),
                ("OTEL_TRACES_SAMPLER", "always_on"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(got.endpoint, "http://cfg:4318/v1/traces");
        assert_eq!(got.service_name, "gw");
        assert_eq!(got.sampler, TraceSampler::AlwaysOff);
        let from_env = traces(
            "",
            &[
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://env:1/v1/traces",
                ),
                ("OTEL_SERVICE_NAME", "env"),
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(from_env.service_name, "env");
        assert_eq!(from_env.sampler, TraceSampler::Ratio(0.25));
    }

    #[test]
    fn the_environment_can_switch_traces_off() {
        let toml = "[tracing]\nendpoint = \"http://cfg:4318/v1/traces\"\n";
        assert!(traces(toml, &[]).unwrap().is_some());
        assert_eq!(
            traces(toml, &[("OTEL_SDK_DISABLED", "true")]).unwrap(),
            None
        );
        assert_eq!(
            traces(toml, &[("OTEL_TRACES_EXPORTER", "none")]).unwrap(),
            None
        );
    }

    #[test]
    fn bad_values_are_refused_by_key() {
        let on = [("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:1/v1/traces")];
        for (toml, vars, key) in [
            (
                "[tracing]\nendpoint = \"ftp://c\"\n",
                &[][..],
                "tracing.endpoint",
            ),
            (
                "[tracing]\nsampler = \"sometimes\"\n",
                &on[..],
                "tracing.sampler",
            ),
            (
                "[tracing]\nsampler_ratio = 1.5\n",
                &on[..],
                "tracing.sampler_ratio",
            ),
            ("[tracing]\nqueue_size = 0\n", &on[..], "tracing.queue_size"),
            (
                "[tracing]\nexport_timeout = \"0s\"\n",
                &on[..],
                "tracing.export_timeout",
            ),
        ] {
            let err = traces(toml, vars).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
        let arg = [on[0], ("OTEL_TRACES_SAMPLER_ARG", "half")];
        let err = traces("", &arg).unwrap_err().to_string();
        assert!(err.contains("OTEL_TRACES_SAMPLER_ARG"), "{err}");
    }

    #[test]
    fn header_values_never_show_in_the_error() {
        let toml = "[tracing]\nendpoint = \"http://c:1/v1/traces\"\n[tracing.headers]\n\"bad name\" = \"s3cret\"\n";
        let err = traces(toml, &[]).unwrap_err().to_string();
        assert!(
            err.contains("tracing.headers") && !err.contains("s3cret"),
            "{err}"
        );
    }
}
