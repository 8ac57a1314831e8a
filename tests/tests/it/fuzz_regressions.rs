//! Replays every input the fuzzers found (`tests/fixtures/fuzz/<target>/`) and the fuzzers'
//! seeds through the functions the fuzz targets run (`cunji_tests::fuzz`): each once made the
//! server or the core panic, and must now get an ordinary answer. The fuzz targets live in
//! `fuzz/` (cargo-fuzz); RELIABILITY.md says what they found.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use cunji_core::sync::protocol::PushOutcome;
use cunji_tests::fuzz;

fn files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn found_request_bodies_are_answered() {
    for f in files("decode_request") {
        eprintln!("{}", f.display());
        fuzz::decode_request(&std::fs::read(&f).unwrap());
    }
}

#[test]
fn found_json_bodies_are_answered() {
    for f in files("json_body") {
        eprintln!("{}", f.display());
        fuzz::json_body(&std::fs::read(&f).unwrap());
    }
}

#[test]
fn found_pushed_changes_are_answered() {
    for f in files("push_change") {
        eprintln!("{}", f.display());
        fuzz::push_change(&std::fs::read(&f).unwrap());
    }
}

/// A well-formed change on an object its record does not have made automerge panic while the
/// server checked it: it is now refused as malformed, like any change that does not apply.
#[test]
fn a_change_on_a_missing_object_is_refused_as_malformed() {
    let found = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fuzz/push_change/change-on-missing-object"),
    )
    .unwrap();
    assert!(matches!(
        fuzz::push_change(&found),
        Some(PushOutcome::Rejected { code, .. }) if code == "malformed_change"
    ));
}

#[test]
fn found_documents_load_or_are_refused() {
    for f in files("load_document") {
        eprintln!("{}", f.display());
        fuzz::load_document(&std::fs::read(&f).unwrap());
    }
}

/// A damaged document of 624 bytes whose bundle chunk declares a run of 9.5 billion op
/// counters made automerge allocate over 2 GB while loading it: it is now refused before
/// automerge sees it, as a corrupt document (`cunji_core::doc::bounds`).
#[test]
fn a_document_declaring_billions_of_values_is_refused_as_corrupt() {
    let found = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fuzz/load_document/bundle-run-of-9.5e9-op-counters"),
    )
    .unwrap();
    // The target's input: two bytes of split, then the snapshot and a chunk.
    let mut bytes = found[2..].to_vec();
    fuzz::fix_checksums(&mut bytes);
    let split = usize::from(u16::from_le_bytes([found[0], found[1]])).min(bytes.len());
    let (snapshot, chunk) = bytes.split_at(split);
    let err = cunji_core::doc::RecordDoc::load(
        "r",
        Some(snapshot),
        &[chunk.to_vec()],
        automerge::ActorId::random(),
    )
    .err()
    .unwrap();
    assert_eq!(err.code(), "corrupt_document");
    assert!(err.to_string().contains("bundle"), "{err}");
}

/// A damaged document that loads, but whose changes automerge 0.12 cannot rebuild (it panicked
/// with `MissingOps` in `get_changes`, found by CI's bounded fuzzing): its history is now an
/// error for that record, `corrupt_document`, and the rest of the document still reads.
#[test]
fn a_document_whose_changes_cannot_be_rebuilt_has_a_corrupt_history() {
    let found = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fuzz/load_document/panic-in-get-changes"),
    )
    .unwrap();
    let mut bytes = found[2..].to_vec();
    fuzz::fix_checksums(&mut bytes);
    let split = usize::from(u16::from_le_bytes([found[0], found[1]])).min(bytes.len());
    let (snapshot, chunk) = bytes.split_at(split);
    let chunks = if chunk.is_empty() {
        Vec::new()
    } else {
        vec![chunk.to_vec()]
    };
    let mut doc = cunji_core::doc::RecordDoc::load(
        "r",
        Some(snapshot),
        &chunks,
        automerge::ActorId::random(),
    )
    .unwrap();
    let _ = doc.to_json();
    let err = doc.history().unwrap_err();
    assert_eq!(err.code(), "corrupt_document");
}

/// The seeds reach what the targets are meant to reach: a record's JSON and its raw change
/// are checked, validated and accepted (so the fuzzer mutates from inputs that get past the
/// signature and the parser); a change with its checksum broken is refused as malformed.
#[test]
fn seeds_reach_the_checks_they_are_for() {
    let dir = tempfile::tempdir().unwrap();
    fuzz::write_seeds(dir.path()).unwrap();
    let read = |t: &str, n: &str| std::fs::read(dir.path().join(t).join(n)).unwrap();
    // Seed 0 is a village: the admin may create it; byte 0 = mode | role << 1, admin is role 0.
    for name in ["json-0", "change-0"] {
        let mut seed = read("push_change", name);
        seed[0] &= 1;
        assert_eq!(
            fuzz::push_change(&seed),
            Some(PushOutcome::Accepted),
            "{name}"
        );
        // A team member may not.
        seed[0] |= 2 << 1;
        assert!(
            matches!(fuzz::push_change(&seed), Some(PushOutcome::Rejected { code, .. }) if code == "out_of_scope"),
            "{name}"
        );
    }
    // Every seed runs.
    for t in [
        "decode_request",
        "push_change",
        "load_document",
        "json_body",
    ] {
        for e in std::fs::read_dir(dir.path().join(t)).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            match t {
                "decode_request" => fuzz::decode_request(&bytes),
                "push_change" => drop(fuzz::push_change(&bytes)),
                "json_body" => fuzz::json_body(&bytes),
                _ => fuzz::load_document(&bytes),
            }
        }
    }
    // A document whose checksum is broken is refused when it is not fixed up (a change's
    // checksum is not checked by `Change::from_bytes`: the server hashes the bytes itself).
    let mut stored = read("load_document", "doc-0")[2..].to_vec();
    stored[5] ^= 0xff;
    let load = |b: &[u8]| {
        cunji_core::doc::RecordDoc::load("r", Some(b), &[], automerge::ActorId::random())
    };
    assert!(load(&stored).is_err());
    fuzz::fix_checksums(&mut stored);
    assert!(load(&stored).is_ok());
}

/// Writes the fuzzers' seed corpus into `fuzz/corpus/` (scripts/fuzz runs this first).
#[test]
#[ignore = "writes the fuzzers' seed corpus; scripts/fuzz runs it"]
fn write_fuzz_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    fuzz::write_seeds(&dir).unwrap();
}

/// The sync message the fuzzer found (a Bloom filter with entries but no bits: automerge
/// divides by zero) sent by a signed-in device in a real repair of a record it may read:
/// refused 400 `malformed`, and the server goes on serving.
#[test]
fn a_repair_message_that_crashed_automerge_is_refused_over_http() {
    use cunji_core::sync::Transport;
    use cunji_core::sync::protocol::{self, RepairMessage, RepairRequest};
    use cunji_sync_server::accounts::Role;
    use cunji_tests::{Backend, Device, TestServer};

    let server = TestServer::start(Backend::Sqlite);
    server.account("admin", Role::Admin, "");
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let policy = admin
        .store
        .create(
            &admin.author("政策目录"),
            &cunji_core::domain::PolicyItem::example(),
        )
        .unwrap();
    admin.sync().unwrap();
    let found = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fuzz/decode_request/repair-bloom-without-bits"),
    )
    .unwrap();
    let message = found[1..].to_vec();
    assert!(automerge::sync::Message::decode(&message).is_ok());
    let req = RepairRequest {
        docs: vec![RepairMessage {
            doc_id: policy.clone(),
            message: Some(message),
        }],
    };
    match admin.transport().repair(protocol::encode(&req)) {
        Err(cunji_core::sync::TransportError::Status { status, body }) => {
            assert_eq!((status, body.code.as_str()), (400, "malformed"));
            assert!(body.message_en.contains(&policy), "{}", body.message_en);
        }
        other => panic!("expected 400 malformed, got {other:?}"),
    }
    // Still serving, the record intact.
    let report = admin.sync().unwrap();
    assert_eq!(report.rejected, 0);
    assert!(admin.store.document_json(&policy).is_ok());
}
