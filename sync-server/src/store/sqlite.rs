//! The SQLite backend: one file, WAL, one writer connection and a few readers.
//!
//! Connections are opened by [`cunji_core::open_connection`] (the pragmas every Cunji
//! connection uses). Writes take the writer's mutex and run in an `IMMEDIATE` transaction;
//! reads take any free reader. Projection tables come from the record kinds' declarations,
//! created with the rest of the schema.

use std::path::Path;
use std::sync::{Arc, Mutex};

use cunji_core::domain::Kind;
use cunji_core::identity::ServerKey;
use cunji_core::projection::Rows;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    Account, Between, ChangeRow, ChangedDoc, DeviceRow, DocRow, HeldRow, LoggedChange, Period,
    ReceivedClock, RowFilter, ScopeFilter, SettingsChange, SettingsRow, StoreError, StoreResult,
    TokenRow, Tx,
};

const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE accounts (
        login          TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        role           TEXT NOT NULL,
        division       TEXT NOT NULL DEFAULT '',
        password_hash  TEXT NOT NULL,
        active         INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE devices (
        device_id      TEXT PRIMARY KEY,
        login          TEXT NOT NULL REFERENCES accounts(login),
        actor          BLOB NOT NULL UNIQUE,
        public_key     BLOB NOT NULL,
        registered_ts  TEXT NOT NULL
    );
    CREATE TABLE tokens (
        hash        BLOB PRIMARY KEY,
        login       TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        expires_ts  TEXT NOT NULL,
        revoked     INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tokens_login ON tokens(login);
    CREATE TABLE server_identity (
        singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
        actor      BLOB NOT NULL,
        secret     BLOB NOT NULL
    );
    CREATE TABLE documents (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        village_code  TEXT,
        household_id  TEXT,
        author_id     TEXT NOT NULL,
        received_ts   TEXT NOT NULL,
        snapshot      BLOB NOT NULL
    );
    CREATE TABLE doc_chunks (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id  TEXT NOT NULL,
        bytes   BLOB NOT NULL
    );
    CREATE INDEX doc_chunks_doc ON doc_chunks(doc_id, seq);
    -- The change log: every change kept, in arrival order; pulls page through it.
    CREATE TABLE changes (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        hash          BLOB NOT NULL UNIQUE,
        doc_id        TEXT NOT NULL,
        village_code  TEXT,
        household_id  TEXT,
        bytes         BLOB NOT NULL,
        device_id     TEXT NOT NULL,
        received_ts   TEXT NOT NULL
    );
    CREATE INDEX changes_village ON changes(village_code, seq);
    CREATE INDEX changes_household ON changes(household_id, seq);
    CREATE TABLE held_changes (
        doc_id     TEXT NOT NULL,
        hash       BLOB NOT NULL,
        bytes      BLOB NOT NULL,
        device_id  TEXT NOT NULL,
        PRIMARY KEY (doc_id, hash)
    );
    CREATE TABLE repair_states (
        device_id  TEXT NOT NULL,
        doc_id     TEXT NOT NULL,
        state      BLOB NOT NULL,
        PRIMARY KEY (device_id, doc_id)
    );
",
    "
    -- 2: the pushing device's clock offset beside the server's received time (R2 drift).
    ALTER TABLE changes ADD COLUMN device_clock_offset_ms INTEGER;
",
    "
    -- 3: reports read the records of one kind from this index, in id order, so that the
    -- projection rows they join are visited in their own key order (sequential pages) and
    -- the documents' large rows are never read; covering: the village filter and the received
    -- time come from the index.
    CREATE INDEX documents_kind_id ON documents(kind, id, village_code, received_ts);
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
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
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
    UPDATE changes SET owner = (SELECT d.author_id FROM documents d WHERE d.id = changes.doc_id)
     WHERE doc_id IN (SELECT id FROM documents WHERE kind IN ('check_in', 'leave', 'work_log'));
    UPDATE changes SET owner = doc_id
     WHERE doc_id IN (SELECT id FROM documents WHERE kind = 'cadre');
    CREATE INDEX changes_owner ON changes(owner, seq);
",
    "
    -- 6: records whose history the server replaced (the `rebuild` module): the old history, kept
    -- here and never served, and why.
    CREATE TABLE rebuilt_documents (
        doc_id       TEXT PRIMARY KEY,
        reason       TEXT NOT NULL,
        old_history  BLOB NOT NULL,
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
    ALTER TABLE changes ADD COLUMN signed_by INTEGER;
    ALTER TABLE changes ADD COLUMN signature BLOB;
    ALTER TABLE held_changes ADD COLUMN signed_by INTEGER;
    ALTER TABLE held_changes ADD COLUMN signature BLOB;
",
];

const READERS: usize = 4;

/// A SQLite database file.
pub struct SqliteDb {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    path: std::path::PathBuf,
    key: Arc<ServerKey>,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteDb {
    pub fn open(path: &Path, key: Arc<ServerKey>) -> StoreResult<SqliteDb> {
        let mut conn = open(path)?;
        migrate(&mut conn, &key)?;
        let readers = (0..READERS)
            .map(|_| open(path))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(SqliteDb {
            writer: Mutex::new(conn),
            readers: Mutex::new(readers),
            path: path.to_path_buf(),
            key,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut t = SqliteTx { tx, key: &self.key };
        let out = f(&mut t)?;
        t.tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    pub fn read<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        let conn = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match conn {
            Some(c) => c,
            None => open(&self.path)?,
        };
        let result = (|| {
            let tx = conn.transaction().map_err(StoreError::from)?;
            let mut t = SqliteTx { tx, key: &self.key };
            let out = f(&mut t)?;
            t.tx.commit().map_err(StoreError::from)?;
            Ok(out)
        })();
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(conn);
        result
    }
}

/// Page cache per connection, in KiB (SQLite's default is 2 MiB). A city-wide report reads a
/// few hundred MB of index and table pages; with the default cache every page came back from
/// the kernel through a `pread` copy (7% of a report's profile). Five connections stay under
/// 320 MiB, and a cache only grows as far as it is used.
const CACHE_KIB: i64 = 64 * 1024;

fn open(path: &Path) -> StoreResult<Connection> {
    let conn = cunji_core::open_connection(path).map_err(|e| match e {
        cunji_core::Error::Sqlite(e) => StoreError::Sqlite(e),
        other => StoreError::Corrupt(other.to_string()),
    })?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, key: &ServerKey) -> StoreResult<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let started = std::time::Instant::now();
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        if found > 0 {
            tracing::info!(
                version = i + 1,
                seconds = started.elapsed().as_secs_f64(),
                "schema migrated"
            );
        }
    }
    // Projection tables follow the kinds' declarations, exactly as on a device (the same
    // function); the tables of a kind whose declaration changed are refilled from the documents.
    // New declarations and the refill of their tables commit together: recorded apart, a
    // refill cut short would leave empty tables no later start knows to refill.
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS projection_tables (name TEXT PRIMARY KEY, kind TEXT NOT NULL, ddl TEXT NOT NULL)",
    )?;
    let tx = conn.transaction()?;
    let stale = cunji_core::store::schema::sync_projection_tables(&tx).map_err(|e| match e {
        cunji_core::Error::Sqlite(e) => StoreError::Sqlite(e),
        other => StoreError::Corrupt(other.to_string()),
    })?;
    let mut t = SqliteTx { tx, key };
    for kind in stale {
        let started = std::time::Instant::now();
        let records = super::refill_projections(&mut t, kind)?;
        if records == 0 {
            continue;
        }
        tracing::info!(
            kind = kind.code(),
            records,
            seconds = started.elapsed().as_secs_f64(),
            "projection tables refilled"
        );
    }
    for (table, column) in super::PERIOD_COLUMNS {
        t.tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS {table}_period ON {table}({column})"
        ))?;
    }
    t.tx.commit()?;
    Ok(())
}

struct SqliteTx<'a> {
    tx: rusqlite::Transaction<'a>,
    key: &'a ServerKey,
}

fn role_from(s: String) -> rusqlite::Result<cunji_core::domain::Role> {
    s.parse()
        .map_err(|_| rusqlite::Error::InvalidColumnType(0, s, rusqlite::types::Type::Text))
}

impl Tx for SqliteTx<'_> {
    fn put_account(&mut self, a: &Account) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO accounts (login, name, role, division, password_hash, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (login) DO UPDATE SET name = excluded.name, role = excluded.role,
               division = excluded.division, password_hash = excluded.password_hash, active = excluded.active",
            params![a.login, a.name, a.role.code(), a.division, a.password_hash, a.active],
        )?;
        Ok(())
    }

    fn account(&mut self, login: &str) -> StoreResult<Option<Account>> {
        Ok(self
            .tx
            .query_row(
                "SELECT login, name, role, division, password_hash, active FROM accounts WHERE login = ?1",
                [login],
                |r| {
                    Ok(Account {
                        login: r.get(0)?,
                        name: r.get(1)?,
                        role: role_from(r.get(2)?)?,
                        division: r.get(3)?,
                        password_hash: r.get(4)?,
                        active: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    fn put_device(&mut self, d: &DeviceRow) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO devices (device_id, login, actor, public_key, registered_ts, revoked_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![d.device_id, d.login, d.actor, d.public_key, d.registered_ts, d.revoked_ts],
        )?;
        Ok(())
    }

    fn device(&mut self, device_id: &str) -> StoreResult<Option<DeviceRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT device_id, login, actor, public_key, registered_ts, revoked_ts FROM devices WHERE device_id = ?1",
                [device_id],
                device_row,
            )
            .optional()?)
    }

    fn device_by_actor(&mut self, actor: &[u8]) -> StoreResult<Option<DeviceRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT device_id, login, actor, public_key, registered_ts, revoked_ts FROM devices WHERE actor = ?1",
                [actor],
                device_row,
            )
            .optional()?)
    }

    fn put_token(&mut self, t: &TokenRow) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO tokens (hash, login, device_id, expires_ts, revoked) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![t.hash, t.login, t.device_id, t.expires_ts, t.revoked],
        )?;
        Ok(())
    }

    fn token(&mut self, hash: &[u8]) -> StoreResult<Option<TokenRow>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT hash, login, device_id, expires_ts, revoked FROM tokens WHERE hash = ?1",
            )?
            .query_row([hash], |r| {
                Ok(TokenRow {
                    hash: r.get(0)?,
                    login: r.get(1)?,
                    device_id: r.get(2)?,
                    expires_ts: r.get(3)?,
                    revoked: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn revoke_tokens(&mut self, login: &str) -> StoreResult<usize> {
        Ok(self.tx.execute(
            "UPDATE tokens SET revoked = 1 WHERE login = ?1 AND revoked = 0",
            [login],
        )?)
    }

    fn devices_of(&mut self, login: &str) -> StoreResult<Vec<DeviceRow>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT device_id, login, actor, public_key, registered_ts, revoked_ts FROM devices
             WHERE login = ?1 ORDER BY registered_ts, device_id",
        )?;
        let rows = stmt
            .query_map([login], device_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn revoke_device(&mut self, device_id: &str, ts: &str) -> StoreResult<bool> {
        let n = self.tx.execute(
            "UPDATE devices SET revoked_ts = ?2 WHERE device_id = ?1 AND revoked_ts IS NULL",
            params![device_id, ts],
        )?;
        self.tx.execute(
            "UPDATE tokens SET revoked = 1 WHERE device_id = ?1 AND revoked = 0",
            [device_id],
        )?;
        Ok(n == 1)
    }

    fn county_settings(&mut self, county_code: &str) -> StoreResult<Option<SettingsRow>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT county_code, settings_json, updated_by, updated_ts FROM county_settings
                 WHERE county_code = ?1",
            )?
            .query_row([county_code], |r| {
                Ok(SettingsRow {
                    county_code: r.get(0)?,
                    settings_json: r.get(1)?,
                    updated_by: r.get(2)?,
                    updated_ts: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn put_county_settings(&mut self, row: &SettingsRow) -> StoreResult<()> {
        let old = self.county_settings(&row.county_code)?;
        self.tx.execute(
            "INSERT INTO county_settings (county_code, settings_json, updated_by, updated_ts)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (county_code) DO UPDATE SET settings_json = excluded.settings_json,
               updated_by = excluded.updated_by, updated_ts = excluded.updated_ts",
            params![
                row.county_code,
                row.settings_json,
                row.updated_by,
                row.updated_ts
            ],
        )?;
        self.tx.execute(
            "INSERT INTO county_settings_history (county_code, old_json, new_json, changed_by, changed_ts)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                row.county_code,
                old.map(|o| o.settings_json),
                row.settings_json,
                row.updated_by,
                row.updated_ts
            ],
        )?;
        Ok(())
    }

    fn county_settings_history(&mut self, county_code: &str) -> StoreResult<Vec<SettingsChange>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT county_code, old_json, new_json, changed_by, changed_ts
             FROM county_settings_history WHERE county_code = ?1 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([county_code], |r| {
                Ok(SettingsChange {
                    county_code: r.get(0)?,
                    old_json: r.get(1)?,
                    new_json: r.get(2)?,
                    changed_by: r.get(3)?,
                    changed_ts: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn county_known(&mut self, county_code: &str) -> StoreResult<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM p_village WHERE substr(code, 1, length(?1)) = ?1)
                 OR EXISTS (SELECT 1 FROM accounts WHERE substr(division, 1, length(?1)) = ?1)",
            )?
            .query_row([county_code], |r| r.get(0))?)
    }

    fn server_identity(&mut self) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .tx
            .query_row("SELECT actor, secret FROM server_identity", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    fn put_server_identity(&mut self, actor: &[u8], secret: &[u8]) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO server_identity (singleton, actor, secret) VALUES (1, ?1, ?2)",
            params![actor, secret],
        )?;
        Ok(())
    }

    fn doc(&mut self, id: &str) -> StoreResult<Option<DocRow>> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT id, kind, village_code, household_id, author_id, received_ts, snapshot FROM documents WHERE id = ?1",
            )?
            .query_row([id], |r| {
                let kind: String = r.get(1)?;
                Ok(DocRow {
                    id: r.get(0)?,
                    kind: Kind::from_code(&kind).unwrap_or(Kind::Village),
                    village_code: r.get(2)?,
                    household_id: r.get(3)?,
                    author_id: r.get(4)?,
                    received_ts: r.get(5)?,
                    snapshot: r.get(6)?,
                    chunks: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut row) = row else { return Ok(None) };
        let mut stmt = self
            .tx
            .prepare_cached("SELECT bytes FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")?;
        row.chunks = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(row))
    }

    fn insert_doc(&mut self, d: &DocRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO documents (id, kind, village_code, household_id, author_id, received_ts, snapshot)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![d.id, d.kind.code(), d.village_code, d.household_id, d.author_id, d.received_ts, d.snapshot])?;
        Ok(())
    }

    fn append_doc_chunk(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()> {
        self.tx
            .prepare_cached("INSERT INTO doc_chunks (doc_id, bytes) VALUES (?1, ?2)")?
            .execute(params![id, bytes])?;
        Ok(())
    }

    fn replace_doc_snapshot(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE documents SET snapshot = ?2 WHERE id = ?1")?
            .execute(params![id, bytes])?;
        self.tx
            .prepare_cached("DELETE FROM doc_chunks WHERE doc_id = ?1")?
            .execute([id])?;
        Ok(())
    }

    fn has_change(&mut self, hash: &[u8]) -> StoreResult<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM changes WHERE hash = ?1")?
            .query_row([hash], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn drop_history(
        &mut self,
        doc_id: &str,
        old_history: &[u8],
        old_changes: &[Vec<u8>],
        reason: &str,
        now: &str,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO rebuilt_documents (doc_id, reason, old_history, rebuilt_ts)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![doc_id, reason, old_history, now])?;
        let mut delete = self
            .tx
            .prepare_cached("DELETE FROM changes WHERE hash = ?1 AND doc_id = ?2")?;
        for hash in old_changes {
            delete.execute(params![hash, doc_id])?;
        }
        drop(delete);
        for sql in [
            "DELETE FROM documents WHERE id = ?1",
            "DELETE FROM doc_chunks WHERE doc_id = ?1",
            "DELETE FROM held_changes WHERE doc_id = ?1",
            "DELETE FROM repair_states WHERE doc_id = ?1",
        ] {
            self.tx.prepare_cached(sql)?.execute([doc_id])?;
        }
        Ok(())
    }

    fn is_rebuilt(&mut self, doc_id: &str) -> StoreResult<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM rebuilt_documents WHERE doc_id = ?1")?
            .query_row([doc_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn data_migration_done(&mut self, name: &str) -> StoreResult<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM data_migrations WHERE name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn mark_data_migration_done(&mut self, name: &str, now: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO data_migrations (name, done_ts) VALUES (?1, ?2)",
            )?
            .execute([name, now])?;
        Ok(())
    }

    fn insert_change(&mut self, c: &ChangeRow) -> StoreResult<i64> {
        let (signed_by, signature) =
            super::proof_columns(self.key, &c.doc_id, &c.hash, c.proof.as_ref());
        self.tx
            .prepare_cached(
                "INSERT INTO changes (hash, doc_id, village_code, household_id, bytes, device_id, received_ts, device_clock_offset_ms, owner, signed_by, signature)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![c.hash, c.doc_id, c.village_code, c.household_id, c.bytes, c.device_id, c.received_ts, c.device_clock_offset_ms, c.owner, signed_by, signature])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn received_clock(&mut self, doc_id: &str) -> StoreResult<Option<ReceivedClock>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT received_ts, device_clock_offset_ms FROM changes WHERE doc_id = ?1
                 ORDER BY seq LIMIT 1",
            )?
            .query_row([doc_id], |r| {
                Ok(ReceivedClock {
                    received_ts: r.get(0)?,
                    device_clock_offset_ms: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn hold_change(&mut self, doc_id: &str, h: &HeldRow) -> StoreResult<()> {
        let (signed_by, signature) = super::held_proof_columns(h.proof.as_ref());
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO held_changes (doc_id, hash, bytes, device_id, signed_by, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![doc_id, h.hash, h.bytes, h.device_id, signed_by, signature])?;
        Ok(())
    }

    fn held_changes(&mut self, doc_id: &str) -> StoreResult<Vec<HeldRow>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT hash, bytes, device_id, signed_by, signature FROM held_changes WHERE doc_id = ?1")?;
        let rows = stmt
            .query_map([doc_id], |r| {
                Ok(HeldRow {
                    hash: r.get(0)?,
                    bytes: r.get(1)?,
                    device_id: r.get(2)?,
                    proof: super::proof_of(r.get(3)?, r.get(4)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn release_held(&mut self, doc_id: &str, hash: &[u8]) -> StoreResult<()> {
        self.tx
            .prepare_cached("DELETE FROM held_changes WHERE doc_id = ?1 AND hash = ?2")?
            .execute(params![doc_id, hash])?;
        Ok(())
    }

    fn replace_projection(&mut self, kind: Kind, doc_id: &str, rows: Rows) -> StoreResult<()> {
        write_rows(&self.tx, kind, doc_id, rows)
    }

    fn household_village(&mut self, household_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT village_code FROM p_household WHERE doc_id = ?1")?
            .query_row([household_id], |r| r.get(0))
            .optional()?)
    }

    fn entitlement_household(&mut self, entitlement_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT household_id FROM p_entitlement WHERE doc_id = ?1")?
            .query_row([entitlement_id], |r| r.get(0))
            .optional()?)
    }

    fn cadre_teams(&mut self, cadre_id: &str) -> StoreResult<Vec<Period>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT m.village_code, m.from_date, m.to_date FROM p_team_member m JOIN p_team t ON t.doc_id = m.doc_id
             WHERE m.cadre_id = ?1 AND t.state <> 'void' ORDER BY m.village_code, m.from_date",
        )?;
        periods(stmt.query([cadre_id])?)
    }

    fn team_members_under(&mut self, prefix: &str) -> StoreResult<Vec<Period>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT m.cadre_id, m.from_date, m.to_date FROM p_team_member m JOIN p_team t ON t.doc_id = m.doc_id
             WHERE m.village_code >= ?1 AND m.village_code < ?1 || x'ff' AND t.state <> 'void'
             ORDER BY m.cadre_id, m.from_date",
        )?;
        periods(stmt.query([prefix])?)
    }

    fn cadre_assignments(&mut self, cadre_id: &str) -> StoreResult<Vec<Period>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT household_id, from_date, to_date FROM p_assignment WHERE cadre_id = ?1 AND state <> 'void'
             ORDER BY household_id, from_date",
        )?;
        periods(stmt.query([cadre_id])?)
    }

    fn find_projected(
        &mut self,
        table: &str,
        column: &str,
        value: &str,
    ) -> StoreResult<Vec<String>> {
        let sql = format!("SELECT doc_id FROM {table} WHERE {column} = ?1 ORDER BY doc_id");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows = stmt
            .query_map([value], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn changes_after(
        &mut self,
        scope: &ScopeFilter,
        after: i64,
        max_bytes: usize,
        limit: usize,
    ) -> StoreResult<Vec<LoggedChange>> {
        let (sql, arg, reader) = pull_query(scope)?;
        let mut stmt = self.tx.prepare_cached(sql)?;
        let mut rows = match reader {
            Some(reader) => stmt.query(params![arg, after, limit as i64, reader])?,
            None => stmt.query(params![arg, after, limit as i64])?,
        };
        let mut out = Vec::new();
        let mut bytes = 0;
        while let Some(r) = rows.next()? {
            let change = logged(r)?;
            bytes += change.bytes.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(change);
        }
        Ok(out)
    }

    fn log_after(&mut self, after: i64, limit: usize) -> StoreResult<Vec<LoggedChange>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let mut rows = stmt.query(params![after, limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(logged(r)?);
        }
        Ok(out)
    }

    fn changes_by_hash(&mut self, hashes: &[Vec<u8>]) -> StoreResult<Vec<LoggedChange>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE hash = ?1",
        )?;
        let mut out = Vec::new();
        for hash in hashes {
            let mut rows = stmt.query([hash])?;
            if let Some(r) = rows.next()? {
                out.push(logged(r)?);
            }
        }
        Ok(out)
    }

    fn unproven_changes(
        &mut self,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, String, Vec<u8>)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, doc_id, hash FROM changes WHERE seq > ?1 AND signature IS NULL
             ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn attest_change(&mut self, seq: i64, doc_id: &str, hash: &[u8]) -> StoreResult<()> {
        let (signed_by, signature) = super::proof_columns(self.key, doc_id, hash, None);
        self.tx
            .prepare_cached("UPDATE changes SET signed_by = ?2, signature = ?3 WHERE seq = ?1")?
            .execute(params![seq, signed_by, signature])?;
        Ok(())
    }

    fn server_public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    fn max_seq(&mut self) -> StoreResult<i64> {
        Ok(self
            .tx
            .query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })?)
    }

    fn doc_changes(&mut self, doc_id: &str) -> StoreResult<Vec<Vec<u8>>> {
        let mut stmt = self
            .tx
            .prepare("SELECT bytes FROM changes WHERE doc_id = ?1 ORDER BY seq")?;
        let rows = stmt
            .query_map([doc_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn repair_state(&mut self, device_id: &str, doc_id: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .tx
            .prepare_cached("SELECT state FROM repair_states WHERE device_id = ?1 AND doc_id = ?2")?
            .query_row([device_id, doc_id], |r| r.get(0))
            .optional()?)
    }

    fn put_repair_state(&mut self, device_id: &str, doc_id: &str, state: &[u8]) -> StoreResult<()> {
        self.tx
            .prepare_cached("INSERT OR REPLACE INTO repair_states (device_id, doc_id, state) VALUES (?1, ?2, ?3)")?
            .execute(params![device_id, doc_id, state])?;
        Ok(())
    }

    fn scan_where(
        &mut self,
        table: &str,
        columns: &[&str],
        filter: RowFilter<'_>,
        between: Option<Between<'_>>,
        each: &mut dyn FnMut(&[rusqlite::types::Value]),
    ) -> StoreResult<()> {
        let kind = super::kind_of_table(table)
            .ok_or_else(|| StoreError::Corrupt(format!("{table} is not a projection table")))?;
        let cols: String = columns.iter().map(|c| format!(", t.{c}")).collect();
        // `d.kind` is implied by the table; naming it lets SQLite read the kind's documents
        // from the covering index `documents_kind_id` in id order and look each projection row
        // up in key order (measured: reading by (kind, village_code) made a city-wide report
        // look rows up in random order, a page read per row). A county scans the kind's index
        // entries (about 100 bytes each) and reads only its own projection rows.
        let (condition, arg) = match filter {
            RowFilter::All => ("?1 IS NULL", None),
            RowFilter::Division(prefix) => (
                "d.village_code >= ?1 AND d.village_code < ?1 || x'ff'",
                Some(prefix),
            ),
            RowFilter::Doc(id) => ("t.doc_id = ?1 AND d.id = ?1", Some(id)),
        };
        let range = match between {
            Some(b) => format!(" AND t.{} BETWEEN ?3 AND ?4", b.column),
            None => " AND ?3 IS NULL AND ?4 IS NULL".to_string(),
        };
        // A period over a wide scope starts from the period: a month of the city's check-ins
        // is a 1/18 of them, fewer than a county's of every month (1/9), and each is looked up
        // in the covering index. A township or village has fewer rows of its own than the
        // city has in any period, so it starts from the scope as above.
        let by_period = between.is_some_and(|b| {
            super::PERIOD_COLUMNS.contains(&(table, b.column))
                && match filter {
                    RowFilter::All => true,
                    RowFilter::Division(prefix) => prefix.len() <= super::COUNTY_CODE_LEN,
                    RowFilter::Doc(_) => false,
                }
        });
        let sql = if by_period {
            // CROSS JOIN keeps SQLite from reordering the loops (it has no statistics).
            format!(
                "SELECT t.doc_id, d.received_ts, d.village_code{cols}
                   FROM {table} t INDEXED BY {table}_period
                  CROSS JOIN documents d INDEXED BY documents_kind_id
                  WHERE d.kind = ?2 AND d.id = t.doc_id AND {condition}{range}"
            )
        } else {
            format!(
                "SELECT t.doc_id, d.received_ts, d.village_code{cols}
                   FROM documents d JOIN {table} t ON t.doc_id = d.id
                  WHERE d.kind = ?2 AND {condition}{range}"
            )
        };
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![
            arg,
            kind.code(),
            between.map(|b| b.from),
            between.map(|b| b.to)
        ])?;
        let n = columns.len() + 3;
        let mut values = Vec::with_capacity(n);
        while let Some(r) = rows.next()? {
            values.clear();
            for i in 0..n {
                values.push(r.get::<_, rusqlite::types::Value>(i)?);
            }
            each(&values);
        }
        Ok(())
    }

    fn doc_ids_of_kind(
        &mut self,
        kind: Kind,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id FROM documents WHERE kind = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![kind.code(), after, limit as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn docs_changed_after(
        &mut self,
        division: Option<&str>,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<ChangedDoc>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT c.m, c.doc_id, d.kind, d.village_code, d.received_ts FROM
               (SELECT doc_id, max(seq) AS m FROM changes
                 WHERE seq > ?2 AND (?1 IS NULL OR village_code IS NULL
                   OR (village_code >= ?1 AND village_code < ?1 || x'ff'))
                 GROUP BY doc_id) c
             JOIN documents d ON d.id = c.doc_id ORDER BY c.m LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![division, after, limit as i64], |r| {
                let kind: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, kind, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<Vec<(i64, String, String, Option<String>, String)>>>()?;
        rows.into_iter()
            .map(|(seq, doc_id, kind, village_code, received_ts)| {
                Ok(ChangedDoc {
                    seq,
                    kind: Kind::from_code(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown kind `{kind}`")))?,
                    doc_id,
                    village_code,
                    received_ts,
                })
            })
            .collect()
    }
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        device_id: r.get(0)?,
        login: r.get(1)?,
        actor: r.get(2)?,
        public_key: r.get(3)?,
        registered_ts: r.get(4)?,
        revoked_ts: r.get(5)?,
    })
}

/// Replaces a record's rows in its kind's projection tables (the same code as a device's).
pub(crate) fn write_rows(
    tx: &rusqlite::Transaction<'_>,
    kind: Kind,
    doc_id: &str,
    rows: Rows,
) -> StoreResult<()> {
    Ok(cunji_core::store::replace_projection_rows(
        tx, doc_id, kind, rows,
    )?)
}

/// Refills the projection tables of `kinds` from the merged documents.
/// A pull's query for `scope`, with its arguments: the scope's value (`?1`) and the reader
/// (`?4`). Each reads the log through the index of its scope's column (`changes_village`,
/// `changes_owner`, `changes_household`), in `seq` order. A term on the other column is
/// written `+column` so that the planner cannot choose that column's index instead: without
/// statistics it took `changes_owner` for the global scope (every household-level change of
/// the city has no owner either: a new phone's first sync read the whole log, page after
/// page), and `changes_village` for a cadre's file (every change of reference data).
/// `scope_queries_read_through_their_index` checks each plan.
fn pull_query(scope: &ScopeFilter) -> StoreResult<(&'static str, Option<String>, Option<&str>)> {
    Ok(match scope {
        ScopeFilter::People(people) => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE owner IN (SELECT value FROM json_each(?1))
             AND +village_code IS NULL AND seq > ?2 ORDER BY seq LIMIT ?3",
            Some(serde_json::to_string(people).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None,
        ),
        ScopeFilter::Village(v) => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            Some(v.clone()),
            None,
        ),
        ScopeFilter::VillageFor(v, reader) => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code = ?1 AND seq > ?2
             AND (owner IS NULL OR owner = ?4) ORDER BY seq LIMIT ?3",
            Some(v.clone()),
            Some(reader.as_str()),
        ),
        ScopeFilter::Owned(v, reader) => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code = ?1 AND seq > ?2
             AND +owner = ?4 ORDER BY seq LIMIT ?3",
            Some(v.clone()),
            Some(reader.as_str()),
        ),
        ScopeFilter::Division(prefix) => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code >= ?1 AND village_code < ?1 || x'ff'
             AND seq > ?2 ORDER BY seq LIMIT ?3",
            Some(prefix.clone()),
            None,
        ),
        ScopeFilter::Household(h) => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE household_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            Some(h.clone()),
            None,
        ),
        ScopeFilter::Global => (
            "SELECT seq, doc_id, bytes, device_id, signed_by, signature FROM changes WHERE village_code IS NULL AND +owner IS NULL
             AND (?1 IS NULL) AND seq > ?2 ORDER BY seq LIMIT ?3",
            None,
            None,
        ),
    })
}

/// A change log row of (seq, doc_id, bytes, device_id, signed_by, signature).
fn logged(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoggedChange> {
    Ok(LoggedChange {
        seq: r.get(0)?,
        doc_id: r.get(1)?,
        bytes: r.get(2)?,
        device_id: r.get(3)?,
        proof: super::proof_of(r.get(4)?, r.get(5)?),
    })
}

/// [`Period`]s from rows of (place, from_date, to_date).
fn periods(mut rows: rusqlite::Rows<'_>) -> StoreResult<Vec<Period>> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let (place, from, to): (String, String, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?);
        out.push(Period::parse(place, &from, to.as_deref())?);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The plan SQLite chooses for `scope`'s pull, one line per step. SQLite keeps no
    /// statistics here (nothing runs `ANALYZE`), so the plan depends on the query and the
    /// indexes, not on the data: an empty file plans as the city's does.
    fn plan(conn: &Connection, scope: &ScopeFilter) -> String {
        let (sql, arg, reader) = pull_query(scope).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let mut rows = match reader {
            Some(reader) => stmt.query(params![arg, 0, 10, reader]).unwrap(),
            None => stmt.query(params![arg, 0, 10]).unwrap(),
        };
        let mut out = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            out.push(r.get::<_, String>(3).unwrap());
        }
        out.join("\n")
    }

    #[test]
    fn scope_queries_read_through_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDb::open(
            &dir.path().join("plan.sqlite3"),
            Arc::new(ServerKey::generate()),
        )
        .unwrap();
        let conn = db.writer.lock().unwrap();
        let v = "530322101201".to_string();
        for (scope, index) in [
            (
                ScopeFilter::Global,
                "changes_village (village_code=? AND seq>?)",
            ),
            (
                ScopeFilter::People(vec!["cadre-a".into(), "cadre-b".into()]),
                "changes_owner (owner=? AND seq>?)",
            ),
            (
                ScopeFilter::Village(v.clone()),
                "changes_village (village_code=? AND seq>?)",
            ),
            (
                ScopeFilter::VillageFor(v.clone(), "cadre-a".into()),
                "changes_village (village_code=? AND seq>?)",
            ),
            (
                ScopeFilter::Owned("530322".into(), "cadre-a".into()),
                "changes_village (village_code=? AND seq>?)",
            ),
            (
                ScopeFilter::Division("530322".into()),
                "changes_village (village_code>? AND village_code<?)",
            ),
            (
                ScopeFilter::Household("hh-1".into()),
                "changes_household (household_id=? AND seq>?)",
            ),
        ] {
            let plan = plan(&conn, &scope);
            assert!(
                plan.contains(&format!("SEARCH changes USING INDEX {index}")),
                "{scope:?}:\n{plan}"
            );
        }
    }
}
