//! Report 8, status changes 动态调整: its query (`from`, `to`, `poverty_line`) and the cases
//! it reads.

use cunji_core::reports::DateRange;
use cunji_core::reports::status_changes::{
    CaseFact, CaseRow, StatusChangeFacts, StatusChangeReport, StatusChangeSummary,
};
use cunji_core::values::Money;

use super::{Def, ReportScope, default_poverty_line, facts};
use crate::store::{StoreResult, Tx};

pub(crate) const STATUS_CHANGES: Def<StatusChangeSummary, CaseRow> = Def {
    run: |tx, scope, q| {
        let p = q.period()?;
        let line = q
            .number("poverty_line")?
            .map(|y| Money::from_fen((y * 100.0).round() as i64));
        let r = status_changes(tx, scope, p, line)?;
        Ok((r.summary, r.rows))
    },
};

/// Report 8 over P; `poverty_line` overrides the line of every case (else each case's county's
/// line of its income year, [`cunji_core::rules::adjustment::AdjustmentConfig::poverty_line`]).
pub fn status_changes(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
    poverty_line: Option<Money>,
) -> StoreResult<StatusChangeReport> {
    use cunji_core::domain::codes::{StatusChangeResult, StatusChangeStep, StatusChangeType};
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    let cases = facts::load(
        tx,
        "p_status_change",
        &[
            "household_id",
            "change_type",
            "first_step_date",
            "current_step",
            "current_step_date",
            "result",
            "income_year",
            "snapshot_per_capita",
            "snapshot_flags_ok",
            "procedure_blockers",
            "publicity_days",
            "state",
        ],
        filter,
        |r| {
            r.live(11).then_some(())?;
            Some(CaseFact {
                id: r.id(),
                village_code: r.doc_village()?,
                household_id: r.s(0)?,
                change_type: r.s(1).as_deref().and_then(StatusChangeType::from_code)?,
                first_step_date: r.date(2),
                current_step: r.s(3).as_deref().and_then(StatusChangeStep::from_code),
                current_step_date: r.date(4),
                result: r.s(5).as_deref().and_then(StatusChangeResult::from_code),
                income_year: r.i(6)? as i32,
                snapshot_per_capita: r.i(7).map(Money::from_fen),
                snapshot_flags_ok: r.b(8),
                procedure_blockers: r
                    .s(9)
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                publicity_days: r.i(10),
            })
        },
    )?;
    let head_names = facts::households(tx, filter)?
        .into_iter()
        .filter_map(|h| Some((h.id, h.head_name?)))
        .collect();
    let f = StatusChangeFacts {
        cases,
        head_names,
        village_names: facts::village_names(&villages),
    };
    let by_county =
        crate::settings::ByCounty::read(tx, f.cases.iter().map(|c| c.village_code.as_str()))?;
    Ok(cunji_core::reports::status_changes::status_changes(
        &f,
        p,
        |village, year| match poverty_line {
            Some(line) => line,
            None => by_county.of(village).map_or_else(
                || default_poverty_line(year),
                |s| s.rules.adjustment.poverty_line(year),
            ),
        },
    ))
}
