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
use crate::merge::{check_batch, ingest};
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

/// The change that makes the stored record `p.data`: its first change, or an edit of the
/// stored document by this device's actor.
fn change_of(
    tx: &mut dyn Tx,
    p: &Planned,
    principal: &Principal,
    edit: &Edit,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Option<Vec<u8>>, String> {
    fn go<T: Record>(
        tx: &mut dyn Tx,
        p: &Planned,
        principal: &Principal,
        edit: &Edit,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Option<Vec<u8>>, String> {
        let record: T = serde_json::from_value(p.data.clone()).map_err(|e| e.to_string())?;
        let actor = automerge::ActorId::from(principal.actor.as_slice());
        match &p.stored {
            None => {
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
            Some((_, env)) => {
                let row = tx
                    .doc(&p.id)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("record {} is not stored", p.id))?;
                let mut doc = RecordDoc::load(&p.id, Some(&row.snapshot), &row.chunks, actor)
                    .map_err(|e| e.to_string())?;
                let change = doc.update(env, &record, edit).map_err(|e| e.to_string())?;
                Ok(change.map(|c| c.raw_bytes().to_vec()))
            }
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
    for kind in WRITE_ORDER {
        let mut items = Vec::new();
        let mut which = Vec::new();
        for (i, p) in plan.records.iter().enumerate() {
            if p.kind != kind || p.action == Action::Unchanged {
                continue;
            }
            let edit = Edit {
                meta: ChangeMeta {
                    reason: reason(p.action == Action::New, &p.main.file),
                    cadre_id: principal.login.clone(),
                    device_id: principal.device_id.clone(),
                },
                time_ms: now.timestamp_millis(),
            };
            match change_of(tx, p, &principal, &edit, now.fixed_offset()) {
                Ok(Some(bytes)) => {
                    if let Some(item) = PushItem::signed(&identity, &p.id, bytes) {
                        items.push(item);
                        which.push(i);
                    }
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
        let batch = check_batch(&principal, PushRequest { items });
        let outcomes = ingest(tx, batch, &stamp)?;
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
