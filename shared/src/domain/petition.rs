//! A petition (信访/群众诉求, DOMAIN §2.7): what a villager raised, who handles it, by when,
//! how it was closed and what the petitioner said at the return visit (回访).
//!
//! One addition to DOMAIN's fields: `village_code`. An anonymous petition (匿名, no
//! `household_id`) still belongs to a village, and the village decides who may read and
//! handle it (DOMAIN §1), so the record carries it.
//!
//! Not here: the R15 report itself (petitions open past their due date, petitions closed
//! without a timely return visit across a township). It is a query over `p_petition`; the
//! per-record tests it applies are [`Petition::is_overdue`] and
//! [`Petition::lacks_timely_return_visit`].

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{
    PetitionChannel, PetitionDomain, PetitionSource, PetitionStatus, ReturnVisitResult,
    SubjectLevel,
};
use super::org::{code_text, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::Date;

/// Days from receipt to the default due date (⚙; seed 000 gives 60).
pub const DEFAULT_DUE_DAYS: i64 = 60;

/// A petition or request from the public.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Petition {
    pub received_date: Date,
    pub channel: PetitionChannel,
    pub source: PetitionSource,
    /// The petitioner's household; `None` for an anonymous petition (匿名).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<String>,
    /// The village the petition concerns (not in DOMAIN: needed to scope anonymous ones).
    pub village_code: String,
    pub domain: PetitionDomain,
    /// The rank of the official complained about, when the petition is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_level: Option<SubjectLevel>,
    pub summary: String,
    /// The cadre responsible for handling it.
    pub handler_id: String,
    /// Usually [`Petition::default_due`] of the received date; a county may set another term.
    pub due_date: Date,
    pub status: PetitionStatus,
    /// How it was handled; required once the petition is 办结.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Required once the petition is 办结.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_visit: Option<ReturnVisit>,
    /// The county poverty office's assignment of the handler and due date (R15), in its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<super::worklog::Review>,
    /// What the handler did, in order (办理进展), each in the handler's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<super::worklog::Review>,
}

/// The return visit (回访) after a petition was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReturnVisit {
    pub date: Date,
    pub result: ReturnVisitResult,
}

impl Petition {
    /// The default due date: [`DEFAULT_DUE_DAYS`] after receipt.
    pub fn default_due(received: Date) -> Date {
        received + chrono::Duration::days(DEFAULT_DUE_DAYS)
    }

    /// R15: still open on `as_of`, after its due date.
    pub fn is_overdue(&self, as_of: Date) -> bool {
        self.status.is_open() && as_of > self.due_date
    }

    /// R15: closed (办结), and by `as_of` more than `window_days` (⚙, 15) have passed since
    /// without a return visit within them.
    pub fn lacks_timely_return_visit(&self, as_of: Date, window_days: i64) -> bool {
        let Some(closed) = self
            .closed_date
            .filter(|_| self.status == PetitionStatus::Closed)
        else {
            return false;
        };
        let deadline = closed + chrono::Duration::days(window_days);
        match &self.return_visit {
            Some(rv) => rv.date > deadline,
            None => as_of > deadline,
        }
    }

    /// A valid example record: a closed petition from the example household about its
    /// dangerous-house renovation, for tests, docs and the demo.
    pub fn example() -> Self {
        let received = Date::from_ymd_opt(2015, 10, 9).expect("valid date");
        Petition {
            received_date: received,
            channel: PetitionChannel::InPerson,
            source: PetitionSource::PublicComplaint,
            household_id: Some("hh-530322101201-0007".into()),
            village_code: "530322101201".into(),
            domain: PetitionDomain::HousingRenovation,
            subject_level: None,
            summary: "张建国反映:家中土木房屋鉴定为C级危房,已交申请一个月,危房改造补助尚无答复"
                .into(),
            handler_id: "cadre-wang-fang".into(),
            due_date: Petition::default_due(received),
            status: PetitionStatus::Closed,
            resolution: Some(
                "经核实已列入2015年第二批危房改造计划,乡镇住建所已上门测量,补助按进度拨付".into(),
            ),
            closed_date: Some(Date::from_ymd_opt(2015, 11, 2).expect("valid date")),
            return_visit: Some(ReturnVisit {
                date: Date::from_ymd_opt(2015, 11, 10).expect("valid date"),
                result: ReturnVisitResult::Satisfied,
            }),
            assignment: None,
            progress: Vec::new(),
        }
    }
}

static PETITION_TABLES: [Table; 1] = [Table {
    name: "p_petition",
    columns: &[
        ("received_date", SqlType::Text),
        ("channel", SqlType::Text),
        ("source", SqlType::Text),
        ("household_id", SqlType::Text),
        ("village_code", SqlType::Text),
        ("domain", SqlType::Text),
        ("subject_level", SqlType::Text),
        ("handler_id", SqlType::Text),
        ("due_date", SqlType::Text),
        ("status", SqlType::Text),
        ("closed_date", SqlType::Text),
        ("return_visit_date", SqlType::Text),
        ("return_visit_result", SqlType::Text),
        ("assigned_by", SqlType::Text),
        ("author_id", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[
        &["village_code", "received_date"],
        &["household_id"],
        &["status", "due_date"],
        &["handler_id", "status"],
    ],
}];

impl Record for Petition {
    const KIND: Kind = Kind::Petition;

    fn scope(&self) -> ScopeHint {
        match &self.household_id {
            Some(h) => ScopeHint::Household(h.clone()),
            None => ScopeHint::Village(self.village_code.clone()),
        }
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.received_date)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if let Some(h) = &self.household_id {
            code_text("household_id", h)?;
        }
        code_text("village_code", &self.village_code)?;
        non_empty("summary", &self.summary)?;
        non_empty("handler_id", &self.handler_id)?;
        range(
            "due_date",
            self.due_date >= self.received_date,
            "a petition falls due after it is received",
        )?;
        opt_text("resolution", &self.resolution)?;
        let closed = self.status == PetitionStatus::Closed;
        if closed {
            if self.resolution.is_none() {
                return Err(ValidationError::new(
                    "resolution",
                    Problem::Required,
                    "a closed (办结) petition says how it was resolved",
                ));
            }
            if self.closed_date.is_none() {
                return Err(ValidationError::new(
                    "closed_date",
                    Problem::Required,
                    "a closed (办结) petition needs the date it was closed",
                ));
            }
        }
        if let Some(closed_date) = self.closed_date {
            consistent(
                "closed_date",
                !self.status.is_open(),
                "an open petition has no closing date",
            )?;
            range(
                "closed_date",
                closed_date >= self.received_date,
                "a petition is closed after it is received",
            )?;
        }
        if let Some(rv) = &self.return_visit {
            consistent(
                "return_visit",
                closed,
                "a return visit follows a closed (办结) petition",
            )?;
            if let Some(closed_date) = self.closed_date {
                range(
                    "return_visit.date",
                    rv.date >= closed_date,
                    "the return visit comes after the petition was closed",
                )?;
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &PETITION_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        let rv = self.return_visit.as_ref();
        rows.push(
            "p_petition",
            vec![
                ("received_date", self.received_date.sql()),
                ("channel", self.channel.sql()),
                ("source", self.source.sql()),
                ("household_id", self.household_id.sql()),
                ("village_code", self.village_code.sql()),
                ("domain", self.domain.sql()),
                ("subject_level", self.subject_level.sql()),
                ("handler_id", self.handler_id.sql()),
                ("due_date", self.due_date.sql()),
                ("status", self.status.sql()),
                ("closed_date", self.closed_date.sql()),
                ("return_visit_date", rv.map(|r| r.date).sql()),
                ("return_visit_result", rv.map(|r| r.result).sql()),
                (
                    "assigned_by",
                    self.assignment
                        .as_ref()
                        .map(|a| a.reviewer_id.as_str())
                        .sql(),
                ),
                ("author_id", env.author_id.sql()),
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
        assert_invalid, assert_round_trips, cell, date, edited_json, json_error, project, text,
    };

    fn open() -> Petition {
        Petition {
            status: PetitionStatus::InProgress,
            resolution: None,
            closed_date: None,
            return_visit: None,
            ..Petition::example()
        }
    }

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let p = Petition::example();
        assert_eq!(p.validate(), Ok(()));
        assert_round_trips(&p);
        assert_eq!(open().validate(), Ok(()));
    }

    #[test]
    fn the_default_due_date_is_sixty_days_after_receipt() {
        assert_eq!(
            Petition::default_due(date("2015-10-09")),
            date("2015-12-08")
        );
        assert_eq!(
            Petition::default_due(date("2016-01-15")),
            date("2016-03-15"),
            "2016 is a leap year"
        );
    }

    #[test]
    fn a_closed_petition_needs_its_date_and_resolution() {
        let mut p = Petition::example();
        p.closed_date = None;
        assert_invalid(&p, "closed_date", Problem::Required);

        let mut p = Petition::example();
        p.resolution = None;
        assert_invalid(&p, "resolution", Problem::Required);

        let mut p = Petition::example();
        p.closed_date = Some(date("2015-10-08"));
        p.return_visit = None;
        assert_invalid(&p, "closed_date", Problem::OutOfRange);
        p.closed_date = Some(date("2015-10-09"));
        assert_eq!(p.validate(), Ok(()), "closed the day it came in");

        let mut p = open();
        p.closed_date = Some(date("2015-11-02"));
        assert_invalid(&p, "closed_date", Problem::Inconsistent);
        p.status = PetitionStatus::NotAccepted;
        assert_eq!(p.validate(), Ok(()), "a rejection may carry its date");
    }

    #[test]
    fn a_return_visit_follows_the_closing() {
        let mut p = Petition::example();
        if let Some(rv) = p.return_visit.as_mut() {
            rv.date = date("2015-11-01");
        }
        assert_invalid(&p, "return_visit.date", Problem::OutOfRange);

        let mut p = open();
        p.return_visit = Petition::example().return_visit;
        assert_invalid(&p, "return_visit", Problem::Inconsistent);

        let err = json_error::<Petition>(edited_json(&Petition::example(), |m| {
            m.insert(
                "return_visit".into(),
                json!({"date": "2015-11-10", "result": "说不清"}),
            );
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("return_visit.result", Problem::UnknownCode)
        );
    }

    #[test]
    fn dates_and_required_text() {
        let mut p = Petition::example();
        p.due_date = date("2015-10-08");
        assert_invalid(&p, "due_date", Problem::OutOfRange);

        let mut p = Petition::example();
        p.summary = " ".into();
        assert_invalid(&p, "summary", Problem::Required);

        let mut p = Petition::example();
        p.village_code = String::new();
        assert_invalid(&p, "village_code", Problem::Required);

        let mut p = Petition::example();
        p.household_id = Some("hh 7".into());
        assert_invalid(&p, "household_id", Problem::Malformed);

        let err = json_error::<Petition>(edited_json(&Petition::example(), |m| {
            m.remove("village_code");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("village_code", Problem::Required)
        );
    }

    #[test]
    fn an_anonymous_petition_belongs_to_its_village() {
        let p = Petition::example();
        assert_eq!(
            p.scope(),
            ScopeHint::Household("hh-530322101201-0007".into())
        );
        let anonymous = Petition {
            household_id: None,
            ..p
        };
        assert_eq!(anonymous.validate(), Ok(()));
        assert_eq!(anonymous.scope(), ScopeHint::Village("530322101201".into()));
        assert_eq!(anonymous.subject_cadre(), None);
    }

    #[test]
    fn r15_overdue_and_late_return_visits() {
        let p = open();
        assert!(!p.is_overdue(date("2015-12-08")), "due that day");
        assert!(p.is_overdue(date("2015-12-09")));
        assert!(
            !Petition::example().is_overdue(date("2016-06-01")),
            "closed"
        );

        // Closed on 11-02; the return visit on 11-10 is within 15 days.
        let p = Petition::example();
        assert!(!p.lacks_timely_return_visit(date("2016-06-01"), 15));
        let mut late = p.clone();
        if let Some(rv) = late.return_visit.as_mut() {
            rv.date = date("2015-11-18");
        }
        assert!(late.lacks_timely_return_visit(date("2016-06-01"), 15));
        let none = Petition {
            return_visit: None,
            ..p
        };
        assert!(!none.lacks_timely_return_visit(date("2015-11-17"), 15));
        assert!(none.lacks_timely_return_visit(date("2015-11-18"), 15));
        assert!(!open().lacks_timely_return_visit(date("2016-06-01"), 15));
    }

    #[test]
    fn projection() {
        let rows = project(&Petition::example());
        assert_eq!(cell(&rows, "p_petition", 0, "status"), &text("closed"));
        assert_eq!(
            cell(&rows, "p_petition", 0, "due_date"),
            &text("2015-12-08")
        );
        assert_eq!(
            cell(&rows, "p_petition", 0, "domain"),
            &text("housing_renovation")
        );
        assert_eq!(
            cell(&rows, "p_petition", 0, "return_visit_result"),
            &text("satisfied")
        );
        let anonymous = Petition {
            household_id: None,
            return_visit: None,
            ..Petition::example()
        };
        let rows = project(&anonymous);
        assert_eq!(cell(&rows, "p_petition", 0, "household_id"), &Value::Null);
        assert_eq!(
            cell(&rows, "p_petition", 0, "return_visit_date"),
            &Value::Null
        );
        assert_eq!(
            cell(&rows, "p_petition", 0, "village_code"),
            &text("530322101201")
        );
    }
}
