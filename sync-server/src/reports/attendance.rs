//! Report 1, the attendance ledger: its query (`month`, `today`) and the facts it reads; and
//! the township's signatures on it (`ledger_signature` records, issue 16 item 6): the figures a
//! signature hashes ([`current_figures`], the core's canonical form as of the month's last
//! day), the stored signatures ([`stored_signatures`]) and how the report shows them in its
//! summary ([`SignatureStatus`]: by, at, on time by day 10⚙ of the next month, figures changed
//! since). Composing and checking a signature: `crate::ledger` and `crate::checks`.

use chrono::Datelike;
use cunji_core::reports::DateRange;
use cunji_core::reports::attendance::{
    AttendanceFacts, LedgerReport, LedgerRow, LedgerSummary, SignatureStatus, figures_sha256,
    ledger_due_date, rows_in,
};
use cunji_core::rules::attendance::{AttendanceConfig, CheckInFact};
use cunji_core::values::Date;

use super::{Def, Query, ReportError, ReportScope, facts, today};
use crate::store::{RowFilter, StoreResult, Tx};

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
    let mut r = attendance_ledger(tx, scope, first.year(), first.month(), today)?;
    let signed = stored_signatures(tx, scope.filter(), Some(&month_code(first)))?;
    if !signed.is_empty() {
        // Signatures hash the month as of its last day, whatever day this run is as of.
        let at_end = if today == last {
            r.rows.clone()
        } else {
            attendance_ledger(tx, scope, first.year(), first.month(), last)?.rows
        };
        let names = facts::village_names(&facts::villages(tx, scope.filter())?);
        let by_county =
            crate::settings::ByCounty::read(tx, signed.iter().map(|s| s.scope.as_str()))?;
        let default = AttendanceConfig::default();
        r.summary.signatures = signed
            .into_iter()
            .map(|s| {
                let due_day = by_county.of(&s.scope).map_or(default.ledger_due_day, |c| {
                    c.rules.attendance.ledger_due_day
                });
                let current = figures_sha256(&at_end, &s.scope, &s.month);
                let name = names.get(&s.scope).cloned();
                s.status(first, due_day, current, name)
            })
            .collect();
    }
    Ok((r.summary, r.rows))
}

/// `YYYY-MM` of a month's first day.
pub fn month_code(first: Date) -> String {
    first.format("%Y-%m").to_string()
}

/// A stored `ledger_signature` record, as its projection row holds it.
#[derive(Debug, Clone)]
pub struct StoredSignature {
    pub id: String,
    pub scope: String,
    pub month: String,
    pub figures_sha256: String,
    pub signer_id: String,
    pub signer_name: Option<String>,
    /// RFC 3339, China's zone.
    pub signed_at: String,
}

impl StoredSignature {
    /// Signed by day `due_day` of the month after `first`, the day taken in China's zone (the
    /// projection keeps the time in UTC).
    pub fn on_time(&self, first: Date, due_day: u32) -> bool {
        let due = ledger_due_date(first, due_day);
        cunji_core::domain::ledger::china_date(&self.signed_at).is_some_and(|d| d <= due)
    }

    /// How report 1 shows it, given today's figures' hash.
    pub fn status(
        self,
        first: Date,
        due_day: u32,
        current_sha256: String,
        scope_name: Option<String>,
    ) -> SignatureStatus {
        SignatureStatus {
            on_time: self.on_time(first, due_day),
            due: ledger_due_date(first, due_day),
            figures_changed: current_sha256 != self.figures_sha256,
            scope: self.scope,
            scope_name,
            record_id: self.id,
            by: self.signer_id,
            by_name: self.signer_name,
            at: self.signed_at,
            figures_sha256: self.figures_sha256,
            current_sha256,
        }
    }
}

/// The live signatures under `filter` (a division: a township's filter holds its villages'
/// and its own), of `month` when given, sorted by scope then time.
pub fn stored_signatures(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
    month: Option<&str>,
) -> StoreResult<Vec<StoredSignature>> {
    let mut out = facts::load(
        tx,
        "p_ledger_signature",
        &[
            "scope",
            "month",
            "figures_sha256",
            "signer_id",
            "signer_name",
            "signed_at",
            "state",
        ],
        filter,
        |r| {
            r.live(6).then_some(())?;
            let m = r.s(1)?;
            if month.is_some_and(|want| want != m) {
                return None;
            }
            Some(StoredSignature {
                id: r.id(),
                scope: r.s(0)?,
                month: m,
                figures_sha256: r.s(2)?,
                signer_id: r.s(3)?,
                signer_name: r.s(4),
                signed_at: r.s(5)?,
            })
        },
    )?;
    out.sort_by(|a, b| (&a.scope, &a.signed_at).cmp(&(&b.scope, &b.signed_at)));
    Ok(out)
}

/// Report 1's figures for a village's or township's `scope` and the month starting `first`,
/// as a signature holds them: the canonical hash and the number of cadre rows (the month as
/// of its last day).
pub fn current_figures(tx: &mut dyn Tx, scope: &str, first: Date) -> StoreResult<(String, u32)> {
    let level = cunji_core::domain::ledger::scope_level(scope)
        .unwrap_or(cunji_core::domain::ScopeLevel::Village);
    let report_scope = ReportScope {
        level,
        code: scope.to_string(),
    };
    let last = cunji_core::rules::attendance::month_end(first);
    let r = attendance_ledger(tx, &report_scope, first.year(), first.month(), last)?;
    let month = month_code(first);
    Ok((
        figures_sha256(&r.rows, scope, &month),
        rows_in(&r.rows, scope),
    ))
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
