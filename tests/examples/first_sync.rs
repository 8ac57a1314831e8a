//! A new phone's first sync against a running server: what it receives, in bytes and seconds,
//! against a baseline of gzip(NDJSON) of exactly the records it holds afterwards (issue 13's
//! measurement; BENCHMARKS.md says how it was run).
//!
//!     cargo run --release -p cunji-tests --example first_sync -- URL LOGIN
//!
//! The account must have the tests' password (`cunji_tests::PASSWORD`; set it with the
//! server's `add-account`). Prints one line per figure and the records held, by kind.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, login] = args.as_slice() else {
        eprintln!("usage: first_sync URL LOGIN");
        std::process::exit(2);
    };
    let mut device = cunji_tests::Device::new(url, login).sign_in();
    let started = Instant::now();
    let report = device.sync().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let ids = device.store.record_ids().unwrap();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    // Two baselines: each record as the phone holds it (its envelope, with the id, kind,
    // author, device and time, and its data), and its data alone.
    let (mut whole, mut data) = (Vec::new(), Vec::new());
    for id in &ids {
        let doc = device.store.document_json(id).unwrap();
        let kind = doc["meta"]["kind"].as_str().unwrap_or("?").to_string();
        *by_kind.entry(kind).or_default() += 1;
        serde_json::to_writer(&mut whole, &doc).unwrap();
        whole.push(b'\n');
        serde_json::to_writer(&mut data, &doc["data"]).unwrap();
        data.push(b'\n');
    }
    let gzip = |bytes: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap().len()
    };
    let (baseline, data_only) = (gzip(&whole), gzip(&data));
    println!("first sync of {login}: {} records", ids.len());
    println!("  seconds                       {seconds:.2}");
    println!("  requests                      {}", report.requests);
    println!("  response bytes                {}", report.bytes_received);
    println!("  changes pulled                {}", report.pulled);
    println!("  baseline gzip(NDJSON) bytes   {baseline}  (records with their envelopes)");
    println!(
        "  ratio                         {:.2}x",
        report.bytes_received as f64 / baseline as f64
    );
    println!("  gzip(NDJSON of data) bytes    {data_only}  (without id, kind, author, time)");
    println!(
        "  ratio to data alone           {:.2}x",
        report.bytes_received as f64 / data_only as f64
    );
    for (kind, n) in by_kind {
        println!("  {kind:<28}  {n}");
    }
}
