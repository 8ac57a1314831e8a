//! The storage contract ([`Tx`]) on every backend. Each behaviour is one function over `&Db`,
//! run on SQLite always (a file in a temp directory) and on PostgreSQL when
//! `CUNJI_TEST_POSTGRES_URL` names a server whose role may create databases:
//!
//! ```sh
//! export CUNJI_TEST_POSTGRES_URL="$(scripts/postgres)"
//! cargo test -p cunji-sync-server --test it store_backends::
//! ```
//!
//! Every PostgreSQL test creates a database of its own and drops it at the end, so the tests
//! run in parallel. Without the variable the PostgreSQL variants say they were skipped and pass.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use cunji_core::domain::{
    Assignment, Cadre, CheckIn, Delivery, Entitlement, Envelope, Household, Kind, Leave,
    PolicyItem, Record, RecordState, Team, Unit, Village, Visit, WorkLog,
};
use cunji_core::projection::Rows;
use cunji_sync_server::accounts::Role;
use cunji_sync_server::store::{
    Account, ChangeRow, Db, DeviceRow, DocRow, HeldRow, ScopeFilter, SettingsRow, StoreError,
    StoreResult, TokenRow,
};

const ENV: &str = "CUNJI_TEST_POSTGRES_URL";

/// Runs one behaviour on both backends: `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                let t = super::TestDb::sqlite();
                super::$name(t.db());
            }

            #[test]
            fn postgres() {
                let Some(t) = super::TestDb::postgres(stringify!($name)) else { return };
                super::$name(t.db());
            }
        }
    )+};
}

on_both_backends!(story, every_kind_projects, writers_commit_in_sequence_order);

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A fresh database that is removed when dropped: the SQLite temp directory (with `-wal` and
/// `-shm`), or the PostgreSQL database (connections closed first).
struct TestDb {
    db: Option<Db>,
    url: String,
    backend: Backend,
}

enum Backend {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String },
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("server.sqlite3").display().to_string();
        let db = Db::open(&url).expect("open SQLite");
        assert_eq!(db.backend(), "sqlite");
        TestDb {
            db: Some(db),
            url,
            backend: Backend::Sqlite { _dir: dir },
        }
    }

    /// A new database on the server named by `CUNJI_TEST_POSTGRES_URL`, or `None` (and a line
    /// saying so) when the variable is not set.
    fn postgres(test: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var(ENV) else {
            eprintln!("skipped: {test} on PostgreSQL ({ENV} is not set; see scripts/postgres)");
            return None;
        };
        let name = format!(
            "cunji_t{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            test.chars().take(30).collect::<String>()
        );
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
            .expect("connect to CUNJI_TEST_POSTGRES_URL");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a leftover database");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database (the role needs CREATEDB)");
        let url = with_database(&admin_url, &name);
        let db = Db::open(&url).expect("open PostgreSQL");
        assert_eq!(db.backend(), "postgres");
        Some(TestDb {
            db: Some(db),
            url,
            backend: Backend::Postgres { admin_url, name },
        })
    }

    fn db(&self) -> &Db {
        self.db.as_ref().expect("open database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.db.take();
        if let Backend::Postgres { admin_url, name } = &self.backend
            && let Ok(mut admin) = postgres::Client::connect(admin_url, postgres::NoTls)
        {
            // The pool's background threads may still be opening a connection, which makes
            // the drop fail ("being accessed by other users"): try again for a while.
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            for _ in 0..50 {
                if admin.batch_execute(&drop).is_ok() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
            eprintln!("could not drop the test database {name}");
        }
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &base[..host_end])
}

/// Opens another handle on the same database (the first must be closed: SQLite's writer).
fn reopen(url: &str) -> StoreResult<Db> {
    Db::open(url)
}

/// Sets the recorded schema version behind the store's back.
fn set_schema_version(url: &str, backend: &str, version: i64) {
    if backend == "sqlite" {
        let conn = rusqlite::Connection::open(url).expect("open SQLite file");
        conn.pragma_update(None, "user_version", version)
            .expect("set user_version");
    } else {
        let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
        c.execute("UPDATE schema_version SET version = $1", &[&version])
            .expect("set schema_version");
    }
}

fn account(login: &str, role: Role) -> Account {
    Account {
        login: login.into(),
        name: format!("{login} 的名字"),
        role,
        division: String::new(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        active: true,
    }
}

fn device(device_id: &str, login: &str, actor: &[u8]) -> DeviceRow {
    DeviceRow {
        device_id: device_id.into(),
        login: login.into(),
        actor: actor.to_vec(),
        public_key: vec![7; 32],
        registered_ts: "2015-09-01T08:00:00+00:00".into(),
        revoked_ts: None,
    }
}

fn token(hash: u8, login: &str, device_id: &str) -> TokenRow {
    TokenRow {
        hash: vec![hash; 32],
        login: login.into(),
        device_id: device_id.into(),
        expires_ts: "2015-10-01T08:00:00+00:00".into(),
        revoked: false,
    }
}

fn doc_row(
    id: &str,
    kind: Kind,
    village: Option<&str>,
    household: Option<&str>,
    snapshot: &[u8],
) -> DocRow {
    DocRow {
        id: id.into(),
        kind,
        village_code: village.map(Into::into),
        household_id: household.map(Into::into),
        author_id: "cadre-li-ming".into(),
        received_ts: "2015-09-12T02:00:00.000Z".into(),
        snapshot: snapshot.to_vec(),
        chunks: Vec::new(),
    }
}

/// A change of `size` bytes whose hash is derived from `name`.
fn change(
    name: &str,
    doc_id: &str,
    village: Option<&str>,
    household: Option<&str>,
    size: usize,
) -> ChangeRow {
    let mut hash = name.as_bytes().to_vec();
    hash.resize(32, 0);
    ChangeRow {
        hash,
        doc_id: doc_id.into(),
        village_code: village.map(Into::into),
        household_id: household.map(Into::into),
        bytes: name.bytes().cycle().take(size).collect(),
        device_id: "phone-1".into(),
        received_ts: "2015-09-12T02:00:00.000Z".into(),
        // One device two days slow; the others unknown.
        device_clock_offset_ms: (name == "c1").then_some(-172_800_000),
        owner: None,
        proof: None,
    }
}

fn envelope(id: &str, kind: Kind, state: RecordState) -> Envelope {
    Envelope {
        id: id.into(),
        kind,
        author_id: "cadre-li-ming".into(),
        device_id: "phone-1".into(),
        created_device_ts: "2015-09-12T10:00:00+08:00".parse().expect("timestamp"),
        device_uptime_ms: 3_600_000,
        geo: None,
        server_received_ts: None,
        state,
    }
}

/// The projection rows of `record` stored as document `id`.
fn rows<T: Record>(id: &str, record: &T, state: RecordState) -> Rows {
    let mut rows = Rows::default();
    record.project(&envelope(id, T::KIND, state), &mut rows);
    rows
}

fn project<T: Record>(db: &Db, id: &str, record: &T, state: RecordState) {
    db.write(|tx| tx.replace_projection(T::KIND, id, rows(id, record, state)))
        .unwrap_or_else(|e| panic!("project {} {id}: {e}", T::KIND.code()));
}

type Page = Vec<(i64, String, Vec<u8>)>;

fn pull(db: &Db, scope: ScopeFilter, after: i64, max_bytes: usize, limit: usize) -> Page {
    let rows = db
        .read(|tx| tx.changes_after(&scope, after, max_bytes, limit))
        .unwrap();
    // Every change goes out with a proof: these were logged without a device's signature, so
    // the store attested each with the server's key (checked in `it/provenance.rs`).
    for r in &rows {
        assert!(
            matches!(&r.proof, Some(cunji_core::sync::protocol::Proof::Server(sig)) if sig.len() == 64),
            "change {} logged without an attestation: {:?}",
            r.seq,
            r.proof
        );
    }
    rows.into_iter()
        .map(|r| (r.seq, r.doc_id, r.bytes))
        .collect()
}

/// The places of a cadre's periods, each once, as the store orders them.
fn places(periods: Vec<cunji_sync_server::store::Period>) -> Vec<String> {
    let mut out: Vec<String> = periods.into_iter().map(|p| p.place).collect();
    out.dedup();
    out
}

fn seqs(page: &Page) -> Vec<i64> {
    page.iter().map(|(seq, _, _)| *seq).collect()
}

const ALL: usize = usize::MAX;

// ---------------------------------------------------------------------------------------------
// Behaviours

/// Everything the server asks of its store, in the order a deployment meets it.
fn story(db: &Db) {
    accounts_devices_and_tokens(db);
    server_identity(db);
    documents(db);
    change_log(db);
    personal_changes(db);
    held_changes(db);
    projections(db);
    repair_states(db);
    county_settings(db);
    a_failed_write_leaves_nothing(db);
}

fn accounts_devices_and_tokens(db: &Db) {
    let mut li = account("cadre-li-ming", Role::TeamMember);
    db.write(|tx| tx.put_account(&li)).unwrap();
    assert_eq!(
        db.read(|tx| tx.account("cadre-li-ming")).unwrap(),
        Some(li.clone())
    );
    assert_eq!(db.read(|tx| tx.account("nobody")).unwrap(), None);

    // Putting an account again updates every field.
    li.name = "李明 (第一书记)".into();
    li.role = Role::FirstSecretary;
    li.division = "530322".into();
    li.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA".into();
    li.active = false;
    db.write(|tx| tx.put_account(&li)).unwrap();
    assert_eq!(
        db.read(|tx| tx.account("cadre-li-ming")).unwrap(),
        Some(li.clone())
    );

    let admin = account("admin", Role::Admin);
    db.write(|tx| tx.put_account(&admin)).unwrap();
    assert_eq!(db.read(|tx| tx.account("admin")).unwrap(), Some(admin));

    // Devices, found by id and by actor; an actor belongs to one device only.
    let phone = device("phone-1", "cadre-li-ming", &[1, 2, 3, 4]);
    db.write(|tx| tx.put_device(&phone)).unwrap();
    assert_eq!(
        db.read(|tx| tx.device("phone-1")).unwrap(),
        Some(phone.clone())
    );
    assert_eq!(
        db.read(|tx| tx.device_by_actor(&[1, 2, 3, 4])).unwrap(),
        Some(phone.clone())
    );
    assert_eq!(db.read(|tx| tx.device("phone-2")).unwrap(), None);
    assert_eq!(db.read(|tx| tx.device_by_actor(&[9, 9])).unwrap(), None);
    let same_actor = device("phone-2", "admin", &[1, 2, 3, 4]);
    assert!(
        db.write(|tx| tx.put_device(&same_actor)).is_err(),
        "a second device with the same actor"
    );
    let no_account = device("phone-3", "ghost", &[5, 6]);
    assert!(
        db.write(|tx| tx.put_device(&no_account)).is_err(),
        "a device of an unknown account"
    );
    assert_eq!(db.read(|tx| tx.device("phone-2")).unwrap(), None);

    // Tokens, by hash; revoking covers every token of one account, once.
    let tokens = [
        token(1, "cadre-li-ming", "phone-1"),
        token(2, "cadre-li-ming", "phone-1"),
        token(3, "admin", "phone-9"),
    ];
    db.write(|tx| tokens.iter().try_for_each(|t| tx.put_token(t)))
        .unwrap();
    assert_eq!(
        db.read(|tx| tx.token(&[1; 32])).unwrap(),
        Some(tokens[0].clone())
    );
    assert_eq!(db.read(|tx| tx.token(&[4; 32])).unwrap(), None);
    assert_eq!(db.write(|tx| tx.revoke_tokens("cadre-li-ming")).unwrap(), 2);
    assert_eq!(
        db.write(|tx| tx.revoke_tokens("cadre-li-ming")).unwrap(),
        0,
        "already revoked"
    );
    assert_eq!(db.write(|tx| tx.revoke_tokens("nobody")).unwrap(), 0);
    for hash in [1, 2] {
        let t = db
            .read(|tx| tx.token(&[hash; 32]))
            .unwrap()
            .expect("token kept");
        assert!(t.revoked);
    }
    assert!(
        !db.read(|tx| tx.token(&[3; 32]))
            .unwrap()
            .expect("admin's token")
            .revoked
    );
}

/// A county's settings row is replaced; every change is appended to its history, old → new;
/// a county is known by its villages or its accounts.
fn county_settings(db: &Db) {
    let row = |json: &str, by: &str, ts: &str| SettingsRow {
        county_code: "530322".into(),
        settings_json: json.into(),
        updated_by: by.into(),
        updated_ts: ts.into(),
    };
    assert_eq!(db.read(|tx| tx.county_settings("530322")).unwrap(), None);
    let first = row(
        r#"{"check_in_photo":"optional"}"#,
        "county-office",
        "2026-11-22T08:00:00Z",
    );
    db.write(|tx| tx.put_county_settings(&first)).unwrap();
    let second = row(
        r#"{"check_in_photo":"required"}"#,
        "admin",
        "2026-11-22T09:00:00Z",
    );
    db.write(|tx| tx.put_county_settings(&second)).unwrap();
    assert_eq!(
        db.read(|tx| tx.county_settings("530322")).unwrap(),
        Some(second.clone())
    );
    assert_eq!(db.read(|tx| tx.county_settings("530423")).unwrap(), None);
    let history = db.read(|tx| tx.county_settings_history("530322")).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].old_json, None);
    assert_eq!(history[0].new_json, first.settings_json);
    assert_eq!(
        (
            history[0].changed_by.as_str(),
            history[0].changed_ts.as_str()
        ),
        ("county-office", "2026-11-22T08:00:00Z")
    );
    assert_eq!(
        history[1].old_json.as_deref(),
        Some(first.settings_json.as_str())
    );
    assert_eq!(history[1].new_json, second.settings_json);
    assert_eq!(history[1].changed_by, "admin");
    assert!(
        db.read(|tx| tx.county_settings_history("530423"))
            .unwrap()
            .is_empty()
    );

    // Known by an account's division or by a village under it (counties no other behaviour
    // uses).
    assert!(!db.read(|tx| tx.county_known("620102")).unwrap());
    db.write(|tx| {
        tx.put_account(&Account {
            division: "620102101".into(),
            ..account("township-620102101", Role::Township)
        })
    })
    .unwrap();
    assert!(db.read(|tx| tx.county_known("620102")).unwrap());
    assert!(!db.read(|tx| tx.county_known("621122")).unwrap());
    let village = Village {
        code: "621122102305".into(),
        township_code: "621122102".into(),
        ..Village::example()
    };
    project(db, "village-621122", &village, RecordState::Submitted);
    assert!(db.read(|tx| tx.county_known("621122")).unwrap());
    assert!(!db.read(|tx| tx.county_known("621123")).unwrap());
}

fn server_identity(db: &Db) {
    assert_eq!(db.read(|tx| tx.server_identity()).unwrap(), None);
    db.write(|tx| tx.put_server_identity(&[0xAA; 16], &[0x55; 32]))
        .unwrap();
    let expected = Some((vec![0xAA; 16], vec![0x55; 32]));
    assert_eq!(db.read(|tx| tx.server_identity()).unwrap(), expected);
    assert!(
        db.write(|tx| tx.put_server_identity(&[0xBB; 16], &[0x66; 32]))
            .is_err(),
        "one identity only"
    );
    assert_eq!(db.read(|tx| tx.server_identity()).unwrap(), expected);
}

fn documents(db: &Db) {
    let hh = doc_row(
        "hh-1",
        Kind::Household,
        Some("530322101201"),
        Some("hh-1"),
        b"snapshot-0",
    );
    let policy = doc_row("policy-1", Kind::PolicyItem, None, None, &[0, 1, 2, 255]);
    db.write(|tx| {
        tx.insert_doc(&hh)?;
        tx.insert_doc(&policy)
    })
    .unwrap();
    assert_eq!(db.read(|tx| tx.doc("hh-1")).unwrap(), Some(hh.clone()));
    assert_eq!(
        db.read(|tx| tx.doc("policy-1")).unwrap(),
        Some(policy.clone())
    );
    assert_eq!(db.read(|tx| tx.doc("nothing")).unwrap(), None);
    assert!(
        db.write(|tx| tx.insert_doc(&hh)).is_err(),
        "a document is inserted once"
    );

    // Chunks come back in the order they were appended, whatever their bytes.
    let chunks: Vec<Vec<u8>> = vec![
        b"zz-first".to_vec(),
        b"aa-second".to_vec(),
        vec![0; 3],
        b"mm-fourth".to_vec(),
    ];
    db.write(|tx| tx.append_doc_chunk("hh-1", &chunks[0]))
        .unwrap();
    db.write(|tx| {
        chunks[1..]
            .iter()
            .try_for_each(|c| tx.append_doc_chunk("hh-1", c))
    })
    .unwrap();
    db.write(|tx| tx.append_doc_chunk("policy-1", b"other doc"))
        .unwrap();
    let stored = db.read(|tx| tx.doc("hh-1")).unwrap().expect("stored");
    assert_eq!(stored.snapshot, b"snapshot-0");
    assert_eq!(stored.chunks, chunks);

    // A new snapshot folds the chunks in: they are gone, and later ones start afresh.
    db.write(|tx| tx.replace_doc_snapshot("hh-1", b"snapshot-1"))
        .unwrap();
    let stored = db.read(|tx| tx.doc("hh-1")).unwrap().expect("stored");
    assert_eq!(
        (stored.snapshot.as_slice(), stored.chunks.len()),
        (&b"snapshot-1"[..], 0)
    );
    db.write(|tx| tx.append_doc_chunk("hh-1", b"after"))
        .unwrap();
    assert_eq!(
        db.read(|tx| tx.doc("hh-1"))
            .unwrap()
            .expect("stored")
            .chunks,
        vec![b"after".to_vec()]
    );
    assert_eq!(
        db.read(|tx| tx.doc("policy-1"))
            .unwrap()
            .expect("stored")
            .chunks,
        vec![b"other doc".to_vec()]
    );
    let stored = db.read(|tx| tx.doc("hh-1")).unwrap().expect("stored");
    assert_eq!(
        (
            stored.kind,
            stored.village_code.as_deref(),
            stored.household_id.as_deref()
        ),
        (Kind::Household, Some("530322101201"), Some("hh-1"))
    );
}

fn change_log(db: &Db) {
    assert_eq!(db.read(|tx| tx.max_seq()).unwrap(), 0, "an empty log");
    assert_eq!(db.read(|tx| tx.received_clock("hh-1")).unwrap(), None);
    let v1 = "530322101201";
    let v2 = "530322101202";
    let log = [
        change("c1", "hh-1", Some(v1), Some("hh-1"), 100),
        change("c2", "hh-9", Some("530422101201"), Some("hh-9"), 100), // another county
        change("c3", "policy-1", None, None, 100),                     // reference data
        change("c4", "hh-2", Some(v2), Some("hh-2"), 100),
        change("c5", "hh-1", Some(v1), Some("hh-1"), 5_000),
        change("c6", "hh-7", Some("530912000001"), Some("hh-7"), 10),
        change("c7", "hh-8", Some("531000000001"), Some("hh-8"), 10),
    ];
    let mut seq = Vec::new();
    for c in &log[..3] {
        seq.push(db.write(|tx| tx.insert_change(c)).unwrap());
    }
    seq.extend(
        db.write(|tx| {
            log[3..]
                .iter()
                .map(|c| tx.insert_change(c))
                .collect::<StoreResult<Vec<_>>>()
        })
        .unwrap(),
    );
    // A record's received time and device clock come from its first change (c1, not c5).
    assert_eq!(
        db.read(|tx| tx.received_clock("hh-1")).unwrap(),
        Some(cunji_sync_server::store::ReceivedClock {
            received_ts: "2015-09-12T02:00:00.000Z".into(),
            device_clock_offset_ms: Some(-172_800_000),
        })
    );
    assert_eq!(
        db.read(|tx| tx.received_clock("hh-2"))
            .unwrap()
            .and_then(|c| c.device_clock_offset_ms),
        None
    );
    assert!(
        seq.windows(2).all(|w| w[0] < w[1]),
        "sequence numbers increase: {seq:?}"
    );
    assert_eq!(db.read(|tx| tx.max_seq()).unwrap(), seq[6]);
    assert!(db.read(|tx| tx.has_change(&log[4].hash)).unwrap());
    assert!(
        !db.read(|tx| tx.has_change(&change("c9", "x", None, None, 1).hash))
            .unwrap()
    );
    assert!(
        db.write(|tx| tx.insert_change(&log[0])).is_err(),
        "a change is logged once"
    );
    assert_eq!(db.read(|tx| tx.max_seq()).unwrap(), seq[6]);

    // Each scope, with what a page holds.
    let page = pull(db, ScopeFilter::Village(v1.into()), 0, ALL, 100);
    assert_eq!(seqs(&page), [seq[0], seq[4]]);
    assert_eq!(page[0], (seq[0], "hh-1".to_string(), log[0].bytes.clone()));
    assert_eq!(page[1].2, log[4].bytes);
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Division("5303".into()), 0, ALL, 100)),
        [seq[0], seq[3], seq[4]],
        "not 5304…, not NULL"
    );
    assert_eq!(
        seqs(&pull(
            db,
            ScopeFilter::Division("530322101".into()),
            0,
            ALL,
            100
        )),
        [seq[0], seq[3], seq[4]]
    );
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Division(v2.into()), 0, ALL, 100)),
        [seq[3]],
        "a whole code is its own prefix"
    );
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Division("5309".into()), 0, ALL, 100)),
        [seq[5]],
        "not 5310…"
    );
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Division("53".into()), 0, ALL, 100)),
        [seq[0], seq[1], seq[3], seq[4], seq[5], seq[6]]
    );
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Division("".into()), 0, ALL, 100)).len(),
        6,
        "every village, no reference data"
    );
    assert!(pull(db, ScopeFilter::Division("5399".into()), 0, ALL, 100).is_empty());
    assert_eq!(
        seqs(&pull(
            db,
            ScopeFilter::Household("hh-1".into()),
            0,
            ALL,
            100
        )),
        [seq[0], seq[4]]
    );
    assert_eq!(
        seqs(&pull(
            db,
            ScopeFilter::Household("hh-2".into()),
            0,
            ALL,
            100
        )),
        [seq[3]]
    );
    assert_eq!(seqs(&pull(db, ScopeFilter::Global, 0, ALL, 100)), [seq[2]]);
    assert!(pull(db, ScopeFilter::Village("999999999999".into()), 0, ALL, 100).is_empty());

    // `after`, `limit` and `max_bytes`: at least one change, even one larger than the budget.
    let division = || ScopeFilter::Division("5303".into());
    assert_eq!(
        seqs(&pull(db, division(), seq[0], ALL, 100)),
        [seq[3], seq[4]]
    );
    assert!(pull(db, division(), seq[4], ALL, 100).is_empty());
    assert_eq!(seqs(&pull(db, division(), 0, ALL, 2)), [seq[0], seq[3]]);
    assert_eq!(seqs(&pull(db, division(), 0, 150, 100)), [seq[0]]);
    assert_eq!(
        seqs(&pull(db, division(), 0, 200, 100)),
        [seq[0], seq[3]],
        "the budget is inclusive"
    );
    assert_eq!(
        seqs(&pull(db, division(), seq[3], 10, 100)),
        [seq[4]],
        "5,000 bytes over a budget of 10"
    );
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Village(v1.into()), 0, 0, 100)),
        [seq[0]]
    );

    // Long pages, longer than any batch a backend fetches at once.
    let many: Vec<ChangeRow> = (0..150)
        .map(|i| {
            change(
                &format!("bulk-{i:03}"),
                &format!("bulk-{i}"),
                Some("520000000001"),
                None,
                40,
            )
        })
        .collect();
    let bulk = db
        .write(|tx| {
            many.iter()
                .map(|c| tx.insert_change(c))
                .collect::<StoreResult<Vec<_>>>()
        })
        .unwrap();
    let bulk_village = || ScopeFilter::Village("520000000001".into());
    let page = pull(db, bulk_village(), 0, ALL, 1_000);
    assert_eq!(seqs(&page), bulk);
    assert!(
        page.iter()
            .zip(&many)
            .all(|(got, c)| got.2 == c.bytes && got.1 == c.doc_id)
    );
    assert_eq!(seqs(&pull(db, bulk_village(), 0, ALL, 100)), bulk[..100]);
    assert_eq!(
        seqs(&pull(db, bulk_village(), 0, 70 * 40, 1_000)),
        bulk[..70]
    );
    assert_eq!(
        seqs(&pull(db, bulk_village(), bulk[99], 70 * 40 + 39, 1_000)),
        bulk[100..150]
    );
    assert_eq!(db.read(|tx| tx.max_seq()).unwrap(), bulk[149]);
}

/// A team member's pull of its village leaves out others' personal records (the log's
/// `owner`), and keeps its own and everything without an owner.
fn personal_changes(db: &Db) {
    let v = "530322101277";
    let owned = |name: &str, owner: Option<&str>| ChangeRow {
        owner: owner.map(Into::into),
        ..change(name, &format!("doc-{name}"), Some(v), None, 10)
    };
    let log = [
        owned("p1", Some("cadre-li-ming")),
        owned("p2", Some("cadre-zhao-hong")),
        owned("p3", None),
    ];
    let seq: Vec<i64> = log
        .iter()
        .map(|c| db.write(|tx| tx.insert_change(c)).unwrap())
        .collect();
    let mine = ScopeFilter::VillageFor(v.into(), "cadre-li-ming".into());
    assert_eq!(seqs(&pull(db, mine, 0, ALL, 100)), [seq[0], seq[2]]);
    let theirs = ScopeFilter::VillageFor(v.into(), "cadre-zhao-hong".into());
    assert_eq!(seqs(&pull(db, theirs, seq[1], ALL, 100)), [seq[2]]);
    assert_eq!(
        seqs(&pull(db, ScopeFilter::Village(v.into()), 0, ALL, 100)),
        seq,
        "the whole village (its first secretary)"
    );
}

fn held_changes(db: &Db) {
    let held = |name: &str| HeldRow {
        hash: change(name, "", None, None, 0).hash,
        bytes: name.as_bytes().to_vec(),
        device_id: "phone-1".into(),
        // A change pushed in protocol 2 keeps its device's signature while held; one pushed in
        // protocol 1 has none until it is logged.
        proof: (name != "h3")
            .then(|| cunji_core::sync::protocol::Proof::Device(name.as_bytes().repeat(16))),
    };
    let (h1, h2, h3) = (held("h1"), held("h2"), held("h3"));
    db.write(|tx| {
        tx.hold_change("hh-1", &h2)?;
        tx.hold_change("hh-1", &h1)?;
        tx.hold_change("hh-1", &h1)?; // held twice: kept once
        tx.hold_change("hh-2", &h3)
    })
    .unwrap();
    let sorted = |mut v: Vec<HeldRow>| {
        v.sort_by(|a, b| a.hash.cmp(&b.hash));
        v
    };
    assert_eq!(
        sorted(db.read(|tx| tx.held_changes("hh-1")).unwrap()),
        [h1.clone(), h2.clone()]
    );
    assert_eq!(
        db.read(|tx| tx.held_changes("hh-2")).unwrap(),
        std::slice::from_ref(&h3)
    );
    assert_eq!(db.read(|tx| tx.held_changes("hh-3")).unwrap(), []);
    db.write(|tx| tx.release_held("hh-1", &h1.hash)).unwrap();
    db.write(|tx| tx.release_held("hh-2", &h1.hash)).unwrap(); // not held for that document
    assert_eq!(db.read(|tx| tx.held_changes("hh-1")).unwrap(), [h2]);
    assert_eq!(db.read(|tx| tx.held_changes("hh-2")).unwrap(), [h3]);
}

fn projections(db: &Db) {
    use RecordState::{Submitted, Void};
    let household = Household::example();
    let hh = "hh-530322101201-0007";
    assert_eq!(Assignment::example().household_id, hh);
    project(db, hh, &household, Submitted);
    project(db, "ent-1", &Entitlement::example(), Submitted);
    assert_eq!(
        db.read(|tx| tx.household_village(hh)).unwrap().as_deref(),
        Some("530322101201")
    );
    assert_eq!(db.read(|tx| tx.household_village("hh-none")).unwrap(), None);
    assert_eq!(
        db.read(|tx| tx.entitlement_household("ent-1"))
            .unwrap()
            .as_deref(),
        Some(hh)
    );
    assert_eq!(
        db.read(|tx| tx.entitlement_household("ent-none")).unwrap(),
        None
    );

    // Projecting again replaces the record's rows (here: the household moved village).
    let moved = Household {
        village_code: "530322101202".into(),
        ..household
    };
    project(db, hh, &moved, Submitted);
    assert_eq!(
        db.read(|tx| tx.household_village(hh)).unwrap().as_deref(),
        Some("530322101202")
    );

    // Villages whose (non-void) team lists the cadre, as member or leader.
    let team = Team::example();
    project(db, "team-1", &team, Submitted);
    project(
        db,
        "team-2",
        &Team {
            village_code: "530322101205".into(),
            ..team.clone()
        },
        Submitted,
    );
    project(
        db,
        "team-void",
        &Team {
            village_code: "530322101299".into(),
            ..team.clone()
        },
        Void,
    );
    let villages = |cadre: &str| places(db.read(|tx| tx.cadre_teams(cadre)).unwrap());
    assert_eq!(villages("cadre-li-ming"), ["530322101201", "530322101205"]);
    assert_eq!(
        villages("cadre-wang-zhigang"),
        ["530322101201", "530322101205"]
    );
    assert_eq!(villages("nobody"), Vec::<String>::new());
    // Periods come whole, ended ones too: what is valid when is decided above the store.
    let d = |s: &str| s.parse().unwrap();
    assert_eq!(
        db.read(|tx| tx.cadre_teams("cadre-zhao-hong")).unwrap()[0],
        cunji_sync_server::store::Period {
            place: "530322101201".into(),
            from: d("2015-09-01"),
            to: Some(d("2016-06-30")),
        }
    );
    // A member taken off a team's document no longer reads its village.
    let mut smaller = team.clone();
    smaller.members.remove("cadre-li-ming");
    project(db, "team-1", &smaller, Submitted);
    assert_eq!(villages("cadre-li-ming"), ["530322101205"]);
    assert_eq!(
        villages("cadre-wang-zhigang"),
        ["530322101201", "530322101205"]
    );

    // Households whose (non-void) assignment names the cadre.
    let pairing = Assignment::example();
    project(db, "asg-1", &pairing, Submitted);
    project(
        db,
        "asg-2",
        &Assignment {
            household_id: "hh-530322101201-0003".into(),
            ..pairing.clone()
        },
        Submitted,
    );
    project(
        db,
        "asg-3",
        &Assignment {
            household_id: "hh-530322101201-0009".into(),
            ..pairing.clone()
        },
        Void,
    );
    project(
        db,
        "asg-4",
        &Assignment {
            cadre_id: "cadre-zhao-hong".into(),
            ..pairing.clone()
        },
        Submitted,
    );
    let households = |cadre: &str| places(db.read(|tx| tx.cadre_assignments(cadre)).unwrap());
    assert_eq!(households("cadre-li-ming"), ["hh-530322101201-0003", hh]);
    assert_eq!(households("cadre-zhao-hong"), [hh]);
    project(
        db,
        "asg-2",
        &Assignment {
            household_id: "hh-530322101201-0003".into(),
            ..pairing
        },
        Void,
    );
    assert_eq!(households("cadre-li-ming"), [hh]);
    assert_eq!(households("nobody"), Vec::<String>::new());
}

fn repair_states(db: &Db) {
    assert_eq!(
        db.read(|tx| tx.repair_state("phone-1", "hh-1")).unwrap(),
        None
    );
    db.write(|tx| tx.put_repair_state("phone-1", "hh-1", b"sync-state-1"))
        .unwrap();
    assert_eq!(
        db.read(|tx| tx.repair_state("phone-1", "hh-1")).unwrap(),
        Some(b"sync-state-1".to_vec())
    );
    db.write(|tx| tx.put_repair_state("phone-1", "hh-1", &[0, 255, 0]))
        .unwrap();
    assert_eq!(
        db.read(|tx| tx.repair_state("phone-1", "hh-1")).unwrap(),
        Some(vec![0, 255, 0])
    );
    assert_eq!(
        db.read(|tx| tx.repair_state("phone-2", "hh-1")).unwrap(),
        None
    );
    assert_eq!(
        db.read(|tx| tx.repair_state("phone-1", "hh-2")).unwrap(),
        None
    );
}

fn a_failed_write_leaves_nothing(db: &Db) {
    let before = db.read(|tx| tx.max_seq()).unwrap();
    let c = change("doomed", "doc-doomed", Some("530322101201"), None, 10);
    let err = db
        .write(|tx| {
            tx.put_account(&account("doomed", Role::City))?;
            tx.insert_doc(&doc_row("doc-doomed", Kind::Visit, None, None, b"x"))?;
            tx.insert_change(&c)?;
            tx.put_repair_state("phone-1", "doc-doomed", b"s")?;
            Err::<(), _>(StoreError::Corrupt("the closure gave up".into()))
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(_)),
        "the closure's own error: {err}"
    );
    // A statement that fails in the database rolls back what came before it too.
    let failed = db.write(|tx| {
        tx.put_account(&account("doomed-2", Role::City))?;
        tx.put_device(&device("phone-1", "doomed-2", &[42])) // phone-1 exists
    });
    assert!(failed.is_err());
    db.read(|tx| {
        assert_eq!(tx.account("doomed")?, None);
        assert_eq!(tx.account("doomed-2")?, None);
        assert_eq!(tx.doc("doc-doomed")?, None);
        assert!(!tx.has_change(&c.hash)?);
        assert_eq!(tx.repair_state("phone-1", "doc-doomed")?, None);
        assert_eq!(tx.max_seq()?, before);
        Ok::<_, StoreError>(())
    })
    .unwrap();
    // And the next write works, numbered after everything committed.
    let next = db.write(|tx| tx.insert_change(&c)).unwrap();
    assert!(next > before);
    assert_eq!(
        seqs(&pull(
            db,
            ScopeFilter::Village("530322101201".into()),
            before,
            ALL,
            10
        )),
        [next]
    );
}

/// Every kind's example record projects on this backend: each value binds as its column's type,
/// NULLs included.
fn every_kind_projects(db: &Db) {
    fn one<T: Record>(db: &Db, id: &str, record: T) {
        project(db, id, &record, RecordState::Submitted);
        project(db, id, &record, RecordState::Draft); // and again over its own rows
    }
    one(db, "village-1", Village::example());
    one(db, "unit-1", Unit::example());
    one(db, "cadre-1", Cadre::example());
    one(db, "team-1", Team::example());
    one(db, "asg-1", Assignment::example());
    one(db, "hh-530322101201-0007", Household::example());
    one(db, "visit-1", Visit::example());
    one(db, "checkin-1", CheckIn::example());
    one(db, "leave-1", Leave::example());
    one(db, "policy-1", PolicyItem::example());
    one(db, "ent-1", Entitlement::example());
    one(db, "delivery-1", Delivery::example());
    one(db, "log-1", WorkLog::example());
    assert_eq!(
        db.read(|tx| tx.household_village("hh-530322101201-0007"))
            .unwrap()
            .as_deref(),
        Some("530322101201")
    );
    assert_eq!(
        places(db.read(|tx| tx.cadre_assignments("cadre-li-ming")).unwrap()),
        ["hh-530322101201-0007"]
    );
}

/// Concurrent writers: a change never becomes visible before one with a lower sequence number
/// (a device that pulled past it would never see the lower one), and a writer that reads a
/// document sees what the writer before it stored.
fn writers_commit_in_sequence_order(db: &Db) {
    const V: &str = "530322101201";
    db.write(|tx| tx.insert_doc(&doc_row("shared", Kind::Household, Some(V), None, b"s0")))
        .unwrap();
    let (opened, first_is_open) = mpsc::channel();
    let (go_on, commit_first) = mpsc::channel::<()>();
    thread::scope(|s| {
        let first = s.spawn(move || {
            db.write(|tx| {
                let doc = tx.doc("shared")?.expect("the document");
                let chunk = format!("first after {}", doc.chunks.len());
                tx.append_doc_chunk("shared", chunk.as_bytes())?;
                let seq = tx.insert_change(&change("first", "shared", Some(V), None, 10))?;
                opened.send(()).expect("signal");
                // Held open until the reader below has looked (or gave up).
                let _ = commit_first.recv();
                Ok::<_, StoreError>(seq)
            })
        });
        first_is_open.recv().expect("the first writer started");
        let second = s.spawn(|| {
            db.write(|tx| {
                let doc = tx.doc("shared")?.expect("the document");
                let chunk = format!("second after {}", doc.chunks.len());
                tx.append_doc_chunk("shared", chunk.as_bytes())?;
                tx.insert_change(&change("second", "shared", Some(V), None, 10))
            })
        });
        // Time for the second writer to commit, if the backend let it.
        thread::sleep(Duration::from_millis(200));
        let during = pull(db, ScopeFilter::Village(V.into()), 0, ALL, 10);
        drop(go_on);
        let first = first.join().expect("first writer").expect("first write");
        let second = second.join().expect("second writer").expect("second write");
        assert!(
            during.is_empty(),
            "visible while the first writer is open: {:?}",
            seqs(&during)
        );
        assert!(
            first < second,
            "numbered in commit order: {first} then {second}"
        );
    });
    let chunks = db
        .read(|tx| tx.doc("shared"))
        .unwrap()
        .expect("the document")
        .chunks;
    let chunks: Vec<String> = chunks
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert_eq!(
        chunks,
        ["first after 0", "second after 1"],
        "the second writer saw the first one's chunk"
    );
}

/// Opening an existing database keeps its data and runs no migration twice; a database written
/// by a newer build is refused. (It needs the fixture's URL, so it is not a `fn(&Db)`.)
fn reopening_keeps_data_and_refuses_newer_schema(mut t: TestDb) {
    let backend = t.db().backend();
    t.db()
        .write(|tx| {
            tx.put_account(&account("admin", Role::Admin))?;
            tx.insert_change(&change("c1", "d", None, None, 3))
        })
        .unwrap();
    project(
        t.db(),
        "hh-530322101201-0007",
        &Household::example(),
        RecordState::Submitted,
    );
    t.db.take();

    let db = reopen(&t.url).expect("reopen");
    assert_eq!(
        db.read(|tx| tx.account("admin")).unwrap().map(|a| a.role),
        Some(Role::Admin)
    );
    assert_eq!(db.read(|tx| tx.max_seq()).unwrap(), 1);
    assert_eq!(
        db.read(|tx| tx.household_village("hh-530322101201-0007"))
            .unwrap()
            .as_deref(),
        Some("530322101201")
    );
    assert_eq!(
        db.write(|tx| tx.insert_change(&change("c2", "d", None, None, 3)))
            .unwrap(),
        2
    );
    drop(db);

    set_schema_version(&t.url, backend, 99);
    match reopen(&t.url) {
        Err(StoreError::SchemaTooNew { found: 99, known }) => assert!(known < 99),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn sqlite_reopen() {
    reopening_keeps_data_and_refuses_newer_schema(TestDb::sqlite());
}

#[test]
fn postgres_reopen() {
    if let Some(t) = TestDb::postgres("reopen") {
        reopening_keeps_data_and_refuses_newer_schema(t);
    }
}

/// How many `p_member` rows household `hh` has.
fn member_rows(db: &Db, hh: &str) -> usize {
    let mut members = 0;
    db.read(|tx| {
        tx.scan(
            "p_member",
            &["name"],
            cunji_sync_server::store::RowFilter::Doc(hh),
            &mut |_| members += 1,
        )
    })
    .unwrap();
    members
}

/// Runs `sql` on the database behind `t`, outside the store (an older release's state, a
/// damaged row).
fn raw_sql(t: &TestDb, sql: &str) {
    match t.backend {
        Backend::Postgres { .. } => {
            let mut c = postgres::Client::connect(&t.url, postgres::NoTls).expect("connect");
            c.batch_execute(sql).expect(sql);
        }
        _ => {
            let c = rusqlite::Connection::open(&t.url).unwrap();
            c.execute_batch(sql).expect(sql);
        }
    }
}

/// A projection table whose declaration changed is recreated and refilled from the stored
/// documents when the database opens, in the transaction that records the new declaration:
/// an open cut short by a record that cannot be projected leaves the old declaration, and the
/// next open, once the record is mended, refills the table. (Recorded apart, as before, the
/// failed open left the table empty for good.) The other kinds' tables keep their rows.
fn a_changed_projection_declaration_is_refilled_when_opened(mut t: TestDb) {
    let hh = t
        .db()
        .write(|tx| {
            cunji_sync_server::records::create(tx, "admin", "建档", &Household::example())
                .map_err(StoreError::Corrupt)
        })
        .unwrap();
    project(
        t.db(),
        "asg-1",
        &Assignment::example(),
        RecordState::Submitted,
    );
    t.db.take();
    let older = "UPDATE projection_tables SET ddl = 'older' WHERE name = 'p_household'";
    raw_sql(&t, older);
    // A second household whose stored bytes are not a document: the refill fails on it.
    let broken = "hh-530322101201-0099";
    raw_sql(
        &t,
        &format!(
            "INSERT INTO documents (id, kind, village_code, household_id, author_id, received_ts, snapshot)
             VALUES ('{broken}', 'household', '530322101201', '{broken}', 'admin', '2026-12-07T00:00:00Z', {})",
            match t.backend {
                Backend::Postgres { .. } => "'\\x00'::bytea",
                _ => "x'00'",
            }
        ),
    );
    let failed = reopen(&t.url);
    assert!(
        matches!(failed, Err(StoreError::Corrupt(ref m)) if m.contains(broken)),
        "the refill stops on the record it cannot project: {failed:?}"
    );
    drop(failed);
    raw_sql(&t, &format!("DELETE FROM documents WHERE id = '{broken}'"));

    let db = reopen(&t.url).expect("reopen once the record is mended");
    assert_eq!(
        db.read(|tx| tx.household_village(&hh)).unwrap().as_deref(),
        Some("530322101201"),
        "refilled by the next open"
    );
    assert_eq!(
        places(db.read(|tx| tx.cadre_assignments("cadre-li-ming")).unwrap()),
        ["hh-530322101201-0007"],
        "other kinds untouched"
    );
    let members = member_rows(&db, &hh);
    assert_eq!(
        members,
        Household::example().members.len(),
        "the kind's other tables too"
    );
    t.db = Some(db);
}

#[test]
fn sqlite_refills_changed_projection_tables() {
    a_changed_projection_declaration_is_refilled_when_opened(TestDb::sqlite());
}

#[test]
fn postgres_refills_changed_projection_tables() {
    if let Some(t) = TestDb::postgres("changed_projection") {
        a_changed_projection_declaration_is_refilled_when_opened(t);
    }
}

/// `rebuild_projections` (the repair command) refills projection tables from the stored
/// documents, here after rows were lost.
fn rebuild_refills_projections(mut t: TestDb) {
    let hh = t
        .db()
        .write(|tx| {
            cunji_sync_server::records::create(tx, "admin", "建档", &Household::example())
                .map_err(StoreError::Corrupt)
        })
        .unwrap();
    assert_eq!(
        t.db()
            .read(|tx| tx.household_village(&hh))
            .unwrap()
            .as_deref(),
        Some("530322101201")
    );
    t.db.take();
    raw_sql(&t, "DELETE FROM p_household");
    let db = reopen(&t.url).expect("reopen");
    assert_eq!(
        db.read(|tx| tx.household_village(&hh)).unwrap(),
        None,
        "emptied"
    );
    assert_eq!(
        cunji_sync_server::merge::rebuild_projections(&db, &[Kind::Household]).unwrap(),
        1
    );
    assert_eq!(
        db.read(|tx| tx.household_village(&hh)).unwrap().as_deref(),
        Some("530322101201")
    );
    // Again: the same rows, not twice as many.
    assert_eq!(
        cunji_sync_server::merge::rebuild_projections(&db, Kind::ALL).unwrap(),
        1
    );
    let members = member_rows(&db, &hh);
    assert_eq!(members, Household::example().members.len());
    t.db = Some(db);
}

#[test]
fn sqlite_rebuild_refills_projections() {
    rebuild_refills_projections(TestDb::sqlite());
}

#[test]
fn postgres_rebuild_refills_projections() {
    if let Some(t) = TestDb::postgres("rebuild") {
        rebuild_refills_projections(t);
    }
}

#[test]
fn a_database_name_replaces_the_urls() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/cunji_test", "x"),
        "postgres://u:p@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
}

/// A wrong password is reported at once, as a PostgreSQL error.
#[test]
fn postgres_reports_a_wrong_password() {
    let Ok(url) = std::env::var(ENV) else {
        eprintln!("skipped: wrong password on PostgreSQL ({ENV} is not set; see scripts/postgres)");
        return;
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        panic!("{ENV} is not a URL")
    };
    let Some((_, host)) = rest.split_once('@') else {
        eprintln!("skipped: wrong password on PostgreSQL ({ENV} has no user)");
        return;
    };
    let started = std::time::Instant::now();
    let err = Db::open(&format!("{scheme}://cunji:not-the-password@{host}")).unwrap_err();
    assert!(matches!(err, StoreError::Postgres(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
