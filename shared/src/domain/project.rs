//! A village project (项目, DOMAIN §2.9): what is built or funded, from which money, for whom,
//! and how far it has got (progress reports with cumulative percent and disbursement).
//!
//! Progress is cumulative: each report gives the percent done and the money disbursed *so far*,
//! so neither may fall from one report to the next, and the money never exceeds the funding.
//!
//! Not here: the project library (项目库) and its approval workflow, and the link from a
//! project to the households' entitlements; a project names its beneficiaries by count only.

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::ProjectCategory;
use super::org::{check_sha256, code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Money};

/// A poverty-alleviation project in a village.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Project {
    pub name: String,
    pub category: ProjectCategory,
    pub village_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiaries: Option<Beneficiaries>,
    pub funding: Funding,
    /// 绩效目标.
    pub performance_target: String,
    /// 带贫机制: how the project benefits poor households.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benefit_link: Option<String>,
    pub planned_start: Date,
    pub planned_end: Date,
    /// In date order; see the module docs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<Progress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publicity: Option<ProjectPublicity>,
}

/// Who benefits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Beneficiaries {
    /// Registered poor households that benefit.
    pub households: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<u32>,
}

/// Where the money comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Funding {
    /// 财政专项扶贫资金.
    pub fiscal_special: Money,
    /// 整合资金 (统筹整合涉农资金).
    pub integrated: Money,
    /// 帮扶单位资金.
    pub sending_unit: Money,
    /// 自筹.
    pub self_raised: Money,
}

impl Funding {
    pub fn total(&self) -> Money {
        self.fiscal_special + self.integrated + self.sending_unit + self.self_raised
    }

    /// The sources with their field names, in display order.
    pub fn sources(&self) -> [(&'static str, Money); 4] {
        [
            ("fiscal_special", self.fiscal_special),
            ("integrated", self.integrated),
            ("sending_unit", self.sending_unit),
            ("self_raised", self.self_raised),
        ]
    }
}

/// A progress report: cumulative percent done and money disbursed so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    pub date: Date,
    /// 0 to 100.
    pub percent: u32,
    pub disbursed: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_sha256: Option<String>,
}

/// The project's public notices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProjectPublicity {
    /// 入库公示: the day the project list was posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_date: Option<Date>,
    /// 竣工公告: the day completion was announced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_date: Option<Date>,
}

impl Project {
    /// The latest progress report.
    pub fn latest_progress(&self) -> Option<&Progress> {
        self.progress.last()
    }

    /// The latest report says 100%.
    pub fn is_complete(&self) -> bool {
        self.latest_progress().is_some_and(|p| p.percent == 100)
    }

    /// A valid example record: the village's drinking-water project, for tests, docs and the
    /// demo.
    pub fn example() -> Self {
        let d = |s: &str| s.parse::<Date>().expect("example date");
        Project {
            name: "上村自然村人畜饮水管网延伸工程".into(),
            category: ProjectCategory::Infrastructure,
            village_code: "530322101201".into(),
            beneficiaries: Some(Beneficiaries {
                households: 23,
                persons: Some(87),
            }),
            funding: Funding {
                fiscal_special: Money::from_yuan(180_000),
                integrated: Money::from_yuan(60_000),
                sending_unit: Money::from_yuan(20_000),
                self_raised: Money::ZERO,
            },
            performance_target: "新建蓄水池1座、铺设管网3.2公里,解决23户87人饮水安全问题".into(),
            benefit_link: Some("贫困户优先参与管网施工务工,按日计酬".into()),
            planned_start: d("2016-03-01"),
            planned_end: d("2016-06-30"),
            progress: vec![
                Progress {
                    date: d("2016-04-15"),
                    percent: 40,
                    disbursed: Money::from_yuan(80_000),
                    photo_sha256: Some(
                        "5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e1b3f1a9c0e7b2d4f6a".into(),
                    ),
                },
                Progress {
                    date: d("2016-06-20"),
                    percent: 100,
                    disbursed: Money::from_yuan(234_000),
                    photo_sha256: None,
                },
            ],
            publicity: Some(ProjectPublicity {
                listing_date: Some(d("2016-02-15")),
                completion_date: Some(d("2016-06-28")),
            }),
        }
    }
}

static PROJECT_TABLES: [Table; 2] = [
    Table {
        name: "p_project",
        columns: &[
            ("name", SqlType::Text),
            ("category", SqlType::Text),
            ("village_code", SqlType::Text),
            ("households", SqlType::Integer),
            ("persons", SqlType::Integer),
            ("fiscal_special", SqlType::Integer),
            ("integrated", SqlType::Integer),
            ("sending_unit", SqlType::Integer),
            ("self_raised", SqlType::Integer),
            ("total_funding", SqlType::Integer),
            ("planned_start", SqlType::Text),
            ("planned_end", SqlType::Text),
            ("percent", SqlType::Integer),
            ("disbursed", SqlType::Integer),
            ("progress_date", SqlType::Text),
            ("listing_date", SqlType::Text),
            ("completion_date", SqlType::Text),
            ("state", SqlType::Text),
        ],
        indexes: &[
            &["village_code", "planned_start"],
            &["category"],
            &["planned_end", "percent"],
        ],
    },
    Table {
        name: "p_project_progress",
        columns: &[
            ("village_code", SqlType::Text),
            ("progress_date", SqlType::Text),
            ("percent", SqlType::Integer),
            ("disbursed", SqlType::Integer),
            ("photo_sha256", SqlType::Text),
        ],
        indexes: &[&["village_code", "progress_date"], &["photo_sha256"]],
    },
];

impl Record for Project {
    const KIND: Kind = Kind::Project;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.village_code.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("name", &self.name)?;
        code_text("village_code", &self.village_code)?;
        if let Some(b) = &self.beneficiaries
            && let Some(persons) = b.persons
        {
            consistent(
                "beneficiaries.persons",
                persons >= b.households,
                "every household has at least one person",
            )?;
        }
        for (name, amount) in self.funding.sources() {
            range(
                &format!("funding.{name}"),
                !amount.is_negative(),
                "an amount cannot be negative",
            )?;
        }
        if self.funding.total() == Money::ZERO {
            return Err(ValidationError::new(
                "funding",
                Problem::Required,
                "a project needs money from at least one source",
            ));
        }
        non_empty("performance_target", &self.performance_target)?;
        opt_text("benefit_link", &self.benefit_link)?;
        range(
            "planned_end",
            self.planned_end >= self.planned_start,
            "the project ends before it starts",
        )?;
        let total = self.funding.total();
        let mut previous: Option<&Progress> = None;
        for (i, p) in self.progress.iter().enumerate() {
            let field = |name: &str| format!("progress.{i}.{name}");
            range(
                &field("percent"),
                p.percent <= 100,
                "progress is 0 to 100 percent",
            )?;
            range(
                &field("disbursed"),
                !p.disbursed.is_negative(),
                "an amount cannot be negative",
            )?;
            consistent(
                &field("disbursed"),
                p.disbursed <= total,
                "more is disbursed than the project is funded with",
            )?;
            if let Some(hash) = &p.photo_sha256 {
                check_sha256(&field("photo_sha256"), hash)?;
            }
            if let Some(prev) = previous {
                range(
                    &field("date"),
                    p.date >= prev.date,
                    "progress reports go in date order",
                )?;
                consistent(
                    &field("percent"),
                    p.percent >= prev.percent,
                    "progress is cumulative: the percent cannot fall",
                )?;
                consistent(
                    &field("disbursed"),
                    p.disbursed >= prev.disbursed,
                    "disbursement is cumulative: it cannot fall",
                )?;
            }
            previous = Some(p);
        }
        if let Some(publicity) = &self.publicity {
            if let (Some(listed), Some(done)) = (publicity.listing_date, publicity.completion_date)
            {
                range(
                    "publicity.completion_date",
                    done >= listed,
                    "completion is announced after the project was listed",
                )?;
            }
            if publicity.completion_date.is_some() {
                consistent(
                    "publicity.completion_date",
                    self.is_complete(),
                    "completion is announced once progress reaches 100%",
                )?;
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &PROJECT_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        let b = self.beneficiaries.as_ref();
        let latest = self.latest_progress();
        let publicity = self.publicity.as_ref();
        let f = &self.funding;
        rows.push(
            "p_project",
            vec![
                ("name", self.name.sql()),
                ("category", self.category.sql()),
                ("village_code", self.village_code.sql()),
                ("households", b.map(|b| b.households).sql()),
                ("persons", b.and_then(|b| b.persons).sql()),
                ("fiscal_special", f.fiscal_special.sql()),
                ("integrated", f.integrated.sql()),
                ("sending_unit", f.sending_unit.sql()),
                ("self_raised", f.self_raised.sql()),
                ("total_funding", f.total().sql()),
                ("planned_start", self.planned_start.sql()),
                ("planned_end", self.planned_end.sql()),
                ("percent", latest.map(|p| p.percent).sql()),
                ("disbursed", latest.map(|p| p.disbursed).sql()),
                ("progress_date", latest.map(|p| p.date).sql()),
                ("listing_date", publicity.and_then(|p| p.listing_date).sql()),
                (
                    "completion_date",
                    publicity.and_then(|p| p.completion_date).sql(),
                ),
                ("state", env.state.code().sql()),
            ],
        );
        for p in &self.progress {
            rows.push(
                "p_project_progress",
                vec![
                    ("village_code", self.village_code.sql()),
                    ("progress_date", p.date.sql()),
                    ("percent", p.percent.sql()),
                    ("disbursed", p.disbursed.sql()),
                    ("photo_sha256", p.photo_sha256.sql()),
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
        let p = Project::example();
        assert_eq!(p.validate(), Ok(()));
        assert_round_trips(&p);
        assert_eq!(p.funding.total(), Money::from_yuan(260_000));
        assert!(p.is_complete());
        assert_eq!(p.scope(), ScopeHint::Village("530322101201".into()));
    }

    #[test]
    fn progress_is_cumulative() {
        let mut p = Project::example();
        p.progress[1].percent = 30;
        assert_invalid(&p, "progress.1.percent", Problem::Inconsistent);

        let mut p = Project::example();
        p.progress[1].disbursed = Money::from_yuan(70_000);
        assert_invalid(&p, "progress.1.disbursed", Problem::Inconsistent);

        let mut p = Project::example();
        p.progress[1].date = date("2016-04-14");
        assert_invalid(&p, "progress.1.date", Problem::OutOfRange);

        let mut p = Project::example();
        p.progress[0].percent = 101;
        assert_invalid(&p, "progress.0.percent", Problem::OutOfRange);

        let mut p = Project::example();
        p.progress[1].disbursed = Money::from_yuan(260_001);
        assert_invalid(&p, "progress.1.disbursed", Problem::Inconsistent);
        p.progress[1].disbursed = Money::from_yuan(260_000);
        assert_eq!(p.validate(), Ok(()), "all of it may be disbursed");

        let mut p = Project::example();
        p.progress[0].photo_sha256 = Some("ABC".into());
        assert_invalid(&p, "progress.0.photo_sha256", Problem::Malformed);
    }

    #[test]
    fn funding_is_non_negative_and_not_nothing() {
        let mut p = Project::example();
        p.funding.self_raised = Money::from_yuan(-1);
        assert_invalid(&p, "funding.self_raised", Problem::OutOfRange);

        let mut p = Project::example();
        p.funding = Funding {
            fiscal_special: Money::ZERO,
            integrated: Money::ZERO,
            sending_unit: Money::ZERO,
            self_raised: Money::ZERO,
        };
        p.progress.clear();
        p.publicity = None;
        assert_invalid(&p, "funding", Problem::Required);

        let err = json_error::<Project>(edited_json(&Project::example(), |m| {
            m["funding"]
                .as_object_mut()
                .expect("object")
                .remove("integrated");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("funding.integrated", Problem::Required)
        );
    }

    #[test]
    fn dates_beneficiaries_and_notices() {
        let mut p = Project::example();
        p.planned_end = date("2016-02-28");
        assert_invalid(&p, "planned_end", Problem::OutOfRange);

        let mut p = Project::example();
        p.beneficiaries = Some(Beneficiaries {
            households: 23,
            persons: Some(20),
        });
        assert_invalid(&p, "beneficiaries.persons", Problem::Inconsistent);

        let mut p = Project::example();
        p.progress.pop();
        assert_invalid(&p, "publicity.completion_date", Problem::Inconsistent);

        let mut p = Project::example();
        p.publicity = Some(ProjectPublicity {
            listing_date: Some(date("2016-07-01")),
            completion_date: Some(date("2016-06-28")),
        });
        assert_invalid(&p, "publicity.completion_date", Problem::OutOfRange);

        let mut p = Project::example();
        p.performance_target = String::new();
        assert_invalid(&p, "performance_target", Problem::Required);

        let err = json_error::<Project>(edited_json(&Project::example(), |m| {
            m.insert("category".into(), json!("产业扶贫"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("category", Problem::UnknownCode)
        );
    }

    #[test]
    fn projection() {
        let rows = project(&Project::example());
        assert_eq!(
            cell(&rows, "p_project", 0, "total_funding"),
            &Value::Integer(26_000_000)
        );
        assert_eq!(cell(&rows, "p_project", 0, "percent"), &Value::Integer(100));
        assert_eq!(
            cell(&rows, "p_project", 0, "progress_date"),
            &text("2016-06-20")
        );
        assert_eq!(
            cell(&rows, "p_project", 0, "category"),
            &text("infrastructure")
        );
        assert_eq!(count(&rows, "p_project_progress"), 2);
        assert_eq!(
            cell(&rows, "p_project_progress", 0, "disbursed"),
            &Value::Integer(8_000_000)
        );

        let fresh = Project {
            progress: vec![],
            publicity: None,
            beneficiaries: None,
            ..Project::example()
        };
        let rows = project(&fresh);
        assert_eq!(cell(&rows, "p_project", 0, "percent"), &Value::Null);
        assert_eq!(cell(&rows, "p_project", 0, "households"), &Value::Null);
        assert_eq!(count(&rows, "p_project_progress"), 0);
    }
}
