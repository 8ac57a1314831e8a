//! Compaction: the same documents in fewer bytes.
//!
//! DOMAIN requires every record's full history to stay readable: who changed which field,
//! from what to what, when and why. In an Automerge document that history *is* the document:
//! every change, with its message, is part of the change graph that `history()` walks and that
//! peers exchange. So compaction here never drops a change. It re-encodes each document as
//! Automerge's compact whole-document form (`save()`: columnar, DEFLATE-compressed, each
//! change's operations and message still there), replacing its snapshot and the raw change
//! chunks appended since, and then rewrites the file (`VACUUM`) so the freed pages go back to
//! the phone's storage.
//!
//! Before a document's new snapshot replaces the old bytes it is loaded back and checked: the
//! same heads and the same set of change hashes, or the document is left as it was and the
//! compaction fails with [`crate::Error::CorruptDocument`]. Each batch of documents is one
//! transaction, so a crash leaves every document in its old or its new form.
//!
//! What compaction deliberately does not do:
//! - drop or squash history (Automerge's history cannot be truncated without forking the
//!   document away from every other replica, and DOMAIN forbids losing it);
//! - touch the outbox, held changes, cursors, conflicts or projections: pending pushes read
//!   their change bytes from the compacted document exactly as before;
//! - run by itself: the store already folds a document's chunks when they outgrow its snapshot
//!   ([`super::FOLD_MIN_BYTES`]); this is the explicit, whole-store operation (a "tidy up
//!   storage" action in the app, or after a bulk import), because `VACUUM` needs as much free
//!   space as the file and blocks writers while it runs.

use rusqlite::params;

use super::{Store, load_doc};
use crate::error::{Error, Result};
use crate::projection::utc_text;

/// Documents re-encoded per transaction.
const BATCH: usize = 200;

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Documents re-encoded.
    pub documents: usize,
    /// Bytes of snapshots and chunks before and after.
    pub document_bytes_before: i64,
    pub document_bytes_after: i64,
    /// Bytes of the database file (pages in use and free) before and after `VACUUM`.
    pub file_bytes_before: i64,
    pub file_bytes_after: i64,
}

impl Store {
    /// Re-encodes every document in its compact form, folding its change chunks, and gives
    /// the freed pages back (`VACUUM`). History, heads and changes stay exactly as they were;
    /// see the [module docs](self) for what this does not do.
    pub fn compact(&mut self) -> Result<CompactReport> {
        let mut report = CompactReport {
            file_bytes_before: self.file_bytes()?,
            ..CompactReport::default()
        };
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM documents ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for batch in ids.chunks(BATCH) {
            let tx = self.conn.transaction()?;
            for id in batch {
                let before: i64 = tx.query_row(
                    "SELECT snapshot_bytes + (SELECT coalesce(sum(length(bytes)), 0)
                                              FROM doc_chunks WHERE doc_id = ?1)
                     FROM documents WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )?;
                let mut doc = load_doc(&tx, id, &self.device)?;
                let snapshot = doc.save();
                // Never replace bytes with something that is not the same document.
                let mut check = crate::doc::RecordDoc::load(
                    id,
                    Some(&snapshot),
                    &[],
                    self.device.actor.clone(),
                )?;
                let hashes = |d: &mut crate::doc::RecordDoc| {
                    let mut h: Vec<_> = d.changes().iter().map(|c| c.hash()).collect();
                    h.sort();
                    h
                };
                if check.heads() != doc.heads() || hashes(&mut check) != hashes(&mut doc) {
                    return Err(Error::CorruptDocument {
                        id: id.clone(),
                        detail: "compacted form differs from the stored document; left as it was"
                            .into(),
                    });
                }
                tx.prepare_cached("DELETE FROM doc_chunks WHERE doc_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached(
                    "UPDATE documents SET snapshot = ?2, snapshot_bytes = ?3, chunk_bytes = 0,
                     updated_ts = ?4 WHERE id = ?1",
                )?
                .execute(params![
                    id,
                    snapshot,
                    snapshot.len() as i64,
                    utc_text(&super::now())
                ])?;
                report.documents += 1;
                report.document_bytes_before += before;
                report.document_bytes_after += snapshot.len() as i64;
            }
            tx.commit()?;
        }
        self.conn.execute_batch("VACUUM")?;
        // Bring the WAL back into the file so its size is the compacted size.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        report.file_bytes_after = self.file_bytes()?;
        Ok(report)
    }

    /// The database file's size in bytes (page count × page size).
    pub fn file_bytes(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?)
    }
}
