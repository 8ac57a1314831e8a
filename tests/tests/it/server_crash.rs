//! The server killed with SIGKILL at random moments during ingest, many times: after each
//! restart every change the server had acknowledged is there, the devices' retries deliver
//! the rest, and nothing is stored twice. `CUNJI_FAULT_ROUNDS` sets the number of kills
//! (default 8).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cunji_core::domain::{CheckIn, Village};
use cunji_sync_server::accounts::{self, Role};
use cunji_sync_server::config::Config;
use cunji_sync_server::store::Db;
use cunji_tests::{Device, PASSWORD, household};
use rand::{Rng, SeedableRng};

/// The server process: serves `CUNJI_FAULT_DB` on `CUNJI_FAULT_PORT` until killed. It is
/// `ignore`d so that a plain `cargo test` does not run it.
#[test]
#[ignore = "child process of the server crash test"]
fn server_child() {
    let (Ok(db), Ok(port)) = (
        std::env::var("CUNJI_FAULT_DB"),
        std::env::var("CUNJI_FAULT_PORT"),
    ) else {
        return;
    };
    let config = Config {
        database: db.clone(),
        ..Config::default()
    };
    let state = cunji_sync_server::AppState::new(Db::open(&db).unwrap(), config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap()))
            .await
            .unwrap();
        cunji_sync_server::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
}

/// The child's name for the test harness (its path in the `it` test binary), run `--exact`.
const CHILD: &str = "server_crash::server_child";

fn start_server(db: &str, port: u16) -> Child {
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            CHILD,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CUNJI_FAULT_DB", db)
        .env("CUNJI_FAULT_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::blocking::get(format!("http://127.0.0.1:{port}/healthz")).is_err() {
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_server_killed_during_ingest_keeps_every_acknowledged_change() {
    let rounds: usize = std::env::var("CUNJI_FAULT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite3").display().to_string();
    let logins = ["cadre-wang-zhigang", "cadre-li-ming", "cadre-zhao-hong"];
    {
        let db = Db::open(&db_path).unwrap();
        db.write(|tx| {
            accounts::upsert_account(tx, "admin", "admin", Role::Admin, "", PASSWORD).unwrap();
            for (i, l) in logins.iter().enumerate() {
                let role = if i == 0 {
                    Role::FirstSecretary
                } else {
                    Role::TeamMember
                };
                accounts::upsert_account(tx, l, l, role, "", PASSWORD).unwrap();
            }
            Ok::<_, cunji_sync_server::store::StoreError>(())
        })
        .unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&db_path, port);
    let mut admin = Device::new(&url, "admin").sign_in();
    admin
        .store
        .create(&admin.author("建村"), &Village::example())
        .unwrap();
    admin
        .store
        .create(&admin.author("组建工作队"), &cunji_tests::serving_team())
        .unwrap();
    admin.sync().unwrap();
    let mut devices: Vec<Device> = logins
        .iter()
        .map(|l| Device::new(&url, l).sign_in())
        .collect();

    let mut rng = rand::rngs::StdRng::seed_from_u64(0xdead);
    let mut n = 0u64;
    let mut acknowledged: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut made = 0usize;
    for round in 0..rounds {
        // Each device records a batch of work offline.
        for d in devices.iter_mut() {
            let who = d.author("录入");
            for _ in 0..15 {
                n += 1;
                if d.login == logins[0] {
                    d.store.create(&who, &household(10_000 + n)).unwrap();
                } else {
                    let mut c = CheckIn::example();
                    c.cadre_id = d.login.clone();
                    c.ts = format!(
                        "2016-{:02}-{:02}T08:{:02}:00+08:00",
                        1 + n % 12,
                        1 + n % 28,
                        n % 60
                    )
                    .parse()
                    .unwrap();
                    d.store.create(&who, &c).unwrap();
                }
                made += 1;
            }
        }
        // They sync at once; the server is killed at a random moment.
        let before: Vec<BTreeSet<Vec<u8>>> = devices.iter().map(outbox_hashes).collect();
        let wait = Duration::from_millis(rng.gen_range(0..1200));
        let handles: Vec<_> = devices
            .into_iter()
            .map(|mut d| {
                std::thread::spawn(move || {
                    let _ = d.sync_with(3);
                    d
                })
            })
            .collect();
        std::thread::sleep(wait);
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        devices = handles.into_iter().map(|h| h.join().unwrap()).collect();
        // What left a device's outbox was acknowledged by the server before it died.
        for (d, before) in devices.iter().zip(&before) {
            let after = outbox_hashes(d);
            acknowledged.extend(before.difference(&after).cloned());
        }
        // After a restart, every acknowledged change is there.
        let db = Db::open(&db_path).unwrap();
        let missing: Vec<String> = db
            .read(|tx| {
                let mut missing = Vec::new();
                for h in &acknowledged {
                    if !tx.has_change(h)? {
                        missing.push(hex(h));
                    }
                }
                Ok::<_, cunji_sync_server::store::StoreError>(missing)
            })
            .unwrap();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged changes lost: {missing:?}"
        );
        drop(db);
        server = start_server(&db_path, port);
    }
    assert!(
        !acknowledged.is_empty(),
        "no sync finished before a kill: the check above was empty"
    );
    // Retries deliver the rest; every device converges; nothing is stored twice.
    for _ in 0..2 {
        for d in devices.iter_mut() {
            d.sync().unwrap();
        }
    }
    for d in &devices {
        assert_eq!(
            d.store.outbox_len().unwrap(),
            0,
            "{} still has changes queued",
            d.login
        );
    }
    // The first secretary holds the team's records; each member the same but for the
    // others' check-ins (DOMAIN §1: own attendance).
    let snapshot = |d: &Device| -> Vec<(String, serde_json::Value)> {
        let ids = d.store.record_ids().unwrap();
        ids.into_iter()
            .map(|id| (id.clone(), d.store.document_json(&id).unwrap()))
            .collect()
    };
    let reference = snapshot(&devices[0]);
    for d in &devices[1..] {
        let expected = cunji_tests::member_view(&reference, &d.login);
        assert!(
            expected.len() < reference.len(),
            "no other's check-in to leave out"
        );
        assert!(snapshot(d) == expected, "{} differs", d.login);
    }
    let db = Db::open(&db_path).unwrap();
    let stored = db.read(|tx| tx.max_seq()).unwrap();
    assert_eq!(
        stored as usize,
        made + 2,
        "changes stored vs made (+ the admin's village and team)"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    println!(
        "server crash test: {rounds} kills, {made} changes made, {} acknowledged before a kill, all present; {stored} stored once each",
        acknowledged.len()
    );
}

fn outbox_hashes(d: &Device) -> BTreeSet<Vec<u8>> {
    d.store
        .outbox_batch(100_000, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|i| i.hash.0.to_vec())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
