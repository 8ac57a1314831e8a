//! Writing a plan: the importing account's device for this import, each new or changed record
//! as one signed change, merged kind by kind as a phone's push ([`crate::merge`]).

use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::{
    Assignment, Cadre, Entitlement, Envelope, Household, HouseholdPrivate, Kind, PolicyItem,
    Record, RecordState, Team, Unit,
};
use cunji_core::identity::DeviceIdentity;
use cunji_core::sync::protocol::{PushItem, PushOutcome, PushRequest};
use ed25519_dalek::SigningKey;

use super::plan::{Action, Plan, Planned, Source, WRITE_ORDER};
use super::{Problem, Report};
use crate::accounts::Principal;
use crate::merge::{check_batch_parallel, ingest};
use crate::store::{Account, DeviceRow, StoreError, StoreResult, Tx};

/// The reason an import's change carries: `导入：<file>` for a new record, `导入更新：<file>`
/// for an edit.
pub fn reason(new: bool, file: &str) -> String {
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    if new {
        format!("导入：{name}")
    } else {
        format!("导入更新：{name}")
    }
}

/// A device of its own for this import (see the module docs of [`super`]).
fn import_device(tx: &mut dyn Tx, account: &Account) -> StoreResult<(Principal, DeviceIdentity)> {
    let device_id = format!("import-{}", uuid::Uuid::now_v7());
    let actor = cunji_core::doc::new_actor();
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let row = DeviceRow {
        device_id: device_id.clone(),
        login: account.login.clone(),
        actor: actor.to_bytes().to_vec(),
        public_key: key.verifying_key().to_bytes().to_vec(),
        registered_ts: chrono::Utc::now().to_rfc3339(),
        revoked_ts: None,
    };
    tx.put_device(&row)?;
    let identity = DeviceIdentity::from_parts(device_id, actor.to_bytes(), &key.to_bytes())
        .ok_or_else(|| StoreError::Corrupt("a 32-byte key".into()))?;
    Ok((Principal::new(account.clone(), row), identity))
}

/// The change that makes the stored record `p.data`: its first change (no database needed,
/// so it can be built on any thread), or an edit of the stored document by this device's
/// actor; `None` when the edit changes nothing.
fn change_of(
    tx: Option<&mut dyn Tx>,
    p: &Planned,
    principal: &Principal,
    edit: &Edit,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Option<Vec<u8>>, String> {
    fn go<T: Record>(
        tx: Option<&mut dyn Tx>,
        p: &Planned,
        principal: &Principal,
        edit: &Edit,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Option<Vec<u8>>, String> {
        let record: T = serde_json::from_value(p.data.clone()).map_err(|e| e.to_string())?;
        let actor = automerge::ActorId::from(principal.actor.as_slice());
        match (&p.stored, tx) {
            (None, _) => {
                let env = Envelope {
                    id: p.id.clone(),
                    kind: T::KIND,
                    author_id: principal.login.clone(),
                    device_id: principal.device_id.clone(),
                    created_device_ts: now,
                    device_uptime_ms: 0,
                    geo: None,
                    server_received_ts: None,
                    state: RecordState::Submitted,
                };
                let (_, change) =
                    RecordDoc::create(actor, &env, &record, edit).map_err(|e| e.to_string())?;
                Ok(Some(change.raw_bytes().to_vec()))
            }
            (Some((_, env)), Some(tx)) => {
                let row = tx
                    .doc(&p.id)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("record {} is not stored", p.id))?;
                let mut doc = RecordDoc::load(&p.id, Some(&row.snapshot), &row.chunks, actor)
                    .map_err(|e| e.to_string())?;
                let change = doc.update(env, &record, edit).map_err(|e| e.to_string())?;
                Ok(change.map(|c| c.raw_bytes().to_vec()))
            }
            (Some(_), None) => Err(format!("record {}: an edit needs the database", p.id)),
        }
    }
    match p.kind {
        Kind::Unit => go::<Unit>(tx, p, principal, edit, now),
        Kind::Cadre => go::<Cadre>(tx, p, principal, edit, now),
        Kind::Team => go::<Team>(tx, p, principal, edit, now),
        Kind::PolicyItem => go::<PolicyItem>(tx, p, principal, edit, now),
        Kind::Household => go::<Household>(tx, p, principal, edit, now),
        Kind::HouseholdPrivate => go::<HouseholdPrivate>(tx, p, principal, edit, now),
        Kind::Assignment => go::<Assignment>(tx, p, principal, edit, now),
        Kind::Entitlement => go::<Entitlement>(tx, p, principal, edit, now),
        other => Err(format!("{other} is not imported")),
    }
}

/// The signed push items of plan records `which` (new ones only: no database), on up to
/// `threads` threads, in `which`'s order.
fn build_new(
    plan: &Plan,
    which: &[usize],
    principal: &Principal,
    identity: &DeviceIdentity,
    now: chrono::DateTime<chrono::Utc>,
    threads: usize,
) -> Vec<Result<Option<PushItem>, String>> {
    let run = which.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = which
            .chunks(run)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|&i| {
                            let p = &plan.records[i];
                            let edit = edit_of(p, principal, now);
                            change_of(None, p, principal, &edit, now.fixed_offset()).map(|c| {
                                c.and_then(|bytes| PushItem::signed(identity, &p.id, bytes))
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// The history entry of an imported record's change: who, and `导入` or `导入更新` with the
/// file's name.
fn edit_of(p: &Planned, principal: &Principal, now: chrono::DateTime<chrono::Utc>) -> Edit {
    Edit {
        meta: ChangeMeta {
            reason: reason(p.action == Action::New, &p.main.file),
            cadre_id: principal.login.clone(),
            device_id: principal.device_id.clone(),
        },
        time_ms: now.timestamp_millis(),
    }
}

fn refused(src: &Source, key: &str, code: &str, message: &str) -> Problem {
    // The merge's messages are `中文 / English`.
    let (zh, en) = message.split_once(" / ").unwrap_or((message, message));
    Problem {
        file: src.file.clone(),
        sheet: src.sheet_name.clone(),
        row: src.row,
        column: None,
        value: Some(key.to_string()),
        code: code.to_string(),
        message: zh.to_string(),
        message_en: en.to_string(),
    }
}

/// Merges the plan's new and changed records as `account`, kind by kind in [`WRITE_ORDER`];
/// a change the merge refuses becomes a problem of its record's row.
pub fn apply(
    tx: &mut dyn Tx,
    account: &Account,
    plan: &mut Plan,
    report: &mut Report,
) -> StoreResult<()> {
    let (principal, identity) = import_device(tx, account)?;
    let now = chrono::Utc::now();
    let stamp = now.to_rfc3339();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    for kind in WRITE_ORDER {
        let started = std::time::Instant::now();
        let of_kind: Vec<usize> = (0..plan.records.len())
            .filter(|&i| {
                let p = &plan.records[i];
                p.kind == kind && p.action != Action::Unchanged
            })
            .collect();
        // New records' changes need no database: built and signed on every core; edits read
        // their stored documents in this transaction.
        let new: Vec<usize> = of_kind
            .iter()
            .copied()
            .filter(|&i| plan.records[i].stored.is_none())
            .collect();
        let mut built = build_new(plan, &new, &principal, &identity, now, threads).into_iter();
        let mut items = Vec::new();
        let mut which = Vec::new();
        for &i in &of_kind {
            let p = &plan.records[i];
            let result = if p.stored.is_none() {
                built.next().unwrap_or_else(|| Err("not built".into()))
            } else {
                let edit = edit_of(p, &principal, now);
                change_of(Some(&mut *tx), p, &principal, &edit, now.fixed_offset())
                    .map(|c| c.and_then(|bytes| PushItem::signed(&identity, &p.id, bytes)))
            };
            match result {
                Ok(Some(item)) => {
                    items.push(item);
                    which.push(i);
                }
                Ok(None) => {}
                Err(message) => {
                    report
                        .problems
                        .push(refused(&p.main, &p.key, "invalid_record", &message))
                }
            }
        }
        if items.is_empty() {
            continue;
        }
        let built = started.elapsed().as_secs_f64();
        let n = items.len();
        let batch = check_batch_parallel(&principal, PushRequest { items }, threads);
        let checked = started.elapsed().as_secs_f64();
        let outcomes = ingest(tx, batch, &stamp)?;
        tracing::info!(
            %kind,
            changes = n,
            build_s = built,
            check_s = checked - built,
            ingest_s = started.elapsed().as_secs_f64() - checked,
            "import merged"
        );
        for ((_, outcome), i) in outcomes.into_iter().zip(which) {
            let p = &plan.records[i];
            match outcome {
                PushOutcome::Accepted | PushOutcome::Duplicate => report.changes += 1,
                PushOutcome::Rejected { code, message } => {
                    report
                        .problems
                        .push(refused(&p.main, &p.key, &code, &message));
                }
                other => report.problems.push(refused(
                    &p.main,
                    &p.key,
                    "not_merged",
                    &format!("未能合并 / not merged: {other:?}"),
                )),
            }
        }
    }
    Ok(())
}
