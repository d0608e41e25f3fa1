//! The load benchmarks' floor: a minimal hyper server that answers every
//! POST with fixed bytes (the right answer, precomputed) without parsing
//! anything. No XML-RPC server on this machine can beat it over HTTP.
//!
//! `cargo run --release --example hyper_floor -- 127.0.0.1:8100 response.xml`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8100".to_owned());
    let path = args.next().expect("usage: hyper_floor ADDR RESPONSE_FILE");
    let body = Bytes::from(std::fs::read(path)?);
    let listener = TcpListener::bind(&addr).await?;
    println!("hyper floor on {addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    // Read the request body (a real server must), then answer.
                    let _ = req.into_body().collect().await;
                    let mut resp = Response::new(Full::new(body));
                    resp.headers_mut().insert(
                        "content-type",
                        hyper::header::HeaderValue::from_static("text/xml"),
                    );
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
