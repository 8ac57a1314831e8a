//! Approvals and reviews from the dashboard (issue 16): the township, the county offices and
//! the organisation department endorse nothing on a phone; they approve leave, review logs,
//! take a 动态调整 case's steps, accept visits, assign and close petitions in the browser.
//! Every such step is still a change of the record's Automerge document, made by an actor
//! bound to the acting account, signed by a key only the account's session holds, and checked
//! by [`crate::merge`] and [`crate::checks`] exactly like a phone's change.
//!
//! ## How a browser signs (the choice)
//! At sign-in (`POST /v1/session` with `public_key`) the dashboard registers a key of its own,
//! like a phone's: it generates an Ed25519 key pair with WebCrypto
//! (`crypto.subtle.generateKey({name: "Ed25519"}, false, ["sign"])`, *not extractable*: the
//! page can ask the browser to sign but can never read the private key), sends the public key
//! with the password, and the server registers a device for the session (`web-<uuid>`, a
//! fresh Automerge actor, the key) and binds the session's token to it. The session is then a
//! registered device: listed with the account's phones, cut off the same way, its changes
//! logged with their signatures ([`cunji_core::sync::protocol::Proof::Device`]) so that pulls
//! carry them and `verify-log` checks them against the key registered at sign-in.
//!
//! A browser holds no Automerge, so each step takes two calls:
//! 1. `POST /v1/records/{id}/steps` with the step ([`StepRequest`]): the server composes the change
//!    on the stored document with the session's actor and the core's step function
//!    ([`cunji_core::rules::approvals`]), runs every check on it in a transaction it then
//!    rolls back (a refusal is answered now, with its code, and nothing is stored), and
//!    returns the change, its hash and the bytes to sign ([`PreparedStep`]);
//! 2. `POST /v1/steps` with the change and the browser's signature over those bytes:
//!    checked like a push (`bad_signature` unless the session's key made it, then every check
//!    again, since the record may have moved on) and stored.
//!
//! Trade-off, against the other way (the server attests the step for the web session, with
//! its own key and the account's name): the proof here is the account's session key, not the
//! server's word, so a server whose database or code is altered later cannot make up an
//! approval that verifies; and the dashboard speaks the same protocol the phones do. The cost
//! is a key per sign-in (a device row each, which expires with the session's token but stays
//! listed), a second round trip per step, and that the browser signs a change the server
//! composed: it shows the summary the server gives, not its own reading of the bytes, so a
//! compromised server could have a clerk sign a different change than the one shown (it still
//! cannot sign anything without the clerk's browser). The key lives only in that browser
//! (IndexedDB keeps the non-extractable handle); a lost key is a new sign-in.
//!
//! A session signed in without `public_key` reads as before and cannot take steps
//! (`signing_key_required`).
//!
//! Not here: the rules themselves (the core's), the access table ([`cunji_core::domain::access`]),
//! and the to-do lists ([`crate::todo`]).

use automerge::{Change, ChangeHash};
use chrono::{Offset, Utc};
use cunji_core::doc::{ChangeMeta, Edit, RecordDoc};
use cunji_core::domain::codes::{ReturnVisitResult, StatusChangeStep, StepOutcome};
use cunji_core::domain::{Feedback, Kind, Leave, Petition, Record, StatusChange, Visit, WorkLog};
use cunji_core::identity::change_signing_input;
use cunji_core::rules::approvals::{
    self, Actor, LeaveAction, LogAction, PetitionAction, case_step, leave_step, log_step,
    petition_step, visit_step,
};
use cunji_core::sync::protocol::{PushItem, PushOutcome, PushRequest};
use cunji_core::values::{Date, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::Principal;
use crate::merge;
use crate::store::{StoreError, Tx};

/// A step the dashboard asks for, on the record named in the path.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepRequest {
    /// 队长同意 (the first secretary; usually on the phone).
    LeaveEndorse,
    /// 批准 by the level the request names.
    LeaveApprove {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// 驳回, with the reason.
    LeaveSendBack { reason: String },
    /// 销假 by the requester.
    LeaveReturn,
    /// The first secretary's comment on a team member's log.
    LogComment { comment: String },
    /// The township's 月考 review of a log.
    LogReview {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// A township's or county's step on a 动态调整 case: `township_review`, `county_approval`
    /// or `system_entry`; `outcome` one of `passed`, `failed`, `returned`.
    CaseStep {
        step: String,
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The township accepts a level-C or mock-location visit (R8).
    VisitAccept {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The township rejects it, with the reason.
    VisitReject { reason: String },
    /// The county poverty office names the handler and the due date (YYYY-MM-DD).
    PetitionAssign {
        handler_id: String,
        due_date: String,
    },
    /// The handler records progress.
    PetitionProgress { note: String },
    /// The handler closes it: 办结 (`accepted: true`) or 不予受理, with the resolution.
    PetitionClose { resolution: String, accepted: bool },
    /// The handler's 回访: `satisfied`, `basically_satisfied` or `dissatisfied`.
    PetitionReturnVisit { result: String },
    /// The county poverty office answers a 投诉建议 (the text required; the answer is final).
    FeedbackAnswer { text: String },
}

/// A change composed for the session's key to sign.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PreparedStep {
    pub record_id: String,
    /// The Automerge change, hex.
    pub change: String,
    /// Its hash, hex.
    pub hash: String,
    /// The bytes the session's key signs (Ed25519), hex: `POST /v1/steps` takes the
    /// signature.
    pub signing_input: String,
    /// What the change does, in Chinese, to show before signing.
    pub summary: String,
    pub summary_en: String,
}

/// A signed change to store.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitStep {
    pub record_id: String,
    /// The change as [`PreparedStep::change`] gave it, hex.
    pub change: String,
    /// The session key's Ed25519 signature over [`PreparedStep::signing_input`], hex.
    pub signature: String,
}

/// The stored step.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CommittedStep {
    pub record_id: String,
    pub hash: String,
    /// `accepted`, or `duplicate` when the change was stored already.
    pub outcome: String,
}

/// Why a step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("signing key required")]
    KeyRequired,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad step: {0}")]
    Bad(String),
    /// The checks refused it: the code and the message (Chinese / English).
    #[error("refused {code}: {message}")]
    Refused { code: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(what: impl Into<String>) -> StepError {
    StepError::Bad(what.into())
}

/// The refusal codes a step may be answered with: the approval rules' and those of the push
/// checks a step can meet ([`crate::merge`], [`crate::checks`]).
/// A code not in this list (a check added later) is answered `refused`, with its message.
pub const REFUSAL_CODES: &[&str] = &[
    "out_of_scope",
    "not_author",
    "bad_signature",
    "actor_not_bound",
    "forged_author",
    "moved_record",
    "unknown_reference",
    "invalid_record",
    "step_not_yours",
    "steps_out_of_order",
    "step_rewritten",
    "exit_not_ready",
    "outside_window",
    "status_without_case",
    "record_rebuilt",
    "malformed_change",
    "signature_final",
    "unknown_scope",
    "ledger_already_signed",
    "figures_changed",
    "signed_at_off",
    "month_not_over",
    "no_county",
    "refused",
];

/// Every code of [`REFUSAL_CODES`], the core's [`approvals::CODES`] and its feedback rules'
/// ([`cunji_core::rules::feedback::CODES`]).
pub fn refusal_codes() -> impl Iterator<Item = &'static str> {
    REFUSAL_CODES
        .iter()
        .chain(approvals::CODES)
        .chain(cunji_core::rules::feedback::CODES)
        .copied()
}

fn actor(who: &Principal) -> Actor<'_> {
    Actor {
        login: &who.login,
        role: who.role,
    }
}

fn parse_code<T>(name: &str, value: &str, from: fn(&str) -> Option<T>) -> Result<T, StepError> {
    from(value).ok_or_else(|| bad(format!("{name}: unknown code `{value}`")))
}

/// The record after the step, and its summary (zh, en).
fn compose(
    kind: Kind,
    doc: &RecordDoc,
    who: &Principal,
    step: &StepRequest,
    at: Timestamp,
) -> Result<(serde_json::Value, String, String), StepError> {
    let a = actor(who);
    let wrong_kind = || {
        bad(format!(
            "this step does not apply to a {} record",
            kind.code()
        ))
    };
    fn get<T: Record>(doc: &RecordDoc) -> Result<T, StepError> {
        doc.read::<T>()
            .map_err(|e| bad(format!("the stored record does not read: {e}")))
    }
    fn json<T: Record>(r: &T) -> Result<serde_json::Value, StepError> {
        serde_json::to_value(r).map_err(|e| bad(e.to_string()))
    }
    let (after, zh, en) = match step {
        StepRequest::LeaveEndorse
        | StepRequest::LeaveApprove { .. }
        | StepRequest::LeaveSendBack { .. }
        | StepRequest::LeaveReturn => {
            if kind != Kind::Leave {
                return Err(wrong_kind());
            }
            let l: Leave = get(doc)?;
            let (action, zh, en) = match step {
                StepRequest::LeaveEndorse => (LeaveAction::Endorse, "队长同意", "endorse"),
                StepRequest::LeaveApprove { note } => (
                    LeaveAction::Approve { note: note.clone() },
                    "批准请假",
                    "approve the leave",
                ),
                StepRequest::LeaveSendBack { reason } => (
                    LeaveAction::SendBack {
                        reason: reason.clone(),
                    },
                    "驳回请假",
                    "send the leave back",
                ),
                _ => (LeaveAction::Return, "销假", "report back"),
            };
            let after = leave_step(&l, &a, &action, at);
            (
                json(&after)?,
                format!("{zh}:{}({}至{},{}天)", l.cadre_id, l.from, l.to, l.days),
                format!(
                    "{en}: {} ({} to {}, {} days)",
                    l.cadre_id, l.from, l.to, l.days
                ),
            )
        }
        StepRequest::LogComment { .. } | StepRequest::LogReview { .. } => {
            if kind != Kind::WorkLog {
                return Err(wrong_kind());
            }
            let l: WorkLog = get(doc)?;
            let (action, zh, en) = match step {
                StepRequest::LogComment { comment } => (
                    LogAction::Comment {
                        comment: comment.clone(),
                    },
                    "点评日志",
                    "comment on the log",
                ),
                StepRequest::LogReview { comment } => (
                    LogAction::Review {
                        comment: comment.clone(),
                    },
                    "月考审核日志",
                    "review the log",
                ),
                _ => return Err(wrong_kind()),
            };
            let after = log_step(&l, &a, &action, at);
            (
                json(&after)?,
                format!("{zh}:{}", l.date),
                format!("{en} of {}", l.date),
            )
        }
        StepRequest::CaseStep {
            step,
            outcome,
            note,
        } => {
            if kind != Kind::StatusChange {
                return Err(wrong_kind());
            }
            let step = parse_code("step", step, StatusChangeStep::from_code)?;
            if approvals::case_step_follows(step).is_none() {
                return Err(bad(
                    "step: the dashboard records township_review, county_approval or system_entry",
                ));
            }
            let outcome = parse_code("outcome", outcome, StepOutcome::from_code)?;
            let c: StatusChange = get(doc)?;
            let after = case_step(&c, &a, step, outcome, note.clone(), at.date_naive());
            (
                json(&after)?,
                format!("{}:{}", step.label_zh(), outcome.label_zh()),
                format!("{}: {}", step.label_en(), outcome.label_en()),
            )
        }
        StepRequest::VisitAccept { .. } | StepRequest::VisitReject { .. } => {
            if kind != Kind::Visit {
                return Err(wrong_kind());
            }
            let v: Visit = get(doc)?;
            let (accepted, reason) = match step {
                StepRequest::VisitAccept { reason } => (true, reason.clone()),
                StepRequest::VisitReject { reason } => (false, Some(reason.clone())),
                _ => return Err(wrong_kind()),
            };
            let after = visit_step(&v, &a, accepted, reason, at);
            let (zh, en) = if accepted {
                ("验收走访", "accept the visit")
            } else {
                ("不予验收走访", "reject the visit")
            };
            (
                json(&after)?,
                format!("{zh}:{}", v.start_ts.date_naive()),
                format!("{en} of {}", v.start_ts.date_naive()),
            )
        }
        StepRequest::PetitionAssign { .. }
        | StepRequest::PetitionProgress { .. }
        | StepRequest::PetitionClose { .. }
        | StepRequest::PetitionReturnVisit { .. } => {
            if kind != Kind::Petition {
                return Err(wrong_kind());
            }
            let p: Petition = get(doc)?;
            let (action, zh, en) = match step {
                StepRequest::PetitionAssign {
                    handler_id,
                    due_date,
                } => {
                    let due: Date = due_date
                        .parse()
                        .map_err(|_| bad("due_date: a date, YYYY-MM-DD"))?;
                    (
                        PetitionAction::Assign {
                            handler_id: handler_id.trim().to_string(),
                            due_date: due,
                        },
                        format!("指定承办人{handler_id},期限{due}"),
                        format!("assign {handler_id}, due {due}"),
                    )
                }
                StepRequest::PetitionProgress { note } => (
                    PetitionAction::Progress { note: note.clone() },
                    "记录办理进展".to_string(),
                    "record progress".to_string(),
                ),
                StepRequest::PetitionClose {
                    resolution,
                    accepted,
                } => (
                    PetitionAction::Close {
                        resolution: resolution.clone(),
                        accepted: *accepted,
                    },
                    if *accepted { "办结" } else { "不予受理" }.to_string(),
                    if *accepted { "close" } else { "decline" }.to_string(),
                ),
                StepRequest::PetitionReturnVisit { result } => {
                    let r = parse_code("result", result, ReturnVisitResult::from_code)?;
                    (
                        PetitionAction::ReturnVisit { result: r },
                        format!("回访:{}", r.label_zh()),
                        format!("return visit: {}", r.label_en()),
                    )
                }
                _ => return Err(wrong_kind()),
            };
            let after = petition_step(&p, &a, &action, at);
            (json(&after)?, zh, en)
        }
        StepRequest::FeedbackAnswer { text } => {
            if kind != Kind::Feedback {
                return Err(wrong_kind());
            }
            let f: Feedback = get(doc)?;
            let after = cunji_core::rules::feedback::answer_step(&f, &a, text, at);
            let chars = text.trim().chars().count();
            (
                json(&after)?,
                format!(
                    "答复{}「{}」({}字)",
                    f.category.label_zh(),
                    f.subject,
                    chars
                ),
                format!(
                    "answer the {} \"{}\" ({} characters)",
                    f.category.label_en().to_lowercase(),
                    f.subject,
                    chars
                ),
            )
        }
    };
    Ok((after, zh, en))
}

/// Composes `step` on record `id` as `who`'s change (its session's actor), checks it, and
/// returns it to sign. Run it in a transaction that is rolled back ([`crate::state::AppState::trial`]):
/// the checks run as they would on a push now, and nothing is stored.
pub fn prepare(
    tx: &mut dyn Tx,
    who: &Principal,
    id: &str,
    step: &StepRequest,
) -> Result<PreparedStep, StepError> {
    if who.is_web() {
        return Err(StepError::KeyRequired);
    }
    let now = Utc::now();
    let at = china_now(now);
    let (change, summary, summary_en) = compose_change(tx, who, id, step, at)?;
    try_change(tx, who, id, change, summary, summary_en)
}

/// Runs every check of a push on `who`'s unsigned `change` of record `id` (in the caller's
/// transaction, which it then rolls back) and returns it to sign: a step's, or a new record's
/// (a ledger signature, `crate::ledger`).
pub(crate) fn try_change(
    tx: &mut dyn Tx,
    who: &Principal,
    id: &str,
    change: Change,
    summary: String,
    summary_en: String,
) -> Result<PreparedStep, StepError> {
    let now = Utc::now();
    let hash = change.hash();
    let batch = merge::unsigned_batch(who, id, change.clone());
    let outcomes = merge::ingest(tx, batch, &now.to_rfc3339())?;
    match outcomes.into_iter().next().map(|(_, o)| o) {
        Some(PushOutcome::Accepted | PushOutcome::Duplicate) => Ok(PreparedStep {
            record_id: id.to_string(),
            change: hex::encode(change.raw_bytes()),
            hash: hex::encode(hash.0),
            signing_input: hex::encode(change_signing_input(id, &hash)),
            summary,
            summary_en,
        }),
        Some(PushOutcome::Rejected { code, message }) => Err(StepError::Refused { code, message }),
        Some(PushOutcome::Held) | None => Err(bad(
            "the record changed while the step was composed: try again",
        )),
    }
}

/// Composes `record` as `who`'s new record (its first change, made with the session's actor,
/// its envelope naming the account and the session's device, at `at`), runs every check of a
/// push on it like [`try_change`], and returns it to sign: a ledger signature
/// (`crate::ledger`), a 投诉建议 (`crate::feedback`).
pub(crate) fn try_new_record<T: Record>(
    tx: &mut dyn Tx,
    who: &Principal,
    record: &T,
    at: Timestamp,
    summary: String,
    summary_en: String,
) -> Result<PreparedStep, StepError> {
    let id = uuid::Uuid::now_v7().to_string();
    let env = cunji_core::domain::Envelope {
        id: id.clone(),
        kind: T::KIND,
        author_id: who.login.clone(),
        device_id: who.device_id.clone(),
        created_device_ts: at,
        device_uptime_ms: 0,
        geo: None,
        server_received_ts: None,
        state: cunji_core::domain::RecordState::Submitted,
    };
    let edit = Edit {
        meta: ChangeMeta {
            reason: summary.clone(),
            cadre_id: who.login.clone(),
            device_id: who.device_id.clone(),
        },
        time_ms: at.timestamp_millis(),
    };
    let actor = automerge::ActorId::from(who.actor.as_slice());
    let (_, change) =
        RecordDoc::create(actor, &env, record, &edit).map_err(|e| bad(e.to_string()))?;
    try_change(tx, who, &id, change, summary, summary_en)
}

/// Now, in China's zone (the time a step records, as a phone in the county would).
pub(crate) fn china_now(now: chrono::DateTime<Utc>) -> Timestamp {
    let zone = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Utc.fix());
    now.with_timezone(&zone)
}

/// The change `step` makes to record `id`, made with `who`'s actor.
fn compose_change(
    tx: &mut dyn Tx,
    who: &Principal,
    id: &str,
    step: &StepRequest,
    at: Timestamp,
) -> Result<(Change, String, String), StepError> {
    let not_found = || StepError::NotFound(format!("记录 {id} / record {id}"));
    let row = tx.doc(id)?.ok_or_else(not_found)?;
    // A record the account may not read (the city reads aggregates) is answered as one the
    // server does not hold.
    match who.sight(tx, crate::accounts::RecordPlace::of(&row))? {
        Some(s) if s != cunji_core::domain::access::Sight::Aggregates => {}
        _ => return Err(not_found()),
    }
    let actor = automerge::ActorId::from(who.actor.as_slice());
    let mut doc = RecordDoc::load(&row.id, Some(&row.snapshot), &row.chunks, actor)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let env = doc
        .envelope()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (after, summary, summary_en) = compose(row.kind, &doc, who, step, at)?;
    let edit = Edit {
        meta: ChangeMeta {
            reason: summary.clone(),
            cadre_id: who.login.clone(),
            device_id: who.device_id.clone(),
        },
        time_ms: at.timestamp_millis(),
    };
    let change = doc
        .update_data(&env, &after, &edit)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| StepError::Refused {
            code: "wrong_order".into(),
            message:
                "这一步已经记录,没有可改动的内容 / this step is recorded already: nothing changes"
                    .into(),
        })?;
    Ok((change, summary, summary_en))
}

/// Checks the signed change's signature and form like a push, before any transaction: the
/// batch [`store`] then writes.
pub fn check(who: &Principal, req: &CommitStep) -> Result<merge::CheckedBatch, StepError> {
    if who.is_web() {
        return Err(StepError::KeyRequired);
    }
    let change = hex::decode(&req.change).map_err(|_| bad("change: hex"))?;
    let signature = hex::decode(&req.signature).map_err(|_| bad("signature: hex"))?;
    Ok(merge::check_batch(
        who,
        PushRequest {
            items: vec![PushItem {
                doc_id: req.record_id.clone(),
                change,
                signature,
            }],
        },
    ))
}

/// Runs every check on the checked step again (the record may have moved on since it was
/// prepared) and stores it.
pub fn store(
    tx: &mut dyn Tx,
    record_id: String,
    batch: merge::CheckedBatch,
) -> Result<CommittedStep, StepError> {
    let now = Utc::now().to_rfc3339();
    let (hash, outcome) = merge::ingest(tx, batch, &now)?
        .into_iter()
        .next()
        .ok_or_else(|| bad("nothing to commit"))?;
    let outcome = match outcome {
        PushOutcome::Accepted => "accepted",
        PushOutcome::Duplicate => "duplicate",
        PushOutcome::Rejected { code, message } => {
            return Err(StepError::Refused { code, message });
        }
        PushOutcome::Held => {
            return Err(bad(
                "the change depends on a version of the record the server does not hold: prepare the step again",
            ));
        }
    };
    Ok(CommittedStep {
        record_id,
        hash: hex::encode(hash),
        outcome: outcome.into(),
    })
}

/// The hash of a change, for tests and tools that sign a prepared step.
pub fn hash_of(change_hex: &str) -> Option<ChangeHash> {
    let bytes = hex::decode(change_hex).ok()?;
    Some(cunji_core::doc::change_from_bytes(bytes).ok()?.hash())
}
