//! The store's schema: versioned migrations for its own tables, and the projection tables
//! that follow the record kinds' declarations.
//!
//! Migrations are numbered SQL scripts applied in order inside one transaction each;
//! `PRAGMA user_version` holds the number applied. A database from a newer build is refused
//! rather than guessed at. Projection tables are not migrated: each table's DDL is recorded in
//! `projection_tables`, and when a kind's declaration changes its tables are dropped, created
//! anew and refilled from the documents, which are the only source of truth.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::domain::{Kind, all_tables};
use crate::error::{Error, Result};

/// Each entry is one migration; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: documents, change chunks, held changes, outbox, cursors, device identity.
    "
    CREATE TABLE device (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        device_id   TEXT NOT NULL,
        actor       BLOB NOT NULL,
        secret_key  BLOB NOT NULL,
        public_key  BLOB NOT NULL,
        created_ts  TEXT NOT NULL
    );
    -- One row per record: the folded snapshot plus the size of the chunks not yet folded.
    CREATE TABLE documents (
        id              TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        snapshot        BLOB,
        snapshot_bytes  INTEGER NOT NULL DEFAULT 0,
        chunk_bytes     INTEGER NOT NULL DEFAULT 0,
        updated_ts      TEXT NOT NULL
    );
    CREATE INDEX documents_kind ON documents(kind);
    -- Incremental changes applied since the snapshot, in the order they were applied.
    CREATE TABLE doc_chunks (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        bytes   BLOB NOT NULL
    );
    CREATE INDEX doc_chunks_doc ON doc_chunks(doc_id, seq);
    -- Changes received before the changes they depend on; applied when those arrive.
    CREATE TABLE held_changes (
        doc_id       TEXT NOT NULL,
        hash         BLOB NOT NULL,
        bytes        BLOB NOT NULL,
        received_ts  TEXT NOT NULL,
        PRIMARY KEY (doc_id, hash)
    );
    -- Local changes no server has acknowledged yet, each signed by this device. The change
    -- bytes are read from the document when pushed, not stored twice.
    CREATE TABLE outbox (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id      TEXT NOT NULL,
        hash        BLOB NOT NULL UNIQUE,
        signature   BLOB NOT NULL,
        created_ts  TEXT NOT NULL
    );
    CREATE TABLE sync_cursors (
        scope       TEXT PRIMARY KEY,
        cursor      INTEGER NOT NULL,
        updated_ts  TEXT NOT NULL
    );
    -- Fields that hold several values after a merge, waiting for a person to settle them.
    CREATE TABLE conflicts (
        doc_id       TEXT NOT NULL,
        path         TEXT NOT NULL,
        value_count  INTEGER NOT NULL,
        PRIMARY KEY (doc_id, path)
    );
    -- Merged records that break a rule no single edit broke (two heads of household...).
    CREATE TABLE record_problems (
        doc_id   TEXT PRIMARY KEY,
        field    TEXT NOT NULL,
        problem  TEXT NOT NULL,
        message  TEXT NOT NULL
    );
    CREATE TABLE projection_tables (
        name  TEXT PRIMARY KEY,
        kind  TEXT NOT NULL,
        ddl   TEXT NOT NULL
    );
    ",
    // 2: changes a server refused, kept with its reason for the cadre to see.
    "
    CREATE TABLE rejected_changes (
        hash         BLOB PRIMARY KEY,
        doc_id       TEXT NOT NULL,
        code         TEXT NOT NULL,
        message      TEXT NOT NULL,
        rejected_ts  TEXT NOT NULL
    );
    ",
    // 3: the server's last measure of this device's clock (R2), for the app to warn about.
    "
    CREATE TABLE clock_offset (
        singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
        offset_ms    INTEGER NOT NULL,
        measured_ts  TEXT NOT NULL
    );
    ",
    // 4: the field app's own tables (`app`): its session, its form drafts and the county's
    // settings as last fetched. Builds before this one made them when the app opened, with
    // this same DDL, so a device's store may already hold them with their rows.
    "
    CREATE TABLE IF NOT EXISTS app_session (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        server_url TEXT NOT NULL, login TEXT NOT NULL, token TEXT NOT NULL,
        expires_at TEXT NOT NULL, cadre_id TEXT NOT NULL, role TEXT NOT NULL,
        last_sync TEXT);
    CREATE TABLE IF NOT EXISTS app_drafts (
        form TEXT PRIMARY KEY, json TEXT NOT NULL, saved_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS app_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        json TEXT NOT NULL, fetched_at TEXT NOT NULL);
    ",
    // 5: this device's unsent edits of records whose history the server rebuilt, waiting to
    // be made again on the new history (`rebuilt`): the record before and after them, as JSON.
    "
    CREATE TABLE rebuilt_edits (
        doc_id     TEXT PRIMARY KEY,
        hash       BLOB NOT NULL,
        cadre_id   TEXT NOT NULL,
        base_json  TEXT NOT NULL,
        mine_json  TEXT NOT NULL,
        saved_ts   TEXT NOT NULL
    );
    ",
    // 6: the keys this device trusts to prove who wrote what it pulls (`sync::proof`): the
    // first key it accepted for each device actor, and the sync server's.
    "
    CREATE TABLE known_keys (
        actor       BLOB PRIMARY KEY,
        public_key  BLOB NOT NULL,
        kept_ts     TEXT NOT NULL
    );
    CREATE TABLE server_key (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        public_key  BLOB NOT NULL,
        kept_ts     TEXT NOT NULL
    );
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations the database lacks.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Creates or recreates projection tables whose declaration changed, in the caller's
/// transaction; returns the kinds whose tables must be refilled from the documents. The caller
/// refills them in the same transaction: the new declaration is recorded here, so a refill
/// committed apart from it and cut short (a killed process, a full disk) would leave empty
/// tables that no later start knows to refill.
pub fn sync_projection_tables(tx: &Transaction<'_>) -> Result<Vec<Kind>> {
    let mut stale: Vec<Kind> = Vec::new();
    let mut seen: Vec<Kind> = Vec::new();
    for (kind, table) in all_tables() {
        // A kind's first table holds one row per record.
        let main = !seen.contains(&kind);
        seen.push(kind);
        let ddl = table.ddl_for(main);
        let recorded: Option<String> = tx
            .query_row(
                "SELECT ddl FROM projection_tables WHERE name = ?1",
                [table.name],
                |r| r.get(0),
            )
            .optional()?;
        if recorded.as_deref() == Some(ddl.as_str()) {
            continue;
        }
        tx.execute_batch(&format!("DROP TABLE IF EXISTS {};", table.name))?;
        tx.execute_batch(&ddl)?;
        tx.execute(
            "INSERT OR REPLACE INTO projection_tables (name, kind, ddl) VALUES (?1, ?2, ?3)",
            params![table.name, kind.code(), ddl],
        )?;
        if !stale.contains(&kind) {
            stale.push(kind);
        }
    }
    Ok(stale)
}
