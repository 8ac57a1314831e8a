//! Compaction keeps every record's history, heads, changes and pending pushes exactly as they
//! were, and the store takes fewer bytes.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crate::common::{TempStore, author, household};
use cunji_core::domain::{Household, Visit};
use cunji_core::{Author, IncomingChange, Store};

#[derive(Debug, PartialEq)]
struct Seen {
    history: Vec<cunji_core::doc::HistoryEntry>,
    heads: Vec<automerge::ChangeHash>,
    changes: Vec<Vec<u8>>,
    json: serde_json::Value,
}

fn snapshot_of(store: &Store) -> BTreeMap<String, Seen> {
    store
        .record_ids()
        .unwrap()
        .into_iter()
        .map(|id| {
            let mut changes = store.changes_of(&id).unwrap();
            changes.sort();
            let seen = Seen {
                history: store.history(&id).unwrap(),
                heads: store.heads(&id).unwrap(),
                changes,
                json: store.document_json(&id).unwrap(),
            };
            (id, seen)
        })
        .collect()
}

fn outbox(store: &Store) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    store
        .outbox_batch(10_000, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|i| (i.doc_id, i.change, i.signature))
        .collect()
}

#[test]
fn compaction_keeps_history_heads_and_outbox_and_shrinks_the_store() {
    let mut s = TempStore::new();
    let mut ids = Vec::new();
    for n in 0..40 {
        let id = s.create(&author("c1"), &household(n)).unwrap();
        // Edits leave change chunks behind (small ones are not folded by themselves).
        for k in 0..4 {
            let mut h = s.get::<Household>(&id).unwrap().record;
            h.phone = Some(format!("1390000{n:02}{k:02}"));
            let a = Author::at("c1", format!("更正电话 {k}"), author("c1").at);
            s.update(&a, &id, &h).unwrap();
        }
        ids.push(id);
    }
    for _ in 0..40 {
        s.create(&author("cadre-li-ming"), &Visit::example())
            .unwrap();
    }
    // A change from another replica, merged in: compaction keeps foreign changes too.
    let mut other = TempStore::new();
    let foreign = other.create(&author("c2"), &household(500)).unwrap();
    let incoming: Vec<IncomingChange> = other
        .changes_of(&foreign)
        .unwrap()
        .into_iter()
        .map(|bytes| IncomingChange {
            doc_id: foreign.clone(),
            bytes,
        })
        .collect();
    s.apply_changes(&incoming).unwrap();

    let before = snapshot_of(&s);
    let pending = outbox(&s);
    assert_eq!(before.len(), 81);
    assert!(before.values().any(|seen| seen.history.len() == 5));

    let report = s.compact().unwrap();
    assert_eq!(report.documents, 81);
    assert!(
        report.document_bytes_after < report.document_bytes_before,
        "{report:?}"
    );
    assert!(
        report.file_bytes_after < report.file_bytes_before,
        "{report:?}"
    );

    // Exactly the same documents, histories and heads; the outbox pushes the same bytes.
    assert_eq!(snapshot_of(&s), before);
    assert_eq!(outbox(&s), pending);
    let chunks: i64 = s
        .conn()
        .query_row("SELECT count(*) FROM doc_chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(chunks, 0);

    // After reopening too, and the store keeps working: edits, merges, a second compaction.
    let mut s = s.reopen();
    assert_eq!(snapshot_of(&s), before);
    let mut h = s.get::<Household>(&ids[0]).unwrap().record;
    h.phone = Some("13911112222".into());
    assert!(s.update(&author("c1"), &ids[0], &h).unwrap());
    assert_eq!(s.history(&ids[0]).unwrap().len(), 6);
    let again = s.compact().unwrap();
    assert_eq!(again.documents, 81);
    assert_eq!(
        s.history(&ids[0]).unwrap()[..5],
        before[&ids[0]].history[..]
    );
    let check: String = s
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn an_encrypted_store_compacts_too() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite3");
    let mut s = Store::open_with_pin(&db, "246810").unwrap();
    for n in 0..10 {
        s.create(&author("c1"), &household(n)).unwrap();
    }
    let before = snapshot_of(&s);
    let report = s.compact().unwrap();
    assert!(report.document_bytes_after < report.document_bytes_before);
    drop(s);
    let s = Store::open_with_pin(&db, "246810").unwrap();
    assert_eq!(snapshot_of(&s), before);
}
