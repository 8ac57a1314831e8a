//! The supervisors' reports (DOMAIN §4, reports 1–9) over the server's merged projections.
//!
//! A report run is: parse the query (`scope=<village|township|county|city>:<code>` plus the
//! report's own parameters; an unknown parameter is refused), check the caller may read the
//! scope ([`authorize`]), read the scope's facts from the store ([`facts`], either backend),
//! compute with the pure functions of [`cunji_core::reports`], then mask what the caller's
//! role may not see and wrap the result in a [`ReportDocument`] that says which clock its
//! dates come from (`time_basis`). [`export`] renders the same rows as CSV or xlsx with
//! Chinese headers.
//!
//! Each report is also a library function (`visit_coverage`, `attendance_ledger`, …) taking a
//! [`Tx`] and a [`ReportScope`], so benchmarks and tools can time and call them directly.
//!
//! Who reads what (DOMAIN §1): a township reads its own villages; the county office, the
//! organisation department and the city read their division; the administrator reads all;
//! a first secretary or team member reads their own village. Pairing cadres read no reports.
//! Above the township, ID and bank numbers, health data and home coordinates are masked; the
//! organisation department (and the city, which reads aggregates) also gets household names
//! and phones masked. Reports never carry ID or bank numbers at all; the masks matter for the
//! raw rows of [`supervise`].
//!
//! Not here: county-specific ⚙ settings (the reports use DOMAIN's defaults, overridable per
//! request where a parameter says so) and rankings of individual cadres (DOMAIN §3).

pub mod export;
pub(crate) mod facts;
pub mod supervise;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Utc};
use cunji_core::reports::attendance::{AttendanceFacts, LedgerReport};
use cunji_core::reports::delivery::{DeliveryFacts, DeliveryReport};
use cunji_core::reports::evidence::EvidenceConfig;
use cunji_core::reports::petitions::{PetitionFact, PetitionFacts, PetitionReport};
use cunji_core::reports::satisfaction::{SatisfactionFacts, SatisfactionReport, SurveyFact};
use cunji_core::reports::status_changes::{CaseFact, StatusChangeFacts, StatusChangeReport};
use cunji_core::reports::visits::{
    CoverageReport, DutyReport, IntegrityReport, NotVisitedReport, VisitFacts,
};
use cunji_core::reports::{DateRange, TimeBasis};
use cunji_core::rules::attendance::{AttendanceConfig, CheckInFact};
use cunji_core::values::{Date, Money};
use serde::Serialize;

use crate::accounts::{Principal, Role};
use crate::store::{RowFilter, StoreError, StoreResult, Tx};

/// The level of a report scope: core vocabulary, with the digits of each level's code.
pub use cunji_core::domain::ScopeLevel;

/// A report's scope: `village:530322101201`, `township:530322101`, `county:530322`,
/// `city:5303`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportScope {
    pub level: ScopeLevel,
    pub code: String,
}

impl ReportScope {
    /// Rows of the records under this scope.
    pub fn filter(&self) -> RowFilter<'_> {
        RowFilter::Division(&self.code)
    }
}

impl fmt::Display for ReportScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level.code(), self.code)
    }
}

impl FromStr for ReportScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (level, code) = s
            .split_once(':')
            .ok_or_else(|| format!("scope `{s}` is not <village|township|county|city>:<code>"))?;
        let level = [
            ScopeLevel::Village,
            ScopeLevel::Township,
            ScopeLevel::County,
            ScopeLevel::City,
        ]
        .into_iter()
        .find(|l| l.code() == level)
        .ok_or_else(|| format!("scope level `{level}` is not village, township, county or city"))?;
        if code.len() != level.code_len() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "a {} code has {} digits; `{code}` does not",
                level.code(),
                level.code_len()
            ));
        }
        Ok(ReportScope {
            level,
            code: code.to_string(),
        })
    }
}

/// What the caller may see of a scope's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Masking {
    /// Household names and phones are masked (县委组织部, city).
    pub household_pii: bool,
    /// ID and bank numbers, health data and home coordinates are masked (above township).
    pub sensitive: bool,
}

/// Why a report request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report `{0}`")]
    UnknownReport(String),
    #[error("unknown parameter `{0}`")]
    UnknownParam(String),
    #[error("parameter `{name}`: {message}")]
    BadParam { name: String, message: String },
    #[error("scope {0} is outside what this account may read")]
    OutOfScope(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(name: &str, message: impl Into<String>) -> ReportError {
    ReportError::BadParam {
        name: name.into(),
        message: message.into(),
    }
}

/// Whether `principal` may read `scope`, and with which masks (see the module docs).
pub fn authorize(
    tx: &mut dyn Tx,
    principal: &Principal,
    scope: &ReportScope,
) -> Result<Masking, ReportError> {
    let within = |division: &str| !division.is_empty() && scope.code.starts_with(division);
    let allowed = match principal.role {
        Role::Admin => true,
        Role::Township | Role::CountyOffice | Role::CountyOrg | Role::City => {
            within(&principal.division)
        }
        Role::FirstSecretary | Role::TeamMember => {
            scope.level == ScopeLevel::Village
                && tx.cadre_villages(&principal.login)?.contains(&scope.code)
        }
        Role::PairingCadre => false,
    };
    if !allowed {
        return Err(ReportError::OutOfScope(scope.to_string()));
    }
    let above_township = matches!(
        principal.role,
        Role::Admin | Role::CountyOffice | Role::CountyOrg | Role::City
    );
    Ok(Masking {
        household_pii: matches!(principal.role, Role::CountyOrg | Role::City),
        sensitive: above_township,
    })
}

/// A household name shown masked: the first character, then `*` (`张*`, `欧阳**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.map(|_| '*'))
            .collect::<String>(),
        None => String::new(),
    }
}

/// An ID, bank or phone number shown masked: the first 3 and last 4 characters kept when it is
/// longer than 8, else all `*`.
pub fn mask_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < 3 || i >= chars.len() - 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// The nine reports, by the last segment of their path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportName {
    Attendance,
    VisitCoverage,
    DutyCompliance,
    NotVisited,
    DeliveryGaps,
    Satisfaction,
    Petitions,
    StatusChanges,
    Integrity,
}

/// One query parameter of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    pub required: bool,
    /// `date` (YYYY-MM-DD), `month` (YYYY-MM), `integer`, `number`.
    pub kind: &'static str,
    pub description: &'static str,
}

const fn param(
    name: &'static str,
    required: bool,
    kind: &'static str,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        required,
        kind,
        description,
    }
}

const FROM: ParamSpec = param("from", true, "date", "P.start, YYYY-MM-DD");
const TO: ParamSpec = param("to", true, "date", "P.end, YYYY-MM-DD (inclusive)");
const DATE: ParamSpec = param(
    "date",
    false,
    "date",
    "report date D, YYYY-MM-DD; default today (UTC+8)",
);

impl ReportName {
    pub const ALL: [ReportName; 9] = [
        ReportName::Attendance,
        ReportName::VisitCoverage,
        ReportName::DutyCompliance,
        ReportName::NotVisited,
        ReportName::DeliveryGaps,
        ReportName::Satisfaction,
        ReportName::Petitions,
        ReportName::StatusChanges,
        ReportName::Integrity,
    ];

    /// The path segment: `/v1/reports/<path>`.
    pub fn path(self) -> &'static str {
        match self {
            ReportName::Attendance => "attendance",
            ReportName::VisitCoverage => "visit-coverage",
            ReportName::DutyCompliance => "duty-compliance",
            ReportName::NotVisited => "not-visited",
            ReportName::DeliveryGaps => "delivery-gaps",
            ReportName::Satisfaction => "satisfaction",
            ReportName::Petitions => "petitions",
            ReportName::StatusChanges => "status-changes",
            ReportName::Integrity => "integrity",
        }
    }

    /// DOMAIN §4 number.
    pub fn number(self) -> u8 {
        ReportName::ALL
            .iter()
            .position(|r| *r == self)
            .map_or(0, |i| i as u8 + 1)
    }

    pub fn title_zh(self) -> &'static str {
        match self {
            ReportName::Attendance => "考勤台账",
            ReportName::VisitCoverage => "走访覆盖率",
            ReportName::DutyCompliance => "帮扶责任人履职情况",
            ReportName::NotVisited => "超期未走访农户",
            ReportName::DeliveryGaps => "政策兑现缺口",
            ReportName::Satisfaction => "群众满意度",
            ReportName::Petitions => "信访及群众诉求",
            ReportName::StatusChanges => "动态调整",
            ReportName::Integrity => "走访真实性核查",
        }
    }

    pub fn time_basis(self) -> TimeBasis {
        match self {
            ReportName::Attendance
            | ReportName::VisitCoverage
            | ReportName::DutyCompliance
            | ReportName::NotVisited => TimeBasis::DeviceEventTime,
            ReportName::DeliveryGaps
            | ReportName::Satisfaction
            | ReportName::Petitions
            | ReportName::StatusChanges => TimeBasis::RecordDates,
            ReportName::Integrity => TimeBasis::DeviceEventAndServerReceived,
        }
    }

    /// The report's own parameters (besides `scope` and `format`).
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            ReportName::Attendance => &ATTENDANCE_PARAMS,
            ReportName::VisitCoverage | ReportName::Petitions | ReportName::Integrity => {
                &PERIOD_PARAMS
            }
            ReportName::Satisfaction => &SATISFACTION_PARAMS,
            ReportName::StatusChanges => &STATUS_CHANGE_PARAMS,
            ReportName::DutyCompliance => &DUTY_PARAMS,
            ReportName::NotVisited => &NOT_VISITED_PARAMS,
            ReportName::DeliveryGaps => &[DATE],
        }
    }
}

const ATTENDANCE_PARAMS: [ParamSpec; 2] = [
    param("month", true, "month", "the month, YYYY-MM"),
    param(
        "today",
        false,
        "date",
        "days after it have no status yet; default today (UTC+8)",
    ),
];
const PERIOD_PARAMS: [ParamSpec; 2] = [FROM, TO];
const SATISFACTION_PARAMS: [ParamSpec; 3] = [
    FROM,
    TO,
    param(
        "threshold",
        false,
        "number",
        "R14 threshold in percent; default 90",
    ),
];
const STATUS_CHANGE_PARAMS: [ParamSpec; 3] = [
    FROM,
    TO,
    param(
        "poverty_line",
        false,
        "number",
        "R12 poverty line in yuan per person-year; default by income year (2014: 2800, 2015: 2855, 2016 on: 2952)",
    ),
];
const DUTY_PARAMS: [ParamSpec; 2] = [
    DATE,
    param(
        "interval_days",
        false,
        "integer",
        "R5 longest gap between counting visits; default 60",
    ),
];
const NOT_VISITED_PARAMS: [ParamSpec; 2] =
    [DATE, param("days", true, "integer", "N: 30, 60 or 90")];

impl FromStr for ReportName {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        ReportName::ALL
            .into_iter()
            .find(|r| r.path() == s)
            .ok_or_else(|| ReportError::UnknownReport(s.to_string()))
    }
}

/// One report run, as the JSON API answers it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportDocument {
    /// The path name (`visit-coverage`…).
    pub report: &'static str,
    /// DOMAIN §4 number (1–9).
    pub number: u8,
    pub title: &'static str,
    /// `<level>:<code>`.
    pub scope: String,
    /// The parameters used, defaults filled in.
    pub params: BTreeMap<String, String>,
    /// Which clock the report's dates come from.
    pub time_basis: TimeBasis,
    pub time_basis_note: &'static str,
    pub time_basis_note_en: &'static str,
    /// Server time of the run (RFC 3339 UTC).
    pub generated_at: String,
    pub masking: Masking,
    pub summary: serde_json::Value,
    pub rows: Vec<serde_json::Value>,
}

/// Today in China (UTC+8), the default report date.
pub fn today() -> Date {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The default R12 poverty line for an income year (⚙; 2300 yuan at 2010 prices, indexed).
pub fn default_poverty_line(year: i32) -> Money {
    Money::from_yuan(match year {
        ..=2014 => 2_800,
        2015 => 2_855,
        _ => 2_952,
    })
}

/// The parsed query of one request.
struct Query<'a> {
    values: &'a BTreeMap<String, String>,
    used: BTreeMap<String, String>,
}

impl<'a> Query<'a> {
    fn raw(&self, name: &str) -> Option<&'a str> {
        self.values
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn date(&mut self, name: &str, default: Option<Date>) -> Result<Date, ReportError> {
        let d = match self.raw(name) {
            Some(s) => Date::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| bad(name, format!("`{s}` is not a date YYYY-MM-DD")))?,
            None => default.ok_or_else(|| bad(name, "is required"))?,
        };
        self.used.insert(name.into(), d.to_string());
        Ok(d)
    }

    fn int(
        &mut self,
        name: &str,
        default: Option<i64>,
        range: (i64, i64),
    ) -> Result<i64, ReportError> {
        let n = match self.raw(name) {
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| bad(name, format!("`{s}` is not a whole number")))?,
            None => default.ok_or_else(|| bad(name, "is required"))?,
        };
        if n < range.0 || n > range.1 {
            return Err(bad(
                name,
                format!("must be between {} and {}", range.0, range.1),
            ));
        }
        self.used.insert(name.into(), n.to_string());
        Ok(n)
    }

    fn number(&mut self, name: &str, range: (f64, f64)) -> Result<Option<f64>, ReportError> {
        let Some(s) = self.raw(name) else {
            return Ok(None);
        };
        let n: f64 = s
            .parse()
            .map_err(|_| bad(name, format!("`{s}` is not a number")))?;
        if !(range.0..=range.1).contains(&n) {
            return Err(bad(
                name,
                format!("must be between {} and {}", range.0, range.1),
            ));
        }
        self.used.insert(name.into(), s.to_string());
        Ok(Some(n))
    }

    fn period(&mut self) -> Result<DateRange, ReportError> {
        let from = self.date("from", None)?;
        let to = self.date("to", None)?;
        if from > to {
            return Err(bad("to", "the period ends before it starts"));
        }
        Ok(DateRange { from, to })
    }
}

/// Parses and checks a request's query, then runs the report for `principal`.
pub fn run(
    tx: &mut dyn Tx,
    principal: &Principal,
    report: ReportName,
    query: &BTreeMap<String, String>,
) -> Result<ReportDocument, ReportError> {
    let allowed: Vec<&str> = ["scope", "format"]
        .into_iter()
        .chain(report.params().iter().map(|p| p.name))
        .collect();
    if let Some(unknown) = query.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ReportError::UnknownParam(unknown.clone()));
    }
    let scope: ReportScope = query
        .get("scope")
        .ok_or_else(|| bad("scope", "is required, e.g. township:530322101"))?
        .parse()
        .map_err(|e: String| bad("scope", e))?;
    let masking = authorize(tx, principal, &scope)?;
    let mut q = Query {
        values: query,
        used: BTreeMap::new(),
    };
    let (summary, rows) = match report {
        ReportName::Attendance => {
            let month = q.raw("month").ok_or_else(|| bad("month", "is required"))?;
            let first = Date::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
                .map_err(|_| bad("month", format!("`{month}` is not a month YYYY-MM")))?;
            q.used
                .insert("month".into(), first.format("%Y-%m").to_string());
            let last = cunji_core::rules::attendance::month_days(first.year(), first.month())
                .last()
                .unwrap_or(first);
            let today = q.date("today", Some(today().min(last)))?;
            parts(attendance_ledger(
                tx,
                &scope,
                first.year(),
                first.month(),
                today,
            )?)
        }
        ReportName::VisitCoverage => parts(visit_coverage(tx, &scope, q.period()?)?),
        ReportName::DutyCompliance => {
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
            let interval = q.int("interval_days", Some(default_interval), (1, 3650))?;
            parts(duty_compliance(tx, &scope, d, interval)?)
        }
        ReportName::NotVisited => {
            let d = q.date("date", Some(today()))?;
            let n = q.int("days", None, (30, 90))?;
            if ![30, 60, 90].contains(&n) {
                return Err(bad("days", "must be 30, 60 or 90"));
            }
            parts(not_visited(tx, &scope, d, n)?)
        }
        ReportName::DeliveryGaps => {
            let d = q.date("date", Some(today()))?;
            parts(delivery_gaps(tx, &scope, d)?)
        }
        ReportName::Satisfaction => {
            let p = q.period()?;
            let threshold = q.number("threshold", (0.0, 100.0))?.unwrap_or(90.0) / 100.0;
            parts(satisfaction(tx, &scope, p, threshold)?)
        }
        ReportName::Petitions => parts(petitions(tx, &scope, q.period()?)?),
        ReportName::StatusChanges => {
            let p = q.period()?;
            let line = q
                .number("poverty_line", (0.0, 1_000_000.0))?
                .map(|y| Money::from_fen((y * 100.0).round() as i64));
            parts(status_changes(tx, &scope, p, line)?)
        }
        ReportName::Integrity => parts(integrity(tx, &scope, q.period()?)?),
    };
    let mut rows = rows;
    if masking.household_pii {
        for row in &mut rows {
            if let Some(serde_json::Value::String(name)) = row.get_mut("head_name") {
                *name = mask_name(name);
            }
        }
    }
    let basis = report.time_basis();
    Ok(ReportDocument {
        report: report.path(),
        number: report.number(),
        title: report.title_zh(),
        scope: scope.to_string(),
        params: q.used,
        time_basis: basis,
        time_basis_note: basis.note_zh(),
        time_basis_note_en: basis.note_en(),
        generated_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        masking,
        summary,
        rows,
    })
}

/// A report's summary and rows as JSON.
fn parts<T: Split>(report: T) -> (serde_json::Value, Vec<serde_json::Value>) {
    let (summary, rows) = report.split();
    (
        serde_json::to_value(summary).unwrap_or_default(),
        rows.into_iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect(),
    )
}

trait Split {
    type S: Serialize;
    type R: Serialize;
    fn split(self) -> (Self::S, Vec<Self::R>);
}

macro_rules! split {
    ($($t:ty => $s:ty, $r:ty);+ $(;)?) => {$(
        impl Split for $t {
            type S = $s;
            type R = $r;
            fn split(self) -> ($s, Vec<$r>) {
                (self.summary, self.rows)
            }
        }
    )+};
}

split! {
    LedgerReport => cunji_core::reports::attendance::LedgerSummary, cunji_core::reports::attendance::LedgerRow;
    CoverageReport => cunji_core::reports::visits::CoverageSummary, cunji_core::reports::visits::CoverageRow;
    DutyReport => cunji_core::reports::visits::DutySummary, cunji_core::reports::visits::DutyRow;
    NotVisitedReport => cunji_core::reports::visits::NotVisitedSummary, cunji_core::reports::visits::NotVisitedRow;
    DeliveryReport => cunji_core::reports::delivery::DeliverySummary, cunji_core::reports::delivery::DeliveryRow;
    SatisfactionReport => cunji_core::reports::satisfaction::SatisfactionSummary, cunji_core::reports::satisfaction::SatisfactionRow;
    PetitionReport => cunji_core::reports::petitions::PetitionSummary, cunji_core::reports::petitions::PetitionRow;
    StatusChangeReport => cunji_core::reports::status_changes::StatusChangeSummary, cunji_core::reports::status_changes::CaseRow;
    IntegrityReport => cunji_core::reports::visits::IntegritySummary, cunji_core::reports::visits::IntegrityRow;
}

// ---------------------------------------------------------------------------------------------
// The reports as library functions.

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
    let mut by_county: HashMap<String, AttendanceConfig> = HashMap::new();
    for s in &seats {
        if let Some(county) = ScopeLevel::County.part_of(&s.village_code)
            && !by_county.contains_key(county)
        {
            let settings = crate::settings::effective(tx, Some(county))?;
            by_county.insert(county.to_string(), settings.settings.rules.attendance);
        }
    }
    f.seats = seats;
    let default = AttendanceConfig::default();
    Ok(cunji_core::reports::attendance::ledger_by_village(
        &f,
        year,
        month,
        today,
        &|village| {
            ScopeLevel::County
                .part_of(village)
                .and_then(|c| by_county.get(c))
                .unwrap_or(&default)
        },
    ))
}

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

/// Report 5 at D.
pub fn delivery_gaps(tx: &mut dyn Tx, scope: &ReportScope, d: Date) -> StoreResult<DeliveryReport> {
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    let (deliveries, amounts) = facts::deliveries(tx, filter)?;
    let f = DeliveryFacts {
        entitlements: facts::entitlements(tx, filter)?,
        deliveries,
        amounts,
        policy_names: facts::policy_names(tx)?,
        village_names: facts::village_names(&villages),
    };
    Ok(cunji_core::reports::delivery::delivery_gaps(&f, d))
}

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

/// R15's ⚙ days within which a closed petition gets its 回访.
pub const RETURN_VISIT_DAYS: i64 = 15;

/// Report 7 over P.
pub fn petitions(
    tx: &mut dyn Tx,
    scope: &ReportScope,
    p: DateRange,
) -> StoreResult<PetitionReport> {
    use cunji_core::domain::codes::{
        PetitionChannel, PetitionDomain, PetitionStatus, ReturnVisitResult,
    };
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    let petitions = facts::load(
        tx,
        "p_petition",
        &[
            "village_code",
            "received_date",
            "channel",
            "domain",
            "status",
            "due_date",
            "closed_date",
            "return_visit_date",
            "return_visit_result",
            "state",
        ],
        filter,
        |r| {
            r.submitted(9).then_some(())?;
            Some(PetitionFact {
                village_code: r.s(0)?,
                received_date: r.date(1)?,
                channel: r.s(2).as_deref().and_then(PetitionChannel::from_code)?,
                domain: r.s(3).as_deref().and_then(PetitionDomain::from_code)?,
                status: r.s(4).as_deref().and_then(PetitionStatus::from_code)?,
                due_date: r.date(5)?,
                closed_date: r.date(6),
                return_visit_date: r.date(7),
                return_visit_result: r.s(8).as_deref().and_then(ReturnVisitResult::from_code),
            })
        },
    )?;
    let f = PetitionFacts {
        petitions,
        village_names: facts::village_names(&villages),
    };
    Ok(cunji_core::reports::petitions::petitions(
        &f,
        p,
        RETURN_VISIT_DAYS,
    ))
}

/// Report 8 over P; `poverty_line` overrides the default line of every income year.
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
    Ok(cunji_core::reports::status_changes::status_changes(
        &f,
        p,
        |year| poverty_line.unwrap_or_else(|| default_poverty_line(year)),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_with_their_code_lengths() {
        let s: ReportScope = "township:530322101".parse().unwrap();
        assert_eq!(
            (s.level, s.code.as_str()),
            (ScopeLevel::Township, "530322101")
        );
        assert_eq!(s.to_string(), "township:530322101");
        assert!(
            "county:53032"
                .parse::<ReportScope>()
                .unwrap_err()
                .contains("6 digits")
        );
        assert!("province:53".parse::<ReportScope>().is_err());
        assert!("530322".parse::<ReportScope>().is_err());
        assert!("city:53a3".parse::<ReportScope>().is_err());
    }

    #[test]
    fn masks_keep_only_what_identifies_nothing() {
        assert_eq!(mask_name("张建国"), "张**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_number("530322198001011234"), "530***********1234");
        assert_eq!(mask_number("12345"), "*****");
    }

    #[test]
    fn every_report_has_a_path_title_and_number() {
        for (i, r) in ReportName::ALL.iter().enumerate() {
            assert_eq!(r.number() as usize, i + 1);
            assert_eq!(r.path().parse::<ReportName>().unwrap(), *r);
            assert!(!r.title_zh().is_empty());
        }
    }
}
