//! Reports 2–4 and 9 over the visits (coverage, duty compliance, households not visited,
//! integrity): their queries and the facts they share.

use cunji_core::reports::DateRange;
use cunji_core::reports::evidence::EvidenceConfig;
use cunji_core::reports::visits::{
    CoverageReport, CoverageRow, CoverageSummary, DutyReport, DutyRow, DutySummary,
    IntegrityReport, IntegrityRow, IntegritySummary, NotVisitedReport, NotVisitedRow,
    NotVisitedSummary, VisitFacts,
};
use cunji_core::values::Date;

use super::{Def, ReportScope, ScopeLevel, facts, today};
use crate::store::{StoreResult, Tx};

pub(crate) const COVERAGE: Def<CoverageSummary, CoverageRow> = Def {
    run: |tx, scope, q| {
        let r = visit_coverage(tx, scope, q.period()?)?;
        Ok((r.summary, r.rows))
    },
};

pub(crate) const DUTY: Def<DutySummary, DutyRow> = Def {
    run: |tx, scope, q| {
        let d = q.date("date", Some(today()))?;
        // R5's interval: the county's ⚙ setting for a scope inside one county, DOMAIN's
        // 60 days for a city (whose counties may differ: pass `interval_days` to choose).
        let default_interval = match ScopeLevel::County.part_of(&scope.code) {
            Some(county) => {
                crate::settings::effective(tx, Some(county))?
                    .settings
                    .rules
                    .visits
                    .interval_days
            }
            None => cunji_core::rules::visits::VisitConfig::default().interval_days,
        };
        let interval = q.int("interval_days", Some(default_interval))?;
        let r = duty_compliance(tx, scope, d, interval)?;
        Ok((r.summary, r.rows))
    },
};

pub(crate) const NOT_VISITED: Def<NotVisitedSummary, NotVisitedRow> = Def {
    run: |tx, scope, q| {
        let d = q.date("date", Some(today()))?;
        let n = q.int("days", None)?;
        let r = not_visited(tx, scope, d, n)?;
        Ok((r.summary, r.rows))
    },
};

pub(crate) const INTEGRITY: Def<IntegritySummary, IntegrityRow> = Def {
    run: |tx, scope, q| {
        let r = integrity(tx, scope, q.period()?)?;
        Ok((r.summary, r.rows))
    },
};

/// The facts reports 2–4 and 9 share.
pub fn visit_facts(tx: &mut dyn Tx, scope: &ReportScope) -> StoreResult<VisitFacts> {
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    Ok(VisitFacts {
        households: facts::households(tx, filter)?,
        status_changes: facts::status_events(tx, filter)?,
        assignments: facts::assignments(tx, filter)?,
        visits: facts::visits(tx, filter, None, true)?,
        checkins: facts::checkin_points(&facts::checkins(tx, filter, None)?),
        cadres: facts::cadres(tx)?,
        villages: facts::village_names(&villages),
        inspection_checks: facts::inspection_checks(tx, filter)?,
    })
}

/// The facts report 2 reads: [`visit_facts`] without what coverage does not look at (R9's
/// photo hashes, check-ins and inspections) and with only the visits that started in P
/// (a visit outside P covers nothing in P).
pub fn coverage_facts(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
) -> StoreResult<VisitFacts> {
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    Ok(VisitFacts {
        households: facts::households(tx, filter)?,
        status_changes: facts::status_events(tx, filter)?,
        assignments: facts::assignments(tx, filter)?,
        visits: facts::visits(tx, filter, Some(p), false)?,
        checkins: Vec::new(),
        cadres: facts::cadres(tx)?,
        villages: facts::village_names(&villages),
        inspection_checks: Vec::new(),
    })
}

/// Report 2 over P.
pub fn visit_coverage(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
) -> StoreResult<CoverageReport> {
    let f = coverage_facts(tx, scope, p)?;
    Ok(cunji_core::reports::visits::coverage(
        &f,
        p,
        &EvidenceConfig::default(),
    ))
}

/// Report 3 at D.
pub fn duty_compliance(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    d: Date,
    interval_days: i64,
) -> StoreResult<DutyReport> {
    let f = visit_facts(tx, scope)?;
    Ok(cunji_core::reports::visits::duty(
        &f,
        d,
        interval_days,
        &EvidenceConfig::default(),
    ))
}

/// Report 4 at D for N days.
pub fn not_visited(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    d: Date,
    n: i64,
) -> StoreResult<NotVisitedReport> {
    let f = visit_facts(tx, scope)?;
    Ok(cunji_core::reports::visits::not_visited(
        &f,
        d,
        n,
        &EvidenceConfig::default(),
    ))
}

/// Report 9 over P.
pub fn integrity(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
) -> StoreResult<IntegrityReport> {
    let f = visit_facts(tx, scope)?;
    Ok(cunji_core::reports::visits::integrity(
        &f,
        p,
        &EvidenceConfig::default(),
    ))
}
