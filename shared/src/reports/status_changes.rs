//! Report 8, 动态调整: cases by type and step, exits missing an R12 prerequisite, and the
//! length of the public notice (公示).
//!
//! A case is in P when it was open at some time in P: its first step is on or before P.end
//! and its latest step on or after P.start (step dates are record dates:
//! [`super::TimeBasis::RecordDates`]). R12 is judged with
//! [`crate::domain::StatusChange::r12_exit_blockers`]'s parts: the procedure part as projected
//! from the case, the household part ([`r12_household_blockers`]) on the case's own snapshot
//! (the income and flags the village recorded when proposing it) against the county's poverty
//! line for the snapshot's income year.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::spec::{
    Column, ColumnType as T, FROM, Field, ParamKind, ReportRow, ReportSpec, Show, TO, ToCell, param,
};

use super::{DateRange, ratio};
use crate::domain::codes::{StatusChangeResult, StatusChangeStep, StatusChangeType};
use crate::domain::status_change::{MIN_PUBLICITY_DAYS, r12_household_blockers};
use crate::values::{Date, Money};

/// A case, as report 8 needs it (one `p_status_change` row).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFact {
    pub id: String,
    pub household_id: String,
    pub village_code: String,
    pub change_type: StatusChangeType,
    pub first_step_date: Option<Date>,
    pub current_step: Option<StatusChangeStep>,
    pub current_step_date: Option<Date>,
    pub result: Option<StatusChangeResult>,
    pub income_year: i32,
    pub snapshot_per_capita: Option<Money>,
    pub snapshot_flags_ok: bool,
    /// R12's procedure blockers, as projected.
    pub procedure_blockers: Vec<String>,
    pub publicity_days: Option<i64>,
}

#[derive(Debug, Default)]
pub struct StatusChangeFacts {
    pub cases: Vec<CaseFact>,
    pub head_names: HashMap<String, String>,
    pub village_names: HashMap<String, String>,
}

/// One case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRow {
    pub case_id: String,
    pub household_id: String,
    pub head_name: Option<String>,
    pub village_code: String,
    pub village_name: Option<String>,
    pub change_type: StatusChangeType,
    pub change_type_label: &'static str,
    pub current_step: Option<StatusChangeStep>,
    pub current_step_label: Option<&'static str>,
    pub current_step_date: Option<Date>,
    pub result: Option<StatusChangeResult>,
    pub result_label: Option<&'static str>,
    pub publicity_days: Option<i64>,
    /// R12 blockers of a 标注脱贫 case (codes; empty when none, and for other types).
    pub r12_blockers: Vec<String>,
    pub r12_blockers_label: String,
}

/// Cases per (type, current step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeStepCount {
    pub change_type: StatusChangeType,
    pub change_type_label: &'static str,
    pub step: Option<StatusChangeStep>,
    pub step_label: Option<&'static str>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicityStats {
    pub cases_with_publicity: u64,
    pub min_days: Option<i64>,
    pub max_days: Option<i64>,
    pub mean_days: Option<f64>,
    /// Notices shorter than R12's 7 days.
    pub shorter_than_minimum: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusChangeSummary {
    pub cases: u64,
    pub by_type_step: Vec<TypeStepCount>,
    pub exits: u64,
    pub exits_missing_prerequisites: u64,
    pub publicity: PublicityStats,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusChangeReport {
    pub summary: StatusChangeSummary,
    pub rows: Vec<CaseRow>,
}

/// The Chinese label of an R12 blocker code.
pub fn blocker_label(code: &str) -> &str {
    match code {
        "per_capita_unknown" => "人均纯收入未录入",
        "per_capita_not_above_line" => "人均纯收入未超过贫困线",
        "flags_not_all_ok" => "两不愁三保障及饮水安全未全部达标",
        "consent_not_signed" => "农户未签字认可",
        "publicity_missing" => "未经村内公示",
        "publicity_not_passed" => "公示未通过",
        "publicity_too_short" => "公示不足7天",
        "objections_unresolved" => "公示异议未处理",
        other => other,
    }
}

/// Report 8 over P; `poverty_line(village_code, year)` is the line of the village's county for
/// an income year (⚙), so a city's report judges each case by its own county.
pub fn status_changes(
    f: &StatusChangeFacts,
    p: DateRange,
    poverty_line: impl Fn(&str, i32) -> Money,
) -> StatusChangeReport {
    let in_p = |c: &&CaseFact| {
        c.first_step_date.is_some_and(|d| d <= p.to)
            && c.current_step_date.is_some_and(|d| d >= p.from)
    };
    let mut counts: BTreeMap<(&str, &str), (StatusChangeType, Option<StatusChangeStep>, u64)> =
        BTreeMap::new();
    let mut rows = Vec::new();
    let mut days = Vec::new();
    for c in f.cases.iter().filter(in_p) {
        let key = (
            c.change_type.code(),
            c.current_step.map_or("", |s| s.code()),
        );
        counts
            .entry(key)
            .or_insert((c.change_type, c.current_step, 0))
            .2 += 1;
        let blockers: Vec<String> = if c.change_type == StatusChangeType::MarkedExit {
            r12_household_blockers(
                c.snapshot_per_capita,
                poverty_line(&c.village_code, c.income_year),
                c.snapshot_flags_ok,
            )
            .into_iter()
            .map(String::from)
            .chain(c.procedure_blockers.iter().cloned())
            .collect()
        } else {
            Vec::new()
        };
        if let Some(d) = c.publicity_days {
            days.push(d);
        }
        rows.push(CaseRow {
            case_id: c.id.clone(),
            household_id: c.household_id.clone(),
            head_name: f.head_names.get(&c.household_id).cloned(),
            village_code: c.village_code.clone(),
            village_name: f.village_names.get(&c.village_code).cloned(),
            change_type: c.change_type,
            change_type_label: c.change_type.label_zh(),
            current_step: c.current_step,
            current_step_label: c.current_step.map(|s| s.label_zh()),
            current_step_date: c.current_step_date,
            result: c.result,
            result_label: c.result.map(|r| r.label_zh()),
            publicity_days: c.publicity_days,
            r12_blockers_label: blockers
                .iter()
                .map(|b| blocker_label(b))
                .collect::<Vec<_>>()
                .join("、"),
            r12_blockers: blockers,
        });
    }
    rows.sort_by(|a, b| {
        (
            a.village_code.as_str(),
            a.household_id.as_str(),
            a.case_id.as_str(),
        )
            .cmp(&(
                b.village_code.as_str(),
                b.household_id.as_str(),
                b.case_id.as_str(),
            ))
    });
    let exits: Vec<&CaseRow> = rows
        .iter()
        .filter(|r| r.change_type == StatusChangeType::MarkedExit)
        .collect();
    let n_days = days.len() as u64;
    StatusChangeReport {
        summary: StatusChangeSummary {
            cases: rows.len() as u64,
            by_type_step: counts
                .into_values()
                .map(|(t, s, count)| TypeStepCount {
                    change_type: t,
                    change_type_label: t.label_zh(),
                    step: s,
                    step_label: s.map(|s| s.label_zh()),
                    count,
                })
                .collect(),
            exits: exits.len() as u64,
            exits_missing_prerequisites: exits.iter().filter(|r| !r.r12_blockers.is_empty()).count()
                as u64,
            publicity: PublicityStats {
                cases_with_publicity: n_days,
                min_days: days.iter().copied().min(),
                max_days: days.iter().copied().max(),
                mean_days: ratio(days.iter().sum::<i64>().max(0) as u64, n_days),
                shorter_than_minimum: days.iter().filter(|d| **d < MIN_PUBLICITY_DAYS).count()
                    as u64,
            },
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// The reports' specs (what the list, the OpenAPI document and the export say).

impl ReportRow for CaseRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "status-changes",
        number: 8,
        title_zh: "动态调整",
        title_en: "Status changes",
        time_basis: super::TimeBasis::RecordDates,
        params: &[
            FROM,
            TO,
            param(
                "poverty_line",
                false,
                ParamKind::Number {
                    min: 0,
                    max: 1_000_000,
                },
                "R12 poverty line in yuan per person-year, for every case; default: each village's county's line (settings rules.adjustment.poverty_lines), else the national line of the income year (2014: 2800, 2015: 2855, 2016 on: 2952)",
            ),
        ],
        summary: &[
            Field::new("cases", T::Integer, false, "cases open at some time in P"),
            Field::new(
                "by_type_step",
                T::Array,
                false,
                "[{change_type, change_type_label, step, step_label, count}]",
            ),
            Field::new("exits", T::Integer, false, "标注脱贫 cases"),
            Field::new(
                "exits_missing_prerequisites",
                T::Integer,
                false,
                "of those, with an R12 blocker",
            ),
            Field::new(
                "publicity",
                T::Object,
                false,
                "{cases_with_publicity, min_days, max_days, mean_days, shorter_than_minimum}",
            ),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new(
            "case_id",
            T::String,
            false,
            "动态调整编号",
            "动态调整 record id",
        ),
        Column::new("household_id", T::String, false, "户编号", "户编号")
            .show(Show::Text, |r| r.household_id.cell()),
        Column::head_name(
            |r: &Self| r.head_name.cell(),
            |r: &mut Self| r.head_name.as_mut(),
        ),
        Column::village_code(|r| r.village_code.cell()),
        Column::village_name(|r| r.village_name.cell()),
        Column::new("change_type", T::String, false, "调整类型代码", "type code"),
        Column::new(
            "change_type_label",
            T::String,
            false,
            "调整类型",
            "调整类型",
        )
        .show(Show::Text, |r| r.change_type_label.cell()),
        Column::new("current_step", T::String, true, "当前环节代码", "step code"),
        Column::new(
            "current_step_label",
            T::String,
            true,
            "当前环节",
            "当前环节",
        )
        .show(Show::Text, |r| r.current_step_label.cell()),
        Column::new(
            "current_step_date",
            T::String,
            true,
            "环节日期",
            "YYYY-MM-DD",
        )
        .show(Show::Text, |r| r.current_step_date.cell()),
        Column::new(
            "result",
            T::String,
            true,
            "结果代码",
            "approved | rejected | withdrawn",
        ),
        Column::new("result_label", T::String, true, "结果", "结果")
            .show(Show::Text, |r| r.result_label.cell()),
        Column::new(
            "publicity_days",
            T::Integer,
            true,
            "公示天数",
            "公示 length, both ends counted",
        )
        .show(Show::Number, |r| r.publicity_days.cell()),
        Column::new(
            "r12_blockers",
            T::Array,
            false,
            "退出条件缺项代码",
            "R12 codes missing for a 标注脱贫 case",
        ),
        Column::new(
            "r12_blockers_label",
            T::String,
            false,
            "退出条件缺项",
            "the same in Chinese, joined with 、",
        )
        .show(Show::Text, |r| r.r12_blockers_label.cell()),
    ];
}
