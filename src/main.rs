//! The `xmlrpc-gateway` binary: parses the command line and hands over to
//! the library. Bare, it serves the embedded default config.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::signal::unix::{Signal, SignalKind, signal};

use xmlrpc_gateway::Metrics;
use xmlrpc_gateway::client::{XmlRpcClient, http_client};
use xmlrpc_gateway::config::{self, Config, ConfigError, Settings};
use xmlrpc_gateway::gateway::Gateway;
use xmlrpc_gateway::http::App;
use xmlrpc_gateway::{BackendError, Dispatcher, Server, Value, demo, json, telemetry};

/// mimalloc returns freed memory to the OS far more readily than glibc's
/// malloc, so RSS comes back down after a burst of large requests. It is
/// built without transparent huge pages (`no_thp`): with them, every 2 MiB
/// region it touched counted whole in RSS (16 MB idle instead of 8 MB).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "xmlrpc-gateway",
    version,
    about = "An XML-RPC gateway: legacy XML-RPC clients in front, JSON services behind."
)]
struct Cli {
    /// Config file (TOML or YAML), layered over the embedded default.
    #[arg(long, short, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address, overriding config (e.g. 0.0.0.0:8000).
    #[arg(long, short, value_name = "ADDR")]
    listen: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Call a method on an XML-RPC server; arguments are JSON, the result is printed as JSON.
    Call {
        /// Server URL, e.g. http://127.0.0.1:8000/RPC2
        url: String,
        /// Method name, then its arguments as JSON (`2`, `"text"`, `[1,2]`, `{"a":1}`).
        /// With --multicall, each argument is a JSON array `["method", arg, ...]`.
        #[arg(value_name = "METHOD [ARGS]")]
        args: Vec<String>,
        /// Send the calls as one system.multicall.
        #[arg(long)]
        multicall: bool,
    },
    /// Handle one CGI request (environment + stdin) and write a CGI response,
    /// like Python's CGIXMLRPCRequestHandler.
    Cgi,
    /// Validate a config file and print the resolved routing table.
    CheckConfig {
        /// The file to check (defaults to --config).
        file: Option<PathBuf>,
    },
    /// GET a health URL: exit 0 on 200, 1 otherwise. For container
    /// healthchecks (exec form, no shell or curl needed).
    Healthcheck {
        /// The URL to probe.
        #[arg(default_value = "http://127.0.0.1:8000/healthz")]
        url: String,
        /// Any HTTP answer counts as healthy (the server is up and speaks
        /// HTTP): for services without a health path, such as demo-backend.
        #[arg(long)]
        any_status: bool,
        /// Give up after this long (e.g. 2s, 500ms).
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        timeout: Duration,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: HashMap<String, String> = std::env::vars().collect();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config, cli.listen, &env),
        Command::Call {
            url,
            args,
            multicall,
        } => call(&url, &args, multicall),
        Command::CheckConfig { file } => check_config(file.or(cli.config), &env),
        Command::Cgi => cgi(cli.config, &env),
        Command::Healthcheck {
            url,
            any_status,
            timeout,
        } => healthcheck(&url, any_status, timeout),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

fn config_error(err: &ConfigError) -> ExitCode {
    eprintln!("xmlrpc-gateway: bad config: {err}");
    ExitCode::from(config::EXIT_BAD_CONFIG as u8)
}

/// Reads and checks the config, with `--listen` applied.
fn load(
    file: Option<&std::path::Path>,
    listen: Option<String>,
    env: &HashMap<String, String>,
) -> Result<(Config, Settings), ConfigError> {
    let mut cfg = Config::load(file, env)?;
    if let Some(listen) = listen {
        cfg.server.listen = listen;
    }
    let settings = cfg.settings()?;
    Ok((cfg, settings))
}

/// Why serving ended badly: bad config (exit 64) or the server failing.
enum Failure {
    Config(ConfigError),
    Serve(std::io::Error),
}

fn serve(file: Option<PathBuf>, listen: Option<String>, env: &HashMap<String, String>) -> ExitCode {
    let (cfg, settings) = match load(file.as_deref(), listen.clone(), env) {
        Ok(loaded) => loaded,
        Err(err) => return config_error(&err),
    };
    // One registry for the whole process, handed down: the log writer
    // counts the lines it drops in it, the server counts into it, the
    // backends' breakers show their state in it, and the reload loop
    // counts reloads in it.
    let metrics = Metrics::new();
    // Held to the end: dropping it writes out the lines still queued.
    let logs = telemetry::init(
        settings.log_format,
        &settings.log_level,
        settings.log_queue_bytes,
        settings.traces.as_ref(),
        &metrics,
    );
    raise_fd_limit(settings.http.max_connections);
    let rt = runtime();
    let result = rt.block_on(async {
        let table = config::build_table(&cfg, &demo::handlers(), &metrics).map_err(Failure::Config)?;
        let mut options = settings.server_options(metrics.clone());
        options.http.access_log = logs.access_log();
        let server = Server::bind(settings.listen, table, options)
            .await
            .map_err(|e| Failure::Config(ConfigError::invalid("server.listen", format!("cannot listen on {}: {e}", settings.listen))))?;
        // The default action of SIGHUP and SIGTERM ends the process: take
        // them over before saying where we listen, so that a signal sent
        // after that line is always handled (a reload, or a drain).
        let hup = signal(SignalKind::hangup()).map_err(Failure::Serve)?;
        let shutdown = shutdown_signal(
            signal(SignalKind::terminate()).map_err(Failure::Serve)?,
            signal(SignalKind::interrupt()).map_err(Failure::Serve)?,
        );
        tracing::info!(listen = %server.local_addr().map_or_else(|_| settings.listen.to_string(), |a| a.to_string()), "serving XML-RPC");
        if let Some(admin) = server.admin_addr() {
            tracing::info!(listen = %admin, "serving admin endpoints");
        }
        let reloader = tokio::spawn(reload_on_sighup(
            hup,
            server.app(),
            metrics,
            cfg,
            file,
            listen,
            env.clone(),
        ));
        let served = server.run(shutdown).await.map_err(Failure::Serve);
        reloader.abort();
        served
    });
    if result.is_ok() {
        tracing::info!("stopped");
    }
    // The queued lines first, then (on failure) the message on stderr.
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(err)) => config_error(&err),
        Err(Failure::Serve(err)) => {
            eprintln!("xmlrpc-gateway: server failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// On each SIGHUP, re-reads the config (same file, same environment, same
/// `--listen`) and applies what a reload may change (`config/reload.rs`
/// has the rule): a new routing table and dispatcher with the encoding
/// they answer with, the edge's credentials, forwarded headers, access
/// logging and gzip threshold, and the TLS certificate. Calls in flight
/// finish on what they started with; a bad config is refused and logged;
/// a changed restart-only key is named in a warning and keeps its value.
async fn reload_on_sighup(
    mut hup: Signal,
    app: Arc<App>,
    metrics: Metrics,
    started: Config,
    file: Option<PathBuf>,
    listen: Option<String>,
    env: HashMap<String, String>,
) {
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading config");
        let built = load(file.as_deref(), listen.clone(), &env).and_then(|(cfg, settings)| {
            let table = config::build_table(&cfg, &demo::handlers(), &metrics)?;
            Ok((cfg, settings, table))
        });
        match built {
            Ok((cfg, settings, table)) => {
                // Against the values in force: those of the start.
                for key in started.restart_only_changes(&cfg) {
                    tracing::warn!(key, "this key needs a restart; the running value stays");
                }
                let dispatcher = Dispatcher::new(table, settings.dispatch);
                app.gateway.reload(dispatcher, settings.encode);
                app.reload_edge(&settings.http);
                telemetry::record_reload(&metrics, None);
            }
            Err(err) => telemetry::record_reload(&metrics, Some(&err)),
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal(mut term: Signal, mut int: Signal) {
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}

fn parse_json_arg(text: &str) -> Result<Value, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{text:?} is not JSON: {e}"))?;
    json::from_json(json)
}

fn call(url: &str, args: &[String], multicall: bool) -> ExitCode {
    let request = if multicall {
        args.iter()
            .map(|a| match parse_json_arg(a)? {
                Value::Array(mut items) if matches!(items.first(), Some(Value::String(_))) => {
                    let name = items.remove(0);
                    Ok(Value::structure([
                        ("methodName", name),
                        ("params", Value::Array(items)),
                    ]))
                }
                _ => Err(format!(
                    "{a:?}: with --multicall each argument is [\"method\", args...]"
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|calls| ("system.multicall".to_owned(), vec![Value::Array(calls)]))
    } else {
        match args.split_first() {
            None => Err("give a method name".to_owned()),
            Some((method, rest)) => rest
                .iter()
                .map(|a| parse_json_arg(a))
                .collect::<Result<Vec<_>, _>>()
                .map(|params| (method.clone(), params)),
        }
    };
    let (method, params) = match request {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("xmlrpc-gateway call: {msg}");
            return ExitCode::from(2);
        }
    };
    let client = match XmlRpcClient::new(url) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("xmlrpc-gateway call: {msg}");
            return ExitCode::from(2);
        }
    };
    let result = runtime().block_on(client.call(&method, &params, &Default::default()));
    match result {
        Ok(value) => {
            let json = json::to_json(&value);
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(BackendError::Remote(fault)) => {
            eprintln!("Fault {}: {}", fault.code, fault.message);
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("xmlrpc-gateway call: {err}");
            ExitCode::FAILURE
        }
    }
}

fn check_config(file: Option<PathBuf>, env: &HashMap<String, String>) -> ExitCode {
    let checked = load(file.as_deref(), None, env).and_then(|(cfg, settings)| {
        let table = config::build_table(&cfg, &demo::handlers(), &Metrics::new())?;
        Ok((settings, table))
    });
    match checked {
        Ok((settings, table)) => {
            println!("config OK; listen {}", settings.listen);
            println!("{:<32} TARGET", "METHOD");
            print_routes(&table);
            for (path, own) in table.rpc_paths() {
                println!("\non RPC path {path} only:");
                print_routes(own);
            }
            ExitCode::SUCCESS
        }
        Err(err) => config_error(&err),
    }
}

/// One line a route, and its mapping below it.
fn print_routes(table: &xmlrpc_gateway::RoutingTable) {
    for route in table.routes() {
        println!("{:<32} {}", route.pattern.to_string(), route.label);
        if let xmlrpc_gateway::Target::Backend {
            mapping: Some(mapping),
            ..
        } = &route.target
        {
            println!("{:<32}   {}", "", config::describe_mapping(mapping));
        }
        if let Some(split) = &route.split {
            let shares: Vec<String> = split
                .backends
                .iter()
                .map(|w| format!("{}={}", w.backend.name(), w.weight))
                .collect();
            let sticky = match &split.sticky {
                None => "by request".to_owned(),
                Some(xmlrpc_gateway::Sticky::Principal) => "sticky by principal".to_owned(),
                Some(xmlrpc_gateway::Sticky::Header(h)) => format!("sticky by header {h}"),
                Some(xmlrpc_gateway::Sticky::Param(p)) => format!("sticky by param {p}"),
            };
            println!("{:<32}   weights {} ({sticky})", "", shares.join(" "));
        }
        if let Some(shadow) = &route.shadow {
            println!(
                "{:<32}   shadow {}% to {}{}",
                "",
                shadow.percent,
                shadow.backend.name(),
                if shadow.compare { ", compared" } else { "" }
            );
        }
    }
}

fn cgi(file: Option<PathBuf>, env: &HashMap<String, String>) -> ExitCode {
    let (cfg, settings) = match load(file.as_deref(), None, env) {
        Ok(loaded) => loaded,
        Err(err) => return config_error(&err),
    };
    // CGI output belongs to the web server: logs go to stderr only on
    // warnings. Held to the end: dropping it writes out what is queued.
    let metrics = Metrics::new();
    let _logs = telemetry::init(
        settings.log_format,
        "warn",
        settings.log_queue_bytes,
        // One request per process: no trace exporter for it.
        None,
        &metrics,
    );
    let table = match config::build_table(&cfg, &demo::handlers(), &metrics) {
        Ok(table) => table,
        Err(err) => return config_error(&err),
    };
    let dispatcher = Dispatcher::new(table, settings.dispatch.clone());
    let gateway = Gateway::with_metrics(dispatcher, settings.limits, settings.encode, metrics);
    let app = App::new(gateway, settings.http.clone());
    let written = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(xmlrpc_gateway::http::cgi::handle(
            &app,
            env,
            std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        ));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xmlrpc-gateway cgi: {err}");
            ExitCode::FAILURE
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// One GET with a deadline on the whole exchange; the answer's status
/// decides the exit code. What went wrong goes to stderr, which Docker keeps
/// in the container's health log.
fn healthcheck(url: &str, any_status: bool, timeout: Duration) -> ExitCode {
    let probe = async {
        let response = http_client()
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status();
        if status == reqwest::StatusCode::OK || any_status {
            Ok(status)
        } else {
            Err(format!("GET {url}: {status}"))
        }
    };
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(probe);
    match outcome {
        Ok(status) => {
            println!("healthy: {status}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("xmlrpc-gateway healthcheck: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Every connection is a file descriptor: raise the soft limit toward the
/// hard one, and say so when it still cannot hold `max_connections`.
fn raise_fd_limit(max_connections: usize) {
    let wanted = max_connections as u64 + 256;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(got) if got < wanted => tracing::warn!(
            fd_limit = got,
            max_connections,
            "the open-file limit is below limits.max_connections; raise `ulimit -n` or lower the limit"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not read or raise the open-file limit"),
    }
}
