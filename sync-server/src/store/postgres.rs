//! The PostgreSQL backend (being written; see the module docs of `store`).

use super::{StoreError, StoreResult, Tx};

/// A PostgreSQL database.
#[derive(Debug)]
pub struct PgDb {
    _url: String,
}

impl PgDb {
    pub fn open(url: &str) -> StoreResult<PgDb> {
        Err(StoreError::BadUrl(format!(
            "{url}: the PostgreSQL backend is not built yet"
        )))
    }

    pub fn write<R, E: From<StoreError>>(
        &self,
        _f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        Err(StoreError::Pool("PostgreSQL backend not built yet".into()).into())
    }

    pub fn read<R, E: From<StoreError>>(
        &self,
        _f: impl FnOnce(&mut dyn Tx) -> Result<R, E>,
    ) -> Result<R, E> {
        Err(StoreError::Pool("PostgreSQL backend not built yet".into()).into())
    }
}
