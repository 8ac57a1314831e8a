//! A status change case (动态调整, DOMAIN §2.8: 该进必进, 该出必出): a household entering or
//! leaving the register, or a change of its members, taken through the procedure step by step
//! (申请 → 民主评议 → 核实 → 农户认可签字 → 公示 → 乡镇审核 → 县审批公告 → 系统录入).
//!
//! The steps are a list in procedure order. A step may repeat (a case sent back for correction
//! goes through it again) but never goes back to an earlier step: a case that must restart is
//! withdrawn and opened anew, so each record reads as one pass through the procedure.
//!
//! Not here: R12 as a validation rule, and R13 (the quarterly and annual windows). R12 needs
//! the household's income and 两不愁三保障 flags *at the time of the township review*, which
//! this record does not hold; the caller computes them and asks
//! [`StatusChange::r12_exit_blockers`] before adding a 乡镇审核 step. R13's windows are county
//! settings applied by the rules, not facts of the record.

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{StatusChangeResult, StatusChangeStep, StatusChangeType, StepOutcome};
use super::org::{code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Money};

/// R12: the public notice (公示) runs at least this many days, both ends counted.
pub const MIN_PUBLICITY_DAYS: i64 = 7;

/// The part of R12 that depends on the household, not on the case: per-capita income above
/// the (county-configurable) poverty line and every 两不愁三保障 + 饮水 flag true. Codes:
/// `per_capita_unknown`, `per_capita_not_above_line`, `flags_not_all_ok`.
pub fn r12_household_blockers(
    per_capita: Option<Money>,
    poverty_line: Money,
    flags_all_ok: bool,
) -> Vec<&'static str> {
    let mut blockers = Vec::new();
    match per_capita {
        None => blockers.push("per_capita_unknown"),
        Some(pc) if pc <= poverty_line => blockers.push("per_capita_not_above_line"),
        Some(_) => {}
    }
    if !flags_all_ok {
        blockers.push("flags_not_all_ok");
    }
    blockers
}

/// A 动态调整 case of one household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusChange {
    pub household_id: String,
    #[serde(rename = "type")]
    pub change_type: StatusChangeType,
    pub reason: String,
    /// What the household's file said when the case was opened.
    pub snapshot: Snapshot,
    /// In procedure order; see the module docs.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The day the change takes effect, once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<StatusChangeResult>,
}

/// The income year and the 两不愁三保障 + 饮水 flags at proposal time (DOMAIN §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Snapshot {
    pub income_year: i32,
    /// Per-capita net income of that year, when the income was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_capita: Option<Money>,
    /// `None` when the latest visit did not answer it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub food_clothing_ok: Option<bool>,
    pub education_ok: bool,
    pub medical_ok: bool,
    pub housing_ok: bool,
    pub water_ok: bool,
}

impl Snapshot {
    /// Every flag held (an unanswered food question does not count as held).
    pub fn flags_all_ok(&self) -> bool {
        self.food_clothing_ok == Some(true)
            && self.education_ok
            && self.medical_ok
            && self.housing_ok
            && self.water_ok
    }
}

/// One step of the procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Step {
    pub step: StatusChangeStep,
    /// The day the step was taken; for 村内公示, the day the notice went up.
    pub date: Date,
    /// The cadre who recorded or signed off the step.
    pub actor_id: String,
    pub outcome: StepOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// 村民代表大会民主评议 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes_for: Option<u32>,
    /// 村民代表大会民主评议 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes_against: Option<u32>,
    /// Required on 村内公示, absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publicity: Option<Publicity>,
}

/// The public notice period (公示) and the objections raised in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Publicity {
    pub start: Date,
    pub end: Date,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objections: Vec<Objection>,
}

impl Publicity {
    /// Days of the notice, both ends counted (10-01 to 10-07 is 7 days).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Every objection has been answered.
    pub fn objections_resolved(&self) -> bool {
        self.objections.iter().all(|o| o.resolution.is_some())
    }
}

/// An objection raised during the public notice; resolved once it has a resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Objection {
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

impl StatusChange {
    /// The latest step, if any: where the case stands.
    pub fn current_step(&self) -> Option<&Step> {
        self.steps.last()
    }

    /// The latest 村内公示 step (a notice may be repeated after a return).
    pub fn publicity(&self) -> Option<&Step> {
        self.steps
            .iter()
            .rfind(|s| s.step == StatusChangeStep::Publicity)
    }

    /// The household signed its consent (农户认可签字 passed).
    pub fn consent_signed(&self) -> bool {
        self.steps.iter().any(|s| {
            s.step == StatusChangeStep::HouseholdConsent && s.outcome == StepOutcome::Passed
        })
    }

    /// R12: what keeps a 标注脱贫 case from reaching 乡镇审核, as stable codes (empty when
    /// nothing does, and always empty for other types). `per_capita` is the household's current
    /// per-capita net income (`None` if not recorded), `poverty_line` the county's indexed line
    /// (⚙) and `flags_all_ok` whether every 两不愁三保障 + 饮水 flag holds now.
    ///
    /// Codes: `per_capita_unknown`, `per_capita_not_above_line`, `flags_not_all_ok`,
    /// `consent_not_signed`, `publicity_missing`, `publicity_not_passed`,
    /// `publicity_too_short`, `objections_unresolved`.
    pub fn r12_exit_blockers(
        &self,
        per_capita: Option<Money>,
        poverty_line: Money,
        flags_all_ok: bool,
    ) -> Vec<&'static str> {
        if self.change_type != StatusChangeType::MarkedExit {
            return Vec::new();
        }
        let mut blockers = r12_household_blockers(per_capita, poverty_line, flags_all_ok);
        blockers.extend(self.r12_procedure_blockers());
        blockers
    }

    /// The part of R12 the record itself settles: consent and the public notice (empty for
    /// types other than 标注脱贫). Projected, so that reports need not load the document.
    pub fn r12_procedure_blockers(&self) -> Vec<&'static str> {
        let mut blockers = Vec::new();
        if self.change_type != StatusChangeType::MarkedExit {
            return blockers;
        }
        if !self.consent_signed() {
            blockers.push("consent_not_signed");
        }
        match self.publicity() {
            None => blockers.push("publicity_missing"),
            Some(step) => {
                if step.outcome != StepOutcome::Passed {
                    blockers.push("publicity_not_passed");
                }
                if let Some(p) = &step.publicity {
                    if p.days() < MIN_PUBLICITY_DAYS {
                        blockers.push("publicity_too_short");
                    }
                    if !p.objections_resolved() {
                        blockers.push("objections_unresolved");
                    }
                }
            }
        }
        blockers
    }

    /// A valid example record: the example household's exit (标注脱贫) in the 2016 annual
    /// window, up to the township review, for tests, docs and the demo.
    pub fn example() -> Self {
        let d = |s: &str| s.parse::<Date>().expect("example date");
        let step = |step, date: &str, actor: &str| Step {
            step,
            date: d(date),
            actor_id: actor.into(),
            outcome: StepOutcome::Passed,
            note: None,
            votes_for: None,
            votes_against: None,
            publicity: None,
        };
        StatusChange {
            household_id: "hh-530322101201-0007".into(),
            change_type: StatusChangeType::MarkedExit,
            reason:
                "2016年人均纯收入4120元,超过当年扶贫标准;危房改造已竣工验收,两不愁三保障均已达标"
                    .into(),
            snapshot: Snapshot {
                income_year: 2016,
                per_capita: Some(Money::from_yuan(4_120)),
                food_clothing_ok: Some(true),
                education_ok: true,
                medical_ok: true,
                housing_ok: true,
                water_ok: true,
            },
            steps: vec![
                Step {
                    note: Some("农户本人提出脱贫申请".into()),
                    ..step(StatusChangeStep::Application, "2016-10-08", "cadre-li-ming")
                },
                Step {
                    votes_for: Some(31),
                    votes_against: Some(2),
                    ..step(
                        StatusChangeStep::DemocraticReview,
                        "2016-10-12",
                        "cadre-wang-fang",
                    )
                },
                step(
                    StatusChangeStep::Verification,
                    "2016-10-14",
                    "cadre-wang-fang",
                ),
                step(
                    StatusChangeStep::HouseholdConsent,
                    "2016-10-15",
                    "cadre-li-ming",
                ),
                Step {
                    publicity: Some(Publicity {
                        start: d("2016-10-17"),
                        end: d("2016-10-23"),
                        objections: vec![Objection {
                            summary: "村民反映该户儿子在外务工收入未如实登记".into(),
                            resolution: Some(
                                "经核实务工收入已计入工资性收入,向反映人当面说明".into(),
                            ),
                        }],
                    }),
                    ..step(StatusChangeStep::Publicity, "2016-10-17", "cadre-wang-fang")
                },
            ],
            effective_date: None,
            result: None,
        }
    }

    fn validate_step(&self, i: usize, s: &Step) -> Result<(), ValidationError> {
        let field = |name: &str| format!("steps.{i}.{name}");
        non_empty(&field("actor_id"), &s.actor_id)?;
        opt_text(&field("note"), &s.note)?;
        if s.step == StatusChangeStep::HouseholdConsent {
            consistent(
                &field("step"),
                self.change_type.is_exit(),
                "the household's consent (农户认可签字) is taken for exits only",
            )?;
        }
        let votes = s.votes_for.is_some() || s.votes_against.is_some();
        if votes {
            consistent(
                &field("votes_for"),
                s.step == StatusChangeStep::DemocraticReview,
                "votes belong to the villager representatives' review",
            )?;
        }
        match (&s.publicity, s.step == StatusChangeStep::Publicity) {
            (None, true) => {
                return Err(ValidationError::new(
                    field("publicity"),
                    Problem::Required,
                    "a public notice needs its start and end",
                ));
            }
            (Some(_), false) => {
                return Err(ValidationError::new(
                    field("publicity"),
                    Problem::Inconsistent,
                    "only the public notice step has a notice period",
                ));
            }
            (Some(p), true) => {
                range(
                    &field("publicity.end"),
                    p.end >= p.start,
                    "the notice ends before it starts",
                )?;
                range(
                    &field("publicity.start"),
                    p.start >= s.date,
                    "the notice period starts when the notice goes up, not before",
                )?;
                for (j, o) in p.objections.iter().enumerate() {
                    non_empty(
                        &field(&format!("publicity.objections.{j}.summary")),
                        &o.summary,
                    )?;
                    opt_text(
                        &field(&format!("publicity.objections.{j}.resolution")),
                        &o.resolution,
                    )?;
                }
            }
            (None, false) => {}
        }
        Ok(())
    }
}

static STATUS_CHANGE_TABLES: [Table; 2] = [
    Table {
        name: "p_status_change",
        columns: &[
            ("household_id", SqlType::Text),
            ("change_type", SqlType::Text),
            ("income_year", SqlType::Integer),
            ("current_step", SqlType::Text),
            ("current_step_date", SqlType::Text),
            ("current_outcome", SqlType::Text),
            ("result", SqlType::Text),
            ("effective_date", SqlType::Text),
            ("first_step_date", SqlType::Text),
            ("snapshot_per_capita", SqlType::Integer),
            ("snapshot_flags_ok", SqlType::Integer),
            ("procedure_blockers", SqlType::Text),
            ("publicity_days", SqlType::Integer),
            ("author_id", SqlType::Text),
            ("state", SqlType::Text),
        ],
        indexes: &[
            &["household_id"],
            &["change_type", "result"],
            &["current_step", "current_step_date"],
        ],
    },
    Table {
        name: "p_status_change_step",
        columns: &[
            ("household_id", SqlType::Text),
            ("seq", SqlType::Integer),
            ("step", SqlType::Text),
            ("step_date", SqlType::Text),
            ("actor_id", SqlType::Text),
            ("outcome", SqlType::Text),
        ],
        indexes: &[&["step", "step_date"], &["actor_id"]],
    },
];

impl Record for StatusChange {
    const KIND: Kind = Kind::StatusChange;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Household(self.household_id.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        code_text("household_id", &self.household_id)?;
        non_empty("reason", &self.reason)?;
        range(
            "snapshot.income_year",
            (2000..=2100).contains(&self.snapshot.income_year),
            "the year is not plausible",
        )?;
        if let Some(pc) = self.snapshot.per_capita {
            range(
                "snapshot.per_capita",
                !pc.is_negative(),
                "an income per person cannot be negative",
            )?;
        }
        let mut previous: Option<&Step> = None;
        let mut publicity_end: Option<Date> = None;
        for (i, s) in self.steps.iter().enumerate() {
            self.validate_step(i, s)?;
            if let Some(prev) = previous {
                consistent(
                    &format!("steps.{i}.step"),
                    s.step >= prev.step,
                    "the steps go in the order of the procedure",
                )?;
                range(
                    &format!("steps.{i}.date"),
                    s.date >= prev.date,
                    "a step is dated before the one it follows",
                )?;
            }
            if let Some(end) = publicity_end.filter(|_| s.step > StatusChangeStep::Publicity) {
                range(
                    &format!("steps.{i}.date"),
                    s.date > end,
                    "the steps after the public notice come once it has ended",
                )?;
            }
            if let Some(p) = &s.publicity {
                publicity_end = Some(p.end);
            }
            previous = Some(s);
        }
        if self.result == Some(StatusChangeResult::Approved) {
            let approved = self.steps.iter().any(|s| {
                s.step == StatusChangeStep::CountyApproval && s.outcome == StepOutcome::Passed
            });
            consistent(
                "result",
                approved,
                "a case is approved (批准) by the county's approval step",
            )?;
        }
        if let Some(effective) = self.effective_date {
            consistent(
                "effective_date",
                self.result == Some(StatusChangeResult::Approved),
                "only an approved case takes effect",
            )?;
            if let Some(first) = self.steps.first() {
                range(
                    "effective_date",
                    effective >= first.date,
                    "the change takes effect after the case was opened",
                )?;
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &STATUS_CHANGE_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        let current = self.current_step();
        rows.push(
            "p_status_change",
            vec![
                ("household_id", self.household_id.sql()),
                ("change_type", self.change_type.sql()),
                ("income_year", self.snapshot.income_year.sql()),
                ("current_step", current.map(|s| s.step).sql()),
                ("current_step_date", current.map(|s| s.date).sql()),
                ("current_outcome", current.map(|s| s.outcome).sql()),
                ("result", self.result.sql()),
                ("effective_date", self.effective_date.sql()),
                ("first_step_date", self.steps.first().map(|s| s.date).sql()),
                ("snapshot_per_capita", self.snapshot.per_capita.sql()),
                ("snapshot_flags_ok", self.snapshot.flags_all_ok().sql()),
                (
                    "procedure_blockers",
                    self.r12_procedure_blockers().join(",").sql(),
                ),
                (
                    "publicity_days",
                    self.publicity()
                        .and_then(|s| s.publicity.as_ref())
                        .map(|p| p.days())
                        .sql(),
                ),
                ("author_id", env.author_id.sql()),
                ("state", env.state.code().sql()),
            ],
        );
        for (seq, s) in self.steps.iter().enumerate() {
            rows.push(
                "p_status_change_step",
                vec![
                    ("household_id", self.household_id.sql()),
                    ("seq", (seq as i64).sql()),
                    ("step", s.step.sql()),
                    ("step_date", s.date.sql()),
                    ("actor_id", s.actor_id.sql()),
                    ("outcome", s.outcome.sql()),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, count, date, edited_json, json_error, project,
        text,
    };

    fn line() -> Money {
        // The 2010 line of 2300 yuan indexed to 2016 prices.
        Money::from_yuan(2_952)
    }

    fn plain(step: StatusChangeStep, d: &str) -> Step {
        Step {
            step,
            date: date(d),
            actor_id: "cadre-wang-fang".into(),
            outcome: StepOutcome::Passed,
            note: None,
            votes_for: None,
            votes_against: None,
            publicity: None,
        }
    }

    fn publicity_mut(c: &mut StatusChange) -> &mut Publicity {
        c.steps
            .iter_mut()
            .find_map(|s| s.publicity.as_mut())
            .expect("the example has a notice")
    }

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let c = StatusChange::example();
        assert_eq!(c.validate(), Ok(()));
        assert_round_trips(&c);
        assert!(c.snapshot.flags_all_ok());
        assert_eq!(
            c.scope(),
            ScopeHint::Household("hh-530322101201-0007".into())
        );
        assert_eq!(c.subject_cadre(), None);
        let v = serde_json::to_value(&c).expect("serialises");
        assert_eq!(v["type"], json!("marked_exit"));
        assert_eq!(v["steps"][4]["publicity"]["end"], json!("2016-10-23"));
    }

    #[test]
    fn steps_follow_the_procedure_order() {
        let mut c = StatusChange::example();
        c.steps.swap(1, 2);
        c.steps[1].date = date("2016-10-12");
        c.steps[2].date = date("2016-10-14");
        assert_invalid(&c, "steps.2.step", Problem::Inconsistent);

        // A step repeated after it was sent back is fine.
        let mut c = StatusChange::example();
        c.steps[2].outcome = StepOutcome::Returned;
        c.steps
            .insert(3, plain(StatusChangeStep::Verification, "2016-10-15"));
        assert_eq!(c.validate(), Ok(()));

        let mut c = StatusChange::example();
        c.steps[3].date = date("2016-10-13");
        assert_invalid(&c, "steps.3.date", Problem::OutOfRange);
    }

    #[test]
    fn consent_is_for_exits_only() {
        let mut c = StatusChange::example();
        c.change_type = StatusChangeType::NewInclusion;
        assert_invalid(&c, "steps.3.step", Problem::Inconsistent);
        c.steps.remove(3);
        assert_eq!(c.validate(), Ok(()));
        for exit in [StatusChangeType::Removal, StatusChangeType::Closure] {
            let c = StatusChange {
                change_type: exit,
                ..StatusChange::example()
            };
            assert_eq!(c.validate(), Ok(()), "{exit:?}");
        }
    }

    #[test]
    fn votes_and_notice_belong_to_their_steps() {
        let mut c = StatusChange::example();
        c.steps[2].votes_for = Some(3);
        assert_invalid(&c, "steps.2.votes_for", Problem::Inconsistent);

        let mut c = StatusChange::example();
        c.steps[4].publicity = None;
        assert_invalid(&c, "steps.4.publicity", Problem::Required);

        let mut c = StatusChange::example();
        c.steps[2].publicity = c.steps[4].publicity.clone();
        assert_invalid(&c, "steps.2.publicity", Problem::Inconsistent);

        let mut c = StatusChange::example();
        publicity_mut(&mut c).end = date("2016-10-16");
        assert_invalid(&c, "steps.4.publicity.end", Problem::OutOfRange);

        let mut c = StatusChange::example();
        publicity_mut(&mut c).objections[0].summary = String::new();
        assert_invalid(
            &c,
            "steps.4.publicity.objections.0.summary",
            Problem::Required,
        );
    }

    #[test]
    fn later_steps_wait_for_the_notice_to_end() {
        let mut c = StatusChange::example();
        c.steps
            .push(plain(StatusChangeStep::TownshipReview, "2016-10-20"));
        assert_invalid(&c, "steps.5.date", Problem::OutOfRange);
        c.steps[5].date = date("2016-10-24");
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn approval_comes_from_the_county_step() {
        let mut c = StatusChange::example();
        c.result = Some(StatusChangeResult::Approved);
        assert_invalid(&c, "result", Problem::Inconsistent);
        c.steps
            .push(plain(StatusChangeStep::TownshipReview, "2016-10-25"));
        c.steps
            .push(plain(StatusChangeStep::CountyApproval, "2016-11-03"));
        c.effective_date = Some(date("2016-11-03"));
        assert_eq!(c.validate(), Ok(()));

        c.result = Some(StatusChangeResult::Withdrawn);
        assert_invalid(&c, "effective_date", Problem::Inconsistent);
        c.effective_date = None;
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn r12_passes_a_ready_exit() {
        let c = StatusChange::example();
        assert!(
            c.r12_exit_blockers(Some(Money::from_yuan(4_120)), line(), true)
                .is_empty()
        );
    }

    #[test]
    fn r12_names_every_blocker() {
        let c = StatusChange::example();
        assert_eq!(
            c.r12_exit_blockers(None, line(), true),
            ["per_capita_unknown"]
        );
        assert_eq!(
            c.r12_exit_blockers(Some(line()), line(), true),
            ["per_capita_not_above_line"],
            "equal to the line is not above it"
        );
        assert_eq!(
            c.r12_exit_blockers(Some(Money::from_yuan(4_120)), line(), false),
            ["flags_not_all_ok"]
        );

        let mut c = StatusChange::example();
        c.steps[3].outcome = StepOutcome::Failed;
        let mut p = publicity_mut(&mut c).clone();
        p.end = date("2016-10-22");
        p.objections.push(Objection {
            summary: "邻居认为该户房屋仍漏雨".into(),
            resolution: None,
        });
        c.steps[4].publicity = Some(p);
        assert_eq!(
            c.r12_exit_blockers(Some(Money::from_yuan(4_120)), line(), true),
            [
                "consent_not_signed",
                "publicity_too_short",
                "objections_unresolved"
            ]
        );

        let mut c = StatusChange::example();
        c.steps.truncate(4);
        assert_eq!(
            c.r12_exit_blockers(Some(Money::from_yuan(4_120)), line(), true),
            ["publicity_missing"]
        );
        let mut c = StatusChange::example();
        c.steps[4].outcome = StepOutcome::Failed;
        assert_eq!(
            c.r12_exit_blockers(Some(Money::from_yuan(4_120)), line(), true),
            ["publicity_not_passed"]
        );
    }

    #[test]
    fn r12_applies_to_marked_exits_only() {
        let c = StatusChange {
            change_type: StatusChangeType::Removal,
            ..StatusChange::example()
        };
        assert!(c.r12_exit_blockers(None, line(), false).is_empty());
    }

    #[test]
    fn a_seven_day_notice_counts_both_ends() {
        let mut c = StatusChange::example();
        assert_eq!(publicity_mut(&mut c).days(), 7);
    }

    #[test]
    fn json_errors_name_the_step() {
        let err = json_error::<StatusChange>(edited_json(&StatusChange::example(), |m| {
            m["steps"][1]["step"] = json!("村民代表大会民主评议");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("steps[1].step", Problem::UnknownCode)
        );
        let err = json_error::<StatusChange>(edited_json(&StatusChange::example(), |m| {
            m.remove("type");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("type", Problem::Required)
        );
    }

    #[test]
    fn projection() {
        let rows = project(&StatusChange::example());
        assert_eq!(
            cell(&rows, "p_status_change", 0, "change_type"),
            &text("marked_exit")
        );
        assert_eq!(
            cell(&rows, "p_status_change", 0, "current_step"),
            &text("publicity")
        );
        assert_eq!(
            cell(&rows, "p_status_change", 0, "current_step_date"),
            &text("2016-10-17")
        );
        assert_eq!(cell(&rows, "p_status_change", 0, "result"), &Value::Null);
        assert_eq!(count(&rows, "p_status_change_step"), 5);
        assert_eq!(
            cell(&rows, "p_status_change_step", 1, "step"),
            &text("democratic_review")
        );
        assert_eq!(
            cell(&rows, "p_status_change_step", 4, "seq"),
            &Value::Integer(4)
        );

        let empty = StatusChange {
            steps: vec![],
            ..StatusChange::example()
        };
        let rows = project(&empty);
        assert_eq!(
            cell(&rows, "p_status_change", 0, "current_step"),
            &Value::Null
        );
        assert_eq!(count(&rows, "p_status_change_step"), 0);
    }
}
