//! 投诉建议: feedback and complaints about the work and the app (issue 16 item 9; the 2026 rules
//! on government apps require an entry for them). DOMAIN does not define it; this is the
//! design.
//!
//! ## What it is
//! One record per submission: a `category` (投诉 complaint, 建议 suggestion, 系统问题 a problem
//! with the app: [`FeedbackCategory`], chosen by the author, never pre-selected), a short
//! `subject`, the `text`, and optionally what it is `about` in the author's own words (a
//! village, a process such as 请假审批; no personal ids are asked for). The author writes it on
//! the phone (offline like any record, synced later) or on the dashboard; `submitted_ts` is
//! when it was written, `author_id` the account that wrote it (a cadre's or an official's
//! login), `county_code` the author's county, whose poverty office (县扶贫办) answers it.
//! `status` is `submitted` (待答复) until the office answers, then `answered` (已答复);
//! `answer` holds who answered (`by`, the office account's login), when (`ts`) and what
//! (`text`, required).
//!
//! ## Who writes
//! - **Submitting**: any signed-in account that lies in a county (a cadre through its team's
//!   village or its assigned households on the day it writes, an official through its
//!   division), as its own author ([`Kind::is_event`]: the record is the author's, and
//!   `author_id` must be the signed-in account: `forged_author` otherwise). The city and an
//!   installation-wide administrator lie in no county, so they have no county office to
//!   answer them and do not submit here (the city writes nothing, DOMAIN §1).
//! - **Nothing changes after submission** by its author (`feedback_locked`): a correction or a
//!   follow-up is a new submission. The author never answers its own (`self_answer`), not even
//!   a county office account that wrote one.
//! - **Nobody withdraws or voids it** (its record state stays submitted: `feedback_locked` for
//!   the author, `review_only` for anyone else): a voided complaint would leave the author's
//!   list and the office's 待办 without an answer.
//! - **Answering**: only the poverty office of the record's county, in its own name, with a
//!   non-empty text (`answer_required`, `not_answerer`), changing nothing the author wrote
//!   (`review_only`). An answer is final (`answer_final`): the office answers once and well; a
//!   question after an answer is a new submission. This keeps the record simple to audit:
//!   one author change, at most one answer change, each signed by its account's key.
//!
//! ## Who reads, and why (privacy)
//! A complaint may be about a supervisor: the first secretary of the author's team, the
//! township above it, the organisation department that dispatched it. None of them reads
//! others' feedback, so that a cadre can complain about them safely. The readers are:
//! - its **author** (it sees where its feedback stands, and the answer);
//! - the **county poverty office** of the record's county (it answers: in clear, since the
//!   answer needs the text);
//! - the **administrator** (it keeps the app, and app problems are its to fix).
//!
//! Everybody else reads only its own ([`crate::domain::access::Sight::Own`]); the city sees
//! no records, only aggregates (of which there are none yet).
//!
//! The record is placed at its county: its scope is the 6-digit `county_code`
//! ([`ScopeHint::Village`] of a county's code, as a ledger signature is placed at a township's
//! 9-digit code). No village's or township's pull reaches a county's code (their scopes are
//! their own codes and the codes under them), so the record never travels to a township's or a
//! team's devices; the author's own phone pulls it through its own scope (`own:<county>` on
//! the server), and the change log marks every change of it with its author
//! ([`crate::domain::access::owner_of`]) so that no other reader's scope carries it. The
//! server's records API, exports, raw pulls and 待办 apply the same read right.
//!
//! A complaint about the county office itself still reaches that office: it is the office
//! that answers. The organisation department, which supervises cadres, does not read them:
//! what a complaint about a cadre calls for is the office's to pass on.
//!
//! Not here: the checks (the server's, `sync-server/src/checks.rs`, with the rules of
//! [`crate::rules::feedback`]), the access table ([`crate::domain::access`]).

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{FeedbackCategory, FeedbackStatus};
use super::org::opt_text;
use super::{Envelope, Kind, Record, ScopeHint, ScopeLevel};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Timestamp};

/// Most characters of a subject.
pub const MAX_SUBJECT_CHARS: usize = 60;
/// Most characters of a feedback's or an answer's text.
pub const MAX_TEXT_CHARS: usize = 2000;

/// A feedback or complaint (投诉建议).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Feedback {
    pub category: FeedbackCategory,
    pub subject: String,
    pub text: String,
    /// What it is about, in the author's words (a village, a process); no personal ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// The author's county (6 digits): its poverty office answers.
    pub county_code: String,
    /// The account that wrote it (its login).
    pub author_id: String,
    pub submitted_ts: Timestamp,
    pub status: FeedbackStatus,
    /// The county office's answer, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<FeedbackAnswer>,
}

/// The county poverty office's answer to a feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeedbackAnswer {
    /// The answering account's login.
    pub by: String,
    pub ts: Timestamp,
    pub text: String,
}

impl Feedback {
    /// A valid example: a team member's suggestion about leave approvals, not yet answered.
    pub fn example() -> Self {
        Feedback {
            category: FeedbackCategory::Suggestion,
            subject: "请假审批太慢".into(),
            text: "乡镇审批请假经常要等三四天,建议在村记里提醒审批人。".into(),
            about: Some("请假审批".into()),
            county_code: "530322".into(),
            author_id: "cadre-li-ming".into(),
            submitted_ts: "2016-05-10T09:30:00+08:00".parse().expect("example time"),
            status: FeedbackStatus::Submitted,
            answer: None,
        }
    }
}

fn max_chars(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    range(
        field,
        value.chars().count() <= max,
        &format!("at most {max} characters"),
    )
}

static FEEDBACK_TABLES: [Table; 1] = [Table {
    name: "p_feedback",
    columns: &[
        ("category", SqlType::Text),
        ("subject", SqlType::Text),
        ("county_code", SqlType::Text),
        ("author_id", SqlType::Text),
        ("submitted_ts", SqlType::Text),
        ("status", SqlType::Text),
        ("answered_by", SqlType::Text),
        ("answered_ts", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[&["county_code", "status"], &["author_id"]],
}];

impl Record for Feedback {
    const KIND: Kind = Kind::Feedback;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.county_code.clone())
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.author_id)
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.submitted_ts.date_naive())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        let county = self.county_code.len() == ScopeLevel::County.code_len()
            && self.county_code.bytes().all(|b| b.is_ascii_digit());
        if !county {
            return Err(ValidationError::new(
                "county_code",
                Problem::Malformed,
                "a county's 6-digit code",
            ));
        }
        non_empty("subject", &self.subject)?;
        max_chars("subject", &self.subject, MAX_SUBJECT_CHARS)?;
        non_empty("text", &self.text)?;
        max_chars("text", &self.text, MAX_TEXT_CHARS)?;
        opt_text("about", &self.about)?;
        if let Some(a) = &self.about {
            max_chars("about", a, MAX_SUBJECT_CHARS)?;
        }
        non_empty("author_id", &self.author_id)?;
        match (&self.answer, self.status) {
            (None, FeedbackStatus::Submitted) => {}
            (Some(a), FeedbackStatus::Answered) => {
                non_empty("answer.by", &a.by)?;
                non_empty("answer.text", &a.text)?;
                max_chars("answer.text", &a.text, MAX_TEXT_CHARS)?;
            }
            (None, FeedbackStatus::Answered) => {
                return Err(ValidationError::new(
                    "answer",
                    Problem::Required,
                    "an answered feedback holds its answer",
                ));
            }
            (Some(_), FeedbackStatus::Submitted) => {
                consistent("status", false, "a feedback with an answer is answered")?;
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &FEEDBACK_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        let a = self.answer.as_ref();
        rows.push(
            "p_feedback",
            vec![
                ("category", self.category.sql()),
                ("subject", self.subject.sql()),
                ("county_code", self.county_code.sql()),
                ("author_id", self.author_id.sql()),
                ("submitted_ts", self.submitted_ts.sql()),
                ("status", self.status.sql()),
                ("answered_by", a.map(|a| a.by.as_str()).sql()),
                ("answered_ts", a.map(|a| a.ts).sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, edited_json, json_error, project, text,
    };

    fn answered() -> Feedback {
        Feedback {
            status: FeedbackStatus::Answered,
            answer: Some(FeedbackAnswer {
                by: "county-office".into(),
                ts: "2016-05-12T10:00:00+08:00".parse().unwrap(),
                text: "已请乡镇在两个工作日内审批。".into(),
            }),
            ..Feedback::example()
        }
    }

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let f = Feedback::example();
        assert_eq!(f.validate(), Ok(()));
        assert_round_trips(&f);
        assert_round_trips(&answered());
        assert_eq!(answered().validate(), Ok(()));
        assert_eq!(f.scope(), ScopeHint::Village("530322".into()));
        assert_eq!(f.subject_cadre(), Some("cadre-li-ming"));
        assert!(Kind::Feedback.is_event());
    }

    #[test]
    fn text_subject_and_county_are_required() {
        let mut f = Feedback::example();
        f.text = "  ".into();
        assert_invalid(&f, "text", Problem::Required);
        let mut f = Feedback::example();
        f.subject = String::new();
        assert_invalid(&f, "subject", Problem::Required);
        let mut f = Feedback::example();
        f.subject = "长".repeat(MAX_SUBJECT_CHARS + 1);
        assert_invalid(&f, "subject", Problem::OutOfRange);
        let mut f = Feedback::example();
        f.text = "长".repeat(MAX_TEXT_CHARS + 1);
        assert_invalid(&f, "text", Problem::OutOfRange);
        for county in ["5303", "530322101", "53032a", ""] {
            let f = Feedback {
                county_code: county.into(),
                ..Feedback::example()
            };
            assert_invalid(&f, "county_code", Problem::Malformed);
        }
        let err = json_error::<Feedback>(edited_json(&Feedback::example(), |m| {
            m.insert("category".into(), serde_json::json!("praise"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("category", Problem::UnknownCode)
        );
    }

    #[test]
    fn the_status_follows_the_answer() {
        let mut f = answered();
        if let Some(a) = f.answer.as_mut() {
            a.text = " ".into();
        }
        assert_invalid(&f, "answer.text", Problem::Required);
        let f = Feedback {
            answer: None,
            ..answered()
        };
        assert_invalid(&f, "answer", Problem::Required);
        let f = Feedback {
            status: FeedbackStatus::Submitted,
            ..answered()
        };
        assert_invalid(&f, "status", Problem::Inconsistent);
    }

    #[test]
    fn projection() {
        let rows = project(&answered());
        assert_eq!(cell(&rows, "p_feedback", 0, "status"), &text("answered"));
        assert_eq!(
            cell(&rows, "p_feedback", 0, "answered_by"),
            &text("county-office")
        );
        assert_eq!(cell(&rows, "p_feedback", 0, "county_code"), &text("530322"));
    }
}
