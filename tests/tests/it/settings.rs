//! County ⚙ settings end to end: the county poverty office sets them over HTTP, the server
//! keeps them and their history, devices read their county's, on SQLite and (with
//! `CUNJI_TEST_POSTGRES_URL`) PostgreSQL. Who may call which endpoint is in the authorisation
//! matrix (`authz_matrix.rs`); this file is what the endpoints do.
#![allow(clippy::unwrap_used)]

use cunji_core::domain::Village;
use cunji_sync_server::accounts::Role;
use cunji_tests::{Backend, Device, PASSWORD, TestServer};
use serde_json::{Value, json};

const X: &str = "530322101201";
const COUNTY: &str = "530322";
const MEMBER: &str = "cadre-li-ming";
const OFFICE: &str = "county-office-x";

/// A server with village X, its team and the county's poverty office.
fn world(backend: Backend) -> TestServer {
    let server = TestServer::start(backend);
    server.account("admin", Role::Admin, "");
    server.account(MEMBER, Role::TeamMember, "");
    server.account("cadre-wang-zhigang", Role::FirstSecretary, "");
    server.account("cadre-zhao-hong", Role::TeamMember, "");
    server.account(OFFICE, Role::CountyOffice, COUNTY);
    let mut admin = Device::new(&server.url, "admin").sign_in();
    let who = admin.author("建村");
    admin.store.create(&who, &Village::example()).unwrap();
    admin
        .store
        .create(&who, &cunji_tests::serving_team())
        .unwrap();
    assert_eq!(admin.sync().unwrap().rejected, 0);
    assert_eq!(&Village::example().code, X);
    server
}

fn call(method: &str, url: &str, token: &str, body: Option<&str>) -> (u16, Value) {
    let http = reqwest::blocking::Client::new();
    let mut req = http
        .request(method.parse().unwrap(), url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().unwrap();
    (resp.status().as_u16(), resp.json().unwrap())
}

#[test]
fn a_county_office_sets_its_settings_and_devices_read_them() {
    for backend in Backend::available() {
        sets_and_reads(backend);
    }
}

fn sets_and_reads(backend: Backend) {
    let server = world(backend);
    let member = Device::new(&server.url, MEMBER).sign_in();
    let office = Device::new(&server.url, OFFICE).sign_in();
    let mine = format!("{}/v1/settings", server.url);
    let county = format!("{}/v1/settings/county/{COUNTY}", server.url);

    // Nothing set: DOMAIN's defaults, and the phone can tell.
    let (status, body) = call("GET", &mine, member.token(), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["county_code"], COUNTY);
    assert_eq!(body["source"], "default");
    assert_eq!(body["updated_ts"], Value::Null);
    assert_eq!(body["settings"]["check_in_photo"], "off");
    assert_eq!(body["settings"]["rules"]["attendance"]["required_days"], 20);
    // The answer has exactly the fields the OpenAPI document describes.
    let doc: Value = reqwest::blocking::get(format!("{}/v1/openapi.json", server.url))
        .unwrap()
        .json()
        .unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&body),
        keys(&doc["components"]["schemas"]["EffectiveSettings"]["properties"])
    );

    // Out of range, of the wrong type, unknown, not JSON: refused, each field named, nothing kept.
    let bad = [
        (
            r#"{"rules":{"attendance":{"required_days":0}}}"#,
            422,
            "invalid_settings",
            "rules.attendance.required_days",
        ),
        (
            r#"{"rules":{"attendance":{"required_days":32},"visits":{"interval_days":-5}}}"#,
            422,
            "invalid_settings",
            "rules.visits.interval_days",
        ),
        (
            r#"{"check_in_photo":"always"}"#,
            422,
            "invalid_settings",
            "check_in_photo",
        ),
        (
            r#"{"check_in_foto":"optional"}"#,
            422,
            "invalid_settings",
            "check_in_foto",
        ),
        ("{nope", 400, "malformed", "JSON"),
    ];
    for (body, status, code, names) in bad {
        let (got, err) = call("PUT", &county, office.token(), Some(body));
        assert_eq!(
            (got, err["code"].as_str()),
            (status, Some(code)),
            "{body}: {err}"
        );
        assert!(
            err["message"].as_str().unwrap().contains(names)
                && err["message_en"].as_str().unwrap().contains(names),
            "{body}: {err}"
        );
    }
    let (_, two) = call("PUT", &county, office.token(), Some(bad[1].0));
    assert!(
        two["message"].as_str().unwrap().contains("required_days"),
        "both fields named: {two}"
    );
    assert_eq!(
        call("GET", &mine, member.token(), None).1["source"],
        "default"
    );
    let history = server
        .db
        .read(|tx| tx.county_settings_history(COUNTY))
        .unwrap();
    assert!(history.is_empty(), "{history:?}");

    // A change: in force for the county's devices at once, with who and when.
    let (status, body) = call(
        "PUT",
        &county,
        office.token(),
        Some(r#"{"check_in_photo":"optional","rules":{"attendance":{"required_days":18}}}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "county");
    assert_eq!(body["updated_by"], OFFICE);
    let (_, body) = call("GET", &mine, member.token(), None);
    assert_eq!(body["source"], "county");
    assert!(body["updated_ts"].is_string());
    assert_eq!(body["settings"]["check_in_photo"], "optional");
    assert_eq!(body["settings"]["rules"]["attendance"]["required_days"], 18);
    // Fields left out took the defaults.
    assert_eq!(body["settings"]["rules"]["visits"]["interval_days"], 60);

    // A second change by the administrator: the history keeps both, old → new.
    let (status, _) = call(
        "PUT",
        &county,
        &admin_token(&server),
        Some(r#"{"check_in_photo":"required"}"#),
    );
    assert_eq!(status, 200);
    let history = server
        .db
        .read(|tx| tx.county_settings_history(COUNTY))
        .unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].old_json, None);
    assert_eq!(history[0].changed_by, OFFICE);
    assert_eq!(
        history[1].old_json.as_deref(),
        Some(history[0].new_json.as_str())
    );
    assert_eq!(history[1].changed_by, "admin");
    let new: Value = serde_json::from_str(&history[1].new_json).unwrap();
    assert_eq!(new["check_in_photo"], "required");
    assert_eq!(new["rules"]["attendance"]["required_days"], 20);
    let (_, body) = call("GET", &county, office.token(), None);
    assert_eq!(body["settings"]["check_in_photo"], "required");
    assert_eq!(body["updated_by"], "admin");
}

fn admin_token(server: &TestServer) -> String {
    Device::new(&server.url, "admin")
        .sign_in()
        .token()
        .to_string()
}

#[test]
fn unknown_and_malformed_counties_are_told_apart() {
    for backend in Backend::available() {
        let server = world(backend);
        let admin = admin_token(&server);
        let url = |code: &str| format!("{}/v1/settings/county/{code}", server.url);
        let (status, err) = call("GET", &url("999999"), &admin, None);
        assert_eq!(
            (status, err["code"].as_str()),
            (404, Some("not_found")),
            "{err}"
        );
        let (status, err) = call("PUT", &url("999999"), &admin, Some("{}"));
        assert_eq!(
            (status, err["code"].as_str()),
            (404, Some("not_found")),
            "{err}"
        );
        let (status, err) = call("GET", &url("53032"), &admin, None);
        assert_eq!(
            (status, err["code"].as_str()),
            (400, Some("bad_param")),
            "{err}"
        );
        assert!(err["message"].as_str().unwrap().contains("6 位数字"));
        // A county the server knows (its village, its office).
        assert_eq!(call("GET", &url(COUNTY), &admin, None).0, 200);
        // The administrator has no county: defaults.
        let (status, body) = call("GET", &format!("{}/v1/settings", server.url), &admin, None);
        assert_eq!((status, body["county_code"].clone()), (200, Value::Null));
    }
}

/// The dashboard's browser sign-in cannot sync, but a county office may change its settings
/// with it (the README's curl example does).
#[test]
fn a_county_office_changes_settings_from_a_browser_session() {
    let server = world(Backend::Sqlite);
    let http = reqwest::blocking::Client::new();
    let session: Value = http
        .post(format!("{}/v1/session", server.url))
        .json(&json!({"login": OFFICE, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = session["token"].as_str().unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/settings/county/{COUNTY}", server.url),
        token,
        Some(r#"{"check_in_photo":"optional"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"]["check_in_photo"], "optional");
}

/// A phone (a `FieldApp` over a real encrypted store) fetches its county's settings after
/// each sync, applies them at once, and keeps applying them offline.
#[test]
fn a_phone_fetches_its_countys_settings_and_keeps_them_offline() {
    for backend in Backend::available() {
        phone_fetches_settings(backend);
    }
}

fn phone_fetches_settings(backend: Backend) {
    use cunji_core::field::{FieldApp, LoginInput};
    use cunji_core::rules::{CheckInPhoto, SettingsSource};

    let server = world(backend);
    let office = Device::new(&server.url, OFFICE).sign_in();
    let dir = tempfile::tempdir().unwrap();
    let mut app = FieldApp::open(dir.path(), "246810").unwrap();
    app.login(&LoginInput {
        server_url: server.url.clone(),
        login: MEMBER.into(),
        password: PASSWORD.into(),
    })
    .unwrap();
    // Signing in synced, and fetched the (default) settings of the county.
    let s = app.settings().unwrap();
    assert_eq!(s.source, SettingsSource::Default);
    assert_eq!(s.county_code.as_deref(), Some(COUNTY));
    let today = cunji_core::field::today();
    assert_eq!(app.home(today).unwrap().check_in_photo, CheckInPhoto::Off);

    let (status, body) = call(
        "PUT",
        &format!("{}/v1/settings/county/{COUNTY}", server.url),
        office.token(),
        Some(r#"{"check_in_photo":"optional","rules":{"attendance":{"required_days":18}}}"#),
    );
    assert_eq!(status, 200, "{body}");
    // Not before the next sync: the phone does not poll.
    assert_eq!(app.home(today).unwrap().check_in_photo, CheckInPhoto::Off);
    // A sync job, as the app runs it (its own connection), then the app sees them at once.
    app.sync_job().unwrap().run(&mut |_| {}).unwrap();
    let home = app.home(today).unwrap();
    assert_eq!(home.check_in_photo, CheckInPhoto::Optional);
    assert_eq!(home.settings_source, SettingsSource::County);
    // On the team all of October 2015: the county's 18 days, not DOMAIN's 20.
    let month = app
        .my_month(2015, 10, "2015-10-31".parse().unwrap())
        .unwrap();
    assert_eq!(month.me.summary.required_days, 18);

    // Offline: the server is gone; the sync fails and the settings stay, also after reopening.
    drop(server);
    assert_eq!(app.sync(&mut |_| {}).unwrap_err().code(), "network");
    drop(app);
    let app = FieldApp::open(dir.path(), "246810").unwrap();
    let s = app.settings().unwrap();
    assert_eq!(s.source, SettingsSource::County);
    assert_eq!(s.settings.rules.attendance.required_days, 18);
    assert_eq!(s.updated_by.as_deref(), Some(OFFICE));
    assert_eq!(
        app.home(today).unwrap().check_in_photo,
        CheckInPhoto::Optional
    );
}
