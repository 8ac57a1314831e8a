//! The county import's benchmark (issue 15, BENCHMARKS.md "Importing a county's registers"):
//! the generator writes the registers of `--villages` villages of seed 001's city (households
//! with members and incomes, their numbers, cadres, units, the catalog, teams, assignments,
//! entitlements; `Options::registers_only`) through the server's merge into one SQLite file,
//! which is the baseline; the same records are then written out as one .xlsx workbook in the
//! import's layout (nothing masked: `import::export::export_in_clear`) and imported into a
//! fresh SQLite file, dry run then commit, as the administrator. Prints each step's time, the
//! ratio of the import (dry run + commit) to the generator, the file's size and each phase's
//! peak RSS (VmHWM, reset between phases through /proc/self/clear_refs).
//!
//! ```sh
//! cargo run --release -p cunji-sync-server --example import_county -- --villages 180 --dir /tmp/import-bench
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use cunji_core::doc::{RecordDoc, new_actor};
use cunji_core::domain::Kind;
use cunji_sync_server::accounts::{self, Role};
use cunji_sync_server::generate::{self, Options};
use cunji_sync_server::import::template::{TemplateKind, workbook};
use cunji_sync_server::import::{self, InputFile, export::export_in_clear};
use cunji_sync_server::records;
use cunji_sync_server::store::Db;

mod common;

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // The import's phases (read, plan, build/check/ingest per kind) at info.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "cunji_sync_server::import=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut villages = 180;
    let mut seed = 1;
    let mut dir = PathBuf::from("/tmp/import-bench");
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    common::each_flag(|flag, v| {
        match flag {
            "--villages" => villages = v.parse()?,
            "--seed" => seed = v.parse()?,
            "--dir" => dir = v.into(),
            "--threads" => threads = v.parse()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    std::fs::create_dir_all(&dir)?;
    let (source, target) = (dir.join("generated.sqlite3"), dir.join("imported.sqlite3"));
    for p in [&source, &target] {
        common::remove_db(p);
    }
    println!("{villages} villages of seed {seed}'s city, registers only, {threads} threads");

    // The baseline: the generator writes the registers through the same merge.
    common::reset_peak_rss();
    let db = Db::open(&source.display().to_string())?;
    let options = Options {
        seed,
        villages,
        threads,
        demo_password: None,
        registers_only: true,
    };
    let report = generate::generate(&db, &options, &mut |_| {})?;
    println!(
        "generator: {} households, {} records, {} changes in {:.1} s; peak RSS {:.0} MB",
        report.households,
        report.total_records(),
        report.changes,
        report.seconds,
        peak_rss_mib()
    );
    for (kind, n) in &report.records {
        println!("  {kind:<18} {n:>9}");
    }

    // The county's file: one workbook, every sheet; the villages as the CLI's CSV.
    let started = Instant::now();
    let (sheets, villages_csv) = db.read(|tx| {
        let sheets = export_in_clear(tx, TemplateKind::County)?;
        let mut csv =
            String::from("code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets\n");
        let mut after = String::new();
        loop {
            let ids = tx.doc_ids_of_kind(Kind::Village, &after, 500)?;
            let Some(last) = ids.last() else { break };
            after = last.clone();
            for id in &ids {
                let Some(row) = tx.doc(id)? else { continue };
                let doc = RecordDoc::load(id, Some(&row.snapshot), &row.chunks, new_actor())
                    .map_err(|e| cunji_sync_server::store::StoreError::Corrupt(e.to_string()))?;
                let v = doc
                    .data_json()
                    .map_err(|e| cunji_sync_server::store::StoreError::Corrupt(e.to_string()))?;
                let hamlets: Vec<&str> = v["hamlets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|h| h.as_str())
                    .collect();
                csv.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\n",
                    v["code"].as_str().unwrap_or(""),
                    v["township_code"].as_str().unwrap_or(""),
                    v["name"].as_str().unwrap_or(""),
                    v["is_poor_village"],
                    v["geofence"]["centroid"]["lat"],
                    v["geofence"]["centroid"]["lon"],
                    v["geofence"]["radius_m"],
                    hamlets.join(";")
                ));
            }
            if ids.len() < 500 {
                break;
            }
        }
        Ok::<_, cunji_sync_server::store::StoreError>((sheets, csv))
    })?;
    drop(db);
    let bytes = workbook(&sheets)?;
    let rows: usize = sheets.iter().map(|(_, r)| r.len()).sum();
    println!(
        "file: {rows} rows in {} sheets, {:.1} MB .xlsx, written in {:.1} s",
        sheets.len(),
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    for (sheet, r) in &sheets {
        println!("  {:<8} {:>9} rows", sheet.name_zh(), r.len());
    }
    drop(sheets);

    // The import into a fresh server: the administrator, its villages, then dry run and
    // commit of the workbook.
    let db = Db::open(&target.display().to_string())?;
    db.write(|tx| {
        accounts::upsert_account(tx, "admin", "管理员", Role::Admin, "", "benchmark-password")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        records::import_villages(tx, "admin", &villages_csv).map_err(|e| anyhow::anyhow!("{e}"))
    })?;
    let file = [InputFile {
        name: "county.xlsx".into(),
        bytes,
    }];
    let mut total = 0.0;
    for commit in [false, true] {
        common::reset_peak_rss();
        let started = Instant::now();
        let r = import::import(&db, "admin", &file, commit)?;
        let s = started.elapsed().as_secs_f64();
        total += s;
        anyhow::ensure!(
            r.ok(),
            "{} problems, the first: {:?}",
            r.problems.len(),
            r.problems.first()
        );
        println!(
            "import {}: {} changes in {:.1} s; peak RSS {:.0} MB",
            if commit { "commit" } else { "dry run" },
            r.changes,
            s,
            peak_rss_mib()
        );
        for k in &r.kinds {
            println!(
                "  {:<18} new {:>9} changed {} unchanged {}",
                k.kind, k.new, k.changed, k.unchanged
            );
        }
    }
    println!(
        "import dry run + commit {:.1} s; ratio to the generator {:.2}×",
        total,
        total / report.seconds
    );
    Ok(())
}

/// VmHWM of this process, in MiB.
fn peak_rss_mib() -> f64 {
    common::peak_rss_kib() as f64 / 1024.0
}
