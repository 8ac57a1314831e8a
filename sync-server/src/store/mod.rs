//! Server storage: one [`Tx`] trait of primitive reads and writes, with a backend module per
//! database, each owning its migrations: [`sqlite`] (the default, a file path) and
//! [`postgres`] (a `postgres://` URL, for deployments that outgrow one machine; it also runs on
//! PostgreSQL-compatible distributed engines, as it uses plain SQL with no extensions).
//!
//! All server logic ([`crate::merge`], [`crate::pull`], [`crate::accounts`]) is written once
//! against `&mut dyn Tx` and runs inside [`Db::write`] or [`Db::read`], which own the
//! transaction: committed when the closure returns `Ok`, rolled back otherwise. Both backends
//! are blocking (rusqlite, the `postgres` crate); handlers call them through
//! `tokio::task::spawn_blocking`.
//!
//! **Proof of authorship.** Every logged change keeps what proves who wrote it
//! ([`cunji_core::sync::protocol::Proof`]: `signed_by` 1 = the author device's signature,
//! 2 = the server's attestation, with the `signature` bytes). A change logged without a
//! device's signature (pushed in protocol 1, made by the server, released from hold after a
//! protocol-1 push) is attested by the store as it is logged, with the server's key
//! ([`ServerKey`]), which the backends hold and which lives in a file, never in the database;
//! changes logged before signatures were kept are attested once when the database is opened
//! ([`attest_unproven`]). `cunji-sync-server verify-log` ([`crate::verify::verify_log`])
//! checks the whole log.
//!
//! Not here: HTTP, authorisation decisions, merge, Automerge. The store keeps bytes and rows;
//! a stored document is projected by the core ([`cunji_core::domain::project_stored`]), and
//! refilling projection tables from the documents is [`crate::merge::rebuild_projections`],
//! above [`Tx`].

pub mod key;
pub mod postgres;
pub mod sqlite;

use cunji_core::domain::Kind;
use cunji_core::identity::ServerKey;
use cunji_core::projection::Rows;
use cunji_core::sync::protocol::Proof;

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("unsupported database URL `{0}`: use a file path, sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The database's disk is full (SQLite SQLITE_FULL, PostgreSQL SQLSTATE 53100).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            StoreError::Postgres(e) => e.code() == Some(&::postgres::error::SqlState::DISK_FULL),
            _ => false,
        }
    }

    /// The database cannot be reached for now: no pooled connection came within the pool's
    /// timeout (every one busy, or PostgreSQL not answering), or PostgreSQL dropped the
    /// connection or is shutting down or starting (SQLSTATE class 08, 57P01–57P03). Worth
    /// retrying in a while; not the server's fault in the way a bug is.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) => true,
            StoreError::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        let c = c.code();
                        c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03")
                    })
            }
            _ => false,
        }
    }
}

/// The `postgres` crate's display leaves out the server's own message; put it back.
fn postgres_message(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// A sign-in account (DOMAIN §1 roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The login, equal to the cadre id for cadres.
    pub login: String,
    pub name: String,
    pub role: cunji_core::domain::Role,
    /// For supervisors: the administrative code prefix they oversee (township, county or
    /// city part of a village code). Empty for cadres, whose scope comes from their team and
    /// assignments, and for admins.
    pub division: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    pub active: bool,
}

/// A registered device: its actor id and public key, bound to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub device_id: String,
    pub login: String,
    pub actor: Vec<u8>,
    pub public_key: Vec<u8>,
    pub registered_ts: String,
    /// When the device was cut off (a lost or stolen phone): its tokens died then, it may not
    /// sign in or sync again; what it pushed before stays.
    pub revoked_ts: Option<String>,
}

/// A bearer token, stored by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub hash: Vec<u8>,
    pub login: String,
    pub device_id: String,
    /// RFC 3339 UTC.
    pub expires_ts: String,
    pub revoked: bool,
}

/// A county's ⚙ settings as stored ([`cunji_core::rules::CountySettings`] as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsRow {
    /// Six digits.
    pub county_code: String,
    pub settings_json: String,
    /// The login that made the last change.
    pub updated_by: String,
    /// RFC 3339 UTC.
    pub updated_ts: String,
}

/// One change of a county's settings, kept for good (append-only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsChange {
    pub county_code: String,
    /// `None` for the county's first settings (the defaults applied before).
    pub old_json: Option<String>,
    pub new_json: String,
    pub changed_by: String,
    /// RFC 3339 UTC.
    pub changed_ts: String,
}

/// A merged document's metadata and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRow {
    pub id: String,
    pub kind: Kind,
    /// The village the record belongs to (`None`: reference data every account reads).
    pub village_code: Option<String>,
    /// The household a household-bound record belongs to (for pairing cadres' reads).
    pub household_id: Option<String>,
    pub author_id: String,
    /// When the server first received the record (RFC 3339 UTC): the envelope's
    /// `server_received_ts`, kept server-side so that no device can set it.
    pub received_ts: String,
    pub snapshot: Vec<u8>,
    pub chunks: Vec<Vec<u8>>,
}

impl DocRow {
    /// The stored document, for reading (an actor of its own: a read makes no change).
    pub fn load(&self) -> StoreResult<cunji_core::doc::RecordDoc> {
        cunji_core::doc::RecordDoc::load(
            &self.id,
            Some(&self.snapshot),
            &self.chunks,
            automerge::ActorId::random(),
        )
        .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// One stored change: the unit of the pull log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub hash: Vec<u8>,
    pub doc_id: String,
    pub village_code: Option<String>,
    pub household_id: Option<String>,
    pub bytes: Vec<u8>,
    pub device_id: String,
    /// The server's clock when the change arrived (RFC 3339 UTC).
    pub received_ts: String,
    /// The pushing device's clock minus the server's when the change arrived, in ms (from
    /// the `x-cunji-device-time` header); `None` when unknown (a held change released later,
    /// a client that sent no clock).
    pub device_clock_offset_ms: Option<i64>,
    /// For a record some readers may see only when it is theirs
    /// ([`cunji_core::domain::access::personal_kinds`]: check-ins, leave, logs): its author.
    /// A team member's pull leaves out the changes whose owner is someone else.
    pub owner: Option<String>,
    /// The author device's signature ([`Proof::Device`]); `None`: the store attests the
    /// change as it logs it.
    pub proof: Option<Proof>,
}

/// A change as the log holds it, for pulls, repairs and `verify-log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: i64,
    pub doc_id: String,
    pub bytes: Vec<u8>,
    /// The device that pushed it (`server` for the server's own changes).
    pub device_id: String,
    /// `None` only for a change logged before proofs were kept and not yet attested.
    pub proof: Option<Proof>,
}

/// The `signed_by` and `signature` columns of a change about to be logged: its device's
/// signature, or the server's attestation made now.
pub(crate) fn proof_columns(
    key: &ServerKey,
    doc_id: &str,
    hash: &[u8],
    proof: Option<&Proof>,
) -> (i16, Vec<u8>) {
    match proof {
        Some(Proof::Device(s)) => (1, s.clone()),
        Some(Proof::Server(s)) => (2, s.clone()),
        None => {
            let hash = automerge::ChangeHash(hash.try_into().unwrap_or([0; 32]));
            (2, key.attest(doc_id, &hash).to_vec())
        }
    }
}

/// The proof columns of a held change: its device's signature, or nothing (attested when it
/// is logged).
pub(crate) fn held_proof_columns(proof: Option<&Proof>) -> (Option<i16>, Option<Vec<u8>>) {
    match proof {
        Some(Proof::Device(s)) => (Some(1), Some(s.clone())),
        Some(Proof::Server(s)) => (Some(2), Some(s.clone())),
        None => (None, None),
    }
}

/// A proof from its columns; `None` for a change never attested.
pub(crate) fn proof_of(signed_by: Option<i16>, signature: Option<Vec<u8>>) -> Option<Proof> {
    match (signed_by, signature) {
        (Some(1), Some(s)) => Some(Proof::Device(s)),
        (Some(2), Some(s)) => Some(Proof::Server(s)),
        _ => None,
    }
}

/// A cadre's time in one place: on a village's team, or assigned to a household. `to` is the
/// last day, `None` while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// The village code or the household id.
    pub place: String,
    pub from: cunji_core::values::Date,
    pub to: Option<cunji_core::values::Date>,
}

impl Period {
    /// Whether the period runs on `day` (both ends counted).
    pub fn runs_on(&self, day: cunji_core::values::Date) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }

    /// Parses a projection row's `from_date` / `to_date` text.
    pub(crate) fn parse(place: String, from: &str, to: Option<&str>) -> StoreResult<Period> {
        let date = |s: &str| {
            s.parse()
                .map_err(|e| StoreError::Corrupt(format!("date `{s}` of {place}: {e}")))
        };
        Ok(Period {
            from: date(from)?,
            to: to.map(date).transpose()?,
            place,
        })
    }
}

/// When the server received a record, and how far the device's clock was off then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedClock {
    pub received_ts: String,
    pub device_clock_offset_ms: Option<i64>,
}

/// A change waiting for its dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRow {
    pub hash: Vec<u8>,
    pub bytes: Vec<u8>,
    pub device_id: String,
    /// Its device's signature, kept for when it is logged.
    pub proof: Option<Proof>,
}

/// Which changes a pull scope covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeFilter {
    /// One village's records.
    Village(String),
    /// One village's records without others' personal ones: changes whose
    /// [`ChangeRow::owner`] is unset or is the reader (`(village, reader)`).
    VillageFor(String, String),
    /// One place's records whose [`ChangeRow::owner`] is the reader (`(place, reader)`): an
    /// author's own 投诉建议, placed at its county's code.
    Owned(String, String),
    /// Every village whose code starts with the prefix (township, county, city).
    Division(String),
    /// One household's records.
    Household(String),
    /// These people's files not bound to a village (cadres': changes whose
    /// [`ChangeRow::owner`] is one of them). One scope for all the cadres a reader sees, so a
    /// pull costs one query however many they are.
    People(Vec<String>),
    /// Reference data not bound to a village or a person.
    Global,
}

/// Which projection rows a [`Tx::scan`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFilter<'a> {
    /// Every row (reference data, or a whole database).
    All,
    /// Rows of records whose village code starts with the prefix (a village's full code
    /// selects that village).
    Division(&'a str),
    /// The rows of one record.
    Doc(&'a str),
}

/// A range condition of [`Tx::scan_where`] on one text column of a projection table (a
/// declared column name, never input), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Between<'a> {
    pub column: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

/// The projection columns the reports' periods filter on ([`Between`]), each with a server-side
/// index `{table}_period` (both backends create them on open: they are not part of the kinds'
/// declarations, which devices share and which have no use for them).
pub(crate) const PERIOD_COLUMNS: [(&str, &str); 3] = [
    ("p_visit", "start_date"),
    ("p_checkin", "local_date"),
    ("p_work_log", "date"),
];

/// Digits in a county's code, from the core's division levels.
pub(crate) const COUNTY_CODE_LEN: usize = cunji_core::domain::ScopeLevel::County.code_len();

/// The kind whose projection tables include `table`.
pub(crate) fn kind_of_table(table: &str) -> Option<Kind> {
    cunji_core::domain::all_tables()
        .into_iter()
        .find(|(_, t)| t.name == table)
        .map(|(k, _)| k)
}

/// A record changed after a pull cursor: its last change's sequence number, id and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedDoc {
    pub seq: i64,
    pub doc_id: String,
    pub kind: Kind,
    pub village_code: Option<String>,
    pub received_ts: String,
}

/// Primitive storage operations, implemented by each backend inside one transaction.
pub trait Tx {
    // Accounts, devices, tokens.
    fn put_account(&mut self, a: &Account) -> StoreResult<()>;
    fn account(&mut self, login: &str) -> StoreResult<Option<Account>>;
    fn put_device(&mut self, d: &DeviceRow) -> StoreResult<()>;
    /// When a record's first change arrived and the clock offset of the device that pushed it
    /// (R2's clock drift for a check-in).
    fn received_clock(&mut self, doc_id: &str) -> StoreResult<Option<ReceivedClock>>;
    fn device(&mut self, device_id: &str) -> StoreResult<Option<DeviceRow>>;
    fn device_by_actor(&mut self, actor: &[u8]) -> StoreResult<Option<DeviceRow>>;
    fn put_token(&mut self, t: &TokenRow) -> StoreResult<()>;
    fn token(&mut self, hash: &[u8]) -> StoreResult<Option<TokenRow>>;
    /// Revokes every token of an account; returns how many.
    fn revoke_tokens(&mut self, login: &str) -> StoreResult<usize>;
    /// An account's devices, oldest first.
    fn devices_of(&mut self, login: &str) -> StoreResult<Vec<DeviceRow>>;
    /// Cuts a device off at `ts`, with every token it holds; `false` if it was already.
    fn revoke_device(&mut self, device_id: &str, ts: &str) -> StoreResult<bool>;

    // County settings (DOMAIN ⚙).
    fn county_settings(&mut self, county_code: &str) -> StoreResult<Option<SettingsRow>>;
    /// Replaces a county's settings and appends the change (old → new) to its history.
    fn put_county_settings(&mut self, row: &SettingsRow) -> StoreResult<()>;
    /// A county's settings changes, oldest first.
    fn county_settings_history(&mut self, county_code: &str) -> StoreResult<Vec<SettingsChange>>;
    /// Whether the server knows the county: a village under it, or an account whose division
    /// lies within it.
    fn county_known(&mut self, county_code: &str) -> StoreResult<bool>;

    /// The server's own signing identity (actor, secret key), for records an admin creates.
    fn server_identity(&mut self) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>>;
    fn put_server_identity(&mut self, actor: &[u8], secret: &[u8]) -> StoreResult<()>;

    // Documents and the change log.
    fn doc(&mut self, id: &str) -> StoreResult<Option<DocRow>>;
    /// Inserts a new document row with its first bytes as snapshot.
    fn insert_doc(&mut self, doc: &DocRow) -> StoreResult<()>;
    fn append_doc_chunk(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()>;
    /// Replaces the snapshot and drops the chunks.
    fn replace_doc_snapshot(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()>;
    fn has_change(&mut self, hash: &[u8]) -> StoreResult<bool>;
    /// Appends to the change log; returns the server sequence number.
    fn insert_change(&mut self, c: &ChangeRow) -> StoreResult<i64>;
    fn hold_change(&mut self, doc_id: &str, held: &HeldRow) -> StoreResult<()>;
    fn held_changes(&mut self, doc_id: &str) -> StoreResult<Vec<HeldRow>>;
    fn release_held(&mut self, doc_id: &str, hash: &[u8]) -> StoreResult<()>;
    /// Replaces a record's projection rows (every table of its kind).
    fn replace_projection(&mut self, kind: Kind, doc_id: &str, rows: Rows) -> StoreResult<()>;
    /// Replaces a record's whole history (the `rebuild` module): drops its stored document, its
    /// changes from the log (`old_changes`, their hashes: the log is indexed by hash, not by
    /// record, and a scan of it per record would read the whole log each time), its held
    /// changes and repair states, and keeps `old_history` (the document's saved bytes) in
    /// `rebuilt_documents`, never served, with `reason`. The caller then stores the new history
    /// with [`Tx::insert_doc`] and [`Tx::insert_change`].
    fn drop_history(
        &mut self,
        doc_id: &str,
        old_history: &[u8],
        old_changes: &[Vec<u8>],
        reason: &str,
        now: &str,
    ) -> StoreResult<()>;
    /// Whether the record's history was replaced by [`Tx::drop_history`].
    fn is_rebuilt(&mut self, doc_id: &str) -> StoreResult<bool>;
    /// Whether the data migration `name` (the `rebuild` module) has run to its end.
    fn data_migration_done(&mut self, name: &str) -> StoreResult<bool>;
    fn mark_data_migration_done(&mut self, name: &str, now: &str) -> StoreResult<()>;

    // Lookups that resolve where a record belongs and what an account may read.
    fn household_village(&mut self, household_id: &str) -> StoreResult<Option<String>>;
    fn entitlement_household(&mut self, entitlement_id: &str) -> StoreResult<Option<String>>;
    /// The cadre's times on village teams (as member or leader; void teams left out), by
    /// village code, whatever their dates: what is valid when is decided above the store.
    fn cadre_teams(&mut self, cadre_id: &str) -> StoreResult<Vec<Period>>;
    /// The cadre's (non-void) assignments to households, by household id, whatever their dates.
    fn cadre_assignments(&mut self, cadre_id: &str) -> StoreResult<Vec<Period>>;
    /// The team memberships of the villages whose code starts with `prefix` (one village's
    /// full code, or a division's), by cadre id (the period's place), whatever their dates.
    fn team_members_under(&mut self, prefix: &str) -> StoreResult<Vec<Period>>;
    /// Records whose projection row in `table` has `column = value` (both names come from the
    /// code, never from input).
    fn find_projected(
        &mut self,
        table: &str,
        column: &str,
        value: &str,
    ) -> StoreResult<Vec<String>>;

    // Pull and repair.
    /// Changes in `scope` with a sequence number above `after`, in order, at most `limit` of
    /// them and about `max_bytes` (at least one).
    fn changes_after(
        &mut self,
        scope: &ScopeFilter,
        after: i64,
        max_bytes: usize,
        limit: usize,
    ) -> StoreResult<Vec<LoggedChange>>;
    /// The whole log after `after`, in order, at most `limit` changes (`verify-log`).
    fn log_after(&mut self, after: i64, limit: usize) -> StoreResult<Vec<LoggedChange>>;
    /// The logged changes with these hashes (a repair's proofs).
    fn changes_by_hash(&mut self, hashes: &[Vec<u8>]) -> StoreResult<Vec<LoggedChange>>;
    /// Changes logged before proofs were kept: (seq, doc_id, hash), after `after`, at most
    /// `limit`.
    fn unproven_changes(
        &mut self,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, String, Vec<u8>)>>;
    /// Attests change `seq` with the server's key ([`attest_unproven`]).
    fn attest_change(&mut self, seq: i64, doc_id: &str, hash: &[u8]) -> StoreResult<()>;
    /// The server's public key, which its attestations verify against.
    fn server_public_key(&self) -> [u8; 32];
    /// The highest sequence number in the change log.
    fn max_seq(&mut self) -> StoreResult<i64>;
    /// Every change of one record in the log, in the order they were stored (each after its
    /// dependencies), to rebuild a damaged stored document. Rare: a scan of the log.
    fn doc_changes(&mut self, doc_id: &str) -> StoreResult<Vec<Vec<u8>>>;
    fn repair_state(&mut self, device_id: &str, doc_id: &str) -> StoreResult<Option<Vec<u8>>>;
    fn put_repair_state(&mut self, device_id: &str, doc_id: &str, state: &[u8]) -> StoreResult<()>;

    // Reports and supervisors' pulls.
    /// Calls `each` with every row of projection `table` that `filter` selects, as
    /// `[doc_id, server_received_ts, village_code, columns…]` in SQLite's value types on either backend
    /// (`table` and `columns` come from the code's declarations, never from input). Rows are
    /// streamed, not collected, so a city-wide report holds only its facts.
    fn scan(
        &mut self,
        table: &str,
        columns: &[&str],
        filter: RowFilter<'_>,
        each: &mut dyn FnMut(&[rusqlite::types::Value]),
    ) -> StoreResult<()> {
        self.scan_where(table, columns, filter, None, each)
    }
    /// [`Tx::scan`], keeping only rows whose text column `between.column` lies in
    /// `[between.from, between.to]` (byte order: ISO dates and times). A division's rows are
    /// found through the `documents(kind, village_code, id, received_ts)` index, so a county
    /// reads its own records, not the city's.
    fn scan_where(
        &mut self,
        table: &str,
        columns: &[&str],
        filter: RowFilter<'_>,
        between: Option<Between<'_>>,
        each: &mut dyn FnMut(&[rusqlite::types::Value]),
    ) -> StoreResult<()>;
    /// Ids of stored documents of `kind` after `after` in id order, at most `limit` (for
    /// rebuilding projections in batches).
    fn doc_ids_of_kind(
        &mut self,
        kind: Kind,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
    /// Records with a change above `after`, in the order of their latest change, at most
    /// `limit`: those under the village-code prefix `division` and reference data
    /// (`None`: every record).
    fn docs_changed_after(
        &mut self,
        division: Option<&str>,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<ChangedDoc>>;
}

/// The configured database.
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Db::Sqlite(_) => f.write_str("Db::Sqlite"),
            Db::Postgres(_) => f.write_str("Db::Postgres"),
        }
    }
}

impl Db {
    /// Opens the database named by `url` (`postgres://…`, `sqlite://PATH` or a plain path),
    /// applies its migrations and attests the changes logged before proofs were kept, with
    /// the server's key from its default file ([`key::default_key_path`]; created
    /// on first use).
    pub fn open(url: &str) -> StoreResult<Db> {
        let path = key::default_key_path(url);
        let key = key::load_or_create(&path).map_err(|e| {
            StoreError::Corrupt(format!("the server's key {}: {e}", path.display()))
        })?;
        Db::open_with_key(url, key)
    }

    /// As [`Db::open`], with the server's key given.
    pub fn open_with_key(url: &str, key: ServerKey) -> StoreResult<Db> {
        let key = std::sync::Arc::new(key);
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Db::Postgres(postgres::PgDb::open(url, key)?)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if path.is_empty() {
                return Err(StoreError::BadUrl(url.to_string()));
            }
            Db::Sqlite(sqlite::SqliteDb::open(std::path::Path::new(path), key)?)
        };
        attest_unproven(&db)?;
        Ok(db)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Runs `f` in a write transaction: committed if it returns `Ok`, rolled back otherwise.
    pub fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        match self {
            Db::Sqlite(db) => db.write(f),
            Db::Postgres(db) => db.write(f),
        }
    }

    /// Runs `f` in a read transaction.
    pub fn read<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        match self {
            Db::Sqlite(db) => db.read(f),
            Db::Postgres(db) => db.read(f),
        }
    }
}

/// Attests, with the server's key, every logged change without a proof: those logged before
/// the server kept proofs. Once per database (later changes are attested as they are logged;
/// recorded in `data_migrations`),
/// in transactions of a few thousand, so that a city's log is done in steps that each commit.
pub fn attest_unproven(db: &Db) -> StoreResult<usize> {
    const BATCH: usize = 5_000;
    // Recorded once done, so that later opens do not scan the log again for rows that can no
    // longer exist (every change logged since carries a proof).
    const DONE: &str = "attest_unproven_changes";
    if db.read(|tx| tx.data_migration_done(DONE))? {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let mut after = 0;
    let mut n = 0;
    loop {
        let done = db.write(|tx| {
            let rows = tx.unproven_changes(after, BATCH)?;
            for (seq, doc_id, hash) in &rows {
                tx.attest_change(*seq, doc_id, hash)?;
            }
            Ok::<_, StoreError>(rows.last().map(|r| (r.0, rows.len())))
        })?;
        let Some((last, count)) = done else { break };
        after = last;
        n += count;
        if n % 100_000 < BATCH {
            tracing::info!(
                changes = n,
                "attesting changes logged before proofs were kept"
            );
        }
    }
    db.write(|tx| tx.mark_data_migration_done(DONE, &chrono::Utc::now().to_rfc3339()))?;
    if n > 0 {
        tracing::info!(
            changes = n,
            seconds = started.elapsed().as_secs_f64(),
            "changes logged before proofs were kept are attested with the server's key"
        );
    }
    Ok(n)
}

/// Fills the projection tables of `kind`, recreated empty because its declaration changed,
/// from the stored documents of that kind, in the caller's transaction: both backends call it
/// in the transaction that records the new declaration, so a refill cut short is rolled back
/// with it and done again by the next start. Returns how many records were projected.
pub(crate) fn refill_projections(tx: &mut dyn Tx, kind: Kind) -> StoreResult<usize> {
    const PAGE: usize = 500;
    let mut after = String::new();
    let mut n = 0;
    loop {
        let ids = tx.doc_ids_of_kind(kind, &after, PAGE)?;
        for id in &ids {
            let Some(doc) = tx.doc(id)? else { continue };
            let (k, rows) = project_stored(id, &doc.snapshot, &doc.chunks)?;
            tx.replace_projection(k, id, rows)?;
        }
        n += ids.len();
        match ids.last() {
            Some(last) if ids.len() == PAGE => after = last.clone(),
            _ => return Ok(n),
        }
    }
}

/// Projection rows of a stored document, by the core's [`cunji_core::domain::project_stored`]
/// (the store never loads Automerge itself). A merged state that breaks a rule still projects;
/// the rule is logged and the reports flag it.
pub(crate) fn project_stored(
    id: &str,
    snapshot: &[u8],
    chunks: &[Vec<u8>],
) -> StoreResult<(Kind, Rows)> {
    let (kind, rows, broken) = cunji_core::domain::project_stored(id, snapshot, chunks)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(problem) = broken {
        tracing::info!(doc_id = id, problem = ?problem.to_string(), "stored record breaks a rule");
    }
    Ok((kind, rows))
}
