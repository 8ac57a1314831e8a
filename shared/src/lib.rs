//! # cunji-core
//!
//! The core of Cunji (村记), the offline-first field recorder of village work teams: the
//! domain types, one Automerge document per record, the local SQLite store, merge, device
//! identity and the rules a device can check with no network. The Tauri app and the sync
//! server are thin shells over this crate; it depends on neither.
//!
//! ## The model
//! - A **record** (a household, a visit, a check-in…) is a serde struct implementing
//!   [`domain::Record`]: its validation and its projection rows.
//! - Each record lives in its own **Automerge document** ([`doc::RecordDoc`]) with an
//!   [`domain::Envelope`] (id, kind, author, device, times, state). Every edit is one change
//!   that writes only the fields that changed, with a message naming the reason, the cadre and
//!   the device: the record's history ([`Store::history`]) is the document's change graph.
//! - The **store** ([`Store`]) keeps documents, the outbox of signed local changes, sync cursors
//!   and projection tables in one SQLite file, all written in one transaction per edit.
//! - **Merging** ([`Store::apply_changes`]) is idempotent and order-free: changes whose
//!   dependencies are missing are held until they arrive. Concurrent edits to different fields
//!   both survive; two values for one field are kept as a conflict ([`Store::conflicts`]) until
//!   a person settles it ([`Store::resolve`]).
//! - **Rules** ([`rules`]) are pure functions over facts read from the projections.
//! - **Sync** ([`sync`]): the protocol shared with the sync server and the blocking client
//!   ([`sync::sync_now`]) that pushes the outbox, pulls each readable scope after its cursor
//!   and repairs what is still missing, in a constant number of round trips.
//!
//! ```
//! use cunji_core::{Author, Store, domain::CheckIn};
//!
//! let dir = tempfile::tempdir()?;
//! let mut phone = Store::open(&dir.path().join("phone.sqlite3"))?;
//! let me = Author::now("cadre-li-ming", "早上到村打卡");
//! let id = phone.create(&me, &CheckIn::example())?;
//!
//! // Another replica (the server, a colleague's phone) applies the outbox's changes.
//! let mut other = Store::open(&dir.path().join("other.sqlite3"))?;
//! let outgoing: Vec<_> = phone
//!     .outbox_batch(100, 1 << 20)?
//!     .into_iter()
//!     .map(|item| cunji_core::IncomingChange { doc_id: item.doc_id, bytes: item.change })
//!     .collect();
//! other.apply_changes(&outgoing)?;
//! assert_eq!(other.get::<CheckIn>(&id)?.record, CheckIn::example());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod doc;
pub mod domain;
pub mod error;
pub mod field;
pub mod identity;
pub mod projection;
pub mod reports;
pub mod rules;
pub mod store;
pub mod sync;
pub mod values;

pub use error::{Error, Problem, Result, ValidationError};
pub use store::key::{DeviceKey, KeySalt};
pub use store::{
    ApplyOutcome, ApplyReport, Author, CompactReport, CreateOptions, HouseholdFilter, HouseholdRow,
    IncomingChange, OutboxItem, Page, Store, Stored, open_connection, open_keyed_connection,
};
