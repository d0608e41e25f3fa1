//! A probe for instruction counts: decodes a `<methodCall>` file N times
//! and encodes its first param as a response each time, with the gateway
//! binary's allocator. Run it under callgrind to count what the codec
//! spends on a document, repeatably on any machine:
//!
//! `cargo build --profile profiling --example codec_probe`
//! `valgrind --tool=callgrind target/profiling/examples/codec_probe call.xml 1`
//!
//! A third argument picks what a round does: `both` (the default: decode
//! and encode), `decode` (decode only, the decoded call dropped), or
//! `bare` (quick-xml's bare event loop over the same bytes, as in
//! `benches/codec.rs`: the floor the decoder is compared with).

use quick_xml::Reader;
use quick_xml::events::Event;
use xmlrpc_gateway::xmlrpc::{EncodeOptions, Limits, decode_call, encode_response};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: codec_probe CALL.xml [N] [both|decode|bare]")?;
    let rounds: usize = args.next().map_or(Ok(1), |n| n.parse())?;
    let mode = args.next().unwrap_or_else(|| "both".into());
    let doc = std::fs::read(path)?;
    let opts = EncodeOptions::default();
    let mut written = 0;
    for _ in 0..rounds {
        match mode.as_str() {
            "bare" => written += bare_loop(&doc),
            "decode" => written += decode_call(&doc, &Limits::default())?.params.len(),
            "both" => {
                let call = decode_call(&doc, &Limits::default())?;
                let first = call.params.first().ok_or("the call has no params")?;
                written += encode_response(first, &opts)?.len();
            }
            other => return Err(format!("unknown mode {other:?}").into()),
        }
    }
    println!("{rounds} rounds ({mode}), {written}");
    Ok(())
}

/// quick-xml's event loop alone, as the codec bench runs it.
fn bare_loop(bytes: &[u8]) -> usize {
    let mut reader = Reader::from_reader(bytes);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => return events,
            Ok(event) => {
                std::hint::black_box(&event);
                events += 1;
            }
        }
    }
}
