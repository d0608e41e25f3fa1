//! The accept loop: a bounded number of HTTP/1.1 connections, each with
//! header and keep-alive timeouts, drained on shutdown.

use std::future::Future;
use std::io;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::App;
use super::service;

/// The most a connection buffers from its socket (request head included).
const READ_BUFFER_BYTES: usize = 64 << 10;

/// Serves `listener` until `shutdown` resolves; then `/readyz` answers 503,
/// the listener closes (new connections are refused), idle keep-alive
/// connections close, and requests in flight get up to the drain timeout
/// to finish (their responses say `Connection: close`).
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
    tokio::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: excess clients queue in the
        // kernel's backlog instead of costing us memory.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("semaphore is never closed"),
            () = &mut shutdown => break,
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
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let open = app.gateway.metrics().connection_open();
        if let Some(tls) = app.tls() {
            let (builder, watcher) = (builder.clone(), graceful.watcher());
            let guards = (open, permit);
            tokio::spawn(super::tls::serve_connection(
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
    app.admin.readiness.start_draining();
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
