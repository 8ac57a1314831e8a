//! The field app's use cases: what the phone screens ask of the core, one method each.
//!
//! The Tauri shell (`src-tauri/`) holds one [`FieldApp`] and forwards each command to one
//! method here, so every behaviour of the app is testable without a window: sign in once
//! online ([`FieldApp::login`]), then record check-ins, leave, visits, deliveries and work logs
//! offline, list and filter households, read a household's page with its history, see "my
//! month" as day statuses (R1) and settle conflicts. Form drafts are saved as the cadre types
//! ([`FieldApp::save_draft`]) so closing the app mid-form loses nothing.
//!
//! The forms of the process records (petitions, 动态调整 cases, projects, inspections,
//! satisfaction surveys) live in `forms`, which also says which role may record which.
//!
//! ## One file per use case
//! Each file adds the methods of one use case to [`FieldApp`], as the shell's commands are
//! grouped (`src-tauri/src/commands/`): `lock` (open with the PIN, change it), `session`
//! (sign-in, who is signed in, the home screen), `settings` (the county's), `sync` (the
//! [`SyncJob`]), `attendance` (check-in with its photo, leave, my month), `households`,
//! `records` (visits, deliveries, work logs), `team` (the first secretary's 队长同意 and log
//! comments, and what waits for it), `conflicts`, `drafts`, and `forms` (the process
//! records). `error` holds [`FieldError`]; `types` and `month` the types the screens exchange.
//!
//! ## State kept beside the records
//! Nothing here speaks SQL. The app's own state (the session, form drafts, the county's
//! settings as last fetched; none of it syncs) lives in three tables of the store's schema,
//! and every read of the projections a screen needs is a typed method of
//! [`crate::store::Store`].
//!
//! ## County settings
//! After each successful sync, a [`SyncJob`] fetches the county's settings
//! (`GET /v1/settings`, a [`crate::rules::EffectiveSettings`]) and keeps them in
//! the store; until the next successful fetch, offline included, those apply. Every use
//! reads them from the store ([`FieldApp::settings`]: one small row), so settings a sync job
//! fetched on its own connection apply at once. A phone that never fetched any uses DOMAIN's
//! defaults. They give the rules' thresholds ([`crate::rules::RulesConfig`]: R1–R3 in "my
//! month", R3's approval level, R5's visit interval, the home screen's clock warning) and
//! whether the check-in offers a photo ([`crate::rules::CheckInPhoto`]). A failed fetch never
//! fails the sync: the records were exchanged, and the last settings stay.
//!
//! ## Check-in photos
//! When the county's setting is `optional` or `required`, the UI hands the photo's bytes to
//! [`FieldApp::save_check_in_photo`], which checks they are an image, hashes them (SHA-256)
//! and keeps them as `photos/<sha256>.<ext>` in the app's data directory; the check-in records
//! only the hash (`photo_sha256`), which is all that syncs. The photo files stay on the phone,
//! **outside the encrypted store** (they are not records and the server never asks for them);
//! deleting the app's data deletes them. `required` refuses a check-in without a photo, with a
//! message saying so.
//!
//! Not here: windows, events and the HTTP health check's scheduling (the shell and the UI
//! decide when to call [`FieldApp::sync`]), uploading photo files, and supervisors' reports
//! (the server's).

mod attendance;
mod conflicts;
mod drafts;
mod error;
mod feedback;
mod forms;
mod households;
mod lock;
mod month;
mod records;
mod session;
mod settings;
mod sync;
mod team;
mod types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::Datelike;

use crate::domain::Record;
use crate::store::key::DeviceKey;
use crate::store::{Author, CreateOptions, Store};
use crate::values::{Date, Geo, Timestamp};

pub use error::{FieldError, FieldResult};
pub use feedback::{FeedbackInput, FeedbackItem};
pub use forms::*;
pub use month::{MyMonth, month_grid};
pub use session::location_from_env;
pub use sync::{SyncJob, server_reachable};
pub use types::*;

/// The name of the store file inside the app's data directory.
pub const STORE_FILE: &str = "cunji.sqlite3";

/// The directory, inside the app's data directory, that keeps check-in photos.
pub const PHOTO_DIR: &str = "photos";

/// The largest photo [`FieldApp::save_check_in_photo`] keeps: a phone camera's full-size
/// JPEG is 2–8 MB.
pub const MAX_PHOTO_BYTES: usize = 20 * 1024 * 1024;

/// The app's state: the device's store and who is signed in.
#[derive(Debug)]
pub struct FieldApp {
    store: Store,
    dir: PathBuf,
    /// The store's key, derived from the PIN, held only in memory: a [`SyncJob`] opens its
    /// own connection with it.
    key: Arc<DeviceKey>,
    /// Held by the running [`SyncJob`], so two syncs never push the same outbox at once.
    syncing: Arc<Mutex<()>>,
}

impl FieldApp {
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub(super) fn create<T: Record>(
        &mut self,
        me: &Me,
        reason: &str,
        record: &T,
        geo: Option<Geo>,
    ) -> FieldResult<String> {
        let author = Author::now(me.cadre_id.clone(), reason);
        Ok(self.store.create_with(
            &author,
            record,
            CreateOptions {
                geo,
                ..CreateOptions::default()
            },
        )?)
    }
}

/// The device's clock with its zone.
pub fn now() -> Timestamp {
    crate::store::now()
}

/// Today's date on the device.
pub fn today() -> Date {
    now().date_naive()
}

/// The current year and month.
pub fn this_month() -> (i32, u32) {
    let t = today();
    (t.year(), t.month())
}

#[cfg(test)]
mod tests;
