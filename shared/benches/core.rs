//! Core benchmarks, each against a baseline measured in the same run:
//! 1. recording a visit (document + change + outbox + projection, committed) vs a plain
//!    rusqlite insert of the same record as a JSON row;
//! 2. opening a store of 50,000 records and listing the first page of households
//!    (vs the same query on a plain table of JSON rows);
//! 3. bytes per record: the full document and a one-field edit's change, vs JSON and gzip(JSON);
//! 4. the plausibility check of stored document bytes (`doc::bounds::check`) vs automerge's
//!    own load of the same bytes.
//!
//! Run: `cargo bench -p cunji-core --bench core` (`CUNJI_BENCH_RECORDS` changes the 50,000).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::io::Write;
use std::time::{Duration, Instant};

use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::{Envelope, Household, Kind, RecordState, Visit};
use cunji_core::{Author, HouseholdFilter, Page, Store, open_connection};

fn author() -> Author {
    Author::at(
        "cadre-li-ming",
        "入户走访",
        "2016-03-01T09:00:00+08:00".parse().unwrap(),
    )
}

/// A household of village `n % 40` (its members' ID numbers are a record of their own since
/// issue 13, so figures of earlier runs wrote those too).
fn household(n: u64) -> Household {
    let mut h = Household::example();
    h.village_code = format!("5303221012{:02}", n % 40);
    h
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn gzip(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

fn bench_record_visit(dir: &std::path::Path) {
    const N: usize = 2000;
    let visit = Visit::example();
    let json = serde_json::to_string(&visit).unwrap();

    // Baseline: the same record as one JSON row, one committed transaction per insert, on a
    // connection opened with the same pragmas.
    let conn = open_connection(&dir.join("plain.sqlite3")).unwrap();
    conn.execute_batch("CREATE TABLE visits (id TEXT PRIMARY KEY, household_id TEXT, json TEXT)")
        .unwrap();
    let mut plain = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        conn.execute(
            "INSERT INTO visits (id, household_id, json) VALUES (?1, ?2, ?3)",
            (uuid::Uuid::now_v7().to_string(), &visit.household_id, &json),
        )
        .unwrap();
        plain.push(t.elapsed());
    }

    let mut store = Store::open(&dir.join("visits.sqlite3")).unwrap();
    let a = author();
    let mut ours = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        store.create(&a, &visit).unwrap();
        ours.push(t.elapsed());
    }
    // The Automerge part alone: build the document and its first change, no SQLite.
    let env = Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        kind: Kind::Visit,
        author_id: a.cadre_id.clone(),
        device_id: store.device().device_id.clone(),
        created_device_ts: a.at,
        device_uptime_ms: 0,
        geo: None,
        server_received_ts: None,
        state: RecordState::Submitted,
    };
    let edit = Edit {
        meta: ChangeMeta {
            reason: a.reason.clone(),
            cadre_id: a.cadre_id.clone(),
            device_id: env.device_id.clone(),
        },
        time_ms: 0,
    };
    let mut automerge_only = Vec::with_capacity(N);
    let mut signing = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        let (_, change) =
            RecordDoc::create(store.device().actor.clone(), &env, &visit, &edit).unwrap();
        automerge_only.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(store.device().sign_change(&env.id, &change.hash()));
        signing.push(t.elapsed());
    }
    let (p, o) = (median(plain), median(ours));
    println!("record a visit ({N} each, median):");
    println!(
        "  of which: Automerge document + change {:>7.1} µs",
        us(median(automerge_only))
    );
    println!(
        "  of which: Ed25519 signature           {:>7.1} µs",
        us(median(signing))
    );
    println!("  plain rusqlite JSON insert   {:>9.1} µs", us(p));
    println!("  Store::create(Visit)         {:>9.1} µs", us(o));
    println!(
        "  ratio                        {:>9.2}x (target ≤ 3x)",
        us(o) / us(p)
    );
}

/// A visit recorded in an encrypted store (SQLCipher, key from a PIN) against the same in a
/// plaintext store, both measured here in one run; and the one-off cost of the PIN.
fn bench_encryption(dir: &std::path::Path) {
    const N: usize = 2000;
    let visit = Visit::example();
    let a = author();
    let json = serde_json::to_string(&visit).unwrap();
    let time_creates = |store: &mut Store| {
        let mut v = Vec::with_capacity(N);
        for _ in 0..N {
            let t = Instant::now();
            store.create(&a, &visit).unwrap();
            v.push(t.elapsed());
        }
        median(v)
    };
    let time_inserts = |conn: &rusqlite::Connection| {
        conn.execute_batch(
            "CREATE TABLE visits (id TEXT PRIMARY KEY, household_id TEXT, json TEXT)",
        )
        .unwrap();
        let mut v = Vec::with_capacity(N);
        for _ in 0..N {
            let t = Instant::now();
            conn.execute(
                "INSERT INTO visits (id, household_id, json) VALUES (?1, ?2, ?3)",
                (uuid::Uuid::now_v7().to_string(), &visit.household_id, &json),
            )
            .unwrap();
            v.push(t.elapsed());
        }
        median(v)
    };
    let plain_store = time_creates(&mut Store::open(&dir.join("enc-base.sqlite3")).unwrap());
    let t = Instant::now();
    let mut enc = Store::open_with_pin(&dir.join("enc.sqlite3"), "246810").unwrap();
    let create_with_pin = t.elapsed();
    let enc_store = time_creates(&mut enc);
    drop(enc);
    let t = Instant::now();
    let enc = Store::open_with_pin(&dir.join("enc.sqlite3"), "246810").unwrap();
    let reopen_with_pin = t.elapsed();
    drop(enc);
    let salt = cunji_core::KeySalt::generate();
    let t = Instant::now();
    let key = cunji_core::DeviceKey::from_pin("246810", &salt).unwrap();
    let derive = t.elapsed();
    let plain_sql = time_inserts(&open_connection(&dir.join("enc-plain-sql.sqlite3")).unwrap());
    let enc_sql = time_inserts(
        &cunji_core::open_keyed_connection(&dir.join("enc-sql.sqlite3"), Some(&key)).unwrap(),
    );
    println!("encryption at rest ({N} visits each, median):");
    println!(
        "  Store::create(Visit), plaintext store   {:>8.1} µs",
        us(plain_store)
    );
    println!(
        "  Store::create(Visit), encrypted store   {:>8.1} µs",
        us(enc_store)
    );
    println!(
        "  ratio                                   {:>8.2}x",
        us(enc_store) / us(plain_store)
    );
    println!(
        "  plain JSON insert, plaintext file       {:>8.1} µs",
        us(plain_sql)
    );
    println!(
        "  plain JSON insert, encrypted file       {:>8.1} µs",
        us(enc_sql)
    );
    println!(
        "  ratio                                   {:>8.2}x",
        us(enc_sql) / us(plain_sql)
    );
    println!(
        "  Argon2id key from PIN                   {:>8.1} ms",
        derive.as_secs_f64() * 1e3
    );
    println!(
        "  open_with_pin: new store / existing     {:>8.1} / {:.1} ms",
        create_with_pin.as_secs_f64() * 1e3,
        reopen_with_pin.as_secs_f64() * 1e3
    );
}

/// Compaction of a store of households each edited a few times: bytes before and after, and
/// how long it takes. Baseline: `VACUUM` alone on the same file (what compaction adds to it is
/// the re-encoding of every document).
fn bench_compaction(dir: &std::path::Path) {
    const N: u64 = 1000;
    let path = dir.join("compact.sqlite3");
    let mut store = Store::open(&path).unwrap();
    let a = author();
    for n in 0..N {
        let h = household(n);
        let id = store.create(&a, &h).unwrap();
        for k in 0..4 {
            let mut e = h.clone();
            e.phone = Some(format!("139{n:04}{k:04}"));
            store.update(&a, &id, &e).unwrap();
        }
    }
    store
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let copy = dir.join("compact-vacuum.sqlite3");
    std::fs::copy(&path, &copy).unwrap();
    let t = Instant::now();
    let report = store.compact().unwrap();
    let compact = t.elapsed();
    let plain = open_connection(&copy).unwrap();
    let t = Instant::now();
    plain.execute_batch("VACUUM").unwrap();
    let vacuum = t.elapsed();
    println!("compaction ({N} households, 5 changes each):");
    println!(
        "  document bytes  {:>10} -> {:>10} ({:.2}x smaller)",
        report.document_bytes_before,
        report.document_bytes_after,
        report.document_bytes_before as f64 / report.document_bytes_after as f64
    );
    println!(
        "  file bytes      {:>10} -> {:>10} ({:.2}x smaller)",
        report.file_bytes_before,
        report.file_bytes_after,
        report.file_bytes_before as f64 / report.file_bytes_after as f64
    );
    println!(
        "  Store::compact {:>8.1} ms; VACUUM alone {:.1} ms ({:.1}x)",
        compact.as_secs_f64() * 1e3,
        vacuum.as_secs_f64() * 1e3,
        compact.as_secs_f64() / vacuum.as_secs_f64()
    );
}

/// What `doc::bounds::check` adds to loading a stored document: the check alone, automerge's
/// load alone (the baseline) and `RecordDoc::load` (both), on a household's stored bytes
/// after 5 and after 200 edits.
fn bench_load_bounds(dir: &std::path::Path) {
    let path = dir.join("bounds.sqlite3");
    let mut store = Store::open(&path).unwrap();
    let a = author();
    println!("stored document load: bounds::check vs automerge load (median of 1,000):");
    for edits in [5u64, 200] {
        let h = household(edits);
        let id = store.create(&a, &h).unwrap();
        for k in 0..edits {
            let mut e = h.clone();
            e.phone = Some(format!("139{k:08}"));
            e.plan = Some(format!("第{k}次修改的帮扶计划"));
            store.update(&a, &id, &e).unwrap();
        }
        let conn = store.conn();
        let mut bytes: Vec<u8> = conn
            .query_row("SELECT snapshot FROM documents WHERE id = ?1", [&id], |r| {
                r.get::<_, Option<Vec<u8>>>(0)
            })
            .unwrap()
            .unwrap_or_default();
        let mut stmt = conn
            .prepare("SELECT bytes FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")
            .unwrap();
        let chunks: Vec<Vec<u8>> = stmt
            .query_map([&id], |r| r.get(0))
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        for c in &chunks {
            bytes.extend_from_slice(c);
        }
        let time = |f: &mut dyn FnMut()| {
            median(
                (0..1000)
                    .map(|_| {
                        let t = Instant::now();
                        f();
                        t.elapsed()
                    })
                    .collect(),
            )
        };
        let check = time(&mut || cunji_core::doc::bounds::check(&bytes).unwrap());
        let automerge = time(&mut || {
            automerge::AutoCommit::load(&bytes).unwrap();
        });
        let actor = automerge::ActorId::random();
        let load = time(&mut || {
            RecordDoc::load(&id, None, std::slice::from_ref(&bytes), actor.clone()).unwrap();
        });
        println!(
            "  {edits:>3} edits, {:>6} bytes: check {:>7.1} us; automerge load {:>8.1} us \
             (baseline); RecordDoc::load {:>8.1} us; check / automerge load = {:.3}",
            bytes.len(),
            us(check),
            us(automerge),
            us(load),
            check.as_secs_f64() / automerge.as_secs_f64()
        );
    }
}

fn bench_open_and_list(dir: &std::path::Path) {
    let n: u64 = std::env::var("CUNJI_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let path = dir.join("big.sqlite3");
    let plain_path = dir.join("big-plain.sqlite3");
    let t = Instant::now();
    {
        let mut store = Store::open(&path).unwrap();
        let plain = open_connection(&plain_path).unwrap();
        plain
            .execute_batch(
                "CREATE TABLE households (id TEXT PRIMARY KEY, village_code TEXT, head_name TEXT, json TEXT);
                 CREATE INDEX households_v ON households(village_code, head_name);",
            )
            .unwrap();
        let a = author();
        for i in 0..n {
            let h = household(i);
            let id = store.create(&a, &h).unwrap();
            plain
                .execute(
                    "INSERT INTO households VALUES (?1, ?2, ?3, ?4)",
                    (
                        &id,
                        &h.village_code,
                        &h.head().unwrap().name,
                        serde_json::to_string(&h).unwrap(),
                    ),
                )
                .unwrap();
        }
    }
    let load = t.elapsed();
    for p in [&path, &plain_path] {
        open_connection(p)
            .unwrap()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len() + wal_len(&path);
    let plain_size = std::fs::metadata(&plain_path).unwrap().len() + wal_len(&plain_path);

    let mut ours = Vec::new();
    let mut plain = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let store = Store::open(&path).unwrap();
        let rows = store
            .list_households(&HouseholdFilter::default(), Page::first(50))
            .unwrap();
        assert_eq!(rows.len(), 50);
        ours.push(t.elapsed());
        drop(store);

        let t = Instant::now();
        let conn = open_connection(&plain_path).unwrap();
        let mut stmt = conn
            .prepare("SELECT id, village_code, head_name, json FROM households ORDER BY village_code, head_name, id LIMIT 50")
            .unwrap();
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 50);
        plain.push(t.elapsed());
    }
    let (o, p) = (median(ours), median(plain));
    println!(
        "store of {n} households (both files written in {:.1} s):",
        load.as_secs_f64()
    );
    println!(
        "  file size: Store {:.1} MB ({:.0} B/household), plain JSON table {:.1} MB ({:.0} B/household), ratio {:.2}x",
        size as f64 / 1e6,
        size as f64 / n as f64,
        plain_size as f64 / 1e6,
        plain_size as f64 / n as f64,
        size as f64 / plain_size as f64
    );
    println!(
        "  open + first page, plain table {:>8.2} ms",
        us(p) / 1000.0
    );
    println!(
        "  open + first page, Store       {:>8.2} ms (target < 50 ms)",
        us(o) / 1000.0
    );
    println!("  ratio                          {:>8.2}x", us(o) / us(p));
}

fn wal_len(path: &std::path::Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

fn bench_bytes(dir: &std::path::Path) {
    let mut store = Store::open(&dir.join("bytes.sqlite3")).unwrap();
    let a = author();
    println!("bytes per record:");
    println!(
        "  {:<10} {:>6} {:>10} {:>9} {:>12} {:>14}",
        "record", "JSON", "gzip(JSON)", "document", "doc/gzip", "1-field edit"
    );
    let h = household(1);
    let hid = store.create(&a, &h).unwrap();
    let mut h2 = h.clone();
    h2.phone = Some("13912345678".into());
    let v = Visit::example();
    let vid = store.create(&a, &v).unwrap();
    let mut v2 = v.clone();
    v2.demands = Some("希望尽快落实危房改造".into());
    store.update(&a, &hid, &h2).unwrap();
    store.update(&a, &vid, &v2).unwrap();
    for (name, id, json) in [
        ("household", &hid, serde_json::to_vec(&h).unwrap()),
        ("visit", &vid, serde_json::to_vec(&v).unwrap()),
    ] {
        let changes = store.changes_of(id).unwrap();
        let doc_bytes: usize = saved_len(&store, id);
        let edit = changes.last().unwrap().len();
        println!(
            "  {:<10} {:>6} {:>10} {:>9} {:>11.2}x {:>14}",
            name,
            json.len(),
            gzip(&json),
            doc_bytes,
            doc_bytes as f64 / gzip(&json) as f64,
            edit
        );
    }
}

/// The size of the document's compact save, as a snapshot in the store would be.
fn saved_len(store: &Store, id: &str) -> usize {
    let mut doc = automerge::AutoCommit::new();
    for c in store.changes_of(id).unwrap() {
        doc.load_incremental(&c).unwrap();
    }
    doc.save().len()
}

fn main() {
    // `cargo test --benches` runs bench targets with --bench absent; skip the heavy work then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    println!(
        "cunji-core benchmarks ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    // `cargo bench -p cunji-core --bench core -- encryption` runs only the named ones.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if wanted("visit") {
        bench_record_visit(dir.path());
    }
    if wanted("encryption") {
        bench_encryption(dir.path());
    }
    if wanted("compaction") {
        bench_compaction(dir.path());
    }
    if wanted("bytes") {
        bench_bytes(dir.path());
    }
    if wanted("bounds") {
        bench_load_bounds(dir.path());
    }
    if wanted("open") {
        bench_open_and_list(dir.path());
    }
}
