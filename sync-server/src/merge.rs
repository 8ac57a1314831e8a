//! The server's merge: check each pushed change, apply it to its record's document, keep it
//! in the change log and refresh the record's projection, all in one transaction per push.
//!
//! Checks, in order (each failure rejects that change alone, with a code):
//! 1. `malformed_change`: the bytes parse as an Automerge change;
//! 2. `actor_not_bound`: the change's actor is the pushing device's registered actor;
//! 3. `bad_signature`: in protocol 2, the change's own Ed25519 signature is the pushing
//!    device's over its record id and hash, and it is logged with the change
//!    ([`Proof::Device`]), so that pulls carry it and `verify-log` can check it for good; in
//!    protocol 1 the device's signature covers the batch's manifest (every item's record id and
//!    change bytes), a batch that fails it is refused whole, and the store attests each change
//!    it logs ([`Proof::Server`]);
//! 4. `forged_author`: the change's message names the signed-in cadre and this device;
//! 5. `invalid_record`: the record after the change does not parse; for a new record,
//!    `forged_author` (the envelope names another author or device, or an event record is
//!    about another cadre), `unknown_reference` (its household or entitlement is unknown);
//! 6. `moved_record`: a change that would alter the record's kind, author or place;
//!    `not_author`: an event record changed by someone who neither wrote nor reviews it;
//!    `out_of_scope`: the access table ([`cunji_core::domain::access::rights`], applied by
//!    [`Principal::may`]) does not let the account create, edit or review this kind there, or
//!    not on the record's day (a cadre whose team membership or assignment had ended);
//! 7. the check rules of [`crate::checks`], each with its code;
//! 8. `invalid_record`: the record breaks a rule of its kind's validation (R10's one 户主, …):
//!    a new record, or an edit that makes it break a rule it did not break before.
//!
//! A change whose dependencies the server lacks is held (and reported `Held`) until they
//! arrive; it is then checked under the account of the device that pushed it. A record whose
//! history the server replaced ([`crate::rebuild`]) takes only changes that continue the new
//! history: the rest are `record_rebuilt`. Changes are
//! idempotent by hash: a change already stored is a `Duplicate`.
//!
//! Clocks: each logged change keeps the server's time of arrival (`received_ts`) and the
//! pushing device's clock offset then (`device_clock_offset_ms`: the `x-cunji-device-time`
//! header minus the server's clock when the request's headers arrived), beside the device's
//! own times inside the document, which are never rewritten. Merging never looks at clocks:
//! Automerge orders changes by their dependencies, so a phone days fast or slow converges
//! like any other and does not win a same-field edit. The offset is the phone's clock at the
//! push, not necessarily at the edit (a clock corrected in between goes unseen); a held change
//! released later and a handover bundle have none. R2's drift for a check-in is the offset of
//! its record's first change ([`crate::store::Tx::received_clock`]).
//!
//! Not here: HTTP and authentication (see `routes`).

use std::collections::BTreeMap;

use automerge::{ActorId, Change};
use cunji_core::doc::{ChangeMeta, RecordDoc};
use cunji_core::domain::{Envelope, Kind, RecordFacts, ScopeHint, facts_and_rows};
use cunji_core::identity::{verify_change, verify_message};
use cunji_core::projection::Rows;
use cunji_core::sync::protocol::{Proof, PushOutcome, PushRequest, v1};

use crate::accounts::{Principal, RecordPlace};
use crate::store::{ChangeRow, DocRow, HeldRow, StoreError, StoreResult, Tx};
use cunji_core::domain::access::{Action, Reach, Role, owner_of, rights};

/// Chunks of a document folded into a new snapshot beyond this many.
const FOLD_CHUNKS: usize = 32;

pub(crate) fn reject(code: &str, message: impl Into<String>) -> PushOutcome {
    PushOutcome::Rejected {
        code: code.into(),
        message: message.into(),
    }
}

/// A change made on a record's history that the server replaced (`crate::rebuild`).
fn rebuilt() -> PushOutcome {
    reject(
        "record_rebuilt",
        "服务器已重建这条记录(身份证号和银行账号移到了单独的记录),这次修改是在旧记录上做的:\
         请再同步一次,村记会把修改带到新记录上 / the server rebuilt this record (ID and bank \
         numbers moved to a record of their own) and this change was made on the old one: sync \
         again and the app carries the edit over",
    )
}

/// A change that passed the checks that need no document.
struct Checked {
    index: usize,
    change: Change,
    principal: Principal,
    /// Its device's signature (protocol 2), logged with it.
    proof: Option<Proof>,
    /// For a change that creates its record: the work that needs no database, done before
    /// the writer's lock.
    prepared: Option<Prepared>,
}

/// A record's state after a change, read once: the document and what [`read_facts`] read.
struct Prepared {
    doc: RecordDoc,
    read: Read,
}

/// What authorisation needs of a record's state, its projection rows, and the rule of its
/// kind it breaks (`invalid_record`), refused once the access table and the check rules have
/// had their say.
struct Read {
    facts: Result<Facts, PushOutcome>,
    rows: Option<(Kind, Rows)>,
    broken: Option<PushOutcome>,
}

/// What authorisation reads from a record: its envelope, its facts, and (for the kinds with
/// checked rules, [`crate::checks`]) its data.
#[derive(Debug, Clone)]
struct Facts {
    env: Envelope,
    record: RecordFacts,
    data: Option<serde_json::Value>,
}

/// The kinds [`crate::checks::check`] reads.
fn checked(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Household
            | Kind::HouseholdPrivate
            | Kind::Assignment
            | Kind::CheckIn
            | Kind::Leave
            | Kind::StatusChange
            | Kind::WorkLog
            | Kind::Visit
            | Kind::Petition
            | Kind::LedgerSignature
            | Kind::Feedback
    )
}

/// Reads a record's facts, and whether it breaks a rule of its kind's validation (R10's one
/// 户主 and the rest, as the device's store checked before saving it): a new record that
/// does, or an edit that makes a record break a rule it did not break `before` (so that a
/// record stored broken, by an old import or a merge of concurrent edits, can still be edited
/// and mended, but no edit breaks a valid record), is refused `invalid_record`, after the
/// access table and the check rules, whose codes say more.
fn read_facts(doc: &RecordDoc, before: Option<&RecordDoc>) -> Read {
    let (env, data) = match (doc.envelope(), doc.data_json()) {
        (Ok(env), Ok(data)) => (env, data),
        (Err(e), _) | (_, Err(e)) => {
            return Read {
                facts: Err(reject("invalid_record", e.to_string())),
                rows: None,
                broken: None,
            };
        }
    };
    let mut rows = Rows::default();
    let kept = checked(env.kind).then(|| data.clone());
    match facts_and_rows(&env, data, &mut rows) {
        Ok((record, problem)) => {
            let broken = problem
                .filter(|p| before.is_none_or(|b| broken_rule(b).as_ref() != Some(p)))
                .map(|p| reject("invalid_record", p.to_string()));
            let kind = env.kind;
            let facts = Facts {
                env,
                record,
                data: kept,
            };
            Read {
                facts: Ok(facts),
                rows: Some((kind, rows)),
                broken,
            }
        }
        Err(e) => Read {
            facts: Err(reject("invalid_record", e.to_string())),
            rows: None,
            broken: None,
        },
    }
}

/// The rule a stored record breaks, if any (read only when an edit of it breaks one).
fn broken_rule(doc: &RecordDoc) -> Option<cunji_core::ValidationError> {
    let (env, data) = (doc.envelope().ok()?, doc.data_json().ok()?);
    facts_and_rows(&env, data, &mut Rows::default()).ok()?.1
}

fn prepare_new(doc_id: &str, change: &Change) -> Option<Prepared> {
    if !change.deps().is_empty() {
        return None;
    }
    let mut doc = RecordDoc::empty(doc_id, server_actor());
    doc.apply(vec![change.clone()]).ok()?;
    // The record is read once for both authorisation and projection.
    let read = read_facts(&doc, None);
    Some(Prepared { doc, read })
}

/// A pushed batch after the checks that need no database (1–4 of the module docs): done
/// before the write transaction, so that parsing and signature checks of concurrent pushes
/// run in parallel instead of under the writer's lock.
#[derive(Debug)]
pub struct CheckedBatch {
    outcomes: Vec<(Vec<u8>, PushOutcome)>,
    by_doc: BTreeMap<String, Vec<Checked>>,
    /// The pushing device's clock minus the server's, in ms, kept beside each change.
    pub device_clock_offset_ms: Option<i64>,
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("index", &self.index)
            .field("hash", &self.change.hash())
            .finish()
    }
}

/// How one pushed item is signed.
enum Signed {
    /// In a batch whose signature is the device's (protocol 1).
    Batch,
    /// In a batch whose signature is not.
    BadBatch,
    /// Its own signature (protocol 2), to check.
    Own(Vec<u8>),
}

/// A change waiting to be merged: its index in the batch (`None`: a held change), the change,
/// the account judged, its device's signature, the work done before the lock.
type Pending = (
    Option<usize>,
    Change,
    Principal,
    Option<Proof>,
    Option<Prepared>,
);

/// A push in the protocol version it came in.
#[derive(Debug)]
pub enum Pushed {
    /// Signed as a batch.
    V1(v1::PushRequest),
    /// Each change signed.
    V2(PushRequest),
}

impl From<PushRequest> for Pushed {
    fn from(r: PushRequest) -> Pushed {
        Pushed::V2(r)
    }
}

impl From<v1::PushRequest> for Pushed {
    fn from(r: v1::PushRequest) -> Pushed {
        Pushed::V1(r)
    }
}

impl Pushed {
    pub fn len(&self) -> usize {
        match self {
            Pushed::V1(r) => r.items.len(),
            Pushed::V2(r) => r.items.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks 1–4 for every item of a batch (taken by value: its bytes move into the changes).
pub fn check_batch(principal: &Principal, request: impl Into<Pushed>) -> CheckedBatch {
    // Each item: its record, its bytes, and its signature (protocol 2), or whether the batch's
    // signature held (protocol 1).
    let items: Vec<(String, Vec<u8>, Signed)> = match request.into() {
        Pushed::V1(v1::PushRequest { items, signature }) => {
            let manifest = v1::push_manifest(&principal.device_id, &items);
            let signed = verify_message(&principal.public_key, &manifest, &signature);
            items
                .into_iter()
                .map(|i| {
                    let s = if signed {
                        Signed::Batch
                    } else {
                        Signed::BadBatch
                    };
                    (i.doc_id, i.change, s)
                })
                .collect()
        }
        Pushed::V2(PushRequest { items }) => items
            .into_iter()
            .map(|i| (i.doc_id, i.change, Signed::Own(i.signature)))
            .collect(),
    };
    let mut outcomes: Vec<(Vec<u8>, PushOutcome)> =
        vec![(Vec::new(), reject("internal", "not processed")); items.len()];
    let mut by_doc: BTreeMap<String, Vec<Checked>> = BTreeMap::new();
    for (index, (doc_id, bytes, signature)) in items.into_iter().enumerate() {
        let change = match cunji_core::doc::change_from_bytes(bytes) {
            Ok(c) => c,
            Err(e) => {
                let outcome = if !matches!(signature, Signed::BadBatch) {
                    reject(
                        "malformed_change",
                        format!("the change does not parse: {e}"),
                    )
                } else {
                    bad_signature()
                };
                outcomes[index] = (Vec::new(), outcome);
                continue;
            }
        };
        let hash = change.hash();
        let proof = match signature {
            // Nothing of a batch this device did not sign is taken.
            Signed::BadBatch => {
                outcomes[index] = (hash.0.to_vec(), bad_signature());
                continue;
            }
            Signed::Batch => None,
            Signed::Own(signature) => {
                if verify_change(&principal.public_key, &doc_id, &hash, &signature).is_err() {
                    outcomes[index] = (hash.0.to_vec(), bad_signature());
                    continue;
                }
                Some(Proof::Device(signature))
            }
        };
        match check_item(principal, &change) {
            Ok(()) => {
                let prepared = prepare_new(&doc_id, &change);
                by_doc.entry(doc_id).or_default().push(Checked {
                    index,
                    change,
                    principal: principal.clone(),
                    proof,
                    prepared,
                })
            }
            Err(outcome) => outcomes[index] = (hash.0.to_vec(), outcome),
        }
    }
    CheckedBatch {
        outcomes,
        by_doc,
        device_clock_offset_ms: None,
    }
}

/// [`check_batch`] of a protocol-2 push on up to `threads` threads: the items split into
/// contiguous runs, each checked on its own thread (the checks need no database), then put
/// together in the items' order. The answer is the one [`check_batch`] gives on one thread;
/// for the large batches of an import (tens of thousands of changes, most of their time
/// spent parsing, verifying and building documents).
pub fn check_batch_parallel(
    principal: &Principal,
    request: PushRequest,
    threads: usize,
) -> CheckedBatch {
    let items = request.items;
    let run = items.len().div_ceil(threads.max(1)).max(1);
    if items.len() <= run {
        return check_batch(principal, PushRequest { items });
    }
    let mut runs: Vec<Vec<_>> = Vec::new();
    let mut items = items.into_iter();
    loop {
        let part: Vec<_> = items.by_ref().take(run).collect();
        if part.is_empty() {
            break;
        }
        runs.push(part);
    }
    let parts: Vec<CheckedBatch> = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|items| s.spawn(move || check_batch(principal, PushRequest { items })))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut whole = CheckedBatch {
        outcomes: Vec::new(),
        by_doc: BTreeMap::new(),
        device_clock_offset_ms: None,
    };
    for part in parts {
        let offset = whole.outcomes.len();
        whole.outcomes.extend(part.outcomes);
        for (doc_id, checked) in part.by_doc {
            whole
                .by_doc
                .entry(doc_id)
                .or_default()
                .extend(checked.into_iter().map(|c| Checked {
                    index: c.index + offset,
                    ..c
                }));
        }
    }
    whole
}

/// A change the server composed for a browser session to sign ([`crate::approvals`]), checked
/// before it is signed: checks 2 and 4 as for any change, then [`ingest`] in a transaction the
/// caller rolls back. Never stored: only a signed change ([`check_batch`]) is.
pub(crate) fn unsigned_batch(principal: &Principal, doc_id: &str, change: Change) -> CheckedBatch {
    let mut outcomes = vec![(Vec::new(), reject("internal", "not processed"))];
    let mut by_doc: BTreeMap<String, Vec<Checked>> = BTreeMap::new();
    match check_item(principal, &change) {
        Ok(()) => by_doc.entry(doc_id.to_string()).or_default().push(Checked {
            index: 0,
            prepared: prepare_new(doc_id, &change),
            change,
            principal: principal.clone(),
            proof: None,
        }),
        Err(outcome) => outcomes[0] = (change.hash().0.to_vec(), outcome),
    }
    CheckedBatch {
        outcomes,
        by_doc,
        device_clock_offset_ms: None,
    }
}

fn bad_signature() -> PushOutcome {
    reject(
        "bad_signature",
        "the signature does not match this device and this change (签名与本机或本条记录不符)",
    )
}

/// Merges a checked batch (checks 5–6 and the writes); returns each item's hash and outcome,
/// in the batch's order.
pub fn ingest(
    tx: &mut dyn Tx,
    batch: CheckedBatch,
    now: &str,
) -> StoreResult<Vec<(Vec<u8>, PushOutcome)>> {
    let CheckedBatch {
        mut outcomes,
        by_doc,
        device_clock_offset_ms: offset,
    } = batch;
    for (doc_id, checked) in by_doc {
        for (index, hash, outcome) in merge_doc(tx, &doc_id, checked, now, offset)? {
            outcomes[index] = (hash, outcome);
        }
    }
    Ok(outcomes)
}

/// Checks 2–4 of the module docs.
fn check_item(principal: &Principal, change: &Change) -> Result<(), PushOutcome> {
    if change.actor_id().to_bytes() != principal.actor.as_slice() {
        return Err(reject(
            "actor_not_bound",
            "the change was not made by this device's actor",
        ));
    }
    let meta = ChangeMeta::from_message(change.message());
    if meta.cadre_id != principal.login || meta.device_id != principal.device_id {
        return Err(reject(
            "forged_author",
            "the change names another cadre or device",
        ));
    }
    Ok(())
}

/// Where a record lives, fixed when the server first sees it.
#[derive(Debug, Clone)]
struct Place {
    kind: Kind,
    village: Option<String>,
    household: Option<String>,
    author: String,
}

/// A record's village and, for household-bound records, its household.
type VillageAndHousehold = (Option<String>, Option<String>);

/// Resolves a record's [`ScopeHint`] to its place. `pusher`: the account whose change is
/// judged, whose own team memberships are already looked up for the request (a cadre's own
/// check-in, leave or log names itself).
pub(crate) fn resolve(
    tx: &mut dyn Tx,
    hint: &ScopeHint,
    day: Option<cunji_core::values::Date>,
    pusher: Option<&Principal>,
) -> StoreResult<Result<VillageAndHousehold, PushOutcome>> {
    Ok(match hint {
        ScopeHint::Global => Ok((None, None)),
        ScopeHint::Village(v) => Ok((Some(v.clone()), None)),
        ScopeHint::Household(h) => match tx.household_village(h)? {
            Some(v) => Ok((Some(v), Some(h.clone()))),
            None => Err(reject(
                "unknown_reference",
                format!("household {h} is not known to the server"),
            )),
        },
        ScopeHint::Entitlement(e) => match tx.entitlement_household(e)? {
            Some(h) => match tx.household_village(&h)? {
                Some(v) => Ok((Some(v), Some(h))),
                None => Err(reject(
                    "unknown_reference",
                    format!("household {h} is not known to the server"),
                )),
            },
            None => Err(reject(
                "unknown_reference",
                format!("entitlement {e} is not known to the server"),
            )),
        },
        ScopeHint::Cadre(c) => {
            // The cadre's team village on the record's day, else any it served on (the write
            // check then judges the day).
            let teams = match pusher {
                Some(p) if p.login == *c => p.teams(tx)?,
                _ => tx.cadre_teams(c)?,
            };
            let on_day = day.and_then(|d| teams.iter().find(|p| p.runs_on(d)));
            match on_day.or(teams.first()) {
                Some(p) => Ok((Some(p.place.clone()), None)),
                None => Err(reject(
                    "unknown_reference",
                    format!("干部{c}不在任何驻村工作队 / cadre {c} is in no village team"),
                )),
            }
        }
    })
}

/// The place a record's state says it has.
fn place_of(
    tx: &mut dyn Tx,
    who: &Principal,
    facts: &Facts,
) -> StoreResult<Result<Place, PushOutcome>> {
    Ok(
        resolve(tx, &facts.record.scope, facts.record.date, Some(who))?.map(
            |(village, household)| Place {
                kind: facts.env.kind,
                village,
                // A household is its own household: its assigned cadres read it.
                household: if facts.env.kind == Kind::Household {
                    Some(facts.env.id.clone())
                } else {
                    household
                },
                author: facts.env.author_id.clone(),
            },
        ),
    )
}

/// Checks 5–6 for one change, given the record's state after it (`facts`) and its place
/// before it (`None` for a new record).
fn authorize(
    tx: &mut dyn Tx,
    who: &Principal,
    doc_id: &str,
    before: Option<(&Place, &RecordDoc)>,
    facts: &Facts,
) -> StoreResult<Result<Place, PushOutcome>> {
    let (before, before_doc) = match before {
        Some((p, d)) => (Some(p), Some(d)),
        None => (None, None),
    };
    let action = match before {
        None => Action::Create,
        Some(b) if b.kind.is_event() && b.author != who.login => Action::Review,
        Some(_) => Action::Edit,
    };
    if let Some(o) = role_refusal(who.role, before.map_or(facts.env.kind, |b| b.kind), action) {
        return Ok(Err(o));
    }
    let after = match place_of(tx, who, facts)? {
        Ok(p) => p,
        Err(o) => return Ok(Err(o)),
    };
    match before {
        None => {
            let env = &facts.env;
            if env.id != doc_id {
                return Ok(Err(reject(
                    "invalid_record",
                    "the envelope names another record id",
                )));
            }
            if env.author_id != who.login || env.device_id != who.device_id {
                return Ok(Err(reject(
                    "forged_author",
                    "the record names another author or device",
                )));
            }
            let about_other = facts
                .record
                .subject_cadre
                .as_deref()
                .is_some_and(|c| c != who.login);
            if env.kind.is_event() && about_other {
                return Ok(Err(reject(
                    "forged_author",
                    "an event record may only be about its author",
                )));
            }
        }
        Some(b) => {
            if b.kind != after.kind
                || b.author != after.author
                || b.village != after.village
                || b.household != after.household
            {
                return Ok(Err(reject(
                    "moved_record",
                    "a change may not alter a record's kind, author or place",
                )));
            }
        }
    }
    let place = RecordPlace {
        kind: after.kind,
        village: after.village.as_deref(),
        household: after.household.as_deref(),
        owner: owner_of(after.kind, doc_id, &after.author),
    };
    if !who.may(tx, action, place, facts.record.date)? {
        return Ok(Err(refusal(tx, who, action, place, facts.record.date)?));
    }
    if let Some(data) = &facts.data
        && let Err(o) = crate::checks::check(tx, who, &facts.env, data, before_doc)?
    {
        return Ok(Err(o));
    }
    Ok(Ok(after))
}

/// The refusal of a change the role makes to no record of this kind anywhere (the access
/// table gives it no right for the action): said before the record's place is looked up, so
/// that the answer does not depend on where the record would be.
fn role_refusal(role: Role, kind: Kind, action: Action) -> Option<PushOutcome> {
    let r = rights(role, kind);
    if action == Action::Review && r.review.is_none() {
        return Some(reject(
            "not_author",
            format!(
                "只有记录人或审核人可以修改这条{} / only its author (or a reviewer) may change this {}",
                kind.label_zh(),
                kind.code()
            ),
        ));
    }
    if r.reach_for(action).is_none() {
        let what = if action == Action::Create && r.review.is_some() {
            "可以审核但不能登记"
        } else {
            "不能登记"
        };
        return Some(reject(
            "out_of_scope",
            format!(
                "{}{}{} / a {} may not {} a {}",
                role.label_zh(),
                what,
                kind.label_zh(),
                role.code(),
                if action == Action::Create {
                    "create"
                } else {
                    "change"
                },
                kind.code()
            ),
        ));
    }
    None
}

/// Why [`Principal::may`] refused: an event record changed by someone who neither wrote nor
/// reviews it (`not_author`), or a write outside the account's reach (`out_of_scope`: the kind
/// is not the role's, the place is not its village, household or division, or not on the
/// record's day), each said in Chinese and English.
fn refusal(
    tx: &mut dyn Tx,
    who: &Principal,
    action: Action,
    place: RecordPlace<'_>,
    day: Option<cunji_core::values::Date>,
) -> StoreResult<PushOutcome> {
    if let Some(o) = role_refusal(who.role, place.kind, action) {
        return Ok(o);
    }
    let (kind, role) = (place.kind, who.role);
    let r = rights(role, kind);
    let day = day.unwrap_or_else(crate::accounts::today);
    // Served there once, but not on the record's day (or left too long ago).
    let served = match r.reach_for(action) {
        Some(Reach::TeamVillage) => match place.village {
            Some(v) => tx.cadre_teams(&who.login)?.iter().any(|p| p.place == v),
            None => false,
        },
        Some(Reach::Assigned) => match place.household {
            Some(h) => tx
                .cadre_assignments(&who.login)?
                .iter()
                .any(|p| p.place == h),
            None => false,
        },
        _ => false,
    };
    if r.reach_for(action) == Some(Reach::County) {
        return Ok(reject(
            "out_of_scope",
            format!(
                "{}只能提交给你所在县的县扶贫办:{}不是你所在的县(市级账号和全市管理员没有所在县) / a {} goes to the poverty office of your own county: {} is not it (city and city-wide accounts have none)",
                kind.label_zh(),
                place.village.unwrap_or("-"),
                kind.code(),
                place.village.unwrap_or("-")
            ),
        ));
    }
    Ok(reject(
        "out_of_scope",
        if served {
            format!(
                "{day}你已不在这里的工作队或帮扶关系中,不能登记{} / on {day} you are no longer on this team or assignment: a {} may not be written here",
                kind.label_zh(),
                kind.code()
            )
        } else {
            format!(
                "这里不在你的范围内,{}不能在此登记{} / outside your scope: a {} may not write a {} here",
                role.label_zh(),
                kind.label_zh(),
                role.code(),
                kind.code()
            )
        },
    ))
}

/// The account behind a device, for changes released from the hold.
fn principal_of_device(tx: &mut dyn Tx, device_id: &str) -> StoreResult<Option<Principal>> {
    let Some(device) = tx.device(device_id)? else {
        return Ok(None);
    };
    let Some(account) = tx.account(&device.login)? else {
        return Ok(None);
    };
    Ok(Some(Principal::new(account, device)))
}

fn load_doc(row: &DocRow) -> StoreResult<RecordDoc> {
    RecordDoc::load(&row.id, Some(&row.snapshot), &row.chunks, server_actor())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Loads a stored document; a damaged one (bytes that do not load, `doc::bounds`) is rebuilt
/// from the change log, which holds every change it was built from, and stored again, so that
/// one damaged record does not refuse every push that carries a change to it. Only a log that
/// does not rebuild it either is an error.
fn load_or_rebuild(tx: &mut dyn Tx, row: &DocRow) -> StoreResult<RecordDoc> {
    let damage = match load_doc(row) {
        Ok(doc) => return Ok(doc),
        Err(StoreError::Corrupt(detail)) => detail,
        Err(e) => return Err(e),
    };
    let changes = tx.doc_changes(&row.id)?;
    let mut doc = RecordDoc::load(&row.id, None, &changes, server_actor())
        .map_err(|e| StoreError::Corrupt(format!("{damage}; rebuilding from the log: {e}")))?;
    tx.replace_doc_snapshot(&row.id, &doc.save())?;
    tracing::warn!(doc_id = %row.id, changes = changes.len(), %damage, "damaged stored document rebuilt from the change log");
    Ok(doc)
}

/// The server never edits pushed records; loading them needs an actor all the same.
pub(crate) fn server_actor() -> ActorId {
    ActorId::from(b"cunji-sync-server".as_slice())
}

/// Merges one record's checked changes (and any it was holding).
fn merge_doc(
    tx: &mut dyn Tx,
    doc_id: &str,
    incoming: Vec<Checked>,
    now: &str,
    clock_offset_ms: Option<i64>,
) -> StoreResult<Vec<(usize, Vec<u8>, PushOutcome)>> {
    let row = tx.doc(doc_id)?;
    let mut doc = match &row {
        Some(r) => load_or_rebuild(tx, r)?,
        None => RecordDoc::empty(doc_id, server_actor()),
    };
    let mut place = row.as_ref().map(|r| Place {
        kind: r.kind,
        village: r.village_code.clone(),
        household: r.household_id.clone(),
        author: r.author_id.clone(),
    });
    let received_ts = row
        .as_ref()
        .map_or_else(|| now.to_string(), |r| r.received_ts.clone());

    // Pending: (index in the batch or None for a held change, change, account, its device's
    // signature, the work done before the lock).
    let mut pending: Vec<Pending> = incoming
        .into_iter()
        .map(|c| (Some(c.index), c.change, c.principal, c.proof, c.prepared))
        .collect();
    for held in tx.held_changes(doc_id)? {
        let Ok(change) = cunji_core::doc::change_from_bytes(held.bytes.clone()) else {
            tx.release_held(doc_id, &held.hash)?;
            continue;
        };
        match principal_of_device(tx, &held.device_id)? {
            Some(p) => pending.push((None, change, p, held.proof, None)),
            None => tx.release_held(doc_id, &held.hash)?,
        }
    }

    let mut out = Vec::new();
    // Accepted changes with their device and its clock offset (unknown for a held change
    // released now: its push is over).
    let mut accepted: Vec<(Change, String, Option<i64>, Option<Proof>)> = Vec::new();
    // Projection rows of the last accepted state, when they were made before the lock.
    let mut projected: Option<(Kind, Rows)> = None;
    loop {
        let mut progress = false;
        let mut still = Vec::new();
        for (index, change, who, proof, prepared) in pending {
            let hash = change.hash();
            let hash_bytes = hash.0.to_vec();
            if doc.contains(&hash) || tx.has_change(&hash_bytes)? {
                if let Some(i) = index {
                    out.push((i, hash_bytes.clone(), PushOutcome::Duplicate));
                } else {
                    tx.release_held(doc_id, &hash_bytes)?;
                }
                continue;
            }
            if change.deps().is_empty() && !doc.heads().is_empty() && tx.is_rebuilt(doc_id)? {
                // The first change of the record's old history, which the server replaced.
                match index {
                    Some(i) => out.push((i, hash_bytes, rebuilt())),
                    None => tx.release_held(doc_id, &hash_bytes)?,
                }
                continue;
            }
            if change.deps().iter().any(|d| !doc.contains(d)) {
                still.push((index, change, who, proof, prepared));
                continue;
            }
            // Checked on a copy: a refused change must leave no trace in the document. A
            // record's first change was applied before the lock, to an empty document.
            let (
                candidate,
                Read {
                    facts,
                    rows,
                    broken,
                },
            ) = match prepared {
                Some(p) if doc.heads().is_empty() => (p.doc, p.read),
                _ => {
                    let mut candidate = doc.clone();
                    if let Err(e) = candidate.apply(vec![change.clone()]) {
                        let outcome = reject("malformed_change", e.to_string());
                        match index {
                            Some(i) => out.push((i, hash_bytes, outcome)),
                            None => tx.release_held(doc_id, &hash_bytes)?,
                        }
                        continue;
                    }
                    let read = read_facts(&candidate, place.is_some().then_some(&doc));
                    (candidate, read)
                }
            };
            let verdict = match &facts {
                Ok(f) => authorize(tx, &who, doc_id, place.as_ref().map(|p| (p, &doc)), f)?
                    .and_then(|place| broken.map_or(Ok(place), Err)),
                Err(outcome) => Err(outcome.clone()),
            };
            match verdict {
                Ok(p) => {
                    if matches!(p.kind, Kind::Team | Kind::Assignment) {
                        // Who may read and write where may have changed.
                        who.cache.forget();
                    }
                    place = Some(p);
                    doc = candidate;
                    projected = rows;
                    progress = true;
                    let offset = index.and(clock_offset_ms);
                    accepted.push((change, who.device_id.clone(), offset, proof));
                    match index {
                        Some(i) => out.push((i, hash_bytes, PushOutcome::Accepted)),
                        None => tx.release_held(doc_id, &hash_bytes)?,
                    }
                }
                Err(outcome) => match index {
                    Some(i) => out.push((i, hash_bytes, outcome)),
                    None => {
                        tracing::warn!(doc_id, ?outcome, "a held change was refused on release");
                        tx.release_held(doc_id, &hash_bytes)?;
                    }
                },
            }
        }
        pending = still;
        if !progress || pending.is_empty() {
            break;
        }
    }
    // What is left waits for its dependencies, but for a record whose history the server
    // replaced: what is left there continues the old history, which never comes back.
    let rebuilt_record = !pending.is_empty() && tx.is_rebuilt(doc_id)?;
    for (index, change, who, proof, _) in pending {
        if rebuilt_record {
            if let Some(i) = index {
                out.push((i, change.hash().0.to_vec(), rebuilt()));
            }
            continue;
        }
        let hash = change.hash().0.to_vec();
        if let Some(i) = index {
            tx.hold_change(
                doc_id,
                &HeldRow {
                    hash: hash.clone(),
                    bytes: change.raw_bytes().to_vec(),
                    device_id: who.device_id.clone(),
                    proof,
                },
            )?;
            out.push((i, hash, PushOutcome::Held));
        }
    }
    if accepted.is_empty() {
        return Ok(out);
    }
    let Some(place) = place else { return Ok(out) };
    let bytes: Vec<u8> = accepted
        .iter()
        .flat_map(|(c, ..)| c.raw_bytes().to_vec())
        .collect();
    match &row {
        None => tx.insert_doc(&DocRow {
            id: doc_id.to_string(),
            kind: place.kind,
            village_code: place.village.clone(),
            household_id: place.household.clone(),
            author_id: place.author.clone(),
            received_ts: received_ts.clone(),
            snapshot: bytes,
            chunks: Vec::new(),
        })?,
        Some(r) if r.chunks.len() + 1 > FOLD_CHUNKS => {
            tx.replace_doc_snapshot(doc_id, &doc.save())?
        }
        Some(_) => tx.append_doc_chunk(doc_id, &bytes)?,
    }
    let owner = owner_of(place.kind, doc_id, &place.author).map(str::to_string);
    for (change, device_id, offset, proof) in &accepted {
        tx.insert_change(&ChangeRow {
            hash: change.hash().0.to_vec(),
            doc_id: doc_id.to_string(),
            village_code: place.village.clone(),
            household_id: place.household.clone(),
            bytes: change.raw_bytes().to_vec(),
            device_id: device_id.clone(),
            received_ts: now.to_string(),
            device_clock_offset_ms: *offset,
            owner: owner.clone(),
            proof: proof.clone(),
        })?;
    }
    let (kind, rows) = match projected {
        Some(rows) => rows,
        None => project(&mut doc)?,
    };
    tx.replace_projection(kind, doc_id, rows)?;
    Ok(out)
}

pub(crate) fn project(doc: &mut RecordDoc) -> StoreResult<(Kind, Rows)> {
    let (kind, rows, broken) =
        cunji_core::domain::project_doc(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(problem) = broken {
        // A merged state that breaks a rule still projects; the reports flag it.
        tracing::info!(doc_id = doc.id(), problem = ?problem.to_string(), "merged record breaks a rule");
    }
    Ok((kind, rows))
}

/// Refills the projection tables of `kinds` from the stored documents, 500 records per
/// transaction; returns how many records were projected. A repair (`cunji-sync-server
/// rebuild-projections`): a release that changes a projection declaration has its tables
/// refilled when the database opens, on both backends. It lives here, above [`Tx`], because
/// it reads documents, projects them with the core and writes rows: the store only does the
/// reading and writing.
pub fn rebuild_projections(db: &crate::store::Db, kinds: &[Kind]) -> StoreResult<usize> {
    const BATCH: usize = 500;
    let mut n = 0;
    for kind in kinds {
        let mut after = String::new();
        loop {
            let done = db.write(|tx| {
                let ids = tx.doc_ids_of_kind(*kind, &after, BATCH)?;
                for id in &ids {
                    let Some(doc) = tx.doc(id)? else { continue };
                    let (k, rows) = crate::store::project_stored(id, &doc.snapshot, &doc.chunks)?;
                    tx.replace_projection(k, id, rows)?;
                }
                Ok::<_, StoreError>(ids)
            })?;
            n += done.len();
            match done.last() {
                Some(last) if done.len() == BATCH => after = last.clone(),
                _ => break,
            }
        }
    }
    Ok(n)
}
