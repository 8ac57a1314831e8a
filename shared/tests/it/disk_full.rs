//! A full disk on a device: a clear error, no corruption, and work resumes when space returns.
//! SQLite's `max_page_count` stands in for the disk: past it every write fails with
//! SQLITE_FULL exactly as on a full file system.
#![allow(clippy::unwrap_used)]

use crate::common::{TempStore, author, household};
use cunji_core::domain::Household;

#[test]
fn a_full_disk_gives_a_clear_error_loses_nothing_and_writing_resumes() {
    let mut s = TempStore::new();
    let kept: Vec<String> = (0..5)
        .map(|n| s.create(&author("c1"), &household(n)).unwrap())
        .collect();
    let pages: i64 = s
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    s.conn()
        .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
        .unwrap();

    // Keep writing until the "disk" is full.
    let mut full = None;
    for n in 100..400 {
        match s.create(&author("c1"), &household(n)) {
            Ok(_) => {}
            Err(e) => {
                full = Some(e);
                break;
            }
        }
    }
    let err = full.expect("the store never filled up");
    assert_eq!(err.code(), "disk_full", "{err}");
    let outbox = s.outbox_len().unwrap();
    let ids = s.record_ids().unwrap();

    // Nothing half-written, everything before it readable, and the file intact.
    let check: String = s
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    for id in &kept {
        assert!(s.get::<Household>(id).is_ok());
    }
    assert_eq!(
        outbox,
        ids.len(),
        "the outbox and the documents disagree after the failed write"
    );

    // Space returns: writing resumes.
    s.conn()
        .query_row("PRAGMA max_page_count = 1073741823", [], |_| Ok(()))
        .unwrap();
    let id = s.create(&author("c1"), &household(999)).unwrap();
    assert!(s.get::<Household>(&id).is_ok());
    assert_eq!(s.record_ids().unwrap().len(), ids.len() + 1);
}
