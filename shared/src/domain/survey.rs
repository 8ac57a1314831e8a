//! A satisfaction survey answer (满意度测评, DOMAIN §2.11): one household's answer for one
//! period, asked by a pairing cadre, a township check, a county inspection or a third party.
//!
//! The surveyor is the record's subject and author: nobody records another cadre's survey.
//! The period is a year (`"2016"`) or a quarter (`"2016-Q3"`).
//!
//! Not here: the 满意率 and its threshold (R14). The rate is computed over registered poor
//! households of a village and period, a query over `p_survey` (whose `satisfied` column
//! holds [`Satisfaction::is_satisfied`]).

use serde::{Deserialize, Serialize};

use super::check::{non_empty, range};
use super::codes::{Satisfaction, SurveySource};
use super::org::{code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};

/// One household's satisfaction answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SatisfactionSurvey {
    pub household_id: String,
    /// `"2016"` or `"2016-Q3"`.
    pub period: String,
    pub surveyor_id: String,
    pub source: SurveySource,
    /// The member who answered.
    pub respondent_member_id: String,
    pub result: Satisfaction,
    /// Why; required when the answer is 不满意, so the complaint can be followed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<String>,
}

/// A survey period: a year, or a quarter of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    /// 1 to 4; `None` for the whole year.
    pub quarter: Option<u8>,
}

impl Period {
    /// Parses `"2016"` or `"2016-Q3"`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Period> {
        let (year, quarter) = match s.split_once("-Q") {
            Some((y, q)) => (y, Some(q)),
            None => (s, None),
        };
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let quarter = match quarter {
            None => None,
            Some(q @ ("1" | "2" | "3" | "4")) => Some(q.parse().ok()?),
            Some(_) => return None,
        };
        Some(Period { year, quarter })
    }
}

impl SatisfactionSurvey {
    /// The parsed period, if it is well formed.
    pub fn parsed_period(&self) -> Option<Period> {
        Period::parse(&self.period)
    }

    /// A valid example record: the pairing cadre's third-quarter survey of the example
    /// household, for tests, docs and the demo.
    pub fn example() -> Self {
        SatisfactionSurvey {
            household_id: "hh-530322101201-0007".into(),
            period: "2016-Q3".into(),
            surveyor_id: "cadre-li-ming".into(),
            source: SurveySource::PairingCadreVisit,
            respondent_member_id: "m1".into(),
            result: Satisfaction::Satisfied,
            reasons: Some("危房改造已完成,孙子每学期按时领到生活补助".into()),
        }
    }
}

static SURVEY_TABLES: [Table; 1] = [Table {
    name: "p_survey",
    columns: &[
        ("household_id", SqlType::Text),
        ("period", SqlType::Text),
        ("period_year", SqlType::Integer),
        ("surveyor_id", SqlType::Text),
        ("source", SqlType::Text),
        ("respondent_member_id", SqlType::Text),
        ("result", SqlType::Text),
        ("satisfied", SqlType::Integer),
        ("state", SqlType::Text),
    ],
    indexes: &[
        &["household_id", "period"],
        &["period_year", "source"],
        &["surveyor_id", "period"],
    ],
}];

impl Record for SatisfactionSurvey {
    const KIND: Kind = Kind::SatisfactionSurvey;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Household(self.household_id.clone())
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.surveyor_id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        code_text("household_id", &self.household_id)?;
        match self.parsed_period() {
            None => {
                return Err(ValidationError::new(
                    "period",
                    Problem::Malformed,
                    "a period is a year (2016) or a quarter (2016-Q3)",
                ));
            }
            Some(p) => range(
                "period",
                (2000..=2100).contains(&p.year),
                "the year is not plausible",
            )?,
        }
        non_empty("surveyor_id", &self.surveyor_id)?;
        non_empty("respondent_member_id", &self.respondent_member_id)?;
        opt_text("reasons", &self.reasons)?;
        if self.result == Satisfaction::Dissatisfied && self.reasons.is_none() {
            return Err(ValidationError::new(
                "reasons",
                Problem::Required,
                "a 不满意 answer needs its reasons, so they can be followed up",
            ));
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &SURVEY_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_survey",
            vec![
                ("household_id", self.household_id.sql()),
                ("period", self.period.sql()),
                ("period_year", self.parsed_period().map(|p| p.year).sql()),
                ("surveyor_id", self.surveyor_id.sql()),
                ("source", self.source.sql()),
                ("respondent_member_id", self.respondent_member_id.sql()),
                ("result", self.result.sql()),
                ("satisfied", self.result.is_satisfied().sql()),
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
        assert_invalid, assert_round_trips, cell, edited_json, json_error, project, text,
    };

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let s = SatisfactionSurvey::example();
        assert_eq!(s.validate(), Ok(()));
        assert_round_trips(&s);
        assert_eq!(s.subject_cadre(), Some("cadre-li-ming"));
        assert_eq!(
            s.scope(),
            ScopeHint::Household("hh-530322101201-0007".into())
        );
    }

    #[test]
    fn periods_are_years_or_quarters() {
        assert_eq!(
            Period::parse("2016"),
            Some(Period {
                year: 2016,
                quarter: None
            })
        );
        assert_eq!(
            Period::parse("2016-Q4"),
            Some(Period {
                year: 2016,
                quarter: Some(4)
            })
        );
        for bad in [
            "",
            "16",
            "2016-Q0",
            "2016-Q5",
            "2016-q3",
            "2016-Q",
            "2016-03",
            "2016Q3",
            " 2016",
            "2016-Q3 ",
            "２０１６",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad:?}");
            let s = SatisfactionSurvey {
                period: bad.into(),
                ..SatisfactionSurvey::example()
            };
            assert_invalid(&s, "period", Problem::Malformed);
        }
        let s = SatisfactionSurvey {
            period: "1916".into(),
            ..SatisfactionSurvey::example()
        };
        assert_invalid(&s, "period", Problem::OutOfRange);
    }

    #[test]
    fn dissatisfaction_needs_reasons() {
        let mut s = SatisfactionSurvey::example();
        s.result = Satisfaction::Dissatisfied;
        s.reasons = None;
        assert_invalid(&s, "reasons", Problem::Required);
        s.reasons = Some("产业扶持资金未到位".into());
        assert_eq!(s.validate(), Ok(()));

        let mut s = SatisfactionSurvey::example();
        s.result = Satisfaction::CannotSay;
        s.reasons = None;
        assert_eq!(s.validate(), Ok(()));
        s.reasons = Some("  ".into());
        assert_invalid(&s, "reasons", Problem::Required);
    }

    #[test]
    fn required_fields() {
        let mut s = SatisfactionSurvey::example();
        s.respondent_member_id = String::new();
        assert_invalid(&s, "respondent_member_id", Problem::Required);
        let mut s = SatisfactionSurvey::example();
        s.surveyor_id = String::new();
        assert_invalid(&s, "surveyor_id", Problem::Required);
        let err =
            json_error::<SatisfactionSurvey>(edited_json(&SatisfactionSurvey::example(), |m| {
                m.insert("source".into(), json!("第三方评估"));
            }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("source", Problem::UnknownCode)
        );
    }

    #[test]
    fn projection() {
        let rows = project(&SatisfactionSurvey::example());
        assert_eq!(cell(&rows, "p_survey", 0, "period"), &text("2016-Q3"));
        assert_eq!(
            cell(&rows, "p_survey", 0, "period_year"),
            &Value::Integer(2016)
        );
        assert_eq!(cell(&rows, "p_survey", 0, "satisfied"), &Value::Integer(1));
        assert_eq!(
            cell(&rows, "p_survey", 0, "source"),
            &text("pairing_cadre_visit")
        );

        let s = SatisfactionSurvey {
            result: Satisfaction::CannotSay,
            ..SatisfactionSurvey::example()
        };
        let rows = project(&s);
        assert_eq!(cell(&rows, "p_survey", 0, "satisfied"), &Value::Integer(0));
        assert_eq!(cell(&rows, "p_survey", 0, "result"), &text("cannot_say"));
    }
}
