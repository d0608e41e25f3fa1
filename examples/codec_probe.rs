//! A probe for instruction counts: decodes a `<methodCall>` file N times
//! and encodes its first param as a response each time, with the gateway
//! binary's allocator. Run it under callgrind to count what the codec
//! spends on a document, repeatably on any machine:
//!
//! `cargo build --profile profiling --example codec_probe`
//! `valgrind --tool=callgrind target/profiling/examples/codec_probe call.xml 1`

use xmlrpc_gateway::xmlrpc::{EncodeOptions, Limits, decode_call, encode_response};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: codec_probe CALL.xml [N]")?;
    let rounds: usize = args.next().map_or(Ok(1), |n| n.parse())?;
    let doc = std::fs::read(path)?;
    let opts = EncodeOptions::default();
    let mut written = 0;
    for _ in 0..rounds {
        let call = decode_call(&doc, &Limits::default())?;
        let first = call.params.first().ok_or("the call has no params")?;
        written += encode_response(first, &opts)?.len();
    }
    println!("{rounds} rounds, {written} bytes encoded");
    Ok(())
}
