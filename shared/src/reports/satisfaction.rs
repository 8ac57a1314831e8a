//! Report 6, the satisfaction rate 满意率 (one of the 四率), with R14's village flag.
//!
//! A survey belongs to P when its period (a year or a quarter) ends inside P; the latest one
//! per household is the one with the latest period, then the latest server receipt. Sources:
//! 乡镇核查, 县级暗访 and 第三方评估 by default; surveys collected by the pairing cadres
//! themselves (帮扶干部走访) are shown separately, never mixed in.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::spec::{
    Column, ColumnType as T, ExportColumn, FROM, Field, ParamKind, ReportRow, ReportSpec, Show, TO,
    ToCell, param,
};

use super::{DateRange, HouseholdFact, StatusEventFact, ratio, registered_at};
use crate::domain::codes::{Satisfaction, SurveySource};
use crate::values::Date;

/// A survey, as report 6 needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyFact {
    pub household_id: String,
    /// The last day of the survey's period.
    pub period_end: Date,
    pub source: SurveySource,
    pub result: Satisfaction,
    /// `server_received_ts` (RFC 3339 UTC), the tie-break between surveys of one period.
    pub received: String,
}

#[derive(Debug, Default)]
pub struct SatisfactionFacts {
    pub households: Vec<HouseholdFact>,
    pub status_changes: Vec<StatusEventFact>,
    pub surveys: Vec<SurveyFact>,
    pub village_names: HashMap<String, String>,
    /// The team leader (第一书记) of each village, flagged by R14.
    pub first_secretaries: HashMap<String, String>,
}

/// The counts of one group of surveys.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Tally {
    pub surveyed: u64,
    pub satisfied: u64,
    pub fairly_satisfied: u64,
    pub dissatisfied: u64,
    pub cannot_say: u64,
    /// `(满意 + 基本满意) / surveyed` (说不清 stays in the denominator).
    pub rate: Option<f64>,
    /// `满意 / surveyed`.
    pub strict: Option<f64>,
    /// `surveyed / registered`.
    pub sample: Option<f64>,
}

impl Tally {
    fn add(&mut self, r: Satisfaction) {
        self.surveyed += 1;
        match r {
            Satisfaction::Satisfied => self.satisfied += 1,
            Satisfaction::FairlySatisfied => self.fairly_satisfied += 1,
            Satisfaction::Dissatisfied => self.dissatisfied += 1,
            Satisfaction::CannotSay => self.cannot_say += 1,
        }
    }

    fn finish(&mut self, registered: u64) {
        self.rate = ratio(self.satisfied + self.fairly_satisfied, self.surveyed);
        self.strict = ratio(self.satisfied, self.surveyed);
        self.sample = ratio(self.surveyed, registered);
    }
}

/// One village.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct SatisfactionRow {
    pub village_code: String,
    pub village_name: Option<String>,
    pub registered: u64,
    /// Surveys by 乡镇核查 / 县级暗访 / 第三方评估.
    pub official: Tally,
    /// Surveys by the pairing cadres (帮扶干部走访), shown separately.
    pub cadre_collected: Tally,
    /// R14: the official rate is below the threshold (90%⚙).
    pub below_threshold: bool,
    /// The village's first secretary, whom R14 flags (一票否决 risk).
    pub first_secretary_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SatisfactionSummary {
    pub registered: u64,
    pub official: Tally,
    pub cadre_collected: Tally,
    pub threshold: f64,
    pub villages_below_threshold: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SatisfactionReport {
    pub summary: SatisfactionSummary,
    pub rows: Vec<SatisfactionRow>,
}

/// Report 6 over P: the latest survey in P per registered household (registered at P.end);
/// `rate = (满意 + 基本满意) / surveyed`, `strict = 满意 / surveyed`, `sample = surveyed /
/// registered`; villages whose official rate is below `threshold` are flagged (R14).
pub fn satisfaction(f: &SatisfactionFacts, p: DateRange, threshold: f64) -> SatisfactionReport {
    let mut changes: HashMap<&str, Vec<&StatusEventFact>> = HashMap::new();
    for c in &f.status_changes {
        changes.entry(&c.household_id).or_default().push(c);
    }
    let registered: Vec<&HouseholdFact> = f
        .households
        .iter()
        .filter(|h| registered_at(h, changes.get(h.id.as_str()).map_or(&[][..], |v| v), p.to))
        .collect();
    // Latest in P per (household, official?).
    let mut latest: HashMap<(&str, bool), &SurveyFact> = HashMap::new();
    for s in f.surveys.iter().filter(|s| p.contains(s.period_end)) {
        let official = s.source != SurveySource::PairingCadreVisit;
        let e = latest.entry((&s.household_id, official)).or_insert(s);
        if (s.period_end, &s.received) > (e.period_end, &e.received) {
            *e = s;
        }
    }
    let mut villages: BTreeMap<&str, (u64, Tally, Tally)> = BTreeMap::new();
    let (mut total_official, mut total_cadre) = (Tally::default(), Tally::default());
    for h in &registered {
        let v = villages.entry(&h.village_code).or_default();
        v.0 += 1;
        if let Some(s) = latest.get(&(h.id.as_str(), true)) {
            v.1.add(s.result);
            total_official.add(s.result);
        }
        if let Some(s) = latest.get(&(h.id.as_str(), false)) {
            v.2.add(s.result);
            total_cadre.add(s.result);
        }
    }
    let rows: Vec<SatisfactionRow> = villages
        .into_iter()
        .map(|(code, (registered, mut official, mut cadre))| {
            official.finish(registered);
            cadre.finish(registered);
            SatisfactionRow {
                village_code: code.to_string(),
                village_name: f.village_names.get(code).cloned(),
                registered,
                below_threshold: official.rate.is_some_and(|r| r < threshold),
                official,
                cadre_collected: cadre,
                first_secretary_id: f.first_secretaries.get(code).cloned(),
            }
        })
        .collect();
    let n = registered.len() as u64;
    total_official.finish(n);
    total_cadre.finish(n);
    SatisfactionReport {
        summary: SatisfactionSummary {
            registered: n,
            official: total_official,
            cadre_collected: total_cadre,
            threshold,
            villages_below_threshold: rows.iter().filter(|r| r.below_threshold).count() as u64,
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// The reports' specs (what the list, the OpenAPI document and the export say).

impl ReportRow for SatisfactionRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "satisfaction",
        number: 6,
        title_zh: "群众满意度",
        title_en: "Satisfaction",
        time_basis: super::TimeBasis::RecordDates,
        params: &[
            FROM,
            TO,
            param(
                "threshold",
                false,
                ParamKind::Number { min: 0, max: 100 },
                "R14 threshold in percent; default 90",
            ),
        ],
        summary: &[
            Field::new(
                "registered",
                T::Integer,
                false,
                "households registered at P.end",
            ),
            Field::shared("official", T::Object, "Tally"),
            Field::shared("cadre_collected", T::Object, "Tally"),
            Field::new(
                "threshold",
                T::Number,
                false,
                "R14 threshold as a fraction (0.9)",
            ),
            Field::new(
                "villages_below_threshold",
                T::Integer,
                false,
                "villages flagged by R14",
            ),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::village_code(|r| r.village_code.cell()),
        Column::village_name(|r| r.village_name.cell()),
        Column::new(
            "registered",
            T::Integer,
            false,
            "建档立卡户数",
            "households registered at P.end",
        )
        .show(Show::Number, |r| r.registered.cell()),
        Column::shared(
            "official",
            T::Object,
            "乡镇核查、县级暗访、第三方评估",
            "Tally",
        )
        .parts(&[
            ExportColumn {
                key: "official.surveyed",
                label_zh: "测评户数",
                show: Show::Number,
                get: |r| r.official.surveyed.cell(),
            },
            ExportColumn {
                key: "official.satisfied",
                label_zh: "满意",
                show: Show::Number,
                get: |r| r.official.satisfied.cell(),
            },
            ExportColumn {
                key: "official.fairly_satisfied",
                label_zh: "基本满意",
                show: Show::Number,
                get: |r| r.official.fairly_satisfied.cell(),
            },
            ExportColumn {
                key: "official.dissatisfied",
                label_zh: "不满意",
                show: Show::Number,
                get: |r| r.official.dissatisfied.cell(),
            },
            ExportColumn {
                key: "official.cannot_say",
                label_zh: "说不清",
                show: Show::Number,
                get: |r| r.official.cannot_say.cell(),
            },
            ExportColumn {
                key: "official.rate",
                label_zh: "满意率",
                show: Show::Rate,
                get: |r| r.official.rate.cell(),
            },
            ExportColumn {
                key: "official.strict",
                label_zh: "满意占比",
                show: Show::Rate,
                get: |r| r.official.strict.cell(),
            },
            ExportColumn {
                key: "official.sample",
                label_zh: "测评覆盖率",
                show: Show::Rate,
                get: |r| r.official.sample.cell(),
            },
        ]),
        Column::shared("cadre_collected", T::Object, "帮扶干部自查", "Tally").parts(&[
            ExportColumn {
                key: "cadre_collected.surveyed",
                label_zh: "帮扶干部自查户数",
                show: Show::Number,
                get: |r| r.cadre_collected.surveyed.cell(),
            },
            ExportColumn {
                key: "cadre_collected.rate",
                label_zh: "帮扶干部自查满意率",
                show: Show::Rate,
                get: |r| r.cadre_collected.rate.cell(),
            },
        ]),
        Column::new(
            "below_threshold",
            T::Boolean,
            false,
            "低于标准",
            "R14: official rate below the threshold",
        )
        .show(Show::YesNo, |r| r.below_threshold.cell()),
        Column::new(
            "first_secretary_id",
            T::String,
            true,
            "第一书记",
            "the village's first secretary on P.end",
        )
        .show(Show::Text, |r| r.first_secretary_id.cell()),
    ];
}
