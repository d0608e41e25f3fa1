//! The embeddable server: a routing table and options bound to a listener.
//! The binary is a thin layer over this.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, ToSocketAddrs};

use crate::dispatch::{DispatchOptions, Dispatcher, RoutingTable};
use crate::gateway::Gateway;
use crate::http::{self, App, HttpOptions};
use crate::xmlrpc::{EncodeOptions, Limits};

/// Every layer's options. `Default` mirrors Python's `SimpleXMLRPCServer`:
/// paths `/` and `/RPC2`, gzip above 1400 bytes, no nil, no introspection
/// or multicall until switched on.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    pub http: HttpOptions,
    pub dispatch: DispatchOptions,
    pub limits: Limits,
    pub encode: EncodeOptions,
}

impl ServerOptions {
    /// Python's `register_introspection_functions()`.
    pub fn introspection(mut self, on: bool) -> Self {
        self.dispatch.introspection = on;
        self
    }

    /// Python's `register_multicall_functions()`.
    pub fn multicall(mut self, on: bool) -> Self {
        self.dispatch.multicall = on;
        self
    }

    /// Python's `allow_none`.
    pub fn allow_none(mut self, on: bool) -> Self {
        self.dispatch.allow_none = on;
        self.encode.allow_none = on;
        self
    }
}

impl From<&crate::config::Settings> for ServerOptions {
    fn from(s: &crate::config::Settings) -> Self {
        ServerOptions {
            http: s.http.clone(),
            dispatch: s.dispatch.clone(),
            limits: s.limits,
            encode: s.encode,
        }
    }
}

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(
        addr: impl ToSocketAddrs,
        table: RoutingTable,
        options: ServerOptions,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server::from_listener(listener, table, options))
    }

    /// Serves on a listener the caller bound.
    pub fn from_listener(
        listener: TcpListener,
        table: RoutingTable,
        options: ServerOptions,
    ) -> Server {
        let dispatcher = Dispatcher::new(table, options.dispatch);
        let gateway = Gateway::new(dispatcher, options.limits, options.encode);
        let app = Arc::new(App {
            gateway,
            options: options.http,
        });
        Server { listener, app }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared pipeline (for reloading the routing table).
    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        http::serve(self.listener, self.app, shutdown).await
    }
}
