//! Sync protocol versions (issue 14, "old phones keep working"): a phone of an earlier
//! release keeps syncing against this server (`tests/fixtures/protocol-v<N>`: a store and a
//! push request that release's app made, kept unchanged), a phone too old for the server is
//! told to update and loses nothing, and one newer than the server is told to wait for it.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::{CheckIn, Village};
use cunji_core::sync::SyncError;
use cunji_core::sync::TransportError;
use cunji_core::sync::protocol::{
    self, OLDEST_PROTOCOL, PROTOCOL_HEADER, PROTOCOL_VERSION, PushOutcome, PushResponse,
};
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, TestServer};

const LEADER: &str = "cadre-wang-zhigang";

/// A server with the example village, its team serving and its first secretary's account.
fn village_server(backend: Backend) -> TestServer {
    let server = TestServer::start(backend);
    server.account(LEADER, Role::FirstSecretary, "");
    server.serve_example_village();
    server
}

fn fixture(version: u32) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("protocol-v{version}"))
}

/// POSTs `body` to the push endpoint with `version` in the protocol header (none: `None`).
fn post_push(
    url: &str,
    token: &str,
    version: Option<&str>,
    body: Vec<u8>,
) -> reqwest::blocking::Response {
    let mut req = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/sync/push"))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, protocol::CONTENT_TYPE)
        .body(body);
    if let Some(v) = version {
        req = req.header(PROTOCOL_HEADER, v);
    }
    req.send().unwrap()
}

fn error_code(resp: reqwest::blocking::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().unwrap();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// Every protocol version the server speaks has a fixture, and each fixture's phone syncs:
/// its recorded push is taken as that release's app sends it, then the phone (its store
/// opened by this build, migrations and all) syncs on and holds its village.
fn phones_of_every_version_the_server_speaks(backend: Backend) {
    for version in OLDEST_PROTOCOL..=PROTOCOL_VERSION {
        let dir = fixture(version);
        assert!(
            dir.join("push.bin").exists(),
            "no fixture for protocol {version}: run the protocol_fixture example on that release"
        );
        let server = village_server(backend);
        let mut phone = Device::from_file(&server.url, LEADER, &dir.join("phone.sqlite3"))
            .speaking(version)
            .sign_in();
        let records = phone.store.record_ids().unwrap();
        assert_eq!(
            records.len(),
            3,
            "the fixture's household, check-in and log"
        );
        let before = server.change_count();

        let resp = post_push(
            &server.url,
            phone.token(),
            Some(&version.to_string()),
            std::fs::read(dir.join("push.bin")).unwrap(),
        );
        assert_eq!(resp.status().as_u16(), 200, "protocol {version}");
        assert_eq!(
            resp.headers()[PROTOCOL_HEADER].to_str().unwrap(),
            version.to_string(),
            "answered in the request's version"
        );
        let pushed: PushResponse =
            protocol::decode(&resp.bytes().unwrap(), 1 << 20).expect("a push response");
        assert_eq!(pushed.results.len(), 3);
        assert!(
            pushed
                .results
                .iter()
                .all(|r| r.outcome == PushOutcome::Accepted),
            "protocol {version}: {pushed:?}"
        );
        assert_eq!(server.change_count(), before + 3);

        // The phone itself syncs on: its outbox settles (the server has the changes), nothing
        // is refused, and it receives its village.
        let report = phone.sync().unwrap();
        assert_eq!(report.rejected, 0, "{report:?}");
        assert_eq!(phone.store.outbox_len().unwrap(), 0);
        assert_eq!(server.change_count(), before + 3, "nothing twice");
        for id in &records {
            assert_eq!(server.stored_doc(id).id(), id, "{id} on the server");
        }
        let village = Village::example().code;
        assert!(
            phone.store.record_ids().unwrap().iter().any(|id| phone
                .store
                .document_json(id)
                .unwrap()["data"]["code"]
                == village),
            "the village pulled"
        );
    }
}

#[test]
fn phones_of_every_version_the_server_speaks_sync() {
    for backend in Backend::available() {
        phones_of_every_version_the_server_speaks(backend);
    }
}

/// A sync body sent as anything but a sync message (no `Content-Type`, JSON, text) is
/// refused with 415 `wrong_content_type`, naming the type to send, and nothing is stored; the
/// same body sent as one (every release of the app does) is taken.
#[test]
fn a_sync_body_must_be_sent_as_a_sync_message() {
    let server = village_server(Backend::Sqlite);
    let dir = fixture(PROTOCOL_VERSION);
    let phone = Device::from_file(&server.url, LEADER, &dir.join("phone.sqlite3"))
        .speaking(PROTOCOL_VERSION)
        .sign_in();
    let body = std::fs::read(dir.join("push.bin")).unwrap();
    let before = server.change_count();
    let http = reqwest::blocking::Client::new();
    for content_type in [None, Some("application/json"), Some("text/plain")] {
        let mut req = http
            .post(format!("{}/v1/sync/push", server.url))
            .bearer_auth(phone.token())
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .body(body.clone());
        if let Some(t) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, t);
        }
        let resp = req.send().unwrap();
        assert_eq!(resp.status().as_u16(), 415, "{content_type:?}");
        let err: protocol::ErrorBody = resp.json().unwrap();
        assert_eq!(err.code, "wrong_content_type");
        assert!(
            err.message.contains(protocol::CONTENT_TYPE),
            "{}",
            err.message
        );
    }
    assert_eq!(server.change_count(), before, "nothing stored");
    let resp = post_push(
        &server.url,
        phone.token(),
        Some(&PROTOCOL_VERSION.to_string()),
        body,
    );
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(server.change_count(), before + 3);
}

/// A phone older than the server speaks is told to update (426 `update_required`, naming the
/// protocol to move to), before its token is even looked at; it keeps its records, and once
/// updated it sends them. A phone newer than the server is told so (400 `protocol_too_new`),
/// and a header that is not a version is malformed; a request without one is version 1.
#[test]
fn a_phone_the_server_does_not_speak_to_is_told_what_to_do_and_keeps_its_records() {
    let server = village_server(Backend::Sqlite);
    let too_old = OLDEST_PROTOCOL - 1;
    let mut phone = Device::new(&server.url, LEADER).speaking(too_old).sign_in();
    let mut c = CheckIn::example();
    c.cadre_id = LEADER.into();
    c.ts = chrono::Utc::now().fixed_offset();
    let id = phone.store.create(&phone.author("打卡"), &c).unwrap();
    let before = server.change_count();

    match phone.sync() {
        Err(SyncError::UpdateRequired(message)) => {
            assert!(message.contains("请更新应用"), "{message}");
            let field = cunji_core::field::FieldError::from(SyncError::UpdateRequired(message));
            assert_eq!(field.code(), "update_required");
        }
        other => panic!("expected update_required, got {other:?}"),
    }
    assert_eq!(
        phone.store.outbox_len().unwrap(),
        1,
        "the check-in waits on the phone"
    );
    assert_eq!(server.change_count(), before);

    let body = std::fs::read(fixture(1).join("push.bin")).unwrap();
    let resp = post_push(
        &server.url,
        "not-a-token",
        Some(&too_old.to_string()),
        body.clone(),
    );
    assert_eq!(
        resp.headers()[reqwest::header::UPGRADE].to_str().unwrap(),
        format!("cunji-sync/{PROTOCOL_VERSION}")
    );
    assert_eq!(
        error_code(resp),
        (426, "update_required".into()),
        "before the token"
    );
    let too_new = (PROTOCOL_VERSION + 1).to_string();
    assert_eq!(
        error_code(post_push(
            &server.url,
            phone.token(),
            Some(&too_new),
            body.clone()
        )),
        (400, "protocol_too_new".into())
    );
    assert_eq!(
        error_code(post_push(
            &server.url,
            phone.token(),
            Some("v1"),
            body.clone()
        )),
        (400, "malformed".into())
    );
    assert_eq!(server.change_count(), before);

    // Newer than the server: refused with its message, nothing lost either.
    let mut newer = Device::new(&server.url, LEADER)
        .speaking(PROTOCOL_VERSION + 1)
        .sign_in();
    newer.store.create(&newer.author("打卡"), &c).unwrap();
    match newer.sync() {
        Err(SyncError::Refused(TransportError::Status { status: 400, body })) => {
            assert_eq!(body.code, "protocol_too_new");
            assert!(body.message.contains("更新服务器"), "{}", body.message);
        }
        other => panic!("expected protocol_too_new, got {other:?}"),
    }
    assert_eq!(newer.store.outbox_len().unwrap(), 1);

    // The phone updated: the same store sends its check-in.
    phone.protocol = PROTOCOL_VERSION;
    let report = phone.sync().unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0), "{report:?}");
    assert_eq!(server.stored_doc(&id).id(), id);
}

/// The first release sent the header but nothing read it: a request without one is read as
/// version 1 and answered so.
#[test]
fn a_request_without_a_protocol_header_is_version_1() {
    let server = village_server(Backend::Sqlite);
    let phone = Device::from_file(&server.url, LEADER, &fixture(1).join("phone.sqlite3")).sign_in();
    let resp = post_push(
        &server.url,
        phone.token(),
        None,
        std::fs::read(fixture(1).join("push.bin")).unwrap(),
    );
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()[PROTOCOL_HEADER].to_str().unwrap(), "1");
}
