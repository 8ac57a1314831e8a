//! The server's key ([`ServerKey`]), which attests the changes that reach the log without a
//! device's signature (see the [store docs](super)). A file of 64 hex digits (the Ed25519
//! secret), readable by the server's user only, created on first use.
//!
//! Where: the `server_key` setting, or by default beside a SQLite database (`PATH.key`) and,
//! for PostgreSQL, `cunji-server.key` in the working directory. It is not in the database on
//! purpose: whoever can alter the database cannot forge an attestation. It is not in a
//! backup either: keep it with the configuration; a server restored without it gets a new
//! key, and phones that synced before refuse what it attests (RELIABILITY.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use cunji_core::identity::ServerKey;

/// The key file for database `url` when `server_key` is not set.
pub fn default_key_path(url: &str) -> PathBuf {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return PathBuf::from("cunji-server.key");
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    PathBuf::from(format!("{path}.key"))
}

/// Reads the key at `path`, or makes one there if there is no file.
pub fn load_or_create(path: &Path) -> std::io::Result<ServerKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not a server key (64 hex digits)",
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        Err(e) => Err(e),
    }
}

fn parse(text: &str) -> Option<ServerKey> {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))?;
    ServerKey::from_secret(&hex::decode(line.trim()).ok()?)
}

fn create(path: &Path) -> std::io::Result<ServerKey> {
    let key = ServerKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            writeln!(
                file,
                "# The Cunji sync server's key: it attests changes in the log. Keep it with the\n\
                 # configuration and back it up apart from the database; never share it.\n\
                 # Public key: {}\n{}",
                hex::encode(key.public_key()),
                hex::encode(key.secret_bytes())
            )?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), public_key = %hex::encode(key.public_key()), "made the server's key");
            Ok(key)
        }
        // Another process made it first (tests opening one database at once).
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for _ in 0..50 {
                if let Ok(text) = std::fs::read_to_string(path)
                    && let Some(key) = parse(&text)
                {
                    return Ok(key);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            load_or_create(path)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_key_path(&dir.path().join("s.sqlite3").display().to_string());
        assert!(path.display().to_string().ends_with("s.sqlite3.key"));
        let made = load_or_create(&path).unwrap();
        let read = load_or_create(&path).unwrap();
        assert_eq!(made.public_key(), read.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(load_or_create(&path).is_err());
        assert_eq!(
            default_key_path("postgres://u@h/d"),
            PathBuf::from("cunji-server.key")
        );
    }
}
