//! The load benchmarks' floor for routed calls (workload 6): a minimal
//! hyper proxy that, for every POST, sends fixed bytes to the backend over
//! its own kept-alive HTTP/1.1 connection, reads the answer without parsing
//! it, and answers fixed bytes (the right answer, precomputed). Each client
//! connection gets one backend connection of its own, so there is no pool
//! and no lock. No gateway that makes one HTTP/1.1 exchange per call can
//! beat it on this machine.
//!
//! `cargo run --release --example proxy_floor -- 127.0.0.1:8101 http://127.0.0.1:8102/rpc request.json response.xml`

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: proxy_floor ADDR BACKEND_URL REQUEST_FILE RESPONSE_FILE";
    let addr = args.next().expect(usage);
    let backend: Uri = args.next().expect(usage).parse().expect("BACKEND_URL");
    let request = Bytes::from(std::fs::read(args.next().expect(usage))?);
    let response = Bytes::from(std::fs::read(args.next().expect(usage))?);
    let authority = backend.authority().expect("BACKEND_URL has a host").clone();
    let path: Uri = backend.path().parse().expect("a path");
    let listener = TcpListener::bind(&addr).await?;
    println!("proxy floor on {addr}, backend {backend}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let upstream = TcpStream::connect(authority.as_str()).await?;
        let _ = upstream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(upstream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        let (path, request, response) = (path.clone(), request.clone(), response.clone());
        let sender = std::sync::Arc::new(tokio::sync::Mutex::new(sender));
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (path, request, response) = (path.clone(), request.clone(), response.clone());
                let sender = sender.clone();
                async move {
                    // Read the request body (a real proxy must), make the
                    // backend exchange, read its answer, then answer.
                    let _ = req.into_body().collect().await;
                    let upstream = Request::post(path)
                        .header(hyper::header::HOST, "backend")
                        .header(hyper::header::CONTENT_TYPE, "application/json")
                        .body(Full::new(request))
                        .expect("a valid request");
                    let answer = sender.lock().await.send_request(upstream).await;
                    if let Ok(answer) = answer {
                        let _ = answer.into_body().collect().await;
                    }
                    let mut resp = Response::new(Full::new(response));
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
