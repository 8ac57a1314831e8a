//! Fixtures for the end-to-end tests: a real sync server on `127.0.0.1:0` (SQLite, or a fresh
//! PostgreSQL database when `CUNJI_TEST_POSTGRES_URL` is set), devices with their own store
//! files that sign in over HTTP, and a TCP proxy that cuts connections. Every fixture cleans
//! up after itself on drop; a server kept for the whole process, which is never dropped, has
//! a child process clean up after the process ([`TestServer::reap_after_exit`]).
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    missing_debug_implementations
)]

pub mod fuzz;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cunji_core::domain::codes::{StatusChangeStep, StepOutcome};
use cunji_core::domain::{Publicity, StatusChange, Step};
use cunji_core::field::{FieldApp, LoginInput};
use cunji_core::sync::{HttpTransport, SyncOptions, SyncReport};
use cunji_core::{Author, Store};
use cunji_sync_server::accounts::{self, Role};
use cunji_sync_server::config::Config;
use cunji_sync_server::store::Db;
use cunji_sync_server::{AppState, serve};

pub mod demo;

pub const PASSWORD: &str = "village-password-1";

/// The example household, the `n`-th (its phone differs). Its members' ID numbers and bank
/// account are a record of their own: [`numbers`].
pub fn household(n: u64) -> cunji_core::domain::Household {
    let mut h = cunji_core::domain::Household::example();
    h.phone = Some(format!("135{:08}", n % 100_000_000));
    h
}

/// The ID and bank numbers of [`household`]`(n)`, stored as `household_id`, unique for `n`
/// (R10 forbids reusing them); each keeps its member's birth date.
pub fn numbers(n: u64, household_id: &str) -> cunji_core::domain::HouseholdPrivate {
    let mut p = cunji_core::domain::HouseholdPrivate {
        household_id: household_id.into(),
        ..cunji_core::domain::HouseholdPrivate::example()
    };
    for (i, id) in p.id_numbers.values_mut().enumerate() {
        let k = n * 16 + i as u64;
        let first17 = format!("{:06}{}{:03}", 110_000 + k / 1000, &id[6..14], k % 1000);
        let check = cunji_core::domain::id_number::check_char(&first17).unwrap();
        *id = format!("{first17}{check}");
    }
    p.bank_account = Some(format!("621098{:013}", n));
    p
}

/// The example village's team with every member still serving. [`Team::example`] ends one
/// member's time (zhao-hong's, on 2016-06-30), and rights follow the dates (DOMAIN §1): a
/// cadre who left neither reads nor writes the village, so tests that need three working
/// cadres take this team, and the ended membership is tested on its own.
///
/// [`Team::example`]: cunji_core::domain::Team::example
pub fn serving_team() -> cunji_core::domain::Team {
    let mut team = cunji_core::domain::Team::example();
    for m in team.members.values_mut() {
        m.to = None;
    }
    team
}

/// A step of a 动态调整 case recorded by the example team's first secretary (the leader of
/// [`serving_team`]), passed.
pub fn village_step(step: StatusChangeStep, date: &str) -> Step {
    Step {
        step,
        date: date.parse().unwrap(),
        actor_id: "cadre-wang-zhigang".into(),
        outcome: StepOutcome::Passed,
        note: None,
        votes_for: None,
        votes_against: None,
        publicity: None,
    }
}

/// A 标注脱贫 case of `home` through the village's steps (opened in October 2016, the exits'
/// window), with `days` of 公示.
pub fn exit_case(home: &str, days: i64) -> StatusChange {
    let mut c = StatusChange::example();
    c.household_id = home.into();
    c.snapshot.income_year = 2015;
    let start: chrono::NaiveDate = "2016-10-17".parse().unwrap();
    c.steps = vec![
        village_step(StatusChangeStep::Application, "2016-10-08"),
        Step {
            votes_for: Some(31),
            votes_against: Some(2),
            ..village_step(StatusChangeStep::DemocraticReview, "2016-10-12")
        },
        village_step(StatusChangeStep::Verification, "2016-10-14"),
        village_step(StatusChangeStep::HouseholdConsent, "2016-10-15"),
        Step {
            publicity: Some(Publicity {
                start,
                end: start + chrono::Duration::days(days - 1),
                objections: Vec::new(),
            }),
            ..village_step(StatusChangeStep::Publicity, "2016-10-17")
        },
    ];
    c
}

/// Of the records a first secretary's phone holds (`(id, document JSON)`, as devices list
/// them), those a team member `login` of the same village receives: all but the other cadres'
/// check-ins, leave and work logs (DOMAIN §1: "own attendance").
pub fn member_view(
    all: &[(String, serde_json::Value)],
    login: &str,
) -> Vec<(String, serde_json::Value)> {
    all.iter()
        .filter(|(_, doc)| {
            let personal = matches!(
                doc["meta"]["kind"].as_str(),
                Some("check_in" | "leave" | "work_log")
            );
            !personal || doc["meta"]["author_id"] == login
        })
        .cloned()
        .collect()
}

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// SQLite always; PostgreSQL when `CUNJI_TEST_POSTGRES_URL` is set.
    pub fn available() -> Vec<Backend> {
        let mut out = vec![Backend::Sqlite];
        if std::env::var("CUNJI_TEST_POSTGRES_URL").is_ok() {
            out.push(Backend::Postgres);
        } else {
            eprintln!("CUNJI_TEST_POSTGRES_URL is not set: PostgreSQL variant skipped");
        }
        out
    }
}

/// A PostgreSQL database made for one test and dropped after it.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    fn create() -> (PgDatabase, String) {
        let admin_url = std::env::var("CUNJI_TEST_POSTGRES_URL").unwrap();
        let name = format!("cunji_t_{}", uuid::Uuid::now_v7().simple());
        let mut client = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap();
        (
            PgDatabase {
                admin_url,
                name: name.clone(),
            },
            format!("{base}/{name}"),
        )
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // The server's pool may still be closing connections: retry briefly.
        for _ in 0..10 {
            let dropped = postgres::Client::connect(&self.admin_url, postgres::NoTls)
                .and_then(|mut c| {
                    c.batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ))
                })
                .is_ok();
            if dropped {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("could not drop test database {}", self.name);
    }
}

/// A sync server running on its own thread.
pub struct TestServer {
    pub url: String,
    pub db: Arc<Db>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl TestServer {
    pub fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, Config::default())
    }

    pub fn start_with(backend: Backend, config: Config) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let (pg, url) = match backend {
            Backend::Sqlite => (
                None,
                dir.path().join("server.sqlite3").display().to_string(),
            ),
            Backend::Postgres => {
                let (pg, url) = PgDatabase::create();
                (Some(pg), url)
            }
        };
        Self::start_on(url, dir, pg, config)
    }

    /// A backup of a SQLite server's database, taken while it serves, the way the
    /// `backup` command takes it (the online backup API, checked, then renamed into place).
    pub fn backup_sqlite(&self, to: &std::path::Path) -> cunji_sync_server::backup::BackupReport {
        cunji_sync_server::backup::backup_sqlite(&self.sqlite_path().display().to_string(), to)
            .unwrap()
    }

    /// A SQLite server whose database lives in `dir` (a small disk, say).
    pub fn start_sqlite_in(dir: &std::path::Path) -> TestServer {
        let dir = tempfile::tempdir_in(dir).unwrap();
        let url = dir.path().join("server.sqlite3").display().to_string();
        Self::start_on(url, dir, None, Config::default())
    }

    pub fn sqlite_path(&self) -> std::path::PathBuf {
        self._dir.path().join("server.sqlite3")
    }

    /// Stops this server and starts a new one on a copy of `backup` (a restore).
    pub fn restore_sqlite(self, backup: &std::path::Path) -> TestServer {
        // The server's key is restored with its configuration, not from the backup
        // (`store::key`): the restored server is the same server.
        let key = std::fs::read(format!("{}.key", self.sqlite_path().display())).unwrap();
        drop(self);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        std::fs::copy(backup, &path).unwrap();
        std::fs::write(format!("{}.key", path.display()), key).unwrap();
        Self::start_on(path.display().to_string(), dir, None, Config::default())
    }

    fn start_on(
        url: String,
        dir: tempfile::TempDir,
        pg: Option<PgDatabase>,
        mut config: Config,
    ) -> TestServer {
        config.database = url.clone();
        // A TLS server's test certificate names `localhost`.
        let scheme = if config.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let db = Db::open(&url).unwrap();
        // As `cunji-sync-server serve` does before it listens.
        cunji_sync_server::rebuild::split_household_numbers(&db).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        // A Prometheus handle of its own (a process-wide recorder would be shared by every
        // test's server): `/metrics` answers, with what this process records.
        let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
            .build_recorder()
            .handle();
        let metrics_listen = config.metrics_listen.clone();
        let state = AppState::new(db, config).with_metrics(metrics);
        let db = state.db.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let (stop, stopped) = tokio::sync::watch::channel(false);
                let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                // As `serve` in the binary: the metrics on their own address when configured.
                let metrics = match metrics_listen {
                    Some(at) => {
                        let l = tokio::net::TcpListener::bind(&at).await.unwrap();
                        Some(tokio::spawn(cunji_sync_server::serve_metrics(
                            l,
                            state.clone(),
                            until(stopped.clone()),
                        )))
                    }
                    None => None,
                };
                tokio::spawn(async move {
                    let _ = rx.await;
                    let _ = stop.send(true);
                });
                serve(listener, state, until(stopped)).await.unwrap();
                if let Some(m) = metrics {
                    m.await.unwrap().unwrap();
                }
            });
        });
        let host = if scheme == "https" {
            format!("localhost:{}", addr.port())
        } else {
            addr.to_string()
        };
        TestServer {
            url: format!("{scheme}://{host}"),
            db,
            shutdown: Some(tx),
            thread: Some(thread),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Creates an account with [`PASSWORD`].
    pub fn account(&self, login: &str, role: Role, division: &str) {
        self.db
            .write(|tx| {
                accounts::upsert_account(tx, login, login, role, division, PASSWORD)
                    .map_err(|e| panic!("{e}"))
            })
            .map_err(|e: cunji_sync_server::store::StoreError| e)
            .unwrap();
    }

    /// The example village and its team, every member serving ([`serving_team`]), created by
    /// an administrator's phone (account `admin`) and synced: what most scenarios start from.
    pub fn serve_example_village(&self) {
        self.account("admin", Role::Admin, "");
        let mut admin = Device::new(&self.url, "admin").sign_in();
        let who = admin.author("建村");
        admin
            .store
            .create(&who, &cunji_core::domain::Village::example())
            .unwrap();
        admin.store.create(&who, &serving_team()).unwrap();
        assert_eq!(admin.sync().unwrap().rejected, 0);
    }

    /// Number of changes in the server's log.
    pub fn change_count(&self) -> i64 {
        self.db.read(|tx| tx.max_seq()).unwrap()
    }

    /// Record `id` as the server stores it.
    pub fn stored_doc(&self, id: &str) -> cunji_core::doc::RecordDoc {
        self.db
            .read(|tx| tx.doc(id))
            .unwrap()
            .unwrap()
            .load()
            .unwrap()
    }

    /// Has a child process remove what dropping this server would (its temporary directory
    /// and, on PostgreSQL, its database) once this process has ended, however it ends: for a
    /// server kept in a `static` and shared by several tests, which is never dropped.
    ///
    /// The child is this test binary again, running `child_test` `--exact`: the path of an
    /// `ignore`d test whose body is [`reap_after_parent`]. It waits for its stdin to close,
    /// which the kernel does when this process exits. Keep the [`Reaper`] beside the server
    /// and declared after it (dropping the reaper lets the child clean up at once).
    pub fn reap_after_exit(&self, child_test: &str) -> Reaper {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", child_test, "--ignored", "--nocapture"])
            .args(["--test-threads=1"])
            .env(REAP_DIR, self._dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if let Some(pg) = &self._pg {
            command
                .env(REAP_PG_URL, &pg.admin_url)
                .env(REAP_PG_NAME, &pg.name);
        }
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // The child says when it waits (after the harness's "test … ... " on the same line),
        // so that a wrong test path fails here rather than leaving the files behind.
        let mut line = String::new();
        loop {
            line.clear();
            let n = stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "the reaper child {child_test:?} did not start");
            if line.trim_end().ends_with(REAPER_READY) {
                break;
            }
        }
        Reaper {
            _child: child,
            _stdin: stdin,
            _stdout: stdout,
        }
    }
}

const REAP_DIR: &str = "CUNJI_REAP_DIR";
const REAP_PG_URL: &str = "CUNJI_REAP_PG_URL";
const REAP_PG_NAME: &str = "CUNJI_REAP_PG_NAME";
const REAPER_READY: &str = "reaper waiting";

/// The pipe to a child process that cleans up after a server once this process has ended
/// ([`TestServer::reap_after_exit`]).
pub struct Reaper {
    /// Never waited for: it outlives this process.
    _child: std::process::Child,
    _stdin: std::process::ChildStdin,
    _stdout: BufReader<std::process::ChildStdout>,
}

/// The body of the child test that [`TestServer::reap_after_exit`] runs: waits until the
/// parent process has ended (its stdin closes), then removes the directory and drops the
/// PostgreSQL database that the parent named. Does nothing in any other run.
pub fn reap_after_parent() {
    let Some(dir) = std::env::var_os(REAP_DIR) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{REAPER_READY}").unwrap();
    out.flush().unwrap();
    drop(out);
    // Nothing is ever written: this returns when the parent's end of the pipe closes.
    let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
    if let (Ok(admin_url), Ok(name)) = (std::env::var(REAP_PG_URL), std::env::var(REAP_PG_NAME)) {
        drop(PgDatabase { admin_url, name });
    }
    let _ = std::fs::remove_dir_all(dir);
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A real, small file system (tmpfs) mounted for one test, so that a server's disk really
/// fills up (ENOSPC, not a simulation). Needs root with CAP_SYS_ADMIN, as CI and developers'
/// machines have. Unmounted on drop.
pub struct SmallDisk {
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    pub fn mount(bytes: u64) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("tmpfs")
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(SmallDisk {
            path: dir.path().to_path_buf(),
            _dir: dir,
        })
    }

    /// Grows (or shrinks) the file system: space returns.
    pub fn resize(&self, bytes: u64) {
        let out = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(&self.path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazy: a server thread may still hold a file open for a moment.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// The field app (`FieldApp`, as the Tauri app runs it) over its own SQLite file, signed in
/// as `login` to `server`, with the records its scope pulls. Keep the directory alive as long
/// as the app.
pub fn field_phone(server: &TestServer, login: &str) -> (tempfile::TempDir, FieldApp) {
    let dir = tempfile::tempdir().unwrap();
    let mut app = FieldApp::open(dir.path(), "246810").unwrap();
    app.login(&LoginInput {
        server_url: server.url.clone(),
        login: login.into(),
        password: PASSWORD.into(),
    })
    .unwrap();
    (dir, app)
}

/// Syncs the field app and asserts the server took every change.
pub fn field_synced(app: &mut FieldApp) -> SyncReport {
    let report = app.sync(&mut |_| {}).unwrap();
    assert_eq!(
        report.rejected,
        0,
        "{:?}",
        app.store().rejected_changes().unwrap()
    );
    report
}

/// A cadre's phone: its own store file, signed in to a server (or a proxy in front of it).
pub struct Device {
    pub store: Store,
    pub login: String,
    pub url: String,
    /// How far this phone's clock is off (0 but in clock tests): its edits, check-ins and the
    /// clock it sends the server are all shifted by this.
    pub clock_skew: chrono::Duration,
    /// A PEM certificate the device trusts besides the usual roots (a TLS test server's).
    pub root_pem: Option<Vec<u8>>,
    /// The sync protocol version it sends (this build's, but in tests of other releases).
    pub protocol: u32,
    token: Option<String>,
    _dir: tempfile::TempDir,
}

impl Device {
    pub fn new(url: &str, login: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("device.sqlite3")).unwrap();
        Device::with_store(url, login, store, dir)
    }

    /// A phone whose store is a copy of the file at `path` (a store an older release made),
    /// opened by this build: its migrations run as on a phone updated in place.
    pub fn from_file(url: &str, login: &str, path: &std::path::Path) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("device.sqlite3");
        std::fs::copy(path, &copy).unwrap_or_else(|e| panic!("copy {}: {e}", path.display()));
        let store = Store::open(&copy).unwrap();
        Device::with_store(url, login, store, dir)
    }

    fn with_store(url: &str, login: &str, store: Store, dir: tempfile::TempDir) -> Device {
        Device {
            store,
            login: login.into(),
            url: url.into(),
            clock_skew: chrono::Duration::zero(),
            root_pem: None,
            protocol: cunji_core::sync::protocol::PROTOCOL_VERSION,
            token: None,
            _dir: dir,
        }
    }

    /// A phone that sends sync protocol `version` (its bodies stay this build's).
    pub fn speaking(mut self, version: u32) -> Device {
        self.protocol = version;
        self
    }

    /// Trusts `pem` (a certificate) for this device's connections.
    pub fn trusting(mut self, pem: &[u8]) -> Device {
        self.root_pem = Some(pem.to_vec());
        self
    }

    /// Signs in (online once) and registers this device.
    pub fn sign_in(mut self) -> Device {
        let resp = self
            .transport_with("")
            .login(&self.login, PASSWORD, &self.store)
            .unwrap();
        self.token = Some(resp.token);
        self
    }

    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap()
    }

    /// A phone whose clock is `skew` off.
    pub fn with_clock_skew(mut self, skew: chrono::Duration) -> Device {
        self.clock_skew = skew;
        self
    }

    /// This phone's clock.
    pub fn now(&self) -> cunji_core::values::Timestamp {
        cunji_core::store::now() + self.clock_skew
    }

    pub fn author(&self, reason: &str) -> Author {
        Author::at(self.login.clone(), reason, self.now())
    }

    pub fn transport(&self) -> HttpTransport {
        self.transport_with(self.token())
    }

    fn transport_with(&self, token: &str) -> HttpTransport {
        let t = HttpTransport::new(&self.url, token)
            .with_clock_skew(self.clock_skew)
            .speaking(self.protocol);
        match &self.root_pem {
            Some(pem) => t.trusting(pem).unwrap(),
            None => t,
        }
    }

    /// Syncs with fast retries (tests use loopback).
    /// Syncs, giving up after `attempts` tries 10 ms apart (for tests where the server is down).
    pub fn sync_with(&mut self, attempts: u32) -> Result<SyncReport, cunji_core::sync::SyncError> {
        let options = SyncOptions {
            backoff: Duration::from_millis(10),
            attempts,
            ..SyncOptions::default()
        };
        let mut transport = self.transport();
        cunji_core::sync::sync_now(&mut self.store, &mut transport, &options, &mut |_| {})
    }

    pub fn sync(&mut self) -> Result<SyncReport, cunji_core::sync::SyncError> {
        let options = SyncOptions {
            backoff: Duration::from_millis(20),
            attempts: 30,
            ..SyncOptions::default()
        };
        let mut transport = self.transport();
        cunji_core::sync::sync_now(&mut self.store, &mut transport, &options, &mut |_| {})
    }

    /// The code the server refused record `id`'s changes from this device with, if it did
    /// (as of the last sync).
    pub fn refusal(&self, id: &str) -> Option<String> {
        self.store
            .rejected_changes()
            .unwrap()
            .into_iter()
            .find(|(rid, _, _)| rid == id)
            .map(|(_, code, _)| code)
    }
}

/// A TCP proxy in front of a server that can cut connections after a number of bytes.
pub struct Proxy {
    pub url: String,
    /// Connections still to cut; each is cut after `cut_after` bytes in one direction.
    pub cuts_left: Arc<AtomicUsize>,
    pub cut_after: Arc<AtomicUsize>,
    pub cut: Arc<AtomicUsize>,
    /// Bytes per second each direction of a new connection may carry (0: no limit).
    pub rate: Arc<AtomicUsize>,
    /// A one-shot stall for the next connection: pause this many milliseconds once
    /// `stall_after` bytes have passed in a direction.
    pub stall_ms: Arc<AtomicUsize>,
    pub stall_after: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How one proxied connection behaves.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// Cut after this many bytes in a direction.
    limit: usize,
    /// Bytes per second (0: unlimited).
    rate: usize,
    /// Pause `.1` milliseconds once `.0` bytes have passed.
    stall: Option<(usize, u64)>,
}

impl Proxy {
    pub fn new(target: &str) -> Proxy {
        let target = target.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cuts_left = Arc::new(AtomicUsize::new(0));
        let cut_after = Arc::new(AtomicUsize::new(usize::MAX));
        let cut = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let rate = Arc::new(AtomicUsize::new(0));
        let stall_ms = Arc::new(AtomicUsize::new(0));
        let stall_after = Arc::new(AtomicUsize::new(0));
        let (cl, ca, cc, st) = (
            cuts_left.clone(),
            cut_after.clone(),
            cut.clone(),
            stop.clone(),
        );
        let (rt, sm, sa) = (rate.clone(), stall_ms.clone(), stall_after.clone());
        let thread = std::thread::spawn(move || {
            let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let server = TcpStream::connect(&target).unwrap();
                        // Decide now whether this connection will be cut.
                        let limit = if cl.load(Ordering::SeqCst) > 0 {
                            cl.fetch_sub(1, Ordering::SeqCst);
                            cc.fetch_add(1, Ordering::SeqCst);
                            ca.load(Ordering::SeqCst)
                        } else {
                            usize::MAX
                        };
                        let stall = match sm.swap(0, Ordering::SeqCst) {
                            0 => None,
                            ms => Some((sa.load(Ordering::SeqCst), ms as u64)),
                        };
                        let shape = Shape {
                            limit,
                            rate: rt.load(Ordering::SeqCst),
                            stall,
                        };
                        let h = std::thread::spawn(move || pipe_pair(client, server, shape));
                        conns.lock().unwrap().push(h);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Proxy {
            url,
            cuts_left,
            cut_after,
            cut,
            rate,
            stall_ms,
            stall_after,
            stop,
            thread: Some(thread),
        }
    }

    /// Limits new connections to `bytes_per_sec` in each direction (0: no limit).
    pub fn throttle(&self, bytes_per_sec: usize) {
        self.rate.store(bytes_per_sec, Ordering::SeqCst);
    }

    /// Stalls the next connection for `ms` milliseconds after `after` bytes in a direction.
    pub fn stall_next(&self, after: usize, ms: usize) {
        self.stall_after.store(after, Ordering::SeqCst);
        self.stall_ms.store(ms, Ordering::SeqCst);
    }

    /// Cuts the next `n` connections after `bytes` bytes in either direction.
    pub fn cut_next(&self, n: usize, bytes: usize) {
        self.cut_after.store(bytes, Ordering::SeqCst);
        self.cuts_left.store(n, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Copies both ways, shaped: throttled, stalled once, or cut (both sockets shut) after
/// `shape.limit` bytes in one direction.
fn pipe_pair(client: TcpStream, server: TcpStream, shape: Shape) {
    let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = std::thread::spawn(move || copy_shaped(client, server, shape));
    copy_shaped(s2, c2, shape);
    let _ = up.join();
}

fn copy_shaped(mut from: TcpStream, mut to: TcpStream, shape: Shape) {
    // Small reads when throttled, so that the rate holds within a request.
    let mut buf = vec![0u8; if shape.rate > 0 { 512 } else { 8192 }];
    let mut sent = 0usize;
    let mut stall = shape.stall;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = n.min(shape.limit.saturating_sub(sent));
        let mut chunk = &buf[..allowed];
        // A stall falls inside the chunk that crosses its mark: the bytes before it go first.
        if let Some((after, ms)) = stall.filter(|(after, _)| sent + chunk.len() > *after) {
            let head = after.saturating_sub(sent).min(chunk.len());
            if to.write_all(&chunk[..head]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(ms));
            sent += head;
            chunk = &chunk[head..];
            stall = None;
        }
        if !chunk.is_empty() && to.write_all(chunk).is_err() {
            break;
        }
        sent += chunk.len();
        if shape.rate > 0 {
            std::thread::sleep(Duration::from_secs_f64(allowed as f64 / shape.rate as f64));
        }
        if sent >= shape.limit {
            break;
        }
    }
    let _ = from.shutdown(std::net::Shutdown::Both);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// Adds to a stored household, on the server, the change an app from before the split made:
/// its bank account and its members' ID numbers inside the household (the kinds no longer
/// have these fields, so no phone of this build can write them), with the record's author.
pub fn store_numbers_in_household(
    db: &cunji_sync_server::store::Db,
    household_id: &str,
    numbers: &cunji_core::domain::HouseholdPrivate,
) {
    use automerge::ReadDoc;
    use automerge::transaction::Transactable;
    db.write(|tx| {
        let row = tx.doc(household_id)?.unwrap();
        let mut doc = cunji_core::doc::RecordDoc::load(
            household_id,
            Some(&row.snapshot),
            &row.chunks,
            automerge::ActorId::random(),
        )
        .unwrap();
        let am = doc.automerge();
        let (_, data) = am.get(automerge::ROOT, "data").unwrap().unwrap();
        am.put(&data, "bank_account", numbers.bank_account.clone().unwrap())
            .unwrap();
        let (_, members) = am.get(&data, "members").unwrap().unwrap();
        for (key, n) in &numbers.id_numbers {
            let (value, member) = am.get(&members, key.as_str()).unwrap().unwrap();
            assert!(matches!(
                value,
                automerge::Value::Object(automerge::ObjType::Map)
            ));
            am.put(&member, "id_no", n.as_str()).unwrap();
        }
        let meta = cunji_core::doc::ChangeMeta {
            reason: "补录证件号码".into(),
            cadre_id: row.author_id.clone(),
            device_id: "old-app".into(),
        };
        am.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message(serde_json::to_string(&meta).unwrap()),
        );
        let change = am.get_last_local_change().unwrap();
        tx.append_doc_chunk(household_id, change.raw_bytes())?;
        tx.insert_change(&cunji_sync_server::store::ChangeRow {
            hash: change.hash().0.to_vec(),
            doc_id: household_id.into(),
            village_code: row.village_code.clone(),
            household_id: row.household_id.clone(),
            bytes: change.raw_bytes().to_vec(),
            device_id: "old-app".into(),
            received_ts: chrono::Utc::now().to_rfc3339(),
            device_clock_offset_ms: None,
            owner: None,
            proof: None,
        })?;
        Ok::<_, cunji_sync_server::store::StoreError>(())
    })
    .unwrap();
}
