//! The people in between (issue 16): who may endorse, approve, send back, review, accept,
//! assign and close, in which order, and what each step writes into the record. One place for
//! each rule: the sync server's checks (`sync-server/src/checks.rs`) refuse a change that
//! breaks one, with the [`Refusal`]'s code; the phone and the dashboard make each step with the
//! functions here ([`leave_step`], [`log_step`], [`visit_step`], [`petition_step`]), so what
//! they offer is what the server takes.
//!
//! Every step is an ordinary change of the record's Automerge document, made by the acting
//! account's own device (a phone, or the browser's registered key: see the sync server's
//! `approvals` module) and signed by it; the step's fields name the actor
//! ([`crate::domain::worklog::Review`]: who, when, why), and the checks here hold them to the
//! change's signer. A reviewer's change touches only its step's fields: nobody edits another
//! user's event records (DOMAIN §0).
//!
//! | record | step | who | order | codes |
//! |---|---|---|---|---|
//! | leave (§2.4, R3) | request | the cadre, at the level its days need (≤ 3⚙ township, else the organisation department); a 公务外出报备 may be reported (approved at once); made after it starts (病假: more than 2 days⚙ after) it is warned of at entry and excuses nothing ([`leave_timing`]) | — | `leave_not_pending`, `wrong_level`; `leave_late` (a warning) |
//! | | 队长同意, or send back (队长不同意, reason) | the team's first secretary, in its name, not on its own leave (it never approves one) | pending, not yet endorsed | `not_endorser`, `self_approval`, `wrong_order`, `reason_required` |
//! | | approve / send back (reason) | the level the request names (`wrong_level` for the other level, `wrong_approver` for any other role), never the requester, after 队长同意 unless the requester leads the team | pending | `wrong_approver`, `wrong_level`, `self_approval`, `not_endorsed`, `reason_required`, `wrong_order` |
//! | | 销假 | the requester | approved | `wrong_approver`, `wrong_order` |
//! | | anything after 销假 or 驳回 | nobody | | `leave_locked` |
//! | work log (§2.6, R16) | comment | the team's first secretary, not on its own log | once | `self_approval`, `review_locked`, `not_yours` |
//! | | 月考 review | the township, after the log's day | once | `wrong_approver`, `review_locked`, `not_yours` |
//! | visit (R8) | accept / reject (reason) | the township, only a level-C or mock-location visit | once | `wrong_approver`, `not_needed`, `reason_required`, `review_locked` |
//! | petition (§2.7, R15) | assign handler and due date | the county poverty office | open | `not_assigner`, `wrong_order` |
//! | | progress, close (办结/不予受理, resolution), 回访 | the handler, or the village's first secretary (the team handles its village's petitions together) | progress and close while open, 回访 after 办结 | `not_handler`, `wrong_order`, `reason_required` |
//!
//! Every reviewer's change that alters the requester's own fields is `review_only`. 超期未销假
//! is not a step anyone takes: it is what an approved leave is once its last day has passed
//! without 销假 ([`leave_standing`]); the attendance rules count those days 无故不在岗 (R3).
//!
//! Not here: whether the account may touch the record at all (its role's right and reach:
//! [`crate::domain::access`]), and 动态调整's steps, whose order and roles are the server's
//! step check over [`crate::domain::StatusChange`] with R12 ([`crate::domain::StatusChange::r12_exit_blockers`])
//! and R13 ([`super::adjustment`]).
//!
//! Decisions DOMAIN leaves open, taken here: the emergency leave R3 speaks of is 病假 (the only
//! leave type the grace days apply to); a late request is recorded with a warning, not
//! refused (refusing it would lose the record of a real absence; R3 makes it excuse nothing); a first secretary's own leave goes to the approver
//! without 队长同意; a first secretary who does not agree sends a team member's request back
//! (驳回, with its reason, in its name) instead of endorsing it, so that a request it will not
//! endorse does not wait forever; a log review is not refused for being late (R16 is a report: the
//! township's late review is flagged there, not blocked); a petition's handler is whoever the
//! county office names, who must be an account that may write the petition.

use crate::domain::access::Role;
use crate::domain::codes::{
    ApprovalLevel, LeaveStatus, LeaveType, PetitionStatus, ReturnVisitResult, StatusChangeResult,
    StatusChangeStep, StepOutcome,
};
use crate::domain::visit::Acceptance;
use crate::domain::worklog::Review;
use crate::domain::{Leave, Petition, ReturnVisit, StatusChange, Step, Visit, WorkLog};
use crate::rules::attendance::{AttendanceConfig, required_level};
use crate::values::{Date, Timestamp};

/// Why a step is refused: a stable code and what to do, Chinese first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

impl Refusal {
    fn new(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Refusal {
        Refusal {
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The message as the sync protocol carries it: Chinese, then English.
    pub fn message(&self) -> String {
        format!("{} / {}", self.zh, self.en)
    }
}

/// Every code [`Refusal`] is made with (the server's API documents them).
pub const CODES: &[&str] = &[
    "leave_not_pending",
    "leave_late",
    "wrong_level",
    "not_endorser",
    "self_approval",
    "wrong_order",
    "wrong_approver",
    "not_endorsed",
    "reason_required",
    "leave_locked",
    "review_locked",
    "review_only",
    "not_yours",
    "not_needed",
    "not_assigner",
    "not_handler",
];

/// Who takes a step: the signed-in account.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub login: &'a str,
    pub role: Role,
}

fn review_by(who: &Actor, at: Timestamp, comment: Option<String>) -> Review {
    Review {
        reviewer_id: who.login.to_string(),
        ts: at,
        comment: comment
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
    }
}

fn has_reason(r: Option<&Review>) -> bool {
    r.and_then(|r| r.comment.as_deref())
        .is_some_and(|c| !c.trim().is_empty())
}

fn reason_required() -> Refusal {
    Refusal::new(
        "reason_required",
        "退回或驳回时请写明理由,以便对方改正",
        "say why when sending something back, so that it can be put right",
    )
}

fn review_only() -> Refusal {
    Refusal::new(
        "review_only",
        "审核人只能填写自己的审核意见,不能修改他人登记的内容",
        "a reviewer adds its own step and changes nothing its author recorded",
    )
}

// ---------------------------------------------------------------------------------------------
// Leave

/// A step on a leave request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveAction {
    /// 队长同意.
    Endorse,
    /// 批准, with an optional note.
    Approve { note: Option<String> },
    /// 驳回 (sent back), with its reason.
    SendBack { reason: String },
    /// 销假.
    Return,
}

/// What the leave becomes when `who` takes `action` at `at` (checked by [`check_leave`]).
pub fn leave_step(l: &Leave, who: &Actor, action: &LeaveAction, at: Timestamp) -> Leave {
    let mut after = l.clone();
    match action {
        LeaveAction::Endorse => after.endorsed_by = Some(who.login.to_string()),
        LeaveAction::Approve { note } => {
            after.status = LeaveStatus::Approved;
            after.decision = Some(review_by(who, at, note.clone()));
        }
        LeaveAction::SendBack { reason } => {
            after.status = LeaveStatus::Rejected;
            after.decision = Some(review_by(who, at, Some(reason.clone())));
        }
        LeaveAction::Return => {
            after.status = LeaveStatus::Returned;
            after.returned_ts = Some(at);
        }
    }
    after
}

/// A request's state at entry: it starts pending (a 公务外出报备 is reported, so it may start
/// approved), not endorsed, not decided; and names the level its days need (R3).
pub fn check_leave_request(l: &Leave, cfg: &AttendanceConfig) -> Result<(), Refusal> {
    let reported = l.leave_type == LeaveType::OfficialTrip && l.status == LeaveStatus::Approved;
    if !(l.status == LeaveStatus::Pending || reported)
        || l.endorsed_by.is_some()
        || l.returned_ts.is_some()
        || l.decision.is_some()
    {
        return Err(Refusal::new(
            "leave_not_pending",
            "请假申请提交时应为“待审批”,由队长同意、再由审批人批准",
            "a leave request is submitted pending; the team leader endorses it and the approver approves it",
        ));
    }
    let need = required_level(l.days, cfg);
    if l.level != need {
        return Err(Refusal::new(
            "wrong_level",
            format!(
                "{}天的请假由{}审批(乡镇审批{}天以内)",
                l.days,
                need.label_zh(),
                cfg.township_max_leave_days
            ),
            format!(
                "a leave of {} days is approved by the {} (the township up to {} days)",
                l.days,
                need.label_en(),
                cfg.township_max_leave_days
            ),
        ));
    }
    Ok(())
}

/// R3's timing, said at entry: leave is requested before it starts (病假 within the grace
/// days⚙ after). A late request is still recorded, so that the absence it explains is on
/// file, but it excuses nothing ([`super::attendance::leave_excuses`]): the phone warns with
/// this message, and the ledger counts its days 无记录 or 无故不在岗.
pub fn leave_timing(l: &Leave, cfg: &AttendanceConfig) -> Result<(), Refusal> {
    let grace = if l.leave_type == LeaveType::Sick {
        cfg.sick_leave_grace_days
    } else {
        0
    };
    let late = (l.requested_ts.date_naive() - l.from).num_days();
    if late <= grace {
        return Ok(());
    }
    let (zh, en) = if grace > 0 {
        (
            format!(
                "病假最迟应在开始后{grace}天内补办,这条晚了{late}天:请假不能抵消这些天的缺勤,请向乡镇说明情况"
            ),
            format!(
                "sick leave is requested at most {grace} days after it starts; this one is {late} days late: it excuses none of those days; explain to the township"
            ),
        )
    } else {
        (
            format!(
                "请假应在开始之前申请(病假可在{}天内补办),这条晚了{late}天:请假不能抵消这些天的缺勤",
                cfg.sick_leave_grace_days
            ),
            format!(
                "leave is requested before it starts (sick leave within {} days after); this one is {late} days late: it excuses none of those days",
                cfg.sick_leave_grace_days
            ),
        )
    };
    Err(Refusal::new("leave_late", zh, en))
}

/// The approver role of a level.
pub fn approver_role(level: ApprovalLevel) -> Role {
    match level {
        ApprovalLevel::Township => Role::Township,
        ApprovalLevel::CountyOrg => Role::CountyOrg,
    }
}

/// The leave with only the requester's own fields (what reviewers may not change).
fn leave_content(l: &Leave) -> Leave {
    Leave {
        endorsed_by: None,
        status: LeaveStatus::Pending,
        returned_ts: None,
        decision: None,
        ..l.clone()
    }
}

/// Checks a change of a leave from `before` to `after` by `who`; `needs_endorsement`: the
/// requester is not its team's first secretary (whose own leave goes straight to the approver).
pub fn check_leave(
    who: &Actor,
    before: &Leave,
    after: &Leave,
    needs_endorsement: bool,
    cfg: &AttendanceConfig,
) -> Result<(), Refusal> {
    if before == after {
        return Ok(());
    }
    let requester = who.login == before.cadre_id;
    if matches!(before.status, LeaveStatus::Returned | LeaveStatus::Rejected) {
        return Err(Refusal::new(
            "leave_locked",
            "这条请假已经结束(已销假或已驳回),不能再修改:如需请假请重新申请",
            "this leave is closed (returned or rejected) and cannot change: make a new request",
        ));
    }
    if leave_content(before) != leave_content(after) {
        if !requester {
            return Err(review_only());
        }
        if before.status != LeaveStatus::Pending || before.endorsed_by.is_some() {
            return Err(Refusal::new(
                "leave_locked",
                "队长同意或批准之后,请假内容不能再改:请撤回后重新申请",
                "once endorsed or decided a request's content cannot change: make a new request",
            ));
        }
        check_leave_request(&leave_content(after), cfg)?;
    }
    if before.endorsed_by != after.endorsed_by {
        if requester {
            return Err(Refusal::new(
                "self_approval",
                "不能为自己的请假签署“队长同意”",
                "nobody endorses their own leave",
            ));
        }
        if who.role != Role::FirstSecretary
            || before.endorsed_by.is_some()
            || after.endorsed_by.as_deref() != Some(who.login)
        {
            return Err(Refusal::new(
                "not_endorser",
                "只有本队第一书记可以以自己的名义签署“队长同意”",
                "only the team's first secretary endorses leave, in its own name",
            ));
        }
        if before.status != LeaveStatus::Pending {
            return Err(Refusal::new(
                "wrong_order",
                "“队长同意”在审批之前签署,这条请假已经审批",
                "the team leader endorses a request before it is decided; this one is decided",
            ));
        }
    }
    if before.status == after.status {
        if before.decision != after.decision || before.returned_ts != after.returned_ts {
            return Err(Refusal::new(
                "wrong_order",
                "审批意见和销假时间随审批、销假一起填写",
                "a decision and a return time are written with the decision and the return",
            ));
        }
        return Ok(());
    }
    match (before.status, after.status) {
        (LeaveStatus::Pending, LeaveStatus::Approved | LeaveStatus::Rejected) => {
            if requester {
                return Err(Refusal::new(
                    "self_approval",
                    "本人不能审批自己的请假",
                    "nobody decides their own leave",
                ));
            }
            // 队长不同意: the team's first secretary sends a request back, with its reason,
            // instead of endorsing it (it never approves one).
            if after.status == LeaveStatus::Rejected
                && who.role == Role::FirstSecretary
                && needs_endorsement
                && before.endorsed_by.is_none()
                && after.endorsed_by.is_none()
            {
                if after
                    .decision
                    .as_ref()
                    .is_none_or(|d| d.reviewer_id != who.login)
                {
                    return Err(Refusal::new(
                        "not_endorser",
                        "退回须以本队第一书记自己的名义签署",
                        "a first secretary sends a request back in its own name",
                    ));
                }
                if !has_reason(after.decision.as_ref()) {
                    return Err(reason_required());
                }
                return Ok(());
            }
            let approver = approver_role(before.level);
            if who.role != approver {
                let other_level = matches!(who.role, Role::Township | Role::CountyOrg);
                return Err(Refusal::new(
                    if other_level {
                        "wrong_level"
                    } else {
                        "wrong_approver"
                    },
                    format!(
                        "这条{}天的请假由{}审批",
                        before.days,
                        before.level.label_zh()
                    ),
                    format!(
                        "this leave of {} days is decided by the {}",
                        before.days,
                        before.level.label_en()
                    ),
                ));
            }
            if needs_endorsement && after.endorsed_by.is_none() {
                return Err(Refusal::new(
                    "not_endorsed",
                    "请先由本队第一书记签署“队长同意”,再审批",
                    "the team's first secretary endorses the request before it is decided",
                ));
            }
            if after
                .decision
                .as_ref()
                .is_none_or(|d| d.reviewer_id != who.login)
            {
                return Err(Refusal::new(
                    "wrong_approver",
                    "审批须以审批人自己的名义签署",
                    "a decision is signed in the approver's own name",
                ));
            }
            if after.status == LeaveStatus::Rejected && !has_reason(after.decision.as_ref()) {
                return Err(reason_required());
            }
            Ok(())
        }
        (LeaveStatus::Approved | LeaveStatus::Overdue, LeaveStatus::Returned) => {
            if !requester {
                return Err(Refusal::new(
                    "wrong_approver",
                    "销假由请假人本人办理",
                    "only the requester reports back from leave",
                ));
            }
            Ok(())
        }
        (_, LeaveStatus::Returned) => Err(Refusal::new(
            "wrong_order",
            "只有已批准的请假才能销假",
            "only approved leave is closed by reporting back",
        )),
        _ => Err(Refusal::new(
            "wrong_order",
            format!(
                "请假不能从“{}”变为“{}”",
                before.status.label_zh(),
                after.status.label_zh()
            ),
            format!(
                "a leave does not go from {} to {}",
                before.status.code(),
                after.status.code()
            ),
        )),
    }
}

/// Where a leave stands on `today`: an approved leave whose last day has passed without 销假 is
/// 超期未销假 (R3).
pub fn leave_standing(l: &Leave, today: Date) -> LeaveStatus {
    if overdue(l.status, l.to, today) {
        LeaveStatus::Overdue
    } else {
        l.status
    }
}

/// 超期未销假 on `today`: approved (or marked overdue) and past its last day `to`, not closed.
pub fn overdue(status: LeaveStatus, to: Date, today: Date) -> bool {
    match status {
        LeaveStatus::Approved => today > to,
        LeaveStatus::Overdue => true,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Work logs

/// A step on a work log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogAction {
    /// The first secretary's comment.
    Comment { comment: String },
    /// The township's 月考 review.
    Review { comment: Option<String> },
}

pub fn log_step(l: &WorkLog, who: &Actor, action: &LogAction, at: Timestamp) -> WorkLog {
    let mut after = l.clone();
    match action {
        LogAction::Comment { comment } => {
            after.leader_comment = Some(review_by(who, at, Some(comment.clone())))
        }
        LogAction::Review { comment } => after.review = Some(review_by(who, at, comment.clone())),
    }
    after
}

/// R16: the day by which the township reviews a log of `date`: day 10 of the next month.
pub fn review_due(date: Date) -> Date {
    use chrono::Datelike;
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    Date::from_ymd_opt(y, m, 10).unwrap_or(date)
}

/// Checks a change of a log written by `author` from `before` (`None`: a new log) to `after`.
pub fn check_log(
    who: &Actor,
    author: &str,
    before: Option<&WorkLog>,
    after: &WorkLog,
) -> Result<(), Refusal> {
    let own = who.login == author;
    let (old_review, old_comment) = match before {
        Some(b) => (b.review.as_ref(), b.leader_comment.as_ref()),
        None => (None, None),
    };
    if let Some(b) = before {
        let strip = |l: &WorkLog| WorkLog {
            review: None,
            leader_comment: None,
            ..l.clone()
        };
        if !own && strip(b) != strip(after) {
            return Err(review_only());
        }
    }
    let steps = [
        (
            old_comment,
            after.leader_comment.as_ref(),
            Role::FirstSecretary,
        ),
        (old_review, after.review.as_ref(), Role::Township),
    ];
    for (old, new, role) in steps {
        if old == new {
            continue;
        }
        if old.is_some() {
            return Err(Refusal::new(
                "review_locked",
                "审核意见已经签署,不能修改或删除",
                "a signed review cannot be changed or removed",
            ));
        }
        if own {
            return Err(Refusal::new(
                "self_approval",
                "不能审核或点评自己的日志",
                "nobody reviews or comments on their own log",
            ));
        }
        if who.role != role {
            return Err(Refusal::new(
                "wrong_approver",
                if role == Role::Township {
                    "日志的月度审核(月考)由乡镇签署"
                } else {
                    "日志的点评由本队第一书记签署"
                },
                if role == Role::Township {
                    "a log's monthly review is the township's"
                } else {
                    "a comment on a log is the team's first secretary's"
                },
            ));
        }
        if new.is_some_and(|r| r.reviewer_id != who.login) {
            return Err(Refusal::new(
                "not_yours",
                "审核意见须以审核人自己的名义签署",
                "a review is signed in the reviewer's own name",
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Visits

/// The township's verdict on a visit (R8).
pub fn visit_step(
    v: &Visit,
    who: &Actor,
    accepted: bool,
    reason: Option<String>,
    at: Timestamp,
) -> Visit {
    let mut after = v.clone();
    after.acceptance = Some(Acceptance {
        accepted,
        review: review_by(who, at, reason),
    });
    after
}

/// Checks a change of a visit by `who`; `needs_acceptance`: its evidence is level C or its
/// location mocked (R8), so that only then may the township accept or reject it.
pub fn check_visit(
    who: &Actor,
    author: &str,
    before: Option<&Visit>,
    after: &Visit,
    needs_acceptance: bool,
) -> Result<(), Refusal> {
    let old = before.and_then(|b| b.acceptance.as_ref());
    if let Some(b) = before {
        let strip = |v: &Visit| Visit {
            acceptance: None,
            ..v.clone()
        };
        if who.login != author && strip(b) != strip(after) {
            return Err(review_only());
        }
    }
    if old == after.acceptance.as_ref() {
        return Ok(());
    }
    if old.is_some() {
        return Err(Refusal::new(
            "review_locked",
            "这次走访已经验收,不能修改或删除验收意见",
            "this visit's acceptance is signed and cannot change",
        ));
    }
    if who.role != Role::Township || who.login == author {
        return Err(Refusal::new(
            "wrong_approver",
            "走访的验收由乡镇签署,本人不能验收自己的走访",
            "a visit is accepted by the township, never by its visitor",
        ));
    }
    let Some(a) = &after.acceptance else {
        return Ok(());
    };
    if a.review.reviewer_id != who.login {
        return Err(Refusal::new(
            "not_yours",
            "验收须以验收人自己的名义签署",
            "an acceptance is signed in the township's own name",
        ));
    }
    if !needs_acceptance {
        return Err(Refusal::new(
            "not_needed",
            "这次走访的证据为A或B级且定位正常,本身就计入,不需要验收",
            "this visit's evidence is level A or B with a real location: it counts without acceptance",
        ));
    }
    if !a.accepted && !has_reason(Some(&a.review)) {
        return Err(reason_required());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Petitions

/// A step on a petition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PetitionAction {
    /// The county office names the handler and the due date.
    Assign { handler_id: String, due_date: Date },
    /// The handler records what it did.
    Progress { note: String },
    /// The handler closes it: 办结 with the resolution, or 不予受理 with the reason.
    Close { resolution: String, accepted: bool },
    /// The handler's 回访 after 办结.
    ReturnVisit { result: ReturnVisitResult },
}

pub fn petition_step(
    p: &Petition,
    who: &Actor,
    action: &PetitionAction,
    at: Timestamp,
) -> Petition {
    let mut after = p.clone();
    let day = at.date_naive();
    match action {
        PetitionAction::Assign {
            handler_id,
            due_date,
        } => {
            after.handler_id = handler_id.clone();
            after.due_date = *due_date;
            after.assignment = Some(review_by(who, at, None));
        }
        PetitionAction::Progress { note } => {
            after.progress.push(review_by(who, at, Some(note.clone())));
            after.status = PetitionStatus::InProgress;
        }
        PetitionAction::Close {
            resolution,
            accepted,
        } => {
            after.status = if *accepted {
                PetitionStatus::Closed
            } else {
                PetitionStatus::NotAccepted
            };
            after.resolution = Some(resolution.trim().to_string()).filter(|r| !r.is_empty());
            after.closed_date = Some(day);
        }
        PetitionAction::ReturnVisit { result } => {
            after.return_visit = Some(ReturnVisit {
                date: day,
                result: *result,
            })
        }
    }
    after
}

/// Checks an edit of a petition from `before` to `after` by `who` (a new petition is the
/// intake's, whose fields its validation checks).
pub fn check_petition(who: &Actor, before: &Petition, after: &Petition) -> Result<(), Refusal> {
    if before == after {
        return Ok(());
    }
    let assigned = before.handler_id != after.handler_id
        || before.due_date != after.due_date
        || before.assignment != after.assignment;
    if assigned {
        if who.role != Role::CountyOffice
            || after
                .assignment
                .as_ref()
                .is_none_or(|a| a.reviewer_id != who.login)
        {
            return Err(Refusal::new(
                "not_assigner",
                "信访件的承办人和办理期限由县扶贫办以自己的名义指定",
                "a petition's handler and due date are set by the county poverty office, in its own name",
            ));
        }
        if !before.status.is_open() {
            return Err(Refusal::new(
                "wrong_order",
                "信访件已经办结,不能再指定承办人",
                "this petition is closed: it takes no new handler",
            ));
        }
    }
    let handled = before.status != after.status
        || before.resolution != after.resolution
        || before.closed_date != after.closed_date
        || before.progress != after.progress
        || before.return_visit != after.return_visit;
    if !handled {
        return Ok(());
    }
    if who.login != before.handler_id && who.role != Role::FirstSecretary {
        return Err(Refusal::new(
            "not_handler",
            "办理进展、办结和回访由承办人(或本村第一书记)记录",
            "progress, closing and the return visit are recorded by the petition's handler (or the village's first secretary)",
        ));
    }
    let kept = after.progress.get(..before.progress.len()) == Some(&before.progress[..]);
    if !kept
        || after.progress[before.progress.len()..]
            .iter()
            .any(|p| p.reviewer_id != who.login)
    {
        return Err(Refusal::new(
            "review_locked",
            "已记录的办理进展不能修改或删除",
            "recorded progress cannot be changed or removed",
        ));
    }
    let open = before.status.is_open();
    let closing = before.status != after.status && !after.status.is_open();
    if before.status != after.status && !open {
        return Err(Refusal::new(
            "wrong_order",
            "信访件已经办结,不能改变状态",
            "this petition is closed: its status stays",
        ));
    }
    if closing
        && after
            .resolution
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(reason_required());
    }
    if before.return_visit != after.return_visit
        && (before.return_visit.is_some() || after.status != PetitionStatus::Closed)
    {
        return Err(Refusal::new(
            "wrong_order",
            "回访在办结之后进行,只记录一次",
            "the return visit follows the closing, once",
        ));
    }
    if !open && (before.progress != after.progress || before.resolution != after.resolution) {
        return Err(Refusal::new(
            "wrong_order",
            "信访件已经办结,只能记录回访",
            "this petition is closed: only its return visit is recorded",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 动态调整: the township's and the county's steps

/// The step a township's or county's step follows, which must be recorded and passed first
/// (DOMAIN §2.8: 公示 → 乡镇审核 → 县审批公告 → 系统录入). `None` for the village's steps,
/// whose order the step check alone holds.
pub fn case_step_follows(step: StatusChangeStep) -> Option<StatusChangeStep> {
    match step {
        StatusChangeStep::TownshipReview => Some(StatusChangeStep::Publicity),
        StatusChangeStep::CountyApproval => Some(StatusChangeStep::TownshipReview),
        StatusChangeStep::SystemEntry => Some(StatusChangeStep::CountyApproval),
        _ => None,
    }
}

/// Whether the step `step` may be recorded after `steps`: the step it follows
/// ([`case_step_follows`]) is the latest recorded and passed.
pub fn case_step_ready(steps: &[Step], step: StatusChangeStep) -> bool {
    match case_step_follows(step) {
        None => true,
        Some(prev) => steps
            .iter()
            .rev()
            .find(|s| s.step == prev || s.step == step)
            .is_some_and(|s| s.step == prev && s.outcome == StepOutcome::Passed),
    }
}

/// Whether the county's latest 县审批公告 passed: what a case's result 批准 needs.
pub fn county_approved(steps: &[Step]) -> bool {
    steps
        .iter()
        .rev()
        .find(|s| s.step == StatusChangeStep::CountyApproval)
        .is_some_and(|s| s.outcome == StepOutcome::Passed)
}

/// A township's or county's step on a case: recorded today in `who`'s name; the county's
/// 县审批公告 also records the result (批准 when it passes, 驳回 otherwise) and, once approved,
/// the day it takes effect.
pub fn case_step(
    c: &StatusChange,
    who: &Actor,
    step: StatusChangeStep,
    outcome: StepOutcome,
    note: Option<String>,
    day: Date,
) -> StatusChange {
    let mut after = c.clone();
    after.steps.push(Step {
        step,
        date: day,
        actor_id: who.login.to_string(),
        outcome,
        note: note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        votes_for: None,
        votes_against: None,
        publicity: None,
    });
    if step == StatusChangeStep::CountyApproval && outcome != StepOutcome::Returned {
        if outcome == StepOutcome::Passed {
            after.result = Some(StatusChangeResult::Approved);
            after.effective_date = Some(day);
        } else {
            after.result = Some(StatusChangeResult::Rejected);
        }
    }
    after
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn request() -> Leave {
        Leave {
            status: LeaveStatus::Pending,
            returned_ts: None,
            endorsed_by: None,
            decision: None,
            ..Leave::example()
        }
    }

    const MEMBER: Actor = Actor {
        login: "cadre-li-ming",
        role: Role::TeamMember,
    };
    const LEADER: Actor = Actor {
        login: "cadre-wang-zhigang",
        role: Role::FirstSecretary,
    };
    const TOWN: Actor = Actor {
        login: "town-zhang",
        role: Role::Township,
    };
    const ORG: Actor = Actor {
        login: "org-wu",
        role: Role::CountyOrg,
    };

    fn code<T>(r: Result<T, Refusal>) -> &'static str {
        r.err().map_or("ok", |e| e.code)
    }

    #[test]
    fn a_request_is_made_in_time_at_its_level() {
        let cfg = AttendanceConfig::default();
        assert_eq!(code(check_leave_request(&request(), &cfg)), "ok");
        assert_eq!(code(leave_timing(&request(), &cfg)), "ok");
        let mut late = request();
        late.requested_ts = ts("2015-10-09T08:00:00+08:00");
        assert_eq!(code(leave_timing(&late, &cfg)), "leave_late");
        late.leave_type = LeaveType::Sick;
        assert_eq!(code(leave_timing(&late, &cfg)), "ok");
        late.requested_ts = ts("2015-10-11T08:00:00+08:00");
        assert_eq!(code(leave_timing(&late, &cfg)), "leave_late");
        let mut long = request();
        long.to = long.from + chrono::Duration::days(4);
        long.days = 5;
        assert_eq!(code(check_leave_request(&long, &cfg)), "wrong_level");
        long.level = ApprovalLevel::CountyOrg;
        assert_eq!(code(check_leave_request(&long, &cfg)), "ok");
        // A trip is reported (approved at once) or asked for; other leave is asked for.
        let mut trip = request();
        trip.leave_type = LeaveType::OfficialTrip;
        assert_eq!(code(check_leave_request(&trip, &cfg)), "ok");
        trip.status = LeaveStatus::Approved;
        assert_eq!(code(check_leave_request(&trip, &cfg)), "ok");
        trip.leave_type = LeaveType::Personal;
        assert_eq!(code(check_leave_request(&trip, &cfg)), "leave_not_pending");
    }

    #[test]
    fn leave_goes_endorse_decide_return_by_whom_it_should() {
        let cfg = AttendanceConfig::default();
        let at = ts("2015-10-07T09:00:00+08:00");
        let l = request();
        let step = |who: &Actor, l: &Leave, a: LeaveAction| {
            let after = leave_step(l, who, &a, at);
            check_leave(who, l, &after, true, &cfg).map(|()| after)
        };
        assert_eq!(
            code(step(&MEMBER, &l, LeaveAction::Endorse)),
            "self_approval"
        );
        assert_eq!(code(step(&TOWN, &l, LeaveAction::Endorse)), "not_endorser");
        let approve = || LeaveAction::Approve { note: None };
        assert_eq!(code(step(&TOWN, &l, approve())), "not_endorsed");
        assert_eq!(code(step(&MEMBER, &l, approve())), "self_approval");
        assert_eq!(code(step(&ORG, &l, approve())), "wrong_level");
        assert_eq!(code(step(&LEADER, &l, approve())), "wrong_approver");
        assert_eq!(code(step(&MEMBER, &l, LeaveAction::Return)), "wrong_order");
        // The first secretary may send a request back instead of endorsing it, with a reason.
        let blank = LeaveAction::SendBack {
            reason: "  ".into(),
        };
        assert_eq!(code(step(&LEADER, &l, blank)), "reason_required");
        let why = || LeaveAction::SendBack {
            reason: "汛期值班".into(),
        };
        let sent_back = step(&LEADER, &l, why()).unwrap();
        assert_eq!(sent_back.status, LeaveStatus::Rejected);
        assert_eq!(sent_back.decision.unwrap().reviewer_id, LEADER.login);
        let endorsed = step(&LEADER, &l, LeaveAction::Endorse).unwrap();
        // Once endorsed, the decision is the approver's alone.
        assert_eq!(code(step(&LEADER, &endorsed, why())), "wrong_approver");
        let back = LeaveAction::SendBack { reason: " ".into() };
        assert_eq!(code(step(&TOWN, &endorsed, back)), "reason_required");
        // A reviewer may not touch the request itself.
        let mut edited = leave_step(&endorsed, &TOWN, &approve(), at);
        edited.reason = "改了".into();
        assert_eq!(
            code(check_leave(&TOWN, &endorsed, &edited, true, &cfg)),
            "review_only"
        );
        let approved = step(&TOWN, &endorsed, approve()).unwrap();
        assert_eq!(approved.decision.as_ref().unwrap().reviewer_id, TOWN.login);
        assert_eq!(
            code(step(&TOWN, &approved, LeaveAction::Return)),
            "wrong_approver"
        );
        let returned = step(&MEMBER, &approved, LeaveAction::Return).unwrap();
        assert_eq!(code(step(&TOWN, &returned, approve())), "leave_locked");
        // A first secretary's own leave needs no endorsement.
        let own = Leave {
            cadre_id: LEADER.login.into(),
            ..request()
        };
        let after = leave_step(&own, &TOWN, &approve(), at);
        assert_eq!(code(check_leave(&TOWN, &own, &after, false, &cfg)), "ok");
    }

    #[test]
    fn an_approved_leave_past_its_end_without_return_is_overdue() {
        let mut l = request();
        l.status = LeaveStatus::Approved;
        assert_eq!(leave_standing(&l, l.to), LeaveStatus::Approved);
        assert_eq!(
            leave_standing(&l, l.to + chrono::Duration::days(1)),
            LeaveStatus::Overdue
        );
    }

    #[test]
    fn logs_are_commented_by_the_leader_and_reviewed_by_the_township_once() {
        let at = ts("2015-10-08T10:00:00+08:00");
        let log = WorkLog {
            review: None,
            ..WorkLog::example()
        };
        let author = MEMBER.login;
        let step = |who: &Actor, l: &WorkLog, a: LogAction| {
            let after = log_step(l, who, &a, at);
            check_log(who, author, Some(l), &after).map(|()| after)
        };
        let comment = || LogAction::Comment {
            comment: "好".into(),
        };
        let review = || LogAction::Review { comment: None };
        assert_eq!(code(step(&MEMBER, &log, review())), "self_approval");
        assert_eq!(code(step(&TOWN, &log, comment())), "wrong_approver");
        assert_eq!(code(step(&LEADER, &log, review())), "wrong_approver");
        let commented = step(&LEADER, &log, comment()).unwrap();
        let reviewed = step(&TOWN, &commented, review()).unwrap();
        let again = LogAction::Review {
            comment: Some("再审".into()),
        };
        assert_eq!(code(step(&TOWN, &reviewed, again)), "review_locked");
        let mut edited = log_step(&log, &TOWN, &review(), at);
        edited.summary = "改".into();
        assert_eq!(
            code(check_log(&TOWN, author, Some(&log), &edited)),
            "review_only"
        );
        assert_eq!(
            review_due(log.date),
            Date::from_ymd_opt(2015, 10, 10).unwrap()
        );
        assert_eq!(
            review_due(Date::from_ymd_opt(2015, 12, 31).unwrap()),
            Date::from_ymd_opt(2016, 1, 10).unwrap()
        );
    }

    #[test]
    fn only_visits_that_need_it_are_accepted_by_the_township() {
        let at = ts("2015-10-08T10:00:00+08:00");
        let v = Visit::example();
        let author = v.visitor_id.clone();
        let accept = visit_step(&v, &TOWN, true, None, at);
        assert_eq!(
            code(check_visit(&TOWN, &author, Some(&v), &accept, false)),
            "not_needed"
        );
        assert_eq!(
            code(check_visit(&TOWN, &author, Some(&v), &accept, true)),
            "ok"
        );
        let by_leader = visit_step(&v, &LEADER, true, None, at);
        assert_eq!(
            code(check_visit(&LEADER, &author, Some(&v), &by_leader, true)),
            "wrong_approver"
        );
        let reject = visit_step(&v, &TOWN, false, None, at);
        assert_eq!(
            code(check_visit(&TOWN, &author, Some(&v), &reject, true)),
            "reason_required"
        );
        let again = visit_step(&accept, &TOWN, false, Some("不实".into()), at);
        assert_eq!(
            code(check_visit(&TOWN, &author, Some(&accept), &again, true)),
            "review_locked"
        );
    }

    #[test]
    fn petitions_are_assigned_by_the_county_and_handled_by_their_handler() {
        let at = ts("2015-10-20T10:00:00+08:00");
        let open = Petition {
            status: PetitionStatus::Accepted,
            resolution: None,
            closed_date: None,
            return_visit: None,
            ..Petition::example()
        };
        let county = Actor {
            login: "county-x",
            role: Role::CountyOffice,
        };
        let handler = Actor {
            login: "town-zhang",
            role: Role::Township,
        };
        let step = |who: &Actor, p: &Petition, a: PetitionAction| {
            let after = petition_step(p, who, &a, at);
            check_petition(who, p, &after).map(|()| after)
        };
        let assign = || PetitionAction::Assign {
            handler_id: handler.login.into(),
            due_date: Date::from_ymd_opt(2015, 12, 1).unwrap(),
        };
        assert_eq!(code(step(&handler, &open, assign())), "not_assigner");
        let assigned = step(&county, &open, assign()).unwrap();
        let progress = || PetitionAction::Progress {
            note: "上门核实".into(),
        };
        assert_eq!(code(step(&county, &assigned, progress())), "not_handler");
        let rv = || PetitionAction::ReturnVisit {
            result: ReturnVisitResult::Satisfied,
        };
        assert_eq!(code(step(&handler, &assigned, rv())), "wrong_order");
        let going = step(&handler, &assigned, progress()).unwrap();
        let close = |r: &str| PetitionAction::Close {
            resolution: r.into(),
            accepted: true,
        };
        assert_eq!(code(step(&handler, &going, close(""))), "reason_required");
        let closed = step(&handler, &going, close("已解决")).unwrap();
        assert_eq!(code(step(&handler, &closed, progress())), "wrong_order");
        let later = PetitionAction::Assign {
            handler_id: handler.login.into(),
            due_date: Date::from_ymd_opt(2016, 1, 1).unwrap(),
        };
        assert_eq!(code(step(&county, &closed, later)), "wrong_order");
        let visited = step(&handler, &closed, rv()).unwrap();
        assert_eq!(code(step(&handler, &visited, rv())), "ok");
        let mut again = visited.clone();
        again.return_visit.as_mut().unwrap().result = ReturnVisitResult::Dissatisfied;
        assert_eq!(
            code(check_petition(&handler, &visited, &again)),
            "wrong_order"
        );
    }
}
