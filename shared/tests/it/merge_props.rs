//! Property test: replicas that edit at random and exchange changes in random order, with
//! duplicates and out-of-order delivery, end with the same documents and projections, and no
//! edit is lost.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use crate::common::{TempStore, author, household};
use cunji_core::domain::Record;
use cunji_core::domain::codes::Health;
use cunji_core::domain::{Household, Visit};
use cunji_core::{IncomingChange, Store};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, seq::SliceRandom};

const REPLICAS: usize = 3;
const RECORDS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    /// Replica `r` sets a field of household `h`.
    Edit {
        r: usize,
        h: usize,
        field: u8,
        value: u8,
    },
    /// Replica `r` records a visit to household `h`.
    Visit { r: usize, h: usize },
    /// Replica `to` receives a random part of replica `from`'s changes, shuffled, duplicated.
    Deliver { from: usize, to: usize, seed: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..REPLICAS, 0..RECORDS, 0u8..4, any::<u8>())
            .prop_map(|(r, h, field, value)| Op::Edit { r, h, field, value }),
        1 => (0..REPLICAS, 0..RECORDS).prop_map(|(r, h)| Op::Visit { r, h }),
        3 => (0..REPLICAS, 0..REPLICAS, any::<u64>())
            .prop_map(|(from, to, seed)| Op::Deliver { from, to, seed }),
    ]
}

fn all_changes(s: &Store) -> Vec<IncomingChange> {
    let mut out = Vec::new();
    for id in s.record_ids().unwrap() {
        for bytes in s.changes_of(&id).unwrap() {
            out.push(IncomingChange {
                doc_id: id.clone(),
                bytes,
            });
        }
    }
    out
}

/// Delivers a shuffled selection of `from`'s changes (some twice) to `to`, in several batches.
fn deliver(stores: &mut [TempStore], from: usize, to: usize, seed: u64, everything: bool) {
    if from == to {
        return;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut changes = all_changes(&stores[from]);
    if !everything {
        changes.retain(|_| rng.gen_bool(0.6));
    }
    let dups: Vec<IncomingChange> = changes
        .iter()
        .filter(|_| rng.gen_bool(0.2))
        .cloned()
        .collect();
    changes.extend(dups);
    changes.shuffle(&mut rng);
    while !changes.is_empty() {
        let n = rng.gen_range(1..=changes.len());
        let batch: Vec<IncomingChange> = changes.drain(..n).collect();
        stores[to].apply_changes(&batch).unwrap();
    }
}

fn edit(h: &mut Household, field: u8, value: u8) {
    match field {
        0 => h.phone = Some(format!("1380000{value:04}")),
        1 => h.plan = Some(format!("计划{value}")),
        2 => h.land_mu = Some(f64::from(value) / 4.0),
        _ => {
            let key = h
                .members
                .keys()
                .nth(usize::from(value) % h.members.len())
                .unwrap()
                .clone();
            let m = h.members.get_mut(&key).unwrap();
            m.health = if m.health == Health::Healthy {
                Health::Chronic
            } else {
                Health::Healthy
            };
        }
    }
}

/// A comparable dump of the projection tables (without the ids of rows' own order).
fn projections(s: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["p_household", "p_member", "p_visit"] {
        let mut stmt = s.conn().prepare(&format!("SELECT * FROM {table}")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let vals: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                Ok(format!("{table}:{}", vals.join("|")))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        out.extend(rows);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 24 in CI; PROPTEST_CASES runs more.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_and_lose_no_edit(ops in prop::collection::vec(op(), 1..40), seed in any::<u64>()) {
        let mut stores: Vec<TempStore> = (0..REPLICAS).map(|_| TempStore::new()).collect();
        // Replica 0 registers the households; everyone starts from them.
        let ids: Vec<String> = (0..RECORDS)
            .map(|n| stores[0].create(&author("c0"), &household(n as u64)).unwrap())
            .collect();
        for to in 1..REPLICAS {
            deliver(&mut stores, 0, to, seed ^ to as u64, true);
        }

        let mut made: BTreeSet<String> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Edit { r, h, field, value } => {
                    let cadre = format!("c{r}");
                    let mut rec = stores[r].get::<Household>(&ids[h]).unwrap().record;
                    edit(&mut rec, field, value);
                    stores[r].update(&author(&cadre), &ids[h], &rec).unwrap();
                }
                Op::Visit { r, h } => {
                    let cadre = format!("c{r}");
                    let mut v = Visit::example();
                    v.household_id = ids[h].clone();
                    v.visitor_id = cadre.clone();
                    stores[r].create(&author(&cadre), &v).unwrap();
                }
                Op::Deliver { from, to, seed } => deliver(&mut stores, from, to, seed, false),
            }
        }
        // Every change any replica made, by hash.
        for s in &stores {
            for item in s.outbox_batch(100_000, usize::MAX).unwrap() {
                made.insert(item.hash.to_string());
            }
        }
        // Full exchange, still shuffled and duplicated.
        for round in 0..2u64 {
            for from in 0..REPLICAS {
                for to in 0..REPLICAS {
                    deliver(&mut stores, from, to, seed.wrapping_add(round * 31 + (from * 7 + to) as u64), true);
                }
            }
        }

        let reference = &stores[0];
        let ref_ids = reference.record_ids().unwrap();
        for s in &stores[1..] {
            prop_assert_eq!(s.record_ids().unwrap(), ref_ids.clone());
            for id in &ref_ids {
                prop_assert_eq!(s.document_json(id).unwrap(), reference.document_json(id).unwrap());
                let mut h1 = s.heads(id).unwrap();
                let mut h2 = reference.heads(id).unwrap();
                h1.sort();
                h2.sort();
                prop_assert_eq!(h1, h2);
            }
            prop_assert_eq!(projections(s), projections(reference));
            prop_assert_eq!(s.all_conflicts().unwrap(), reference.all_conflicts().unwrap());
            prop_assert_eq!(s.held_len().unwrap(), 0);
        }
        // No edit lost: every change made anywhere is in every replica's documents.
        for s in &stores {
            let mut present = BTreeSet::new();
            for id in s.record_ids().unwrap() {
                for c in s.history(&id).unwrap() {
                    present.insert(c.hash);
                }
            }
            for hash in &made {
                prop_assert!(present.contains(hash), "change {} lost", hash);
            }
        }
        // And every household still reads as a valid record, with no rule broken by the merge.
        for id in &ids {
            let h = reference.get::<Household>(id).unwrap().record;
            prop_assert!(h.validate().is_ok(), "{:?}", h.validate());
        }
        prop_assert!(reference.record_problems().unwrap().is_empty());
    }
}
