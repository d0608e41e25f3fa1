//! The `xmlrpc` backend kind: calls are forwarded as XML-RPC, over HTTP
//! with [`XmlRpcClient`] (TCP or a Unix socket) or over SCGI; faults pass
//! through unchanged. It also answers the gateway's introspection: the
//! backend's own `system.listMethods` (cached for [`LIST_TTL`]),
//! `methodHelp` and `methodSignature`, over the same transport.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::client::{self, XmlRpcClient};
use super::endpoint::{Endpoint, Transport};
use super::error::BackendError;
use super::scgi::ScgiClient;
use super::service::Backend;
use super::service::BackendCall;
use super::service::Introspected;
use super::service::{MethodInfo, signature_rows};
use super::spec::BuildError;
use crate::call::CallContext;
use crate::xmlrpc::{Limits, Value};

/// Methods described at once (their `methodSignature` and `methodHelp`).
const DESCRIBE_CONCURRENCY: usize = 4;

/// How long a backend's method list is reused.
pub(super) const LIST_TTL: Duration = Duration::from_secs(60);

type MethodCache = Mutex<Option<(Instant, Arc<Vec<String>>)>>;

/// How the XML-RPC documents travel.
#[derive(Clone)]
enum Client {
    Http(XmlRpcClient),
    Scgi(ScgiClient),
}

impl Client {
    async fn call(
        &self,
        method: &str,
        params: &[Value],
        headers: &reqwest::header::HeaderMap,
        retries: u32,
    ) -> Result<Value, BackendError> {
        match self {
            Client::Http(http) => {
                http.call_with_retries(method, params, headers, retries)
                    .await
            }
            Client::Scgi(scgi) => {
                let body = client::encode_call(method, params)?;
                let answer = scgi.post(&body, headers, retries).await?;
                client::decode_answer(&answer, &Limits::default())
            }
        }
    }
}

/// Another XML-RPC server.
pub(super) struct XmlRpcBackend {
    endpoint: Arc<Endpoint>,
    client: Client,
    methods: Arc<MethodCache>,
}

impl XmlRpcBackend {
    pub(super) fn new(endpoint: Arc<Endpoint>) -> Result<Self, BuildError> {
        let client = match &endpoint.transport {
            Transport::Http(http) => Client::Http(
                XmlRpcClient::new(endpoint.url.as_str())
                    .map_err(BuildError::Url)?
                    .with_http_client(http.clone()),
            ),
            Transport::Scgi(scgi) => Client::Scgi(scgi.clone()),
        };
        Ok(XmlRpcBackend {
            endpoint,
            client,
            methods: Arc::new(Mutex::new(None)),
        })
    }

    /// Calls a method through the breaker and limits; `deadline` is when
    /// the caller gives up (see `BackendCall::deadline`).
    fn forward(
        &self,
        method: String,
        params: Vec<Value>,
        retries: u32,
        deadline: Option<Instant>,
        ctx: CallContext,
    ) -> BoxFuture<'static, Result<Value, BackendError>> {
        let ep = self.endpoint.clone();
        let client = self.client.clone();
        async move {
            let (client, method, params) = (&client, &method, &params);
            ep.run(method, &ctx, deadline, |headers| async move {
                client.call(method, params, &headers, retries).await
            })
            .await
        }
        .boxed()
    }
}

impl Backend for XmlRpcBackend {
    fn name(&self) -> &str {
        &self.endpoint.name
    }

    fn circuit_open(&self) -> bool {
        self.endpoint.circuit_open()
    }

    fn call(
        &self,
        call: BackendCall,
        ctx: CallContext,
    ) -> BoxFuture<'static, Result<Value, BackendError>> {
        let retries = self.endpoint.retries_for(call.idempotent);
        self.forward(call.method, call.params, retries, call.deadline, ctx)
    }

    fn list_methods(&self, ctx: CallContext) -> Introspected<Vec<String>> {
        let cache = self.methods.clone();
        let fresh = {
            let guard = cache.lock().unwrap_or_else(|p| p.into_inner());
            guard
                .as_ref()
                .filter(|(at, _)| at.elapsed() < LIST_TTL)
                .map(|(_, names)| names.clone())
        };
        if let Some(names) = fresh {
            return Some(async move { Ok(names.as_ref().clone()) }.boxed());
        }
        let call = self.forward("system.listMethods".to_owned(), Vec::new(), 0, None, ctx);
        Some(
            async move {
                let names = match call.await? {
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::String(s) => Some(s),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                    other => {
                        return Err(BackendError::BadBody(format!(
                            "system.listMethods answered {}, not array",
                            other.type_name()
                        )));
                    }
                };
                *cache.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), Arc::new(names.clone())));
                Ok(names)
            }
            .boxed(),
        )
    }

    fn method_help(&self, method: &str, ctx: CallContext) -> Introspected<String> {
        let call = self.forward(
            "system.methodHelp".to_owned(),
            vec![Value::String(method.to_owned())],
            0,
            None,
            ctx,
        );
        Some(
            async move {
                match call.await? {
                    Value::String(s) => Ok(s),
                    other => Err(BackendError::BadBody(format!(
                        "system.methodHelp answered {}, not string",
                        other.type_name()
                    ))),
                }
            }
            .boxed(),
        )
    }

    fn method_signature(&self, method: &str, ctx: CallContext) -> Introspected<Value> {
        Some(self.forward(
            "system.methodSignature".to_owned(),
            vec![Value::String(method.to_owned())],
            0,
            None,
            ctx,
        ))
    }

    fn describe(&self, max: usize, ctx: CallContext) -> Introspected<Vec<MethodInfo>> {
        use futures_util::StreamExt;
        let list = self.list_methods(ctx.clone())?;
        let (endpoint, client, methods) = (
            self.endpoint.clone(),
            self.client.clone(),
            self.methods.clone(),
        );
        // A backend of its own for the per-method calls, sharing this one's
        // endpoint (breaker, limits) and client.
        let this = XmlRpcBackend {
            endpoint,
            client,
            methods,
        };
        Some(
            async move {
                let mut names = list.await?;
                names.retain(|n| !n.starts_with("system."));
                names.truncate(max);
                let asks = names.into_iter().map(|name| {
                    let signature = this.method_signature(&name, ctx.clone());
                    let help = this.method_help(&name, ctx.clone());
                    async move {
                        // A method whose signature or help fails is still listed.
                        let signatures = match signature {
                            Some(ask) => ask.await.map(|v| signature_rows(&v)).unwrap_or_default(),
                            None => Vec::new(),
                        };
                        let help = match help {
                            Some(ask) => ask.await.unwrap_or_default(),
                            None => String::new(),
                        };
                        MethodInfo {
                            name,
                            signatures,
                            help,
                        }
                    }
                });
                let described = futures_util::stream::iter(asks)
                    .buffered(DESCRIBE_CONCURRENCY)
                    .collect::<Vec<_>>()
                    .await;
                Ok(described)
            }
            .boxed(),
        )
    }
}
