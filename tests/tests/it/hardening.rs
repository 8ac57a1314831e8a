//! The server against clients that are not the app: bodies too large for their endpoint,
//! connections that never finish a request or a TLS handshake, more connections than one
//! address should hold, password guessing, malformed sign-ins and settings, report parameters
//! outside what the OpenAPI document allows, unknown routes,
//! the metrics and the dashboard's headers. Each finding of the hostile-client review
//! (RELIABILITY.md, "Hardening") has its check here, against a real server on loopback.
//!
//! The timeouts are set to a second or two in these servers' configs and the checks wait
//! several times that: what is checked is that the server closes, not how fast.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cunji_sync_server::accounts::Role;
use cunji_sync_server::config::Config;
use cunji_tests::{Backend, Device, PASSWORD, TestServer};
use serde_json::{Value, json};

/// A config whose connection timeouts are short enough to wait out in a test.
fn quick() -> Config {
    Config {
        header_timeout_secs: 1,
        tls_handshake_timeout_secs: 1,
        body_timeout_secs: 1,
        ..Config::default()
    }
}

fn addr(server: &TestServer) -> String {
    server
        .url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .replace("localhost", "127.0.0.1")
}

/// Whether the server closes `stream` within `wait` (a read returns end-of-file or an error,
/// rather than timing out).
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or 400 answer before the close is fine: keep reading to the close.
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
        if start.elapsed() > wait {
            return false;
        }
    }
}

/// Sends a request head announcing a body of `length` bytes and none of the body, and reads
/// the answer to the end.
fn declared_body(at: &str, method: &str, path: &str, headers: &str, length: usize) -> String {
    let mut s = TcpStream::connect(at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{headers}content-length: {length}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The API's error body of a response: its status, its code and the body.
fn error_of(resp: reqwest::blocking::Response) -> (u16, String, Value) {
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = resp
        .json()
        .unwrap_or_else(|e| panic!("status {status}, {kind}: not the API's JSON: {e}"));
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty())
            && body["message_en"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["code"].as_str().unwrap().to_string(), body)
}

#[test]
fn sign_in_and_settings_bodies_are_bounded_and_every_refusal_has_the_apis_shape() {
    let server = TestServer::start(Backend::Sqlite);
    server.account("admin", Role::Admin, "");
    let http = reqwest::blocking::Client::new();
    let at = addr(&server);
    for path in ["/v1/login", "/v1/session"] {
        let url = format!("{}{path}", server.url);
        // A body announced at 512 MiB is refused before any of it is read.
        let answer = declared_body(&at, "POST", path, "", 512 << 20);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(
            answer.contains("\"code\":\"too_large\""),
            "{path}: {answer}"
        );
        // Not JSON, not the expected fields, no content type: the API's error, not axum's text.
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .unwrap();
        assert_eq!(error_of(resp).0, 400, "{path}");
        let resp = http.post(&url).json(&json!({"login": 7})).send().unwrap();
        assert_eq!(error_of(resp).1, "malformed", "{path}");
        let resp = http.post(&url).body("{}").send().unwrap();
        assert_eq!(
            error_of(resp).1,
            "wrong_content_type",
            "{path} without a content type"
        );
    }
    let admin = Device::new(&server.url, "admin").sign_in();
    let auth = format!("authorization: Bearer {}\r\n", admin.token());
    let answer = declared_body(&at, "PUT", "/v1/settings/county/530322", &auth, 1 << 20);
    assert!(answer.starts_with("HTTP/1.1 413"), "settings: {answer}");
    // Unknown routes and methods.
    let resp = http
        .get(format!("{}/v1/nothing-here", server.url))
        .send()
        .unwrap();
    assert_eq!(error_of(resp).1, "unknown_route");
    let resp = http.get(format!("{}/v1/login", server.url)).send().unwrap();
    let (status, code, _) = error_of(resp);
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
}

/// A county's settings are an object of named fields: `[]` (which serde would read as every
/// default) is refused and changes nothing.
#[test]
fn settings_that_are_not_an_object_are_refused_and_change_nothing() {
    let server = TestServer::start(Backend::Sqlite);
    server.account("admin", Role::Admin, "");
    let admin = Device::new(&server.url, "admin").sign_in();
    let mut a = Device::new(&server.url, "admin").sign_in();
    let who = a.author("建村");
    a.store
        .create(&who, &cunji_core::domain::Village::example())
        .unwrap();
    a.sync().unwrap();
    let http = reqwest::blocking::Client::new();
    let url = format!("{}/v1/settings/county/530322", server.url);
    let put = |body: &str| {
        http.put(&url)
            .bearer_auth(admin.token())
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
    assert_eq!(
        put(r#"{"check_in_photo": "optional"}"#).status().as_u16(),
        200
    );
    for body in ["[]", "null", "7", r#"["required"]"#] {
        let (status, code, _) = error_of(put(body));
        assert_eq!((status, code.as_str()), (400, "malformed"), "{body}");
    }
    let now: Value = http
        .get(&url)
        .bearer_auth(admin.token())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(now["settings"]["check_in_photo"], "optional", "{now}");
}

/// A county's settings are sent as JSON, like every other JSON body: without the content type
/// they are refused (415) and change nothing.
#[test]
fn settings_sent_without_the_json_content_type_are_refused() {
    let server = TestServer::start(Backend::Sqlite);
    server.account("admin", Role::Admin, "");
    let admin = Device::new(&server.url, "admin").sign_in();
    let http = reqwest::blocking::Client::new();
    let url = format!("{}/v1/settings/county/530322", server.url);
    for kind in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut put = http
            .put(&url)
            .bearer_auth(admin.token())
            .body(r#"{"check_in_photo": "required"}"#);
        if let Some(kind) = kind {
            put = put.header("content-type", kind);
        }
        let (status, code, _) = error_of(put.send().unwrap());
        assert_eq!(
            (status, code.as_str()),
            (415, "wrong_content_type"),
            "{kind:?}"
        );
    }
}

/// Report and pull parameters are read as the OpenAPI document states them, and nothing
/// else is quietly read as something: a repeated parameter, an empty or padded value, a date
/// without its zeros, a number out of its bounds are refused with the parameter named.
#[test]
fn report_parameters_are_taken_exactly_as_documented() {
    let server = TestServer::start(Backend::Sqlite);
    server.account("admin", Role::Admin, "");
    let admin = Device::new(&server.url, "admin").sign_in();
    let http = reqwest::blocking::Client::new();
    let get = |query: &str| {
        http.get(format!("{}/v1/{query}", server.url))
            .bearer_auth(admin.token())
            .send()
            .unwrap()
    };
    let scope = "scope=county:530322";
    for ok in [
        format!("reports/not-visited?{scope}&days=90"),
        format!("reports/duty-compliance?{scope}&interval_days=366&date=2016-02-29"),
        format!("reports/attendance?{scope}&month=2016-03"),
        format!("reports/satisfaction?{scope}&from=2016-01-01&to=2016-12-31&threshold=100"),
        format!("supervisor/pull?{scope}&limit=5000&after=0"),
    ] {
        assert_eq!(get(&ok).status().as_u16(), 200, "{ok}");
    }
    for (refused, name) in [
        (
            format!("reports/not-visited?{scope}&{scope}&days=30"),
            "scope",
        ),
        (
            format!("reports/not-visited?{scope}&days=30&days=60"),
            "days",
        ),
        (format!("reports/not-visited?{scope}&days=45"), "days"),
        (format!("reports/not-visited?{scope}&days=30&date="), "date"),
        (
            format!("reports/not-visited?{scope}&days=30&date=2016-1-5"),
            "date",
        ),
        (
            format!("reports/not-visited?{scope}&days=30&date=%202016-01-05"),
            "date",
        ),
        (format!("reports/not-visited?{scope}&days=%2030"), "days"),
        (
            format!("reports/duty-compliance?{scope}&interval_days=367"),
            "interval_days",
        ),
        (
            format!("reports/duty-compliance?{scope}&interval_days=0"),
            "interval_days",
        ),
        (format!("reports/attendance?{scope}&month=2016-13"), "month"),
        (format!("reports/attendance?{scope}&month=2016-3"), "month"),
        (format!("reports/attendance?{scope}&month=16-03"), "month"),
        (
            format!("reports/satisfaction?{scope}&from=2016-01-01&to=2016-12-31&threshold=100.5"),
            "threshold",
        ),
        (
            format!("reports/visit-coverage?{scope}&from=2016-01-01&to=2016-12-31&format=%20csv"),
            "format",
        ),
        (format!("supervisor/pull?{scope}&limit=0"), "limit"),
        (format!("supervisor/pull?{scope}&limit=5001"), "limit"),
        (format!("supervisor/pull?{scope}&after=-1"), "after"),
        (format!("supervisor/pull?{scope}&after=%201"), "after"),
        (format!("supervisor/pull?{scope}&after=1&after=2"), "after"),
    ] {
        let (status, code, body) = error_of(get(&refused));
        assert_eq!(
            (status, code.as_str()),
            (400, "bad_param"),
            "{refused}: {body}"
        );
        assert!(
            body["message_en"]
                .as_str()
                .unwrap()
                .contains(&format!("`{name}`")),
            "{refused}: {body}"
        );
    }
}

/// Connections that never finish their request line or their body, and kept-alive ones left
/// idle, are closed.
#[test]
fn slow_and_idle_connections_are_closed() {
    let server = TestServer::start_with(Backend::Sqlite, quick());
    let at = addr(&server);
    // Half a request line; nothing at all; a whole request, then idle on keep-alive.
    let mut half = TcpStream::connect(&at).unwrap();
    half.write_all(b"GET /healthz HT").unwrap();
    let mut silent = TcpStream::connect(&at).unwrap();
    let mut idle = TcpStream::connect(&at).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    for (what, s) in [
        ("half a request", &mut half),
        ("silent", &mut silent),
        ("idle", &mut idle),
    ] {
        assert!(
            closed_within(s, Duration::from_secs(15)),
            "{what} stayed open"
        );
    }
    // A body that stops arriving is cut, with the API's error.
    let mut stalled = TcpStream::connect(&at).unwrap();
    stalled
        .write_all(b"POST /v1/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"login\":")
        .unwrap();
    assert!(
        closed_within(&mut stalled, Duration::from_secs(15)),
        "a stalled body stayed open"
    );
}

/// One address holds no more than its share of connections: the next is closed unread, while
/// the ones it holds are served, and new ones are taken again once they close.
#[test]
fn one_address_holds_its_share_of_connections() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Config {
            max_connections_per_address: 20,
            ..Config::default()
        },
    );
    let at = addr(&server);
    // Twenty open connections from this address: the next is closed unread, while a request
    // on one of the twenty is served.
    let mut held: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(&at).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut over = TcpStream::connect(&at).unwrap();
    assert!(
        closed_within(&mut over, Duration::from_secs(5)),
        "the 21st connection was kept"
    );
    held[0]
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    held[0].read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    let status = reqwest::blocking::get(format!("{}/healthz", server.url))
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200, "served again once they closed");
}

#[test]
fn a_tls_client_that_never_says_hello_is_closed() {
    let t = super::tls::tls_server_with(quick());
    let mut silent = TcpStream::connect(addr(&t.server)).unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(15)),
        "kept waiting for a ClientHello"
    );
}

/// Password guessing: after five wrong passwords the account is locked for a while that
/// grows, even for the right password, with the time to wait in the answer; an unknown login
/// gets the same answer as a wrong password; a login with a line break is refused as
/// malformed before any account is looked up.
#[test]
fn password_guessing_is_slowed_down_and_told_when_to_try_again() {
    let server = TestServer::start(Backend::Sqlite);
    server.account("cadre-li-ming", Role::TeamMember, "");
    let http = reqwest::blocking::Client::new();
    let session = |login: &str, password: &str| {
        http.post(format!("{}/v1/session", server.url))
            .json(&json!({"login": login, "password": password}))
            .send()
            .unwrap()
    };
    for _ in 0..5 {
        let (status, code, _) = error_of(session("cadre-li-ming", "guess"));
        assert_eq!((status, code.as_str()), (401, "bad_login"));
    }
    let (status, code, _) = error_of(session("nobody-here", "guess"));
    assert_eq!((status, code.as_str()), (401, "bad_login"), "unknown login");
    let (status, code, _) = error_of(session("cadre-li-ming", "guess"));
    assert_eq!(
        (status, code.as_str()),
        (401, "bad_login"),
        "the sixth is checked"
    );
    // Locked now: the device sign-in and the browser's, even with the right password.
    let device = Device::new(&server.url, "cadre-li-ming");
    match cunji_core::sync::login(&server.url, "cadre-li-ming", PASSWORD, &device.store) {
        Err(cunji_core::sync::TransportError::Status { status: 429, body }) => {
            assert_eq!(body.code, "sign_in_throttled")
        }
        other => panic!("{other:?}"),
    }
    let resp = session("cadre-li-ming", PASSWORD);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, code, body) = error_of(resp);
    assert_eq!(
        (status, code.as_str()),
        (429, "sign_in_throttled"),
        "{body}"
    );
    assert!(
        retry >= 1 && body["message"].as_str().unwrap().contains("秒"),
        "{body}"
    );
    // Once the lock has run out, the right password signs in and clears the count.
    std::thread::sleep(Duration::from_secs(retry + 1));
    assert_eq!(session("cadre-li-ming", PASSWORD).status().as_u16(), 200);
    let (status, code, _) = error_of(session("cadre-li-ming", "guess"));
    assert_eq!((status, code.as_str()), (401, "bad_login"), "a fresh count");
    let (status, code, _) = error_of(session("cadre-li-ming\nERROR forged line", "guess"));
    assert_eq!((status, code.as_str()), (400, "malformed"));
}

/// `/metrics` is for operators: an administrator's token on the API's address, no token on
/// the metrics address of its own.
#[test]
fn metrics_need_an_administrator_or_their_own_address() {
    let metrics_at = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let server = TestServer::start_with(
        Backend::Sqlite,
        Config {
            metrics_listen: Some(metrics_at.clone()),
            ..Config::default()
        },
    );
    server.account("admin", Role::Admin, "");
    server.account("cadre-li-ming", Role::TeamMember, "");
    let http = reqwest::blocking::Client::new();
    let url = format!("{}/metrics", server.url);
    assert_eq!(error_of(http.get(&url).send().unwrap()).1, "missing_token");
    let member = Device::new(&server.url, "cadre-li-ming").sign_in();
    let resp = http.get(&url).bearer_auth(member.token()).send().unwrap();
    assert_eq!(error_of(resp).1, "forbidden");
    let admin = Device::new(&server.url, "admin").sign_in();
    let resp = http.get(&url).bearer_auth(admin.token()).send().unwrap();
    // The tests install no process-wide recorder, so the page is empty; served is what counts.
    assert_eq!(resp.status().as_u16(), 200);
    let open = http
        .get(format!("http://{metrics_at}/metrics"))
        .send()
        .unwrap();
    assert_eq!(open.status().as_u16(), 200);
    let other = http
        .get(format!("http://{metrics_at}/v1/reports"))
        .send()
        .unwrap();
    assert_eq!(
        other.status().as_u16(),
        404,
        "the metrics address serves metrics only"
    );
}

/// The dashboard's page comes with the headers that keep a clerk's signed-in page from being
/// framed or fed another site's scripts; every answer says `nosniff`.
#[test]
fn the_dashboard_is_served_with_its_security_headers() {
    let server = TestServer::start(Backend::Sqlite);
    let resp = reqwest::blocking::get(format!("{}/dashboard/", server.url)).unwrap();
    let h = resp.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let api = reqwest::blocking::get(format!("{}/healthz", server.url)).unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
}
