//! Records whose history the server rebuilt (the sync server's `rebuild` module: households
//! from before their ID and bank numbers moved to a record of their own).
//!
//! The server replaces such a record's history with a new one under the same id; the device
//! notices when a pull brings a second first change (one with no dependencies) for a record
//! it holds and lacks it. A record is created once, so a second first change can only be a
//! rebuilt history. In the same transaction as that page, the device:
//! 1. sets aside its own edits of the record that the server has not taken (in the outbox, or
//!    refused as `record_rebuilt`): the record as the others saw it before those edits and
//!    as this device left it, both as JSON, in `rebuilt_edits`;
//! 2. drops the old history (document, chunks, outbox entries, refusals, conflicts,
//!    problems, held changes) with SQLite's `secure_delete`, so the numbers it held are not
//!    left in the file;
//! 3. applies the new history like any record first seen.
//!
//! After the pull, [`Store::carry_rebuilt_edits`] makes each set-aside edit again on the new
//! history, as this device's own change (field by field, [`crate::doc::three_way`]: what the
//! edit left alone keeps the new history's value), and the sync pushes it. An ID or bank
//! number the edit changed goes to the household's numbers record when the device holds it.
//! What cannot be carried (the record no longer validates, the device does not hold the
//! numbers record) is kept as a refusal with code `rebuilt_edit_not_carried`, for the cadre
//! to see and enter again.

use std::collections::{BTreeMap, HashSet};

use automerge::{Change, ChangeHash};
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Author, Store};
use crate::doc::{ChangeMeta, RecordDoc, three_way};
use crate::domain::{Household, HouseholdPrivate, Kind};
use crate::error::Result;
use crate::projection::utc_text;

/// The records of a batch whose incoming changes include a first change that the device's
/// copy lacks: rebuilt on the server.
pub(super) fn rebuilt_in_batch(
    store: &Store,
    by_doc: &BTreeMap<&str, Vec<(usize, Change)>>,
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for (doc_id, changes) in by_doc {
        let roots: Vec<ChangeHash> = changes
            .iter()
            .filter(|(_, c)| c.deps().is_empty())
            .map(|(_, c)| c.hash())
            .collect();
        if roots.is_empty() {
            continue;
        }
        let held: bool = store
            .conn
            .prepare_cached("SELECT 1 FROM documents WHERE id = ?1")?
            .query_row([doc_id], |_| Ok(()))
            .optional()?
            .is_some();
        if !held {
            continue;
        }
        let mut doc = store.load(doc_id)?;
        if !doc.heads().is_empty() && roots.iter().any(|h| !doc.contains(h)) {
            out.insert((*doc_id).to_string());
        }
    }
    Ok(out)
}

/// Steps 1 and 2 of the module docs, inside the page's transaction.
pub(super) fn set_aside(tx: &Transaction<'_>, doc: &mut RecordDoc) -> Result<()> {
    let doc_id = doc.id().to_string();
    let unsent: Vec<ChangeHash> = {
        let mut stmt = tx.prepare_cached(
            "SELECT hash FROM outbox WHERE doc_id = ?1
             UNION SELECT hash FROM rejected_changes WHERE doc_id = ?1",
        )?;
        let rows = stmt.query_map([&doc_id], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for bytes in rows {
            if let Ok(h) = <[u8; 32]>::try_from(bytes?.as_slice()) {
                out.push(ChangeHash(h));
            }
        }
        out
    };
    // The device's last unsent change names who made the edits.
    let last = doc
        .changes()
        .into_iter()
        .rev()
        .find(|c| unsent.contains(&c.hash()));
    if let Some(last) = last {
        let meta = ChangeMeta::from_message(last.message());
        let base = doc.json_without(&unsent);
        let mine = doc.to_json();
        if base != mine && !base.is_null() {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO rebuilt_edits (doc_id, hash, cadre_id, base_json, mine_json, saved_ts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                doc_id,
                last.hash().0.as_slice(),
                meta.cadre_id,
                base.to_string(),
                mine.to_string(),
                utc_text(&super::now())
            ])?;
        }
    }
    for table in [
        "outbox",
        "rejected_changes",
        "held_changes",
        "doc_chunks",
        "conflicts",
        "record_problems",
    ] {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE doc_id = ?1"))?
            .execute([&doc_id])?;
    }
    tx.prepare_cached("DELETE FROM documents WHERE id = ?1")?
        .execute([&doc_id])?;
    Ok(())
}

/// Why an edit set aside could not be made again.
const NOT_CARRIED: &str = "rebuilt_edit_not_carried";

impl Store {
    /// Makes again, on their new histories, the edits set aside when records were rebuilt
    /// (see the module docs); returns how many were made. Those whose record has not arrived
    /// yet wait for a later sync.
    pub fn carry_rebuilt_edits(&mut self) -> Result<usize> {
        let rows: Vec<(String, Vec<u8>, String, String, String)> = {
            let mut stmt = self.conn.prepare(
                "SELECT doc_id, hash, cadre_id, base_json, mine_json FROM rebuilt_edits ORDER BY saved_ts",
            )?;
            stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut carried = 0;
        for (doc_id, hash, cadre_id, base, mine) in rows {
            let Ok(doc) = self.load(&doc_id) else {
                continue;
            };
            let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
            let (base, mine) = (parse(&base), parse(&mine));
            let theirs = doc.to_json();
            let merged = three_way(Some(&base), Some(&mine), Some(&theirs)).unwrap_or_default();
            let author = Author::now(
                cadre_id,
                "同步:服务器重建记录后,带回本机未上传的修改 (carried over onto the rebuilt record)",
            );
            let kind = doc.envelope()?.kind;
            let mut problem = None;
            if let Some(data) = merged.get("data").cloned() {
                match self.update_json(&author, &doc_id, data) {
                    Ok(true) => carried += 1,
                    Ok(false) => {}
                    Err(e) => problem = Some(e.to_string()),
                }
            }
            if kind == Kind::Household && problem.is_none() {
                problem = self.carry_numbers(&author, &doc_id, &base, &mine)?;
            }
            let tx = self.conn.transaction()?;
            if let Some(message) = problem {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO rejected_changes (hash, doc_id, code, message, rejected_ts)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    hash,
                    doc_id,
                    NOT_CARRIED,
                    format!(
                        "服务器重建了这条记录,本机未上传的修改没能带到新记录上,请重新填写 / the server rebuilt this record and this phone's unsent edit could not be carried over: enter it again ({message})"
                    ),
                    utc_text(&super::now())
                ])?;
            }
            tx.prepare_cached("DELETE FROM rebuilt_edits WHERE doc_id = ?1")?
                .execute([&doc_id])?;
            tx.commit()?;
        }
        Ok(carried)
    }

    /// An unsent edit of a household from before the numbers split that changed its ID or
    /// bank numbers: made on the household's numbers record. Returns what could not be done.
    fn carry_numbers(
        &mut self,
        author: &Author,
        household_id: &str,
        base: &serde_json::Value,
        mine: &serde_json::Value,
    ) -> Result<Option<String>> {
        let numbers = |v: &serde_json::Value| {
            v.get("data")
                .and_then(|d| HouseholdPrivate::from_pre_split(household_id, d))
        };
        let (before, after) = (numbers(base), numbers(mine));
        if before == after {
            return Ok(None);
        }
        let Some(after) = after else {
            return Ok(None);
        };
        let Some(id) = self.numbers_id(household_id)? else {
            return Ok(Some(
                "这部手机没有这户的证件号码记录 / this phone does not hold the household's numbers record".into(),
            ));
        };
        let mut record: HouseholdPrivate = self.get::<HouseholdPrivate>(&id)?.record;
        let before = before.unwrap_or_else(|| HouseholdPrivate {
            household_id: household_id.into(),
            bank_account: None,
            id_numbers: Default::default(),
        });
        if after.bank_account != before.bank_account {
            record.bank_account = after.bank_account;
        }
        for (member, n) in after.id_numbers {
            if before.id_numbers.get(&member) != Some(&n) {
                record.id_numbers.insert(member, n);
            }
        }
        let household: Household = self.get::<Household>(household_id)?.record;
        if let Err(e) = record.check_members(&household) {
            return Ok(Some(e.to_string()));
        }
        match self.update(author, &id, &record) {
            Ok(_) => Ok(None),
            Err(e) => Ok(Some(e.to_string())),
        }
    }
}
