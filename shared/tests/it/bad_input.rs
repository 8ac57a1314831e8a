//! Bad input gets a typed error and stores nothing.
#![allow(clippy::unwrap_used)]

use crate::common::{TempStore, author, household, numbers};
use cunji_core::domain::{Household, Kind};
use cunji_core::{ApplyOutcome, CreateOptions, Error, IncomingChange, Problem};

/// What a store holds, to compare before and after a rejected write.
fn footprint(s: &TempStore) -> (usize, usize, usize, i64) {
    let projected: i64 = s
        .conn()
        .query_row("SELECT count(*) FROM p_household", [], |r| r.get(0))
        .unwrap();
    (
        s.record_ids().unwrap().len(),
        s.outbox_len().unwrap(),
        s.held_len().unwrap(),
        projected,
    )
}

fn invalid(err: Error) -> cunji_core::ValidationError {
    match err {
        Error::Invalid(v) => v,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn an_unknown_enum_code_is_rejected_with_the_field_named() {
    let mut s = TempStore::new();
    let before = footprint(&s);
    let mut json = serde_json::to_value(household(1)).unwrap();
    json["status"] = "已脱贫吧".into();
    let err = s
        .create_json(
            &author("c1"),
            Kind::Household,
            json,
            CreateOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_record");
    let v = invalid(err);
    assert_eq!(
        (v.field.as_str(), v.problem),
        ("status", Problem::UnknownCode)
    );
    assert!(v.message.contains("已脱贫吧"), "{}", v.message);
    assert_eq!(footprint(&s), before);

    // Nested codes are named by their path.
    let mut json = serde_json::to_value(household(1)).unwrap();
    let member = json["members"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    json["members"][&member]["health"] = "sick-ish".into();
    let v = invalid(
        s.create_json(
            &author("c1"),
            Kind::Household,
            json,
            CreateOptions::default(),
        )
        .unwrap_err(),
    );
    assert_eq!(v.field, format!("members.{member}.health"));
    assert_eq!(v.problem, Problem::UnknownCode);
    assert_eq!(footprint(&s), before);
}

#[test]
fn a_missing_required_field_is_rejected() {
    let mut s = TempStore::new();
    let before = footprint(&s);
    let mut json = serde_json::to_value(household(1)).unwrap();
    json.as_object_mut().unwrap().remove("village_code");
    let v = invalid(
        s.create_json(
            &author("c1"),
            Kind::Household,
            json,
            CreateOptions::default(),
        )
        .unwrap_err(),
    );
    assert_eq!(
        (v.field.as_str(), v.problem),
        ("village_code", Problem::Required)
    );
    // An empty required string is missing too.
    let mut h = household(1);
    h.village_code = " ".into();
    let v = invalid(s.create(&author("c1"), &h).unwrap_err());
    assert_eq!(
        (v.field.as_str(), v.problem),
        ("village_code", Problem::Required)
    );
    assert_eq!(footprint(&s), before);
}

#[test]
fn a_bad_id_checksum_is_rejected() {
    let mut s = TempStore::new();
    let hh = s.create(&author("c1"), &household(1)).unwrap();
    let before = footprint(&s);
    let mut p = numbers(1, &hh);
    let (key, id) = p.id_numbers.iter_mut().next().unwrap();
    let key = key.clone();
    let last = id.pop().unwrap();
    id.push(if last == '0' { '1' } else { '0' });
    let v = invalid(s.create(&author("c1"), &p).unwrap_err());
    assert_eq!(v.field, format!("id_numbers.{key}"));
    assert_eq!(v.problem, Problem::BadIdNumber);
    assert_eq!(footprint(&s), before);
}

#[test]
fn an_id_number_already_registered_elsewhere_is_rejected() {
    let mut s = TempStore::new();
    let a = s.create(&author("c1"), &household(1)).unwrap();
    let b = s.create(&author("c1"), &household(2)).unwrap();
    s.create(&author("c1"), &numbers(1, &a)).unwrap();
    let before = footprint(&s);
    let v = invalid(s.create(&author("c1"), &numbers(1, &b)).unwrap_err());
    assert_eq!(v.problem, Problem::Inconsistent);
    assert!(v.field.starts_with("id_numbers."), "{}", v.field);
    // Nor a second record of numbers for one household.
    let v = invalid(s.create(&author("c1"), &numbers(2, &a)).unwrap_err());
    assert_eq!(v.field, "household_id");
    assert_eq!(footprint(&s), before);
}

#[test]
fn corrupt_change_bytes_reject_the_batch_and_store_nothing() {
    let mut a = TempStore::new();
    let id = a.create(&author("c1"), &household(1)).unwrap();
    let good = IncomingChange {
        doc_id: id.clone(),
        bytes: a.changes_of(&id).unwrap().remove(0),
    };
    let mut flipped = good.clone();
    let mid = flipped.bytes.len() / 2;
    flipped.bytes[mid] ^= 0xff;
    let garbage = IncomingChange {
        doc_id: id.clone(),
        bytes: b"not a change".to_vec(),
    };

    let mut b = TempStore::new();
    let before = footprint(&b);
    for bad in [flipped, garbage] {
        let err = b.apply_changes(&[good.clone(), bad]).unwrap_err();
        assert!(matches!(err, Error::MalformedChange { .. }), "{err:?}");
        assert_eq!(err.code(), "malformed_change");
        assert_eq!(footprint(&b), before);
    }
}

#[test]
fn a_change_with_a_missing_dependency_is_held_not_applied() {
    let mut a = TempStore::new();
    let id = a.create(&author("c1"), &household(1)).unwrap();
    let mut h = household(1);
    h.plan = Some("改".into());
    a.update(&author("c1"), &id, &h).unwrap();
    let later = a.changes_of(&id).unwrap().remove(1);

    let mut b = TempStore::new();
    let report = b
        .apply_changes(&[IncomingChange {
            doc_id: id.clone(),
            bytes: later,
        }])
        .unwrap();
    assert!(matches!(&report.outcomes[0].1, ApplyOutcome::Held { missing } if !missing.is_empty()));
    assert_eq!(b.record_ids().unwrap().len(), 0);
    assert!(matches!(
        b.get::<Household>(&id).unwrap_err(),
        Error::DocNotFound(_)
    ));
    assert_eq!(b.held_len().unwrap(), 1);
}

#[test]
fn corrupt_document_bytes_give_a_typed_error_and_other_records_still_read() {
    let mut s = TempStore::new();
    let bad = s.create(&author("c1"), &household(1)).unwrap();
    let good = s.create(&author("c1"), &household(2)).unwrap();
    // Corrupt the snapshot of one record, and a later chunk of another.
    s.conn()
        .execute(
            "UPDATE documents SET snapshot = x'00ff00ff' WHERE id = ?1",
            [&bad],
        )
        .unwrap();
    let mut edited = household(3);
    let bad_chunk = s.create(&author("c1"), &edited).unwrap();
    edited.plan = Some("改".into());
    s.update(&author("c1"), &bad_chunk, &edited).unwrap();
    s.conn()
        .execute(
            "UPDATE doc_chunks SET bytes = x'00ff00ff' WHERE doc_id = ?1",
            [&bad_chunk],
        )
        .unwrap();
    let err = s.get::<Household>(&bad_chunk).unwrap_err();
    assert!(matches!(err, Error::CorruptDocument { .. }), "{err:?}");
    let err = s.get::<Household>(&bad).unwrap_err();
    assert!(matches!(err, Error::CorruptDocument { .. }), "{err:?}");
    assert_eq!(err.code(), "corrupt_document");
    assert_eq!(s.get::<Household>(&good).unwrap().record, household(2));
    // An edit of the corrupt record is refused and leaves the outbox as it was.
    let outbox = s.outbox_len().unwrap();
    assert!(s.update(&author("c1"), &bad, &household(1)).is_err());
    assert_eq!(s.outbox_len().unwrap(), outbox);
}

#[test]
fn a_record_of_another_kind_is_not_read_as_this_one() {
    let mut s = TempStore::new();
    let check_in = cunji_core::domain::CheckIn::example();
    let id = s.create(&author(&check_in.cadre_id), &check_in).unwrap();
    let err = s.get::<Household>(&id).unwrap_err();
    assert!(matches!(err, Error::WrongKind { .. }), "{err:?}");
}

#[test]
fn nobody_records_another_cadres_check_in() {
    let mut s = TempStore::new();
    let check_in = cunji_core::domain::CheckIn::example();
    let err = s.create(&author("someone-else"), &check_in).unwrap_err();
    assert!(matches!(err, Error::NotAuthor { .. }), "{err:?}");
    assert_eq!(s.record_ids().unwrap().len(), 0);
    assert_eq!(s.outbox_len().unwrap(), 0);
}
