//! Fixtures shared by the core's integration tests: temporary stores that clean up after
//! themselves, and valid records with unique ID numbers.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use cunji_core::domain::Household;
use cunji_core::domain::id_number::check_char;
use cunji_core::{Author, Store};

/// A store in its own temporary directory, removed (with `-wal` and `-shm`) on drop.
pub struct TempStore {
    pub store: Store,
    pub dir: tempfile::TempDir,
}

impl TempStore {
    pub fn new() -> TempStore {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cunji.sqlite3")).unwrap();
        TempStore { store, dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("cunji.sqlite3")
    }

    /// Closes the store and opens the same file again.
    pub fn reopen(self) -> TempStore {
        let TempStore { store, dir } = self;
        drop(store);
        let store = Store::open(&dir.path().join("cunji.sqlite3")).unwrap();
        TempStore { store, dir }
    }
}

impl std::ops::Deref for TempStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl std::ops::DerefMut for TempStore {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

pub fn author(cadre: &str) -> Author {
    Author::at(cadre, "test", "2016-03-01T09:00:00+08:00".parse().unwrap())
}

/// A valid 18-digit ID number unique for each `n`, keeping the birth date of `like`.
pub fn id_number(n: u64, like: &str) -> String {
    let first17 = format!("{:06}{}{:03}", 110_000 + n / 1000, &like[6..14], n % 1000);
    let check = check_char(&first17).unwrap();
    format!("{first17}{check}")
}

/// The example household with ID numbers unique for `n` (R10 forbids reusing them).
pub fn household(n: u64) -> Household {
    let mut h = Household::example();
    for (i, m) in h.members.values_mut().enumerate() {
        if m.id_no.len() == 18 {
            m.id_no = id_number(n * 16 + i as u64, &m.id_no);
        }
    }
    h
}
