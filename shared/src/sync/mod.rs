//! Sync: the protocol shared with the server, and the client that syncs a device's store
//! when the cadre has signal.
//!
//! Signal in a village is rare, brief and slow (2G/3G), so a sync is short, resumable and
//! loses nothing:
//! - **push** sends the outbox in batches bounded in items and bytes; each change leaves the
//!   outbox only when the server has answered for it, so a cut connection resends at most the
//!   batch in flight, which the server then reports as duplicates;
//! - **pull** asks for every readable scope's changes after the device's cursors; each page is
//!   applied together with its new cursor in one SQLite transaction, so an interrupted pull
//!   resumes after the last whole page;
//! - **repair** runs Automerge's sync protocol only for records that are still missing
//!   changes after a pull (held changes whose dependencies never came: a cursor reset, a
//!   restored backup);
//! - **forget** deletes what the account may no longer read, once a pull says that scopes the
//!   device held are retired (it left a team, an assignment ended, a colleague left, or the
//!   server narrowed what the role reads): the device asks which of its records are now
//!   unreadable and deletes them, except any with changes still to push.
//!
//! - **proof**: every change a pull or repair brings is checked against its author's
//!   signature or the server's attestation before it is applied ([`proof`]).
//!
//! On the fast path (the outbox fits one push batch and the news one pull page) a sync is two
//! round trips whatever the number of records: there is no request per document.
//!
//! Not here: HTTP server code (the `sync-server` crate) and threads: [`client::sync_now`] is
//! blocking; a shell runs it off its UI thread.

pub mod client;
pub mod handover;
pub mod proof;
pub mod protocol;

pub use client::{
    HttpTransport, SyncError, SyncEvent, SyncOptions, SyncReport, Transport, TransportError, login,
    sync_now,
};
