//! 投诉建议 on the phone (the record and who reads it: [`crate::domain::feedback`]): the form
//! saves a record on the phone, offline like any other, which the next sync pushes; the list
//! shows the account's own, each with the county office's answer once a sync has brought it.
//!
//! The county the feedback goes to is the signed-in cadre's: its team's village today, else the
//! village of a household assigned to it. A phone that knows neither (an official signed in on
//! a phone, whose division the phone does not keep) is told to submit on the dashboard.

use serde::{Deserialize, Serialize};

use super::forms::invalid;
use super::{FieldApp, FieldError, FieldResult};
use crate::domain::codes::{FeedbackCategory, FeedbackStatus};
use crate::domain::{Feedback, Record, ScopeLevel};
use crate::values::Timestamp;

/// What the author writes. `category` is `None` until the author picks one (nothing is
/// pre-selected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeedbackInput {
    pub category: Option<FeedbackCategory>,
    pub subject: String,
    pub text: String,
    pub about: Option<String>,
}

/// One of the account's own 投诉建议, as its list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeedbackItem {
    pub id: String,
    pub feedback: Feedback,
    /// 投诉 / 建议 / 系统问题.
    pub category_label: String,
    /// 待答复 / 已答复.
    pub status_label: String,
    /// Whether it is sent: none of its changes waits in the outbox.
    pub sent: bool,
}

impl FieldApp {
    /// Saves a 投诉建议 as a record on this phone (synced like any other): its id.
    pub fn submit_feedback(&mut self, input: &FeedbackInput, at: Timestamp) -> FieldResult<String> {
        let me = self.require_me()?;
        let category = input.category.ok_or_else(|| {
            FieldError::input(
                "category_required",
                "请选择类别:投诉、建议或系统问题 / choose a category: complaint, suggestion or app problem",
            )
        })?;
        if input.text.trim().is_empty() {
            return Err(FieldError::input(
                "text_required",
                "请填写内容 / write what you want to say",
            ));
        }
        let county = self.my_county(&me.cadre_id, at)?.ok_or_else(|| {
            FieldError::input(
                "no_county",
                "本机不知道你所在的县(你不在任何工作队或帮扶关系中):请在网页端提交投诉建议 / \
                 this phone does not know your county (you are on no team or assignment): submit on the dashboard",
            )
        })?;
        let subject = input.subject.trim();
        let subject = if subject.is_empty() {
            // A short title from the text, for the lists.
            input.text.trim().chars().take(20).collect::<String>()
        } else {
            subject.to_string()
        };
        let record = Feedback {
            category,
            subject,
            text: input.text.trim().to_string(),
            about: input
                .about
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            county_code: county,
            author_id: me.cadre_id.clone(),
            submitted_ts: at,
            status: FeedbackStatus::Submitted,
            answer: None,
        };
        record.validate().map_err(|e| invalid(&e))?;
        self.create(&me, "投诉建议", &record, None)
    }

    /// The account's own 投诉建议, latest first, each with its answer once synced.
    pub fn my_feedback(&self) -> FieldResult<Vec<FeedbackItem>> {
        let me = self.require_me()?;
        let ids = self.store.feedback_ids(&me.cadre_id)?;
        ids.into_iter()
            .map(|id| {
                let feedback = self.store.get::<Feedback>(&id)?.record;
                Ok(FeedbackItem {
                    category_label: feedback.category.label_zh().to_string(),
                    status_label: feedback.status.label_zh().to_string(),
                    sent: !self.store.unsent(&id)?,
                    id,
                    feedback,
                })
            })
            .collect()
    }

    /// The county of `cadre_id` on `at`'s day: its team's village's, else an assigned
    /// household's.
    fn my_county(&self, cadre_id: &str, at: Timestamp) -> FieldResult<Option<String>> {
        let county = |v: &str| ScopeLevel::County.part_of(v).map(str::to_string);
        if let Some(v) = self.my_village(cadre_id, at.date_naive())? {
            return Ok(county(&v.code));
        }
        Ok(self
            .store
            .assigned_village(cadre_id, at.date_naive())?
            .as_deref()
            .and_then(county))
    }
}
