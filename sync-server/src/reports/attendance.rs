//! Report 1, the attendance ledger: its query (`month`, `today`) and the facts it reads.

use chrono::Datelike;
use cunji_core::reports::DateRange;
use cunji_core::reports::attendance::{AttendanceFacts, LedgerReport, LedgerRow, LedgerSummary};
use cunji_core::rules::attendance::{AttendanceConfig, CheckInFact};
use cunji_core::values::Date;

use super::{Def, Query, ReportError, ReportScope, facts, today};
use crate::store::{StoreResult, Tx};

pub(crate) const LEDGER: Def<LedgerSummary, LedgerRow> = Def { run: ledger_query };

fn ledger_query(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    q: &mut Query<'_>,
) -> Result<(LedgerSummary, Vec<LedgerRow>), ReportError> {
    let first = q.month("month")?;
    let last = cunji_core::rules::attendance::month_days(first.year(), first.month())
        .last()
        .unwrap_or(first);
    let today = q.date("today", Some(today().min(last)))?;
    let r = attendance_ledger(tx, scope, first.year(), first.month(), today)?;
    Ok((r.summary, r.rows))
}

/// Report 1 for one month, as of `today`.
pub fn attendance_ledger(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    year: i32,
    month: u32,
    today: Date,
) -> StoreResult<LedgerReport> {
    let filter = scope.filter();
    let days: Vec<Date> = cunji_core::rules::attendance::month_days(year, month).collect();
    let Some(month_range) = days.first().zip(days.last()).map(|(from, to)| DateRange {
        from: *from,
        to: *to,
    }) else {
        return Ok(cunji_core::reports::attendance::ledger(
            &AttendanceFacts::default(),
            year,
            month,
            today,
            &AttendanceConfig::default(),
        ));
    };
    let villages = facts::villages(tx, filter)?;
    let seats = facts::team_seats(tx, filter)?;
    let cadres: std::collections::HashSet<&str> =
        seats.iter().map(|s| s.cadre_id.as_str()).collect();
    let mut f = AttendanceFacts {
        village_names: facts::village_names(&villages),
        ..AttendanceFacts::default()
    };
    // Only this month's check-ins make its day statuses (the range is read from SQL; the
    // check below keeps the rule in one place should the range be widened).
    for c in facts::checkins(tx, filter, Some(month_range))? {
        if !cadres.contains(c.cadre_id.as_str()) || c.date.year() != year || c.date.month() != month
        {
            continue;
        }
        let inside = villages
            .get(&c.village_code)
            .is_some_and(|v| v.fence.contains(&c.geo));
        f.checkins
            .entry(c.cadre_id.clone())
            .or_default()
            .push(CheckInFact {
                date: c.date,
                time: c.time,
                inside_geofence: inside,
                mock: c.mock,
                clock_drift_s: None,
            });
    }
    for (cadre, l) in facts::leaves(tx, filter)? {
        f.leaves.entry(cadre).or_default().push(l);
    }
    // The ledger reads only the month's logs (R16).
    for (cadre, date, reviewed) in facts::work_logs(tx, filter, Some(month_range))? {
        f.logs.entry(cadre).or_default().push((date, reviewed));
    }
    for (cadre, d) in facts::inspection_absences(tx, filter)? {
        f.inspection_absences.entry(cadre).or_default().push(d);
    }
    // The names of the scope's team cadres only, each read by id: the city's cadre list
    // (80,000 at scale 1, mostly pairing cadres) is not the county ledger's to read.
    for id in &cadres {
        if let Some(name) = facts::cadre_name(tx, id)? {
            f.cadre_names.insert(id.to_string(), name);
        }
    }
    // Each county's ⚙ settings (R1's required days, R2's window…) for its own villages.
    let by_county =
        crate::settings::ByCounty::read(tx, seats.iter().map(|s| s.village_code.as_str()))?;
    f.seats = seats;
    let default = AttendanceConfig::default();
    Ok(cunji_core::reports::attendance::ledger_by_village(
        &f,
        year,
        month,
        today,
        &|village| {
            by_county
                .of(village)
                .map_or(&default, |s| &s.rules.attendance)
        },
    ))
}
