//! The core's one error type.
//!
//! Every variant names what went wrong, so a shell can map it to a stable code and a message a
//! person understands ([`Error::code`]). Validation problems are collected in
//! [`ValidationError`], which says which field failed and why.

use std::fmt;

/// Result alias for the core crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A record failed validation; nothing was stored.
    #[error("invalid record: {0}")]
    Invalid(#[from] ValidationError),
    /// No document with this id in the local store.
    #[error("no record with id {0}")]
    DocNotFound(String),
    /// The document exists but holds another kind of record.
    #[error("record {id} is a {actual}, not a {expected}")]
    WrongKind {
        id: String,
        expected: &'static str,
        actual: String,
    },
    /// Stored or received document bytes could not be loaded.
    #[error("document {id} is corrupt: {detail}")]
    CorruptDocument { id: String, detail: String },
    /// Received change bytes could not be parsed.
    #[error("change for {doc_id} is malformed: {detail}")]
    MalformedChange { doc_id: String, detail: String },
    /// A change's signature does not verify against the claimed key.
    #[error("signature on change {hash} does not verify")]
    BadSignature { hash: String },
    /// A conflict that the caller asked to resolve does not exist (any more).
    #[error("no conflict at {path} in record {id}")]
    NoConflict { id: String, path: String },
    /// The chosen value is not one of the values in conflict.
    #[error("the chosen value is not one of the conflicting values at {path}")]
    NotAConflictingValue { path: String },
    /// Event records (visits, check-ins, leave, logs) are edited only by their author.
    #[error("record {id} was written by {author}; only its author may change it")]
    NotAuthor { id: String, author: String },
    /// An edit was requested without a reason; every correction needs one (痕迹管理).
    #[error("an edit needs a reason")]
    ReasonRequired,
    /// The store was created by a newer version of Cunji.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    /// The PIN does not open this device's database (or its first page is damaged).
    #[error("wrong PIN: it does not open this device's database")]
    WrongPin,
    /// A PIN shorter than [`crate::store::key::MIN_PIN_CHARS`].
    #[error("a PIN needs at least {min} characters")]
    PinTooShort { min: usize },
    /// An encrypted database was opened without the salt its key was derived with.
    #[error("the key salt {} of the device database is missing or damaged", path.display())]
    KeySaltMissing { path: std::path::PathBuf },
    /// A key was given for a database written in plaintext.
    #[error("the device database {} is not encrypted", path.display())]
    StoreNotEncrypted { path: std::path::PathBuf },
    /// Argon2id refused its input (never with the fixed parameters, kept for completeness).
    #[error("could not derive the database key: {0}")]
    KeyDerivation(String),
    /// A file beside the database (the key salt) could not be read or written.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// An Automerge operation failed.
    #[error("document operation failed: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    /// A SQLite operation failed (disk full, I/O, locked too long...).
    #[error("local database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl Error {
    /// A stable, machine-readable code for the UI and the sync protocol.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid_record",
            Error::DocNotFound(_) => "doc_not_found",
            Error::WrongKind { .. } => "wrong_kind",
            Error::CorruptDocument { .. } => "corrupt_document",
            Error::MalformedChange { .. } => "malformed_change",
            Error::BadSignature { .. } => "bad_signature",
            Error::NoConflict { .. } => "no_conflict",
            Error::NotAConflictingValue { .. } => "not_a_conflicting_value",
            Error::NotAuthor { .. } => "not_author",
            Error::ReasonRequired => "reason_required",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::WrongPin => "wrong_pin",
            Error::PinTooShort { .. } => "pin_too_short",
            Error::KeySaltMissing { .. } => "key_salt_missing",
            Error::StoreNotEncrypted { .. } => "store_not_encrypted",
            Error::KeyDerivation(_) => "key_derivation",
            Error::Io(e) if e.raw_os_error() == Some(28) => "disk_full",
            Error::Io(_) => "io_error",
            Error::Automerge(_) => "document_error",
            Error::Sqlite(e) if is_disk_full(e) => "disk_full",
            Error::Sqlite(_) => "database_error",
        }
    }
}

fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}

/// Why a field was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// A required field is missing or empty.
    Required,
    /// An enum field holds a code that is not in its list.
    UnknownCode,
    /// A Chinese resident ID number fails the GB 11643 format or checksum (R10).
    BadIdNumber,
    /// A value is outside its allowed range (a negative amount, an end before a start...).
    OutOfRange,
    /// Two fields contradict each other (two heads of household, a duplicate cause...).
    Inconsistent,
    /// The value has the wrong shape (not a date, not a number...).
    Malformed,
}

/// A record that failed validation: the field's path, what is wrong, and a sentence about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidationError {
    pub field: String,
    pub problem: Problem,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, problem: Problem, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem,
            message: message.into(),
        }
    }

    pub fn required(field: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field} is required");
        Self::new(field, Problem::Required, message)
    }

    /// Classifies a deserialisation failure of a record given as JSON (from the UI, a CSV import
    /// or a document) into a typed validation error with the failing field's path.
    pub fn from_serde(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let text = inner.to_string();
        if let Some(rest) = text.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or_default();
            let field = if path == "." {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            return Self::required(field);
        }
        if text.starts_with("unknown variant") || text.starts_with("unknown code") {
            return Self::new(path, Problem::UnknownCode, text);
        }
        Self::new(path, Problem::Malformed, text)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}
