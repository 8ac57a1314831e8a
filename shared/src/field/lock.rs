//! Opening the app's encrypted store with the cadre's PIN, and changing that PIN.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{FieldApp, FieldError, FieldResult, STORE_FILE};
use crate::store::Store;
use crate::store::key::{DeviceKey, KeySalt};

impl FieldApp {
    /// Whether `dir` already holds the app's store: the app then asks for the PIN that opens
    /// it; otherwise it asks the cadre to choose one.
    pub fn exists(dir: &Path) -> bool {
        dir.join(STORE_FILE).exists()
    }

    /// Opens (creating if needed) the app's data in `dir`, encrypted with a key derived from
    /// the cadre's `pin` ([`Store::open_with_pin`]; the key is held only in memory). A wrong
    /// PIN is `wrong_pin` and changes nothing; a PIN shorter than the minimum when the store is
    /// created is `pin_too_short`.
    pub fn open(dir: &Path, pin: &str) -> FieldResult<FieldApp> {
        std::fs::create_dir_all(dir).map_err(|e| {
            FieldError::input(
                "data_dir",
                format!("无法创建数据目录 {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join(STORE_FILE);
        let key = DeviceKey::from_pin(pin, &KeySalt::load_or_create(&path)?)?;
        let store = Store::open_encrypted(&path, &key)?;
        Ok(FieldApp {
            store,
            dir: dir.to_path_buf(),
            key: Arc::new(key),
            syncing: Arc::new(Mutex::new(())),
        })
    }

    /// Changes the PIN that encrypts the store: `old` must open it (checked on a second
    /// connection, so a phone left unlocked cannot be re-keyed by someone who does not know
    /// it); the whole file is re-encrypted under the new key in one transaction.
    pub fn change_pin(&mut self, old: &str, new: &str) -> FieldResult<()> {
        let path = self.dir.join(STORE_FILE);
        drop(Store::open_with_pin(&path, old)?);
        let key = DeviceKey::from_pin(new, &KeySalt::load(&path)?)?;
        // No sync may hold a connection under the old key while the file is re-keyed.
        let _sync = self.syncing.lock().unwrap_or_else(|e| e.into_inner());
        self.store.rekey(&key)?;
        self.key = Arc::new(key);
        Ok(())
    }
}
