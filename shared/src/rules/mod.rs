//! Local rules: what a device can tell a cadre with no network.
//!
//! Each rule is a pure function over plain facts ([`attendance`], [`visits`], [`policy`]),
//! unit-tested against DOMAIN.md's formulas; the methods on [`Store`] here only gather those
//! facts from the projection tables. The ⚙ thresholds are fields of [`RulesConfig`], with
//! DOMAIN's defaults; a county's settings ([`settings::CountySettings`], set by its poverty
//! office on the server and fetched by phones) replace them on the phone.
//!
//! Not here: rules that need every team's data (R4, R8–R9, R14–R16 and the reports): they
//! are the pure functions of [`crate::reports`], which the server runs over its merged
//! projections.

pub mod adjustment;
pub mod approvals;
pub mod attendance;
pub mod feedback;
pub mod policy;
pub mod settings;
pub mod visits;

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::domain::Village;
use crate::domain::codes::DayStatus;
use crate::error::Result;
use crate::store::Store;
use crate::values::{Date, Geo};
use attendance::{AttendanceConfig, CheckInFact, LeaveFact, MonthSummary, Period};
use policy::{DeliveryFact, DeliveryGap, EntitlementFact};
use visits::{AssignmentFact, DueHousehold, VisitConfig, VisitFact};

pub use settings::{
    CheckInPhoto, CountySettings, EffectiveSettings, SettingsProblem, SettingsSource,
};

/// Every county-configurable rule setting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct RulesConfig {
    pub attendance: AttendanceConfig,
    pub visits: VisitConfig,
    /// R12's poverty line and R13's windows.
    pub adjustment: adjustment::AdjustmentConfig,
}

/// A cadre's month: each day's status and the R1 summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CadreMonth {
    pub cadre_id: String,
    pub days: Vec<(Date, DayStatus)>,
    pub summary: MonthSummary,
}

fn parse_date(s: Option<String>) -> Option<Date> {
    s.and_then(|s| Date::parse_from_str(&s, "%Y-%m-%d").ok())
}

impl Store {
    /// R1–R3 for one cadre and one month, as of `today`.
    pub fn attendance_month(
        &self,
        cadre_id: &str,
        year: i32,
        month: u32,
        today: Date,
        cfg: &AttendanceConfig,
    ) -> Result<CadreMonth> {
        let conn = self.conn();
        let periods: Vec<Period> = conn
            .prepare_cached(
                "SELECT m.from_date, m.to_date FROM p_team_member m
                 JOIN p_team t ON t.doc_id = m.doc_id
                 WHERE m.cadre_id = ?1 AND t.state <> 'void'",
            )?
            .query_map([cadre_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .filter_map(|row| {
                let (from, to): (Option<String>, Option<String>) = row.ok()?;
                Some(Period {
                    from: parse_date(from)?,
                    to: parse_date(to),
                })
            })
            .collect();
        let first = attendance::month_days(year, month).next();
        let last = attendance::month_days(year, month).last();
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(CadreMonth {
                cadre_id: cadre_id.into(),
                days: vec![],
                summary: Default::default(),
            });
        };

        let mut fences: HashMap<String, Option<Village>> = HashMap::new();
        let mut checkins = Vec::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT local_date, local_time, lat, lon, mock_flag, village_code FROM p_checkin
                 WHERE cadre_id = ?1 AND local_date BETWEEN ?2 AND ?3 AND state = 'submitted'",
            )?;
            let rows = stmt.query_map(
                params![cadre_id, first.to_string(), last.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, f64>(3)?,
                        r.get::<_, bool>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )?;
            for row in rows {
                let (date, time, lat, lon, mock, village) = row?;
                let (Some(date), Ok(time)) = (
                    parse_date(Some(date)),
                    chrono::NaiveTime::parse_from_str(&time, "%H:%M"),
                ) else {
                    continue;
                };
                if !fences.contains_key(&village) {
                    let v = self.village_by_code(&village)?;
                    fences.insert(village.clone(), v);
                }
                let inside = fences
                    .get(&village)
                    .and_then(|v| v.as_ref())
                    .is_some_and(|v| v.geofence.contains(&Geo::at(lat, lon)));
                checkins.push(CheckInFact {
                    date,
                    time,
                    inside_geofence: inside,
                    mock,
                    clock_drift_s: None,
                });
            }
        }
        let leaves: Vec<LeaveFact> = conn
            .prepare_cached(
                "SELECT leave_type, from_date, to_date, days, requested_date, status, level, returned_date
                 FROM p_leave WHERE cadre_id = ?1 AND from_date <= ?2 AND state = 'submitted'",
            )?
            .query_map(params![cadre_id, last.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })?
            .filter_map(|row| {
                let (leave_type, from, to, days, requested, status, level, returned) = row.ok()?;
                Some(LeaveFact {
                    leave_type,
                    from: parse_date(from)?,
                    to: parse_date(to)?,
                    days,
                    requested: parse_date(requested)?,
                    status,
                    level,
                    returned: parse_date(returned),
                })
            })
            .collect();
        let days =
            attendance::month_statuses(year, month, &periods, &checkins, &leaves, today, cfg);
        let summary = attendance::summarize(year, month, &periods, &days, cfg);
        Ok(CadreMonth {
            cadre_id: cadre_id.into(),
            days,
            summary,
        })
    }

    /// R5–R7: the households `cadre_id` is primary assignee of that have had no counting
    /// visit from them in more than `n_days` days.
    pub fn households_due(
        &self,
        cadre_id: &str,
        today: Date,
        n_days: i64,
    ) -> Result<Vec<DueHousehold>> {
        let conn = self.conn();
        let assignments: Vec<AssignmentFact> = conn
            .prepare_cached(
                "SELECT household_id, cadre_id, from_date, to_date, is_primary FROM p_assignment
                 WHERE cadre_id = ?1 AND state = 'submitted'",
            )?
            .query_map([cadre_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get(4)?,
                ))
            })?
            .filter_map(|row| {
                let (household_id, cadre_id, from, to, is_primary) = row.ok()?;
                Some(AssignmentFact {
                    household_id,
                    cadre_id,
                    from: parse_date(from)?,
                    to: parse_date(to),
                    is_primary,
                })
            })
            .collect();
        let visits: Vec<VisitFact> = conn
            .prepare_cached(
                "SELECT household_id, visitor_id, mode, start_date, state FROM p_visit WHERE visitor_id = ?1",
            )?
            .query_map([cadre_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Option<String>>(3)?, r.get(4)?))
            })?
            .filter_map(|row| {
                let (household_id, visitor_id, mode, date, state) = row.ok()?;
                Some(VisitFact { household_id, visitor_id, mode, date: parse_date(date)?, state })
            })
            .collect();
        let mut registered = conn.prepare_cached(
            "SELECT registered FROM p_household WHERE doc_id = ?1 AND state = 'submitted'",
        )?;
        let mut is_registered = HashMap::new();
        for a in &assignments {
            let r: Option<bool> = registered
                .query_row([&a.household_id], |r| r.get(0))
                .optional()?;
            is_registered.insert(a.household_id.clone(), r.unwrap_or(false));
        }
        Ok(visits::households_due(
            cadre_id,
            today,
            n_days,
            &assignments,
            &visits,
            |h| is_registered.get(h).copied().unwrap_or(false),
        ))
    }

    /// The default R5 check: households due a visit under the configured interval.
    pub fn households_overdue(
        &self,
        cadre_id: &str,
        today: Date,
        cfg: &VisitConfig,
    ) -> Result<Vec<DueHousehold>> {
        self.households_due(cadre_id, today, cfg.interval_days)
    }

    /// R11: entitlements past due without a delivery, in one village or everywhere.
    pub fn delivery_gaps(
        &self,
        village_code: Option<&str>,
        today: Date,
    ) -> Result<Vec<DeliveryGap>> {
        let conn = self.conn();
        let entitlements: Vec<EntitlementFact> = conn
            .prepare_cached(
                "SELECT e.doc_id, e.household_id, e.policy_code, e.due_date, e.due_amount
                 FROM p_entitlement e LEFT JOIN p_household h ON h.doc_id = e.household_id
                 WHERE e.state = 'submitted' AND e.due_date < ?2
                   AND (?1 IS NULL OR h.village_code = ?1)",
            )?
            .query_map(params![village_code, today.to_string()], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })?
            .filter_map(|row| {
                let (id, household_id, policy_code, due, amount) = row.ok()?;
                Some(EntitlementFact {
                    id,
                    household_id,
                    policy_code,
                    due_date: parse_date(due)?,
                    due_amount: amount.map(crate::values::Money::from_fen),
                })
            })
            .collect();
        let deliveries: Vec<DeliveryFact> = conn
            .prepare_cached(
                "SELECT doc_id, entitlement_id, delivered_date, status, household_ack FROM p_delivery
                 WHERE state = 'submitted'",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?, r.get(3)?, r.get(4)?))
            })?
            .filter_map(|row| {
                let (id, entitlement_id, date, status, household_ack) = row.ok()?;
                Some(DeliveryFact { id, entitlement_id, delivered_date: parse_date(date)?, status, household_ack })
            })
            .collect();
        Ok(policy::delivery_gaps(today, &entitlements, &deliveries))
    }

    fn village_by_code(&self, code: &str) -> Result<Option<Village>> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT doc_id FROM p_village WHERE code = ?1 AND state <> 'void' LIMIT 1",
                [code],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => Ok(Some(self.get::<Village>(&id)?.record)),
            None => Ok(None),
        }
    }
}
