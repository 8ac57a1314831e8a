//! The store's behaviour on real SQLite files: writes, reads, history, merge, conflicts.
#![allow(clippy::unwrap_used)]

use crate::common::{TempStore, author, household};
use cunji_core::domain::codes::{Health, HouseholdStatus};
use cunji_core::domain::{CheckIn, Household, RecordState, Visit};
use cunji_core::{ApplyOutcome, Error, HouseholdFilter, IncomingChange, Page, Store};
use serde_json::json;

/// Sends every change of every record in `from` to `to`.
fn sync(from: &Store, to: &mut Store) {
    let mut batch = Vec::new();
    for id in from.record_ids().unwrap() {
        for bytes in from.changes_of(&id).unwrap() {
            batch.push(IncomingChange {
                doc_id: id.clone(),
                bytes,
            });
        }
    }
    to.apply_changes(&batch).unwrap();
}

#[test]
fn a_record_is_stored_with_its_outbox_entry_and_projection() {
    let mut s = TempStore::new();
    let id = s.create(&author("c1"), &household(1)).unwrap();
    let got = s.get::<Household>(&id).unwrap();
    assert_eq!(got.record, household(1));
    assert_eq!(got.envelope.author_id, "c1");
    assert_eq!(got.envelope.state, RecordState::Submitted);
    assert!(got.conflicts.is_empty());
    assert_eq!(s.outbox_len().unwrap(), 1);
    let rows = s
        .list_households(&HouseholdFilter::default(), Page::first(10))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
    assert_eq!(
        rows[0].head_name.as_deref(),
        Some(household(1).head().unwrap().name.as_str())
    );
    // The outbox entry verifies against this device's key.
    let item = &s.outbox_batch(10, 1 << 20).unwrap()[0];
    cunji_core::identity::verify_change(&s.device().public_key(), &id, &item.hash, &item.signature)
        .unwrap();
}

#[test]
fn an_edit_writes_one_change_with_history_of_old_and_new_values() {
    let mut s = TempStore::new();
    let id = s.create(&author("c1"), &household(1)).unwrap();
    let mut h = household(1);
    h.phone = Some("13900000000".into());
    let mut fix = author("c2");
    fix.reason = "户主换了手机号".into();
    assert!(s.update(&fix, &id, &h).unwrap());
    // Saving the same record again changes nothing.
    assert!(!s.update(&fix, &id, &h).unwrap());
    assert_eq!(s.outbox_len().unwrap(), 2);

    let history = s.history(&id).unwrap();
    assert_eq!(history.len(), 2);
    let last = &history[1];
    assert_eq!(
        (last.cadre_id.as_str(), last.reason.as_str()),
        ("c2", "户主换了手机号")
    );
    assert_eq!(last.device_id, s.device().device_id);
    assert_eq!(last.time_ms, fix.at.timestamp() * 1000);
    assert_eq!(last.fields.len(), 1, "{:?}", last.fields);
    let f = &last.fields[0];
    assert_eq!(f.path, vec!["data", "phone"]);
    assert_eq!(f.old, household(1).phone.map(|p| json!(p)));
    assert_eq!(f.new, Some(json!("13900000000")));
}

#[test]
fn an_edit_without_a_reason_is_refused() {
    let mut s = TempStore::new();
    let mut a = author("c1");
    a.reason = "  ".into();
    assert!(matches!(
        s.create(&a, &household(1)),
        Err(Error::ReasonRequired)
    ));
    assert_eq!(s.record_ids().unwrap().len(), 0);
}

#[test]
fn event_records_are_edited_only_by_their_author() {
    let mut s = TempStore::new();
    let visit = Visit::example();
    let id = s.create(&author(&visit.visitor_id), &visit).unwrap();
    let mut changed = visit.clone();
    changed.demands = Some("改了".into());
    let err = s
        .update(&author("someone-else"), &id, &changed)
        .unwrap_err();
    assert!(matches!(err, Error::NotAuthor { .. }), "{err}");
    assert_eq!(s.get::<Visit>(&id).unwrap().record, visit);
    assert!(s.update(&author(&visit.visitor_id), &id, &changed).unwrap());
}

#[test]
fn voiding_a_record_keeps_it_and_its_history() {
    let mut s = TempStore::new();
    let me = author(&CheckIn::example().cadre_id);
    let id = s.create(&me, &CheckIn::example()).unwrap();
    assert!(s.set_state(&me, &id, RecordState::Void).unwrap());
    let got = s.get::<CheckIn>(&id).unwrap();
    assert_eq!(got.envelope.state, RecordState::Void);
    assert_eq!(s.history(&id).unwrap().len(), 2);
    let state: String = s
        .conn()
        .query_row(
            "SELECT state FROM p_checkin WHERE doc_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "void");
}

#[test]
fn concurrent_edits_to_different_fields_of_a_household_both_survive() {
    let (mut a, mut b) = (TempStore::new(), TempStore::new());
    let id = a.create(&author("c1"), &household(1)).unwrap();
    sync(&a, &mut b);

    let mut ha = a.get::<Household>(&id).unwrap().record;
    ha.phone = Some("13811112222".into());
    a.update(&author("c1"), &id, &ha).unwrap();

    let mut hb = b.get::<Household>(&id).unwrap().record;
    let m = hb.members.keys().next().unwrap().clone();
    hb.members.get_mut(&m).unwrap().health = Health::Chronic;
    hb.plan = Some("发展养殖".into());
    b.update(&author("c2"), &id, &hb).unwrap();

    sync(&a, &mut b);
    sync(&b, &mut a);
    for s in [&a, &b] {
        let got = s.get::<Household>(&id).unwrap();
        assert!(got.conflicts.is_empty());
        assert_eq!(got.record.phone.as_deref(), Some("13811112222"));
        assert_eq!(got.record.members[&m].health, Health::Chronic);
        assert_eq!(got.record.plan.as_deref(), Some("发展养殖"));
    }
    assert_eq!(a.document_json(&id).unwrap(), b.document_json(&id).unwrap());
}

#[test]
fn concurrent_edits_to_one_field_are_kept_as_a_conflict_until_resolved() {
    let (mut a, mut b) = (TempStore::new(), TempStore::new());
    let id = a.create(&author("c1"), &household(1)).unwrap();
    sync(&a, &mut b);

    let mut ha = household(1);
    ha.phone = Some("13800000001".into());
    a.update(&author("c1"), &id, &ha).unwrap();
    let mut hb = household(1);
    hb.phone = Some("13800000002".into());
    b.update(&author("c2"), &id, &hb).unwrap();
    sync(&a, &mut b);
    sync(&b, &mut a);

    let conflicts = a.conflicts(&id).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].path, vec!["data", "phone"]);
    let mut values: Vec<(String, String)> = conflicts[0]
        .values
        .iter()
        .map(|v| (v.value.as_str().unwrap().to_string(), v.cadre_id.clone()))
        .collect();
    values.sort();
    assert_eq!(
        values,
        vec![
            ("13800000001".into(), "c1".into()),
            ("13800000002".into(), "c2".into())
        ]
    );
    assert_eq!(
        a.all_conflicts().unwrap(),
        vec![(id.clone(), "data.phone".into(), 2)]
    );
    assert_eq!(b.conflicts(&id).unwrap().len(), 1);

    // An unrelated edit does not settle the conflict silently.
    let mut shown = a.get::<Household>(&id).unwrap().record;
    shown.plan = Some("新计划".into());
    a.update(&author("c1"), &id, &shown).unwrap();
    assert_eq!(a.conflicts(&id).unwrap().len(), 1);

    // A value that is not in conflict cannot be chosen.
    let path = vec!["data".to_string(), "phone".to_string()];
    let mut leader = author("leader");
    leader.reason = "电话核实,以户主本人号码为准".into();
    let err = a
        .resolve(&leader, &id, &path, &json!("13899999999"))
        .unwrap_err();
    assert!(matches!(err, Error::NotAConflictingValue { .. }));

    // Choosing the value that is not currently shown settles it to that value.
    let shown_phone = a.get::<Household>(&id).unwrap().record.phone.unwrap();
    let other = if shown_phone == "13800000001" {
        "13800000002"
    } else {
        "13800000001"
    };
    a.resolve(&leader, &id, &path, &json!(other)).unwrap();
    assert!(a.conflicts(&id).unwrap().is_empty());
    assert!(a.all_conflicts().unwrap().is_empty());
    assert_eq!(
        a.get::<Household>(&id).unwrap().record.phone.as_deref(),
        Some(other)
    );
    let last = a.history(&id).unwrap().pop().unwrap();
    assert_eq!(last.reason, "电话核实,以户主本人号码为准");

    // The resolution reaches the other replica.
    sync(&a, &mut b);
    assert!(b.conflicts(&id).unwrap().is_empty());
    assert_eq!(
        b.get::<Household>(&id).unwrap().record.phone.as_deref(),
        Some(other)
    );
    assert!(matches!(
        a.resolve(&leader, &id, &path, &json!(other)),
        Err(Error::NoConflict { .. })
    ));
}

#[test]
fn changes_apply_idempotently_and_early_ones_wait_for_their_dependencies() {
    let mut a = TempStore::new();
    let id = a.create(&author("c1"), &household(1)).unwrap();
    let mut h = household(1);
    h.status = HouseholdStatus::ExitedSupported;
    h.exit_year = Some(2016);
    a.update(&author("c1"), &id, &h).unwrap();
    let changes = a.changes_of(&id).unwrap();
    assert_eq!(changes.len(), 2);

    let mut b = TempStore::new();
    let second = IncomingChange {
        doc_id: id.clone(),
        bytes: changes[1].clone(),
    };
    let first = IncomingChange {
        doc_id: id.clone(),
        bytes: changes[0].clone(),
    };
    let r = b.apply_changes(std::slice::from_ref(&second)).unwrap();
    assert!(matches!(r.outcomes[0].1, ApplyOutcome::Held { ref missing } if missing.len() == 1));
    assert!(matches!(
        b.get::<Household>(&id),
        Err(Error::DocNotFound(_))
    ));
    assert_eq!(b.held_len().unwrap(), 1);

    let r = b
        .apply_changes(&[first.clone(), second.clone(), first])
        .unwrap();
    assert_eq!(r.outcomes[0].1, ApplyOutcome::Applied);
    assert_eq!(r.outcomes[1].1, ApplyOutcome::Applied);
    assert_eq!(r.outcomes[2].1, ApplyOutcome::Duplicate);
    assert_eq!(b.held_len().unwrap(), 0);
    assert_eq!(b.get::<Household>(&id).unwrap().record, h);
    let rows = b
        .list_households(
            &HouseholdFilter {
                status: Some(HouseholdStatus::ExitedSupported),
                ..Default::default()
            },
            Page::first(5),
        )
        .unwrap();
    assert_eq!(rows.len(), 1);

    let r = b.apply_changes(&[second]).unwrap();
    assert_eq!(r.duplicates(), 1);
    // Changes received from elsewhere are not this device's to push.
    assert_eq!(b.outbox_len().unwrap(), 0);
}

#[test]
fn chunks_fold_into_a_snapshot_and_the_record_reads_the_same() {
    let mut s = TempStore::new();
    let id = s.create(&author("c1"), &household(1)).unwrap();
    let mut h = household(1);
    for i in 0..60 {
        h.plan = Some(format!("第{i}版帮扶计划:发展种植养殖,稳定务工收入"));
        s.update(&author("c1"), &id, &h).unwrap();
    }
    let (snapshot, chunks): (i64, i64) = s
        .conn()
        .query_row(
            "SELECT snapshot_bytes, (SELECT count(*) FROM doc_chunks WHERE doc_id = ?1) FROM documents WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(snapshot > 0, "never folded");
    assert!(chunks < 60, "{chunks} chunks were never folded");
    let reopened = s.reopen();
    assert_eq!(reopened.get::<Household>(&id).unwrap().record, h);
    assert_eq!(reopened.history(&id).unwrap().len(), 61);
}

#[test]
fn projections_rebuild_from_the_documents() {
    let mut s = TempStore::new();
    for n in 0..5 {
        s.create(&author("c1"), &household(n)).unwrap();
    }
    let visit = Visit::example();
    s.create(&author(&visit.visitor_id), &visit).unwrap();
    let before = s
        .list_households(&HouseholdFilter::default(), Page::first(50))
        .unwrap();
    s.conn().execute("DELETE FROM p_household", []).unwrap();
    s.conn().execute("DELETE FROM p_visit", []).unwrap();
    assert_eq!(s.rebuild_projections().unwrap(), 6);
    assert_eq!(
        s.list_households(&HouseholdFilter::default(), Page::first(50))
            .unwrap(),
        before
    );
    let visits: i64 = s
        .conn()
        .query_row("SELECT count(*) FROM p_visit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(visits, 1);
}

#[test]
fn a_changed_projection_declaration_is_rebuilt_on_open() {
    let mut s = TempStore::new();
    let id = s.create(&author("c1"), &household(1)).unwrap();
    // Pretend an older build declared p_household differently.
    s.conn()
        .execute(
            "UPDATE projection_tables SET ddl = 'old' WHERE name = 'p_household'",
            [],
        )
        .unwrap();
    s.conn().execute("DELETE FROM p_household", []).unwrap();
    let reopened = s.reopen();
    let rows = reopened
        .list_households(&HouseholdFilter::default(), Page::first(5))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
}

#[test]
fn the_device_identity_persists_and_differs_between_installs() {
    let s = TempStore::new();
    let (device, actor) = (s.device().device_id.clone(), s.device().actor.clone());
    let again = s.reopen();
    assert_eq!(again.device().device_id, device);
    assert_eq!(again.device().actor, actor);
    assert_ne!(TempStore::new().device().actor, actor);
}

#[test]
fn a_pulled_page_and_its_cursor_commit_together() {
    let mut a = TempStore::new();
    let id = a.create(&author("c1"), &household(1)).unwrap();
    let mut b = TempStore::new();
    let page: Vec<IncomingChange> = a
        .changes_of(&id)
        .unwrap()
        .into_iter()
        .map(|bytes| IncomingChange {
            doc_id: id.clone(),
            bytes,
        })
        .collect();
    assert_eq!(b.cursor("village:530322101201").unwrap(), None);
    b.apply_page(&page, "village:530322101201", 42).unwrap();
    assert_eq!(b.cursor("village:530322101201").unwrap(), Some(42));
    // A malformed page stores neither its changes nor its cursor.
    let bad = vec![IncomingChange {
        doc_id: "x".into(),
        bytes: vec![1, 2, 3],
    }];
    assert!(b.apply_page(&bad, "village:530322101201", 43).is_err());
    assert_eq!(b.cursor("village:530322101201").unwrap(), Some(42));
}

/// A projection table whose declaration changed is refilled when the store opens, in the
/// transaction that records the new declaration: an open cut short by a document it cannot
/// project leaves the old declaration, so the next open (the document mended) still refills
/// the table instead of finding it current and empty.
#[test]
fn a_changed_projection_declaration_is_refilled_even_after_an_open_cut_short() {
    let mut s = TempStore::new();
    let id = s.create(&author("c1"), &household(1)).unwrap();
    let TempStore { store, dir } = s;
    drop(store);
    let path = dir.path().join("cunji.sqlite3");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "UPDATE projection_tables SET ddl = 'older' WHERE name = 'p_household';
         INSERT INTO documents (id, kind, snapshot, updated_ts)
         VALUES ('hh-broken', 'household', x'00', '2026-12-07T00:00:00Z');",
    )
    .unwrap();
    drop(raw);
    assert!(
        Store::open(&path).is_err(),
        "the refill stops on the broken document"
    );
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("DELETE FROM documents WHERE id = 'hh-broken'", [])
        .unwrap();
    drop(raw);

    let store = Store::open(&path).unwrap();
    let rows = store
        .list_households(&HouseholdFilter::default(), Page::first(10))
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
}
