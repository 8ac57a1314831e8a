//! Proof of authorship kept end to end (issue 14, part 3): every change the server logs keeps
//! what proves its author (the pushing phone's own signature in protocol 2, the server's
//! attestation otherwise), pulls carry it, a phone checks it before applying anything, and
//! `verify-log` checks the whole log. A change altered in the server's database is reported
//! by `verify-log` and refused by a phone that pulls it, which applies nothing of that answer
//! and takes it once the database is mended; a server restored from a backup still verifies.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::CheckIn;
use cunji_core::sync::SyncError;
use cunji_sync_server::accounts::Role;
use cunji_sync_server::verify::verify_log;
use cunji_tests::{Backend, Device, TestServer};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";

fn check_in(login: &str, hours_ago: i64) -> CheckIn {
    let mut c = CheckIn::example();
    c.cadre_id = login.into();
    c.ts = (chrono::Utc::now() - chrono::Duration::hours(hours_ago)).fixed_offset();
    c
}

fn verified(server: &TestServer) -> cunji_sync_server::verify::VerifyReport {
    verify_log(&server.db, &mut |_| {}).unwrap()
}

fn sqlite(server: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open(server.sqlite_path()).unwrap()
}

/// A SQLite server with the example village, its member's and its leader's phones.
fn village_on_sqlite() -> (TestServer, Device, Device) {
    let server = TestServer::start(Backend::Sqlite);
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.serve_example_village();
    let member = Device::new(&server.url, MEMBER).sign_in();
    let leader = Device::new(&server.url, LEADER).sign_in();
    (server, member, leader)
}

fn every_change_proves_its_author_on_the_wire_and_in_the_log(backend: Backend) {
    let server = TestServer::start(backend);
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    // The village and its team, from the administrator's phone: signed by it.
    server.serve_example_village();
    // The member's phone is of protocol 1: its batch signature is checked and dropped, so the
    // server attests each change it takes from it.
    let mut member = Device::new(&server.url, MEMBER).speaking(1).sign_in();
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let first = member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 3))
        .unwrap();
    assert_eq!(member.sync().unwrap().rejected, 0);
    // The leader's phone checks every change it receives: the village's by the
    // administrator's phone's key, the member's by the server's.
    leader.sync().unwrap();
    assert!(leader.store.record_ids().unwrap().contains(&first));

    let report = verified(&server);
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.changes as i64, server.change_count());
    assert_eq!(
        report.device_signed, 2,
        "the village and the team: {report:?}"
    );
    assert_eq!(report.attested, 1, "the member's check-in: {report:?}");
}

#[test]
fn every_change_proves_its_author() {
    for backend in Backend::available() {
        every_change_proves_its_author_on_the_wire_and_in_the_log(backend);
    }
}

/// An operator with the database alters a check-in's bytes, and then a device's key: both
/// are reported by `verify-log` and refused by the leader's phone, which keeps what it had.
#[test]
fn a_change_altered_in_the_database_is_reported_and_refused() {
    let (server, mut member, mut leader) = village_on_sqlite();
    member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 5))
        .unwrap();
    member.sync().unwrap();
    leader.sync().unwrap();

    // A new check-in reaches the server; before the leader pulls it, its logged bytes are
    // replaced by another change of the member's (made on the member's phone, never pushed):
    // a record whose content the operator chose, with the member's actor.
    let genuine = member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 1))
        .unwrap();
    member.sync().unwrap();
    let mut other = Device::new(&server.url, MEMBER);
    let substitute = other
        .store
        .create(&other.author("打卡"), &check_in(MEMBER, 30))
        .unwrap();
    let forged_bytes = other.store.changes_of(&substitute).unwrap().remove(0);
    let db = sqlite(&server);
    let (seq, original): (i64, Vec<u8>) = db
        .query_row(
            "SELECT seq, bytes FROM changes WHERE doc_id = ?1",
            [&genuine],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    db.execute(
        "UPDATE changes SET bytes = ?2 WHERE seq = ?1",
        rusqlite::params![seq, forged_bytes],
    )
    .unwrap();

    let report = verified(&server);
    assert_eq!(report.failures.len(), 1, "{report:?}");
    assert_eq!(report.failures[0].seq, seq);
    assert_eq!(report.failures[0].doc_id, genuine);
    let cursors = leader.store.cursors().unwrap();
    let held = leader.store.record_ids().unwrap();
    match leader.sync() {
        Err(SyncError::Unverified(message)) => {
            assert!(message.contains(&genuine), "{message}");
            let field = cunji_core::field::FieldError::from(SyncError::Unverified(message));
            assert_eq!(field.code(), "unverified_change");
            assert!(field.to_string().contains("无法证明"), "{field}");
        }
        other => panic!("expected unverified_change, got {other:?}"),
    }
    assert_eq!(leader.store.cursors().unwrap(), cursors, "nothing applied");
    assert_eq!(leader.store.record_ids().unwrap(), held);

    // Mended: the same pull goes through.
    db.execute(
        "UPDATE changes SET bytes = ?2 WHERE seq = ?1",
        rusqlite::params![seq, original],
    )
    .unwrap();
    assert!(verified(&server).ok());
    leader.sync().unwrap();
    assert!(leader.store.record_ids().unwrap().contains(&genuine));

    // The member's phone's key replaced in the devices table (to pass off changes signed
    // with another key as the member's): `verify-log` reports every change the real key
    // signed, and the leader's phone, which kept the real key, refuses the answer that names
    // the new one (asked again from the start, so that the member's changes come again).
    let impostor = cunji_core::identity::DeviceIdentity::generate();
    db.execute(
        "UPDATE devices SET public_key = ?2 WHERE device_id = ?1",
        rusqlite::params![
            member.store.device().device_id,
            impostor.public_key().to_vec()
        ],
    )
    .unwrap();
    let report = verified(&server);
    assert_eq!(report.failures.len(), 2, "both of the member's: {report:?}");
    for c in leader.store.cursors().unwrap() {
        leader.store.set_cursor(&c.scope, 0).unwrap();
    }
    match leader.sync() {
        Err(SyncError::Unverified(message)) => {
            assert!(message.contains("key of device actor"), "{message}")
        }
        other => panic!("expected unverified_change, got {other:?}"),
    }
    // And the member's own phone can push nothing under a key that is not its own.
    member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 0))
        .unwrap();
    let before = server.change_count();
    let pushed = member.sync();
    assert!(
        matches!(&pushed, Ok(r) if r.rejected == 1) || pushed.is_err(),
        "{pushed:?}"
    );
    assert_eq!(server.change_count(), before);
}

/// A server restored from a backup keeps its proofs (they are in the database) and its key
/// (restored with its configuration): the log verifies and phones that synced before go on.
#[test]
fn a_server_restored_from_a_backup_still_verifies() {
    let (server, mut member, mut leader) = village_on_sqlite();
    let id = member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 2))
        .unwrap();
    member.sync().unwrap();
    leader.sync().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.sqlite3");
    server.backup_sqlite(&backup);
    let changes = server.change_count();
    let server = server.restore_sqlite(&backup);
    let report = verified(&server);
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.changes as i64, changes);
    member.url = server.url.clone();
    leader.url = server.url.clone();
    member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 1))
        .unwrap();
    member.sync().unwrap();
    leader.sync().unwrap();
    assert!(leader.store.record_ids().unwrap().contains(&id));
    assert!(verified(&server).ok());
}

/// A database from before proofs were kept (no `signed_by`, no `signature`, no record of the
/// attestation pass): the server attests every change when it opens it, once.
#[test]
fn changes_logged_before_proofs_were_kept_are_attested_when_the_server_opens() {
    let (server, mut member, mut leader) = village_on_sqlite();
    member
        .store
        .create(&member.author("打卡"), &check_in(MEMBER, 2))
        .unwrap();
    member.sync().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.sqlite3");
    server.backup_sqlite(&old);
    let changes = server.change_count();
    let conn = rusqlite::Connection::open(&old).unwrap();
    conn.execute_batch(
        "UPDATE changes SET signed_by = NULL, signature = NULL;
         DELETE FROM data_migrations WHERE name = 'attest_unproven_changes';",
    )
    .unwrap();
    drop(conn);
    let server = server.restore_sqlite(&old);
    let report = verified(&server);
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        report.attested as i64, changes,
        "every change, now the server's word"
    );
    // The leader's phone, which had kept none of the member's key yet, takes them.
    leader.url = server.url.clone();
    leader.sync().unwrap();
    assert!(leader.store.record_ids().unwrap().len() > 2);
}
