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
use crate::metrics::Metrics;
use crate::xmlrpc::{EncodeOptions, Limits};

/// Every layer's options. `Default` mirrors Python's `SimpleXMLRPCServer`:
/// paths `/` and `/RPC2`, gzip above 1400 bytes, no nil, no introspection
/// or multicall until switched on.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The HTTP edge's settings.
    pub http: HttpOptions,
    /// Dispatch's switches and bounds.
    pub dispatch: DispatchOptions,
    /// The decoder's bounds.
    pub limits: Limits,
    /// The encoder's options.
    pub encode: EncodeOptions,
    /// Where the server counts; by default a fresh registry of its own (the
    /// binary makes one in `main` and hands the same one to the backends
    /// it builds, so their circuit states show beside the calls).
    pub metrics: Metrics,
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

/// A bound server, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    /// The operator's endpoints' own listener, when `admin.listen` is set.
    admin_listener: Option<TcpListener>,
    app: Arc<App>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port), and `admin.listen` if set.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        table: RoutingTable,
        options: ServerOptions,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let admin = match options.http.admin.listen {
            Some(admin_addr) => Some(TcpListener::bind(admin_addr).await.map_err(|e| {
                io::Error::new(e.kind(), format!("admin listener {admin_addr}: {e}"))
            })?),
            None => None,
        };
        let mut server = Server::from_listener(listener, table, options);
        server.admin_listener = admin;
        Ok(server)
    }

    /// Serves on a listener the caller bound. The admin endpoints are served
    /// on it too unless [`Server::with_admin_listener`] gives them their own
    /// (`admin.listen` is not bound here).
    pub fn from_listener(
        listener: TcpListener,
        table: RoutingTable,
        options: ServerOptions,
    ) -> Server {
        let dispatcher = Dispatcher::new(table, options.dispatch);
        let gateway =
            Gateway::with_metrics(dispatcher, options.limits, options.encode, options.metrics);
        let app = Arc::new(App::new(gateway, options.http));
        Server {
            listener,
            admin_listener: None,
            app,
        }
    }

    /// Serves the admin endpoints on `listener` instead of the main one.
    pub fn with_admin_listener(mut self, listener: TcpListener) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let app = Arc::get_mut(&mut self.app).ok_or_else(|| {
            io::Error::other("the server's app is shared already; set the admin listener first")
        })?;
        app.options.admin.listen = Some(addr);
        app.admin.options.listen = Some(addr);
        self.admin_listener = Some(listener);
        Ok(self)
    }

    /// The address served.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The admin listener's address, when it has one of its own.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The shared pipeline (for reloading the routing table).
    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// Serves until `shutdown` resolves, then for the shutdown delay, then
    /// drains (see [`http::serve`]). An admin listener keeps answering
    /// through the delay and the drain (`/readyz` 503) and closes after it.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Some(admin_listener) = self.admin_listener else {
            return http::serve(self.listener, self.app, shutdown).await;
        };
        let admin = Arc::new(self.app.admin.clone());
        let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
        let admin_task = tokio::spawn(http::serve_admin(admin_listener, admin, async {
            let _ = drained_rx.await;
        }));
        let result = http::serve(self.listener, self.app, shutdown).await;
        let _ = drained_tx.send(());
        let _ = admin_task.await;
        result
    }
}
