//! Benchmark: the field app's cold start to its first interactive screen with 10,000 local
//! records, and its memory, against a baseline measured in the same run (the same SQLite file
//! opened by the core and the home screen's queries run, with no app).
//!
//!     cargo build -p cunji-app -p cunji-sync-server && (cd ui && npm run build)
//!     xvfb-run -a cargo run -p cunji-tests --example app_cold_start
//!     # the release app (`ui/node_modules/.bin/tauri build`):
//!     CUNJI_APP=target/release/cunji-app xvfb-run -a cargo run -p cunji-tests --example app_cold_start
//!
//! Steps: a real sync server with the demo village; the app's store signed in once through
//! the core (the same code as the sign-in screen); 10,000 records recorded locally
//! (check-ins, visits and work logs of one cadre); then each run starts the built app through
//! tauri-driver and times until the first interactive screen (the PIN screen: the store is
//! encrypted), then from the PIN's submission until the home screen shows today's state. RSS is
//! the app process plus its WebKit children, read from /proc once the home screen is up. The
//! baseline opens the same encrypted file with the same PIN in this process.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cunji_core::domain::{CheckIn, Visit, WorkLog};
use cunji_core::field::{FieldApp, LoginInput};
use cunji_core::{Author, HouseholdFilter, Page, Store};
use cunji_tests::demo;
use thirtyfour::prelude::*;

const RECORDS: usize = 10_000;
const RUNS: usize = 5;
/// The PIN the benchmark's store is encrypted with, as on a phone.
const PIN: &str = "258036";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The app to start: `CUNJI_APP` (e.g. the release build, `target/release/cunji-app`), else
/// the debug build.
fn app_binary() -> PathBuf {
    std::env::var_os("CUNJI_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/cunji-app"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Resident memory (kB) of `pid` and all its descendants.
fn tree_rss_kb(pid: u32) -> u64 {
    let mut total = 0;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            total += status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            stack.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    total
}

fn self_rss_kb() -> u64 {
    tree_rss_kb(std::process::id())
}

fn find_app_pid() -> Option<u32> {
    let out = Command::new("pgrep")
        .args(["-n", "-x", "cunji-app"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("server.sqlite3");
    assert!(
        Command::new(root().join("scripts/demo-seed"))
            .args(["accounts", db.to_str().unwrap()])
            .status()
            .unwrap()
            .success()
    );
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(root().join("target/debug/cunji-sync-server"))
        .args(["--database", db.to_str().unwrap(), "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if reqwest::get(format!("{url}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The app's store: signed in once, then 10,000 records made on the device.
    let data_home = tmp.path().join("phone");
    let data_dir = data_home.join("org.cunji.field");
    {
        let url = url.clone();
        let data_dir = data_dir.clone();
        tokio::task::spawn_blocking(move || {
            let mut app = FieldApp::open(&data_dir, PIN).unwrap();
            app.login(&LoginInput {
                server_url: url,
                login: demo::TEAM_MEMBER.into(),
                password: demo::DEMO_PASSWORD.into(),
            })
            .unwrap();
        })
        .await
        .unwrap();
    }
    terminate(&mut server);
    let store_path = data_dir.join(cunji_core::field::STORE_FILE);
    let t = Instant::now();
    {
        let mut store = Store::open_with_pin(&store_path, PIN).unwrap();
        let me = Author::now(demo::TEAM_MEMBER, "bench");
        let mut checkin = CheckIn::example();
        checkin.cadre_id = demo::TEAM_MEMBER.into();
        let mut visit = Visit::example();
        visit.visitor_id = demo::TEAM_MEMBER.into();
        let log = WorkLog::example();
        for i in 0..RECORDS {
            match i % 3 {
                0 => store.create(&me, &checkin).unwrap(),
                1 => store.create(&me, &visit).unwrap(),
                _ => store.create(&me, &log).unwrap(),
            };
        }
    }
    eprintln!(
        "{RECORDS} records written in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let bytes = std::fs::metadata(&store_path).unwrap().len();

    // Baseline: the same file, the core opens it and runs the home screen's reads.
    let mut base = Vec::new();
    let rss_before = self_rss_kb();
    for _ in 0..RUNS {
        let t = Instant::now();
        let app = FieldApp::open(&data_dir, PIN).unwrap();
        let home = app.home(cunji_core::field::today()).unwrap();
        let _ = app
            .store()
            .list_households(&HouseholdFilter::default(), Page::first(50))
            .unwrap();
        assert!(home.me.is_some());
        base.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let base_rss = self_rss_kb().saturating_sub(rss_before.min(self_rss_kb()));
    let base_rss_total = self_rss_kb();

    // The app: start through tauri-driver, time to the PIN screen, then to the home screen.
    let mut starts = Vec::new();
    let mut unlocks = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..RUNS {
        let wd_port = free_port();
        let mut driver = Command::new("tauri-driver")
            .args([
                "--port",
                &wd_port.to_string(),
                "--native-port",
                &free_port().to_string(),
            ])
            .env("XDG_DATA_HOME", &data_home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut caps = Capabilities::new();
        caps.set("browserName", "wry").unwrap();
        caps.set(
            "tauri:options",
            serde_json::json!({ "application": app_binary() }),
        )
        .unwrap();
        let t = Instant::now();
        let wd = WebDriver::new(format!("http://127.0.0.1:{wd_port}"), caps)
            .await
            .unwrap();
        let pin = wd
            .query(By::Css("[data-test=pin] input"))
            .wait(Duration::from_secs(60), Duration::from_millis(20))
            .first()
            .await
            .unwrap();
        starts.push(t.elapsed().as_secs_f64() * 1000.0);
        pin.send_keys(PIN).await.unwrap();
        let t = Instant::now();
        wd.find(By::Css("[data-test=pin-submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wd.query(By::Css("[data-test=checkin-state]"))
            .wait(Duration::from_secs(60), Duration::from_millis(20))
            .first()
            .await
            .unwrap();
        unlocks.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss.push(find_app_pid().map(tree_rss_kb).unwrap_or(0));
        let _ = wd.quit().await;
        terminate(&mut driver);
    }
    let app_ms = median(starts.clone());
    let base_ms = median(base.clone());
    let app_rss = median(rss.iter().map(|&k| k as f64).collect());
    println!("app: {}", app_binary().display());
    println!(
        "records: {RECORDS}, store file {:.1} MB",
        bytes as f64 / 1e6
    );
    let unlock_ms = median(unlocks.clone());
    println!(
        "app cold start to the PIN screen (median of {RUNS}): {app_ms:.0} ms  runs {starts:.0?}"
    );
    println!(
        "PIN submitted to the home screen (median of {RUNS}): {unlock_ms:.0} ms  runs {unlocks:.0?}"
    );
    println!(
        "baseline open with the PIN + home queries + first page (median of {RUNS}): {base_ms:.1} ms  runs {base:.1?}"
    );
    println!(
        "ratio (start + unlock) / baseline: {:.0}x",
        (app_ms + unlock_ms) / base_ms
    );
    println!(
        "app RSS incl. WebKit processes (median): {:.0} MB  runs {:?} kB",
        app_rss / 1024.0,
        rss
    );
    println!(
        "baseline process RSS after the reads: {:.1} MB (growth {:.1} MB)",
        base_rss_total as f64 / 1024.0,
        base_rss as f64 / 1024.0
    );
}
