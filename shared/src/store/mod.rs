//! The local store: every record's Automerge document in one SQLite file, with the outbox of
//! changes to push, the sync cursors and the projection tables that screens and rules read.
//!
//! ## Tables
//! - `documents`: one row per record, its folded snapshot; `doc_chunks`: the changes applied
//!   since. Loading a record is its snapshot plus its chunks. When the chunks outgrow the
//!   snapshot (and [`FOLD_MIN_BYTES`]) they are folded into a new snapshot, so neither a
//!   long-edited record nor a write of a new one pays for a full save each time.
//! - `outbox`: each local change with its Ed25519 signature until a server acknowledges it.
//! - `held_changes`: changes from other replicas whose dependencies have not arrived; they are
//!   applied as soon as they can be, and never dropped.
//! - `sync_cursors`: per-scope server sequence numbers, written in the same transaction as
//!   the changes of the page they end.
//! - `clock_offset`: how far the server last found this device's clock off ([`ClockOffset`]).
//! - `conflicts`, `record_problems`: fields left with two values by a merge, and merged
//!   records that break a rule, for a person to settle.
//! - `p_*`: one projection table (or a few) per record kind ([`crate::projection`]); the
//!   field app's screens read them through the typed methods of `screens`.
//! - `app_session`, `app_drafts`, `app_settings`: the field app's own state, which never
//!   syncs ([`AppSession`]; the typed methods of `app`).
//!
//! [`Store::compact`] re-encodes every document in Automerge's compact form and gives the
//! freed pages back, keeping every change ([`compact`] says what it does not do).
//!
//! Every write (document, chunk, outbox, projection) happens in one SQLite transaction: after
//! a crash a record is either there with its projection and its outbox entry, or not at all.
//!
//! ## Encryption at rest
//! The app opens its store with [`Store::open_with_pin`] (or [`Store::open_encrypted`] with a
//! key from elsewhere): a SQLCipher file whose key is derived from the cadre's PIN ([`key`]).
//! [`Store::open`] opens an unencrypted file, for tests, benchmarks and tools only.
//!
//! Not here: the network. The sync client (`crate::sync`) reads the outbox and applies pulled
//! changes through [`Store::apply_changes`].

mod app;
mod apply;
pub mod compact;
pub mod key;
mod queries;
mod rebuilt;
pub mod schema;
mod screens;

use std::path::Path;
use std::time::Duration;

use automerge::{Change, ChangeHash};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::doc::{ChangeMeta, Conflict, Edit, HistoryEntry, RecordDoc};
use crate::domain::{Envelope, Kind, Record, RecordState};
use crate::error::{Error, Result};
use crate::identity::DeviceIdentity;
use crate::projection::{Rows, utc_text};
use crate::values::{Geo, Timestamp};
use key::{DeviceKey, KeySalt};

pub use app::AppSession;
pub use apply::{ApplyOutcome, ApplyReport, IncomingChange};
pub use compact::CompactReport;
pub use queries::{HouseholdFilter, HouseholdRow, OutboxItem, Page};
pub use screens::{CheckInRow, PetitionsOf, TeamVillage};

/// Chunks are folded into the snapshot once they exceed both the snapshot and this size.
pub const FOLD_MIN_BYTES: i64 = 4096;

/// Opens a SQLite connection the way every connection of Cunji is opened: WAL journal,
/// `synchronous=NORMAL` (durable at checkpoints, never corrupt), a busy timeout and foreign keys.
/// Prepared statements each connection keeps: every statement the store and the server run,
/// with room.
const STATEMENTS: usize = 256;

pub fn open_connection(path: &Path) -> Result<Connection> {
    open_keyed_connection(path, None)
}

/// [`open_connection`] for a database encrypted with `key` (SQLCipher). The key is applied
/// before anything else reads the file; a key that does not open it is [`Error::WrongPin`].
pub fn open_keyed_connection(path: &Path, key: Option<&DeviceKey>) -> Result<Connection> {
    let conn = Connection::open(path)?;
    if let Some(key) = key {
        key::apply_key(&conn, path, key)?;
    }
    conn.busy_timeout(Duration::from_secs(5))?;
    // rusqlite keeps 16 prepared statements by default; one household's write alone (a
    // delete and an insert per projection table, the document, the log) takes more, so every
    // write prepared some again (6% of the server's numbers migration).
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// How far this device's clock is from the server's, as the server measured it on the last
/// sync (the device's clock minus the server's). R2 does not count check-ins made with a clock
/// more than 10 minutes off, so the app warns when [`ClockOffset::is_off`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockOffset {
    pub offset_ms: i64,
    /// When it was measured (this device's clock, RFC 3339).
    pub measured_ts: String,
}

impl ClockOffset {
    /// Whether the clock is further off than R2 allows (`AttendanceConfig::max_clock_drift_s`).
    pub fn is_off(&self, max_drift_s: i64) -> bool {
        self.offset_ms.unsigned_abs() > max_drift_s.unsigned_abs().saturating_mul(1000)
    }
}

/// Who writes, and why. Every create and edit carries one.
#[derive(Debug, Clone)]
pub struct Author {
    pub cadre_id: String,
    pub reason: String,
    /// When the edit was made, on the device's clock with its zone.
    pub at: Timestamp,
}

impl Author {
    pub fn now(cadre_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Author {
            cadre_id: cadre_id.into(),
            reason: reason.into(),
            at: now(),
        }
    }

    pub fn at(cadre_id: impl Into<String>, reason: impl Into<String>, at: Timestamp) -> Self {
        Author {
            cadre_id: cadre_id.into(),
            reason: reason.into(),
            at,
        }
    }
}

/// Envelope details the shell knows when a record is created.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub geo: Option<Geo>,
    pub device_uptime_ms: i64,
    /// Defaults to [`RecordState::Submitted`]; forms save drafts with [`RecordState::Draft`].
    pub state: Option<RecordState>,
}

/// A record read from the store.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    pub envelope: Envelope,
    pub record: T,
    /// Fields with more than one value; `record` shows one of them for each.
    pub conflicts: Vec<Conflict>,
}

/// The local store of one device.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    device: DeviceIdentity,
    encrypted: bool,
}

impl Store {
    /// Opens (creating if needed) the store at `path`: migrations, the device identity, and
    /// projection tables whose declaration changed since the last open, refilled.
    ///
    /// The file is not encrypted: the app uses [`Store::open_with_pin`].
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_keyed(path, None)
    }

    /// Opens (creating if needed) the store at `path` encrypted with `key`.
    /// [`Error::WrongPin`] when the key does not open it; [`Error::StoreNotEncrypted`] when the
    /// file is a plaintext store.
    pub fn open_encrypted(path: &Path, key: &DeviceKey) -> Result<Store> {
        Self::open_keyed(path, Some(key))
    }

    /// Opens (creating if needed) the encrypted store at `path` with the cadre's PIN: the key
    /// is derived with Argon2id from the PIN and the install's salt (`<path>-salt`, made with
    /// the database). A wrong PIN is [`Error::WrongPin`] (code `wrong_pin`) and changes nothing.
    pub fn open_with_pin(path: &Path, pin: &str) -> Result<Store> {
        let salt = KeySalt::load_or_create(path)?;
        let key = DeviceKey::from_pin(pin, &salt)?;
        Self::open_encrypted(path, &key)
    }

    /// Re-encrypts the whole store under a key derived from `new_pin` (same salt), in one
    /// transaction. The caller checks the old PIN by having opened the store with it.
    pub fn change_pin(&mut self, path: &Path, new_pin: &str) -> Result<()> {
        let salt = KeySalt::load(path)?;
        let key = DeviceKey::from_pin(new_pin, &salt)?;
        self.rekey(&key)
    }

    /// Re-encrypts the whole store under `key`, in one transaction. A store opened with
    /// [`Store::open`] (plaintext) is refused with [`Error::StoreNotEncrypted`]: SQLCipher does
    /// not encrypt a plaintext file in place.
    pub fn rekey(&mut self, key: &DeviceKey) -> Result<()> {
        if !self.encrypted {
            return Err(Error::StoreNotEncrypted {
                path: self.conn.path().unwrap_or_default().into(),
            });
        }
        key::rekey(&self.conn, key)
    }

    /// Whether the store's file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    fn open_keyed(path: &Path, key: Option<&DeviceKey>) -> Result<Store> {
        let mut conn = open_keyed_connection(path, key)?;
        schema::migrate(&mut conn)?;
        let device = load_or_create_device(&mut conn)?;
        // New projection declarations and the refill of their tables commit together (see
        // `schema::sync_projection_tables`).
        let tx = conn.transaction()?;
        let stale = schema::sync_projection_tables(&tx)?;
        if !stale.is_empty() {
            refill_kinds(&tx, &stale, &device)?;
        }
        tx.commit()?;
        Ok(Store {
            conn,
            device,
            encrypted: key.is_some(),
        })
    }

    pub fn device(&self) -> &DeviceIdentity {
        &self.device
    }

    /// The connection, for queries that rules and reports run on the projections.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Validates and stores a new record: its document, its first change (signed, in the
    /// outbox) and its projection, in one transaction. Returns the new record's id.
    pub fn create<T: Record>(&mut self, author: &Author, record: &T) -> Result<String> {
        self.create_with(author, record, CreateOptions::default())
    }

    pub fn create_with<T: Record>(
        &mut self,
        author: &Author,
        record: &T,
        options: CreateOptions,
    ) -> Result<String> {
        require_reason(author)?;
        record.validate()?;
        if let Some(subject) = record.subject_cadre().filter(|s| *s != author.cadre_id) {
            // Nobody records another cadre's check-in, leave or visit.
            return Err(Error::NotAuthor {
                id: String::new(),
                author: subject.to_string(),
            });
        }
        let env = Envelope {
            id: uuid::Uuid::now_v7().to_string(),
            kind: T::KIND,
            author_id: author.cadre_id.clone(),
            device_id: self.device.device_id.clone(),
            created_device_ts: author.at,
            device_uptime_ms: options.device_uptime_ms,
            geo: options.geo,
            server_received_ts: None,
            state: options.state.unwrap_or(RecordState::Submitted),
        };
        let edit = self.edit(author);
        let (_doc, change) = RecordDoc::create(self.device.actor.clone(), &env, record, &edit)?;
        let tx = self.conn.transaction()?;
        check_unique_ids(&tx, &env.id, record)?;
        // A new record's first snapshot is its one change: nothing to fold, one row less.
        let bytes = change.raw_bytes();
        tx.prepare_cached(
            "INSERT INTO documents (id, kind, snapshot, snapshot_bytes, updated_ts)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            env.id,
            T::KIND.code(),
            bytes,
            bytes.len() as i64,
            utc_text(&author.at)
        ])?;
        queue_local_change(&tx, &self.device, &env.id, &change)?;
        project_record(&tx, &env, record)?;
        tx.commit()?;
        Ok(env.id)
    }

    /// Creates a record given as JSON (from the UI or an import): unknown codes, missing
    /// fields and malformed values come back as a [`crate::ValidationError`] naming the field.
    pub fn create_json(
        &mut self,
        author: &Author,
        kind: Kind,
        data: serde_json::Value,
        options: CreateOptions,
    ) -> Result<String> {
        macro_rules! dispatch {
            ($($t:ty),+) => {
                match kind {
                    $(k if k == <$t as Record>::KIND => {
                        let record: $t = crate::domain::from_json(data)?;
                        self.create_with(author, &record, options)
                    })+
                    _ => unreachable!("every kind is listed in for_each_kind!"),
                }
            };
        }
        crate::for_each_kind!(dispatch)
    }

    /// Updates a record from JSON; see [`Store::create_json`] and [`Store::update`].
    pub fn update_json(
        &mut self,
        author: &Author,
        id: &str,
        data: serde_json::Value,
    ) -> Result<bool> {
        let kind = self.load(id)?.envelope()?.kind;
        macro_rules! dispatch {
            ($($t:ty),+) => {
                match kind {
                    $(k if k == <$t as Record>::KIND => {
                        let record: $t = crate::domain::from_json(data)?;
                        self.update(author, id, &record)
                    })+
                    _ => unreachable!("every kind is listed in for_each_kind!"),
                }
            };
        }
        crate::for_each_kind!(dispatch)
    }

    /// Reads a record, with the fields in conflict.
    pub fn get<T: Record>(&self, id: &str) -> Result<Stored<T>> {
        let mut doc = self.load(id)?;
        let record = doc.read::<T>()?;
        Ok(Stored {
            envelope: doc.envelope()?,
            record,
            conflicts: doc.conflicts(),
        })
    }

    /// Writes the fields of `record` that differ from the stored one as one change.
    /// Returns false when nothing differed (no change is made).
    pub fn update<T: Record>(&mut self, author: &Author, id: &str, record: &T) -> Result<bool> {
        self.write_edit(author, id, record, false)
    }

    /// A reviewer's step on an event record someone else wrote (队长同意 on a team member's
    /// leave, the first secretary's comment on its log), made with the core's step function
    /// ([`crate::rules::approvals`]): unlike [`Store::update`], the author need not be the
    /// record's. What a reviewer may change, and in which order, the sync server judges by
    /// the same rules ([`crate::rules::approvals::check_leave`], …); a refused step comes back
    /// as a rejection, like any change.
    pub fn review<T: Record>(&mut self, author: &Author, id: &str, record: &T) -> Result<bool> {
        self.write_edit(author, id, record, true)
    }

    fn write_edit<T: Record>(
        &mut self,
        author: &Author,
        id: &str,
        record: &T,
        reviewer: bool,
    ) -> Result<bool> {
        require_reason(author)?;
        record.validate()?;
        let mut doc = self.load(id)?;
        doc.read::<T>()?; // checks the kind
        let env = doc.envelope()?;
        if !reviewer {
            check_author(&env, author)?;
        }
        let edit = self.edit(author);
        let Some(change) = doc.update(&env, record, &edit)? else {
            return Ok(false);
        };
        let tx = self.conn.transaction()?;
        check_unique_ids(&tx, id, record)?;
        store_local_change(&tx, &self.device, &mut doc, change)?;
        refresh_projection(&tx, &mut doc)?;
        tx.commit()?;
        Ok(true)
    }

    /// Changes a record's state (submit a draft, void a record) as one change.
    pub fn set_state(&mut self, author: &Author, id: &str, state: RecordState) -> Result<bool> {
        require_reason(author)?;
        let mut doc = self.load(id)?;
        let mut env = doc.envelope()?;
        check_author(&env, author)?;
        if env.state == state {
            return Ok(false);
        }
        env.state = state;
        let data = doc.data_json()?;
        let edit = self.edit(author);
        let Some(change) = update_envelope(&mut doc, &env, data, &edit)? else {
            return Ok(false);
        };
        let tx = self.conn.transaction()?;
        store_local_change(&tx, &self.device, &mut doc, change)?;
        refresh_projection(&tx, &mut doc)?;
        tx.commit()?;
        Ok(true)
    }

    /// The record's history: every change, its fields' old and new values, who, when and why.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        self.load(id)?.history()
    }

    /// The fields of one record holding more than one value.
    pub fn conflicts(&self, id: &str) -> Result<Vec<Conflict>> {
        Ok(self.load(id)?.conflicts())
    }

    /// Settles a conflict with one of its values, as a new change with a reason.
    pub fn resolve(
        &mut self,
        author: &Author,
        id: &str,
        path: &[String],
        chosen: &serde_json::Value,
    ) -> Result<()> {
        require_reason(author)?;
        let mut doc = self.load(id)?;
        let edit = self.edit(author);
        let change = doc.resolve(path, chosen, &edit)?;
        let tx = self.conn.transaction()?;
        store_local_change(&tx, &self.device, &mut doc, change)?;
        refresh_projection(&tx, &mut doc)?;
        tx.commit()?;
        Ok(())
    }

    /// Every change of a record, as bytes another replica can apply.
    pub fn changes_of(&self, id: &str) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .load(id)?
            .changes()
            .iter_mut()
            .map(|c| c.raw_bytes().to_vec())
            .collect())
    }

    /// The current heads of a record's document.
    pub fn heads(&self, id: &str) -> Result<Vec<ChangeHash>> {
        Ok(self.load(id)?.heads())
    }

    /// The whole document as JSON (`{"meta": …, "data": …}`), for comparisons and debugging.
    pub fn document_json(&self, id: &str) -> Result<serde_json::Value> {
        Ok(self.load(id)?.to_json())
    }

    /// Empties every projection table and refills it from the documents. Returns how many
    /// records were projected.
    pub fn rebuild_projections(&mut self) -> Result<usize> {
        self.rebuild_kinds(Kind::ALL)
    }

    fn rebuild_kinds(&mut self, kinds: &[Kind]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = refill_kinds(&tx, kinds, &self.device)?;
        tx.commit()?;
        Ok(n)
    }

    pub(crate) fn load(&self, id: &str) -> Result<RecordDoc> {
        load_doc(&self.conn, id, &self.device)
    }

    fn edit(&self, author: &Author) -> Edit {
        Edit {
            meta: ChangeMeta {
                reason: author.reason.clone(),
                cadre_id: author.cadre_id.clone(),
                device_id: self.device.device_id.clone(),
            },
            time_ms: author.at.timestamp_millis(),
        }
    }
}

/// The device's local time with its zone.
pub fn now() -> Timestamp {
    chrono::Local::now().fixed_offset()
}

fn require_reason(author: &Author) -> Result<()> {
    if author.reason.trim().is_empty() {
        Err(Error::ReasonRequired)
    } else {
        Ok(())
    }
}

fn check_author(env: &Envelope, author: &Author) -> Result<()> {
    if env.kind.is_event() && env.author_id != author.cadre_id {
        return Err(Error::NotAuthor {
            id: env.id.clone(),
            author: env.author_id.clone(),
        });
    }
    Ok(())
}

fn update_envelope(
    doc: &mut RecordDoc,
    env: &Envelope,
    data: serde_json::Value,
    edit: &Edit,
) -> Result<Option<Change>> {
    macro_rules! dispatch {
        ($($t:ty),+) => {
            match env.kind {
                $(k if k == <$t as Record>::KIND => {
                    let record: $t = crate::domain::from_json(data)?;
                    doc.update(env, &record, edit)
                })+
                _ => unreachable!("every kind is listed in for_each_kind!"),
            }
        };
    }
    crate::for_each_kind!(dispatch)
}

fn load_or_create_device(conn: &mut Connection) -> Result<DeviceIdentity> {
    let row: Option<(String, Vec<u8>, Vec<u8>)> = conn
        .query_row("SELECT device_id, actor, secret_key FROM device", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if let Some((device_id, actor, secret)) = row {
        return DeviceIdentity::from_parts(device_id, &actor, &secret).ok_or_else(|| {
            Error::CorruptDocument {
                id: "device".into(),
                detail: "bad device key".into(),
            }
        });
    }
    let device = DeviceIdentity::generate();
    let secret = zeroize::Zeroizing::new(device.secret_bytes());
    conn.execute(
        "INSERT INTO device (singleton, device_id, actor, secret_key, public_key, created_ts)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        params![
            device.device_id,
            device.actor.to_bytes(),
            secret.as_slice(),
            device.public_key().as_slice(),
            utc_text(&now())
        ],
    )?;
    Ok(device)
}

/// Empties the projection tables of `kinds` and refills them from the documents, in `tx`;
/// returns how many records were projected.
fn refill_kinds(tx: &Transaction<'_>, kinds: &[Kind], device: &DeviceIdentity) -> Result<usize> {
    for (kind, table) in crate::domain::all_tables() {
        if kinds.contains(&kind) {
            tx.execute(&format!("DELETE FROM {}", table.name), [])?;
        }
    }
    let mut ids: Vec<String> = Vec::new();
    for kind in kinds {
        let mut stmt = tx.prepare_cached("SELECT id FROM documents WHERE kind = ?1")?;
        let rows = stmt.query_map([kind.code()], |r| r.get::<_, String>(0))?;
        for id in rows {
            ids.push(id?);
        }
    }
    ids.sort();
    for id in &ids {
        let mut doc = load_doc(tx, id, device)?;
        refresh_projection(tx, &mut doc)?;
    }
    Ok(ids.len())
}

fn load_doc(conn: &Connection, id: &str, device: &DeviceIdentity) -> Result<RecordDoc> {
    let snapshot: Option<Option<Vec<u8>>> = conn
        .query_row("SELECT snapshot FROM documents WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Err(Error::DocNotFound(id.to_string()));
    };
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")?;
    let chunks: Vec<Vec<u8>> = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    RecordDoc::load(id, snapshot.as_deref(), &chunks, device.actor.clone())
}

/// Appends a local change to the document's chunks and to the outbox, signed.
fn store_local_change(
    tx: &Transaction<'_>,
    device: &DeviceIdentity,
    doc: &mut RecordDoc,
    change: Change,
) -> Result<()> {
    let id = doc.id().to_string();
    queue_local_change(tx, device, &id, &change)?;
    append_chunk(tx, doc, change.raw_bytes())
}

/// Puts a local change in the outbox with this device's signature. The change itself is in
/// the document (uncompressed: DEFLATE-ing each small change costs more than the whole SQLite
/// write, and the sync client compresses whole batches).
fn queue_local_change(
    tx: &Transaction<'_>,
    device: &DeviceIdentity,
    doc_id: &str,
    change: &Change,
) -> Result<()> {
    let hash = change.hash();
    let signature = device.sign_change(doc_id, &hash);
    tx.prepare_cached(
        "INSERT INTO outbox (doc_id, hash, signature, created_ts) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        doc_id,
        hash.0.as_slice(),
        signature.as_slice(),
        utc_text(&now())
    ])?;
    Ok(())
}

/// Appends applied change bytes to a document, folding the chunks into a new snapshot once
/// they outgrow it.
fn append_chunk(tx: &Transaction<'_>, doc: &mut RecordDoc, bytes: &[u8]) -> Result<()> {
    let (snapshot_bytes, chunk_bytes): (i64, i64) = tx
        .prepare_cached("SELECT snapshot_bytes, chunk_bytes FROM documents WHERE id = ?1")?
        .query_row([doc.id()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let chunk_bytes = chunk_bytes + bytes.len() as i64;
    if chunk_bytes > snapshot_bytes.max(FOLD_MIN_BYTES) {
        let snapshot = doc.save();
        tx.prepare_cached("DELETE FROM doc_chunks WHERE doc_id = ?1")?
            .execute([doc.id()])?;
        tx.prepare_cached(
            "UPDATE documents SET snapshot = ?2, snapshot_bytes = ?3, chunk_bytes = 0, updated_ts = ?4
             WHERE id = ?1",
        )?
        .execute(params![doc.id(), snapshot, snapshot.len() as i64, utc_text(&now())])?;
    } else {
        tx.prepare_cached("INSERT INTO doc_chunks (doc_id, bytes) VALUES (?1, ?2)")?
            .execute(params![doc.id(), bytes])?;
        tx.prepare_cached("UPDATE documents SET chunk_bytes = ?2, updated_ts = ?3 WHERE id = ?1")?
            .execute(params![doc.id(), chunk_bytes, utc_text(&now())])?;
    }
    Ok(())
}

/// Writes a record's projection rows, replacing the ones it had.
fn project_record<T: Record>(tx: &Transaction<'_>, env: &Envelope, record: &T) -> Result<()> {
    let mut rows = Rows::default();
    record.project(env, &mut rows);
    write_rows(tx, &env.id, T::KIND, rows)
}

fn write_rows(tx: &Transaction<'_>, doc_id: &str, kind: Kind, rows: Rows) -> Result<()> {
    Ok(replace_projection_rows(tx, doc_id, kind, rows)?)
}

/// Replaces a record's rows in the projection tables of its kind, on any SQLite connection
/// holding those tables (a device's store, or a SQLite sync server). A household's members'
/// ID numbers come from its `household_private` record: whenever either is projected,
/// `p_member.id_no` is filled from `p_member_id` ([`HOUSEHOLD_NUMBERS_SQL`]; empty where the
/// numbers are not held).
pub fn replace_projection_rows(
    conn: &Connection,
    doc_id: &str,
    kind: Kind,
    rows: Rows,
) -> rusqlite::Result<()> {
    let tx = conn;
    // The households whose members' numbers this projection changes: those it numbered
    // before, and those it numbers now.
    let mut households: Vec<String> = match kind {
        Kind::HouseholdPrivate => tx
            .prepare_cached("SELECT household_id FROM p_household_private WHERE doc_id = ?1")?
            .query_map([doc_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        _ => Vec::new(),
    };
    households.extend(numbered_households(kind, doc_id, &rows));
    for (k, table) in crate::domain::all_tables() {
        if k == kind {
            tx.prepare_cached(&format!("DELETE FROM {} WHERE doc_id = ?1", table.name))?
                .execute([doc_id])?;
        }
    }
    for (table, values) in rows.rows {
        let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
        let marks: Vec<String> = (2..=values.len() + 1).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {table} (doc_id, {}) VALUES (?1, {})",
            cols.join(", "),
            marks.join(", ")
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(values.len() + 1);
        params.push(&doc_id);
        params.extend(values.iter().map(|(_, v)| v as &dyn rusqlite::ToSql));
        stmt.execute(params.as_slice())?;
    }
    for h in households {
        tx.prepare_cached(HOUSEHOLD_NUMBERS_SQL)?.execute([h])?;
    }
    Ok(())
}

/// The households whose members' ID numbers a projection of `kind` for `doc_id` sets: a
/// household's own; a `household_private` record's household.
pub fn numbered_households(kind: Kind, doc_id: &str, rows: &Rows) -> Vec<String> {
    match kind {
        Kind::Household => vec![doc_id.to_string()],
        Kind::HouseholdPrivate => rows
            .rows
            .iter()
            .filter(|(table, _)| *table == "p_household_private")
            .flat_map(|(_, values)| values.iter())
            .filter_map(|(column, v)| match (column, v) {
                (&"household_id", rusqlite::types::Value::Text(h)) => Some(h.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Fills one household's `p_member.id_no` (`?1`: the household's id) from its
/// `household_private` record's rows (PostgreSQL: with `$1`).
pub const HOUSEHOLD_NUMBERS_SQL: &str =
    "UPDATE p_member SET id_no = (SELECT n.id_no FROM p_member_id n
     WHERE n.household_id = p_member.doc_id AND n.member_id = p_member.member_id)
     WHERE doc_id = ?1";

/// Re-derives everything the store keeps about a document from the document itself: its
/// projection rows, its open conflicts and any rule its merged state breaks.
fn refresh_projection(tx: &Transaction<'_>, doc: &mut RecordDoc) -> Result<()> {
    let id = doc.id().to_string();
    tx.prepare_cached("DELETE FROM conflicts WHERE doc_id = ?1")?
        .execute([&id])?;
    for conflict in doc.conflicts() {
        tx.prepare_cached("INSERT INTO conflicts (doc_id, path, value_count) VALUES (?1, ?2, ?3)")?
            .execute(params![
                id,
                conflict.path.join("."),
                conflict.values.len() as i64
            ])?;
    }
    tx.prepare_cached("DELETE FROM record_problems WHERE doc_id = ?1")?
        .execute([&id])?;
    if !doc.has_envelope() {
        return Ok(());
    }
    let env = doc.envelope()?;
    let mut rows = Rows::default();
    let outcome = crate::domain::project_json(&env, doc.data_json()?, &mut rows);
    if let Err(problem) = outcome {
        tx.prepare_cached(
            "INSERT INTO record_problems (doc_id, field, problem, message) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            id,
            problem.field,
            serde_json::to_value(problem.problem)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            problem.message
        ])?;
    }
    write_rows(tx, &id, env.kind, rows)
}

/// Refuses a record holding a value another record already holds ([`Record::unique_values`],
/// e.g. R10's ID numbers). Checked against the local projections, so on a device it covers the
/// records the device holds; the server checks across its whole scope.
fn check_unique_ids<T: Record>(tx: &Transaction<'_>, doc_id: &str, record: &T) -> Result<()> {
    for unique in record.unique_values() {
        let sql = format!(
            "SELECT doc_id FROM {} WHERE {} = ?1 AND doc_id <> ?2 LIMIT 1",
            unique.table, unique.column
        );
        let taken: Option<String> = tx
            .prepare_cached(&sql)?
            .query_row(params![unique.value, doc_id], |r| r.get(0))
            .optional()?;
        if taken.is_some() {
            return Err(crate::ValidationError::new(
                unique.field,
                crate::Problem::Inconsistent,
                "this value is already registered to another record",
            )
            .into());
        }
    }
    Ok(())
}
