//! A lost or stolen phone cut off on its own (issue 14, part 4): `revoke-device` (the store's
//! `revoke_device`, what the command runs) kills its tokens at once; it can neither sync nor
//! sign in again (`device_revoked`, with a message saying to use a new phone) and its outbox
//! stays on it; a bundle of its outbox is not taken either; what it pushed before stays with
//! the server and reaches the team; the cadre signs in on a new phone and carries on, and the
//! account's other phones are untouched.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::CheckIn;
use cunji_core::sync::{SyncError, handover};
use cunji_sync_server::accounts::Role;
use cunji_sync_server::handover::HandoverError;
use cunji_tests::{Backend, Device, TestServer};

const LEADER: &str = "cadre-wang-zhigang";
const MEMBER: &str = "cadre-li-ming";
const MAX_DECODED: usize = 64 << 20;

fn check_in(login: &str, at: chrono::DateTime<chrono::FixedOffset>) -> CheckIn {
    let mut c = CheckIn::example();
    c.cadre_id = login.into();
    c.ts = at;
    c
}

fn a_lost_phone_is_cut_off_and_the_cadre_carries_on(backend: Backend) {
    let server = TestServer::start(backend);
    server.account(LEADER, Role::FirstSecretary, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.serve_example_village();

    // The member's phone, and a second phone of theirs (a tablet) that stays in use.
    let mut lost = Device::new(&server.url, MEMBER).sign_in();
    let mut tablet = Device::new(&server.url, MEMBER).sign_in();
    let now = chrono::Utc::now().fixed_offset();
    let before_loss = lost
        .store
        .create(
            &lost.author("打卡"),
            &check_in(MEMBER, now - chrono::Duration::hours(2)),
        )
        .unwrap();
    assert_eq!(lost.sync().unwrap().rejected, 0);
    let lost_id = lost.store.device().device_id.clone();

    let devices = server.db.read(|tx| tx.devices_of(MEMBER)).unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d.revoked_ts.is_none()));
    let cut = server
        .db
        .write(|tx| tx.revoke_device(&lost_id, &chrono::Utc::now().to_rfc3339()))
        .unwrap();
    assert!(cut);
    let again = server
        .db
        .write(|tx| tx.revoke_device(&lost_id, &chrono::Utc::now().to_rfc3339()))
        .unwrap();
    assert!(!again, "once is enough");

    // Whoever holds the lost phone: its next record stays on it, refused with what to do.
    lost.store
        .create(&lost.author("打卡"), &check_in(MEMBER, now))
        .unwrap();
    let stored = server.change_count();
    match lost.sync() {
        Err(e @ SyncError::DeviceRevoked(_)) => {
            assert_eq!(e.code(), "device_revoked");
            let field = cunji_core::field::FieldError::from(e);
            assert_eq!(field.code(), "device_revoked");
            assert!(field.to_string().contains("新手机"), "{field}");
        }
        other => panic!("expected device_revoked, got {other:?}"),
    }
    assert_eq!(server.change_count(), stored, "nothing of it stored");
    assert_eq!(lost.store.outbox_len().unwrap(), 1);
    // Signing in again on it, even with the right password, is refused the same way.
    let relogin = cunji_core::sync::login(&server.url, MEMBER, cunji_tests::PASSWORD, &lost.store);
    match relogin {
        Err(cunji_core::sync::TransportError::Status { status: 403, body }) => {
            assert_eq!(body.code, "device_revoked");
        }
        other => panic!("expected device_revoked on sign-in, got {other:?}"),
    }
    // Nor is a bundle of its outbox taken.
    let bundle = handover::export(&lost.store).unwrap();
    match cunji_sync_server::handover::ingest_bundle(&server.db, &bundle, MAX_DECODED) {
        Err(HandoverError::RevokedDevice(device, _)) => assert_eq!(device, lost_id),
        other => panic!("expected a refused bundle, got {other:?}"),
    }
    assert_eq!(server.change_count(), stored);

    // What it pushed before stays, and the team receives it.
    let mut leader = Device::new(&server.url, LEADER).sign_in();
    leader.sync().unwrap();
    assert!(leader.store.document_json(&before_loss).is_ok());
    // The account's other phone carries on, and so does a new one.
    tablet
        .store
        .create(
            &tablet.author("打卡"),
            &check_in(MEMBER, now - chrono::Duration::minutes(30)),
        )
        .unwrap();
    let report = tablet.sync().unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0), "{report:?}");
    let mut new_phone = Device::new(&server.url, MEMBER).sign_in();
    let report = new_phone.sync().unwrap();
    assert_eq!(report.rejected, 0);
    assert!(
        new_phone.store.document_json(&before_loss).is_ok(),
        "its own earlier check-in"
    );
    new_phone
        .store
        .create(&new_phone.author("打卡"), &check_in(MEMBER, now))
        .unwrap();
    assert_eq!(new_phone.sync().unwrap().pushed, 1);
    let devices = server.db.read(|tx| tx.devices_of(MEMBER)).unwrap();
    assert_eq!(
        devices
            .iter()
            .filter(|d| d.revoked_ts.is_some())
            .map(|d| d.device_id.as_str())
            .collect::<Vec<_>>(),
        [lost_id.as_str()]
    );
    assert_eq!(devices.len(), 3);
}

/// Who may list an account's phones and cut one off through the API (the dashboard's): the
/// county poverty office of the cadre's county and an administrator (a county's within it);
/// another county's office and an administrator of another county are answered as if the
/// account or device did not exist, and every other role is refused.
fn the_county_office_cuts_off_its_countys_phones(backend: Backend) {
    let server = TestServer::start(backend);
    server.account(MEMBER, Role::TeamMember, "");
    server.account("office-x", Role::CountyOffice, "530322");
    server.account("office-y", Role::CountyOffice, "530111");
    server.account("admin-x", Role::Admin, "530322");
    server.account("admin-y", Role::Admin, "530111");
    server.account("town-x", Role::Township, "530322101");
    server.serve_example_village();
    let mut phone = Device::new(&server.url, MEMBER).sign_in();
    let phone_id = phone.store.device().device_id.clone();
    let http = reqwest::blocking::Client::new();
    let session = |login: &str| -> String {
        let s: serde_json::Value = http
            .post(format!("{}/v1/session", server.url))
            .json(&serde_json::json!({"login": login, "password": cunji_tests::PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        s["token"].as_str().unwrap().to_string()
    };
    let answer = |resp: reqwest::blocking::Response| -> (u16, serde_json::Value) {
        (resp.status().as_u16(), resp.json().unwrap())
    };
    let list = |token: &str| {
        answer(
            http.get(format!("{}/v1/accounts/{MEMBER}/devices", server.url))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    };
    let revoke = |token: &str, device: &str| {
        answer(
            http.post(format!("{}/v1/devices/{device}/revoke", server.url))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    };
    for login in ["office-x", "admin-x", "admin"] {
        let (status, body) = list(&session(login));
        assert_eq!(status, 200, "{login}: {body}");
        assert_eq!(
            body["devices"][0]["device_id"],
            phone_id.as_str(),
            "{login}"
        );
    }
    for login in ["office-y", "admin-y"] {
        let token = session(login);
        let (status, body) = list(&token);
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{login}"
        );
        let (status, body) = revoke(&token, &phone_id);
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{login}"
        );
    }
    for login in ["town-x", MEMBER] {
        let token = session(login);
        let (status, body) = list(&token);
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{login}"
        );
        let (status, body) = revoke(&token, &phone_id);
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{login}"
        );
        let (status, _) = revoke(&token, "no-such-phone");
        assert_eq!(
            status, 403,
            "{login}: nothing learnt of which devices exist"
        );
    }
    assert!(phone.sync().is_ok(), "nobody above cut it off");
    let office = session("office-x");
    let (status, _) = revoke(&office, "no-such-phone");
    assert_eq!(status, 404);
    let (status, body) = revoke(&office, &phone_id);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["already"], false);
    let (status, again) = revoke(&office, &phone_id);
    assert_eq!((status, &again["already"]), (200, &serde_json::json!(true)));
    assert_eq!(again["revoked_ts"], body["revoked_ts"], "it keeps its time");
    match phone.sync() {
        Err(SyncError::DeviceRevoked(_)) => {}
        other => panic!("expected device_revoked, got {other:?}"),
    }
}

#[test]
fn the_county_office_cuts_off_its_countys_phones_through_the_api() {
    for backend in Backend::available() {
        the_county_office_cuts_off_its_countys_phones(backend);
    }
}

#[test]
fn a_lost_phone_is_cut_off_and_the_cadre_carries_on_on_a_new_one() {
    for backend in Backend::available() {
        a_lost_phone_is_cut_off_and_the_cadre_carries_on(backend);
    }
}
