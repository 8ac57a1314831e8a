//! Devices and a real sync server on loopback: convergence, authorization, cut connections.
//! Every scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::codes::Health;
use cunji_core::domain::{CheckIn, Household, Team, Village, Visit};
use cunji_core::sync::protocol::{self, PushItem, PushOutcome, PushRequest, PushResponse};
use cunji_core::sync::{SyncError, Transport, TransportError};
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, Proxy, TestServer, household};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER_A: &str = "cadre-li-ming";
const MEMBER_B: &str = "cadre-zhao-hong";

/// A server with an admin who has registered the example village and its team
/// (leader wang-zhigang, members li-ming and zhao-hong).
fn village_server(backend: Backend) -> TestServer {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER_A, Role::TeamMember, "");
    server.account(MEMBER_B, Role::TeamMember, "");
    let mut admin = Device::new(&server.url, "admin").sign_in();
    admin
        .store
        .create(&admin.author("建村"), &Village::example())
        .unwrap();
    let team = cunji_tests::serving_team();
    assert!(team.members.contains_key(MEMBER_A) && team.members.contains_key(MEMBER_B));
    admin
        .store
        .create(&admin.author("组建工作队"), &team)
        .unwrap();
    let report = admin.sync().unwrap();
    assert_eq!(report.rejected, 0, "{:?}", admin.store.rejected_changes());
    server
}

fn check_in(login: &str, day: u32) -> CheckIn {
    let mut c = CheckIn::example();
    c.cadre_id = login.into();
    c.ts = format!("2015-10-{day:02}T08:00:00+08:00").parse().unwrap();
    c
}

/// Every record's document as JSON, by id.
fn snapshot(d: &Device) -> Vec<(String, serde_json::Value)> {
    d.store
        .record_ids()
        .unwrap()
        .into_iter()
        .map(|id| (id.clone(), d.store.document_json(&id).unwrap()))
        .collect()
}

fn three_devices_converge(backend: Backend, seed: u64) {
    let server = village_server(backend);
    let mut devices: Vec<Device> = [LEADER, MEMBER_A, MEMBER_B]
        .iter()
        .map(|l| Device::new(&server.url, l).sign_in())
        .collect();
    let who = devices[0].author("建档立卡");
    let hid = devices[0].store.create(&who, &household(1)).unwrap();
    for d in devices.iter_mut() {
        d.sync().unwrap();
        assert!(
            d.store.get::<Household>(&hid).is_ok(),
            "{} did not receive the household",
            d.login
        );
    }

    // Offline: each edits the household (one field in common) and records its own work.
    let mut made: Vec<String> = vec![hid.clone()];
    for (i, d) in devices.iter_mut().enumerate() {
        let mut h = d.store.get::<Household>(&hid).unwrap().record;
        h.phone = Some(format!("1390000000{i}"));
        match i {
            0 => h.plan = Some("发展养殖".into()),
            1 => h.land_mu = Some(4.5),
            _ => {
                let key = h.members.keys().next().unwrap().clone();
                h.members.get_mut(&key).unwrap().health = Health::SeriousIllness;
            }
        }
        let who = d.author("入户核实");
        d.store.update(&who, &hid, &h).unwrap();
        let mut v = Visit::example();
        v.household_id = hid.clone();
        v.visitor_id = d.login.clone();
        made.push(d.store.create(&who, &v).unwrap());
        for day in 1..=3 {
            made.push(
                d.store
                    .create(&who, &check_in(&d.login.clone(), day))
                    .unwrap(),
            );
        }
    }

    // Sync in a random order, several rounds.
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..3).flat_map(|i| [i, i]).collect();
    order.shuffle(&mut rng);
    for i in order {
        let report = devices[i].sync().unwrap();
        assert_eq!(
            report.rejected,
            0,
            "{:?}",
            devices[i].store.rejected_changes()
        );
    }
    for d in devices.iter_mut() {
        d.sync().unwrap();
    }

    let reference = snapshot(&devices[0]);
    let ids: BTreeSet<String> = reference.iter().map(|(id, _)| id.clone()).collect();
    for id in &made {
        assert!(ids.contains(id), "record {id} lost");
    }
    // The team members hold the same, but for each other's check-ins (DOMAIN §1).
    for d in &devices[1..] {
        let expected = cunji_tests::member_view(&reference, &d.login);
        assert_eq!(
            expected.len(),
            reference.len() - 6,
            "two others' three check-ins"
        );
        assert!(snapshot(d) == expected, "{} differs", d.login);
    }
    for d in &devices {
        assert_eq!(d.store.outbox_len().unwrap(), 0);
        assert_eq!(d.store.held_len().unwrap(), 0);
    }
    // The three phone numbers are kept as one conflict; the different fields all survive.
    let got = devices[1].store.get::<Household>(&hid).unwrap();
    assert_eq!(got.conflicts.len(), 1, "{:?}", got.conflicts);
    assert_eq!(got.conflicts[0].values.len(), 3);
    assert_eq!(got.record.plan.as_deref(), Some("发展养殖"));
    assert_eq!(got.record.land_mu, Some(4.5));
    // A new device of the team receives exactly the same records (a member's, its share).
    let mut late = Device::new(&server.url, LEADER).sign_in();
    late.sync().unwrap();
    assert!(
        snapshot(&late) == reference,
        "the leader's new device differs"
    );
    let mut late = Device::new(&server.url, MEMBER_A).sign_in();
    late.sync().unwrap();
    assert!(snapshot(&late) == cunji_tests::member_view(&reference, MEMBER_A));
    // The server stored each change once.
    let changes: usize = reference
        .iter()
        .map(|(id, _)| devices[0].store.history(id).unwrap().len())
        .sum();
    assert_eq!(server.change_count(), changes as i64);
}

#[test]
fn three_devices_edit_offline_and_converge() {
    for backend in Backend::available() {
        for seed in [1, 2] {
            three_devices_converge(backend, seed);
        }
    }
}

/// Pushes hand-made items with a device's token, each change signed by `signer`.
fn push_signed(device: &Device, signer: &Device, items: Vec<PushItem>) -> Vec<PushOutcome> {
    let items = items
        .into_iter()
        .map(|i| {
            // Bytes that are no change cannot be signed: they go as they are.
            PushItem::signed(signer.store.device(), &i.doc_id, i.change.clone()).unwrap_or(i)
        })
        .collect();
    let mut t = device.transport();
    let body = t.push(protocol::encode(&PushRequest { items })).unwrap();
    let resp: PushResponse = protocol::decode(&body, 1 << 24).unwrap();
    resp.results.into_iter().map(|r| r.outcome).collect()
}

fn push_raw(device: &Device, items: Vec<PushItem>) -> Vec<PushOutcome> {
    push_signed(device, device, items)
}

fn code(o: &PushOutcome) -> &str {
    match o {
        PushOutcome::Rejected { code, .. } => code,
        PushOutcome::Accepted => "accepted",
        PushOutcome::Duplicate => "duplicate",
        PushOutcome::Held => "held",
    }
}

fn authorization(backend: Backend) {
    let server = village_server(backend);
    // A second village with its own team member.
    server.account("cadre-other", Role::TeamMember, "");
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let mut other_village = Village::example();
    other_village.code = "530322102305".into();
    other_village.name = "另一村".into();
    admin
        .store
        .create(&admin.author("建村"), &other_village)
        .unwrap();
    let mut other_team = Team::example();
    other_team.village_code = other_village.code.clone();
    other_team.leader_id = "cadre-other".into();
    let first = other_team.members.values().next().unwrap().clone();
    other_team.members = [("cadre-other".to_string(), first)].into();
    admin
        .store
        .create(&admin.author("组建工作队"), &other_team)
        .unwrap();
    assert_eq!(
        admin.sync().unwrap().rejected,
        0,
        "{:?}",
        admin.store.rejected_changes()
    );

    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let hid = leader
        .store
        .create(&leader.author("建档立卡"), &household(7))
        .unwrap();
    leader.sync().unwrap();

    // Village Y's member cannot read village X ...
    let mut outsider = Device::new(&server.url, "cadre-other").sign_in();
    outsider.sync().unwrap();
    assert!(
        outsider.store.get::<Household>(&hid).is_err(),
        "read across villages"
    );
    assert!(
        outsider
            .store
            .record_ids()
            .unwrap()
            .iter()
            .all(|id| id != &hid)
    );
    // ... nor write there: a household in village X is refused, and stays on the device.
    let intruding = outsider
        .store
        .create(&outsider.author("越权"), &household(8))
        .unwrap();
    let report = outsider.sync().unwrap();
    assert_eq!(report.rejected, 1);
    let rejected = outsider.store.rejected_changes().unwrap();
    assert_eq!(rejected[0].0, intruding);
    assert_eq!(rejected[0].1, "out_of_scope");
    assert!(leader.sync().is_ok());
    assert!(leader.store.get::<Household>(&intruding).is_err());

    // A change signed by another device is refused.
    let mut a = Device::new(&server.url, MEMBER_A).sign_in();
    let b = Device::new(&server.url, MEMBER_B).sign_in();
    let ci = a
        .store
        .create(&a.author("打卡"), &check_in(MEMBER_A, 5))
        .unwrap();
    let item = a
        .store
        .outbox_batch(10, 1 << 20)
        .unwrap()
        .into_iter()
        .find(|i| i.doc_id == ci)
        .unwrap();
    // A change signed by another device's key is refused.
    let genuine = PushItem {
        doc_id: ci.clone(),
        change: item.change.clone(),
        signature: item.signature.clone(),
    };
    let outcomes = push_signed(&a, &b, vec![genuine.clone()]);
    assert_eq!(code(&outcomes[0]), "bad_signature");
    // The change altered in transit is refused too: its bytes no longer parse (Automerge
    // checksums them), and the same signed change passed off as another record's does not
    // match its signature (which covers the record id).
    let mut altered = genuine.clone();
    let last = altered.change.len() - 1;
    altered.change[last] ^= 1;
    let mut moved = genuine.clone();
    moved.doc_id = uuid::Uuid::now_v7().to_string();
    let body = a
        .transport()
        .push(protocol::encode(&PushRequest {
            items: vec![altered, moved],
        }))
        .unwrap();
    let resp: PushResponse = protocol::decode(&body, 1 << 24).unwrap();
    assert_eq!(code(&resp.results[0].outcome), "malformed_change");
    assert_eq!(code(&resp.results[1].outcome), "bad_signature");
    // Another device's change, in a batch the pushing device signed itself.
    let outcomes = push_raw(&b, vec![genuine]);
    assert_eq!(code(&outcomes[0]), "actor_not_bound");
    // A check-in recorded as another cadre on this device is refused.
    let as_b = cunji_core::Author::now(MEMBER_B, "代打卡");
    let forged = a.store.create(&as_b, &check_in(MEMBER_B, 6)).unwrap();
    let report = a.sync().unwrap();
    assert_eq!(report.rejected, 1, "{:?}", a.store.rejected_changes());
    let rejected = a.store.rejected_changes().unwrap();
    assert_eq!(
        (rejected[0].0.as_str(), rejected[0].1.as_str()),
        (forged.as_str(), "forged_author")
    );
    // Nothing of the refused items reached anyone; the genuine check-in did.
    let mut leader2 = Device::new(&server.url, LEADER).sign_in();
    leader2.sync().unwrap();
    assert!(leader2.store.get::<CheckIn>(&ci).is_ok());
    assert!(leader2.store.get::<CheckIn>(&forged).is_err());
    // Editing another cadre's event record is refused too, even when signed correctly: the
    // change is made outside the store (which would refuse it locally). B does not even
    // receive A's check-in (a team member reads its own attendance, DOMAIN §1); it edits a
    // copy of the leader's.
    let mut b = b;
    b.sync().unwrap();
    assert!(
        b.store.get::<CheckIn>(&ci).is_err(),
        "a team member received another's check-in"
    );
    let mut doc = RecordDoc::load(
        &ci,
        None,
        &leader2.store.changes_of(&ci).unwrap(),
        b.store.device().actor.clone(),
    )
    .unwrap();
    let mut record: CheckIn = doc.read().unwrap();
    record.mock_flag = true;
    let env = doc.envelope().unwrap();
    let edit = Edit {
        meta: ChangeMeta {
            reason: "改别人的打卡".into(),
            cadre_id: MEMBER_B.into(),
            device_id: b.store.device().device_id.clone(),
        },
        time_ms: 0,
    };
    let change = doc.update(&env, &record, &edit).unwrap().unwrap();
    let outcomes = push_raw(
        &b,
        vec![PushItem {
            doc_id: ci.clone(),
            change: change.raw_bytes().to_vec(),
            signature: Vec::new(),
        }],
    );
    assert_eq!(code(&outcomes[0]), "not_author");
}

#[test]
fn members_of_one_village_neither_read_nor_write_another_and_forgeries_are_refused() {
    for backend in Backend::available() {
        authorization(backend);
    }
}

fn cut_connections(backend: Backend) {
    let server = village_server(backend);
    let proxy = Proxy::new(&server.url);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    leader.url = proxy.url.clone();
    let mut member = Device::new(&server.url, MEMBER_A).sign_in();
    member.url = proxy.url.clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut made = Vec::new();
    for n in 0..40 {
        made.push(
            leader
                .store
                .create(&leader.author("建档立卡"), &household(100 + n))
                .unwrap(),
        );
    }
    // Cut the push mid-body, then the pull mid-response, at random offsets.
    for _ in 0..3 {
        proxy.cut_next(2, rng.gen_range(200..20_000));
        leader.sync().unwrap();
    }
    for _ in 0..3 {
        proxy.cut_next(2, rng.gen_range(200..20_000));
        member.sync().unwrap();
    }
    assert!(proxy.cut.load(std::sync::atomic::Ordering::SeqCst) >= 6);
    member.sync().unwrap();
    for id in &made {
        assert!(member.store.get::<Household>(id).is_ok(), "{id} lost");
    }
    assert_eq!(leader.store.outbox_len().unwrap(), 0);
    // No duplicates: the server holds each change once (the leader's store has every
    // record: its 40 households and the admin's village and team it pulled).
    let changes: usize = leader
        .store
        .record_ids()
        .unwrap()
        .iter()
        .map(|id| leader.store.history(id).unwrap().len())
        .sum::<usize>();
    assert_eq!(changes, 42);
    assert_eq!(server.change_count(), changes as i64);
}

#[test]
fn cut_connections_end_in_convergence_without_duplicates() {
    for backend in Backend::available() {
        cut_connections(backend);
    }
}

#[test]
fn bad_requests_get_clear_errors_and_store_nothing() {
    let server = village_server(Backend::Sqlite);
    let device = Device::new(&server.url, MEMBER_A).sign_in();
    let before = server.change_count();
    let mut t = device.transport();
    let status = |e: TransportError| match e {
        TransportError::Status { status, body } => (status, body.code),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        status(t.push(b"not compressed".to_vec()).unwrap_err()),
        (400, "malformed".into())
    );
    assert_eq!(
        status(t.push(protocol::encode(&"a string")).unwrap_err()),
        (400, "malformed".into())
    );
    // Just over the limit: a body far over it may be cut off by the server's early answer
    // before the client has finished sending, which the client sees as a reset, not a 413.
    let huge = vec![0u8; cunji_sync_server::config::Config::default().max_body_bytes + 100];
    assert_eq!(status(t.push(huge).unwrap_err()).0, 413);
    // A malformed change inside a good batch is refused alone.
    let outcomes = push_raw(
        &device,
        vec![PushItem {
            doc_id: "x".into(),
            change: vec![1, 2, 3],
            signature: Vec::new(),
        }],
    );
    assert_eq!(code(&outcomes[0]), "malformed_change");
    // A record that fails validation (a phone number that is none), made outside the store
    // that would have refused it, is refused by the server too.
    let mut bad_household = household(900);
    bad_household.phone = Some("call me".into());
    let id = uuid::Uuid::now_v7().to_string();
    let env = cunji_core::domain::Envelope {
        id: id.clone(),
        kind: cunji_core::domain::Kind::Household,
        author_id: MEMBER_A.into(),
        device_id: device.store.device().device_id.clone(),
        created_device_ts: "2016-03-01T09:00:00+08:00".parse().unwrap(),
        device_uptime_ms: 0,
        geo: None,
        server_received_ts: None,
        state: cunji_core::domain::RecordState::Submitted,
    };
    let edit = Edit {
        meta: ChangeMeta {
            reason: "建档".into(),
            cadre_id: MEMBER_A.into(),
            device_id: env.device_id.clone(),
        },
        time_ms: 0,
    };
    let (_, change) = RecordDoc::create(
        device.store.device().actor.clone(),
        &env,
        &bad_household,
        &edit,
    )
    .unwrap();
    let outcomes = push_raw(
        &device,
        vec![PushItem {
            doc_id: id,
            change: change.raw_bytes().to_vec(),
            signature: Vec::new(),
        }],
    );
    match &outcomes[0] {
        PushOutcome::Rejected { code, message } => {
            assert_eq!(code, "invalid_record");
            assert!(message.contains("phone"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Unknown and revoked tokens.
    let mut bad = cunji_core::sync::HttpTransport::new(&server.url, &"ab".repeat(32));
    assert_eq!(
        status(
            bad.pull(protocol::encode(&protocol::PullRequest {
                cursors: vec![],
                max_bytes: 1000
            }))
            .unwrap_err()
        )
        .0,
        401
    );
    server.db.write(|tx| tx.revoke_tokens(MEMBER_A)).unwrap();
    let mut member = device;
    match member.sync() {
        Err(SyncError::Unauthorized(_)) => {}
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_eq!(server.change_count(), before);
    // The server still serves.
    let health: serde_json::Value = reqwest::blocking::get(format!("{}/healthz", server.url))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[test]
fn a_server_restored_from_a_backup_gets_back_what_devices_had_pushed() {
    let server = village_server(Backend::Sqlite);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    let mut member = Device::new(&server.url, MEMBER_A).sign_in();
    let mut households = Vec::new();
    for n in 0..5 {
        households.push(
            leader
                .store
                .create(&leader.author("建档立卡"), &household(200 + n))
                .unwrap(),
        );
    }
    leader.sync().unwrap();
    member.sync().unwrap();
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().join("backup.sqlite3");
    // The backup is taken while the server serves: a member pushes visits meanwhile. Whether
    // each lands before or after the copy, nothing may be lost below.
    let acked_before = server.change_count();
    let targets = households.clone();
    let pusher = std::thread::spawn(move || {
        for id in &targets[..3] {
            let mut v = Visit::example();
            v.household_id = id.clone();
            v.visitor_id = MEMBER_A.into();
            member.store.create(&member.author("走访"), &v).unwrap();
            member.sync().unwrap();
        }
        member
    });
    let report = server.backup_sqlite(&backup);
    let mut member = pusher.join().unwrap();
    assert!(
        report.max_seq >= acked_before,
        "{report:?} < {acked_before}"
    );
    assert!(report.max_seq <= server.change_count());

    // After the backup: new records and edits, acknowledged by the server.
    for n in 5..8 {
        households.push(
            leader
                .store
                .create(&leader.author("建档立卡"), &household(200 + n))
                .unwrap(),
        );
    }
    let mut h = leader
        .store
        .get::<Household>(&households[0])
        .unwrap()
        .record;
    h.plan = Some("备份之后的修改".into());
    leader
        .store
        .update(&leader.author("更新计划"), &households[0], &h)
        .unwrap();
    leader.sync().unwrap();
    member.sync().unwrap();
    let mut v = Visit::example();
    v.household_id = households[6].clone();
    v.visitor_id = MEMBER_A.into();
    let visit = member.store.create(&member.author("走访"), &v).unwrap();
    member.sync().unwrap();
    assert_eq!(
        (
            leader.store.outbox_len().unwrap(),
            member.store.outbox_len().unwrap()
        ),
        (0, 0)
    );

    // The server is restored from the backup: it has lost all of that.
    let server = server.restore_sqlite(&backup);
    leader.url = server.url.clone();
    member.url = server.url.clone();
    for _ in 0..2 {
        member.sync().unwrap();
        leader.sync().unwrap();
    }

    let mut fresh = Device::new(&server.url, LEADER).sign_in();
    fresh.sync().unwrap();
    for id in &households {
        assert!(
            fresh.store.get::<Household>(id).is_ok(),
            "{id} not recovered"
        );
    }
    assert!(
        fresh.store.get::<Visit>(&visit).is_ok(),
        "the visit was not recovered"
    );
    let plan = fresh
        .store
        .get::<Household>(&households[0])
        .unwrap()
        .record
        .plan;
    assert_eq!(plan.as_deref(), Some("备份之后的修改"));
    assert_eq!(snapshot(&fresh), snapshot(&leader));
    assert_eq!(snapshot(&member), snapshot(&leader));
    let changes: usize = leader
        .store
        .record_ids()
        .unwrap()
        .iter()
        .map(|id| leader.store.history(id).unwrap().len())
        .sum();
    assert_eq!(server.change_count() as usize, changes);
}

#[test]
fn records_missing_changes_after_a_cursor_reset_are_repaired_with_automerge_sync() {
    for backend in Backend::available() {
        let server = village_server(backend);
        let mut leader = Device::new(&server.url, LEADER).sign_in();
        let mut ids = Vec::new();
        for n in 0..3 {
            let id = leader
                .store
                .create(&leader.author("建档立卡"), &household(300 + n))
                .unwrap();
            let mut h = household(300 + n);
            h.plan = Some(format!("计划{n}"));
            leader
                .store
                .update(&leader.author("更新"), &id, &h)
                .unwrap();
            ids.push(id);
        }
        leader.sync().unwrap();

        // The member's device has only the later change of each record (held: its dependency
        // is missing) and cursors that say it is up to date.
        let mut member = Device::new(&server.url, MEMBER_A).sign_in();
        let later: Vec<cunji_core::IncomingChange> = ids
            .iter()
            .map(|id| cunji_core::IncomingChange {
                doc_id: id.clone(),
                bytes: leader.store.changes_of(id).unwrap().remove(1),
            })
            .collect();
        member.store.apply_changes(&later).unwrap();
        assert_eq!(member.store.held_len().unwrap(), 3);
        let top = server.change_count();
        member
            .store
            .set_cursor(&format!("village-member:{}", Village::example().code), top)
            .unwrap();
        member.store.set_cursor("reference", top).unwrap();

        let report = member.sync().unwrap();
        assert_eq!(report.pulled, 0, "the pull should have had nothing to send");
        // The three missing first changes came through repair (the held later ones may come
        // again: the repair document of a record the store has only held changes for is empty).
        assert!(report.repaired >= 3, "{report:?}");
        assert_eq!(member.store.held_len().unwrap(), 0);
        for (n, id) in ids.iter().enumerate() {
            let h = member.store.get::<Household>(id).unwrap().record;
            assert_eq!(h.plan, Some(format!("计划{n}")));
        }
    }
}

#[test]
fn expired_tokens_too_many_requests_and_oversized_batches_are_refused_with_their_codes() {
    use cunji_sync_server::config::Config;
    // Tokens that expire at once.
    let server = TestServer::start_with(
        Backend::Sqlite,
        Config {
            token_ttl_hours: 0,
            ..Config::default()
        },
    );
    server.account(MEMBER_A, Role::TeamMember, "");
    let mut device = Device::new(&server.url, MEMBER_A).sign_in();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    match device.sync() {
        Err(SyncError::Unauthorized(message)) => assert!(message.contains("重新登录"), "{message}"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }

    // Three requests a minute per device: the fourth is refused, another device still served.
    let server = TestServer::start_with(
        Backend::Sqlite,
        Config {
            requests_per_minute: 3,
            ..Config::default()
        },
    );
    server.account(MEMBER_A, Role::TeamMember, "");
    server.account(MEMBER_B, Role::TeamMember, "");
    let a = Device::new(&server.url, MEMBER_A).sign_in();
    let b = Device::new(&server.url, MEMBER_B).sign_in();
    let pull = || {
        protocol::encode(&protocol::PullRequest {
            cursors: vec![],
            max_bytes: 1000,
        })
    };
    let mut t = a.transport();
    for _ in 0..3 {
        t.pull(pull()).unwrap();
    }
    match t.pull(pull()).unwrap_err() {
        TransportError::Status { status, body } => {
            assert_eq!((status, body.code.as_str()), (429, "rate_limited"));
            assert!(body.message.contains("秒后再试"), "{}", body.message);
        }
        other => panic!("{other:?}"),
    }
    // The refusal says when to come back: one request returns every 20 s.
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/v1/sync/pull", server.url))
        .bearer_auth(a.token())
        .header("content-type", protocol::CONTENT_TYPE)
        .body(pull())
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "Retry-After: {retry}");
    b.transport().pull(pull()).unwrap();

    // A push over the batch limit is refused whole (the client batches below the default limit).
    let server = TestServer::start_with(
        Backend::Sqlite,
        Config {
            max_batch_items: 2,
            ..Config::default()
        },
    );
    server.account(MEMBER_A, Role::TeamMember, "");
    let device = Device::new(&server.url, MEMBER_A).sign_in();
    let items: Vec<PushItem> = (0..3)
        .map(|i| PushItem {
            doc_id: format!("d{i}"),
            change: vec![1],
            signature: vec![0; 64],
        })
        .collect();
    match device
        .transport()
        .push(protocol::encode(&PushRequest { items }))
        .unwrap_err()
    {
        TransportError::Status { status, body } => {
            assert_eq!((status, body.code.as_str()), (413, "batch_too_large"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.change_count(), 0);
}

#[test]
fn a_pairing_cadre_reads_and_visits_only_the_households_assigned_to_them() {
    for backend in Backend::available() {
        let server = village_server(backend);
        server.account("pairing-zhou", Role::PairingCadre, "");
        let mut leader = Device::new(&server.url, LEADER).sign_in();
        let mine = leader
            .store
            .create(&leader.author("建档立卡"), &household(500))
            .unwrap();
        let other = leader
            .store
            .create(&leader.author("建档立卡"), &household(501))
            .unwrap();
        leader.sync().unwrap();
        let csv = format!(
            "household_id,cadre_id,from,to,is_primary\n{mine},pairing-zhou,2015-09-01,,是\n"
        );
        server
            .db
            .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
            .unwrap();

        let mut cadre = Device::new(&server.url, "pairing-zhou").sign_in();
        cadre.sync().unwrap();
        assert!(
            cadre.store.get::<Household>(&mine).is_ok(),
            "the assigned household did not arrive"
        );
        assert!(
            cadre.store.get::<Household>(&other).is_err(),
            "an unassigned household arrived"
        );
        let mut v = Visit::example();
        v.household_id = mine.clone();
        v.visitor_id = "pairing-zhou".into();
        v.role_at_visit = cunji_core::domain::codes::VisitRole::PairingCadre;
        let visit = cadre.store.create(&cadre.author("入户走访"), &v).unwrap();
        let mut w = v.clone();
        w.household_id = other.clone();
        let stray = cadre.store.create(&cadre.author("入户走访"), &w).unwrap();
        let report = cadre.sync().unwrap();
        let rejected = cadre.store.rejected_changes().unwrap();
        assert_eq!(report.rejected, 1, "{rejected:?}");
        assert_eq!(
            (rejected[0].0.as_str(), rejected[0].1.as_str()),
            (stray.as_str(), "out_of_scope")
        );
        leader.sync().unwrap();
        assert!(leader.store.get::<Visit>(&visit).is_ok());
        assert!(leader.store.get::<Visit>(&stray).is_err());
    }
}

#[test]
fn slow_and_stalled_links_still_converge() {
    let server = village_server(Backend::Sqlite);
    let proxy = Proxy::new(&server.url);
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    leader.url = proxy.url.clone();
    let mut member = Device::new(&server.url, MEMBER_A).sign_in();
    member.url = proxy.url.clone();
    let made: Vec<String> = (0..30)
        .map(|n| {
            leader
                .store
                .create(&leader.author("建档立卡"), &household(700 + n))
                .unwrap()
        })
        .collect();
    // A 2G (EDGE-class) link: 5 KB/s each way.
    proxy.throttle(5_000);
    let started = std::time::Instant::now();
    let report = leader.sync().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(report.pushed, 30);
    assert!(
        elapsed.as_secs_f64() >= report.bytes_sent as f64 / 5_000.0 * 0.8,
        "{elapsed:?} for {} bytes: the link was not throttled",
        report.bytes_sent
    );
    // A stall of two seconds in the middle of a response.
    proxy.throttle(0);
    proxy.stall_next(200, 2_000);
    let started = std::time::Instant::now();
    member.sync().unwrap();
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "the link did not stall"
    );
    for id in &made {
        assert!(member.store.get::<Household>(id).is_ok(), "{id} lost");
    }
    assert_eq!(leader.store.outbox_len().unwrap(), 0);
}

#[test]
fn process_records_reach_the_server_under_the_roles_that_write_them() {
    use cunji_core::domain::{Inspection, Petition, Project, SatisfactionSurvey, StatusChange};
    for backend in Backend::available() {
        let server = village_server(backend);
        server.account("township-zhang", Role::Township, "530322101");
        let mut leader = Device::new(&server.url, LEADER).sign_in();
        let hid = leader
            .store
            .create(&leader.author("建档立卡"), &household(600))
            .unwrap();
        let mut petition = Petition::example();
        petition.household_id = Some(hid.clone());
        let mut change = StatusChange::example();
        change.household_id = hid.clone();
        // The first secretary records the village's steps in its own name (the server checks
        // who signs each step).
        for step in change.steps.iter_mut() {
            step.actor_id = LEADER.into();
        }
        let who = leader.author("办理");
        let ids = [
            leader.store.create(&who, &petition).unwrap(),
            leader.store.create(&who, &change).unwrap(),
            leader.store.create(&who, &Project::example()).unwrap(),
        ];
        let report = leader.sync().unwrap();
        assert_eq!(report.rejected, 0, "{:?}", leader.store.rejected_changes());

        // The township inspects and surveys in its division.
        let mut township = Device::new(&server.url, "township-zhang").sign_in();
        let mut inspection = Inspection::example();
        inspection.inspector_id = "township-zhang".into();
        for h in inspection.households_checked.iter_mut() {
            h.household_id = hid.clone();
        }
        inspection.households_checked.truncate(1);
        let mut survey = SatisfactionSurvey::example();
        survey.household_id = hid.clone();
        survey.surveyor_id = "township-zhang".into();
        let who = township.author("督查");
        let inspected = township.store.create(&who, &inspection).unwrap();
        let surveyed = township.store.create(&who, &survey).unwrap();
        let report = township.sync().unwrap();
        assert_eq!(
            report.rejected,
            0,
            "{:?}",
            township.store.rejected_changes()
        );
        // The township reads its villages' households; above it, ID numbers are masked
        // (DOMAIN §1): a county account pulls no raw household record.
        assert!(township.store.get::<Household>(&hid).is_ok());
        server.account("county-li", Role::CountyOffice, "530322");
        let mut county = Device::new(&server.url, "county-li").sign_in();
        county.sync().unwrap();
        assert!(
            county.store.get::<Household>(&hid).is_err(),
            "a county account pulled a raw household"
        );
        assert!(county.store.record_ids().unwrap().is_empty());

        // A team member may not open a 动态调整 case; everyone in the village receives the rest.
        let mut member = Device::new(&server.url, MEMBER_A).sign_in();
        member.sync().unwrap();
        let mut own = StatusChange::example();
        own.household_id = hid.clone();
        let refused = member.store.create(&member.author("申请"), &own).unwrap();
        let report = member.sync().unwrap();
        assert_eq!(report.rejected, 1);
        let rejected = member.store.rejected_changes().unwrap();
        assert_eq!(
            (rejected[0].0.as_str(), rejected[0].1.as_str()),
            (refused.as_str(), "out_of_scope")
        );
        for id in ids.iter().chain([&inspected, &surveyed]) {
            assert!(
                member.store.document_json(id).is_ok(),
                "{id} did not reach the team member"
            );
        }
    }
}
