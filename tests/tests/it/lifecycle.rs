//! A record's life beyond one device: a cadre replaced with unsynced work on their phone
//! (handover), the server's disk filling during ingest, device clocks days off, and a
//! damaged stored document on the server.
//! Each scenario runs on SQLite, and on PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set
//! (the disk-full one on SQLite only: see its docs).
#![allow(clippy::unwrap_used)]

use cunji_core::domain::codes::VisitRole;
use cunji_core::domain::{Household, Village, Visit};
use cunji_core::sync::SyncError;
use cunji_core::sync::handover;
use cunji_core::sync::protocol;
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, SmallDisk, TestServer, household};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER_A: &str = "cadre-li-ming";
const MEMBER_B: &str = "cadre-zhao-hong";
const OLD: &str = "pairing-zhou";
const NEW: &str = "pairing-qian";
const MAX_DECODED: usize = 32 * 1024 * 1024;

/// A server with the example village and team, a leader, and two pairing cadres.
fn village_server(backend: Backend) -> TestServer {
    set_up_village(TestServer::start(backend))
}

fn set_up_village(server: TestServer) -> TestServer {
    server.account(MEMBER_A, Role::TeamMember, "");
    server.account(MEMBER_B, Role::TeamMember, "");
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
        .create(&admin.author("组建工作队"), &cunji_tests::serving_team())
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
    visit_on(device, household, note, 0)
}

/// [`visit`], `days` after the example visit's day (2015-09-12): a pairing cadre writes only
/// on the days of its assignment (DOMAIN §1).
fn visit_on(device: &mut Device, household: &str, note: &str, days: i64) -> String {
    let mut v = Visit::example();
    v.start_ts += chrono::Duration::days(days);
    v.end_ts += chrono::Duration::days(days);
    v.follow_up_due = v.follow_up_due.map(|d| d + chrono::Duration::days(days));
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
    forged.request.items.push(protocol::v1::PushItem {
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

    // The household moves to the new cadre through the assignment records: the old one ends
    // (an edit of it, kept in its history), a new one begins.
    let csv = format!(
        "household_id,cadre_id,from,to,is_primary\n\
         {home},{OLD},2015-09-01,2015-12-31,是\n{home},{NEW},2016-01-01,,是\n"
    );
    let moved = server
        .db
        .write(|tx| cunji_sync_server::records::import_assignments(tx, "admin", &csv))
        .unwrap();
    assert_eq!((moved.created, moved.updated, moved.skipped), (1, 1, 0));
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
    // Only on its own assignment's days: a visit dated before 2016-01-01 is not the new
    // cadre's to record.
    let early = visit(&mut new, &home, "接手前的日期");
    let own = visit_on(&mut new, &home, "接手后的第一次走访", 120);
    let report = new.sync().unwrap();
    let rejected = new.store.rejected_changes().unwrap();
    assert_eq!(report.rejected, 1, "{rejected:?}");
    assert_eq!(
        (rejected[0].0.as_str(), rejected[0].1.as_str()),
        (early.as_str(), "out_of_scope")
    );

    let assignments = new
        .store
        .conn()
        .prepare("SELECT doc_id, cadre_id, to_date FROM p_assignment ORDER BY cadre_id")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let ended = assignments.iter().find(|a| a.1 == OLD).unwrap();
    assert_eq!(ended.2.as_deref(), Some("2015-12-31"), "{assignments:?}");
    assert_eq!(new.store.history(&ended.0).unwrap().len(), 2);
    assert!(assignments.iter().any(|a| a.1 == NEW && a.2.is_none()));

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

/// Every record's document as JSON, by id.
fn snapshot(d: &Device) -> Vec<(String, serde_json::Value)> {
    d.store
        .record_ids()
        .unwrap()
        .into_iter()
        .map(|id| (id.clone(), d.store.document_json(&id).unwrap()))
        .collect()
}

/// Changes a device has made or received, by hash: what the server must hold in the end.
fn change_hashes(d: &Device) -> std::collections::BTreeSet<automerge::ChangeHash> {
    d.store
        .record_ids()
        .unwrap()
        .iter()
        .flat_map(|id| history_hashes(d, id))
        .collect()
}

fn history_hashes(d: &Device, id: &str) -> Vec<automerge::ChangeHash> {
    d.store
        .history(id)
        .unwrap()
        .into_iter()
        .map(|h| h.hash.parse().unwrap())
        .collect()
}

/// The server's disk (a real tmpfs) fills while three devices push. SQLite only: a
/// PostgreSQL server's disk is the database server's, outside what a test can mount; its
/// DISK_FULL maps to the same 507 (`StoreError::is_disk_full`).
#[test]
fn a_server_whose_disk_fills_during_ingest_loses_nothing_and_resumes() {
    let disk = match SmallDisk::mount(1536 * 1024) {
        Ok(d) => d,
        Err(e) => panic!("this test mounts a small tmpfs and needs root: {e}"),
    };
    let server = set_up_village(TestServer::start_sqlite_in(&disk.path));
    let mut devices: Vec<Device> = [LEADER, MEMBER_A, MEMBER_B]
        .iter()
        .map(|login| Device::new(&server.url, login).sign_in())
        .collect();
    // A device with nothing to push, to read from the full server.
    let mut watcher = Device::new(&server.url, MEMBER_B).sign_in();
    let mut homes = Vec::new();
    let leader = &mut devices[0];
    for n in 0..20 {
        homes.push(
            leader
                .store
                .create(&leader.author("建档立卡"), &household(800 + n))
                .unwrap(),
        );
    }
    leader.sync().unwrap();
    for d in devices.iter_mut().skip(1) {
        d.sync().unwrap();
    }

    // Everyone records visits and pushes until the server's disk is full.
    let mut full = Vec::new();
    'fill: for round in 0..40 {
        for d in devices.iter_mut() {
            for k in 0..10 {
                let mut v = Visit::example();
                v.household_id = homes[(round + k) % homes.len()].clone();
                v.visitor_id = d.login.clone();
                v.role_at_visit = if d.login == LEADER {
                    VisitRole::FirstSecretary
                } else {
                    VisitRole::TeamMember
                };
                v.actions = Some(format!("第{round}轮走访，{}", "记录".repeat(200)));
                d.store.create(&d.author("入户走访"), &v).unwrap();
            }
            if let Err(e) = d.sync_with(2) {
                full.push((e.code(), e.to_string(), d.store.outbox_len().unwrap()));
            }
        }
        if full.len() >= 3 {
            break 'fill;
        }
    }
    assert!(!full.is_empty(), "the server's disk never filled");
    for (code, message, outbox) in &full {
        assert_eq!(*code, "server_full", "{message}");
        assert!(message.contains("手机上"), "{message}");
        assert!(*outbox > 0, "a refused push emptied the outbox");
    }

    // While full: the file is intact, the server still answers and serves what it has.
    let check: String = rusqlite_check(&server.sqlite_path());
    assert_eq!(check, "ok");
    let health = reqwest::blocking::get(format!("{}/healthz", server.url)).unwrap();
    assert!(health.status().is_success());
    let report = watcher.sync_with(2).unwrap();
    assert!(report.pulled > 0, "{report:?}");

    // Space returns: every device syncs its backlog, and everything converges.
    disk.resize(64 * 1024 * 1024);
    for _ in 0..2 {
        for d in devices.iter_mut() {
            d.sync().unwrap();
        }
    }
    for d in &devices {
        assert_eq!(d.store.outbox_len().unwrap(), 0);
        assert!(d.store.rejected_changes().unwrap().is_empty());
    }
    let mut fresh = Device::new(&server.url, LEADER).sign_in();
    fresh.sync().unwrap();
    for d in &devices {
        assert_eq!(snapshot(d), snapshot(&fresh), "{} differs", d.login);
    }
    // Each change stored once: the server's log holds exactly the devices' changes.
    let all = change_hashes(&fresh);
    assert_eq!(server.change_count() as usize, all.len());
    assert_eq!(rusqlite_check(&server.sqlite_path()), "ok");
}

fn rusqlite_check(path: &std::path::Path) -> String {
    let conn = cunji_core::open_connection(path).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn clocks_days_off(backend: Backend) {
    use chrono::Duration;
    use cunji_core::domain::CheckIn;
    use cunji_core::rules::attendance::{AttendanceConfig, CheckInFact, check_in_counts};

    let server = village_server(backend);
    let day = Duration::days(1);
    // Three days fast, two days slow, four minutes fast (within R2's 10), and right.
    let mut devices = [
        Device::new(&server.url, MEMBER_A)
            .with_clock_skew(day * 3)
            .sign_in(),
        Device::new(&server.url, MEMBER_B)
            .with_clock_skew(-day * 2)
            .sign_in(),
        Device::new(&server.url, LEADER)
            .with_clock_skew(Duration::minutes(4))
            .sign_in(),
        Device::new(&server.url, LEADER).sign_in(),
    ];
    let home = {
        let d = &mut devices[3];
        let id = d
            .store
            .create(&d.author("建档立卡"), &household(900))
            .unwrap();
        d.sync().unwrap();
        id
    };
    let mut check_ins = Vec::new();
    for d in devices.iter_mut() {
        d.sync().unwrap();
        let mut c = CheckIn::example();
        c.cadre_id = d.login.clone();
        c.ts = d.now();
        check_ins.push(d.store.create(&d.author("到村打卡"), &c).unwrap());
    }
    // The fast and the slow phone edit the same field offline; the slow one edits another too.
    for (i, plan) in [(0, "快三天的手机写的计划"), (1, "慢两天的手机写的计划")]
    {
        let d = &mut devices[i];
        let mut h = d.store.get::<Household>(&home).unwrap().record;
        h.plan = Some(plan.into());
        if i == 1 {
            h.phone = Some("13800000000".into());
        }
        d.store.update(&d.author("更新"), &home, &h).unwrap();
    }
    for _ in 0..2 {
        for d in devices.iter_mut() {
            let report = d.sync().unwrap();
            assert_eq!(report.rejected, 0, "{:?}", d.store.rejected_changes());
        }
    }
    // Each phone learns from the server how far off its clock is (for the app's R2 warning):
    // in the sync's report, and kept in its store.
    let max_drift_s = AttendanceConfig::default().max_clock_drift_s;
    for d in devices.iter_mut() {
        let skew_ms = d.clock_skew.num_milliseconds();
        let report = d.sync().unwrap(); // nothing to push: learnt from the pull alone
        assert_eq!(report.pushed, 0);
        let reported = report.device_clock_offset_ms.unwrap();
        assert!(
            (reported - skew_ms).abs() <= 5_000,
            "{}: {reported} ms for a skew of {skew_ms} ms",
            d.login
        );
        let kept = d.store.clock_offset().unwrap().unwrap();
        assert!(
            (kept.offset_ms - skew_ms).abs() <= 5_000,
            "{}: kept {kept:?}",
            d.login
        );
        assert_eq!(
            kept.is_off(max_drift_s),
            skew_ms.abs() > max_drift_s * 1000,
            "{}",
            d.login
        );
    }

    // Converged, whatever the clocks: the same documents everywhere, but for the members'
    // check-ins, each read only by its own cadre and the first secretary (DOMAIN §1).
    let first = snapshot(&devices[3]);
    for d in &devices[..3] {
        let expected = if d.login == LEADER {
            first.clone()
        } else {
            cunji_tests::member_view(&first, &d.login)
        };
        assert!(snapshot(d) == expected, "{} differs", d.login);
    }
    // A fast clock does not win a same-field edit: both values are kept as a conflict.
    let merged = devices[3].store.get::<Household>(&home).unwrap();
    assert_eq!(merged.record.phone.as_deref(), Some("13800000000"));
    let conflict = merged
        .conflicts
        .iter()
        .find(|c| c.path == ["data", "plan"] || c.path.last().map(String::as_str) == Some("plan"))
        .unwrap_or_else(|| panic!("no conflict on plan: {:?}", merged.conflicts));
    assert_eq!(conflict.values.len(), 2);

    // The server keeps its own received time beside the device's, and each device's offset.
    let cfg = AttendanceConfig::default();
    let started = chrono::Utc::now();
    for (d, id) in devices.iter().zip(&check_ins) {
        let stored = devices[3].store.get::<CheckIn>(id).unwrap();
        let clock = server.db.read(|tx| tx.received_clock(id)).unwrap().unwrap();
        let received = chrono::DateTime::parse_from_rfc3339(&clock.received_ts).unwrap();
        // Received on the server's clock (within the test's few minutes), not the device's.
        assert!(
            (started - received.to_utc()).num_minutes().abs() < 10,
            "received {received}"
        );
        let device_time = stored.envelope.created_device_ts;
        let offset_s = clock.device_clock_offset_ms.unwrap() / 1000;
        assert!(
            (offset_s - d.clock_skew.num_seconds()).abs() <= 5,
            "{}: offset {offset_s}s for a skew of {}s",
            d.login,
            d.clock_skew.num_seconds()
        );
        assert!(
            ((device_time.to_utc() - received.to_utc()).num_seconds() - d.clock_skew.num_seconds())
                .abs()
                <= 60
        );
        // R2: a check-in counts only when its device's clock was within 10 minutes. All else
        // (place, hour, mock flag) is set valid so that the drift alone decides.
        let fact = CheckInFact {
            date: stored.record.local_date(),
            time: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            inside_geofence: true,
            mock: false,
            clock_drift_s: Some(offset_s),
        };
        let within = d.clock_skew.num_seconds().abs() <= cfg.max_clock_drift_s;
        assert_eq!(check_in_counts(&fact, &cfg), within, "{}", d.login);
    }
}

#[test]
fn devices_days_fast_or_slow_converge_and_their_drift_is_flagged() {
    for backend in Backend::available() {
        clocks_days_off(backend);
    }
}

/// The server's stored copy of a record is damaged (the 624-byte document that made automerge
/// allocate 2 GB, in place of its snapshot): the next push to that record rebuilds it from the
/// change log instead of failing every push that carries a change to it.
fn damaged_document_rebuilt(backend: Backend) {
    let server = village_server(backend);
    let mut d = Device::new(&server.url, LEADER).sign_in();
    let id = d
        .store
        .create(&d.author("建档立卡"), &household(901))
        .unwrap();
    assert_eq!(d.sync().unwrap().rejected, 0);
    let damaged = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fuzz/load_document/bundle-run-of-9.5e9-op-counters"),
    )
    .unwrap();
    server
        .db
        .write(|tx| tx.replace_doc_snapshot(&id, &damaged[2..]))
        .unwrap();
    let row = server.db.read(|tx| tx.doc(&id)).unwrap().unwrap();
    let err = cunji_core::doc::RecordDoc::load(
        &id,
        Some(&row.snapshot),
        &row.chunks,
        automerge::ActorId::random(),
    )
    .err()
    .unwrap();
    assert_eq!(err.code(), "corrupt_document");

    let mut h = d.store.get::<Household>(&id).unwrap().record;
    h.plan = Some("存储损坏之后的修改".into());
    d.store.update(&d.author("更新"), &id, &h).unwrap();
    let report = d.sync().unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0));
    assert_eq!(d.store.outbox_len().unwrap(), 0);
    // Stored whole again: it loads, with the device's heads.
    let row = server.db.read(|tx| tx.doc(&id)).unwrap().unwrap();
    let mut rebuilt = cunji_core::doc::RecordDoc::load(
        &id,
        Some(&row.snapshot),
        &row.chunks,
        automerge::ActorId::random(),
    )
    .unwrap();
    assert_eq!(rebuilt.heads(), d.store.heads(&id).unwrap());
    // A fresh device gets the record with the edit.
    let mut fresh = Device::new(&server.url, LEADER).sign_in();
    fresh.sync().unwrap();
    assert_eq!(
        fresh.store.get::<Household>(&id).unwrap().record.plan,
        Some("存储损坏之后的修改".into())
    );
}

#[test]
fn a_damaged_stored_document_on_the_server_is_rebuilt_from_its_log() {
    for backend in Backend::available() {
        damaged_document_rebuilt(backend);
    }
}
