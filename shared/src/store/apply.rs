//! Applying changes from other replicas: idempotent, in any order, nothing dropped.
//!
//! A batch is parsed whole before anything is written: one malformed change rejects the batch
//! with [`Error::MalformedChange`] and stores nothing. Then, per record, in one transaction:
//! changes already in the document are reported as duplicates; the rest are applied together
//! with any changes held earlier for that record; changes whose dependencies are still missing
//! are held in `held_changes` (and reported as such) until a later batch brings them. A
//! second first change for a record the device holds is a history the server rebuilt
//! ([`super::rebuilt`]).

use std::collections::BTreeMap;

use automerge::{Change, ChangeHash};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, append_chunk, load_doc, refresh_projection};
use crate::doc::RecordDoc;
use crate::error::{Error, Result};
use crate::identity::DeviceIdentity;
use crate::projection::utc_text;

/// A change received for record `doc_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingChange {
    pub doc_id: String,
    pub bytes: Vec<u8>,
}

/// What happened to one incoming change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    /// Already in the document; nothing to do.
    Duplicate,
    /// Kept until the changes it depends on arrive.
    Held {
        missing: Vec<ChangeHash>,
    },
}

/// The outcome of each change of a batch, in the batch's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub outcomes: Vec<(ChangeHash, ApplyOutcome)>,
    /// Changes held earlier that this batch allowed to apply.
    pub released: usize,
}

impl ApplyReport {
    pub fn applied(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(_, o)| *o == ApplyOutcome::Applied)
            .count()
    }

    pub fn duplicates(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(_, o)| *o == ApplyOutcome::Duplicate)
            .count()
    }

    pub fn held(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(_, o)| matches!(o, ApplyOutcome::Held { .. }))
            .count()
    }
}

impl Store {
    /// Applies changes from other replicas (see the module docs).
    pub fn apply_changes(&mut self, changes: &[IncomingChange]) -> Result<ApplyReport> {
        self.apply_inner(changes, None)
    }

    /// Applies one pulled page and stores the scope's new cursor in the same transaction, so
    /// an interrupted pull resumes after the last page that was fully applied.
    pub fn apply_page(
        &mut self,
        changes: &[IncomingChange],
        scope: &str,
        cursor: i64,
    ) -> Result<ApplyReport> {
        self.apply_inner(changes, Some((scope, cursor)))
    }

    fn apply_inner(
        &mut self,
        changes: &[IncomingChange],
        cursor: Option<(&str, i64)>,
    ) -> Result<ApplyReport> {
        let mut by_doc: BTreeMap<&str, Vec<(usize, Change)>> = BTreeMap::new();
        for (i, incoming) in changes.iter().enumerate() {
            let change = parse_change(&incoming.doc_id, &incoming.bytes)?;
            by_doc
                .entry(incoming.doc_id.as_str())
                .or_default()
                .push((i, change));
        }
        let mut outcomes: Vec<Option<(ChangeHash, ApplyOutcome)>> = vec![None; changes.len()];
        let mut released = 0;
        let rebuilt = super::rebuilt::rebuilt_in_batch(self, &by_doc)?;
        if !rebuilt.is_empty() {
            // The old histories go, and what they held must not stay readable in the file.
            self.conn.pragma_update(None, "secure_delete", "ON")?;
        }
        let result = self.apply_batch(by_doc, &rebuilt, cursor, &mut outcomes, &mut released);
        if !rebuilt.is_empty() {
            self.conn.pragma_update(None, "secure_delete", "OFF")?;
        }
        result?;
        Ok(ApplyReport {
            outcomes: outcomes.into_iter().flatten().collect(),
            released,
        })
    }

    fn apply_batch(
        &mut self,
        by_doc: BTreeMap<&str, Vec<(usize, Change)>>,
        rebuilt: &std::collections::HashSet<String>,
        cursor: Option<(&str, i64)>,
        outcomes: &mut [Option<(ChangeHash, ApplyOutcome)>],
        released: &mut usize,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (doc_id, incoming) in by_doc {
            let rebuilt = rebuilt.contains(doc_id);
            *released += apply_to_doc(&tx, &self.device, doc_id, incoming, rebuilt, outcomes)?;
        }
        if let Some((scope, cursor)) = cursor {
            tx.execute(
                "INSERT INTO sync_cursors (scope, cursor, updated_ts) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope) DO UPDATE SET cursor = excluded.cursor, updated_ts = excluded.updated_ts",
                params![scope, cursor, utc_text(&super::now())],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn parse_change(doc_id: &str, bytes: &[u8]) -> Result<Change> {
    crate::doc::change_from_bytes(bytes.to_vec()).map_err(|detail| Error::MalformedChange {
        doc_id: doc_id.to_string(),
        detail,
    })
}

/// Applies one record's incoming changes; returns how many held changes got in. `rebuilt`:
/// the changes bring a new history of a record the device holds (see [`super::rebuilt`]).
fn apply_to_doc(
    tx: &Transaction<'_>,
    device: &DeviceIdentity,
    doc_id: &str,
    incoming: Vec<(usize, Change)>,
    rebuilt: bool,
    outcomes: &mut [Option<(ChangeHash, ApplyOutcome)>],
) -> Result<usize> {
    let mut exists: bool = tx
        .prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?
        .query_row([doc_id], |_| Ok(()))
        .optional()?
        .is_some();
    let mut doc = if exists {
        load_doc(tx, doc_id, device)?
    } else {
        RecordDoc::empty(doc_id, device.actor.clone())
    };
    if rebuilt && exists {
        super::rebuilt::set_aside(tx, &mut doc)?;
        doc = RecordDoc::empty(doc_id, device.actor.clone());
        exists = false;
    }
    let held: Vec<Change> = {
        let mut stmt = tx.prepare_cached("SELECT bytes FROM held_changes WHERE doc_id = ?1")?;
        let rows = stmt.query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?;
        let mut held = Vec::new();
        for bytes in rows {
            held.push(parse_change(doc_id, &bytes?)?);
        }
        held
    };
    let heads_before = doc.heads();
    let mut fresh = Vec::new();
    for (i, change) in incoming {
        let hash = change.hash();
        if doc.contains(&hash)
            || fresh
                .iter()
                .any(|(_, c): &(usize, Change)| c.hash() == hash)
        {
            outcomes[i] = Some((hash, ApplyOutcome::Duplicate));
        } else {
            fresh.push((i, change));
        }
    }
    if fresh.is_empty() && held.is_empty() {
        return Ok(0);
    }
    let mut batch: Vec<Change> = fresh.iter().map(|(_, c)| c.clone()).collect();
    batch.extend(held.iter().cloned());
    doc.apply(batch)?;

    let mut released = 0;
    for change in &held {
        if doc.contains(&change.hash()) {
            released += 1;
            tx.prepare_cached("DELETE FROM held_changes WHERE doc_id = ?1 AND hash = ?2")?
                .execute(params![doc_id, change.hash().0.as_slice()])?;
        }
    }
    for (i, change) in fresh {
        let hash = change.hash();
        if doc.contains(&hash) {
            outcomes[i] = Some((hash, ApplyOutcome::Applied));
        } else {
            let mut missing = Vec::new();
            for dep in change.deps() {
                if !doc.contains(dep) {
                    missing.push(*dep);
                }
            }
            tx.prepare_cached(
                "INSERT OR IGNORE INTO held_changes (doc_id, hash, bytes, received_ts)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                doc_id,
                hash.0.as_slice(),
                change.raw_bytes(),
                utc_text(&super::now())
            ])?;
            outcomes[i] = Some((hash, ApplyOutcome::Held { missing }));
        }
    }

    if doc.heads() == heads_before {
        return Ok(released);
    }
    if !exists {
        let kind = doc
            .envelope()
            .map(|e| e.kind.code().to_string())
            .unwrap_or_default();
        tx.prepare_cached("INSERT INTO documents (id, kind, updated_ts) VALUES (?1, ?2, ?3)")?
            .execute(params![doc_id, kind, utc_text(&super::now())])?;
    }
    let chunk = doc.save_after(&heads_before);
    append_chunk(tx, &mut doc, &chunk)?;
    refresh_projection(tx, &mut doc)?;
    Ok(released)
}
