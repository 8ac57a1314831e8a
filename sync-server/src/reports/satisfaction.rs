//! Report 6, satisfaction: its query (`from`, `to`, `threshold`) and the surveys it reads.

use std::collections::HashMap;

use cunji_core::reports::DateRange;
use cunji_core::reports::satisfaction::{
    SatisfactionFacts, SatisfactionReport, SatisfactionRow, SatisfactionSummary, SurveyFact,
};
use cunji_core::values::Date;

use super::{Def, ReportScope, facts};
use crate::store::{StoreResult, Tx};

pub(crate) const SATISFACTION: Def<SatisfactionSummary, SatisfactionRow> = Def {
    run: |tx, scope, q| {
        let p = q.period()?;
        let threshold = q.number("threshold")?.unwrap_or(90.0) / 100.0;
        let r = satisfaction(tx, scope, p, threshold)?;
        Ok((r.summary, r.rows))
    },
};

/// Report 6 over P, `threshold` a fraction (0.9).
pub fn satisfaction(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
    threshold: f64,
) -> StoreResult<SatisfactionReport> {
    use cunji_core::domain::codes::{Satisfaction, SurveySource};
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    let surveys = facts::load(
        tx,
        "p_survey",
        &["household_id", "period", "source", "result", "state"],
        filter,
        |r| {
            r.submitted(4).then_some(())?;
            let period = cunji_core::domain::survey::Period::parse(&r.s(1)?)?;
            let end = match period.quarter {
                None => Date::from_ymd_opt(period.year, 12, 31)?,
                Some(q) => {
                    let next = u32::from(q) * 3 + 1;
                    if next > 12 {
                        Date::from_ymd_opt(period.year, 12, 31)?
                    } else {
                        Date::from_ymd_opt(period.year, next, 1)?.pred_opt()?
                    }
                }
            };
            Some(SurveyFact {
                household_id: r.s(0)?,
                period_end: end,
                source: r.s(2).as_deref().and_then(SurveySource::from_code)?,
                result: r.s(3).as_deref().and_then(Satisfaction::from_code)?,
                received: r.received(),
            })
        },
    )?;
    let first_secretaries: HashMap<String, String> = facts::team_seats(tx, filter)?
        .into_iter()
        .filter(|s| s.is_leader && s.period.contains(p.to))
        .map(|s| (s.village_code, s.cadre_id))
        .collect();
    let f = SatisfactionFacts {
        households: facts::households(tx, filter)?,
        status_changes: facts::status_events(tx, filter)?,
        surveys,
        village_names: facts::village_names(&villages),
        first_secretaries,
    };
    Ok(cunji_core::reports::satisfaction::satisfaction(
        &f, p, threshold,
    ))
}
