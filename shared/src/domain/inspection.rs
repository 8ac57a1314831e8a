//! An inspection (督查暗访, DOMAIN §2.10): a township, county or city inspector checks, often
//! unannounced, whether a village's resident cadre is at their post and asks households
//! directly whether they know their pairing cadre, whether claimed visits took place and how
//! satisfied they are.
//!
//! The inspector is the record's subject and author: an inspection is written by the inspector
//! who made it. `village_code` is required (DOMAIN allows a cadre *or* a village); an
//! inspection of one cadre still happens in that cadre's village, which scopes the record.
//!
//! Not here: R4's yearly count of 无故不在岗 per cadre and its consequences for the rating.
//! That is a query over `p_inspection` ([`Inspection::found_absent`] is the per-record test).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{InspectionLevel, InspectionMethod, OnPost, Satisfaction};
use super::org::{code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::Date;

/// One inspection visit or phone check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inspection {
    pub inspector_id: String,
    pub level: InspectionLevel,
    pub method: InspectionMethod,
    pub date: Date,
    pub unannounced: bool,
    pub village_code: String,
    /// The resident cadre checked, if the inspection was of one cadre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cadre_id: Option<String>,
    pub on_post: OnPost,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub households_checked: Vec<HouseholdCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<String>,
    /// 整改期限: by when the findings are to be rectified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Date>,
    /// The day the findings were rectified (整改完成).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectified_date: Option<Date>,
}

/// What one household told the inspector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdCheck {
    pub household_id: String,
    /// The household could name its 帮扶责任人.
    pub knows_cadre: bool,
    /// The household confirmed the visits the records claim.
    pub claimed_visit_confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfaction: Option<Satisfaction>,
}

impl Inspection {
    /// R4: the inspection found the target cadre absent without leave.
    pub fn found_absent(&self) -> bool {
        self.on_post == OnPost::Absent
    }

    /// A valid example record: the county's unannounced visit to the example village, for
    /// tests, docs and the demo.
    pub fn example() -> Self {
        let d = |s: &str| s.parse::<Date>().expect("example date");
        Inspection {
            inspector_id: "cadre-county-zhao".into(),
            level: InspectionLevel::County,
            method: InspectionMethod::FieldVisit,
            date: d("2016-05-18"),
            unannounced: true,
            village_code: "530322101201".into(),
            target_cadre_id: Some("cadre-wang-fang".into()),
            on_post: OnPost::OnPost,
            households_checked: vec![
                HouseholdCheck {
                    household_id: "hh-530322101201-0007".into(),
                    knows_cadre: true,
                    claimed_visit_confirmed: true,
                    satisfaction: Some(Satisfaction::Satisfied),
                },
                HouseholdCheck {
                    household_id: "hh-530322101201-0012".into(),
                    knows_cadre: false,
                    claimed_visit_confirmed: true,
                    satisfaction: Some(Satisfaction::FairlySatisfied),
                },
            ],
            findings: Some("1户不知道帮扶责任人姓名,帮扶联系卡未张贴".into()),
            deadline: Some(d("2016-06-15")),
            rectified_date: Some(d("2016-06-02")),
        }
    }
}

static INSPECTION_TABLES: [Table; 2] = [
    Table {
        name: "p_inspection",
        columns: &[
            ("inspector_id", SqlType::Text),
            ("level", SqlType::Text),
            ("method", SqlType::Text),
            ("date", SqlType::Text),
            ("unannounced", SqlType::Integer),
            ("village_code", SqlType::Text),
            ("target_cadre_id", SqlType::Text),
            ("on_post", SqlType::Text),
            ("households_checked", SqlType::Integer),
            ("has_findings", SqlType::Integer),
            ("deadline", SqlType::Text),
            ("rectified_date", SqlType::Text),
            ("state", SqlType::Text),
        ],
        indexes: &[
            &["target_cadre_id", "date"],
            &["village_code", "date"],
            &["on_post", "date"],
        ],
    },
    Table {
        name: "p_inspection_household",
        columns: &[
            ("village_code", SqlType::Text),
            ("date", SqlType::Text),
            ("household_id", SqlType::Text),
            ("knows_cadre", SqlType::Integer),
            ("claimed_visit_confirmed", SqlType::Integer),
            ("satisfaction", SqlType::Text),
        ],
        indexes: &[&["household_id", "date"], &["village_code", "date"]],
    },
];

impl Record for Inspection {
    const KIND: Kind = Kind::Inspection;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.village_code.clone())
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.date)
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.inspector_id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("inspector_id", &self.inspector_id)?;
        code_text("village_code", &self.village_code)?;
        if let Some(target) = &self.target_cadre_id {
            non_empty("target_cadre_id", target)?;
            consistent(
                "target_cadre_id",
                *target != self.inspector_id,
                "an inspector does not inspect themselves",
            )?;
        }
        if self.on_post == OnPost::Absent && self.target_cadre_id.is_none() {
            return Err(ValidationError::new(
                "target_cadre_id",
                Problem::Required,
                "say which cadre was absent (无故不在岗 counts against that cadre, R4)",
            ));
        }
        let mut seen = HashSet::new();
        for (i, h) in self.households_checked.iter().enumerate() {
            let field = format!("households_checked.{i}.household_id");
            code_text(&field, &h.household_id)?;
            consistent(
                &field,
                seen.insert(h.household_id.as_str()),
                "a household is listed twice",
            )?;
        }
        opt_text("findings", &self.findings)?;
        for (name, date) in [
            ("deadline", self.deadline),
            ("rectified_date", self.rectified_date),
        ] {
            if let Some(date) = date {
                consistent(
                    name,
                    self.findings.is_some(),
                    "there is nothing to rectify without findings",
                )?;
                range(
                    name,
                    date >= self.date,
                    "rectification comes after the inspection",
                )?;
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &INSPECTION_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_inspection",
            vec![
                ("inspector_id", self.inspector_id.sql()),
                ("level", self.level.sql()),
                ("method", self.method.sql()),
                ("date", self.date.sql()),
                ("unannounced", self.unannounced.sql()),
                ("village_code", self.village_code.sql()),
                ("target_cadre_id", self.target_cadre_id.sql()),
                ("on_post", self.on_post.sql()),
                (
                    "households_checked",
                    (self.households_checked.len() as i64).sql(),
                ),
                ("has_findings", self.findings.is_some().sql()),
                ("deadline", self.deadline.sql()),
                ("rectified_date", self.rectified_date.sql()),
                ("state", env.state.code().sql()),
            ],
        );
        for h in &self.households_checked {
            rows.push(
                "p_inspection_household",
                vec![
                    ("village_code", self.village_code.sql()),
                    ("date", self.date.sql()),
                    ("household_id", h.household_id.sql()),
                    ("knows_cadre", h.knows_cadre.sql()),
                    ("claimed_visit_confirmed", h.claimed_visit_confirmed.sql()),
                    ("satisfaction", h.satisfaction.sql()),
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

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let i = Inspection::example();
        assert_eq!(i.validate(), Ok(()));
        assert_round_trips(&i);
        assert!(!i.found_absent());
        assert_eq!(i.subject_cadre(), Some("cadre-county-zhao"));
        assert_eq!(i.scope(), ScopeHint::Village("530322101201".into()));
    }

    #[test]
    fn an_absence_names_the_cadre() {
        let mut i = Inspection::example();
        i.on_post = OnPost::Absent;
        assert_eq!(i.validate(), Ok(()));
        assert!(i.found_absent());
        i.target_cadre_id = None;
        assert_invalid(&i, "target_cadre_id", Problem::Required);
        i.on_post = OnPost::OnLeave;
        assert_eq!(i.validate(), Ok(()), "a village-wide check needs no target");

        let mut i = Inspection::example();
        i.target_cadre_id = Some(i.inspector_id.clone());
        assert_invalid(&i, "target_cadre_id", Problem::Inconsistent);
    }

    #[test]
    fn households_are_listed_once() {
        let mut i = Inspection::example();
        i.households_checked[1].household_id = i.households_checked[0].household_id.clone();
        assert_invalid(
            &i,
            "households_checked.1.household_id",
            Problem::Inconsistent,
        );
        i.households_checked[1].household_id = String::new();
        assert_invalid(&i, "households_checked.1.household_id", Problem::Required);

        let err = json_error::<Inspection>(edited_json(&Inspection::example(), |m| {
            m["households_checked"][0]["satisfaction"] = json!("很满意");
        }));
        assert_eq!(err.problem, Problem::UnknownCode, "{err:?}");
        let err = json_error::<Inspection>(edited_json(&Inspection::example(), |m| {
            m.remove("on_post");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("on_post", Problem::Required)
        );
    }

    #[test]
    fn rectification_follows_findings() {
        let mut i = Inspection::example();
        i.rectified_date = Some(date("2016-05-17"));
        assert_invalid(&i, "rectified_date", Problem::OutOfRange);

        let mut i = Inspection::example();
        i.deadline = Some(date("2016-05-01"));
        assert_invalid(&i, "deadline", Problem::OutOfRange);

        let mut i = Inspection::example();
        i.findings = None;
        assert_invalid(&i, "deadline", Problem::Inconsistent);
        i.deadline = None;
        i.rectified_date = None;
        assert_eq!(i.validate(), Ok(()), "a clean inspection");
    }

    #[test]
    fn projection() {
        let rows = project(&Inspection::example());
        assert_eq!(cell(&rows, "p_inspection", 0, "on_post"), &text("on_post"));
        assert_eq!(
            cell(&rows, "p_inspection", 0, "households_checked"),
            &Value::Integer(2)
        );
        assert_eq!(
            cell(&rows, "p_inspection", 0, "unannounced"),
            &Value::Integer(1)
        );
        assert_eq!(count(&rows, "p_inspection_household"), 2);
        assert_eq!(
            cell(&rows, "p_inspection_household", 1, "knows_cadre"),
            &Value::Integer(0)
        );
        assert_eq!(
            cell(&rows, "p_inspection_household", 1, "satisfaction"),
            &text("fairly_satisfied")
        );

        let phone = Inspection {
            method: InspectionMethod::PhoneCheck,
            households_checked: vec![],
            findings: None,
            deadline: None,
            rectified_date: None,
            ..Inspection::example()
        };
        let rows = project(&phone);
        assert_eq!(
            cell(&rows, "p_inspection", 0, "method"),
            &text("phone_check")
        );
        assert_eq!(
            cell(&rows, "p_inspection", 0, "has_findings"),
            &Value::Integer(0)
        );
        assert_eq!(count(&rows, "p_inspection_household"), 0);
    }
}
