//! 投诉建议 from the dashboard (issue 16 item 9; the record and who reads it:
//! [`cunji_core::domain::feedback`]).
//!
//! A phone submits feedback as a record of its own, offline, pushed like any other. A browser
//! holds no Automerge, so it submits the way a township signs a ledger ([`crate::ledger`]):
//! 1. `POST /v1/feedback` with what the author wrote ([`SubmitFeedback`]): the server composes
//!    the record's first change with the session's actor (the envelope and `author_id` name the
//!    signed-in account, `county_code` the county it lies in today), runs every check of a push
//!    on it in a transaction it rolls back, and answers a [`PreparedStep`] whose summary names
//!    the category, the subject and the county;
//! 2. `POST /v1/steps` with the change and the session key's signature, checked and stored
//!    like any step.
//!
//! The county office answers with the step `feedback_answer` (`POST /v1/records/{id}/steps`),
//! composed by the core's [`cunji_core::rules::feedback::answer_step`]. The 待办
//! ([`crate::todo`]): the office's `feedback_to_answer`, and every account's `my_feedback`.
//!
//! An account in no county (the city, an installation-wide administrator) is answered
//! `no_county`: there is no county office to answer it.

use cunji_core::domain::Feedback;
use cunji_core::domain::codes::{FeedbackCategory, FeedbackStatus};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::accounts::{Principal, today};
use crate::approvals::{self, PreparedStep, StepError};
use crate::store::Tx;

/// A 投诉建议 as its author writes it on the dashboard.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitFeedback {
    /// `complaint` (投诉), `suggestion` (建议) or `app_problem` (系统问题).
    pub category: String,
    /// A short title, at most 60 characters.
    pub subject: String,
    /// The feedback itself, at most 2000 characters.
    pub text: String,
    /// What it is about (a village, a process), in the author's words; no personal ids.
    #[serde(default)]
    pub about: Option<String>,
}

fn bad(what: impl Into<String>) -> StepError {
    StepError::Bad(what.into())
}

/// Composes `req` as `who`'s new 投诉建议, checks it like a push, and returns it to sign. Run
/// it in a transaction that is rolled back ([`crate::state::AppState::trial`]).
pub fn prepare(
    tx: &mut dyn Tx,
    who: &Principal,
    req: &SubmitFeedback,
) -> Result<PreparedStep, StepError> {
    if who.is_web() {
        return Err(StepError::KeyRequired);
    }
    let category = FeedbackCategory::from_code(&req.category).ok_or_else(|| {
        bad(format!(
            "category: one of {} (`{}` is not)",
            FeedbackCategory::CODES.join(", "),
            req.category
        ))
    })?;
    let county = who
        .counties_on(tx, today())?
        .into_iter()
        .next()
        .ok_or_else(|| StepError::Refused {
            code: "no_county".into(),
            message: "你的账号不属于任何一个县,投诉建议无处答复:请联系所在县的县扶贫办 / \
                      your account lies in no county, so no county office would answer: \
                      contact a county poverty office directly"
                .into(),
        })?;
    let at = approvals::china_now(chrono::Utc::now());
    let record = Feedback {
        category,
        subject: req.subject.trim().to_string(),
        text: req.text.trim().to_string(),
        about: req
            .about
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        county_code: county.clone(),
        author_id: who.login.clone(),
        submitted_ts: at,
        status: FeedbackStatus::Submitted,
        answer: None,
    };
    let summary = format!(
        "提交{}「{}」给县扶贫办({})",
        category.label_zh(),
        record.subject,
        county
    );
    let summary_en = format!(
        "submit the {} \"{}\" to the county poverty office ({})",
        category.label_en().to_lowercase(),
        record.subject,
        county
    );
    approvals::try_new_record(tx, who, &record, at, summary, summary_en)
}
