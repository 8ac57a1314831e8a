//! The daily work log (驻村日志/民情日记, DOMAIN §2.6) and its township review (月考).
//!
//! The author is the envelope's `author_id` (DOMAIN lists `author_id` among the log's fields;
//! it is the same value, so it is kept once, in the envelope, and projected from there).
//!
//! Not here: whether every 在村 day has a log and whether the township reviewed a month in
//! time (R16). Those are questions over many logs and days, asked of `p_work_log`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{WorkActivity, joined_codes};
use super::org::{code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::ValidationError;
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Timestamp};

/// One day's log of a resident cadre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkLog {
    pub date: Date,
    pub village_code: String,
    /// At least one.
    pub activities: Vec<WorkActivity>,
    pub summary: String,
    /// Visits recorded that day (their document ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visit_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_plan: Option<String>,
    /// The township's review, added by the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    /// The first secretary's comment on a team member's log (DOMAIN §1), added by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_comment: Option<Review>,
}

/// A reviewer's sign-off in its own name: a log's township review or first secretary's
/// comment, a leave's decision, a visit's acceptance (`comment`: the reason, required to send
/// something back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Review {
    pub reviewer_id: String,
    pub ts: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl WorkLog {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        WorkLog {
            date: Date::from_ymd_opt(2015, 9, 12).expect("valid date"),
            village_code: "530322101201".into(),
            activities: vec![WorkActivity::HouseholdVisits, WorkActivity::Meeting],
            summary:
                "上午走访上村张建国等3户,核实家庭成员和收入;下午参加村两委会议,研究危房改造对象初选"
                    .into(),
            visit_ids: vec!["visit-20150912-0001".into()],
            problems: Some("张建国户住房为C级危房,需纳入今年改造计划".into()),
            next_plan: Some("协助张建国户准备危房改造申请材料".into()),
            review: Some(Review {
                reviewer_id: "cadre-township-zhang".into(),
                ts: "2015-10-08T16:00:00+08:00"
                    .parse()
                    .expect("example timestamp"),
                comment: Some("记录详实".into()),
            }),
            leader_comment: None,
        }
    }
}

static WORK_LOG_TABLES: [Table; 1] = [Table {
    name: "p_work_log",
    columns: &[
        ("author_id", SqlType::Text),
        ("date", SqlType::Text),
        ("village_code", SqlType::Text),
        ("activities", SqlType::Text),
        ("visit_count", SqlType::Integer),
        ("reviewed", SqlType::Integer),
        ("reviewer_id", SqlType::Text),
        ("review_ts", SqlType::Text),
        ("review_date", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[
        &["author_id", "date"],
        &["village_code", "date"],
        &["reviewed", "date"],
    ],
}];

impl Record for WorkLog {
    const KIND: Kind = Kind::WorkLog;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.village_code.clone())
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.date)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        code_text("village_code", &self.village_code)?;
        if self.activities.is_empty() {
            return Err(ValidationError::required("activities"));
        }
        let mut seen = HashSet::new();
        for (i, a) in self.activities.iter().enumerate() {
            consistent(
                &format!("activities.{i}"),
                seen.insert(*a),
                "an activity is listed twice",
            )?;
        }
        non_empty("summary", &self.summary)?;
        let mut seen = HashSet::new();
        for (i, id) in self.visit_ids.iter().enumerate() {
            let field = format!("visit_ids.{i}");
            non_empty(&field, id)?;
            consistent(&field, seen.insert(id.as_str()), "a visit is listed twice")?;
        }
        opt_text("problems", &self.problems)?;
        opt_text("next_plan", &self.next_plan)?;
        if let Some(review) = &self.review {
            non_empty("review.reviewer_id", &review.reviewer_id)?;
            range(
                "review.ts",
                review.ts.date_naive() >= self.date,
                "a log is reviewed after the day it records",
            )?;
            opt_text("review.comment", &review.comment)?;
        }
        if let Some(c) = &self.leader_comment {
            non_empty("leader_comment.reviewer_id", &c.reviewer_id)?;
            opt_text("leader_comment.comment", &c.comment)?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &WORK_LOG_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        let review = self.review.as_ref();
        rows.push(
            "p_work_log",
            vec![
                ("author_id", env.author_id.sql()),
                ("date", self.date.sql()),
                ("village_code", self.village_code.sql()),
                (
                    "activities",
                    joined_codes(&self.activities, WorkActivity::code).sql(),
                ),
                ("visit_count", (self.visit_ids.len() as i64).sql()),
                ("reviewed", review.is_some().sql()),
                ("reviewer_id", review.map(|r| r.reviewer_id.as_str()).sql()),
                ("review_ts", review.map(|r| r.ts).sql()),
                ("review_date", review.map(|r| r.ts.date_naive()).sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, edited_json, json_error, project, text, ts,
    };
    use crate::error::Problem;

    #[test]
    fn the_example_is_valid_and_round_trips() {
        assert_eq!(WorkLog::example().validate(), Ok(()));
        assert_round_trips(&WorkLog::example());
    }

    #[test]
    fn activities_are_required_and_distinct() {
        let mut l = WorkLog::example();
        l.activities.clear();
        assert_invalid(&l, "activities", Problem::Required);
        l.activities = vec![WorkActivity::Training, WorkActivity::Training];
        assert_invalid(&l, "activities.1", Problem::Inconsistent);
        let err = json_error::<WorkLog>(edited_json(&WorkLog::example(), |m| {
            m.insert("activities".into(), json!(["meeting", "fishing"]));
        }));
        assert_eq!(err.problem, Problem::UnknownCode, "{err:?}");
        let err = json_error::<WorkLog>(edited_json(&WorkLog::example(), |m| {
            m.remove("activities");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("activities", Problem::Required)
        );
    }

    #[test]
    fn summary_and_references() {
        let mut l = WorkLog::example();
        l.summary = " ".into();
        assert_invalid(&l, "summary", Problem::Required);

        let mut l = WorkLog::example();
        l.visit_ids.push(l.visit_ids[0].clone());
        assert_invalid(&l, "visit_ids.1", Problem::Inconsistent);

        let mut l = WorkLog::example();
        l.village_code = String::new();
        assert_invalid(&l, "village_code", Problem::Required);
    }

    #[test]
    fn a_review_comes_after_the_day() {
        let mut l = WorkLog::example();
        if let Some(r) = l.review.as_mut() {
            r.ts = ts("2015-09-11T16:00:00+08:00");
        }
        assert_invalid(&l, "review.ts", Problem::OutOfRange);
        if let Some(r) = l.review.as_mut() {
            r.ts = ts("2015-09-12T21:00:00+08:00");
        }
        assert_eq!(l.validate(), Ok(()), "the same evening is fine");
        if let Some(r) = l.review.as_mut() {
            r.reviewer_id = String::new();
        }
        assert_invalid(&l, "review.reviewer_id", Problem::Required);
        let err = json_error::<WorkLog>(edited_json(&WorkLog::example(), |m| {
            m.insert("review".into(), json!({"reviewer_id": "x"}));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("review.ts", Problem::Required)
        );
    }

    #[test]
    fn projection() {
        let rows = project(&WorkLog::example());
        assert_eq!(
            cell(&rows, "p_work_log", 0, "author_id"),
            &text("cadre-author")
        );
        assert_eq!(cell(&rows, "p_work_log", 0, "date"), &text("2015-09-12"));
        assert_eq!(
            cell(&rows, "p_work_log", 0, "activities"),
            &text("household_visits,meeting")
        );
        assert_eq!(cell(&rows, "p_work_log", 0, "reviewed"), &Value::Integer(1));
        assert_eq!(
            cell(&rows, "p_work_log", 0, "reviewer_id"),
            &text("cadre-township-zhang")
        );
        assert_eq!(
            cell(&rows, "p_work_log", 0, "visit_count"),
            &Value::Integer(1)
        );

        let unreviewed = WorkLog {
            review: None,
            ..WorkLog::example()
        };
        let rows = project(&unreviewed);
        assert_eq!(cell(&rows, "p_work_log", 0, "reviewed"), &Value::Integer(0));
        assert_eq!(cell(&rows, "p_work_log", 0, "reviewer_id"), &Value::Null);
        assert_eq!(cell(&rows, "p_work_log", 0, "review_ts"), &Value::Null);
    }
}
