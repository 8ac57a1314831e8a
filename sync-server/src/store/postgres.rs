//! The PostgreSQL backend: a pool of blocking `postgres` connections, for deployments that
//! outgrow one SQLite file. It behaves like [`super::sqlite`] in every [`Tx`] method and uses
//! plain SQL (no extensions, no advisory locks, no operator classes), so it also runs on
//! PostgreSQL-compatible distributed engines.
//!
//! **Schema.** Versioned migrations ([`MIGRATIONS`], recorded in `schema_version`; a database
//! newer than this build is refused with [`StoreError::SchemaTooNew`]) mirror SQLite's tables
//! with `BYTEA` blobs and `BOOLEAN` flags. Projection tables come from the kinds' declarations
//! ([`cunji_core::projection::Table::ddl_postgres`]); the DDL each was created with is kept in
//! `projection_tables`, and a table whose declaration changed is dropped and created again.
//!
//! As on SQLite, the new tables are refilled from the stored documents in the transaction that
//! records their declarations (`refill_projections`), so a start cut short leaves the old
//! declarations and the next start does it again; a second server starting at the same time
//! waits on the `schema_version` row, then finds nothing to do. `cunji-sync-server
//! rebuild-projections` ([`crate::merge::rebuild_projections`]) refills every table again, as a
//! repair.
//!
//! **Writers are serialised, like SQLite's single writer.** Every write transaction first locks
//! the one row of `change_seq` (`SELECT … FOR UPDATE`) and holds it until it commits or rolls
//! back. That row also hands out the change log's sequence numbers. Two things depend on it:
//! - the pull log. A device pulls "changes after seq N", so a change must never become
//!   visible after one with a higher number. With a `BIGSERIAL`, two concurrent writers can
//!   take 10 and 11 and commit 11 first; a pull in between moves the device past 10 for good.
//!   Distributed engines do not even hand out serial values in order (per-node caches,
//!   `unique_rowid`). A counter under a lock held to commit is in commit order everywhere.
//! - merges. A push reads a document and its chunks, merges and writes them back. A per-row
//!   `SELECT … FOR UPDATE` on `documents` would not cover a document that does not exist yet
//!   (two pushes both insert it), and taking it together with the log lock, in
//!   whatever order ingest happens to touch them, would deadlock batches. `SERIALIZABLE` with
//!   retries is not possible either: [`Db::write`](super::Db::write) runs its closure once
//!   (`FnOnce`).
//!
//! Within one server process the HTTP handlers' writers queue before they take a pooled
//! connection (`AppState::write`), so the lock is contended only between processes: writers
//! waiting on it inside the pool held its connections, and pulls timed out waiting for one.
//!
//! Write transactions run at the default `READ COMMITTED`, which the lock makes safe. Reads
//! do not take the lock: they run at `REPEATABLE READ` so that every statement of one
//! [`PgDb::read`] sees the same snapshot, as a SQLite read transaction does. A `read` that
//! writes does not take the lock either, so keep writes in `write`.
//!
//! The division filter of [`Tx::changes_after`] is a range on `changes(village_code, seq)`.
//! For a prefix of digits (every administrative code) the upper bound is the prefix "plus
//! one" (`5303` → `5304`, `5309` → `531`), which orders correctly under any collation the
//! database was created with. The usual `prefix || chr(1114111)` does not: glibc's `zh_CN`
//! collation sorts U+10FFFF before the digits. Any other prefix is matched exactly with
//! `left()`, without the index.
//!
//! Statements are prepared once per pooled connection and cached with it.
//!
//! Not here: rebuilding projections, TLS (the URL's server is reached without it: put the
//! database on the same host or a private network), and connection settings beyond the URL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cunji_core::domain::{Kind, all_tables};
use cunji_core::identity::ServerKey;
use cunji_core::projection::{Rows, SqlType, Table};
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use rusqlite::types::Value;

use super::{
    Account, Between, ChangeRow, ChangedDoc, DeviceRow, DocRow, HeldRow, LoggedChange, Period,
    ReceivedClock, RowFilter, ScopeFilter, SettingsChange, SettingsRow, StoreError, StoreResult,
    TokenRow, Tx,
};

/// The schema, one script per version; `schema_version` records how many have run.
pub const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE accounts (
        login          TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        role           TEXT NOT NULL,
        division       TEXT NOT NULL DEFAULT '',
        password_hash  TEXT NOT NULL,
        active         BOOLEAN NOT NULL DEFAULT TRUE
    );
    CREATE TABLE devices (
        device_id      TEXT PRIMARY KEY,
        login          TEXT NOT NULL REFERENCES accounts(login),
        actor          BYTEA NOT NULL UNIQUE,
        public_key     BYTEA NOT NULL,
        registered_ts  TEXT NOT NULL
    );
    CREATE TABLE tokens (
        hash        BYTEA PRIMARY KEY,
        login       TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        expires_ts  TEXT NOT NULL,
        revoked     BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX tokens_login ON tokens(login);
    CREATE TABLE server_identity (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        actor      BYTEA NOT NULL,
        secret     BYTEA NOT NULL
    );
    CREATE TABLE documents (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        village_code  TEXT,
        household_id  TEXT,
        author_id     TEXT NOT NULL,
        received_ts   TEXT NOT NULL,
        snapshot      BYTEA NOT NULL
    );
    CREATE TABLE doc_chunks (
        seq     BIGSERIAL PRIMARY KEY,
        doc_id  TEXT NOT NULL,
        bytes   BYTEA NOT NULL
    );
    CREATE INDEX doc_chunks_doc ON doc_chunks(doc_id, seq);
    -- The last change sequence number handed out. Its row is also the writers' lock (see the
    -- module docs of store::postgres).
    CREATE TABLE change_seq (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        seq        BIGINT NOT NULL
    );
    INSERT INTO change_seq (singleton, seq) VALUES (1, 0);
    -- The change log: every change kept, in commit order; pulls page through it.
    CREATE TABLE changes (
        seq           BIGINT PRIMARY KEY,
        hash          BYTEA NOT NULL UNIQUE,
        doc_id        TEXT NOT NULL,
        village_code  TEXT,
        household_id  TEXT,
        bytes         BYTEA NOT NULL,
        device_id     TEXT NOT NULL,
        received_ts   TEXT NOT NULL
    );
    CREATE INDEX changes_village ON changes(village_code, seq);
    CREATE INDEX changes_household ON changes(household_id, seq);
    CREATE TABLE held_changes (
        doc_id     TEXT NOT NULL,
        hash       BYTEA NOT NULL,
        bytes      BYTEA NOT NULL,
        device_id  TEXT NOT NULL,
        PRIMARY KEY (doc_id, hash)
    );
    CREATE TABLE repair_states (
        device_id  TEXT NOT NULL,
        doc_id     TEXT NOT NULL,
        state      BYTEA NOT NULL,
        PRIMARY KEY (device_id, doc_id)
    );
    -- The DDL each projection table was created with (see Table::ddl_postgres).
    CREATE TABLE projection_tables (
        name  TEXT PRIMARY KEY,
        ddl   TEXT NOT NULL
    );
",
    "
    -- 2: the pushing device's clock offset beside the server's received time (R2 drift).
    ALTER TABLE changes ADD COLUMN device_clock_offset_ms BIGINT;
",
    "
    -- 3: reports read a division's records of one kind from this index (covering: the join
    -- to a projection table needs only the id, and the rows carry the received time).
    CREATE INDEX documents_kind_village ON documents(kind, village_code, id, received_ts);
",
    "
    -- 4: each county's ⚙ settings (cunji_core::rules::CountySettings as JSON), and every
    -- change of them, never updated or deleted.
    CREATE TABLE county_settings (
        county_code    TEXT PRIMARY KEY,
        settings_json  TEXT NOT NULL,
        updated_by     TEXT NOT NULL,
        updated_ts     TEXT NOT NULL
    );
    CREATE TABLE county_settings_history (
        seq         BIGSERIAL PRIMARY KEY,
        county_code TEXT NOT NULL,
        old_json    TEXT,
        new_json    TEXT NOT NULL,
        changed_by  TEXT NOT NULL,
        changed_ts  TEXT NOT NULL
    );
    CREATE INDEX county_settings_history_county ON county_settings_history(county_code, seq);
",
    "
    -- 5: whose personal record a change belongs to (the kinds the access table lets some
    -- readers see only when their own: a check-in's, a leave's or a log's author; a cadre's
    -- file's cadre), so that a team member's pull leaves out the others' and a cadre's file
    -- goes only where the cadre works. Filled in for the changes already stored.
    ALTER TABLE changes ADD COLUMN owner TEXT;
    UPDATE changes c SET owner = d.author_id FROM documents d
     WHERE d.id = c.doc_id AND d.kind IN ('check_in', 'leave', 'work_log');
    UPDATE changes c SET owner = c.doc_id FROM documents d
     WHERE d.id = c.doc_id AND d.kind = 'cadre';
    CREATE INDEX changes_owner ON changes(owner, seq);
",
    "
    -- 6: records whose history the server replaced (the `rebuild` module): the old history, kept
    -- here and never served, and why.
    CREATE TABLE rebuilt_documents (
        doc_id       TEXT PRIMARY KEY,
        reason       TEXT NOT NULL,
        old_history  BYTEA NOT NULL,
        rebuilt_ts   TEXT NOT NULL
    );
    -- Data migrations done (the `rebuild` module), by name.
    CREATE TABLE data_migrations (
        name     TEXT PRIMARY KEY,
        done_ts  TEXT NOT NULL
    );
",
    "
    -- 7: a rebuilt record's repair states are dropped by record (the key leads with the
    -- device); repair states are written only on the repair path, so the index costs ingest
    -- nothing.
    CREATE INDEX repair_states_doc ON repair_states(doc_id);
",
    "
    -- 8: a device cut off (a lost or stolen phone): when (`revoke-device`, the devices API).
    ALTER TABLE devices ADD COLUMN revoked_ts TEXT;
",
    "
    -- 9: what proves each change's author (the store docs): 1 = its device's signature, 2 = the
    -- server's attestation, and the signature's bytes. Changes logged before are attested when
    -- the database is opened (`attest_unproven`); a held change keeps its device's signature.
    ALTER TABLE changes ADD COLUMN signed_by SMALLINT;
    ALTER TABLE changes ADD COLUMN signature BYTEA;
    ALTER TABLE held_changes ADD COLUMN signed_by SMALLINT;
    ALTER TABLE held_changes ADD COLUMN signature BYTEA;
",
];

/// Connections the pool opens at most.
const MAX_CONNECTIONS: u32 = 16;

/// Rows fetched per round trip while filling a pull page.
const PAGE_ROWS: i32 = 64;
/// Rows fetched at a time by a projection scan.
const SCAN_ROWS: i32 = 2_000;

/// A PostgreSQL database.
pub struct PgDb {
    pool: r2d2::Pool<Manager>,
    /// Every projection table with its kind, in declaration order.
    tables: Vec<(Kind, &'static Table)>,
    key: Arc<ServerKey>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it holds the password.
        let state = self.pool.state();
        f.debug_struct("PgDb")
            .field("connections", &state.connections)
            .field("idle", &state.idle_connections)
            .finish_non_exhaustive()
    }
}

impl PgDb {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the schema
    /// up to date.
    pub fn open(url: &str, key: Arc<ServerKey>) -> StoreResult<PgDb> {
        let config: postgres::Config = url.parse()?;
        // One direct connection first: a wrong password or an unreachable server is reported
        // at once, not after the pool's connection timeout.
        let tables = all_tables();
        {
            let mut client = config.connect(NoTls)?;
            migrate(&mut client)?;
            sync_projection_tables(&mut client, &tables, &key)?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(MAX_CONNECTIONS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(15))
            .build(Manager(PostgresConnectionManager::new(config, NoTls)))
            .map_err(pool_error)?;
        Ok(PgDb { pool, tables, key })
    }

    /// Runs `f` in a write transaction holding the writers' lock (see the module docs):
    /// committed if it returns `Ok`, rolled back otherwise.
    pub fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.pool.get().map_err(pool_error)?;
        let PgConn { client, stmts } = &mut *conn;
        let tx = client.transaction().map_err(StoreError::from)?;
        let mut t = PgTx {
            tx,
            stmts,
            tables: &self.tables,
            key: &self.key,
        };
        t.one(
            "SELECT seq FROM change_seq WHERE singleton = 1 FOR UPDATE",
            &[],
        )?;
        finish(t, f)
    }

    /// Runs `f` in a read transaction: one snapshot for all its statements.
    pub fn read<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.pool.get().map_err(pool_error)?;
        let PgConn { client, stmts } = &mut *conn;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()
            .map_err(StoreError::from)?;
        finish(
            PgTx {
                tx,
                stmts,
                tables: &self.tables,
                key: &self.key,
            },
            f,
        )
    }
}

/// Runs `f` and ends the transaction: commit on `Ok`, rollback on `Err`.
fn finish<R, E: From<StoreError>>(
    mut t: PgTx<'_>,
    f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
) -> Result<R, E> {
    match f(&mut t) {
        Ok(out) => {
            t.tx.commit().map_err(StoreError::from)?;
            Ok(out)
        }
        Err(e) => {
            // The closure's error is the one to report; a failed rollback means a broken
            // connection, which the pool discards.
            let _ = t.tx.rollback();
            Err(e)
        }
    }
}

fn pool_error(e: r2d2::Error) -> StoreError {
    StoreError::Pool(e.to_string())
}

/// A pooled connection and the statements prepared on it.
struct PgConn {
    client: Client,
    stmts: HashMap<String, Statement>,
}

/// `r2d2_postgres`'s manager, with a statement cache kept beside each connection.
struct Manager(PostgresConnectionManager<NoTls>);

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Manager")
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn {
            client: self.0.connect()?,
            stmts: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

fn migrate(client: &mut Client) -> StoreResult<()> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
             version    BIGINT NOT NULL
         );
         INSERT INTO schema_version (singleton, version) VALUES (1, 0) ON CONFLICT (singleton) DO NOTHING;",
    )?;
    let known = MIGRATIONS.len() as i64;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        // The row lock makes a second server starting at the same time wait, then skip.
        let mut tx = client.transaction()?;
        let found: i64 = tx
            .query_one(
                "SELECT version FROM schema_version WHERE singleton = 1 FOR UPDATE",
                &[],
            )?
            .try_get(0)?;
        if found > known {
            return Err(StoreError::SchemaTooNew { found, known });
        }
        if found > i as i64 {
            continue;
        }
        let started = std::time::Instant::now();
        tx.batch_execute(sql)?;
        tx.execute(
            "UPDATE schema_version SET version = $1 WHERE singleton = 1",
            &[&(i as i64 + 1)],
        )?;
        tx.commit()?;
        if found > 0 {
            tracing::info!(
                version = i + 1,
                seconds = started.elapsed().as_secs_f64(),
                "schema migrated"
            );
        }
    }
    let found: i64 = client
        .query_one(
            "SELECT version FROM schema_version WHERE singleton = 1",
            &[],
        )?
        .try_get(0)?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    Ok(())
}

/// Creates the projection tables whose declaration is new or changed (dropping the old ones)
/// and refills them from the stored documents, in one transaction.
fn sync_projection_tables(
    client: &mut Client,
    tables: &[(Kind, &'static Table)],
    key: &ServerKey,
) -> StoreResult<()> {
    let mut tx = client.transaction()?;
    tx.query_one(
        "SELECT version FROM schema_version WHERE singleton = 1 FOR UPDATE",
        &[],
    )?;
    let mut seen = Vec::new();
    let mut changed = Vec::new();
    for (kind, table) in tables {
        let main = !seen.contains(kind);
        seen.push(*kind);
        let ddl = table.ddl_postgres(main);
        let recorded: Option<String> = tx
            .query_opt(
                "SELECT ddl FROM projection_tables WHERE name = $1",
                &[&table.name],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if recorded.as_deref() != Some(ddl.as_str()) {
            tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", table.name))?;
            tx.batch_execute(&ddl)?;
            tx.execute(
                "INSERT INTO projection_tables (name, ddl) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET ddl = excluded.ddl",
                &[&table.name, &ddl],
            )?;
            if !changed.contains(kind) {
                changed.push(*kind);
            }
        }
    }
    // The reports' period indexes (see `PERIOD_COLUMNS`); the planner chooses them from its
    // statistics, so the query is the same as without them.
    for (table, column) in super::PERIOD_COLUMNS {
        tx.batch_execute(&format!(
            "CREATE INDEX IF NOT EXISTS {table}_period ON {table}({column})"
        ))?;
    }
    // Refilled in the transaction that records the new declarations (as on SQLite): a refill
    // cut short is rolled back with them and done again by the next start.
    let mut stmts = HashMap::new();
    let mut t = PgTx {
        tx,
        stmts: &mut stmts,
        tables,
        key,
    };
    for kind in changed {
        let started = std::time::Instant::now();
        let records = super::refill_projections(&mut t, kind)?;
        if records > 0 {
            tracing::info!(
                kind = kind.code(),
                records,
                seconds = started.elapsed().as_secs_f64(),
                "projection tables refilled"
            );
        }
    }
    t.tx.commit()?;
    Ok(())
}

struct PgTx<'a> {
    tx: Transaction<'a>,
    stmts: &'a mut HashMap<String, Statement>,
    tables: &'a [(Kind, &'static Table)],
    key: &'a ServerKey,
}

/// A change log row of (seq, doc_id, bytes, device_id, signed_by, signature).
fn logged(r: &Row) -> StoreResult<LoggedChange> {
    Ok(LoggedChange {
        seq: r.try_get(0)?,
        doc_id: r.try_get(1)?,
        bytes: r.try_get(2)?,
        device_id: r.try_get(3)?,
        proof: super::proof_of(r.try_get(4)?, r.try_get(5)?),
    })
}

type Params<'p> = [&'p (dyn ToSql + Sync)];

impl PgTx<'_> {
    /// The statement for `sql`, prepared on first use on this connection.
    fn stmt(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn exec(&mut self, sql: &str, params: &Params<'_>) -> StoreResult<u64> {
        let s = self.stmt(sql)?;
        Ok(self.tx.execute(&s, params)?)
    }

    fn one(&mut self, sql: &str, params: &Params<'_>) -> StoreResult<Row> {
        let s = self.stmt(sql)?;
        Ok(self.tx.query_one(&s, params)?)
    }

    fn opt(&mut self, sql: &str, params: &Params<'_>) -> StoreResult<Option<Row>> {
        let s = self.stmt(sql)?;
        Ok(self.tx.query_opt(&s, params)?)
    }

    fn all(&mut self, sql: &str, params: &Params<'_>) -> StoreResult<Vec<Row>> {
        let s = self.stmt(sql)?;
        Ok(self.tx.query(&s, params)?)
    }

    /// The first column of every row.
    fn column<T: for<'r> postgres::types::FromSql<'r>>(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> StoreResult<Vec<T>> {
        self.all(sql, params)?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }
}

fn account_row(r: &Row) -> StoreResult<Account> {
    let role: String = r.try_get(2)?;
    Ok(Account {
        login: r.try_get(0)?,
        name: r.try_get(1)?,
        role: role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown account role `{role}`")))?,
        division: r.try_get(3)?,
        password_hash: r.try_get(4)?,
        active: r.try_get(5)?,
    })
}

fn device_row(r: &Row) -> StoreResult<DeviceRow> {
    Ok(DeviceRow {
        device_id: r.try_get(0)?,
        login: r.try_get(1)?,
        actor: r.try_get(2)?,
        public_key: r.try_get(3)?,
        registered_ts: r.try_get(4)?,
        revoked_ts: r.try_get(5)?,
    })
}

impl Tx for PgTx<'_> {
    fn put_account(&mut self, a: &Account) -> StoreResult<()> {
        self.exec(
            "INSERT INTO accounts (login, name, role, division, password_hash, active) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (login) DO UPDATE SET name = excluded.name, role = excluded.role,
               division = excluded.division, password_hash = excluded.password_hash, active = excluded.active",
            &[&a.login, &a.name, &a.role.code(), &a.division, &a.password_hash, &a.active],
        )?;
        Ok(())
    }

    fn account(&mut self, login: &str) -> StoreResult<Option<Account>> {
        self.opt("SELECT login, name, role, division, password_hash, active FROM accounts WHERE login = $1", &[&login])?
            .map(|r| account_row(&r))
            .transpose()
    }

    fn put_device(&mut self, d: &DeviceRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO devices (device_id, login, actor, public_key, registered_ts, revoked_ts) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&d.device_id, &d.login, &d.actor, &d.public_key, &d.registered_ts, &d.revoked_ts],
        )?;
        Ok(())
    }

    fn device(&mut self, device_id: &str) -> StoreResult<Option<DeviceRow>> {
        self.opt(
            "SELECT device_id, login, actor, public_key, registered_ts, revoked_ts FROM devices WHERE device_id = $1",
            &[&device_id],
        )?
        .map(|r| device_row(&r))
        .transpose()
    }

    fn device_by_actor(&mut self, actor: &[u8]) -> StoreResult<Option<DeviceRow>> {
        self.opt("SELECT device_id, login, actor, public_key, registered_ts, revoked_ts FROM devices WHERE actor = $1", &[&actor])?
            .map(|r| device_row(&r))
            .transpose()
    }

    fn put_token(&mut self, t: &TokenRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO tokens (hash, login, device_id, expires_ts, revoked) VALUES ($1, $2, $3, $4, $5)",
            &[&t.hash, &t.login, &t.device_id, &t.expires_ts, &t.revoked],
        )?;
        Ok(())
    }

    fn token(&mut self, hash: &[u8]) -> StoreResult<Option<TokenRow>> {
        self.opt(
            "SELECT hash, login, device_id, expires_ts, revoked FROM tokens WHERE hash = $1",
            &[&hash],
        )?
        .map(|r| {
            Ok(TokenRow {
                hash: r.try_get(0)?,
                login: r.try_get(1)?,
                device_id: r.try_get(2)?,
                expires_ts: r.try_get(3)?,
                revoked: r.try_get(4)?,
            })
        })
        .transpose()
    }

    fn revoke_tokens(&mut self, login: &str) -> StoreResult<usize> {
        let n = self.exec(
            "UPDATE tokens SET revoked = TRUE WHERE login = $1 AND NOT revoked",
            &[&login],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn devices_of(&mut self, login: &str) -> StoreResult<Vec<DeviceRow>> {
        self.all(
            "SELECT device_id, login, actor, public_key, registered_ts, revoked_ts FROM devices
             WHERE login = $1 ORDER BY registered_ts, device_id",
            &[&login],
        )?
        .iter()
        .map(device_row)
        .collect()
    }

    fn revoke_device(&mut self, device_id: &str, ts: &str) -> StoreResult<bool> {
        let n = self.exec(
            "UPDATE devices SET revoked_ts = $2 WHERE device_id = $1 AND revoked_ts IS NULL",
            &[&device_id, &ts],
        )?;
        self.exec(
            "UPDATE tokens SET revoked = TRUE WHERE device_id = $1 AND NOT revoked",
            &[&device_id],
        )?;
        Ok(n == 1)
    }

    fn county_settings(&mut self, county_code: &str) -> StoreResult<Option<SettingsRow>> {
        self.opt(
            "SELECT county_code, settings_json, updated_by, updated_ts FROM county_settings
             WHERE county_code = $1",
            &[&county_code],
        )?
        .map(|r| {
            Ok(SettingsRow {
                county_code: r.try_get(0)?,
                settings_json: r.try_get(1)?,
                updated_by: r.try_get(2)?,
                updated_ts: r.try_get(3)?,
            })
        })
        .transpose()
    }

    fn put_county_settings(&mut self, row: &SettingsRow) -> StoreResult<()> {
        let old = self
            .county_settings(&row.county_code)?
            .map(|o| o.settings_json);
        self.exec(
            "INSERT INTO county_settings (county_code, settings_json, updated_by, updated_ts)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (county_code) DO UPDATE SET settings_json = excluded.settings_json,
               updated_by = excluded.updated_by, updated_ts = excluded.updated_ts",
            &[
                &row.county_code,
                &row.settings_json,
                &row.updated_by,
                &row.updated_ts,
            ],
        )?;
        self.exec(
            "INSERT INTO county_settings_history (county_code, old_json, new_json, changed_by, changed_ts)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &row.county_code,
                &old,
                &row.settings_json,
                &row.updated_by,
                &row.updated_ts,
            ],
        )?;
        Ok(())
    }

    fn county_settings_history(&mut self, county_code: &str) -> StoreResult<Vec<SettingsChange>> {
        self.all(
            "SELECT county_code, old_json, new_json, changed_by, changed_ts
             FROM county_settings_history WHERE county_code = $1 ORDER BY seq",
            &[&county_code],
        )?
        .iter()
        .map(|r| {
            Ok(SettingsChange {
                county_code: r.try_get(0)?,
                old_json: r.try_get(1)?,
                new_json: r.try_get(2)?,
                changed_by: r.try_get(3)?,
                changed_ts: r.try_get(4)?,
            })
        })
        .collect()
    }

    fn county_known(&mut self, county_code: &str) -> StoreResult<bool> {
        Ok(self
            .one(
                "SELECT EXISTS (SELECT 1 FROM p_village WHERE left(code, length($1)) = $1)
                     OR EXISTS (SELECT 1 FROM accounts WHERE left(division, length($1)) = $1)",
                &[&county_code],
            )?
            .try_get(0)?)
    }

    fn server_identity(&mut self) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
        self.opt("SELECT actor, secret FROM server_identity", &[])?
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
    }

    fn put_server_identity(&mut self, actor: &[u8], secret: &[u8]) -> StoreResult<()> {
        self.exec(
            "INSERT INTO server_identity (singleton, actor, secret) VALUES (1, $1, $2)",
            &[&actor, &secret],
        )?;
        Ok(())
    }

    fn doc(&mut self, id: &str) -> StoreResult<Option<DocRow>> {
        let Some(r) = self.opt(
            "SELECT id, kind, village_code, household_id, author_id, received_ts, snapshot FROM documents WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let kind: String = r.try_get(1)?;
        let chunks = self.column(
            "SELECT bytes FROM doc_chunks WHERE doc_id = $1 ORDER BY seq",
            &[&id],
        )?;
        Ok(Some(DocRow {
            id: r.try_get(0)?,
            kind: Kind::from_code(&kind).unwrap_or(Kind::Village),
            village_code: r.try_get(2)?,
            household_id: r.try_get(3)?,
            author_id: r.try_get(4)?,
            received_ts: r.try_get(5)?,
            snapshot: r.try_get(6)?,
            chunks,
        }))
    }

    fn insert_doc(&mut self, d: &DocRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO documents (id, kind, village_code, household_id, author_id, received_ts, snapshot)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&d.id, &d.kind.code(), &d.village_code, &d.household_id, &d.author_id, &d.received_ts, &d.snapshot],
        )?;
        Ok(())
    }

    fn append_doc_chunk(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()> {
        self.exec(
            "INSERT INTO doc_chunks (doc_id, bytes) VALUES ($1, $2)",
            &[&id, &bytes],
        )?;
        Ok(())
    }

    fn replace_doc_snapshot(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()> {
        self.exec(
            "UPDATE documents SET snapshot = $2 WHERE id = $1",
            &[&id, &bytes],
        )?;
        self.exec("DELETE FROM doc_chunks WHERE doc_id = $1", &[&id])?;
        Ok(())
    }

    fn drop_history(
        &mut self,
        doc_id: &str,
        old_history: &[u8],
        old_changes: &[Vec<u8>],
        reason: &str,
        now: &str,
    ) -> StoreResult<()> {
        self.exec(
            "DELETE FROM changes WHERE hash = ANY($1) AND doc_id = $2",
            &[&old_changes, &doc_id],
        )?;
        self.exec(
            "INSERT INTO rebuilt_documents (doc_id, reason, old_history, rebuilt_ts)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (doc_id) DO UPDATE SET reason = excluded.reason,
               old_history = excluded.old_history, rebuilt_ts = excluded.rebuilt_ts",
            &[&doc_id, &reason, &old_history, &now],
        )?;
        for sql in [
            "DELETE FROM documents WHERE id = $1",
            "DELETE FROM doc_chunks WHERE doc_id = $1",
            "DELETE FROM held_changes WHERE doc_id = $1",
            "DELETE FROM repair_states WHERE doc_id = $1",
        ] {
            self.exec(sql, &[&doc_id])?;
        }
        Ok(())
    }

    fn is_rebuilt(&mut self, doc_id: &str) -> StoreResult<bool> {
        Ok(self
            .opt(
                "SELECT 1 FROM rebuilt_documents WHERE doc_id = $1",
                &[&doc_id],
            )?
            .is_some())
    }

    fn data_migration_done(&mut self, name: &str) -> StoreResult<bool> {
        Ok(self
            .opt("SELECT 1 FROM data_migrations WHERE name = $1", &[&name])?
            .is_some())
    }

    fn mark_data_migration_done(&mut self, name: &str, now: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO data_migrations (name, done_ts) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET done_ts = excluded.done_ts",
            &[&name, &now],
        )?;
        Ok(())
    }

    fn has_change(&mut self, hash: &[u8]) -> StoreResult<bool> {
        Ok(self
            .opt("SELECT 1 FROM changes WHERE hash = $1", &[&hash])?
            .is_some())
    }

    fn insert_change(&mut self, c: &ChangeRow) -> StoreResult<i64> {
        // The write transaction holds this row's lock since it began: numbers follow commits.
        let seq: i64 = self
            .one(
                "UPDATE change_seq SET seq = seq + 1 WHERE singleton = 1 RETURNING seq",
                &[],
            )?
            .try_get(0)?;
        let (signed_by, signature) =
            super::proof_columns(self.key, &c.doc_id, &c.hash, c.proof.as_ref());
        let row = self.one(
            "INSERT INTO changes (seq, hash, doc_id, village_code, household_id, bytes, device_id, received_ts, device_clock_offset_ms, owner, signed_by, signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
            &[&seq, &c.hash, &c.doc_id, &c.village_code, &c.household_id, &c.bytes, &c.device_id, &c.received_ts, &c.device_clock_offset_ms, &c.owner, &signed_by, &signature],
        )?;
        Ok(row.try_get(0)?)
    }

    fn received_clock(&mut self, doc_id: &str) -> StoreResult<Option<ReceivedClock>> {
        let row = self.opt(
            "SELECT received_ts, device_clock_offset_ms FROM changes WHERE doc_id = $1
             ORDER BY seq LIMIT 1",
            &[&doc_id],
        )?;
        Ok(match row {
            Some(r) => Some(ReceivedClock {
                received_ts: r.try_get(0)?,
                device_clock_offset_ms: r.try_get(1)?,
            }),
            None => None,
        })
    }

    fn hold_change(&mut self, doc_id: &str, h: &HeldRow) -> StoreResult<()> {
        let (signed_by, signature) = super::held_proof_columns(h.proof.as_ref());
        self.exec(
            "INSERT INTO held_changes (doc_id, hash, bytes, device_id, signed_by, signature)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (doc_id, hash) DO NOTHING",
            &[
                &doc_id,
                &h.hash,
                &h.bytes,
                &h.device_id,
                &signed_by,
                &signature,
            ],
        )?;
        Ok(())
    }

    fn held_changes(&mut self, doc_id: &str) -> StoreResult<Vec<HeldRow>> {
        self.all(
            "SELECT hash, bytes, device_id, signed_by, signature FROM held_changes WHERE doc_id = $1 ORDER BY hash",
            &[&doc_id],
        )?
        .iter()
        .map(|r| {
            Ok(HeldRow {
                hash: r.try_get(0)?,
                bytes: r.try_get(1)?,
                device_id: r.try_get(2)?,
                proof: super::proof_of(r.try_get(3)?, r.try_get(4)?),
            })
        })
        .collect()
    }

    fn release_held(&mut self, doc_id: &str, hash: &[u8]) -> StoreResult<()> {
        self.exec(
            "DELETE FROM held_changes WHERE doc_id = $1 AND hash = $2",
            &[&doc_id, &hash],
        )?;
        Ok(())
    }

    fn replace_projection(&mut self, kind: Kind, doc_id: &str, rows: Rows) -> StoreResult<()> {
        let tables = self.tables;
        // As `cunji_core::store::replace_projection_rows`: the households whose members' ID
        // numbers change, refilled from `p_member_id` at the end.
        let mut households: Vec<String> = Vec::new();
        if kind == Kind::HouseholdPrivate {
            households = self.column(
                "SELECT household_id FROM p_household_private WHERE doc_id = $1",
                &[&doc_id],
            )?;
        }
        households.extend(cunji_core::store::numbered_households(kind, doc_id, &rows));
        for (k, table) in tables {
            if *k == kind {
                self.exec(
                    &format!("DELETE FROM {} WHERE doc_id = $1", table.name),
                    &[&doc_id],
                )?;
            }
        }
        for (name, values) in rows.into_rows() {
            let table = tables
                .iter()
                .find(|(k, t)| *k == kind && t.name == name)
                .map(|(_, t)| *t)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "{name} is not a projection table of {}",
                        kind.code()
                    ))
                })?;
            let params = values
                .into_iter()
                .map(|(column, v)| Param::of(table, column, v))
                .collect::<StoreResult<Vec<_>>>()?;
            let cols: Vec<&str> = params.iter().map(|p| p.column).collect();
            let marks: Vec<String> = (2..=params.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {name} (doc_id, {}) VALUES ($1, {})",
                cols.join(", "),
                marks.join(", ")
            );
            let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(params.len() + 1);
            refs.push(&doc_id);
            refs.extend(params.iter().map(Param::as_sql));
            self.exec(&sql, &refs)?;
        }
        let numbers = cunji_core::store::HOUSEHOLD_NUMBERS_SQL.replace("?1", "$1");
        for h in &households {
            self.exec(&numbers, &[h])?;
        }
        Ok(())
    }

    fn household_village(&mut self, household_id: &str) -> StoreResult<Option<String>> {
        self.opt(
            "SELECT village_code FROM p_household WHERE doc_id = $1",
            &[&household_id],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn entitlement_household(&mut self, entitlement_id: &str) -> StoreResult<Option<String>> {
        self.opt(
            "SELECT household_id FROM p_entitlement WHERE doc_id = $1",
            &[&entitlement_id],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn cadre_teams(&mut self, cadre_id: &str) -> StoreResult<Vec<Period>> {
        let rows = self.all(
            "SELECT m.village_code, m.from_date, m.to_date FROM p_team_member m JOIN p_team t ON t.doc_id = m.doc_id
             WHERE m.cadre_id = $1 AND t.state <> 'void' ORDER BY m.village_code, m.from_date",
            &[&cadre_id],
        )?;
        periods(rows)
    }

    fn team_members_under(&mut self, prefix: &str) -> StoreResult<Vec<Period>> {
        let rows = self.all(
            "SELECT m.cadre_id, m.from_date, m.to_date FROM p_team_member m JOIN p_team t ON t.doc_id = m.doc_id
             WHERE left(m.village_code, char_length($1)) = $1 AND t.state <> 'void'
             ORDER BY m.cadre_id, m.from_date",
            &[&prefix],
        )?;
        periods(rows)
    }

    fn cadre_assignments(&mut self, cadre_id: &str) -> StoreResult<Vec<Period>> {
        let rows = self.all(
            "SELECT household_id, from_date, to_date FROM p_assignment WHERE cadre_id = $1 AND state <> 'void'
             ORDER BY household_id, from_date",
            &[&cadre_id],
        )?;
        periods(rows)
    }

    fn find_projected(
        &mut self,
        table: &str,
        column: &str,
        value: &str,
    ) -> StoreResult<Vec<String>> {
        let sql = format!("SELECT doc_id FROM {table} WHERE {column} = $1 ORDER BY doc_id");
        self.column(&sql, &[&value])
    }

    fn changes_after(
        &mut self,
        scope: &ScopeFilter,
        after: i64,
        max_bytes: usize,
        limit: usize,
    ) -> StoreResult<Vec<LoggedChange>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let people = match scope {
            ScopeFilter::People(people) => {
                serde_json::to_string(people).map_err(|e| StoreError::Corrupt(e.to_string()))?
            }
            _ => String::new(),
        };
        let (sql, key, upper): (&str, Option<&str>, Option<String>) = match scope {
            ScopeFilter::People(_) => (
                "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE owner IN (SELECT jsonb_array_elements_text($1::text::jsonb))
                 AND village_code IS NULL AND seq > $2 ORDER BY seq LIMIT $3",
                Some(people.as_str()),
                None,
            ),
            ScopeFilter::Village(v) => (
                "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                Some(v),
                None,
            ),
            // The reader rides in the fourth parameter.
            ScopeFilter::VillageFor(v, reader) => (
                "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code = $1 AND seq > $2
                 AND (owner IS NULL OR owner = $4) ORDER BY seq LIMIT $3",
                Some(v),
                Some(reader.clone()),
            ),
            ScopeFilter::Owned(v, reader) => (
                "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code = $1 AND seq > $2
                 AND owner = $4 ORDER BY seq LIMIT $3",
                Some(v),
                Some(reader.clone()),
            ),
            ScopeFilter::Division(prefix) => match digits_upper_bound(prefix) {
                Some(Some(upper)) => (
                    "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code >= $1 AND village_code < $4
                     AND seq > $2 ORDER BY seq LIMIT $3",
                    Some(prefix),
                    Some(upper),
                ),
                Some(None) => (
                    "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code >= $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    Some(prefix),
                    None,
                ),
                None => (
                    "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE left(village_code, char_length($1)) = $1
                     AND seq > $2 ORDER BY seq LIMIT $3",
                    Some(prefix),
                    None,
                ),
            },
            ScopeFilter::Household(h) => (
                "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE household_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                Some(h),
                None,
            ),
            ScopeFilter::Global => (
                "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code IS NULL AND owner IS NULL AND seq > $1
                 ORDER BY seq LIMIT $2",
                None,
                None,
            ),
        };
        let stmt = self.stmt(sql)?;
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(4);
        if let Some(key) = &key {
            params.push(key);
        }
        params.push(&after);
        params.push(&limit);
        if let Some(upper) = &upper {
            params.push(upper);
        }
        // Fetched a few rows at a time so that a page stops at `max_bytes` without the server
        // sending up to `limit` rows that will not be used.
        let portal = self.tx.bind(&stmt, &params)?;
        let mut out = Vec::new();
        let mut bytes = 0;
        loop {
            let rows = self.tx.query_portal(&portal, PAGE_ROWS)?;
            let last = rows.len() < PAGE_ROWS as usize;
            for r in rows {
                let change = logged(&r)?;
                bytes += change.bytes.len();
                if !out.is_empty() && bytes > max_bytes {
                    return Ok(out);
                }
                out.push(change);
            }
            if last {
                return Ok(out);
            }
        }
    }

    fn log_after(&mut self, after: i64, limit: usize) -> StoreResult<Vec<LoggedChange>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.all(
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &limit],
        )?
        .iter()
        .map(logged)
        .collect()
    }

    fn changes_by_hash(&mut self, hashes: &[Vec<u8>]) -> StoreResult<Vec<LoggedChange>> {
        self.all(
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes
             WHERE hash = ANY($1) ORDER BY seq",
            &[&hashes],
        )?
        .iter()
        .map(logged)
        .collect()
    }

    fn unproven_changes(
        &mut self,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, String, Vec<u8>)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.all(
            "SELECT seq, doc_id, hash FROM changes WHERE seq > $1 AND signature IS NULL
             ORDER BY seq LIMIT $2",
            &[&after, &limit],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
    }

    fn attest_change(&mut self, seq: i64, doc_id: &str, hash: &[u8]) -> StoreResult<()> {
        let (signed_by, signature) = super::proof_columns(self.key, doc_id, hash, None);
        self.exec(
            "UPDATE changes SET signed_by = $2, signature = $3 WHERE seq = $1",
            &[&seq, &signed_by, &signature],
        )?;
        Ok(())
    }

    fn server_public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    fn max_seq(&mut self) -> StoreResult<i64> {
        Ok(self
            .one("SELECT coalesce(max(seq), 0) FROM changes", &[])?
            .try_get(0)?)
    }

    fn doc_changes(&mut self, doc_id: &str) -> StoreResult<Vec<Vec<u8>>> {
        self.all(
            "SELECT bytes FROM changes WHERE doc_id = $1 ORDER BY seq",
            &[&doc_id],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn repair_state(&mut self, device_id: &str, doc_id: &str) -> StoreResult<Option<Vec<u8>>> {
        self.opt(
            "SELECT state FROM repair_states WHERE device_id = $1 AND doc_id = $2",
            &[&device_id, &doc_id],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn put_repair_state(&mut self, device_id: &str, doc_id: &str, state: &[u8]) -> StoreResult<()> {
        self.exec(
            "INSERT INTO repair_states (device_id, doc_id, state) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, doc_id) DO UPDATE SET state = excluded.state",
            &[&device_id, &doc_id, &state],
        )?;
        Ok(())
    }

    fn scan_where(
        &mut self,
        table: &str,
        columns: &[&str],
        filter: RowFilter<'_>,
        between: Option<Between<'_>>,
        each: &mut dyn FnMut(&[Value]),
    ) -> StoreResult<()> {
        let (kind, decl) = self
            .tables
            .iter()
            .find(|(_, t)| t.name == table)
            .map(|(k, t)| (*k, *t))
            .ok_or_else(|| StoreError::Corrupt(format!("{table} is not a projection table")))?;
        let types = columns
            .iter()
            .map(|c| {
                decl.column_type(c).ok_or_else(|| {
                    StoreError::Corrupt(format!("{table}.{c} is not a declared projection column"))
                })
            })
            .collect::<StoreResult<Vec<SqlType>>>()?;
        if let Some(b) = between {
            decl.column_type(b.column).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{table}.{} is not a declared projection column",
                    b.column
                ))
            })?;
        }
        let cols: String = columns.iter().map(|c| format!(", t.{c}")).collect();
        // As on SQLite: `d.kind` lets a division be read from `documents_kind_village`. A
        // prefix of digits is a range with the prefix "plus one" as its upper bound (see the
        // module docs on collations).
        let (condition, arg, upper) = match filter {
            RowFilter::All => (
                "$1::text IS NULL AND $3::text IS NULL".to_string(),
                None,
                None,
            ),
            RowFilter::Division(prefix) => match digits_upper_bound(prefix) {
                Some(Some(upper)) => (
                    "d.village_code >= $1 AND d.village_code < $3".to_string(),
                    Some(prefix.to_string()),
                    Some(upper),
                ),
                Some(None) => (
                    "d.village_code >= $1 AND $3::text IS NULL".to_string(),
                    Some(prefix.to_string()),
                    None,
                ),
                None => (
                    "left(d.village_code, char_length($1)) = $1 AND $3::text IS NULL".to_string(),
                    Some(prefix.to_string()),
                    None,
                ),
            },
            RowFilter::Doc(id) => (
                "t.doc_id = $1 AND $3::text IS NULL".to_string(),
                Some(id.to_string()),
                None,
            ),
        };
        // Byte order (`COLLATE "C"`), as SQLite compares: ISO dates and times sort by bytes.
        let range = match between {
            Some(b) => format!(
                " AND t.{c} COLLATE \"C\" >= $4 AND t.{c} COLLATE \"C\" <= $5",
                c = b.column
            ),
            None => " AND $4::text IS NULL AND $5::text IS NULL".to_string(),
        };
        let sql = format!(
            "SELECT t.doc_id, d.received_ts, d.village_code{cols} FROM documents d JOIN {table} t ON t.doc_id = d.id
              WHERE d.kind = $2 AND {condition}{range}"
        );
        let (from, to) = (between.map(|b| b.from), between.map(|b| b.to));
        let stmt = self.stmt(&sql)?;
        let portal = self
            .tx
            .bind(&stmt, &[&arg, &kind.code(), &upper, &from, &to])?;
        let mut values = Vec::with_capacity(columns.len() + 3);
        loop {
            let rows = self.tx.query_portal(&portal, SCAN_ROWS)?;
            let last = rows.len() < SCAN_ROWS as usize;
            for r in rows {
                values.clear();
                values.push(Value::Text(r.try_get(0)?));
                values.push(Value::Text(r.try_get(1)?));
                values.push(
                    r.try_get::<_, Option<String>>(2)?
                        .map_or(Value::Null, Value::Text),
                );
                for (i, ty) in types.iter().enumerate() {
                    let v = match ty {
                        SqlType::Text => r.try_get::<_, Option<String>>(i + 3)?.map(Value::Text),
                        SqlType::Integer => r.try_get::<_, Option<i64>>(i + 3)?.map(Value::Integer),
                        SqlType::Real => r.try_get::<_, Option<f64>>(i + 3)?.map(Value::Real),
                    };
                    values.push(v.unwrap_or(Value::Null));
                }
                each(&values);
            }
            if last {
                return Ok(());
            }
        }
    }

    fn doc_ids_of_kind(
        &mut self,
        kind: Kind,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.column(
            "SELECT id FROM documents WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3",
            &[&kind.code(), &after, &limit],
        )
    }

    fn docs_changed_after(
        &mut self,
        division: Option<&str>,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<ChangedDoc>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.all(
            "SELECT c.m, c.doc_id, d.kind, d.village_code, d.received_ts FROM
               (SELECT doc_id, max(seq) AS m FROM changes
                 WHERE seq > $2 AND ($1::text IS NULL OR village_code IS NULL
                   OR left(village_code, char_length($1)) = $1)
                 GROUP BY doc_id) c
             JOIN documents d ON d.id = c.doc_id ORDER BY c.m LIMIT $3",
            &[&division, &after, &limit],
        )?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(2)?;
                Ok(ChangedDoc {
                    seq: r.try_get(0)?,
                    doc_id: r.try_get(1)?,
                    kind: Kind::from_code(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown kind `{kind}`")))?,
                    village_code: r.try_get(3)?,
                    received_ts: r.try_get(4)?,
                })
            })
            .collect()
    }
}

/// For a prefix of ASCII digits, the least string of digits above every string that starts
/// with it: `Some(Some("5304"))` for `5303`, `Some(Some("531"))` for `5309`, `Some(None)`
/// (no bound) for `99` or the empty prefix. `None` for any other prefix.
fn digits_upper_bound(prefix: &str) -> Option<Option<String>> {
    if !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = prefix.as_bytes().to_vec();
    while let Some(last) = digits.pop() {
        if last < b'9' {
            digits.push(last + 1);
            return Some(Some(digits.into_iter().map(char::from).collect()));
        }
    }
    Some(None)
}

/// A projection value bound with its column's PostgreSQL type: a SQL NULL must be sent as the
/// column's type, and a value of another storage class is converted the way SQLite's column
/// affinity would store it.
struct Param {
    column: &'static str,
    value: ParamValue,
}

enum ParamValue {
    Text(Option<String>),
    Integer(Option<i64>),
    Real(Option<f64>),
}

impl Param {
    fn of(table: &Table, column: &'static str, v: Value) -> StoreResult<Param> {
        let ty = table.column_type(column).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{}.{column} is not a declared projection column",
                table.name
            ))
        })?;
        let mismatch = |v: &Value| {
            StoreError::Corrupt(format!(
                "{}.{column} is {}; {v:?} does not fit",
                table.name,
                ty.sql()
            ))
        };
        let value = match (ty, v) {
            (SqlType::Text, Value::Null) => ParamValue::Text(None),
            (SqlType::Text, Value::Text(s)) => ParamValue::Text(Some(s)),
            (SqlType::Text, Value::Integer(i)) => ParamValue::Text(Some(i.to_string())),
            (SqlType::Text, Value::Real(f)) => ParamValue::Text(Some(f.to_string())),
            (SqlType::Integer, Value::Null) => ParamValue::Integer(None),
            (SqlType::Integer, Value::Integer(i)) => ParamValue::Integer(Some(i)),
            (SqlType::Integer, Value::Real(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                ParamValue::Integer(Some(f as i64))
            }
            (SqlType::Integer, Value::Text(s)) => match s.trim().parse() {
                Ok(i) => ParamValue::Integer(Some(i)),
                Err(_) => return Err(mismatch(&Value::Text(s))),
            },
            (SqlType::Real, Value::Null) => ParamValue::Real(None),
            (SqlType::Real, Value::Real(f)) => ParamValue::Real(Some(f)),
            (SqlType::Real, Value::Integer(i)) => ParamValue::Real(Some(i as f64)),
            (SqlType::Real, Value::Text(s)) => match s.trim().parse() {
                Ok(f) => ParamValue::Real(Some(f)),
                Err(_) => return Err(mismatch(&Value::Text(s))),
            },
            (_, v) => return Err(mismatch(&v)),
        };
        Ok(Param { column, value })
    }

    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match &self.value {
            ParamValue::Text(v) => v,
            ParamValue::Integer(v) => v,
            ParamValue::Real(v) => v,
        }
    }
}

/// [`Period`]s from rows of (place, from_date, to_date).
fn periods(rows: Vec<Row>) -> StoreResult<Vec<Period>> {
    rows.into_iter()
        .map(|r| {
            let to: Option<String> = r.try_get(2)?;
            Period::parse(r.try_get(0)?, r.try_get::<_, &str>(1)?, to.as_deref())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::digits_upper_bound;

    #[test]
    fn a_digit_prefix_is_bounded_by_the_next_prefix() {
        assert_eq!(digits_upper_bound("5303"), Some(Some("5304".to_string())));
        assert_eq!(digits_upper_bound("5309"), Some(Some("531".to_string())));
        assert_eq!(digits_upper_bound("53099"), Some(Some("531".to_string())));
        assert_eq!(digits_upper_bound("999"), Some(None));
        assert_eq!(digits_upper_bound(""), Some(None));
        assert_eq!(digits_upper_bound("53a"), None);
    }
}
