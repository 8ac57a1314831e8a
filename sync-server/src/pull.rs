//! Pull and repair: what a device may read, after its cursors, in pages bounded by bytes.
//!
//! A pull answers for every scope the account may read ([`Principal::readable_scopes`]),
//! starting each at the cursor the device sent (0 for a scope it has never seen, such as a
//! village it just joined). The response holds at most `max_bytes` of changes overall (at
//! least one change) and says whether more wait. Repair answers Automerge sync messages for
//! documents the account may read, with a read-only sync state per device and document kept
//! in the store: it sends the device what it lacks and never takes changes this way (those
//! come through push, where they are checked). Heads tells a device which of its records
//! differ from the server's, after the server lost changes.
//!
//! A device that held more than its account reads now (it left a team, an assignment ended, a
//! colleague left, or the server narrowed what a role reads) forgets it: a pull names the
//! device's scopes that the account no longer reads ([`PullResponse::retired`]), the device
//! asks which of its records it may not read ([`unreadable`]) and deletes them, keeping any it
//! still has to push.
//!
//! Every change a pull or a repair sends carries what proves its author (protocol 2, see the
//! [store docs](crate::store)), with the keys of the devices that signed them and the server's
//! own key, for the device to check before it applies anything.

use automerge::sync::{Message, State, SyncDoc};

use std::collections::BTreeMap;

use cunji_core::sync::protocol::{
    AuthorKey, ChangeProof, DocHeads, HeadsRequest, HeadsResponse, Proof, PullPage, PullRequest,
    PullResponse, PulledChange, RepairMessage, RepairRequest, RepairResponse, UnreadableRequest,
    UnreadableResponse,
};

use crate::accounts::{Principal, RecordPlace};
use crate::store::{LoggedChange, StoreResult, Tx};

/// The keys of the devices whose signatures a response carries, by device id.
#[derive(Default)]
struct Keys(BTreeMap<String, Option<AuthorKey>>);

impl Keys {
    /// The proof a change goes out with, noting its device's key.
    fn proof_of(&mut self, tx: &mut dyn Tx, c: &LoggedChange) -> StoreResult<Proof> {
        Ok(match &c.proof {
            Some(p @ Proof::Device(_)) => {
                if !self.0.contains_key(&c.device_id) {
                    let key = tx.device(&c.device_id)?.map(|d| AuthorKey {
                        actor: d.actor,
                        public_key: d.public_key,
                    });
                    self.0.insert(c.device_id.clone(), key);
                }
                p.clone()
            }
            Some(p) => p.clone(),
            None => {
                // Not attested (the store attests every change when it opens): the device
                // will refuse it, which is right for a change nothing proves.
                tracing::warn!(seq = c.seq, doc_id = %c.doc_id, "a logged change has no proof");
                Proof::Server(Vec::new())
            }
        })
    }

    fn into_vec(self) -> Vec<AuthorKey> {
        self.0.into_values().flatten().collect()
    }
}

/// Most changes per scope per response, besides the byte bound.
const PAGE_LIMIT: usize = 10_000;

pub fn pull(
    tx: &mut dyn Tx,
    who: &Principal,
    req: &PullRequest,
    server_max: usize,
) -> StoreResult<PullResponse> {
    let mut budget = (req.max_bytes as usize).clamp(1, server_max.max(1));
    let mut pages = Vec::new();
    let mut more = false;
    let scopes = who.readable_scopes(tx)?;
    let mut keys = Keys::default();
    let retired = req
        .cursors
        .iter()
        .filter(|c| !scopes.iter().any(|s| s.name == c.scope))
        .map(|c| c.scope.clone())
        .collect();
    for scope in scopes {
        let cursor = req
            .cursors
            .iter()
            .find(|c| c.scope == scope.name)
            .map_or(0, |c| c.cursor);
        if budget == 0 {
            more |= !tx.changes_after(&scope.filter, cursor, 1, 1)?.is_empty();
            continue;
        }
        let rows = tx.changes_after(&scope.filter, cursor, budget, PAGE_LIMIT)?;
        let Some(last) = rows.last().map(|r| r.seq) else {
            continue;
        };
        let bytes: usize = rows.iter().map(|r| r.bytes.len()).sum();
        budget = budget.saturating_sub(bytes);
        more |= !tx.changes_after(&scope.filter, last, 1, 1)?.is_empty();
        let mut changes = Vec::with_capacity(rows.len());
        for row in rows {
            let proof = keys.proof_of(tx, &row)?;
            changes.push(PulledChange {
                doc_id: row.doc_id,
                change: row.bytes,
                proof,
            });
        }
        pages.push(PullPage {
            scope: scope.name,
            changes,
            cursor: last,
        });
    }
    Ok(PullResponse {
        pages,
        more,
        server_seq: tx.max_seq()?,
        // Set by the handler, which has the request's headers.
        device_clock_offset_ms: None,
        retired,
        keys: keys.into_vec(),
        server_key: tx.server_public_key().to_vec(),
    })
}

pub fn repair(
    tx: &mut dyn Tx,
    who: &Principal,
    req: &RepairRequest,
) -> StoreResult<RepairResponse> {
    let mut docs = Vec::with_capacity(req.docs.len());
    let mut keys = Keys::default();
    let mut proofs = Vec::new();
    for m in &req.docs {
        let Some(row) = tx.doc(&m.doc_id)? else {
            docs.push(RepairMessage {
                doc_id: m.doc_id.clone(),
                message: None,
            });
            continue;
        };
        if !who.may_read_doc(tx, RecordPlace::of(&row))? {
            docs.push(RepairMessage {
                doc_id: m.doc_id.clone(),
                message: None,
            });
            continue;
        }
        let doc = row.load()?;
        let mut am = doc.clone().automerge().clone();
        let mut state = match tx.repair_state(&who.device_id, &m.doc_id)? {
            Some(bytes) => State::decode(&bytes).unwrap_or_default(),
            None => State::new(),
        };
        // Read-only: the device's own changes reach the server only through push.
        state.read_only = true;
        if let Some(message) = m
            .message
            .as_deref()
            .and_then(|b| cunji_core::sync::protocol::decode_sync_message(b).ok())
        {
            let _ = am.sync().receive_sync_message(&mut state, message);
        }
        let reply = am
            .sync()
            .generate_sync_message(&mut state)
            .map(Message::encode);
        tx.put_repair_state(&who.device_id, &m.doc_id, &state.encode())?;
        if reply.is_some() {
            // The proofs of what the device may lack: the changes after the heads it has.
            let theirs: Vec<_> = state
                .their_heads
                .iter()
                .flatten()
                .filter(|h| am.get_change_by_hash(h).is_some())
                .copied()
                .collect();
            let hashes: Vec<Vec<u8>> = am
                .get_changes(&theirs)
                .iter()
                .map(|c| c.hash().0.to_vec())
                .collect();
            for row in tx.changes_by_hash(&hashes)? {
                let proof = keys.proof_of(tx, &row)?;
                let hash = cunji_core::doc::change_from_bytes(row.bytes)
                    .map(|c| c.hash().0.to_vec())
                    .unwrap_or_default();
                proofs.push(ChangeProof { hash, proof });
            }
        }
        docs.push(RepairMessage {
            doc_id: m.doc_id.clone(),
            message: reply,
        });
    }
    Ok(RepairResponse {
        docs,
        proofs,
        keys: keys.into_vec(),
        server_key: tx.server_public_key().to_vec(),
    })
}

/// The records of the request that the server holds and the caller may no longer read
/// ([`UnreadableResponse`]). Naming an id the server holds tells the caller no more than it
/// showed by knowing the id: a device learns ids only from what it once read or wrote.
pub fn unreadable(
    tx: &mut dyn Tx,
    who: &Principal,
    req: &UnreadableRequest,
) -> StoreResult<UnreadableResponse> {
    let mut docs = Vec::new();
    for id in &req.docs {
        if let Some(row) = tx.doc(id)?
            && !who.may_read_doc(tx, RecordPlace::of(&row))?
        {
            docs.push(id.clone());
        }
    }
    Ok(UnreadableResponse { docs })
}

/// Which of the device's records differ from the server's (see [`HeadsResponse`]).
/// A record the caller may not read gets the answer of a record the server lacks (empty
/// heads): the answer must not tell whether an id exists outside the caller's scope.
pub fn heads(tx: &mut dyn Tx, who: &Principal, req: &HeadsRequest) -> StoreResult<HeadsResponse> {
    let mut differ = Vec::new();
    for d in &req.docs {
        let unknown = DocHeads {
            doc_id: d.doc_id.clone(),
            heads: Vec::new(),
        };
        let Some(row) = tx.doc(&d.doc_id)? else {
            differ.push(unknown);
            continue;
        };
        if !who.may_read_doc(tx, RecordPlace::of(&row))? {
            differ.push(unknown);
            continue;
        }
        let mut doc = row.load()?;
        let mut ours: Vec<Vec<u8>> = doc.heads().iter().map(|h| h.0.to_vec()).collect();
        let mut theirs = d.heads.clone();
        ours.sort();
        theirs.sort();
        if ours != theirs {
            differ.push(DocHeads {
                doc_id: d.doc_id.clone(),
                heads: ours,
            });
        }
    }
    Ok(HeadsResponse { differ })
}
