//! Reading the facts of a scope from the merged projection tables (either backend), for the
//! pure report functions of [`cunji_core::reports`].
//!
//! Every loader reads one table through [`Tx::scan`] / [`Tx::scan_where`], skipping void
//! records and rows whose required cells do not parse (a merged record that breaks a rule
//! still projects; its unreadable cells are left out of the figures, never guessed).
//!
//! ## Who does what: SQL narrows, the pure functions decide
//! The formulas live once, in [`cunji_core::reports`] and the device rules it calls; SQL only
//! chooses which rows they see, by conditions that are plainly the report's inputs:
//! - the **scope**: a division's records are found through the `documents(kind, id, …)`
//!   index (SQLite) or `documents(kind, village_code, …)` (PostgreSQL), not by joining every
//!   projection row of the city to its document (BENCHMARKS.md: 17 s → 0.7 s for the city's
//!   visit coverage at scale 0.1);
//! - the **period**, where the report reads nothing outside it: the ledger reads the month's
//!   check-ins and logs, coverage the visits that started in P (`start_date`, `local_date`,
//!   `date`, compared as ISO text);
//! - the **columns and tables** a report reads: coverage skips photo hashes, check-ins and
//!   inspections, which only R9 uses.
//!
//! Deliberately not in SQL: R2's day statuses, R6–R8 (who counts, evidence levels, geofence
//! and distance tests) and the roll-ups. Doing them as GROUP BY queries would restate each
//! rule in two SQL dialects beside the Rust the devices run, and the measured remaining cost
//! is reading rows, not computing on them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cunji_core::domain::RecordState;
use cunji_core::domain::codes::*;
use cunji_core::domain::org::Geofence;
use cunji_core::reports::evidence::{CheckInPoint, VisitRecord};
use cunji_core::reports::visits::CadreInfo;
use cunji_core::reports::{DateRange, HouseholdFact, StatusEventFact};
use cunji_core::rules::attendance::{LeaveFact, Period};
use cunji_core::rules::policy::{DeliveryFact, EntitlementFact};
use cunji_core::rules::visits::AssignmentFact;
use cunji_core::values::{Date, Geo, Money};
use rusqlite::types::Value;

use crate::store::{Between, RowFilter, StoreResult, Tx};

/// One scanned row: `[doc_id, received_ts, village_code, columns…]`.
pub(crate) struct Row<'a>(pub &'a [Value]);

impl Row<'_> {
    pub fn id(&self) -> String {
        self.text(0).unwrap_or_default()
    }
    pub fn received(&self) -> String {
        self.text(1).unwrap_or_default()
    }
    pub fn doc_village(&self) -> Option<String> {
        self.text(2)
    }
    /// Column `i` of the requested columns (0-based).
    fn cell(&self, i: usize) -> &Value {
        self.0.get(i).unwrap_or(&Value::Null)
    }
    fn text(&self, i: usize) -> Option<String> {
        match self.cell(i) {
            Value::Text(s) => Some(s.clone()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Real(f) => Some(f.to_string()),
            _ => None,
        }
    }
    pub fn s(&self, c: usize) -> Option<String> {
        self.text(c + 3)
    }
    pub fn i(&self, c: usize) -> Option<i64> {
        match self.cell(c + 3) {
            Value::Integer(n) => Some(*n),
            Value::Real(f) => Some(*f as i64),
            Value::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn f(&self, c: usize) -> Option<f64> {
        match self.cell(c + 3) {
            Value::Real(f) => Some(*f),
            Value::Integer(n) => Some(*n as f64),
            _ => None,
        }
    }
    pub fn b(&self, c: usize) -> bool {
        self.i(c).is_some_and(|n| n != 0)
    }
    pub fn date(&self, c: usize) -> Option<Date> {
        // `FromStr` is the ISO 8601 date (what the projections store), parsed without the
        // format-string machinery of `parse_from_str`.
        self.s(c).and_then(|s| s.parse::<Date>().ok())
    }
    pub fn ts(&self, c: usize) -> Option<DateTime<Utc>> {
        self.s(c).and_then(|s| parse_ts(&s))
    }
    /// The record is not void (state column `c`).
    pub fn live(&self, c: usize) -> bool {
        self.s(c).as_deref() != Some(RecordState::Void.code())
    }
    pub fn submitted(&self, c: usize) -> bool {
        self.s(c).as_deref() == Some(RecordState::Submitted.code())
    }
}

pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn code<T>(s: Option<String>, parse: fn(&str) -> Option<T>) -> Option<T> {
    s.as_deref().and_then(parse)
}

/// Scans `table` and keeps what `f` makes of each row.
pub(crate) fn load<T>(
    tx: &mut dyn Tx,
    table: &str,
    columns: &[&str],
    filter: RowFilter<'_>,
    f: impl FnMut(Row<'_>) -> Option<T>,
) -> StoreResult<Vec<T>> {
    load_where(tx, table, columns, filter, None, f)
}

/// [`load`] of the rows whose column `between.column` is in the range (a report period).
pub(crate) fn load_where<T>(
    tx: &mut dyn Tx,
    table: &str,
    columns: &[&str],
    filter: RowFilter<'_>,
    between: Option<Between<'_>>,
    mut f: impl FnMut(Row<'_>) -> Option<T>,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    tx.scan_where(table, columns, filter, between, &mut |v| {
        if let Some(x) = f(Row(v)) {
            out.push(x);
        }
    })?;
    Ok(out)
}

/// A village of the scope.
#[derive(Debug, Clone)]
pub(crate) struct VillageInfo {
    pub name: String,
    pub fence: Geofence,
}

pub(crate) fn villages(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<HashMap<String, VillageInfo>> {
    let rows = load(
        tx,
        "p_village",
        &[
            "code",
            "name",
            "centroid_lat",
            "centroid_lon",
            "radius_m",
            "polygon",
            "state",
        ],
        filter,
        |r| {
            r.live(6).then_some(())?;
            let centroid = Geo::at(r.f(2)?, r.f(3)?);
            let fence = Geofence::from_projection(centroid, r.f(4)?, r.s(5).as_deref());
            Some((
                r.s(0)?,
                VillageInfo {
                    name: r.s(1)?,
                    fence,
                },
            ))
        },
    )?;
    Ok(rows.into_iter().collect())
}

pub(crate) fn village_names(villages: &HashMap<String, VillageInfo>) -> HashMap<String, String> {
    villages
        .iter()
        .map(|(k, v)| (k.clone(), v.name.clone()))
        .collect()
}

pub(crate) fn households(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<HouseholdFact>> {
    load(
        tx,
        "p_household",
        &[
            "village_code",
            "head_name",
            "status",
            "registered_year",
            "home_lat",
            "home_lon",
            "state",
        ],
        filter,
        |r| {
            r.live(6).then_some(())?;
            Some(HouseholdFact {
                id: r.id(),
                village_code: r.s(0)?,
                head_name: r.s(1),
                status: code(r.s(2), HouseholdStatus::from_code)?,
                registered_year: r.i(3)? as i32,
                home: match (r.f(4), r.f(5)) {
                    (Some(lat), Some(lon)) => Some(Geo::at(lat, lon)),
                    _ => None,
                },
            })
        },
    )
}

pub(crate) fn status_events(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<StatusEventFact>> {
    load(
        tx,
        "p_status_change",
        &[
            "household_id",
            "change_type",
            "result",
            "effective_date",
            "state",
        ],
        filter,
        |r| {
            r.live(4).then_some(())?;
            Some(StatusEventFact {
                household_id: r.s(0)?,
                change_type: code(r.s(1), StatusChangeType::from_code)?,
                result: code(r.s(2), StatusChangeResult::from_code),
                effective_date: r.date(3),
            })
        },
    )
}

pub(crate) fn assignments(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<AssignmentFact>> {
    load(
        tx,
        "p_assignment",
        &[
            "household_id",
            "cadre_id",
            "from_date",
            "to_date",
            "is_primary",
            "state",
        ],
        filter,
        |r| {
            r.live(5).then_some(())?;
            Some(AssignmentFact {
                household_id: r.s(0)?,
                cadre_id: r.s(1)?,
                from: r.date(2)?,
                to: r.date(3),
                is_primary: r.b(4),
            })
        },
    )
}

/// Cadre records (reference data, by document id = cadre id) with their unit's name.
pub(crate) fn cadres(tx: &mut dyn Tx) -> StoreResult<HashMap<String, CadreInfo>> {
    let units: HashMap<String, String> =
        load(tx, "p_unit", &["name", "state"], RowFilter::All, |r| {
            r.live(1).then_some(())?;
            Some((r.id(), r.s(0)?))
        })?
        .into_iter()
        .collect();
    let rows = load(
        tx,
        "p_cadre",
        &["name", "unit_id", "level", "state"],
        RowFilter::All,
        |r| {
            r.live(3).then_some(())?;
            let unit_id = r.s(1);
            let level = r.s(2);
            Some((
                r.id(),
                CadreInfo {
                    name: r.s(0),
                    unit_name: unit_id.as_ref().and_then(|u| units.get(u).cloned()),
                    unit_id,
                    level_label: level
                        .as_deref()
                        .and_then(UnitLevel::from_code)
                        .map(|l| l.label_zh().to_string()),
                    level,
                },
            ))
        },
    )?;
    Ok(rows.into_iter().collect())
}

/// Visits, with their photos' hashes when `photos` (R9 needs them; R8 does not). With
/// `started`, only visits whose local start date is in that range.
/// The name on one cadre's record (not void), if the server has it.
pub(crate) fn cadre_name(tx: &mut dyn Tx, id: &str) -> StoreResult<Option<String>> {
    Ok(
        load(tx, "p_cadre", &["name", "state"], RowFilter::Doc(id), |r| {
            r.live(1).then_some(())?;
            r.s(0)
        })?
        .into_iter()
        .next(),
    )
}

pub(crate) fn visits(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
    started: Option<DateRange>,
    photos: bool,
) -> StoreResult<Vec<VisitRecord>> {
    let mut hashes: HashMap<String, Vec<String>> = HashMap::new();
    if photos {
        tx.scan("p_visit_photo", &["sha256", "phash"], filter, &mut |v| {
            let r = Row(v);
            let e = hashes.entry(r.id()).or_default();
            if let Some(h) = r.s(0) {
                e.push(h);
            }
            if let Some(h) = r.s(1) {
                e.push(format!("phash:{h}"));
            }
        })?;
    }
    let (from, to) = started
        .map(|p| (p.from.to_string(), p.to.to_string()))
        .unwrap_or_default();
    let between = started.map(|_| Between {
        column: "start_date",
        from: &from,
        to: &to,
    });
    load_where(
        tx,
        "p_visit",
        &[
            "household_id",
            "visitor_id",
            "mode",
            "start_ts",
            "end_ts",
            "start_date",
            "lat",
            "lon",
            "mock_flag",
            "confirmation",
            "confirmation_image_sha256",
            "device_id",
            "state",
            "accepted",
        ],
        filter,
        between,
        |r| {
            let id = r.id();
            let confirmation = code(r.s(9), Confirmation::from_code)?;
            let image = r.s(10);
            let mut all = hashes.remove(&id).unwrap_or_default();
            if let Some(h) = &image {
                all.push(h.clone());
            }
            all.sort();
            all.dedup();
            Some(VisitRecord {
                household_id: r.s(0)?,
                visitor_id: r.s(1)?,
                mode: code(r.s(2), VisitMode::from_code)?,
                start: r.ts(3)?,
                end: r.ts(4)?,
                date: r.date(5)?,
                geo: match (r.f(6), r.f(7)) {
                    (Some(lat), Some(lon)) => Some(Geo::at(lat, lon)),
                    _ => None,
                },
                mock: r.b(8),
                confirmed: confirmation != Confirmation::Refused && image.is_some(),
                hashes: all,
                device_id: r.s(11).unwrap_or_default(),
                state: code(r.s(12), RecordState::from_code)?,
                received: parse_ts(&r.received()),
                accepted: r.i(13).map(|a| a != 0),
                id,
            })
        },
    )
}

/// A check-in: (cadre, village, local date, local time, position, mock, submitted).
pub(crate) struct CheckInRow {
    pub cadre_id: String,
    pub village_code: String,
    pub date: Date,
    pub time: chrono::NaiveTime,
    pub ts: DateTime<Utc>,
    pub geo: Geo,
    pub mock: bool,
}

/// Submitted check-ins; with `days`, only those whose local date is in that range.
pub(crate) fn checkins(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
    days: Option<DateRange>,
) -> StoreResult<Vec<CheckInRow>> {
    let (from, to) = days
        .map(|p| (p.from.to_string(), p.to.to_string()))
        .unwrap_or_default();
    let between = days.map(|_| Between {
        column: "local_date",
        from: &from,
        to: &to,
    });
    load_where(
        tx,
        "p_checkin",
        &[
            "cadre_id",
            "village_code",
            "ts",
            "local_date",
            "local_time",
            "lat",
            "lon",
            "mock_flag",
            "state",
        ],
        filter,
        between,
        |r| {
            r.submitted(8).then_some(())?;
            Some(CheckInRow {
                cadre_id: r.s(0)?,
                village_code: r.s(1)?,
                ts: r.ts(2)?,
                date: r.date(3)?,
                time: chrono::NaiveTime::parse_from_str(&r.s(4)?, "%H:%M").ok()?,
                geo: Geo::at(r.f(5)?, r.f(6)?),
                mock: r.b(7),
            })
        },
    )
}

pub(crate) fn checkin_points(rows: &[CheckInRow]) -> Vec<CheckInPoint> {
    rows.iter()
        .map(|c| CheckInPoint {
            cadre_id: c.cadre_id.clone(),
            ts: c.ts,
            date: c.date,
            geo: c.geo,
        })
        .collect()
}

pub(crate) fn leaves(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<(String, LeaveFact)>> {
    load(
        tx,
        "p_leave",
        &[
            "cadre_id",
            "leave_type",
            "from_date",
            "to_date",
            "days",
            "requested_date",
            "status",
            "level",
            "returned_date",
            "state",
        ],
        filter,
        |r| {
            r.submitted(9).then_some(())?;
            Some((
                r.s(0)?,
                LeaveFact {
                    leave_type: code(r.s(1), LeaveType::from_code)?,
                    from: r.date(2)?,
                    to: r.date(3)?,
                    days: r.i(4)? as u32,
                    requested: r.date(5)?,
                    status: code(r.s(6), LeaveStatus::from_code)?,
                    level: code(r.s(7), ApprovalLevel::from_code)?,
                    returned: r.date(8),
                },
            ))
        },
    )
}

/// Team seats: (cadre, village, leader?, period), of teams that are not void.
pub(crate) fn team_seats(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<cunji_core::reports::attendance::TeamSeat>> {
    let void: std::collections::HashSet<String> = load(tx, "p_team", &["state"], filter, |r| {
        (!r.live(0)).then(|| r.id())
    })?
    .into_iter()
    .collect();
    load(
        tx,
        "p_team_member",
        &[
            "village_code",
            "cadre_id",
            "from_date",
            "to_date",
            "is_leader",
        ],
        filter,
        |r| {
            (!void.contains(&r.id())).then_some(())?;
            Some(cunji_core::reports::attendance::TeamSeat {
                village_code: r.s(0)?,
                cadre_id: r.s(1)?,
                period: Period {
                    from: r.date(2)?,
                    to: r.date(3),
                },
                is_leader: r.b(4),
            })
        },
    )
}

/// Inspections that found their target cadre absent: (cadre, date).
pub(crate) fn inspection_absences(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<(String, Date)>> {
    load(
        tx,
        "p_inspection",
        &["target_cadre_id", "on_post", "date", "state"],
        filter,
        |r| {
            r.submitted(3).then_some(())?;
            (r.s(1).as_deref() == Some(OnPost::Absent.code())).then_some(())?;
            Some((r.s(0)?, r.date(2)?))
        },
    )
}

/// Households checked by inspections: (date, household, claimed visit confirmed).
pub(crate) fn inspection_checks(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<(Date, String, bool)>> {
    let live: std::collections::HashSet<String> =
        load(tx, "p_inspection", &["state"], filter, |r| {
            r.submitted(0).then(|| r.id())
        })?
        .into_iter()
        .collect();
    load(
        tx,
        "p_inspection_household",
        &["date", "household_id", "claimed_visit_confirmed"],
        filter,
        |r| {
            live.contains(&r.id()).then_some(())?;
            Some((r.date(0)?, r.s(1)?, r.b(2)))
        },
    )
}

pub(crate) fn entitlements(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<Vec<(EntitlementFact, String)>> {
    load(
        tx,
        "p_entitlement",
        &[
            "household_id",
            "policy_code",
            "due_date",
            "due_amount",
            "state",
        ],
        filter,
        |r| {
            r.live(4).then_some(())?;
            Some((
                EntitlementFact {
                    id: r.id(),
                    household_id: r.s(0)?,
                    policy_code: r.s(1)?,
                    due_date: r.date(2)?,
                    due_amount: r.i(3).map(Money::from_fen),
                },
                r.doc_village()?,
            ))
        },
    )
}

/// Deliveries and their amounts (fen) by delivery id.
pub(crate) fn deliveries(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
) -> StoreResult<(Vec<DeliveryFact>, HashMap<String, i64>)> {
    let mut amounts = HashMap::new();
    let facts = load(
        tx,
        "p_delivery",
        &[
            "entitlement_id",
            "amount",
            "delivered_date",
            "status",
            "household_ack",
            "state",
        ],
        filter,
        |r| {
            r.live(5).then_some(())?;
            if let Some(a) = r.i(1) {
                amounts.insert(r.id(), a);
            }
            Some(DeliveryFact {
                id: r.id(),
                entitlement_id: r.s(0)?,
                delivered_date: r.date(2)?,
                status: code(r.s(3), DeliveryStatus::from_code)?,
                household_ack: r.b(4),
            })
        },
    )?;
    Ok((facts, amounts))
}

pub(crate) fn policy_names(tx: &mut dyn Tx) -> StoreResult<HashMap<String, String>> {
    Ok(load(
        tx,
        "p_policy_item",
        &["code", "name", "state"],
        RowFilter::All,
        |r| {
            r.live(2).then_some(())?;
            Some((r.s(0)?, r.s(1)?))
        },
    )?
    .into_iter()
    .collect())
}

/// Submitted work logs: (author, log date, local date of the review if any); with `days`,
/// only logs dated in that range.
pub(crate) fn work_logs(
    tx: &mut dyn Tx,
    filter: RowFilter<'_>,
    days: Option<DateRange>,
) -> StoreResult<Vec<(String, Date, Option<Date>)>> {
    let (from, to) = days
        .map(|p| (p.from.to_string(), p.to.to_string()))
        .unwrap_or_default();
    let between = days.map(|_| Between {
        column: "date",
        from: &from,
        to: &to,
    });
    load_where(
        tx,
        "p_work_log",
        &["author_id", "date", "review_date", "state"],
        filter,
        between,
        |r| {
            r.submitted(3).then_some(())?;
            Some((r.s(0)?, r.date(1)?, r.date(2)))
        },
    )
}
