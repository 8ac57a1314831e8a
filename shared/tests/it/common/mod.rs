//! Fixtures shared by the core's integration tests: temporary stores that clean up after
//! themselves, and valid records with unique ID numbers.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use cunji_core::domain::id_number::check_char;
use cunji_core::domain::{Household, HouseholdPrivate};
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

/// The example household, the `n`-th (its phone differs); its members' ID numbers are a
/// record of their own: [`numbers`].
pub fn household(n: u64) -> Household {
    let mut h = Household::example();
    h.phone = Some(format!("135{:08}", n % 100_000_000));
    h
}

/// The ID and bank numbers of household `household_id`, unique for `n` (R10 forbids reusing
/// them), each keeping its member's birth date.
pub fn numbers(n: u64, household_id: &str) -> HouseholdPrivate {
    let mut p = HouseholdPrivate {
        household_id: household_id.into(),
        ..HouseholdPrivate::example()
    };
    for (i, id) in p.id_numbers.values_mut().enumerate() {
        if id.len() == 18 {
            *id = id_number(n * 16 + i as u64, id);
        }
    }
    p
}
