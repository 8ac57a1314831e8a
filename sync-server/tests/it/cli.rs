//! The binary: admin subcommands and `serve`, run as a person would.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn server() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cunji-sync-server"));
    c.env_remove("CUNJI_CONFIG")
        .env_remove("CUNJI_DATABASE")
        .env("RUST_BACKTRACE", "0");
    c
}

#[test]
fn accounts_are_added_and_imported_and_the_server_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let db = db.to_str().unwrap();
    let out = server()
        .args([
            "--database",
            db,
            "add-account",
            "--login",
            "admin",
            "--name",
            "管理员",
            "--role",
            "admin",
        ])
        .env("CUNJI_PASSWORD", "change-me-please")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A supervisor without a division, and a CSV with an unknown role: refused, with the reason.
    let out = server()
        .args([
            "--database",
            db,
            "add-account",
            "--login",
            "t",
            "--name",
            "t",
            "--role",
            "township",
            "--password",
            "long-enough-1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a division code"));
    let csv = dir.path().join("accounts.csv");
    std::fs::write(&csv, "login,name,role,division,password\nc1,张三,team_member,,password-123\nc2,李四,mayor,,password-123\n").unwrap();
    let out = server()
        .args(["--database", db, "import-accounts", csv.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("unknown role `mayor`"),
        "{err}"
    );
    std::fs::write(&csv, "login,name,role,division,password\nc1,张三,team_member,,password-123\nt1,乡镇,township,530322101,password-123\n").unwrap();
    let out = server()
        .args(["--database", db, "import-accounts", csv.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Serve on a free port, check health, sign in with an imported account.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("server.log");
    let mut child = server()
        .args([
            "--database",
            db,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("CUNJI_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
        // The server logs to standard output.
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Ok(r) = reqwest::blocking::get(format!("{base}/healthz")) {
            break r.json::<serde_json::Value>().unwrap();
        }
        assert!(Instant::now() < deadline, "the server never answered");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health["status"], "ok");
    let login_as = |login: &str, password: &str| {
        reqwest::blocking::Client::new()
            .post(format!("{base}/v1/login"))
            .json(&serde_json::json!({
                "login": login, "password": password, "device_id": "phone-1",
                "actor": "0102030405060708090a0b0c0d0e0f10", "public_key": "11".repeat(32),
            }))
            .send()
            .unwrap()
    };
    let login = |password: &str| login_as("c1", password);
    let bad = login("wrong-password");
    assert_eq!(bad.status().as_u16(), 401);
    assert_eq!(
        bad.json::<serde_json::Value>().unwrap()["code"],
        "bad_login"
    );
    let ok = login("password-123");
    assert_eq!(ok.status().as_u16(), 200);
    let body: serde_json::Value = ok.json().unwrap();
    assert_eq!(body["token"].as_str().unwrap().len(), 64);
    assert_eq!(body["role"], "team_member");
    // A login that tries to write a line of its own into the log.
    let forged = login_as("c1\nFORGED ERROR a line the attacker wrote", "x");
    assert_eq!(forged.status().as_u16(), 400);
    // The metrics: an administrator's token on the API's address; none on their own.
    let http = reqwest::blocking::Client::new();
    let metrics = http.get(format!("{base}/metrics")).send().unwrap();
    assert_eq!(metrics.status().as_u16(), 401);
    let metrics = http
        .get(format!("{base}/metrics"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 403, "a team member's token");
    let metrics = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().unwrap();
    assert!(text.contains("cunji_sign_ins_failed_total"), "{text}");
    // A lost phone: listed, cut off while the server runs; its token and its sign-in die.
    let cli = |args: &[&str]| {
        server()
            .args(["--database", db])
            .args(args)
            .output()
            .unwrap()
    };
    let listed = cli(&["devices", "c1"]);
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.contains("phone-1") && listed.contains("active"),
        "{listed}"
    );
    let cut = cli(&["revoke-device", "phone-1"]);
    assert!(
        cut.status.success(),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    let settings = http
        .get(format!("{base}/v1/settings"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(settings.status().as_u16(), 403);
    assert_eq!(
        settings.json::<serde_json::Value>().unwrap()["code"],
        "device_revoked"
    );
    let again = login("password-123");
    assert_eq!(again.status().as_u16(), 403);
    assert_eq!(
        again.json::<serde_json::Value>().unwrap()["code"],
        "device_revoked"
    );
    let listed = cli(&["devices", "c1"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("cut off"));
    let unknown = cli(&["revoke-device", "no-such-phone"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no device no-such-phone"));
    child.kill().unwrap();
    child.wait().unwrap();
    // The refusals are in the log below ERROR, and the forged line is not a line.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("request refused"), "{log}");
    assert!(!log.contains("ERROR"), "{log}");
    assert!(
        !log.lines().any(|l| l.trim_start().starts_with("FORGED")),
        "{log}"
    );

    // verify-log: a change the server logged (attested with its key, made beside the database
    // on first start) verifies; the same change with its bytes altered in the database is
    // listed and the command fails.
    let mut am = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut am, automerge::ROOT, "k", 1).unwrap();
    am.commit();
    let change = am.get_changes(&[])[0].clone();
    {
        let store = cunji_sync_server::store::Db::open(db).unwrap();
        store
            .write(|tx| {
                tx.insert_change(&cunji_sync_server::store::ChangeRow {
                    hash: change.hash().0.to_vec(),
                    doc_id: "doc-1".into(),
                    village_code: None,
                    household_id: None,
                    bytes: change.raw_bytes().to_vec(),
                    device_id: "server".into(),
                    received_ts: "2026-12-07T00:00:00Z".into(),
                    device_clock_offset_ms: None,
                    owner: None,
                    proof: None,
                })
            })
            .unwrap();
    }
    let verified = cli(&["verify-log"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        said.contains("log verified") && said.contains("attested"),
        "{said}"
    );
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE changes SET doc_id = 'doc-2'", [])
        .unwrap();
    drop(conn);
    let tampered = cli(&["verify-log"]);
    assert!(!tampered.status.success());
    let listed = String::from_utf8_lossy(&tampered.stdout);
    assert!(
        listed.contains("record doc-2") && listed.contains("attestation"),
        "{listed}"
    );
}

#[test]
fn backup_writes_a_checked_copy_and_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let db = db.to_str().unwrap();
    let add = |login: &str| {
        let out = server()
            .args(["--database", db, "add-account", "--login", login])
            .args(["--name", login, "--role", "team_member"])
            .args(["--password", "password-123"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    add("before");
    let to = dir.path().join("b1.sqlite3");
    let backup = |to: &std::path::Path, database: &str| {
        server()
            .args(["--database", database, "backup", "--to"])
            .arg(to)
            .output()
            .unwrap()
    };
    let out = backup(&to, db);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    add("after");

    // The copy is a database with what was there at the time, and only that.
    let copy = rusqlite::Connection::open(&to).unwrap();
    let logins: Vec<String> = copy
        .prepare("SELECT login FROM accounts ORDER BY login")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(logins, ["before"]);
    assert!(!dir.path().join("b1.sqlite3.partial").exists());

    // An existing file is never overwritten; PostgreSQL is pointed to pg_dump.
    let out = backup(&to, db);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = backup(
        &dir.path().join("b2.sqlite3"),
        "postgres://x@127.0.0.1/none",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!dir.path().join("b2.sqlite3").exists());
}

#[test]
fn export_writes_a_scopes_tables_to_sqlite_or_xlsx_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let db = db.to_str().unwrap();
    let ok = |args: &[&str]| {
        let out = server()
            .args(["--database", db])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        "add-account",
        "--login",
        "admin",
        "--name",
        "管理员",
        "--role",
        "admin",
        "--password",
        "change-me-please",
    ]);
    let villages = dir.path().join("villages.csv");
    std::fs::write(
        &villages,
        "code,township_code,name,is_poor_village,lat,lon,radius_m,hamlets\n\
         530322101201,530322101,新庄村,是,25.0312,103.6674,,\n\
         530322101202,530322101,大水井村,否,25.05,103.70,,\n\
         530322102201,530322102,外乡村,否,25.2,103.9,,\n",
    )
    .unwrap();
    ok(&["import-villages", villages.to_str().unwrap()]);

    let file = dir.path().join("township.sqlite3");
    let file_arg = file.to_str().unwrap();
    ok(&["export", "--scope", "township:530322101", "--out", file_arg]);
    let conn = rusqlite::Connection::open(&file).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM p_village ORDER BY code")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["新庄村", "大水井村"]);
    let received: i64 = conn
        .query_row(
            "SELECT count(*) FROM records WHERE server_received_ts <> ''",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(received, 2);

    // The same file again: refused, the file left as it was.
    let out = server()
        .args([
            "--database",
            db,
            "export",
            "--scope",
            "township:530322101",
            "--out",
            file_arg,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // A malformed scope says what a scope looks like.
    let out = server()
        .args([
            "--database",
            db,
            "export",
            "--scope",
            "county:53",
            "--out",
            "x.xlsx",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("6 digits"));

    let xlsx = dir.path().join("city.xlsx");
    ok(&[
        "export",
        "--scope",
        "city:5303",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");
}
