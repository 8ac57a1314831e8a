//! Reads that screens and the sync client need: the outbox, cursors, conflicts and the
//! household list. Rules live in [`crate::rules`].

use std::collections::HashMap;

use automerge::ChangeHash;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::Store;
use crate::domain::codes::{HouseholdAttribute, HouseholdStatus};
use crate::error::{Error, Result};
use crate::projection::{Rows, utc_text};

/// A local change waiting for a server's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub doc_id: String,
    pub hash: ChangeHash,
    pub change: Vec<u8>,
    pub signature: Vec<u8>,
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u32,
    pub limit: u32,
}

impl Page {
    pub fn first(limit: u32) -> Page {
        Page { offset: 0, limit }
    }
}

/// Filters of the household list.
#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub village_code: Option<String>,
    pub status: Option<HouseholdStatus>,
    /// Matches the head's name or the household id.
    pub search: Option<String>,
}

/// One line of the household list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdRow {
    pub id: String,
    pub village_code: String,
    pub hamlet: Option<String>,
    pub head_name: Option<String>,
    pub status: HouseholdStatus,
    pub attribute: HouseholdAttribute,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub member_count: i64,
}

impl Store {
    /// The oldest unacknowledged local changes, at most `max_items` and about `max_bytes`
    /// (always at least one, so a large change still goes out). The bytes come from the
    /// documents, loaded once per record of the batch.
    pub fn outbox_batch(&self, max_items: usize, max_bytes: usize) -> Result<Vec<OutboxItem>> {
        self.outbox_batch_after(0, max_items, max_bytes)
    }

    /// Like [`Store::outbox_batch`], for the entries queued after `after_seq`.
    pub fn outbox_batch_after(
        &self,
        after_seq: i64,
        max_items: usize,
        max_bytes: usize,
    ) -> Result<Vec<OutboxItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, doc_id, hash, signature FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows: Vec<(i64, String, Vec<u8>, Vec<u8>)> = stmt
            .query_map(params![after_seq, max_items as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut docs: HashMap<String, crate::doc::RecordDoc> = HashMap::new();
        let mut out = Vec::new();
        let mut bytes = 0;
        for (seq, doc_id, hash, signature) in rows {
            let hash = ChangeHash(hash.try_into().map_err(|_| corrupt_outbox(&doc_id))?);
            if !docs.contains_key(&doc_id) {
                let doc = self.load(&doc_id)?;
                docs.insert(doc_id.clone(), doc);
            }
            let change = docs
                .get_mut(&doc_id)
                .and_then(|d| d.change_bytes(&hash))
                .ok_or_else(|| corrupt_outbox(&doc_id))?;
            bytes += change.len() + signature.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(OutboxItem {
                seq,
                doc_id,
                hash,
                change,
                signature,
            });
        }
        Ok(out)
    }

    /// Records the server's answers to a pushed batch, in one transaction: settled changes
    /// leave the outbox; refused ones move to `rejected_changes` with the server's reason (the
    /// change stays in its document). Returns how many left the outbox.
    pub fn settle_push(
        &mut self,
        batch: &[OutboxItem],
        results: &[crate::sync::protocol::PushResult],
    ) -> Result<usize> {
        use crate::sync::protocol::PushOutcome;
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for (item, result) in batch.iter().zip(results) {
            if !result.outcome.is_settled() {
                continue;
            }
            if let PushOutcome::Rejected { code, message } = &result.outcome {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO rejected_changes (hash, doc_id, code, message, rejected_ts)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![item.hash.0.as_slice(), item.doc_id, code, message, utc_text(&super::now())])?;
            }
            n += tx
                .prepare_cached("DELETE FROM outbox WHERE hash = ?1")?
                .execute([item.hash.0.as_slice()])?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Puts back in the outbox (signed anew) this device's changes of a record that come after
    /// `since` (the server's heads; all of them when it lacks the record). Used when a server
    /// lost changes it had acknowledged. Returns how many were queued.
    pub fn requeue_own_changes(&mut self, doc_id: &str, since: &[ChangeHash]) -> Result<usize> {
        let mut doc = self.load(doc_id)?;
        let known = since.iter().all(|h| doc.contains(h));
        let since = if known { since.to_vec() } else { Vec::new() };
        let changes = doc.automerge().get_changes(&since);
        let actor = self.device.actor.clone();
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for change in changes.iter().filter(|c| *c.actor_id() == actor) {
            let hash = change.hash();
            let signature = self.device.sign_change(doc_id, &hash);
            n += tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO outbox (doc_id, hash, signature, created_ts) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![doc_id, hash.0.as_slice(), signature.as_slice(), utc_text(&super::now())])?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Changes a server refused: (record id, code, message).
    pub fn rejected_changes(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id, code, message FROM rejected_changes ORDER BY rejected_ts")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every scope cursor the device holds.
    pub fn cursors(&self) -> Result<Vec<crate::sync::protocol::ScopeCursor>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT scope, cursor FROM sync_cursors ORDER BY scope")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(crate::sync::protocol::ScopeCursor {
                    scope: r.get(0)?,
                    cursor: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Records that have received changes whose dependencies are still missing.
    pub fn records_with_held_changes(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT doc_id FROM held_changes ORDER BY doc_id")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// A record's Automerge document for the repair protocol (empty if the store has none).
    pub fn document_for_repair(&self, id: &str) -> Result<automerge::AutoCommit> {
        match self.load(id) {
            Ok(mut doc) => Ok(doc.automerge().clone()),
            Err(Error::DocNotFound(_)) => Ok(automerge::AutoCommit::new()),
            Err(e) => Err(e),
        }
    }

    /// Removes acknowledged changes from the outbox; returns how many were there.
    pub fn ack(&mut self, hashes: &[ChangeHash]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
            for h in hashes {
                n += stmt.execute([h.0.as_slice()])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// How many changes wait in the outbox.
    pub fn outbox_len(&self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// How many received changes wait for their dependencies.
    pub fn held_len(&self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM held_changes", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    pub fn cursor(&self, scope: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM sync_cursors WHERE scope = ?1",
                [scope],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_cursor(&mut self, scope: &str, cursor: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_cursors (scope, cursor, updated_ts) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope) DO UPDATE SET cursor = excluded.cursor, updated_ts = excluded.updated_ts",
            params![scope, cursor, utc_text(&super::now())],
        )?;
        Ok(())
    }

    /// Drops a scope's cursor (a scope the account no longer reads).
    pub fn remove_cursor(&mut self, scope: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM sync_cursors WHERE scope = ?1", [scope])?;
        Ok(())
    }

    /// Every record id without changes waiting in the outbox: those the device may forget.
    pub fn settled_record_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM documents d
             WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.doc_id = d.id) ORDER BY id",
        )?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Deletes records the account may no longer read (the server said so: a team the cadre
    /// left, an assignment that ended, a colleague's attendance): their documents, projection
    /// rows, conflicts, problems and held changes, in one transaction, with SQLite's
    /// `secure_delete` so that the freed pages are overwritten rather than left readable in
    /// the file. A record with changes still to push is kept (they are this device's own
    /// work, and the server decides on them). Returns how many were deleted.
    pub fn forget_records(&mut self, ids: &[String]) -> Result<usize> {
        self.conn.pragma_update(None, "secure_delete", "ON")?;
        let result = (|| {
            let tx = self.conn.transaction()?;
            let mut n = 0;
            for id in ids {
                let pending: i64 = tx
                    .prepare_cached("SELECT count(*) FROM outbox WHERE doc_id = ?1")?
                    .query_row([id], |r| r.get(0))?;
                let kind: Option<String> = tx
                    .prepare_cached("SELECT kind FROM documents WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                let (Some(kind), 0) = (kind, pending) else {
                    continue;
                };
                if let Some(kind) = crate::domain::Kind::from_code(&kind) {
                    super::replace_projection_rows(&tx, id, kind, Rows::default())?;
                }
                for table in ["conflicts", "record_problems", "held_changes", "doc_chunks"] {
                    tx.prepare_cached(&format!("DELETE FROM {table} WHERE doc_id = ?1"))?
                        .execute([id])?;
                }
                n += tx
                    .prepare_cached("DELETE FROM documents WHERE id = ?1")?
                    .execute([id])?;
            }
            tx.commit()?;
            Ok(n)
        })();
        self.conn.pragma_update(None, "secure_delete", "OFF")?;
        result
    }

    /// Keeps the server's measure of this device's clock: the device's clock minus the
    /// server's, in ms (R2), replacing the previous one.
    /// The keys this device trusts ([`crate::sync::proof`]): its own, those it kept, the
    /// server's.
    pub fn keyring(&self) -> Result<crate::sync::proof::Keyring> {
        let mut authors = std::collections::HashMap::new();
        authors.insert(
            self.device.actor.to_bytes().to_vec(),
            self.device.public_key().to_vec(),
        );
        let mut stmt = self
            .conn
            .prepare_cached("SELECT actor, public_key FROM known_keys")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?)))?;
        for row in rows {
            let (actor, key) = row?;
            authors.insert(actor, key);
        }
        let server = self
            .conn
            .query_row("SELECT public_key FROM server_key", [], |r| r.get(0))
            .optional()?;
        Ok(crate::sync::proof::Keyring::new(authors, server))
    }

    /// Keeps the keys a checked response taught (first use only: a kept key is never
    /// replaced).
    pub fn keep_keys(&mut self, ring: &crate::sync::proof::Keyring) -> Result<()> {
        let (authors, server) = ring.learned();
        if authors.is_empty() && server.is_none() {
            return Ok(());
        }
        let now = utc_text(&super::now());
        let tx = self.conn.transaction()?;
        for (actor, key) in authors {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO known_keys (actor, public_key, kept_ts) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![actor, key, now])?;
        }
        if let Some(key) = server {
            tx.execute(
                "INSERT OR IGNORE INTO server_key (singleton, public_key, kept_ts) VALUES (1, ?1, ?2)",
                params![key, now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn set_clock_offset(&mut self, offset_ms: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO clock_offset (singleton, offset_ms, measured_ts) VALUES (1, ?1, ?2)
             ON CONFLICT (singleton) DO UPDATE
             SET offset_ms = excluded.offset_ms, measured_ts = excluded.measured_ts",
            params![offset_ms, utc_text(&super::now())],
        )?;
        Ok(())
    }

    /// The server's last measure of this device's clock; `None` before any sync with a server
    /// that measures it.
    pub fn clock_offset(&self) -> Result<Option<super::ClockOffset>> {
        Ok(self
            .conn
            .query_row("SELECT offset_ms, measured_ts FROM clock_offset", [], |r| {
                Ok(super::ClockOffset {
                    offset_ms: r.get(0)?,
                    measured_ts: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// Every record id in the store.
    pub fn record_ids(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT id FROM documents ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Every open conflict in the store: (record id, field path, number of values).
    pub fn all_conflicts(&self) -> Result<Vec<(String, String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id, path, value_count FROM conflicts ORDER BY doc_id, path")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Merged records that break a rule: (record id, field, problem code, message).
    pub fn record_problems(&self) -> Result<Vec<(String, String, String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT doc_id, field, problem, message FROM record_problems ORDER BY doc_id",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// A page of households, by village then head's name.
    pub fn list_households(
        &self,
        filter: &HouseholdFilter,
        page: Page,
    ) -> Result<Vec<HouseholdRow>> {
        let search = filter.search.as_ref().map(|s| format!("%{}%", s.trim()));
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, village_code, hamlet, head_name, status, attribute, member_count
             FROM p_household
             WHERE (?1 IS NULL OR village_code = ?1)
               AND (?2 IS NULL OR status = ?2)
               AND (?3 IS NULL OR head_name LIKE ?3 OR doc_id LIKE ?3)
             ORDER BY village_code, head_name, doc_id
             LIMIT ?4 OFFSET ?5",
        )?;
        let rows = stmt
            .query_map(
                params![
                    filter.village_code,
                    filter.status,
                    search,
                    page.limit,
                    page.offset
                ],
                |r| {
                    Ok(HouseholdRow {
                        id: r.get(0)?,
                        village_code: r.get(1)?,
                        hamlet: r.get(2)?,
                        head_name: r.get(3)?,
                        status: r.get(4)?,
                        attribute: r.get(5)?,
                        member_count: r.get(6)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

fn corrupt_outbox(doc_id: &str) -> Error {
    Error::CorruptDocument {
        id: doc_id.to_string(),
        detail: "an outbox entry names a change the document does not hold".into(),
    }
}
