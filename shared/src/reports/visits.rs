//! Reports 2 (visit coverage), 3 (cadre duty compliance), 4 (households not visited in N
//! days) and 9 (integrity), over the visits of a scope.
//!
//! A **counting visit** is one that R6–R8 let count: submitted, in person (R7), by the
//! household's primary 帮扶责任人 on that day (R6, [`crate::rules::visits::visit_counts`]) and
//! with evidence level A or B and no mock location (R8, [`evidence::counts_r8`]). Report 4
//! asks about visits by *any* visitor, so there R6's assignee condition is dropped and R7/R8
//! stay. Visit dates are the device's local start dates ([`super::TimeBasis::DeviceEventTime`]).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::spec::{
    Column, ColumnType as T, DATE, Field, PERIOD, ParamKind, ReportRow, ReportSpec, Show, ToCell,
    param,
};

use super::evidence::{self, Anomaly, CheckInPoint, EvidenceConfig, EvidenceLevel, VisitRecord};
use super::{DateRange, GroupCount, HouseholdFact, StatusEventFact, ratio, registered_at};
use crate::domain::RecordState;
use crate::domain::codes::HouseholdStatus;
use crate::rules::visits::{AssignmentFact, INTERVAL_DAYS, households_due, visit_counts};
use crate::values::Date;

/// A cadre's reference data (the Cadre record and its unit), when the server has it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CadreInfo {
    pub name: Option<String>,
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    /// Code of the cadre's level (省/市/县/乡镇…).
    pub level: Option<String>,
    pub level_label: Option<String>,
}

/// Everything the visit reports read, for one scope.
#[derive(Debug, Default)]
pub struct VisitFacts {
    pub households: Vec<HouseholdFact>,
    pub status_changes: Vec<StatusEventFact>,
    pub assignments: Vec<AssignmentFact>,
    pub visits: Vec<VisitRecord>,
    pub checkins: Vec<CheckInPoint>,
    pub cadres: HashMap<String, CadreInfo>,
    /// village code → name.
    pub villages: HashMap<String, String>,
    /// Inspection household checks: (date, household, claimed visit confirmed).
    pub inspection_checks: Vec<(Date, String, bool)>,
}

impl VisitFacts {
    fn changes_of(&self) -> HashMap<&str, Vec<&StatusEventFact>> {
        let mut m: HashMap<&str, Vec<&StatusEventFact>> = HashMap::new();
        for c in &self.status_changes {
            m.entry(&c.household_id).or_default().push(c);
        }
        m
    }

    /// Registered households on `d`.
    fn registered_on(&self, d: Date) -> Vec<&HouseholdFact> {
        let changes = self.changes_of();
        self.households
            .iter()
            .filter(|h| registered_at(h, changes.get(h.id.as_str()).map_or(&[][..], |v| v), d))
            .collect()
    }

    /// The active primary assignee of each household on `d`.
    fn primary_on(&self, d: Date) -> HashMap<&str, &AssignmentFact> {
        let mut m = HashMap::new();
        for a in self
            .assignments
            .iter()
            .filter(|a| a.is_primary && a.active_on(d))
        {
            m.insert(a.household_id.as_str(), a);
        }
        m
    }

    /// Each visit's R8 level, by visit id.
    pub fn levels(&self, cfg: &EvidenceConfig) -> HashMap<&str, EvidenceLevel> {
        let homes: HashMap<&str, &HouseholdFact> =
            self.households.iter().map(|h| (h.id.as_str(), h)).collect();
        self.visits
            .iter()
            .map(|v| {
                let home = homes
                    .get(v.household_id.as_str())
                    .and_then(|h| h.home.as_ref());
                (v.id.as_str(), evidence::evidence_level(v, home, cfg))
            })
            .collect()
    }

    /// Visits that pass R7 and R8 (in person, submitted, evidence A/B, no mock): the visits
    /// that may count; R6 is applied by the callers that need it.
    fn r7_r8_visits(&self, cfg: &EvidenceConfig) -> Vec<&VisitRecord> {
        let levels = self.levels(cfg);
        self.visits
            .iter()
            .filter(|v| v.state == RecordState::Submitted && !v.is_remote())
            .filter(|v| {
                levels
                    .get(v.id.as_str())
                    .is_some_and(|l| evidence::counts_r8(v, *l))
            })
            .collect()
    }

    fn cadre(&self, id: &str) -> CadreInfo {
        self.cadres.get(id).cloned().unwrap_or_default()
    }

    fn village_name(&self, code: &str) -> Option<String> {
        self.villages.get(code).cloned()
    }
}

// ---------------------------------------------------------------------------------------------
// Report 2

/// Report 2, one village.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CoverageRow {
    pub village_code: String,
    pub village_name: Option<String>,
    pub registered: u64,
    pub covered: u64,
    pub coverage: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageSummary {
    pub registered: u64,
    pub covered: u64,
    pub coverage: Option<f64>,
    /// By the sending unit of the household's primary 帮扶责任人 on P.end.
    pub by_unit: Vec<GroupCount>,
    /// By that cadre's level.
    pub by_cadre_level: Vec<GroupCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub summary: CoverageSummary,
    pub rows: Vec<CoverageRow>,
}

/// Report 2: `registered` = households with a registered status at P.end; `covered` =
/// registered households with ≥ 1 counting visit (R6–R8) whose start is in P; `coverage =
/// covered / registered`, by village, by unit and by cadre level.
pub fn coverage(f: &VisitFacts, p: DateRange, cfg: &EvidenceConfig) -> CoverageReport {
    let registered = f.registered_on(p.to);
    let mut assignments_of: HashMap<&str, Vec<AssignmentFact>> = HashMap::new();
    for a in &f.assignments {
        assignments_of
            .entry(&a.household_id)
            .or_default()
            .push(a.clone());
    }
    let mut covered_ids = std::collections::HashSet::new();
    for v in f.r7_r8_visits(cfg) {
        if p.contains(v.date)
            && assignments_of
                .get(v.household_id.as_str())
                .is_some_and(|a| visit_counts(&v.fact(), a))
        {
            covered_ids.insert(v.household_id.as_str());
        }
    }
    let primary = f.primary_on(p.to);
    let mut villages: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut units: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut levels: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for h in &registered {
        let c = u64::from(covered_ids.contains(h.id.as_str()));
        let e = villages.entry(&h.village_code).or_default();
        e.0 += 1;
        e.1 += c;
        let info = primary.get(h.id.as_str()).map(|a| f.cadre(&a.cadre_id));
        let (unit, level) = match &info {
            None => (("".into(), "未结对".into()), ("".into(), "未结对".into())),
            Some(i) => (
                (
                    i.unit_id.clone().unwrap_or_default(),
                    i.unit_name.clone().unwrap_or_else(|| "单位未登记".into()),
                ),
                (
                    i.level.clone().unwrap_or_default(),
                    i.level_label.clone().unwrap_or_else(|| "级别未登记".into()),
                ),
            ),
        };
        for (map, key) in [(&mut units, unit), (&mut levels, level)] {
            let e = map.entry(key).or_default();
            e.0 += 1;
            e.1 += c;
        }
    }
    let rows: Vec<CoverageRow> = villages
        .into_iter()
        .map(|(code, (r, c))| CoverageRow {
            village_code: code.to_string(),
            village_name: f.village_name(code),
            registered: r,
            covered: c,
            coverage: ratio(c, r),
        })
        .collect();
    let groups = |m: BTreeMap<(String, String), (u64, u64)>| {
        m.into_iter()
            .map(|((k, l), (t, c))| GroupCount::new(k, l, t, c))
            .collect()
    };
    let (r, c) = (registered.len() as u64, covered_ids.len() as u64);
    CoverageReport {
        summary: CoverageSummary {
            registered: r,
            covered: c,
            coverage: ratio(c, r),
            by_unit: groups(units),
            by_cadre_level: groups(levels),
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// Report 3

/// Report 3, one cadre.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct DutyRow {
    pub cadre_id: String,
    pub cadre_name: Option<String>,
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    pub level: Option<String>,
    pub level_label: Option<String>,
    /// Active primary assignments on D (of registered households).
    pub assignments: u64,
    pub overdue: u64,
    /// The largest `gap` among the cadre's assignments.
    pub max_gap_days: Option<i64>,
    pub compliant: bool,
    /// The overdue households, most overdue first: (household id, last counting visit, gap).
    pub overdue_households: Vec<OverdueAssignment>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueAssignment {
    pub household_id: String,
    pub last_visit: Option<Date>,
    pub gap_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutySummary {
    pub cadres: u64,
    pub compliant: u64,
    pub rate: Option<f64>,
    /// `unit_rate = compliant cadres / cadres`, per sending unit.
    pub by_unit: Vec<GroupCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DutyReport {
    pub summary: DutySummary,
    pub rows: Vec<DutyRow>,
}

/// Report 3 at D: for each active primary assignment, `last` = the latest counting visit by
/// that assignee and `gap = D − max(last, assignment.from)`; overdue if `gap > interval`
/// (60⚙). A cadre is compliant if none of their assignments is overdue; `unit_rate =
/// compliant cadres / cadres`. Only households registered on D are due visits (R5), as on the
/// device ([`households_due`], which this calls per cadre with the R8-passing visits).
pub fn duty(f: &VisitFacts, d: Date, interval_days: i64, cfg: &EvidenceConfig) -> DutyReport {
    let registered: std::collections::HashSet<&str> = f
        .registered_on(d)
        .into_iter()
        .map(|h| h.id.as_str())
        .collect();
    let mut assignments_of: BTreeMap<&str, Vec<AssignmentFact>> = BTreeMap::new();
    for a in f
        .assignments
        .iter()
        .filter(|a| a.is_primary && a.active_on(d))
    {
        if registered.contains(a.household_id.as_str()) {
            assignments_of
                .entry(&a.cadre_id)
                .or_default()
                .push(a.clone());
        }
    }
    let mut visits_of: HashMap<&str, Vec<crate::rules::visits::VisitFact>> = HashMap::new();
    for v in f.r7_r8_visits(cfg) {
        visits_of.entry(&v.visitor_id).or_default().push(v.fact());
    }
    let mut rows = Vec::new();
    let mut units: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (cadre, assignments) in &assignments_of {
        let visits = visits_of.get(cadre).map_or(&[][..], |v| v);
        // n = −1: every active assignment with its gap; overdue ones are those past the interval.
        let all = households_due(cadre, d, -1, assignments, visits, |h| {
            registered.contains(h)
        });
        let overdue: Vec<OverdueAssignment> = all
            .iter()
            .filter(|x| x.days > interval_days)
            .map(|x| OverdueAssignment {
                household_id: x.household_id.clone(),
                last_visit: x.last_visit,
                gap_days: x.days,
            })
            .collect();
        let info = f.cadre(cadre);
        let compliant = overdue.is_empty();
        let e = units
            .entry((
                info.unit_id.clone().unwrap_or_default(),
                info.unit_name
                    .clone()
                    .unwrap_or_else(|| "单位未登记".into()),
            ))
            .or_default();
        e.0 += 1;
        e.1 += u64::from(compliant);
        rows.push(DutyRow {
            cadre_id: cadre.to_string(),
            cadre_name: info.name,
            unit_id: info.unit_id,
            unit_name: info.unit_name,
            level: info.level,
            level_label: info.level_label,
            assignments: all.len() as u64,
            overdue: overdue.len() as u64,
            max_gap_days: all.iter().map(|x| x.days).max(),
            compliant,
            overdue_households: overdue,
        });
    }
    let cadres = rows.len() as u64;
    let compliant = rows.iter().filter(|r| r.compliant).count() as u64;
    DutyReport {
        summary: DutySummary {
            cadres,
            compliant,
            rate: ratio(compliant, cadres),
            by_unit: units
                .into_iter()
                .map(|((k, l), (t, c))| GroupCount::new(k, l, t, c))
                .collect(),
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// Report 4

/// Report 4, one household.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotVisitedRow {
    pub household_id: String,
    pub head_name: Option<String>,
    pub village_code: String,
    pub village_name: Option<String>,
    pub status: HouseholdStatus,
    pub status_label: &'static str,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub last_visitor_id: Option<String>,
    pub last_visit_date: Option<Date>,
    /// `D − last visit`; `None` when never visited.
    pub days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotVisitedSummary {
    pub registered: u64,
    pub not_visited: u64,
    pub never_visited: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotVisitedReport {
    pub summary: NotVisitedSummary,
    pub rows: Vec<NotVisitedRow>,
}

/// Report 4: registered households (on D) with `D − latest counting visit (any visitor) > N`,
/// never-visited households included (first), then most days first.
pub fn not_visited(f: &VisitFacts, d: Date, n: i64, cfg: &EvidenceConfig) -> NotVisitedReport {
    let registered = f.registered_on(d);
    let mut latest: HashMap<&str, &VisitRecord> = HashMap::new();
    for v in f.r7_r8_visits(cfg).into_iter().filter(|v| v.date <= d) {
        let e = latest.entry(v.household_id.as_str()).or_insert(v);
        if (v.date, v.start) > (e.date, e.start) {
            *e = v;
        }
    }
    let primary = f.primary_on(d);
    let mut rows: Vec<NotVisitedRow> = registered
        .iter()
        .filter_map(|h| {
            let last = latest.get(h.id.as_str());
            let days = last.map(|v| (d - v.date).num_days());
            if days.is_some_and(|x| x <= n) {
                return None;
            }
            let assignee = primary.get(h.id.as_str()).map(|a| a.cadre_id.clone());
            Some(NotVisitedRow {
                household_id: h.id.clone(),
                head_name: h.head_name.clone(),
                village_code: h.village_code.clone(),
                village_name: f.village_name(&h.village_code),
                status: h.status,
                status_label: h.status.label_zh(),
                assignee_name: assignee.as_ref().and_then(|c| f.cadre(c).name),
                assignee_id: assignee,
                last_visitor_id: last.map(|v| v.visitor_id.clone()),
                last_visit_date: last.map(|v| v.date),
                days,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        let key = |r: &NotVisitedRow| r.days.unwrap_or(i64::MAX);
        key(b)
            .cmp(&key(a))
            .then_with(|| a.household_id.cmp(&b.household_id))
    });
    NotVisitedReport {
        summary: NotVisitedSummary {
            registered: registered.len() as u64,
            not_visited: rows.len() as u64,
            never_visited: rows.iter().filter(|r| r.days.is_none()).count() as u64,
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// Report 9

/// Report 9, one cadre (visitor).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct IntegrityRow {
    pub cadre_id: String,
    pub cadre_name: Option<String>,
    /// Submitted visits started in P.
    pub visits: u64,
    pub level_a: u64,
    pub level_b: u64,
    pub level_c: u64,
    pub mock_location: u64,
    /// Level-C or mock-location visits the township accepted (R8): they count.
    pub accepted: u64,
    /// … not yet accepted or rejected: they wait for the township.
    pub awaiting_acceptance: u64,
    /// 电话/微信视频 visits (R7).
    pub remote_visits: u64,
    /// Visits with at least one R9 anomaly.
    pub anomalous_visits: u64,
    pub reused_hash: u64,
    pub too_fast: u64,
    pub shared_device: u64,
    pub checkin_elsewhere: u64,
    pub too_short: u64,
    pub entered_late: u64,
    /// Inspected households (in P) whose primary assignee was this cadre on the inspection day.
    pub households_checked: u64,
    /// … of which the inspector confirmed the claimed visit.
    pub confirmed: u64,
    pub confirm_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntegritySummary {
    pub visits: u64,
    pub level_c: u64,
    pub remote_visits: u64,
    pub anomalous_visits: u64,
    pub households_checked: u64,
    pub confirmed: u64,
    pub confirm_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntegrityReport {
    pub summary: IntegritySummary,
    pub rows: Vec<IntegrityRow>,
}

/// Report 9: per cadre, the counts of level-C visits (R8; with those the township accepted and
/// those awaiting it), R9 anomalies and remote visits in
/// P, and `confirm_rate = households where an inspector confirmed the claimed visit /
/// households checked`.
pub fn integrity(f: &VisitFacts, p: DateRange, cfg: &EvidenceConfig) -> IntegrityReport {
    let levels = f.levels(cfg);
    let anomalies = evidence::r9_anomalies(&f.visits, &f.checkins, cfg);
    let mut rows: BTreeMap<String, IntegrityRow> = BTreeMap::new();
    let row = |rows: &mut BTreeMap<String, IntegrityRow>, c: &str| -> IntegrityRow {
        rows.remove(c).unwrap_or_else(|| IntegrityRow {
            cadre_id: c.to_string(),
            cadre_name: f.cadre(c).name,
            ..IntegrityRow::default()
        })
    };
    for v in f
        .visits
        .iter()
        .filter(|v| v.state == RecordState::Submitted && p.contains(v.date))
    {
        let mut r = row(&mut rows, &v.visitor_id);
        r.visits += 1;
        let level = levels
            .get(v.id.as_str())
            .copied()
            .unwrap_or(EvidenceLevel::C);
        match level {
            EvidenceLevel::A => r.level_a += 1,
            EvidenceLevel::B => r.level_b += 1,
            EvidenceLevel::C => r.level_c += 1,
        }
        r.mock_location += u64::from(v.mock);
        if evidence::needs_acceptance(v, level) {
            match v.accepted {
                Some(true) => r.accepted += 1,
                Some(false) => {}
                None => r.awaiting_acceptance += 1,
            }
        }
        r.remote_visits += u64::from(v.is_remote());
        if let Some(list) = anomalies.get(&v.id) {
            r.anomalous_visits += 1;
            for a in list {
                match a {
                    Anomaly::ReusedHash => r.reused_hash += 1,
                    Anomaly::TooFast => r.too_fast += 1,
                    Anomaly::SharedDevice => r.shared_device += 1,
                    Anomaly::CheckInElsewhere => r.checkin_elsewhere += 1,
                    Anomaly::TooShort => r.too_short += 1,
                    Anomaly::EnteredLate => r.entered_late += 1,
                }
            }
        }
        rows.insert(v.visitor_id.clone(), r);
    }
    let mut primaries: HashMap<&str, Vec<&AssignmentFact>> = HashMap::new();
    for a in f.assignments.iter().filter(|a| a.is_primary) {
        primaries.entry(&a.household_id).or_default().push(a);
    }
    for (date, household, confirmed) in f.inspection_checks.iter().filter(|c| p.contains(c.0)) {
        let Some(a) = primaries
            .get(household.as_str())
            .and_then(|list| list.iter().find(|a| a.active_on(*date)))
        else {
            continue;
        };
        let mut r = row(&mut rows, &a.cadre_id);
        r.households_checked += 1;
        r.confirmed += u64::from(*confirmed);
        rows.insert(a.cadre_id.clone(), r);
    }
    let mut rows: Vec<IntegrityRow> = rows.into_values().collect();
    for r in &mut rows {
        r.confirm_rate = ratio(r.confirmed, r.households_checked);
    }
    let sum = |g: fn(&IntegrityRow) -> u64| rows.iter().map(g).sum::<u64>();
    let (checked, confirmed) = (sum(|r| r.households_checked), sum(|r| r.confirmed));
    IntegrityReport {
        summary: IntegritySummary {
            visits: sum(|r| r.visits),
            level_c: sum(|r| r.level_c),
            remote_visits: sum(|r| r.remote_visits),
            anomalous_visits: sum(|r| r.anomalous_visits),
            households_checked: checked,
            confirmed,
            confirm_rate: ratio(confirmed, checked),
        },
        rows,
    }
}

// ---------------------------------------------------------------------------------------------
// The reports' specs (what the list, the OpenAPI document and the export say).

impl ReportRow for CoverageRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "visit-coverage",
        number: 2,
        title_zh: "走访覆盖率",
        title_en: "Visit coverage",
        time_basis: super::TimeBasis::DeviceEventTime,
        params: &PERIOD,
        summary: &[
            Field::new(
                "registered",
                T::Integer,
                false,
                "households registered at P.end",
            ),
            Field::new(
                "covered",
                T::Integer,
                false,
                "of those, with a counting visit in P",
            ),
            Field::new("coverage", T::Number, true, "covered / registered"),
            Field::shared("by_unit", T::Array, "GroupCount"),
            Field::shared("by_cadre_level", T::Array, "GroupCount"),
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
        Column::new(
            "covered",
            T::Integer,
            false,
            "已走访户数",
            "registered households with a counting visit (R6–R8) in P",
        )
        .show(Show::Number, |r| r.covered.cell()),
        Column::new(
            "coverage",
            T::Number,
            true,
            "走访覆盖率",
            "covered / registered; null when none registered",
        )
        .show(Show::Rate, |r| r.coverage.cell()),
    ];
}

impl ReportRow for DutyRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "duty-compliance",
        number: 3,
        title_zh: "帮扶责任人履职情况",
        title_en: "Pairing cadres' duty compliance",
        time_basis: super::TimeBasis::DeviceEventTime,
        params: &[
            DATE,
            param(
                "interval_days",
                false,
                ParamKind::Integer {
                    min: INTERVAL_DAYS.0,
                    max: INTERVAL_DAYS.1,
                },
                "R5 longest gap between counting visits; default 60",
            ),
        ],
        summary: &[
            Field::new(
                "cadres",
                T::Integer,
                false,
                "cadres with active primary assignments",
            ),
            Field::new("compliant", T::Integer, false, "of those, none overdue"),
            Field::new("rate", T::Number, true, "compliant / cadres"),
            Field::shared("by_unit", T::Array, "GroupCount"),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("cadre_id", T::String, false, "干部编号", "帮扶责任人 id")
            .show(Show::Text, |r| r.cadre_id.cell()),
        Column::new("cadre_name", T::String, true, "姓名", "姓名")
            .show(Show::Text, |r| r.cadre_name.cell()),
        Column::new(
            "unit_id",
            T::String,
            true,
            "派出单位编号",
            "sending unit id",
        ),
        Column::new("unit_name", T::String, true, "派出单位", "派出单位")
            .show(Show::Text, |r| r.unit_name.cell()),
        Column::new("level", T::String, true, "干部级别代码", "cadre level code"),
        Column::new("level_label", T::String, true, "干部级别", "干部级别")
            .show(Show::Text, |r| r.level_label.cell()),
        Column::new(
            "assignments",
            T::Integer,
            false,
            "结对户数",
            "active primary assignments on D (registered households)",
        )
        .show(Show::Number, |r| r.assignments.cell()),
        Column::new(
            "overdue",
            T::Integer,
            false,
            "超期未走访户数",
            "assignments with gap > interval_days",
        )
        .show(Show::Number, |r| r.overdue.cell()),
        Column::new(
            "max_gap_days",
            T::Integer,
            true,
            "最长间隔天数",
            "largest gap = D − max(last counting visit, assignment.from)",
        )
        .show(Show::Number, |r| r.max_gap_days.cell()),
        Column::new(
            "compliant",
            T::Boolean,
            false,
            "是否履职到位",
            "no overdue assignment",
        )
        .show(Show::YesNo, |r| r.compliant.cell()),
        Column::new(
            "overdue_households",
            T::Array,
            false,
            "超期未走访农户",
            "[{household_id, last_visit, gap_days}], most overdue first",
        ),
    ];
}

impl ReportRow for NotVisitedRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "not-visited",
        number: 4,
        title_zh: "超期未走访农户",
        title_en: "Households not visited",
        time_basis: super::TimeBasis::DeviceEventTime,
        params: &[
            DATE,
            param(
                "days",
                true,
                ParamKind::OneOf(&[30, 60, 90]),
                "N: 30, 60 or 90",
            ),
        ],
        summary: &[
            Field::new(
                "registered",
                T::Integer,
                false,
                "households registered on D",
            ),
            Field::new(
                "not_visited",
                T::Integer,
                false,
                "rows: not visited in more than N days",
            ),
            Field::new(
                "never_visited",
                T::Integer,
                false,
                "of those, never visited",
            ),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("household_id", T::String, false, "户编号", "户编号")
            .show(Show::Text, |r| r.household_id.cell()),
        Column::head_name(
            |r: &Self| r.head_name.cell(),
            |r: &mut Self| r.head_name.as_mut(),
        ),
        Column::village_code(|r| r.village_code.cell()),
        Column::village_name(|r| r.village_name.cell()),
        Column::new("status", T::String, false, "脱贫状态代码", "脱贫状态 code"),
        Column::new("status_label", T::String, false, "脱贫状态", "脱贫状态")
            .show(Show::Text, |r| r.status_label.cell()),
        Column::new(
            "assignee_id",
            T::String,
            true,
            "帮扶责任人编号",
            "primary 帮扶责任人 on D",
        )
        .show(Show::Text, |r| r.assignee_id.cell()),
        Column::new("assignee_name", T::String, true, "帮扶责任人", "their name")
            .show(Show::Text, |r| r.assignee_name.cell()),
        Column::new(
            "last_visitor_id",
            T::String,
            true,
            "最近走访人",
            "who made the latest counting visit",
        )
        .show(Show::Text, |r| r.last_visitor_id.cell()),
        Column::new(
            "last_visit_date",
            T::String,
            true,
            "最近走访日期",
            "its date (YYYY-MM-DD)",
        )
        .show(Show::Text, |r| r.last_visit_date.cell()),
        Column::new(
            "days",
            T::Integer,
            true,
            "未走访天数",
            "D − last visit; null when never visited",
        )
        .show(Show::Number, |r| r.days.cell()),
    ];
}

impl ReportRow for IntegrityRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "integrity",
        number: 9,
        title_zh: "走访真实性核查",
        title_en: "Visit integrity",
        time_basis: super::TimeBasis::DeviceEventAndServerReceived,
        params: &PERIOD,
        summary: &[
            Field::new("visits", T::Integer, false, ""),
            Field::new("level_c", T::Integer, false, ""),
            Field::new("remote_visits", T::Integer, false, ""),
            Field::new("anomalous_visits", T::Integer, false, ""),
            Field::new("households_checked", T::Integer, false, ""),
            Field::new("confirmed", T::Integer, false, ""),
            Field::new("confirm_rate", T::Number, true, ""),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("cadre_id", T::String, false, "干部编号", "visitor id")
            .show(Show::Text, |r| r.cadre_id.cell()),
        Column::new("cadre_name", T::String, true, "姓名", "姓名")
            .show(Show::Text, |r| r.cadre_name.cell()),
        Column::new(
            "visits",
            T::Integer,
            false,
            "走访次数",
            "submitted visits started in P",
        )
        .show(Show::Number, |r| r.visits.cell()),
        Column::new("level_a", T::Integer, false, "A级佐证", "R8 level A")
            .show(Show::Number, |r| r.level_a.cell()),
        Column::new("level_b", T::Integer, false, "B级佐证", "R8 level B")
            .show(Show::Number, |r| r.level_b.cell()),
        Column::new("level_c", T::Integer, false, "C级佐证", "R8 level C")
            .show(Show::Number, |r| r.level_c.cell()),
        Column::new(
            "mock_location",
            T::Integer,
            false,
            "模拟定位",
            "visits with a mock location",
        )
        .show(Show::Number, |r| r.mock_location.cell()),
        Column::new(
            "accepted",
            T::Integer,
            false,
            "乡镇已验收",
            "level-C or mock-location visits the township accepted (R8)",
        )
        .show(Show::Number, |r| r.accepted.cell()),
        Column::new(
            "awaiting_acceptance",
            T::Integer,
            false,
            "待乡镇验收",
            "level-C or mock-location visits awaiting the township (R8)",
        )
        .show(Show::Number, |r| r.awaiting_acceptance.cell()),
        Column::new(
            "remote_visits",
            T::Integer,
            false,
            "电话或视频走访",
            "电话/微信视频 visits (R7)",
        )
        .show(Show::Number, |r| r.remote_visits.cell()),
        Column::new(
            "anomalous_visits",
            T::Integer,
            false,
            "疑似异常走访",
            "visits with ≥ 1 R9 anomaly",
        )
        .show(Show::Number, |r| r.anomalous_visits.cell()),
        Column::new(
            "reused_hash",
            T::Integer,
            false,
            "照片或签字重复",
            "R9: photo or signature hash on another visit",
        )
        .show(Show::Number, |r| r.reused_hash.cell()),
        Column::new(
            "too_fast",
            T::Integer,
            false,
            "行程速度异常",
            "R9: > 60 km/h from the previous visit",
        )
        .show(Show::Number, |r| r.too_fast.cell()),
        Column::new(
            "shared_device",
            T::Integer,
            false,
            "一机多号",
            "R9: device used by ≥ 2 accounts that day",
        )
        .show(Show::Number, |r| r.shared_device.cell()),
        Column::new(
            "checkin_elsewhere",
            T::Integer,
            false,
            "打卡位置冲突",
            "R9: a check-in that day places the cadre elsewhere",
        )
        .show(Show::Number, |r| r.checkin_elsewhere.cell()),
        Column::new(
            "too_short",
            T::Integer,
            false,
            "走访时长过短",
            "R9: under 5 minutes",
        )
        .show(Show::Number, |r| r.too_short.cell()),
        Column::new(
            "entered_late",
            T::Integer,
            false,
            "超期补录",
            "R9: server_received_ts more than 7 days after start",
        )
        .show(Show::Number, |r| r.entered_late.cell()),
        Column::new(
            "households_checked",
            T::Integer,
            false,
            "督查抽查户数",
            "inspected households assigned to the cadre",
        )
        .show(Show::Number, |r| r.households_checked.cell()),
        Column::new(
            "confirmed",
            T::Integer,
            false,
            "核实确认户数",
            "of those, claimed visit confirmed",
        )
        .show(Show::Number, |r| r.confirmed.cell()),
        Column::new(
            "confirm_rate",
            T::Number,
            true,
            "核实确认率",
            "confirmed / households_checked",
        )
        .show(Show::Rate, |r| r.confirm_rate.cell()),
    ];
}
