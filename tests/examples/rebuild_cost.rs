//! What the numbers migration (`cunji_sync_server::rebuild`) costs on a real database: the
//! read pass over every household when none needs rebuilding (the baseline, as on a server
//! whose households are all of this build), then every household given its members' ID
//! numbers and a bank account the way an app from before the split stored them, its numbers
//! record removed (a server from before the split had none), and rebuilt: each household's
//! history replaced and its numbers record created (issue 13's measurement; BENCHMARKS.md says
//! how it was run).
//!
//!     cargo run --release -p cunji-tests --example rebuild_cost -- DATABASE
//!
//! DATABASE is changed: use a copy (of a generated city, say).
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use cunji_core::domain::{HouseholdPrivate, Kind, id_number};
use cunji_core::projection::Rows;
use cunji_sync_server::rebuild;
use cunji_sync_server::store::{Db, StoreError};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: rebuild_cost DATABASE");
        std::process::exit(2);
    };
    let db = Db::open(path).unwrap();
    let started = Instant::now();
    let read = rebuild::rebuild_households_with_numbers(&db).unwrap();
    let read_s = started.elapsed().as_secs_f64();
    println!(
        "read pass: {} households, {} rebuilt, {read_s:.2} s",
        read.households_read, read.households_rebuilt
    );

    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let batch = db
            .read(|tx| tx.doc_ids_of_kind(Kind::Household, &after, 1000))
            .unwrap();
        let Some(last) = batch.last().cloned() else {
            break;
        };
        ids.extend(batch);
        after = last;
    }
    let started = Instant::now();
    let removed = remove_numbers_records(&db);
    for (n, id) in ids.iter().enumerate() {
        let data = db
            .read(|tx| {
                let row = tx.doc(id)?.unwrap();
                Ok::<_, StoreError>(row.load()?.data_json().unwrap())
            })
            .unwrap();
        let mut id_numbers = BTreeMap::new();
        for (i, key) in data["members"].as_object().unwrap().keys().enumerate() {
            let k = n as u64 * 16 + i as u64;
            let first17 = format!("{:06}19800101{:03}", 110_000 + k / 1000, k % 1000);
            let check = id_number::check_char(&first17).unwrap();
            id_numbers.insert(key.clone(), format!("{first17}{check}"));
        }
        let numbers = HouseholdPrivate {
            household_id: id.clone(),
            bank_account: Some(format!("621098{n:013}")),
            id_numbers,
        };
        cunji_tests::store_numbers_in_household(&db, id, &numbers);
    }
    println!(
        "{removed} numbers records removed, numbers stored in {} households the old way: {:.2} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let rebuilt = rebuild::rebuild_households_with_numbers(&db).unwrap();
    let rebuild_s = started.elapsed().as_secs_f64();
    println!(
        "rebuild: {} households read, {} rebuilt, {} numbers records created, {} completed, {} left out, {rebuild_s:.2} s ({:.0} households/s; {:.1}x the read pass)",
        rebuilt.households_read,
        rebuilt.households_rebuilt,
        rebuilt.numbers_created,
        rebuilt.numbers_completed,
        rebuilt.numbers_left_out.len(),
        rebuilt.households_rebuilt as f64 / rebuild_s,
        rebuild_s / read_s
    );
}

/// Removes every household's numbers record, as on a server from before the split: its
/// document, its changes and its projection rows.
fn remove_numbers_records(db: &Db) -> usize {
    let mut removed = 0;
    loop {
        let ids = db
            .read(|tx| tx.doc_ids_of_kind(Kind::HouseholdPrivate, "", 500))
            .unwrap();
        if ids.is_empty() {
            return removed;
        }
        db.write(|tx| {
            for id in &ids {
                let row = tx.doc(id)?.unwrap();
                let hashes = row.load()?.change_hashes();
                tx.drop_history(id, &row.snapshot, &hashes, "bench", "")?;
                tx.replace_projection(Kind::HouseholdPrivate, id, Rows::default())?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
        removed += ids.len();
    }
}
