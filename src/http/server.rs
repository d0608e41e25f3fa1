//! The accept loop: a bounded number of HTTP/1.1 connections, each with
//! header and keep-alive timeouts, drained on shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::app::App;
use super::service;
use super::tls::Tls;

/// The most a connection buffers from its socket (request head included).
const READ_BUFFER_BYTES: usize = 64 << 10;

/// Serves `listener` until `shutdown` resolves; then `/readyz` answers 503
/// at once while the listener keeps accepting and serving for
/// `shutdown_delay` (load balancers take the server out of rotation
/// meanwhile); then the listener closes (new connections are refused), idle
/// keep-alive connections close, and requests in flight get up to the drain
/// timeout to finish (their responses say `Connection: close`).
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(app.options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(app.options.header_read_timeout)
        // Each connection's read buffer may grow to this (hyper's default is
        // ~400 KiB): 64 KiB holds any sane request head, and bodies stream
        // through it. With 10,000 connections this is what bounds memory.
        .max_buf_size(READ_BUFFER_BYTES)
        .keep_alive(true);
    // Resolves when the listener is to close: at the shutdown signal
    // readiness turns 503, and connections are still taken for the delay.
    let readiness = app.admin.readiness.clone();
    let delay = app.options.shutdown_delay;
    let stop_accepting = async move {
        shutdown.await;
        readiness.start_draining();
        if !delay.is_zero() {
            tracing::info!(
                shutdown_delay = ?delay,
                "not ready; still serving new connections for the shutdown delay"
            );
            tokio::time::sleep(delay).await;
        }
    };
    tokio::pin!(stop_accepting);
    loop {
        // Wait for a free slot before accepting: excess clients queue in the
        // kernel's backlog instead of costing us memory.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore is never closed"),
            () = &mut stop_accepting => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop_accepting => break,
        };
        let _ = stream.set_nodelay(true);
        let open = app.gateway.metrics().connection_open();
        if let Some(tls) = app.tls() {
            let (builder, watcher) = (builder.clone(), graceful.watcher());
            let guards = (open, permit);
            tokio::spawn(serve_tls_connection(
                tls,
                app.clone(),
                stream,
                peer,
                builder,
                watcher,
                guards,
            ));
            continue;
        }
        let app = app.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(service::handle(app, req, Some(peer)).await) }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!(peer = %peer, error = %err, "connection ended with an error");
            }
            drop(open);
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        drain_timeout = ?app.options.drain_timeout,
        "listener closed; draining connections"
    );
    if tokio::time::timeout(app.options.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout reached; closing remaining connections");
    } else {
        tracing::info!("drained");
    }
    Ok(())
}

/// Serves one accepted TCP connection over TLS: the handshake (bounded by
/// `handshake_timeout`, so a silent client cannot hold a slot), then HTTP/1.1
/// as on a plain connection. `guards` (the connection slot and gauge) are
/// dropped when the connection ends.
fn serve_tls_connection(
    tls: Arc<Tls>,
    app: Arc<App>,
    stream: TcpStream,
    peer: SocketAddr,
    builder: http1::Builder,
    watcher: Watcher,
    guards: impl Send + 'static,
) -> impl Future<Output = ()> + Send + 'static {
    let handshake_timeout: Duration = app.options.header_read_timeout;
    async move {
        let stream =
            match tokio::time::timeout(handshake_timeout, tls.acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    tracing::debug!(peer = %peer, error = %err, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(peer = %peer, "TLS handshake timed out");
                    return;
                }
            };
        let service = service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(service::handle(app, req, Some(peer)).await) }
        });
        let conn = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
        if let Err(err) = conn.await {
            tracing::debug!(peer = %peer, error = %err, "connection ended with an error");
        }
        drop(guards);
    }
}
