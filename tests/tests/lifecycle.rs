//! A record's life beyond one device: a cadre replaced with unsynced work on their phone
//! (handover), the server's disk filling during ingest, and device clocks days off.
//! Each scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set
//! (the disk-full one on SQLite only: see its docs).
#![allow(clippy::unwrap_used)]

use cunji_core::domain::codes::VisitRole;
use cunji_core::domain::{Household, Team, Village, Visit};
use cunji_core::sync::SyncError;
use cunji_core::sync::handover;
use cunji_core::sync::protocol::{self, PushItem};
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, TestServer, household};

const LEADER: &str = "cadre-wang-zhigang";
const OLD: &str = "pairing-zhou";
const NEW: &str = "pairing-qian";
const MAX_DECODED: usize = 32 * 1024 * 1024;

/// A server with the example village and team, a leader, and two pairing cadres.
fn village_server(backend: Backend) -> TestServer {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(OLD, Role::PairingCadre, "");
    server.account(NEW, Role::PairingCadre, "");
    let mut admin = Device::new(&server.url, "admin").sign_in();
    admin
        .store
        .create(&admin.author("建村"), &Village::example())
        .unwrap();
    admin
        .store
        .create(&admin.author("组建工作队"), &Team::example())
        .unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    server
}

fn assign(server: &TestServer, household: &str, cadre: &str, from: &str) {
    let csv = format!("household_id,cadre_id,from,to,is_primary\n{household},{cadre},{from},,是\n");
    let report = server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();
    assert_eq!(report.created, 1);
}

fn visit(device: &mut Device, household: &str, note: &str) -> String {
    let mut v = Visit::example();
    v.household_id = household.into();
    v.visitor_id = device.login.clone();
    v.role_at_visit = VisitRole::PairingCadre;
    v.actions = Some(note.into());
    device.store.create(&device.author("入户走访"), &v).unwrap()
}

fn handover_of_a_replaced_cadre(backend: Backend) {
    let server = village_server(backend);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let home = leader
        .store
        .create(&leader.author("建档立卡"), &household(700))
        .unwrap();
    leader.sync().unwrap();
    assign(&server, &home, OLD, "2015-09-01");

    // The old cadre works: one visit synced, two recorded offline afterwards.
    let mut old = Device::new(&server.url, OLD).sign_in();
    old.sync().unwrap();
    let synced = visit(&mut old, &home, "第一次走访");
    old.sync().unwrap();
    let offline = [
        visit(&mut old, &home, "第二次走访（未同步）"),
        visit(&mut old, &home, "第三次走访（未同步）"),
    ];
    assert_eq!(old.store.outbox_len().unwrap(), 2);

    // The cadre is replaced and their account revoked before the phone ever synced again.
    server.db.write(|tx| tx.revoke_tokens(OLD)).unwrap();
    match old.sync_with(1) {
        Err(SyncError::Unauthorized(_)) => {}
        other => panic!("a revoked account synced: {other:?}"),
    }
    assert_eq!(old.store.outbox_len().unwrap(), 2, "the outbox was lost");

    // The phone writes a handover bundle; the administrator ingests it.
    let bundle = handover::export(&old.store).unwrap();
    let before = server.change_count();
    let report =
        cunji_sync_server::handover::ingest_bundle(&server.db, &bundle, MAX_DECODED).unwrap();
    assert_eq!(
        (report.accepted, report.rejected.len()),
        (2, 0),
        "{report:?}"
    );
    assert_eq!(report.login, OLD);
    assert_eq!(server.change_count(), before + 2);
    // Ingested twice: nothing stored twice.
    let again =
        cunji_sync_server::handover::ingest_bundle(&server.db, &bundle, MAX_DECODED).unwrap();
    assert_eq!((again.accepted, again.duplicate), (0, 2));
    assert_eq!(server.change_count(), before + 2);

    // A bundle altered after it was signed is refused whole.
    let mut forged = handover::decode(&bundle, MAX_DECODED).unwrap();
    let mut other_visit = Device::new(&server.url, OLD);
    let stray = visit(&mut other_visit, &home, "伪造");
    forged.request.items.push(PushItem {
        doc_id: stray.clone(),
        change: other_visit.store.changes_of(&stray).unwrap().remove(0),
    });
    let forged = cunji_sync_server::handover::ingest_bundle(
        &server.db,
        &protocol::encode(&forged),
        MAX_DECODED,
    )
    .unwrap();
    assert_eq!(forged.accepted + forged.duplicate, 0);
    assert!(
        forged
            .rejected
            .iter()
            .all(|(_, code, _)| code == "bad_signature"),
        "{forged:?}"
    );
    assert_eq!(server.change_count(), before + 2);
    // Garbage is not a bundle.
    assert!(
        cunji_sync_server::handover::ingest_bundle(&server.db, b"not a bundle", MAX_DECODED)
            .is_err()
    );

    // The household moves to the new cadre through a new assignment record.
    assign(&server, &home, NEW, "2016-01-01");
    let mut new = Device::new(&server.url, NEW).sign_in();
    new.sync().unwrap();
    assert!(new.store.get::<Household>(&home).is_ok());
    for id in std::iter::once(&synced).chain(&offline) {
        let v = new.store.get::<Visit>(id).unwrap();
        assert_eq!(v.envelope.author_id, OLD, "the visit changed author");
        assert_eq!(v.record.visitor_id, OLD);
        assert!(
            new.store
                .history(id)
                .unwrap()
                .iter()
                .all(|h| h.cadre_id == OLD)
        );
    }
    // The old cadre's visits stay theirs: the new cadre cannot rewrite them, only add their own.
    let mut v = new.store.get::<Visit>(&offline[0]).unwrap().record;
    v.actions = Some("改写".into());
    assert_eq!(
        new.store
            .update(&new.author("改写"), &offline[0], &v)
            .unwrap_err()
            .code(),
        "not_author"
    );
    let own = visit(&mut new, &home, "接手后的第一次走访");
    let report = new.sync().unwrap();
    assert_eq!(report.rejected, 0);

    leader.sync().unwrap();
    for id in [&synced, &offline[0], &offline[1], &own] {
        assert!(
            leader.store.get::<Visit>(id).is_ok(),
            "{id} missing at the leader"
        );
    }
    assert!(leader.store.get::<Visit>(&stray).is_err());
}

#[test]
fn a_replaced_cadres_unsynced_work_is_handed_over_and_keeps_its_author() {
    for backend in Backend::available() {
        handover_of_a_replaced_cadre(backend);
    }
}
