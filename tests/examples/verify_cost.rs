//! What checking pulled changes' proofs costs a phone (issue 14's measurement): 10,000
//! check-ins made and signed on one phone, then applied to fresh phone stores page by page as
//! a pull applies them, once without checks and once checking each change's signature
//! against its device's key first (`sync::proof::Keyring::check`, what the sync client runs
//! before `apply_page`), alternating, several rounds (BENCHMARKS.md says how it was run).
//!
//!     cargo run --release -p cunji-tests --example verify_cost -- [RECORDS] [ROUNDS]
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::time::Instant;

use cunji_core::IncomingChange;
use cunji_core::domain::CheckIn;
use cunji_core::sync::protocol::{AuthorKey, Proof};
use cunji_core::{Author, Store};

const PAGE: usize = 1_000;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let records = args.first().copied().unwrap_or(10_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let mut phone = Store::open(&dir.path().join("author.sqlite3")).unwrap();
    let at = chrono::Utc::now().fixed_offset();
    for i in 0..records {
        let mut c = CheckIn::example();
        c.cadre_id = "cadre-li-ming".into();
        c.ts = at - chrono::Duration::minutes(i as i64);
        phone
            .create(&Author::at("cadre-li-ming", "打卡", c.ts), &c)
            .unwrap();
    }
    let outbox = phone.outbox_batch(usize::MAX, usize::MAX).unwrap();
    let pulled: Vec<(IncomingChange, Proof)> = outbox
        .iter()
        .map(|i| {
            (
                IncomingChange {
                    doc_id: i.doc_id.clone(),
                    bytes: i.change.clone(),
                },
                Proof::Device(i.signature.clone()),
            )
        })
        .collect();
    let keys = [AuthorKey {
        actor: phone.device().actor.to_bytes().to_vec(),
        public_key: phone.device().public_key().to_vec(),
    }];
    let server_key = [0u8; 32];
    let bytes: usize = pulled.iter().map(|(c, _)| c.bytes.len()).sum();
    println!("{records} check-ins, {bytes} bytes of changes, pages of {PAGE}");

    let mut plain = Vec::new();
    let mut checked = Vec::new();
    for round in 0..rounds {
        for verify in [false, true] {
            let path = dir.path().join(format!("r{round}-{verify}.sqlite3"));
            let mut store = Store::open(&path).unwrap();
            let started = Instant::now();
            for (n, page) in pulled.chunks(PAGE).enumerate() {
                if verify {
                    let mut ring = store.keyring().unwrap();
                    ring.admit(&keys, &server_key).unwrap();
                    for (c, proof) in page {
                        ring.check(&c.doc_id, &c.bytes, proof).unwrap();
                    }
                    store.keep_keys(&ring).unwrap();
                }
                let changes: Vec<IncomingChange> = page.iter().map(|(c, _)| c.clone()).collect();
                store.apply_page(&changes, "village:x", n as i64).unwrap();
            }
            let s = started.elapsed().as_secs_f64();
            assert_eq!(store.record_ids().unwrap().len(), records);
            if verify {
                checked.push(s);
            } else {
                plain.push(s);
            }
            println!(
                "round {round} {}: {s:.3} s",
                if verify { "checked" } else { "plain" }
            );
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (p, c) = (median(&mut plain), median(&mut checked));
    println!(
        "median: plain {p:.3} s, checked {c:.3} s, ratio {:.3}, {:.1} µs per change checked",
        c / p,
        (c - p) / records as f64 * 1e6
    );
}
