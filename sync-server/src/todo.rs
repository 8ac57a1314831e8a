//! The signed-in account's 待办 (issue 16, item 8): what waits for its step, with counts and
//! the records' ids, so that the dashboard opens on them and the first secretary's phone
//! shows its team's pending items; and, for a cadre, where each of its own leave requests
//! stands.
//!
//! | role | list | what waits |
//! |---|---|---|
//! | first secretary | `leave_to_endorse` | its team's pending leave without 队长同意 (not another first secretary's) |
//! | township | `leave_to_approve` | pending leave of ≤ 3⚙ days in its division, endorsed (or a first secretary's own) |
//! | township | `logs_to_review` | logs of months already over, not reviewed (R16) |
//! | township | `cases_to_review` | 动态调整 cases whose 公示 passed (乡镇审核 next) |
//! | township | `visits_to_accept` | level-C and mock-location visits without the township's verdict (R8) |
//! | county office | `cases_to_approve`, `cases_to_enter` | cases whose 乡镇审核 passed (县审批公告 next), whose 县审批公告 passed (系统录入 next) |
//! | county office | `petitions_to_assign` | open petitions not yet assigned by the county |
//! | organisation dept. | `leave_to_approve` | pending leave of more than 3⚙ days, endorsed (or a first secretary's own) |
//! | any account | `petitions_to_handle`, `petitions_to_return_visit` | open petitions whose handler it is; closed ones without their 回访 |
//! | cadres | `my_leave_pending`, `my_leave_overdue` | its own requests waiting for a decision; approved and past their end without 销假 (超期未销假) |
//! | county office | `feedback_to_answer` | 投诉建议 of its county not yet answered (not its own) |
//! | every account in a county | `my_feedback` | its own 投诉建议, answered or not (the record says which) |
//! | township | `ledgers_to_sign` | attendance ledgers of months that are over, of its villages with a team and its own, not yet signed: last month's, and earlier months' in which the scope's cadres checked in (ids: `{scope}:{month}`; `ledgers` names them) |
//! | organisation dept. | `ledgers_received` | ledger signatures in its county of last month, and of earlier months received since last month began (ids: the signatures; `ledgers` says which month, by whom, when, on time by day 10⚙ or not) |
//!
//! Each list of records carries, beside its ids, what each card shows (`entries`: names,
//! dates, R12 blockers; [`cards`]), so the dashboard need not fetch each person and household.
//!
//! Each list's rule is the core's ([`cunji_core::rules::approvals`], R8's
//! [`cunji_core::reports::evidence::needs_acceptance`]); this module only gathers the rows.
//! The ledger lists: [`crate::ledger`].

use std::collections::HashMap;

use chrono::Datelike;
use cunji_core::domain::codes::{
    ApprovalLevel, FeedbackStatus, LeaveStatus, PetitionStatus, StatusChangeResult,
    StatusChangeStep, StepOutcome,
};
use cunji_core::reports::evidence::{EvidenceConfig, evidence_level, needs_acceptance};
use cunji_core::rules::approvals::{case_step_follows, overdue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::accounts::{Principal, Role, today};

mod cards;
use crate::reports::facts::{self, load};
use crate::store::{RowFilter, StoreResult, Tx};
pub use cards::TodoEntry;

/// The signed-in account's 待办.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TodoList {
    pub login: String,
    pub role: String,
    /// Every list of the role, the empty ones too (count 0).
    pub items: Vec<TodoItem>,
}

/// One list: what waits, how many, which records.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TodoItem {
    /// `leave_to_approve`, `logs_to_review`, … (see the module docs).
    pub list: String,
    pub label: String,
    pub label_en: String,
    pub count: usize,
    /// The records' ids, oldest first (`GET /v1/records/{id}`; the step: `POST
    /// /v1/records/{id}/steps`).
    pub ids: Vec<String>,
    /// For the ledger lists: last month (`YYYY-MM`), the month whose ledgers are due now;
    /// each entry of `ledgers` says its own month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// For the ledger lists: each ledger, by scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ledgers: Vec<LedgerEntry>,
    /// For the lists of records: what each card shows, one per id in the same order (names
    /// masked as the records API masks them for the reader; [`cards`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<TodoEntry>,
}

impl LedgerEntry {
    /// Its id in `ledgers_to_sign`'s `ids`: `{scope}:{month}`.
    fn key(&self) -> String {
        format!("{}:{}", self.scope, self.month)
    }
}

/// One attendance ledger of a ledger list: its scope and month and, once signed, the signature.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LedgerEntry {
    /// A village's or township's code.
    pub scope: String,
    pub scope_name: Option<String>,
    /// The ledger's month, `YYYY-MM`.
    pub month: String,
    /// The signature record's id, by whom (login, name) and when; `None` before signing.
    pub record_id: Option<String>,
    pub by: Option<String>,
    pub by_name: Option<String>,
    pub at: Option<String>,
    /// Signed by day 10⚙ of the next month (the county's `ledger_due_day`).
    pub on_time: Option<bool>,
}

fn item(list: &str, label: &str, label_en: &str, mut ids: Vec<(String, String)>) -> TodoItem {
    ids.sort();
    TodoItem {
        list: list.into(),
        label: label.into(),
        label_en: label_en.into(),
        count: ids.len(),
        ids: ids.into_iter().map(|(_, id)| id).collect(),
        month: None,
        ledgers: Vec::new(),
        entries: Vec::new(),
    }
}

/// Last month: its first day, as of `today`.
fn last_month(today: cunji_core::values::Date) -> cunji_core::values::Date {
    let first = today.with_day0(0).unwrap_or(today);
    (first - chrono::Duration::days(1))
        .with_day0(0)
        .unwrap_or(first)
}

/// The township's `ledgers_to_sign`: every month that is over, and for each its villages with
/// a team seat that month and the township itself, without a signature, when the month is
/// last month or the scope's cadres checked in that month (the figures have something to
/// sign). Not only last month: a ledger left unsigned stays a duty until it is signed (and a
/// county whose records start in the past, as the generated demo's, has every month's ledger
/// to sign); months with no check-in of the scope before last month are not asked for (a
/// team's seat open for years would otherwise list every empty month). Oldest first.
fn ledgers_to_sign(
    tx: &mut dyn Tx,
    division: &str,
    today: cunji_core::values::Date,
) -> StoreResult<TodoItem> {
    use std::collections::BTreeSet;
    let last = last_month(today);
    let signed: std::collections::HashSet<(String, String)> =
        crate::reports::stored_signatures(tx, RowFilter::Division(division), None)?
            .into_iter()
            .map(|s| (s.scope, s.month))
            .collect();
    let names = facts::village_names(&facts::villages(tx, RowFilter::Division(division))?);
    let seats = facts::team_seats(tx, RowFilter::Division(division))?;
    // (month's first day, village) with a check-in; last month for every village.
    let mut candidates: BTreeSet<(cunji_core::values::Date, String)> = load(
        tx,
        "p_checkin",
        &["village_code", "local_date", "state"],
        RowFilter::Division(division),
        |r| {
            r.submitted(2).then_some(())?;
            let first = r.date(1)?.with_day0(0)?;
            let village = r.s(0)?;
            (first <= last).then_some((first, village))
        },
    )?
    .into_iter()
    .collect();
    candidates.extend(seats.iter().map(|s| (last, s.village_code.clone())));
    let township = division.len() == cunji_core::domain::ScopeLevel::Township.code_len();
    let mut ledgers: BTreeSet<(cunji_core::values::Date, String)> = BTreeSet::new();
    for (first, village) in candidates {
        let end = cunji_core::rules::attendance::month_end(first);
        // A seat of the village's team overlapping the month.
        let seated = seats.iter().any(|s| {
            s.village_code == village
                && s.period.from <= end
                && s.period.to.is_none_or(|t| t >= first)
        });
        if seated {
            ledgers.insert((first, village));
            if township {
                ledgers.insert((first, division.to_string()));
            }
        }
    }
    let entries: Vec<LedgerEntry> = ledgers
        .into_iter()
        .map(|(first, scope)| (crate::reports::month_code(first), scope))
        .filter(|key| !signed.contains(&(key.1.clone(), key.0.clone())))
        .map(|(month, scope)| LedgerEntry {
            scope_name: names.get(&scope).cloned(),
            scope,
            month,
            record_id: None,
            by: None,
            by_name: None,
            at: None,
            on_time: None,
        })
        .collect();
    let mut it = item(
        "ledgers_to_sign",
        "待签字的考勤台账",
        "Attendance ledgers to sign",
        entries
            .iter()
            .map(|e| (format!("{} {}", e.month, e.scope), e.key()))
            .collect(),
    );
    it.month = Some(crate::reports::month_code(last));
    it.ledgers = entries;
    Ok(it)
}

/// The organisation department's `ledgers_received`: the signatures in its county of last
/// month, and those of earlier months received since last month began (a late signature
/// shows, late). Oldest month first.
fn ledgers_received(
    tx: &mut dyn Tx,
    division: &str,
    today: cunji_core::values::Date,
) -> StoreResult<TodoItem> {
    let first = last_month(today);
    let month = crate::reports::month_code(first);
    let mut signed: Vec<_> =
        crate::reports::stored_signatures(tx, RowFilter::Division(division), None)?
            .into_iter()
            .filter(|s| {
                s.month == month
                    || cunji_core::domain::ledger::china_date(&s.signed_at)
                        .is_some_and(|d| d >= first)
            })
            .collect();
    signed.sort_by(|a, b| (&a.month, &a.scope).cmp(&(&b.month, &b.scope)));
    let names = facts::village_names(&facts::villages(tx, RowFilter::Division(division))?);
    let by_county = crate::settings::ByCounty::read(tx, signed.iter().map(|s| s.scope.as_str()))?;
    let mut it = item(
        "ledgers_received",
        "已收到的考勤台账签字",
        "Attendance ledgers received",
        signed
            .iter()
            .map(|s| (format!("{} {}", s.month, s.scope), s.id.clone()))
            .collect(),
    );
    it.month = Some(month);
    it.ledgers = signed
        .into_iter()
        .map(|s| {
            let due_day = by_county.of(&s.scope).map_or(
                cunji_core::rules::attendance::AttendanceConfig::default().ledger_due_day,
                |c| c.rules.attendance.ledger_due_day,
            );
            let on_time =
                cunji_core::domain::ledger::month_start(&s.month).map(|m| s.on_time(m, due_day));
            LedgerEntry {
                on_time,
                scope_name: names.get(&s.scope).cloned(),
                record_id: Some(s.id),
                by: Some(s.signer_id),
                by_name: s.signer_name,
                at: Some(s.signed_at),
                scope: s.scope,
                month: s.month,
            }
        })
        .collect();
    Ok(it)
}

/// A leave row: (id, requester, status, level, endorsed, from, to).
struct LeaveRow {
    id: String,
    cadre: String,
    status: LeaveStatus,
    level: ApprovalLevel,
    endorsed: bool,
    from: String,
    to: Option<cunji_core::values::Date>,
}

fn leaves(tx: &mut dyn Tx, filter: RowFilter<'_>) -> StoreResult<Vec<LeaveRow>> {
    load(
        tx,
        "p_leave",
        &[
            "cadre_id",
            "status",
            "level",
            "endorsed_by",
            "from_date",
            "to_date",
            "state",
        ],
        filter,
        |r| {
            r.live(6).then_some(())?;
            Some(LeaveRow {
                id: r.id(),
                cadre: r.s(0)?,
                status: LeaveStatus::from_code(&r.s(1)?)?,
                level: ApprovalLevel::from_code(&r.s(2)?)?,
                endorsed: r.s(3).is_some(),
                from: r.s(4).unwrap_or_default(),
                to: r.date(5),
            })
        },
    )
}

/// Whether the requester leads its team (its leave needs no 队长同意).
fn leads(tx: &mut dyn Tx, roles: &mut HashMap<String, bool>, login: &str) -> StoreResult<bool> {
    if let Some(l) = roles.get(login) {
        return Ok(*l);
    }
    let l = tx
        .account(login)?
        .is_some_and(|a| a.role == Role::FirstSecretary);
    roles.insert(login.to_string(), l);
    Ok(l)
}

/// Cases in `filter` whose latest step is `after`, passed: the next step waits.
fn cases_at(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
    next: StatusChangeStep,
) -> StoreResult<Vec<(String, String)>> {
    let Some(after) = case_step_follows(next) else {
        return Ok(Vec::new());
    };
    load(
        tx,
        "p_status_change",
        &[
            "current_step",
            "current_outcome",
            "result",
            "current_step_date",
            "state",
        ],
        filter,
        |r| {
            r.live(4).then_some(())?;
            // Before 系统录入 the case is approved; before the others, undecided.
            let decided = if next == StatusChangeStep::SystemEntry {
                r.s(2).as_deref() == Some(StatusChangeResult::Approved.code())
            } else {
                r.s(2).is_none()
            };
            let waiting = r.s(0).as_deref() == Some(after.code())
                && r.s(1).as_deref() == Some(StepOutcome::Passed.code())
                && decided;
            waiting.then(|| (r.s(3).unwrap_or_default(), r.id()))
        },
    )
}

fn open_petition(status: Option<String>) -> bool {
    status
        .as_deref()
        .and_then(PetitionStatus::from_code)
        .is_some_and(PetitionStatus::is_open)
}

/// The signed-in account's lists.
pub fn todo(tx: &mut dyn Tx, who: &Principal) -> StoreResult<TodoList> {
    let mut items = Vec::new();
    let division = who.division.clone();
    let mut roles = HashMap::new();
    let today = today();
    match who.role {
        Role::FirstSecretary => {
            let mut ids = Vec::new();
            for team in who.teams(tx)? {
                if !team.runs_on(today) {
                    continue;
                }
                for l in leaves(tx, RowFilter::Division(&team.place))? {
                    if l.status == LeaveStatus::Pending
                        && !l.endorsed
                        && l.cadre != who.login
                        && !leads(tx, &mut roles, &l.cadre)?
                    {
                        ids.push((l.from, l.id));
                    }
                }
            }
            items.push(item(
                "leave_to_endorse",
                "待队长同意的请假",
                "Leave awaiting your endorsement",
                ids,
            ));
        }
        Role::Township | Role::CountyOrg if !division.is_empty() => {
            let level = if who.role == Role::Township {
                ApprovalLevel::Township
            } else {
                ApprovalLevel::CountyOrg
            };
            let mut ids = Vec::new();
            for l in leaves(tx, RowFilter::Division(&division))? {
                if l.status == LeaveStatus::Pending
                    && l.level == level
                    && (l.endorsed || leads(tx, &mut roles, &l.cadre)?)
                {
                    ids.push((l.from, l.id));
                }
            }
            items.push(item(
                "leave_to_approve",
                "待审批的请假",
                "Leave to approve",
                ids,
            ));
        }
        _ => {}
    }
    if who.role == Role::Township && !division.is_empty() {
        let month_start = today.with_day0(0).unwrap_or(today).to_string();
        let logs = load(
            tx,
            "p_work_log",
            &["date", "reviewed", "state"],
            RowFilter::Division(&division),
            |r| {
                r.live(2).then_some(())?;
                let date = r.s(0)?;
                (!r.b(1) && date < month_start).then(|| (date, r.id()))
            },
        )?;
        items.push(item(
            "logs_to_review",
            "待月考审核的日志",
            "Logs to review",
            logs,
        ));
        let cases = cases_at(
            tx,
            RowFilter::Division(&division),
            StatusChangeStep::TownshipReview,
        )?;
        items.push(item(
            "cases_to_review",
            "待乡镇审核的动态调整",
            "Cases for the township review",
            cases,
        ));
        let homes: HashMap<String, cunji_core::values::Geo> =
            facts::households(tx, RowFilter::Division(&division))?
                .into_iter()
                .filter_map(|h| Some((h.id.clone(), h.home?)))
                .collect();
        let cfg = EvidenceConfig::default();
        let visits = facts::visits(tx, RowFilter::Division(&division), None, false)?
            .into_iter()
            .filter(|v| {
                let level = evidence_level(v, homes.get(&v.household_id), &cfg);
                v.accepted.is_none() && needs_acceptance(v, level)
            })
            .map(|v| (v.date.to_string(), v.id))
            .collect();
        items.push(item(
            "visits_to_accept",
            "待验收的走访",
            "Visits to accept",
            visits,
        ));
        items.push(ledgers_to_sign(tx, &division, today)?);
    }
    if who.role == Role::CountyOrg && !division.is_empty() {
        items.push(ledgers_received(tx, &division, today)?);
    }
    if who.role == Role::CountyOffice && !division.is_empty() {
        let filter = RowFilter::Division(&division);
        let approve = cases_at(tx, filter, StatusChangeStep::CountyApproval)?;
        items.push(item(
            "cases_to_approve",
            "待县审批公告的动态调整",
            "Cases for county approval",
            approve,
        ));
        let enter = cases_at(tx, filter, StatusChangeStep::SystemEntry)?;
        items.push(item(
            "cases_to_enter",
            "待系统录入的动态调整",
            "Cases to enter in the national system",
            enter,
        ));
        let petitions = load(
            tx,
            "p_petition",
            &["status", "assigned_by", "received_date", "state"],
            filter,
            |r| {
                r.live(3).then_some(())?;
                let open = open_petition(r.s(0));
                (open && r.s(1).is_none()).then(|| (r.s(2).unwrap_or_default(), r.id()))
            },
        )?;
        items.push(item(
            "petitions_to_assign",
            "待指定承办人的信访件",
            "Petitions to assign",
            petitions,
        ));
    }
    // Petitions this account handles, wherever they are (its division, or its team's villages).
    let places: Vec<String> = if who.division.is_empty() {
        who.teams(tx)?.into_iter().map(|p| p.place).collect()
    } else {
        vec![who.division.clone()]
    };
    // Open ones to handle; closed ones without their 回访 yet (§2.7: the handler visits the
    // petitioner back after closing).
    let (mut handle, mut visit_back) = (Vec::new(), Vec::new());
    for place in &places {
        let rows = load(
            tx,
            "p_petition",
            &[
                "status",
                "handler_id",
                "received_date",
                "return_visit_date",
                "state",
            ],
            RowFilter::Division(place),
            |r| {
                r.live(4).then_some(())?;
                (r.s(1).as_deref() == Some(who.login.as_str())).then_some(())?;
                let closed = r.s(0).as_deref() == Some(PetitionStatus::Closed.code());
                let open = open_petition(r.s(0));
                let to_visit = closed && r.s(3).is_none();
                (open || to_visit).then(|| (open, (r.s(2).unwrap_or_default(), r.id())))
            },
        )?;
        for (open, row) in rows {
            if open {
                handle.push(row);
            } else {
                visit_back.push(row);
            }
        }
    }
    for list in [&mut handle, &mut visit_back] {
        list.sort();
        list.dedup();
    }
    items.push(item(
        "petitions_to_handle",
        "我承办的信访件",
        "Petitions you handle",
        handle,
    ));
    items.push(item(
        "petitions_to_return_visit",
        "待回访的信访件",
        "Closed petitions awaiting your return visit",
        visit_back,
    ));
    // 投诉建议 (`cunji_core::domain::feedback`): the county office's to answer (not its own),
    // and where each of the account's own stands.
    let counties = who.counties_on(tx, today)?;
    if who.role == Role::CountyOffice && !division.is_empty() {
        let waiting = load(
            tx,
            "p_feedback",
            &["status", "author_id", "submitted_ts", "state"],
            RowFilter::Division(&division),
            |r| {
                r.live(3).then_some(())?;
                let open = r.s(0).as_deref() == Some(FeedbackStatus::Submitted.code());
                let theirs = r.s(1).as_deref() != Some(who.login.as_str());
                (open && theirs).then(|| (r.s(2).unwrap_or_default(), r.id()))
            },
        )?;
        items.push(item(
            "feedback_to_answer",
            "待答复的投诉建议",
            "Feedback to answer",
            waiting,
        ));
    }
    if who.role != Role::City {
        let mut mine = Vec::new();
        for county in &counties {
            mine.extend(load(
                tx,
                "p_feedback",
                &["author_id", "submitted_ts", "state"],
                RowFilter::Division(county),
                |r| {
                    r.live(2).then_some(())?;
                    (r.s(0).as_deref() == Some(who.login.as_str()))
                        .then(|| (r.s(1).unwrap_or_default(), r.id()))
                },
            )?);
        }
        items.push(item(
            "my_feedback",
            "我提交的投诉建议",
            "Your feedback",
            mine,
        ));
    }
    if matches!(who.role, Role::FirstSecretary | Role::TeamMember) {
        let (mut pending, mut late) = (Vec::new(), Vec::new());
        let mut seen = std::collections::HashSet::new();
        for team in who.teams(tx)? {
            for l in leaves(tx, RowFilter::Division(&team.place))? {
                if l.cadre != who.login || !seen.insert(l.id.clone()) {
                    continue;
                }
                if l.status == LeaveStatus::Pending {
                    pending.push((l.from, l.id));
                } else if l.to.is_some_and(|to| overdue(l.status, to, today)) {
                    late.push((l.from, l.id));
                }
            }
        }
        items.push(item(
            "my_leave_pending",
            "我待审批的请假",
            "Your leave awaiting a decision",
            pending,
        ));
        items.push(item(
            "my_leave_overdue",
            "我超期未销假的请假",
            "Your leave past its end without reporting back",
            late,
        ));
    }
    cards::describe(tx, who, &mut items)?;
    Ok(TodoList {
        login: who.login.clone(),
        role: who.role.code().to_string(),
        items,
    })
}
