//! Codec benchmarks: decode and encode of representative documents, each
//! next to quick-xml's bare event loop over the same bytes (the floor no
//! XML-RPC decoder built on quick-xml can beat). Figures: `benches/README.md`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quick_xml::Reader;
use quick_xml::events::Event;
use xmlrpc_gateway::xmlrpc::{
    DateTime, EncodeOptions, Limits, Struct, Value, decode_call, decode_response, encode_call,
    encode_response,
};

/// One record of the large response: every scalar type, a string needing
/// escapes and holding non-ASCII text, and a nested array.
fn record(i: usize) -> Value {
    let mut members = Struct::new();
    members.insert("id".into(), Value::Int(i as i64 * 7919));
    members.insert("score".into(), Value::Double(i as f64 * 1.25 + 0.1));
    members.insert("active".into(), Value::Bool(i.is_multiple_of(3)));
    members.insert(
        "title".into(),
        Value::String(format!(
            "Item #{i} <{i}> & \"q\" \u{2014} caf\u{e9} na\u{ef}ve \u{65e5}\u{672c}\u{8a9e}"
        )),
    );
    let day = (i % 28) as u8 + 1;
    let stamp =
        DateTime::new(2026, 11, day, (i % 24) as u8, (i % 60) as u8, 30).expect("valid date");
    members.insert("updated".into(), Value::DateTime(stamp));
    members.insert(
        "blob".into(),
        Value::Base64((0..24).map(|b| (b * 31 + i) as u8).collect()),
    );
    members.insert(
        "tags".into(),
        Value::Array(vec![Value::Int(i as i64), Value::from("alpha")]),
    );
    Value::Struct(members)
}

fn large_response() -> Value {
    Value::Array((0..500).map(record).collect())
}

fn nested(depth: usize) -> Value {
    let mut value = Value::from("leaf");
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

fn big_base64() -> Value {
    Value::Base64(
        (0..(1 << 20))
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect(),
    )
}

fn bare_loop(bytes: &[u8]) -> usize {
    let mut reader = Reader::from_reader(bytes);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => return events,
            Ok(event) => {
                black_box(&event);
                events += 1;
            }
        }
    }
}

fn bench_response(c: &mut Criterion, name: &str, value: &Value) {
    let opts = EncodeOptions::default();
    let limits = Limits::default();
    let bytes = encode_response(value, &opts).expect("encodable");
    eprintln!("{name}: {} bytes", bytes.len());
    assert_eq!(
        decode_response(&bytes, &limits)
            .expect("decodable")
            .as_ref(),
        Ok(value)
    );
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(BenchmarkId::new("decode", name), |b| {
        b.iter(|| decode_response(black_box(&bytes), &limits))
    });
    group.bench_function(BenchmarkId::new("bare_loop", name), |b| {
        b.iter(|| bare_loop(black_box(&bytes)))
    });
    group.bench_function(BenchmarkId::new("encode", name), |b| {
        b.iter(|| encode_response(black_box(value), &opts))
    });
    group.finish();
}

fn small_call(c: &mut Criterion) {
    let opts = EncodeOptions::default();
    let limits = Limits::default();
    let params = [Value::Int(2), Value::Int(3)];
    let bytes = encode_call("add", &params, &opts).expect("encodable");
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(BenchmarkId::new("decode", "small_call"), |b| {
        b.iter(|| decode_call(black_box(&bytes), &limits))
    });
    group.bench_function(BenchmarkId::new("bare_loop", "small_call"), |b| {
        b.iter(|| bare_loop(black_box(&bytes)))
    });
    group.bench_function(BenchmarkId::new("encode", "small_call"), |b| {
        b.iter(|| encode_call("add", black_box(&params), &opts))
    });
    group.finish();
}

fn documents(c: &mut Criterion) {
    small_call(c);
    bench_response(c, "response_350k", &large_response());
    bench_response(c, "nested_60", &nested(60));
    bench_response(c, "base64_1m", &big_base64());
}

criterion_group!(benches, documents);
criterion_main!(benches);
