//! Backups of the server's database, taken while it serves.
//!
//! **SQLite**: [`backup_sqlite`] copies the live file with SQLite's online backup API in one
//! step, inside one read transaction: the copy is the database as of one commit, while the
//! server goes on accepting pushes (WAL readers do not block writers). The copy is written to
//! `<dest>.partial`, checked with `PRAGMA integrity_check`, synced, and only then renamed to
//! `dest`, so a backup interrupted half-way never looks like a good one.
//! Command: `cunji-sync-server --database server.sqlite3 backup --to /backups/2026-11-22.sqlite3`.
//!
//! Restore: stop the server, copy the backup over the database file (removing its `-wal` and
//! `-shm`), start the server. Devices notice that the server's sequence went back (their
//! cursors are above it), compare heads and push again every change the server lost: nothing a
//! device still holds is lost (tested in `tests/tests/it/sync.rs`,
//! `a_server_restored_from_a_backup…`). Changes that reached the server only from devices
//! that were since wiped are gone with the lost interval; back up more often than devices are
//! reset.
//!
//! **PostgreSQL**: the database's own tools, which take a consistent snapshot while it serves:
//!
//! ```sh
//! pg_dump --format=custom --file=cunji-2026-11-22.dump "$CUNJI_DATABASE"
//! # restore into an empty database, with the server stopped:
//! pg_restore --clean --if-exists --no-owner --dbname="$CUNJI_DATABASE" cunji-2026-11-22.dump
//! ```
//!
//! [`backup_sqlite`] refuses a `postgres://` URL with a message pointing there. Devices recover
//! after a PostgreSQL restore exactly as after a SQLite one.
//!
//! Not here: scheduling, rotation and off-site copies (cron and the operator's storage).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// The highest change sequence number in the copy (what devices will compare against).
    pub max_seq: i64,
}

/// Why a backup failed. Nothing is left at `dest` when it fails.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "a PostgreSQL database is backed up with pg_dump --format=custom (see the backup module docs)"
    )]
    Postgres,
    #[error("{0} already exists; choose a new file for each backup")]
    Exists(PathBuf),
    #[error("the copy failed its integrity check ({0}); it was removed")]
    Integrity(String),
    #[error("SQLite's backup step returned {0}")]
    Step(String),
    #[error("backup failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("backup failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Copies the SQLite database `source` (a path or the server's database URL) to `dest`.
pub fn backup_sqlite(source: &str, dest: &Path) -> Result<BackupReport, BackupError> {
    if source.starts_with("postgres://") || source.starts_with("postgresql://") {
        return Err(BackupError::Postgres);
    }
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_path_buf()));
    }
    let mut partial = dest.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let result = copy_and_check(Path::new(source), &partial);
    match result {
        Ok(max_seq) => {
            std::fs::rename(&partial, dest)?;
            if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(BackupReport {
                path: dest.to_path_buf(),
                bytes: std::fs::metadata(dest)?.len(),
                max_seq,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn copy_and_check(source: &Path, partial: &Path) -> Result<i64, BackupError> {
    // Read-only: a backup never creates or migrates the database it copies.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(Duration::from_secs(30))?;
    {
        let mut dst = Connection::open(partial)?;
        let backup = Backup::new(&src, &mut dst)?;
        // All pages in one step: one read transaction, so the copy is one commit's state
        // (stepping in parts would restart whenever the server commits meanwhile).
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return Err(BackupError::Step(format!("{other:?}"))),
            }
        }
    }
    let dst = Connection::open(partial)?;
    let check: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(BackupError::Integrity(check));
    }
    let max_seq: i64 = dst.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    // The copy keeps the source's WAL mode: fold its WAL into the file before the rename.
    dst.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(dst);
    std::fs::File::open(partial)?.sync_all()?;
    Ok(max_seq)
}
