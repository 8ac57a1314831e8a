//! Encryption at rest: the key of a device's database, derived from the cadre's PIN.
//!
//! The store is a SQLCipher database (rusqlite's `bundled-sqlcipher`: AES-256 per page with an
//! HMAC per page, the WAL included). Its 32-byte key is derived here with Argon2id
//! (19 MiB, 2 passes, 1 lane: the argon2 crate's defaults, the OWASP minimum) from the PIN and
//! a random 16-byte salt made once per install and kept beside the database
//! (`<database>-salt`, [`KeySalt::path_for`]). The key is handed to SQLCipher as a raw key
//! (`PRAGMA key = "x'…'"`), so SQLCipher does no second slow derivation. [`DeviceKey`] zeroes
//! its bytes when dropped, and the PRAGMA text holding the key is zeroed too; SQLCipher keeps
//! its own copy for as long as the connection is open and wipes it when the connection closes.
//!
//! Everything secret lives inside the encrypted file: records, outbox, sync cursors, and the
//! device's Ed25519 signing key (`device` table). The salt is not secret.
//!
//! A wrong PIN is told apart from a damaged file only as far as SQLCipher can: page 1 fails
//! its HMAC either way. [`crate::Error::WrongPin`] is returned when the salt is there and the
//! file is not a plaintext SQLite database; the app says "wrong PIN" and lets the cadre retry.
//!
//! Changing the PIN ([`crate::Store::change_pin`]) keeps the salt and re-encrypts every page
//! in one transaction (`PRAGMA rekey`): a crash leaves the file under the old PIN or the new
//! one, never half of each, and no second file has to be renamed in step.
//!
//! Not here: guessing resistance beyond Argon2id. A 6-digit PIN has 10⁶ values; with the file
//! and its salt in hand, an attacker tries them all in hours. Wrapping the key with the phone's
//! hardware keystore (Android Keystore, iOS Keychain), which limits attempts, belongs to the
//! app shell; [`DeviceKey::from_bytes`] takes such a key.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// The shortest PIN accepted.
pub const MIN_PIN_CHARS: usize = 4;

/// The per-install salt for deriving the database key from a PIN.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeySalt([u8; 16]);

impl fmt::Debug for KeySalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeySalt({})", hex::encode(self.0))
    }
}

impl KeySalt {
    pub fn generate() -> Self {
        KeySalt(rand::random())
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        KeySalt(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Where the salt of the database at `db` is kept: `<db>-salt`, beside `<db>-wal`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.as_os_str().to_owned();
        name.push("-salt");
        PathBuf::from(name)
    }

    /// Reads the salt of the database at `db`. Missing: [`Error::KeySaltMissing`].
    pub fn load(db: &Path) -> Result<KeySalt> {
        let path = Self::path_for(db);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::KeySaltMissing { path });
            }
            Err(e) => return Err(Error::Io(e)),
        };
        let bytes: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::KeySaltMissing { path })?;
        Ok(KeySalt(bytes))
    }

    /// The salt of the database at `db`, made and written (atomically, synced) if neither
    /// the salt nor the database exists yet. A database without its salt is an error: a new
    /// salt could never open it.
    pub fn load_or_create(db: &Path) -> Result<KeySalt> {
        match Self::load(db) {
            Err(Error::KeySaltMissing { .. }) if !db.exists() => {
                let salt = KeySalt::generate();
                salt.write(db)?;
                Ok(salt)
            }
            other => other,
        }
    }

    fn write(&self, db: &Path) -> Result<()> {
        let path = Self::path_for(db);
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&self.0)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename is durable once the directory is synced.
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// The 32-byte key of a device's database. Held only in memory; zeroed when dropped.
pub struct DeviceKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceKey(<redacted>)")
    }
}

impl DeviceKey {
    /// Derives the key from a PIN with Argon2id. Takes tens of milliseconds on purpose.
    pub fn from_pin(pin: &str, salt: &KeySalt) -> Result<DeviceKey> {
        if pin.chars().count() < MIN_PIN_CHARS {
            return Err(Error::PinTooShort { min: MIN_PIN_CHARS });
        }
        let mut key = Zeroizing::new([0u8; 32]);
        argon2::Argon2::default()
            .hash_password_into(pin.as_bytes(), &salt.0, key.as_mut_slice())
            .map_err(|e| Error::KeyDerivation(e.to_string()))?;
        Ok(DeviceKey(key))
    }

    /// A key made elsewhere (a hardware keystore, a test).
    pub fn from_bytes(mut bytes: [u8; 32]) -> DeviceKey {
        let key = DeviceKey(Zeroizing::new(bytes));
        bytes.zeroize();
        key
    }

    /// The statement that hands this key to SQLCipher; zeroed when dropped.
    fn pragma(&self, name: &str) -> Zeroizing<String> {
        let mut sql = Zeroizing::new(String::with_capacity(80));
        sql.push_str("PRAGMA ");
        sql.push_str(name);
        sql.push_str(" = \"x'");
        for b in self.0.iter() {
            // No allocation per byte: the text must not leave copies behind.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            sql.push(HEX[(b >> 4) as usize] as char);
            sql.push(HEX[(b & 0xf) as usize] as char);
        }
        sql.push_str("'\"");
        sql
    }
}

/// The first bytes of every plaintext SQLite database file.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Keys a freshly opened connection (before any other statement) and checks the key opens
/// the file: [`Error::WrongPin`] when it does not, [`Error::StoreNotEncrypted`] when the file
/// is a plaintext database.
pub(crate) fn apply_key(conn: &Connection, path: &Path, key: &DeviceKey) -> Result<()> {
    if is_plaintext(path)? {
        return Err(Error::StoreNotEncrypted {
            path: path.to_path_buf(),
        });
    }
    // A wrong PIN is reported as [`Error::WrongPin`]; SQLCipher need not also print it.
    conn.execute_batch("PRAGMA cipher_log_level = NONE")?;
    conn.execute_batch(&key.pragma("key"))?;
    // The key is only checked when page 1 is read.
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            Err(Error::WrongPin)
        }
        Err(e) => Err(e.into()),
    }
}

/// Re-encrypts the open database under `key` (one transaction).
pub(crate) fn rekey(conn: &Connection, key: &DeviceKey) -> Result<()> {
    conn.execute_batch(&key.pragma("rekey"))?;
    Ok(())
}

/// True when the file at `path` exists and starts with SQLite's plaintext header.
pub fn is_plaintext(path: &Path) -> Result<bool> {
    let mut head = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => {
            use std::io::Read;
            let n = f.read(&mut head)?;
            Ok(n == head.len() && &head == PLAIN_HEADER)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::Io(e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn same_pin_and_salt_give_the_same_key_others_do_not() {
        let salt = KeySalt::from_bytes([3; 16]);
        let a = DeviceKey::from_pin("246810", &salt).unwrap();
        let b = DeviceKey::from_pin("246810", &salt).unwrap();
        let c = DeviceKey::from_pin("246811", &salt).unwrap();
        let d = DeviceKey::from_pin("246810", &KeySalt::from_bytes([4; 16])).unwrap();
        assert_eq!(*a.0, *b.0);
        assert_ne!(*a.0, *c.0);
        assert_ne!(*a.0, *d.0);
        assert!(!format!("{a:?}").contains(&hex::encode(*a.0)));
        assert!(a.pragma("key").contains(&hex::encode(*a.0)));
    }

    #[test]
    fn short_pins_are_refused() {
        let err = DeviceKey::from_pin("123", &KeySalt::generate()).unwrap_err();
        assert_eq!(err.code(), "pin_too_short");
    }

    #[test]
    fn a_salt_is_made_once_and_never_for_an_existing_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.sqlite3");
        let s1 = KeySalt::load_or_create(&db).unwrap();
        assert_eq!(KeySalt::load_or_create(&db).unwrap(), s1);
        std::fs::write(&db, b"x").unwrap();
        std::fs::remove_file(KeySalt::path_for(&db)).unwrap();
        let err = KeySalt::load_or_create(&db).unwrap_err();
        assert_eq!(err.code(), "key_salt_missing");
    }
}
