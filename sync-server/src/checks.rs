//! The DOMAIN rules marked "check", enforced on every push (issue 13, part 4).
//!
//! [`crate::merge`] first asks the access table whether the account may write the record at
//! all ([`crate::accounts::Principal::may`]); then [`check`] reads the record's state after the
//! change (and before it, for an edit) and refuses what the rules forbid, with a code and a
//! message in Chinese and English. A refused change leaves nothing stored: the merge works on
//! a copy of the document. The phone checks the same rules to help its user; the server is
//! where they hold.
//!
//! | rule | record | code |
//! |---|---|---|
//! | R10: ID numbers unique city-wide (the checksum is the record's validation) | household numbers | `id_number_taken` |
//! | one record of ID and bank numbers per household, each number a member's, with its birth date | household numbers, household | `household_numbers_exist`, `id_number_mismatch` |
//! | R10: one active primary 帮扶责任人 per household | assignment | `primary_assignee_taken` |
//! | the county's `check_in_photo: required` (⚙) | check-in | `photo_required` |
//! | a household's status changes only through an approved 动态调整 case | household | `status_without_case` |
//! | ID and bank numbers only in the numbers record (never back in a household, whose readers are wider) | household | `numbers_in_household` |
//! | DOMAIN §1, §2.8: who records which step (the village's steps: the first secretary, or the township where no team serves); steps in procedure order; steps never rewritten | status change | `step_not_yours`, `steps_out_of_order`, `step_rewritten` |
//! | R12 at 乡镇审核: income above the line, every flag, consent, 公示 ≥ 7 days without open objections | status change | `exit_not_ready` |
//! | R13: a case is opened (申请/村初选 dated) in the county's window for its type (⚙) | status change | `outside_window` |
//! | DOMAIN §2.4, R3 (leave), §2.6 and R16 (logs), R8 (visit acceptance), §2.7 and R15 (petitions): who takes which step, in which order, in its own name; a reviewer touches only its step ([`cunji_core::rules::approvals`], whose table lists them) | leave, work log, visit, petition | `leave_not_pending`, `leave_late`, `wrong_level`, `not_endorser`, `self_approval`, `wrong_order`, `wrong_approver`, `not_endorsed`, `reason_required`, `leave_locked`, `review_locked`, `review_only`, `not_yours`, `not_needed`, `not_assigner`, `not_handler` |
//! | issue 16 item 9 (投诉建议, [`cunji_core::domain::feedback`]): submitted as its author's, unanswered; never edited by its author; answered once, by the county office of its county, in its name, with a text; never withdrawn or voided ([`cunji_core::rules::feedback`]) | feedback | `wrong_order`, `feedback_locked`, `self_answer`, `not_answerer`, `answer_required`, `answer_final`, `review_only` |
//! | report 1, issue 16 item 6: a township signs its villages' and its own ledgers of months that are over, once per scope and month, never edited afterwards, with the figures the server computes now and the time it is now | ledger signature | `signature_final`, `unknown_scope`, `ledger_already_signed`, `figures_changed`, `signed_at_off` |
//!
//! Thresholds: the poverty line and R13's windows are the household's county's settings
//! ([`cunji_core::rules::adjustment`]: the national line of the income year and DOMAIN's windows
//! unless the county set its own; report 8 uses the same line), 公示's minimum the core's
//! [`cunji_core::domain::status_change::MIN_PUBLICITY_DAYS`]; the photo rule is the
//! county's setting. R12's 两不愁三保障 flags are the case's snapshot as the village recorded it,
//! its income is the household's stored income of the snapshot's year (not the case's copy).
//!
//! The CSV import of assignments (which writes without a push) applies the one-primary rule
//! itself, with [`primary_taken`].

use cunji_core::doc::RecordDoc;
use cunji_core::domain::codes::{
    HouseholdStatus, StatusChangeResult, StatusChangeStep, StatusChangeType, StepOutcome,
};
use cunji_core::domain::privacy::mask_number;
use cunji_core::domain::{
    Assignment, CheckIn, Envelope, Feedback, Household, HouseholdPrivate, Kind, Leave,
    LedgerSignature, Petition, ScopeLevel, StatusChange, Visit, WorkLog,
};
use cunji_core::reports::evidence::{EvidenceConfig, visit_needs_acceptance};
use cunji_core::reports::status_changes::blocker_label;
use cunji_core::rules::adjustment::outside_window_message;
use cunji_core::rules::approvals::{
    Actor, Refusal, case_step_follows, case_step_ready, check_leave, check_leave_request,
    check_log, check_petition, check_visit, county_approved,
};
use cunji_core::rules::feedback::{check_feedback, check_feedback_state};
use cunji_core::rules::settings::CheckInPhoto;
use cunji_core::values::Money;
use rusqlite::types::Value as Cell;
use serde::de::DeserializeOwned;

use crate::accounts::{Principal, Role};
use crate::store::{RowFilter, StoreResult, Tx};
use cunji_core::sync::protocol::PushOutcome;

/// Refuses a change that breaks a checked rule; `after` is the record's data after the change,
/// `before` the document before it (`None` for a new record).
pub(crate) fn check(
    tx: &mut dyn Tx,
    who: &Principal,
    env: &Envelope,
    after: &serde_json::Value,
    before: Option<&RecordDoc>,
) -> StoreResult<Result<(), PushOutcome>> {
    // Only the kinds whose checks compare with the previous state read it.
    let before_data = match before {
        Some(doc)
            if matches!(
                env.kind,
                Kind::Household
                    | Kind::HouseholdPrivate
                    | Kind::Leave
                    | Kind::StatusChange
                    | Kind::WorkLog
                    | Kind::Visit
                    | Kind::Petition
                    | Kind::Feedback
            ) =>
        {
            doc.data_json().ok()
        }
        _ => None,
    };
    match env.kind {
        // Numbers live in the household's numbers record; a household holding them (an app
        // from before the split) would hand them to every reader of the village.
        Kind::Household if HouseholdPrivate::from_pre_split(&env.id, after).is_some() => {
            Ok(Err(reject(
                "numbers_in_household",
                "身份证号和银行账号请填在户的证件号码记录里,不能写在户的档案中:请更新村记后再改 / \
                 ID and bank numbers belong in the household's numbers record, not in the \
                 household: update the app, then edit again",
            )))
        }
        Kind::Household => match (
            parse::<Household>(after),
            before_data.map(|b| parse::<Household>(&b)),
        ) {
            (Some(h), prev) => household(tx, &env.id, &h, prev.flatten().as_ref()),
            (None, _) => Ok(Ok(())),
        },
        Kind::HouseholdPrivate => match parse::<HouseholdPrivate>(after) {
            Some(p) => {
                let prev = before_data.and_then(|b| parse::<HouseholdPrivate>(&b));
                household_private(tx, &env.id, &p, prev.as_ref())
            }
            None => Ok(Ok(())),
        },
        Kind::Assignment => match parse::<Assignment>(after) {
            Some(a) => assignment(tx, &env.id, &a),
            None => Ok(Ok(())),
        },
        Kind::CheckIn => match parse::<CheckIn>(after) {
            Some(c) => check_in(tx, who, &c),
            None => Ok(Ok(())),
        },
        Kind::Leave => match parse::<Leave>(after) {
            Some(l) => {
                let prev = before_data.and_then(|b| parse::<Leave>(&b));
                leave(tx, who, &l, prev.as_ref())
            }
            None => Ok(Ok(())),
        },
        Kind::WorkLog => match parse::<WorkLog>(after) {
            Some(l) => {
                let prev = before_data.and_then(|b| parse::<WorkLog>(&b));
                Ok(work_log(who, env, &l, prev.as_ref()))
            }
            None => Ok(Ok(())),
        },
        Kind::Visit => match parse::<Visit>(after) {
            Some(v) => {
                let prev = before_data.and_then(|b| parse::<Visit>(&b));
                visit(tx, who, env, &v, prev.as_ref())
            }
            None => Ok(Ok(())),
        },
        Kind::Petition => match parse::<Petition>(after) {
            Some(p) => {
                let prev = before_data.and_then(|b| parse::<Petition>(&b));
                Ok(petition(who, &p, prev.as_ref()))
            }
            None => Ok(Ok(())),
        },
        Kind::StatusChange => match parse::<StatusChange>(after) {
            Some(c) => {
                let prev = before_data.and_then(|b| parse::<StatusChange>(&b));
                status_change(tx, who, &c, prev.as_ref())
            }
            None => Ok(Ok(())),
        },
        Kind::Feedback => match parse::<Feedback>(after) {
            Some(f) => {
                let prev = before_data.and_then(|b| parse::<Feedback>(&b));
                let was = before.and_then(|d| d.envelope().ok()).map(|e| e.state);
                let state = match was {
                    Some(was) => check_feedback_state(&actor(who), &f.author_id, was, env.state),
                    None => Ok(()),
                };
                Ok(state
                    .and_then(|()| check_feedback(&actor(who), prev.as_ref(), &f))
                    .map_err(refused))
            }
            None => Ok(Ok(())),
        },
        Kind::LedgerSignature => match parse::<LedgerSignature>(after) {
            Some(l) => ledger_signature(tx, &env.id, &l, before.is_some()),
            None => Ok(Ok(())),
        },
        _ => Ok(Ok(())),
    }
}

/// How far a signature's `signed_at` may lie from the server's clock when it is stored: the
/// server composes it, and the clerk confirms within minutes.
const SIGNED_AT_SLACK_MINUTES: i64 = 30;

/// A township's signature on a ledger ([`cunji_core::domain::ledger`]): never changed once
/// stored; of a village or township the server holds; one per scope and month; signed now;
/// over the figures as the server computes them at this moment (a check-in synced since the
/// ledger was loaded changes them: the clerk reloads and signs again). The access table has
/// already limited it to a township inside its division, and the author to the signer.
fn ledger_signature(
    tx: &mut dyn Tx,
    id: &str,
    l: &LedgerSignature,
    edit: bool,
) -> StoreResult<Result<(), PushOutcome>> {
    if edit {
        return Ok(Err(reject(
            "signature_final",
            "台账签字一经保存不能修改 / a ledger signature is final once stored: it cannot be changed",
        )));
    }
    let Some(first) = l.month_start() else {
        return Ok(Ok(()));
    };
    let villages = crate::reports::facts::villages(tx, RowFilter::Division(&l.scope))?;
    let known = match l.scope_level() {
        Some(ScopeLevel::Village) => villages.contains_key(&l.scope),
        _ => !villages.is_empty(),
    };
    if !known {
        return Ok(Err(reject(
            "unknown_scope",
            format!(
                "没有编码为 {} 的村或乡镇:请从台账页面签字 / no village or township has the code {}: sign from the ledger's page",
                l.scope, l.scope
            ),
        )));
    }
    let now = chrono::Utc::now();
    let off = (l.signed_at.with_timezone(&chrono::Utc) - now).num_minutes();
    if !(-SIGNED_AT_SLACK_MINUTES..=5).contains(&off) {
        return Ok(Err(reject(
            "signed_at_off",
            "签字时间与服务器时间不符:请重新打开台账签字 / the signing time is not the server's time: open the ledger and sign again",
        )));
    }
    let month = l.month.as_str();
    let taken = crate::reports::stored_signatures(tx, RowFilter::Division(&l.scope), Some(month))?
        .into_iter()
        .any(|s| s.scope == l.scope && s.id != id);
    if taken {
        return Ok(Err(reject(
            "ledger_already_signed",
            format!(
                "{} 的 {} 考勤台账已经签过字,不能重复签字 / the attendance ledger of {} for {} is signed already: a month is signed once",
                l.scope, month, l.scope, month
            ),
        )));
    }
    let (hash, cadres) = crate::reports::current_figures(tx, &l.scope, first)?;
    if hash != l.figures_sha256 || cadres != l.cadres {
        return Ok(Err(reject(
            "figures_changed",
            "台账数据已经变化(可能有新同步的打卡或请假):请刷新台账,核对后重新签字 / the ledger's figures changed since it was loaded (a check-in or leave synced since): reload it, check it and sign again",
        )));
    }
    Ok(Ok(()))
}

/// A refusal: the rule's code and what to do, Chinese first.
fn reject(code: &str, message: impl Into<String>) -> PushOutcome {
    PushOutcome::Rejected {
        code: code.into(),
        message: message.into(),
    }
}

/// The record as its type, read from the JSON in place (validation already read it; `None`
/// leaves it to validation).
fn parse<T: DeserializeOwned>(data: &serde_json::Value) -> Option<T> {
    T::deserialize(data).ok()
}

/// The cells of one record's row in `table`, after `[doc_id, received_ts, village_code]`.
fn row_of(tx: &mut dyn Tx, table: &str, columns: &[&str], id: &str) -> StoreResult<Vec<Vec<Cell>>> {
    let mut out = Vec::new();
    tx.scan(table, columns, RowFilter::Doc(id), &mut |v| {
        out.push(v.get(3..).unwrap_or_default().to_vec());
    })?;
    Ok(out)
}

fn text(c: Option<&Cell>) -> Option<&str> {
    match c {
        Some(Cell::Text(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// A stored record of type `T`, if the server holds it whole (`None` when it does not, or it
/// does not read as `T`: validation is where a bad record is refused).
fn stored<T: cunji_core::domain::Record>(tx: &mut dyn Tx, id: &str) -> StoreResult<Option<T>> {
    let Some(row) = tx.doc(id)? else {
        return Ok(None);
    };
    let doc = row.load()?;
    Ok(doc.read::<T>().ok())
}

/// A household's ID numbers against its members (the birth date in each number).
fn numbers_match(p: &HouseholdPrivate, h: &Household) -> Result<(), PushOutcome> {
    p.check_members(h).map_err(|e| {
        reject(
            "id_number_mismatch",
            format!(
                "成员信息与身份证号不一致({}):请核对出生日期和证件号 / the members do not match their ID numbers ({}: {}): check the birth dates and the numbers",
                e.field, e.field, e.message
            ),
        )
    })
}

/// R10 for a household's numbers: one record per household, every ID number registered once
/// city-wide, each the number of a member of the household with its birth date.
fn household_private(
    tx: &mut dyn Tx,
    id: &str,
    p: &HouseholdPrivate,
    before: Option<&HouseholdPrivate>,
) -> StoreResult<Result<(), PushOutcome>> {
    if before.is_none()
        && tx
            .find_projected("p_household_private", "household_id", &p.household_id)?
            .iter()
            .any(|d| d != id)
    {
        return Ok(Err(reject(
            "household_numbers_exist",
            "这户的身份证号与银行账号已有登记:请在已有的登记上修改 / this household's ID and bank numbers are already registered: change that record instead",
        )));
    }
    for (key, n) in &p.id_numbers {
        let changed = before.is_none_or(|b| b.id_numbers.get(key) != Some(n));
        if !changed {
            continue;
        }
        let holders = tx.find_projected("p_member_id", "id_no", n)?;
        if holders.iter().any(|d| d != id) {
            let n = mask_number(n);
            return Ok(Err(reject(
                "id_number_taken",
                format!(
                    "身份证号{n}已登记在另一户,同一证件号在全市只能登记一次:请核对证件 / ID number {n} is already registered to another household; an ID number is registered once city-wide: check the document"
                ),
            )));
        }
    }
    if let Some(h) = stored::<Household>(tx, &p.household_id)?
        && let Err(o) = numbers_match(p, &h)
    {
        return Ok(Err(o));
    }
    Ok(Ok(()))
}

fn household(
    tx: &mut dyn Tx,
    id: &str,
    h: &Household,
    before: Option<&Household>,
) -> StoreResult<Result<(), PushOutcome>> {
    // A member's birth date stays the one in its ID number, where the numbers are registered.
    let births_changed = before.is_none_or(|b| {
        h.members.iter().any(|(k, m)| {
            b.members
                .get(k)
                .is_none_or(|o| o.birth_date != m.birth_date)
        })
    });
    if births_changed {
        for p in tx.find_projected("p_household_private", "household_id", id)? {
            if let Some(p) = stored::<HouseholdPrivate>(tx, &p)?
                && let Err(o) = numbers_match(&p, h)
            {
                return Ok(Err(o));
            }
        }
    }
    // The register's status changes through a 动态调整 case, approved by the county.
    if let Some(b) = before
        && b.status != h.status
        && !approved_case_allows(tx, id, h.status)?
    {
        return Ok(Err(reject(
            "status_without_case",
            format!(
                "户的状态({} → {})只能随县里批准的动态调整案件改变:请发起动态调整 / a household's status ({} → {}) changes only with an approved status-change case: open one",
                b.status.label_zh(),
                h.status.label_zh(),
                b.status.code(),
                h.status.code()
            ),
        )));
    }
    Ok(Ok(()))
}

/// Whether an approved case of household `id` leads to `status`.
fn approved_case_allows(tx: &mut dyn Tx, id: &str, status: HouseholdStatus) -> StoreResult<bool> {
    for case in tx.find_projected("p_status_change", "household_id", id)? {
        for row in row_of(tx, "p_status_change", &["change_type", "result"], &case)? {
            let approved = text(row.get(1)) == Some(StatusChangeResult::Approved.code());
            let Some(t) = text(row.first()).and_then(StatusChangeType::from_code) else {
                continue;
            };
            let leads = match t {
                StatusChangeType::NewInclusion => status == HouseholdStatus::NotExited,
                StatusChangeType::ReturnInclusion => status == HouseholdStatus::ReturnedToPoverty,
                StatusChangeType::MarkedExit => matches!(
                    status,
                    HouseholdStatus::ExitedSupported | HouseholdStatus::ExitedUnsupported
                ),
                StatusChangeType::Removal => status == HouseholdStatus::Removed,
                StatusChangeType::Closure => status == HouseholdStatus::Closed,
                StatusChangeType::MemberChange => false,
            };
            if approved && leads {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn assignment(tx: &mut dyn Tx, id: &str, a: &Assignment) -> StoreResult<Result<(), PushOutcome>> {
    if primary_taken(tx, id, a)? {
        return Ok(Err(reject("primary_assignee_taken", PRIMARY_TAKEN)));
    }
    Ok(Ok(()))
}

/// R10's refusal of a second primary pairing cadre, Chinese first.
pub(crate) const PRIMARY_TAKEN: &str = "这户在这段时间已有主要帮扶责任人:先结束原来的结对,或登记为非主要帮扶人 / this household already has a primary pairing cadre for this period: end that assignment first, or record this one as not primary";

/// R10: whether `a` (record `id`) is primary while another, not void, primary assignment of the
/// same household overlaps its period.
pub(crate) fn primary_taken(tx: &mut dyn Tx, id: &str, a: &Assignment) -> StoreResult<bool> {
    if !a.is_primary {
        return Ok(false);
    }
    let overlaps = |from: Option<&str>, to: Option<&str>| {
        // Periods overlap unless one ends before the other starts (ISO dates compare as text).
        let (from, to) = (from.unwrap_or(""), to.unwrap_or("9999-12-31"));
        let mine_to =
            a.to.map_or_else(|| "9999-12-31".to_string(), |d| d.to_string());
        from <= mine_to.as_str() && a.from.to_string().as_str() <= to
    };
    for other in tx.find_projected("p_assignment", "household_id", &a.household_id)? {
        if other == id {
            continue;
        }
        let rows = row_of(
            tx,
            "p_assignment",
            &["is_primary", "from_date", "to_date", "state"],
            &other,
        )?;
        for row in rows {
            let primary = matches!(row.first(), Some(Cell::Integer(1)));
            let void = text(row.get(3)) == Some("void");
            if primary && !void && overlaps(text(row.get(1)), text(row.get(2))) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn check_in(tx: &mut dyn Tx, who: &Principal, c: &CheckIn) -> StoreResult<Result<(), PushOutcome>> {
    if c.photo_sha256.is_some() {
        return Ok(Ok(()));
    }
    let county = ScopeLevel::County.part_of(&c.village_code);
    if crate::settings::for_request(tx, who, county)?.check_in_photo == CheckInPhoto::Required {
        return Ok(Err(reject(
            "photo_required",
            "本县要求打卡附照片:请拍照后再打卡 / this county requires a photo with each check-in: take one and check in again",
        )));
    }
    Ok(Ok(()))
}

/// A refusal of the core's approval rules ([`cunji_core::rules::approvals`]).
fn refused(r: Refusal) -> PushOutcome {
    reject(r.code, r.message())
}

fn actor(who: &Principal) -> Actor<'_> {
    Actor {
        login: &who.login,
        role: who.role,
    }
}

/// The county whose ⚙ settings judge a cadre's leave: that of the cadre's team village.
fn cadre_county(tx: &mut dyn Tx, cadre: &str) -> StoreResult<Option<String>> {
    Ok(tx
        .cadre_teams(cadre)?
        .first()
        .and_then(|p| ScopeLevel::County.part_of(&p.place).map(str::to_string)))
}

fn leave(
    tx: &mut dyn Tx,
    who: &Principal,
    l: &Leave,
    before: Option<&Leave>,
) -> StoreResult<Result<(), PushOutcome>> {
    let county = cadre_county(tx, &l.cadre_id)?;
    let settings = crate::settings::for_request(tx, who, county.as_deref())?;
    let cfg = &settings.rules.attendance;
    let Some(b) = before else {
        return Ok(check_leave_request(l, cfg).map_err(refused));
    };
    // A first secretary's own leave goes to the approver without 队长同意.
    let needs_endorsement = tx
        .account(&b.cadre_id)?
        .is_none_or(|a| a.role != Role::FirstSecretary);
    Ok(check_leave(&actor(who), b, l, needs_endorsement, cfg).map_err(refused))
}

fn work_log(
    who: &Principal,
    env: &Envelope,
    l: &WorkLog,
    before: Option<&WorkLog>,
) -> Result<(), PushOutcome> {
    check_log(&actor(who), &env.author_id, before, l).map_err(refused)
}

fn visit(
    tx: &mut dyn Tx,
    who: &Principal,
    env: &Envelope,
    v: &Visit,
    before: Option<&Visit>,
) -> StoreResult<Result<(), PushOutcome>> {
    // The household's home is read only for a township's verdict (R8's level needs it).
    let verdict = before.map_or(v.acceptance.is_some(), |b| b.acceptance != v.acceptance);
    let needs = verdict && {
        let home = stored::<Household>(tx, &v.household_id)?.and_then(|h| h.home_geo);
        visit_needs_acceptance(v, home.as_ref(), &EvidenceConfig::default())
    };
    Ok(check_visit(&actor(who), &env.author_id, before, v, needs).map_err(refused))
}

fn petition(who: &Principal, p: &Petition, before: Option<&Petition>) -> Result<(), PushOutcome> {
    match before {
        Some(b) => check_petition(&actor(who), b, p).map_err(refused),
        None => Ok(()),
    }
}

/// Who records a step of the procedure (DOMAIN §1, §2.8): the village's steps are the first
/// secretary's (the township's where no team serves, see [`step_refusal`]).
fn step_role(step: StatusChangeStep) -> Role {
    match step {
        StatusChangeStep::TownshipReview => Role::Township,
        StatusChangeStep::CountyApproval | StatusChangeStep::SystemEntry => Role::CountyOffice,
        _ => Role::FirstSecretary,
    }
}

/// Why `who` may not record step `s` of a case in `village`, if it may not: a step is signed
/// in the recorder's own name by the role [`step_role`] gives, except that in a village where no
/// work team serves on the step's day the township records the village's steps.
fn step_refusal(
    tx: &mut dyn Tx,
    who: &Principal,
    village: Option<&str>,
    s: &cunji_core::domain::Step,
) -> StoreResult<Option<PushOutcome>> {
    let role = step_role(s.step);
    let by_role = who.role == role
        || (role == Role::FirstSecretary
            && who.role == Role::Township
            && match village {
                Some(v) => !tx.team_members_under(v)?.iter().any(|p| p.runs_on(s.date)),
                None => false,
            });
    if by_role && s.actor_id == who.login {
        return Ok(None);
    }
    let (stand_in, stand_in_en) = if role == Role::FirstSecretary {
        (
            "(没有驻村工作队的村由乡镇代录)",
            " (the township, in a village where no work team serves)",
        )
    } else {
        ("", "")
    };
    Ok(Some(reject(
        "step_not_yours",
        format!(
            "“{}”由{}{stand_in}以自己的名义记录 / “{}” is recorded by the {}{stand_in_en} in its own name",
            s.step.label_zh(),
            role.label_zh(),
            s.step.label_en(),
            role.label_en()
        ),
    )))
}

fn status_change(
    tx: &mut dyn Tx,
    who: &Principal,
    c: &StatusChange,
    before: Option<&StatusChange>,
) -> StoreResult<Result<(), PushOutcome>> {
    let old_steps = before.map_or(&[][..], |b| b.steps.as_slice());
    if c.steps.len() < old_steps.len() || c.steps[..old_steps.len()] != *old_steps {
        return Ok(Err(reject(
            "step_rewritten",
            "已记录的步骤不能修改或删除:如需更正,请再记录一次该步骤 / a recorded step cannot be changed or removed: record the step again to correct it",
        )));
    }
    let new_steps = &c.steps[old_steps.len()..];
    // The household's village and its county's R12–R13 settings, for the steps added.
    let (village, adjustment) = if new_steps.is_empty() {
        (None, Default::default())
    } else {
        let village = tx.household_village(&c.household_id)?;
        let county = village
            .as_deref()
            .and_then(|v| ScopeLevel::County.part_of(v));
        let settings = crate::settings::for_request(tx, who, county)?;
        (village, settings.rules.adjustment.clone())
    };
    let mut last = old_steps.last().map(|s| s.step);
    for (i, s) in new_steps.iter().enumerate() {
        let recorded = &c.steps[..old_steps.len() + i];
        if !case_step_ready(recorded, s.step)
            && let Some(prev) = case_step_follows(s.step)
        {
            return Ok(Err(reject(
                "steps_out_of_order",
                format!(
                    "“{}”须在“{}”通过之后记录 / {} is recorded once {} has passed",
                    s.step.label_zh(),
                    prev.label_zh(),
                    s.step.code(),
                    prev.code()
                ),
            )));
        }
        if last.is_some_and(|l| ord(s.step) < ord(l)) {
            return Ok(Err(reject(
                "steps_out_of_order",
                format!(
                    "“{}”不能排在“{}”之后:动态调整按程序逐步进行 / {} cannot follow {}: a case goes through the procedure in order",
                    s.step.label_zh(),
                    last.map_or("", |l| l.label_zh()),
                    s.step.code(),
                    last.map_or("", |l| l.code())
                ),
            )));
        }
        last = Some(s.step);
        if s.step == StatusChangeStep::Application && !adjustment.in_window(c.change_type, s.date) {
            return Ok(Err(reject(
                "outside_window",
                outside_window_message(&adjustment, c.change_type, s.date),
            )));
        }
        if let Some(refusal) = step_refusal(tx, who, village.as_deref(), s)? {
            return Ok(Err(refusal));
        }
        if s.step == StatusChangeStep::TownshipReview
            && s.outcome == StepOutcome::Passed
            && c.change_type == StatusChangeType::MarkedExit
        {
            let year = c.snapshot.income_year;
            let mut per_capita = None;
            for row in row_of(tx, "p_income", &["year", "per_capita"], &c.household_id)? {
                if matches!(row.first(), Some(Cell::Integer(y)) if *y == i64::from(year))
                    && let Some(Cell::Integer(fen)) = row.get(1)
                {
                    per_capita = Some(Money::from_fen(*fen));
                }
            }
            let line = adjustment.poverty_line(year);
            let blockers = c.r12_exit_blockers(per_capita, line, c.snapshot.flags_all_ok());
            if !blockers.is_empty() {
                let zh: Vec<&str> = blockers.iter().map(|b| blocker_label(b)).collect();
                return Ok(Err(reject(
                    "exit_not_ready",
                    format!(
                        "标注脱贫还不能通过乡镇审核:{} / the exit cannot pass the township review yet: {}",
                        zh.join("、"),
                        blockers.join(", ")
                    ),
                )));
            }
        }
    }
    let old_result = before.and_then(|b| b.result);
    if c.result != old_result && who.role != Role::CountyOffice {
        return Ok(Err(reject(
            "step_not_yours",
            "案件的结果(批准、驳回)由县扶贫办记录 / a case's result (approved, rejected) is recorded by the county poverty office",
        )));
    }
    // Approved only by the county's passed 县审批公告.
    if c.result != old_result
        && c.result == Some(StatusChangeResult::Approved)
        && !county_approved(&c.steps)
    {
        return Ok(Err(reject(
            "steps_out_of_order",
            "案件须经县审批公告通过后才能批准 / a case is approved only once its county approval step has passed",
        )));
    }
    Ok(Ok(()))
}

fn ord(step: StatusChangeStep) -> usize {
    StatusChangeStep::ALL
        .iter()
        .position(|s| *s == step)
        .unwrap_or(usize::MAX)
}
