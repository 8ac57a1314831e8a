//! City-scale generator benchmark (BENCHMARKS.md): generates a share of seed 001's city into a
//! SQLite file through the server's merge, then, in the same run, the plain-SQLite baseline
//! (every record state's JSON as one row of a plain table), and prints time, rate, file size
//! and peak RSS of both.
//!
//! ```sh
//! cargo run --release -p cunji-sync-server --example generate_city -- \
//!     --scale 0.1 --out /tmp/city.sqlite3 --baseline /tmp/city-plain.sqlite3
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use cunji_sync_server::generate::{self, Options, city::City};
use cunji_sync_server::store::Db;

mod common;

/// The server binary's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let mut scale = 0.1;
    let mut seed = 1;
    let mut out = PathBuf::from("/tmp/city.sqlite3");
    let mut plain = PathBuf::from("/tmp/city-plain.sqlite3");
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    common::each_flag(|flag, v| {
        match flag {
            "--scale" => scale = v.parse()?,
            "--seed" => seed = v.parse()?,
            "--out" => out = v.into(),
            "--baseline" => plain = v.into(),
            "--threads" => threads = v.parse()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    for p in [&out, &plain] {
        common::remove_db(p);
    }
    let options = Options {
        seed,
        villages: City::villages_for_scale(scale),
        threads,
        demo_password: None,
        registers_only: false,
    };
    println!(
        "scale {scale} = {} villages, seed {seed}, {threads} worker threads",
        options.villages
    );
    let db = Db::open(&out.display().to_string())?;
    let report = generate::generate(&db, &options, &mut |p| {
        if p.chunks_done % 10 == 0 || p.chunks_done == p.chunks_total {
            eprintln!(
                "  {}/{} villages, {} changes, {:.0} s, {:.0}/s",
                p.chunks_done.saturating_sub(1),
                p.chunks_total - 1,
                p.changes,
                p.elapsed_s,
                p.changes as f64 / p.elapsed_s.max(1e-9)
            );
        }
    })?;
    drop(db);
    let rss = common::peak_rss_kib();
    let size = db_size(&out);
    println!(
        "generator: {} households, {} cadres, {} records, {} changes in {:.1} s = {:.0} changes/s; \
         refused as planned {:?}, unexpected {}",
        report.households,
        report.cadres,
        report.total_records(),
        report.changes,
        report.seconds,
        report.changes as f64 / report.seconds,
        report.refused,
        report.unexpected
    );
    for (kind, n) in &report.records {
        println!("  {kind:<14} {n:>10}");
    }
    println!(
        "generator file: {:.1} MB ({:.0} B per change); peak RSS {:.0} MB",
        size as f64 / 1e6,
        size as f64 / report.changes.max(1) as f64,
        rss as f64 / 1024.0
    );

    let base = generate::baseline(&plain, &options)?;
    let plain_size = db_size(&plain);
    println!(
        "baseline (plain JSON rows): {} rows in {:.1} s = {:.0} rows/s, file {:.1} MB",
        base.rows,
        base.seconds,
        base.rows as f64 / base.seconds,
        plain_size as f64 / 1e6
    );
    println!(
        "ratio generator/baseline: time {:.2}×, file size {:.2}×",
        report.seconds / base.seconds,
        size as f64 / plain_size as f64
    );
    Ok(())
}

fn db_size(p: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", p.display())).ok())
        .map(|m| m.len())
        .sum()
}
