//! Embedding the gateway's server in a Rust program: the counterpart of
//! Python's `register_function` / `register_instance`.
//!
//! Run: `cargo run --example embedded`, then in another shell:
//! `python3 -c "import xmlrpc.client as x; print(x.ServerProxy('http://127.0.0.1:8001').add(2, 3))"`
//! Stop it with Ctrl-C. With `--once` it serves one scripted call to itself
//! and exits (CI runs it that way).

use std::time::Duration;

use xmlrpc_gateway::client::XmlRpcClient;
use xmlrpc_gateway::{Bytes, RoutingTable};
use xmlrpc_gateway::{Fault, Server, ServerOptions, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");

    let mut table = RoutingTable::new();
    // Typed functions: parameters and results convert by themselves, and
    // system.methodSignature reports [["int", "int", "int"]].
    table.register_function("add", |a: i64, b: i64| a + b)?.help =
        Some("add(a, b) => a + b".into());
    // Returning Result<_, Fault> sends the fault to the client unchanged.
    table.register_function("div", |a: i64, b: i64| -> Result<i64, Fault> {
        a.checked_div(b)
            .ok_or_else(|| Fault::new(1, "division by zero"))
    })?;
    table.register_function("checksum", |data: Bytes| {
        data.0.iter().map(|b| i64::from(*b)).sum::<i64>()
    })?;
    // Async functions work the same way.
    table.register_async("sleep", |ms: i64| async move {
        tokio::time::sleep(Duration::from_millis(ms.clamp(0, 5000) as u64)).await;
        ms
    })?;

    let options = ServerOptions::default()
        .introspection(true)
        .multicall(true)
        .allow_none(true);
    let addr = if once {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:8001"
    };
    let server = Server::bind(addr, table, options).await?;
    let url = format!("http://{}/RPC2", server.local_addr()?);
    println!("serving on {url}");

    if once {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let client = XmlRpcClient::new(&url)?;
        let sum = client
            .call("add", &[Value::Int(2), Value::Int(3)], &Default::default())
            .await?;
        println!("add(2, 3) = {sum:?}");
        assert_eq!(sum, Value::Int(5));
        let _ = stop.send(());
        running.await??;
        return Ok(());
    }
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
