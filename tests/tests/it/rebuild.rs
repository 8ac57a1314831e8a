//! Households stored before ID and bank numbers had a record of their own, migrated on a real
//! server with real phones (the sync server's `rebuild` module): the server rebuilds each such
//! household's history without the numbers and moves them to the numbers record; phones that
//! held the old history drop it and carry their unsent edits over; old changes and numbers
//! pushed again are refused and nothing of them is stored.
//!
//! A household "from before the split" is made the way an older server stored what an older
//! app pushed: a change on the stored document that sets `bank_account` and members' `id_no`
//! (the kinds no longer have these fields, so no phone of this build can write them).
//! Each scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use cunji_core::doc::{ChangeMeta, RecordDoc};
use cunji_core::domain::{Household, HouseholdPrivate, Kind, Village};
use cunji_core::sync::Transport;
use cunji_core::sync::protocol::{
    self, PushItem, PushOutcome, PushRequest, PushResponse, Response,
};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::rebuild;
use cunji_sync_server::store::{Db, StoreError};
use cunji_tests::{Backend, Device, TestServer, household, numbers, store_numbers_in_household};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";
const TOWNSHIP: &str = "township-zhang";

/// Whether any change the device holds of `id` ever set a number field.
fn history_has_numbers(d: &Device, id: &str) -> bool {
    let changes: Vec<u8> = d.store.changes_of(id).unwrap().concat();
    let mut doc = RecordDoc::load(id, None, &[changes], automerge::ActorId::random()).unwrap();
    doc.history_sets(&HouseholdPrivate::PRE_SPLIT_KEYS)
}

/// Pushes `changes` of record `doc_id` from the device, signed by it, outside its outbox.
fn push_raw(d: &Device, doc_id: &str, changes: Vec<Vec<u8>>) -> Vec<PushOutcome> {
    let items: Vec<PushItem> = changes
        .into_iter()
        .map(|change| PushItem::signed(d.store.device(), doc_id, change).unwrap())
        .collect();
    let request = PushRequest { items };
    let body = {
        let mut t = d.transport();
        t.push(protocol::encode(&request)).unwrap()
    };
    PushResponse::decode_response(&body, 1 << 24)
        .unwrap()
        .results
        .into_iter()
        .map(|r| r.outcome)
        .collect()
}

fn code(o: &PushOutcome) -> &str {
    match o {
        PushOutcome::Rejected { code, .. } => code,
        _ => "",
    }
}

/// Every projection row of a household, by table, in a stable order.
fn household_rows(db: &Db, id: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (kind, table) in cunji_core::domain::all_tables() {
        if kind != Kind::Household {
            continue;
        }
        let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
        db.read(|tx| {
            tx.scan(
                table.name,
                &columns,
                cunji_sync_server::store::RowFilter::Doc(id),
                &mut |row| out.push((table.name, format!("{row:?}"))),
            )
        })
        .unwrap();
    }
    out.sort();
    out
}

fn households_from_before_the_split(backend: Backend) {
    let server = TestServer::start(backend);
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.account(TOWNSHIP, Role::Township, &Village::example().code[..9]);
    server.serve_example_village();
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let home = leader
        .store
        .create(&leader.author("建档立卡"), &household(1400))
        .unwrap();
    assert_eq!(leader.sync().unwrap().rejected, 0);
    let old_numbers = numbers(1400, &home);
    store_numbers_in_household(&server.db, &home, &old_numbers);

    // Before the migration, every phone of the village receives the numbers.
    let mut member = Device::new(&server.url, MEMBER).sign_in();
    let mut township = Device::new(&server.url, TOWNSHIP).sign_in();
    for d in [&mut leader, &mut member, &mut township] {
        d.sync().unwrap();
        assert!(history_has_numbers(d, &home), "{}", d.login);
    }
    // The leader's creation change, as an old phone could push it again later.
    let old_root = leader.store.changes_of(&home).unwrap()[0].clone();
    // An edit the leader makes before the migration and has not sent when it runs.
    let mut edited: Household = leader.store.get::<Household>(&home).unwrap().record;
    edited.phone = Some("13912345678".into());
    assert!(
        leader
            .store
            .update(&leader.author("更新电话"), &home, &edited)
            .unwrap()
    );

    // Every change of the old history the server holds, found in the log before the rebuild.
    let old_hashes: Vec<Vec<u8>> = server
        .db
        .read(|tx| {
            let row = tx.doc(&home)?.unwrap();
            Ok::<_, StoreError>(row.load()?.change_hashes())
        })
        .unwrap();
    assert_eq!(old_hashes.len(), 2);
    let in_log = |hashes: &[Vec<u8>]| {
        server
            .db
            .read(|tx| {
                hashes
                    .iter()
                    .map(|h| tx.has_change(h))
                    .collect::<Result<Vec<bool>, _>>()
            })
            .unwrap()
    };
    assert_eq!(in_log(&old_hashes), vec![true, true]);

    let report = rebuild::rebuild_households_with_numbers(&server.db).unwrap();
    // The old history left the log (kept, never served, in `rebuilt_documents`).
    assert_eq!(in_log(&old_hashes), vec![false, false]);
    assert_eq!(
        (report.households_rebuilt, report.numbers_created),
        (1, 1),
        "{report:?}"
    );
    assert!(report.numbers_left_out.is_empty(), "{report:?}");
    // The projection written with the new history (made from the record, off the write
    // transaction) is the one its stored document gives.
    let projected = household_rows(&server.db, &home);
    assert!(
        projected.iter().any(|(t, _)| *t == "p_member"),
        "{projected:?}"
    );
    cunji_sync_server::merge::rebuild_projections(&server.db, &[Kind::Household]).unwrap();
    assert_eq!(household_rows(&server.db, &home), projected);
    // Once is enough: nothing left to rebuild.
    let again = rebuild::rebuild_households_with_numbers(&server.db).unwrap();
    assert_eq!(again.households_rebuilt, 0);

    // The leader's sync: its edit made on the old history is refused, then carried over.
    let synced = leader.sync().unwrap();
    assert!(!history_has_numbers(&leader, &home));
    assert_eq!(leader.store.outbox_len().unwrap(), 0);
    assert_eq!(
        leader.store.rejected_changes().unwrap(),
        vec![],
        "{synced:?}"
    );
    let numbers_id = leader.store.numbers_id(&home).unwrap().unwrap();
    let moved: HouseholdPrivate = leader.store.get(&numbers_id).unwrap().record;
    assert_eq!(moved, old_numbers);

    // Every other phone drops the old history and sees the carried edit.
    for d in [&mut member, &mut township] {
        d.sync().unwrap();
        assert!(!history_has_numbers(d, &home), "{}", d.login);
        let h: Household = d.store.get(&home).unwrap().record;
        assert_eq!(h.phone.as_deref(), Some("13912345678"), "{}", d.login);
        assert!(
            d.store.document_json(&home).unwrap()["data"]
                .get("bank_account")
                .is_none()
        );
    }
    // The township reads the numbers in clear; the unassigned team member never gets them.
    assert_eq!(township.store.numbers_id(&home).unwrap(), Some(numbers_id));
    assert_eq!(member.store.numbers_id(&home).unwrap(), None);

    // The old history's first change pushed again: refused, nothing stored.
    let before = server.change_count();
    let outcomes = push_raw(&leader, &home, vec![old_root]);
    assert_eq!(code(&outcomes[0]), "record_rebuilt", "{outcomes:?}");
    // Numbers written into the household again, on the new history: refused.
    let mut doc = RecordDoc::load(
        &home,
        None,
        &[leader.store.changes_of(&home).unwrap().concat()],
        leader.store.device().actor.clone(),
    )
    .unwrap();
    let am = doc.automerge();
    let (_, data) = am.get(ROOT, "data").unwrap().unwrap();
    am.put(&data, "bank_account", "6210980000000000001")
        .unwrap();
    let meta = ChangeMeta {
        reason: "旧版本".into(),
        cadre_id: LEADER.into(),
        device_id: leader.store.device().device_id.clone(),
    };
    am.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(serde_json::to_string(&meta).unwrap()),
    );
    let change = am.get_last_local_change().unwrap().raw_bytes().to_vec();
    let outcomes = push_raw(&leader, &home, vec![change]);
    assert_eq!(code(&outcomes[0]), "numbers_in_household", "{outcomes:?}");
    assert_eq!(server.change_count(), before);
    let stored = server.db.read(|tx| tx.doc(&home)).unwrap().unwrap();
    assert!(
        !stored
            .load()
            .unwrap()
            .history_sets(&HouseholdPrivate::PRE_SPLIT_KEYS)
    );
}

#[test]
fn households_from_before_the_split_are_rebuilt_without_their_numbers() {
    for backend in Backend::available() {
        households_from_before_the_split(backend);
    }
}

/// The server runs the migration once, when it starts: a database whose households hold
/// numbers is rebuilt before any phone pulls from it.
#[test]
fn the_server_migrates_a_database_from_before_the_split_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let first = TestServer::start(Backend::Sqlite);
        first.account(LEADER, Role::FirstSecretary, "");
        first.serve_example_village();
        let mut leader = Device::new(&first.url, LEADER).sign_in();
        let home = leader
            .store
            .create(&leader.author("建档立卡"), &household(1401))
            .unwrap();
        leader.sync().unwrap();
        store_numbers_in_household(&first.db, &home, &numbers(1401, &home));
        first.backup_sqlite(&path);
    }
    // A database from a build before this migration has never run it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM data_migrations", [])
        .unwrap();
    let restarted = TestServer::start(Backend::Sqlite).restore_sqlite(&path);
    let rebuilt = restarted
        .db
        .read(|tx| {
            let mut any = false;
            for id in tx.doc_ids_of_kind(cunji_core::domain::Kind::Household, "", 10)? {
                let row = tx.doc(&id)?.unwrap();
                any |= row.load()?.history_sets(&HouseholdPrivate::PRE_SPLIT_KEYS);
            }
            Ok::<_, StoreError>(any)
        })
        .unwrap();
    assert!(
        !rebuilt,
        "a household still holds numbers after the server started"
    );
    let numbers_records = restarted
        .db
        .read(|tx| tx.doc_ids_of_kind(cunji_core::domain::Kind::HouseholdPrivate, "", 10))
        .unwrap();
    assert_eq!(numbers_records.len(), 1);
}

/// A generated database holds households of this build only: generating marks the migration
/// done, and a forced run reads every household and rebuilds none.
#[test]
fn a_generated_database_has_no_household_to_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("city.sqlite3").display().to_string()).unwrap();
    let options = cunji_sync_server::generate::Options {
        seed: 1,
        villages: 1,
        threads: 2,
        demo_password: None,
        registers_only: false,
    };
    cunji_sync_server::generate::generate(&db, &options, &mut |_| {}).unwrap();
    assert!(rebuild::split_household_numbers(&db).unwrap().already_done);
    let forced = rebuild::rebuild_households_with_numbers(&db).unwrap();
    assert!(forced.households_read > 0, "{forced:?}");
    assert_eq!(forced.households_rebuilt, 0, "{forced:?}");
}
