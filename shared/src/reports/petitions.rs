//! Report 7, petitions 信访/群众诉求, with R15.
//!
//! The population is the petitions *received* in P (by their `received_date`, a record date:
//! [`super::TimeBasis::RecordDates`]); `overdue_open` is judged on P.end. R15: open past the
//! due date, and closed without a 回访 within 15 days⚙ of closing.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::spec::{Column, ColumnType as T, Field, PERIOD, ReportRow, ReportSpec, Show, ToCell};

use super::{DateRange, GroupCount, ratio};
use crate::domain::codes::{PetitionChannel, PetitionDomain, PetitionStatus, ReturnVisitResult};
use crate::values::Date;

/// A petition, as report 7 needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PetitionFact {
    pub village_code: String,
    pub received_date: Date,
    pub channel: PetitionChannel,
    pub domain: PetitionDomain,
    pub status: PetitionStatus,
    pub due_date: Date,
    pub closed_date: Option<Date>,
    pub return_visit_date: Option<Date>,
    pub return_visit_result: Option<ReturnVisitResult>,
}

#[derive(Debug, Default)]
pub struct PetitionFacts {
    pub petitions: Vec<PetitionFact>,
    pub village_names: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PetitionCounts {
    pub received: u64,
    pub closed: u64,
    /// `closed / received`.
    pub closure_rate: Option<f64>,
    /// Still open (受理/办理中) on P.end and past their due date (R15).
    pub overdue_open: u64,
    /// Closed, with no 回访 or a 回访 more than 15 days⚙ after closing (R15).
    pub closed_without_timely_return_visit: u64,
    pub with_return_visit: u64,
    pub return_visit_satisfied: u64,
    /// `(满意 + 基本满意) / petitions with a 回访`.
    pub satisfaction: Option<f64>,
}

/// One village.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct PetitionRow {
    pub village_code: String,
    pub village_name: Option<String>,
    #[serde(flatten)]
    pub counts: PetitionCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PetitionSummary {
    #[serde(flatten)]
    pub counts: PetitionCounts,
    /// Received (`total`) and closed (`count`) per domain and per channel.
    pub by_domain: Vec<GroupCount>,
    pub by_channel: Vec<GroupCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PetitionReport {
    pub summary: PetitionSummary,
    pub rows: Vec<PetitionRow>,
}

fn is_closed(p: &PetitionFact, end: Date) -> bool {
    p.status == PetitionStatus::Closed && p.closed_date.is_none_or(|c| c <= end)
}

impl PetitionCounts {
    fn add(&mut self, p: &PetitionFact, end: Date, return_visit_days: i64) {
        self.received += 1;
        let closed = is_closed(p, end);
        if closed {
            self.closed += 1;
            let timely = match (p.closed_date, p.return_visit_date) {
                (Some(c), Some(r)) => (r - c).num_days() <= return_visit_days,
                _ => false,
            };
            if !timely {
                self.closed_without_timely_return_visit += 1;
            }
        }
        if p.status.is_open() && p.due_date < end {
            self.overdue_open += 1;
        }
        if let Some(r) = p.return_visit_result {
            self.with_return_visit += 1;
            if matches!(
                r,
                ReturnVisitResult::Satisfied | ReturnVisitResult::FairlySatisfied
            ) {
                self.return_visit_satisfied += 1;
            }
        }
    }

    fn finish(&mut self) {
        self.closure_rate = ratio(self.closed, self.received);
        self.satisfaction = ratio(self.return_visit_satisfied, self.with_return_visit);
    }
}

fn groups(m: BTreeMap<&str, (&str, u64, u64)>) -> Vec<GroupCount> {
    m.into_iter()
        .map(|(k, (l, t, c))| GroupCount::new(k, l, t, c))
        .collect()
}

/// Report 7 over P: received, closed, `closure_rate = closed / received`, overdue open,
/// breakdown by domain and channel, `satisfaction = (满意 + 基本满意) / petitions with a 回访`.
pub fn petitions(f: &PetitionFacts, p: DateRange, return_visit_days: i64) -> PetitionReport {
    let mut villages: BTreeMap<&str, PetitionCounts> = BTreeMap::new();
    let mut all = PetitionCounts::default();
    // code → (label, received, closed)
    let mut domains: BTreeMap<&str, (&str, u64, u64)> = BTreeMap::new();
    let mut channels: BTreeMap<&str, (&str, u64, u64)> = BTreeMap::new();
    for x in f.petitions.iter().filter(|x| p.contains(x.received_date)) {
        villages
            .entry(&x.village_code)
            .or_default()
            .add(x, p.to, return_visit_days);
        all.add(x, p.to, return_visit_days);
        let closed = u64::from(is_closed(x, p.to));
        for (map, code, label) in [
            (&mut domains, x.domain.code(), x.domain.label_zh()),
            (&mut channels, x.channel.code(), x.channel.label_zh()),
        ] {
            let e = map.entry(code).or_insert((label, 0, 0));
            e.1 += 1;
            e.2 += closed;
        }
    }
    all.finish();
    let rows = villages
        .into_iter()
        .map(|(code, mut counts)| {
            counts.finish();
            PetitionRow {
                village_code: code.to_string(),
                village_name: f.village_names.get(code).cloned(),
                counts,
            }
        })
        .collect();
    PetitionReport {
        summary: PetitionSummary {
            counts: all,
            by_domain: groups(domains),
            by_channel: groups(channels),
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// The reports' specs (what the list, the OpenAPI document and the export say).

impl ReportRow for PetitionRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "petitions",
        number: 7,
        title_zh: "信访及群众诉求",
        title_en: "Petitions and requests",
        time_basis: super::TimeBasis::RecordDates,
        params: &PERIOD,
        summary: &[
            Field::new("received", T::Integer, false, ""),
            Field::new("closed", T::Integer, false, ""),
            Field::new("closure_rate", T::Number, true, ""),
            Field::new("overdue_open", T::Integer, false, ""),
            Field::new("closed_without_timely_return_visit", T::Integer, false, ""),
            Field::new("with_return_visit", T::Integer, false, ""),
            Field::new("return_visit_satisfied", T::Integer, false, ""),
            Field::new("satisfaction", T::Number, true, ""),
            Field::shared("by_domain", T::Array, "GroupCount"),
            Field::shared("by_channel", T::Array, "GroupCount"),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::village_code(|r| r.village_code.cell()),
        Column::village_name(|r| r.village_name.cell()),
        Column::new("received", T::Integer, false, "受理件数", "received in P")
            .show(Show::Number, |r| r.counts.received.cell()),
        Column::new(
            "closed",
            T::Integer,
            false,
            "办结件数",
            "of those, 办结 by P.end",
        )
        .show(Show::Number, |r| r.counts.closed.cell()),
        Column::new(
            "closure_rate",
            T::Number,
            true,
            "办结率",
            "closed / received",
        )
        .show(Show::Rate, |r| r.counts.closure_rate.cell()),
        Column::new(
            "overdue_open",
            T::Integer,
            false,
            "超期未办结件数",
            "open on P.end past due_date (R15)",
        )
        .show(Show::Number, |r| r.counts.overdue_open.cell()),
        Column::new(
            "closed_without_timely_return_visit",
            T::Integer,
            false,
            "办结未及时回访件数",
            "closed with no 回访 within 15 days (R15)",
        )
        .show(Show::Number, |r| {
            r.counts.closed_without_timely_return_visit.cell()
        }),
        Column::new(
            "with_return_visit",
            T::Integer,
            false,
            "已回访件数",
            "petitions with a 回访",
        )
        .show(Show::Number, |r| r.counts.with_return_visit.cell()),
        Column::new(
            "return_visit_satisfied",
            T::Integer,
            false,
            "回访满意件数",
            "回访 满意 or 基本满意",
        ),
        Column::new(
            "satisfaction",
            T::Number,
            true,
            "回访满意率",
            "(满意 + 基本满意) / petitions with a 回访",
        )
        .show(Show::Rate, |r| r.counts.satisfaction.cell()),
    ];
}
