//! The first secretary's part (DOMAIN §1, the Writes column; §2.4, §2.6; issue 16): what waits
//! for it on the phone, 队长同意 on a team member's leave (or sending it back, with a reason),
//! and its comment on a team member's work log.
//!
//! Each step is the core's step function ([`leave_step`], [`log_step`]: the same the sync
//! server composes the dashboard's steps with), checked here with the core's check
//! ([`check_leave`], [`check_log`]: the same the server runs on every pushed change), then
//! stored as the first secretary's own change, signed by this phone like every change and
//! pushed by the next sync. A step the rules refuse is answered with the core's code and
//! message before anything is written, so nothing is stored that the server would refuse.
//!
//! On top of the core's checks the phone says two things the rules leave to the reach of the
//! account (the server's scope check): the request or log must be of a member of the team this
//! first secretary leads (`not_endorser`, `not_yours`), and a step already taken is said as such
//! (`wrong_order`, `review_locked`) rather than silently changing nothing.
//!
//! What waits ([`FieldApp::team_pending`]): the team members' pending requests without 队长同意,
//! and their logs without this first secretary's comment whose month the township still
//! reviews (R16: the log's day is at most day 10⚙ of the next month behind: an older log's
//! comment would come after the 月考 it is meant to inform).

use super::attendance::{refusal, role_of};
use super::{FieldApp, FieldError, FieldResult, Me, TeamLog, TeamPending};
use crate::domain::codes::LeaveStatus;
use crate::domain::{Leave, Role, WorkLog};
use crate::rules::approvals::{
    Actor, LeaveAction, LogAction, check_leave, check_log, leave_step, log_step, review_due,
};
use crate::store::Author;
use crate::values::{Date, Timestamp};

impl FieldApp {
    /// The members of the team `me` leads on `on` (not `me`), or a refusal with `code`.
    fn led_team(&self, me: &Me, on: Date, code: &'static str) -> FieldResult<Vec<String>> {
        let not_leader = || {
            FieldError::input(
                code,
                "只有本队第一书记可以签署“队长同意”和点评日志 / only the team's first secretary endorses leave and comments on logs",
            )
        };
        if role_of(me) != Role::FirstSecretary {
            return Err(not_leader());
        }
        let village = self
            .my_village(&me.cadre_id, on)?
            .filter(|v| v.leader_id == me.cadre_id)
            .ok_or_else(not_leader)?;
        Ok(self
            .store
            .village_team_members(&village.code, &me.cadre_id)?)
    }

    /// What waits for the signed-in first secretary on `today`: its team's leave requests
    /// without 队长同意 and logs without its comment. Empty for any other role.
    pub fn team_pending(&self, today: Date) -> FieldResult<TeamPending> {
        let me = self.require_me()?;
        let mut pending = TeamPending {
            leaves: Vec::new(),
            logs: Vec::new(),
        };
        let Ok(members) = self.led_team(&me, today, "not_endorser") else {
            return Ok(pending);
        };
        for id in self.store.unendorsed_leave_ids(&members)? {
            let leave = self.store.get::<Leave>(&id)?.record;
            if self.needs_endorsement(&leave.cadre_id, leave.from)? {
                pending.leaves.push(self.leave_row(id, leave, today)?);
            }
        }
        let Some(village) = self.my_village(&me.cadre_id, today)? else {
            return Ok(pending);
        };
        // The first day whose log the township still reviews on `today` (R16).
        let since = (1..=62)
            .map(|back| today - chrono::Duration::days(back))
            .take_while(|d| review_due(*d) >= today)
            .last()
            .unwrap_or(today);
        for (id, author) in self
            .store
            .village_work_logs(&village.code, since, &me.cadre_id)?
        {
            if !members.contains(&author) {
                continue;
            }
            let log = self.store.get::<WorkLog>(&id)?.record;
            if log.leader_comment.is_none() && review_due(log.date) >= today {
                pending.logs.push(TeamLog {
                    id,
                    author_name: self.cadre_name(&author)?,
                    log,
                });
            }
        }
        Ok(pending)
    }

    /// 队长同意 on team member's leave request `id` (`accept`), or sends it back with
    /// `reason` (required). Checked by the core's rules as the server checks it; refused
    /// with their code, nothing stored.
    pub fn endorse_leave(
        &mut self,
        id: &str,
        accept: bool,
        reason: Option<&str>,
        at: Timestamp,
    ) -> FieldResult<()> {
        let me = self.require_me()?;
        let before = self.store.get::<Leave>(id)?.record;
        let who = Actor {
            login: &me.login,
            role: role_of(&me),
        };
        let action = if accept {
            LeaveAction::Endorse
        } else {
            LeaveAction::SendBack {
                reason: reason.unwrap_or_default().trim().to_string(),
            }
        };
        let after = leave_step(&before, &who, &action, at);
        let needs = self.needs_endorsement(&before.cadre_id, before.from)?;
        // The core's check first: self-approval, the wrong role, a missing reason.
        check_leave(&who, &before, &after, needs, &self.rules()?.attendance).map_err(refusal)?;
        if before.endorsed_by.is_some() || before.status != LeaveStatus::Pending {
            return Err(FieldError::input(
                "wrong_order",
                "这条请假已经签署过“队长同意”或已经处理,不能再次签署 / this request was already endorsed or decided",
            ));
        }
        if !self
            .led_team(&me, before.from, "not_endorser")?
            .contains(&before.cadre_id)
        {
            return Err(FieldError::input(
                "not_endorser",
                "这条请假不是你带领的工作队队员的,由其所在队的第一书记签署 / this request is not of your team: its own first secretary endorses it",
            ));
        }
        let reason = if accept {
            "队长同意"
        } else {
            "队长退回"
        };
        self.store
            .review(&Author::now(me.cadre_id, reason), id, &after)?;
        Ok(())
    }

    /// The first secretary's comment on team member's work log `id`.
    pub fn comment_log(&mut self, id: &str, comment: &str, at: Timestamp) -> FieldResult<()> {
        let me = self.require_me()?;
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(FieldError::input(
                "comment_required",
                "请写下点评内容 / write the comment first",
            ));
        }
        let stored = self.store.get::<WorkLog>(id)?;
        let (env, before) = (stored.envelope, stored.record);
        let who = Actor {
            login: &me.login,
            role: role_of(&me),
        };
        let after = log_step(
            &before,
            &who,
            &LogAction::Comment {
                comment: comment.to_string(),
            },
            at,
        );
        check_log(&who, &env.author_id, Some(&before), &after).map_err(refusal)?;
        if !self
            .led_team(&me, before.date, "not_yours")?
            .contains(&env.author_id)
        {
            return Err(FieldError::input(
                "not_yours",
                "这篇日志不是你带领的工作队队员写的 / this log is not of your team",
            ));
        }
        self.store
            .review(&Author::now(me.cadre_id, "点评日志"), id, &after)?;
        Ok(())
    }
}
