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
//! ## One declaration per report
//! What a report is (path, number, title, time basis, parameters, summary and row fields,
//! export columns, which columns are personal) is its row type's spec in the core
//! ([`cunji_core::reports::spec::ReportRow`]). The server adds its query: the files here
//! mirror the core's report families (`attendance`, `visits`, `delivery`, `satisfaction`,
//! `petitions`, `status_changes`), each holding its reports' queries (a [`Def`]: parse the
//! report's own parameters, read the facts, run the core function) and library functions.
//! [`ReportName::ALL`] is the registry, one line per report; the run, the report list, the
//! OpenAPI document and [`export`] read it and know no report by name.
//!
//! Rows stay typed ([`Rows`]) until a writer renders them: masking and the CSV/xlsx cells go
//! through the row type's columns; the JSON answer converts them to `serde_json::Value` only
//! as it is written, so its bytes are what they always were.
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

mod attendance;
mod delivery;
pub mod export;
pub(crate) mod facts;
pub mod list;
mod petitions;
mod satisfaction;
mod status_changes;
pub mod supervise;
mod visits;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::Utc;
use cunji_core::reports::spec::{Cell, Field, ParamKind, ReportRow, ReportSpec, Show};
use cunji_core::reports::{DateRange, TimeBasis};
use cunji_core::values::Date;
use serde::Serialize;

pub use attendance::{
    StoredSignature, attendance_ledger, current_figures, month_code, stored_signatures,
};
pub use cunji_core::reports::spec::ParamSpec;
pub use delivery::delivery_gaps;
pub use petitions::{RETURN_VISIT_DAYS, petitions};
pub use satisfaction::satisfaction;
pub use status_changes::status_changes;
pub use visits::{
    coverage_facts, duty_compliance, integrity, not_visited, visit_coverage, visit_facts,
};

use crate::accounts::Principal;
use crate::store::{RowFilter, StoreError, Tx};
use cunji_core::domain::access::{Reach, Sight, rights};

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

/// What the caller may see of a scope's data: the core's privacy marks decide.
pub use cunji_core::domain::privacy::{Masking, mask_name, mask_number};

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

/// Whether `principal` may read `scope`, and with which masks (see the module docs): the
/// access table's read rights ([`cunji_core::domain::access::rights`]) decide. A division's
/// reports are read by the accounts whose division contains it; a village's also by the cadres
/// on its team today; the masks follow how the role sees households.
pub fn authorize(
    tx: &mut dyn Tx,
    principal: &Principal,
    scope: &ReportScope,
) -> Result<Masking, ReportError> {
    let reaches: Vec<Reach> = cunji_core::domain::Kind::ALL
        .iter()
        .filter_map(|k| rights(principal.role, *k).read.map(|(reach, _)| reach))
        .collect();
    let allowed = if reaches.contains(&Reach::Division) {
        scope.code.starts_with(&principal.division)
    } else if reaches.contains(&Reach::TeamVillage) {
        scope.level == ScopeLevel::Village
            && principal
                .villages_on(tx, crate::accounts::today())?
                .contains(&scope.code)
    } else {
        false
    };
    if !allowed {
        return Err(ReportError::OutOfScope(scope.to_string()));
    }
    let sight = rights(principal.role, cunji_core::domain::Kind::Household)
        .read
        .map_or(Sight::Aggregates, |(_, s)| s);
    Ok(Masking::of(sight))
}

/// A report, by the last segment of its path: a handle on its entry in the registry
/// ([`ReportName::ALL`]), whose spec ([`cunji_core::reports::spec::ReportSpec`]) says
/// everything the list, the OpenAPI document and the export show.
#[derive(Clone, Copy)]
pub struct ReportName(&'static dyn Report);

impl ReportName {
    /// The registry: every report, in DOMAIN §4's order. A new report is its row type's spec
    /// in the core, its query in its family's file here, and one line in this list.
    pub const ALL: [ReportName; 9] = [
        ReportName(&attendance::LEDGER),
        ReportName(&visits::COVERAGE),
        ReportName(&visits::DUTY),
        ReportName(&visits::NOT_VISITED),
        ReportName(&delivery::DELIVERY_GAPS),
        ReportName(&satisfaction::SATISFACTION),
        ReportName(&petitions::PETITIONS),
        ReportName(&status_changes::STATUS_CHANGES),
        ReportName(&visits::INTEGRITY),
    ];

    pub fn spec(self) -> &'static ReportSpec {
        self.0.spec()
    }

    /// The path segment: `/v1/reports/<path>`.
    pub fn path(self) -> &'static str {
        self.spec().path
    }

    /// DOMAIN §4 number.
    pub fn number(self) -> u8 {
        self.spec().number
    }

    pub fn title_zh(self) -> &'static str {
        self.spec().title_zh
    }

    pub fn time_basis(self) -> TimeBasis {
        self.spec().time_basis
    }

    /// The report's own parameters (besides `scope` and `format`).
    pub fn params(self) -> &'static [ParamSpec] {
        self.spec().params
    }

    /// The rows' fields, as the OpenAPI document describes them.
    pub fn row_fields(self) -> Vec<Field> {
        self.0.row_fields()
    }

    /// The export's columns: (JSON key, Chinese header, how the value is shown).
    pub fn export_columns(self) -> Vec<(&'static str, &'static str, Show)> {
        self.0.export_columns()
    }
}

impl PartialEq for ReportName {
    fn eq(&self, other: &Self) -> bool {
        self.path() == other.path()
    }
}
impl Eq for ReportName {}

impl fmt::Debug for ReportName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReportName({})", self.path())
    }
}

impl FromStr for ReportName {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self, ReportError> {
        ReportName::ALL
            .into_iter()
            .find(|r| r.path() == s)
            .ok_or_else(|| ReportError::UnknownReport(s.to_string()))
    }
}

/// One registered report, its row type erased.
trait Report: Sync {
    fn spec(&self) -> &'static ReportSpec;
    fn row_fields(&self) -> Vec<Field>;
    fn export_columns(&self) -> Vec<(&'static str, &'static str, Show)>;
    fn run(
        &self,
        tx: &mut dyn Tx,
        scope: &ReportScope,
        q: &mut Query<'_>,
    ) -> Result<(serde_json::Value, Rows), ReportError>;
}

/// A report's query: parse its own parameters from `q` (recording what it used), then run it
/// into its summary and typed rows.
pub(crate) type RunFn<S, R> =
    fn(&mut dyn Tx, &ReportScope, &mut Query<'_>) -> Result<(S, Vec<R>), ReportError>;

/// A registry entry: a report's query, with its summary and row types.
pub(crate) struct Def<S, R> {
    pub run: RunFn<S, R>,
}

impl<S: Serialize + 'static, R: ReportRow + Send + 'static> Report for Def<S, R> {
    fn spec(&self) -> &'static ReportSpec {
        R::SPEC
    }

    fn row_fields(&self) -> Vec<Field> {
        R::COLUMNS.iter().map(|c| c.field).collect()
    }

    fn export_columns(&self) -> Vec<(&'static str, &'static str, Show)> {
        R::export_columns()
            .iter()
            .map(|c| (c.key, c.label_zh, c.show))
            .collect()
    }

    fn run(
        &self,
        tx: &mut dyn Tx,
        scope: &ReportScope,
        q: &mut Query<'_>,
    ) -> Result<(serde_json::Value, Rows), ReportError> {
        let (summary, rows) = (self.run)(tx, scope, q)?;
        Ok((
            serde_json::to_value(summary).unwrap_or_default(),
            Rows(Box::new(rows)),
        ))
    }
}

/// A report's rows, typed until a writer renders them: the JSON answer, or the export's
/// cells read through the row type's columns.
pub struct Rows(Box<dyn RowTable>);

trait RowTable: Send {
    fn len(&self) -> usize;
    fn json(&self) -> Vec<serde_json::Value>;
    fn mask_personal(&mut self, mask: &dyn Fn(&str) -> String);
    fn cells(&self, row: usize) -> Vec<Cell<'_>>;
}

impl<R: ReportRow + Send> RowTable for Vec<R> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn json(&self) -> Vec<serde_json::Value> {
        self.iter()
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .collect()
    }

    fn mask_personal(&mut self, mask: &dyn Fn(&str) -> String) {
        R::mask_personal(self, mask);
    }

    fn cells(&self, row: usize) -> Vec<Cell<'_>> {
        let Some(r) = self.get(row) else {
            return Vec::new();
        };
        R::export_columns().iter().map(|c| (c.get)(r)).collect()
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s export cells, in the export's column order.
    pub fn cells(&self, i: usize) -> Vec<Cell<'_>> {
        self.0.cells(i)
    }
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rows({})", self.len())
    }
}

/// The rows as JSON objects. They pass through `serde_json::Value` here, at the writer, so
/// the answer's bytes (key order included) are what they have always been.
impl Serialize for Rows {
    fn serialize<Z: serde::Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        self.0.json().serialize(s)
    }
}

/// One report run, as the JSON API answers it.
#[derive(Debug, Serialize)]
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
    pub rows: Rows,
}

/// Today in China (UTC+8), the default report date.
pub fn today() -> Date {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

pub use cunji_core::rules::adjustment::default_poverty_line;

/// The parsed query of one request: each value is read as its report's [`ParamSpec`]
/// declares (the OpenAPI document states the same kinds and bounds), exactly as given, so a
/// value the document does not allow (an empty one, one padded with spaces, a date without
/// its leading zeros) is refused rather than read as something else.
pub(crate) struct Query<'a> {
    values: &'a BTreeMap<String, String>,
    specs: &'static [ParamSpec],
    pub(crate) used: BTreeMap<String, String>,
}

/// Whether `s` is `n` ASCII digits.
fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A date as the OpenAPI document's `format: date` has it: `YYYY-MM-DD`, four-digit year.
fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let shaped = [4, 2, 2]
        .iter()
        .all(|n| parts.next().is_some_and(|p| digits(p, *n)))
        && parts.next().is_none();
    shaped
        .then(|| Date::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

impl<'a> Query<'a> {
    pub(crate) fn raw(&self, name: &str) -> Option<&'a str> {
        self.values.get(name).map(String::as_str)
    }

    fn kind(&self, name: &str) -> Result<ParamKind, ReportError> {
        self.specs
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.kind)
            .ok_or_else(|| ReportError::UnknownParam(name.to_string()))
    }

    pub(crate) fn date(&mut self, name: &str, default: Option<Date>) -> Result<Date, ReportError> {
        let d = match self.raw(name) {
            Some(s) => {
                parse_date(s).ok_or_else(|| bad(name, format!("`{s}` is not a date YYYY-MM-DD")))?
            }
            None => default.ok_or_else(|| bad(name, "is required"))?,
        };
        self.used.insert(name.into(), d.to_string());
        Ok(d)
    }

    /// A month `YYYY-MM`, as its first day.
    pub(crate) fn month(&mut self, name: &str) -> Result<Date, ReportError> {
        let s = self.raw(name).ok_or_else(|| bad(name, "is required"))?;
        let first = s
            .split_once('-')
            .filter(|(y, m)| digits(y, 4) && digits(m, 2))
            .and_then(|_| parse_date(&format!("{s}-01")))
            .ok_or_else(|| bad(name, format!("`{s}` is not a month YYYY-MM")))?;
        self.used
            .insert(name.into(), first.format("%Y-%m").to_string());
        Ok(first)
    }

    /// A whole number within its spec's bounds ([`ParamKind::Integer`], [`ParamKind::OneOf`]).
    pub(crate) fn int(&mut self, name: &str, default: Option<i64>) -> Result<i64, ReportError> {
        let kind = self.kind(name)?;
        let n = match self.raw(name) {
            Some(s) => s
                .parse::<i64>()
                .map_err(|_| bad(name, format!("`{s}` is not a whole number")))?,
            None => default.ok_or_else(|| bad(name, "is required"))?,
        };
        match kind {
            ParamKind::Integer { min, max } if n < min || n > max => {
                return Err(bad(name, format!("must be between {min} and {max}")));
            }
            ParamKind::OneOf(allowed) if !allowed.contains(&n) => {
                let allowed: Vec<String> = allowed.iter().map(i64::to_string).collect();
                return Err(bad(name, format!("must be one of {}", allowed.join(", "))));
            }
            ParamKind::Integer { .. } | ParamKind::OneOf(_) => {}
            ParamKind::Date | ParamKind::Month | ParamKind::Number { .. } => {
                return Err(bad(name, "is not a whole-number parameter"));
            }
        }
        self.used.insert(name.into(), n.to_string());
        Ok(n)
    }

    /// A decimal number within its spec's bounds ([`ParamKind::Number`]), if given.
    pub(crate) fn number(&mut self, name: &str) -> Result<Option<f64>, ReportError> {
        let ParamKind::Number { min, max } = self.kind(name)? else {
            return Err(bad(name, "is not a number parameter"));
        };
        let Some(s) = self.raw(name) else {
            return Ok(None);
        };
        let n: f64 = s
            .parse()
            .map_err(|_| bad(name, format!("`{s}` is not a number")))?;
        if !(min as f64..=max as f64).contains(&n) {
            return Err(bad(name, format!("must be between {min} and {max}")));
        }
        self.used.insert(name.into(), s.to_string());
        Ok(Some(n))
    }

    pub(crate) fn period(&mut self) -> Result<DateRange, ReportError> {
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
        specs: report.params(),
        used: BTreeMap::new(),
    };
    let (summary, mut rows) = report.0.run(tx, &scope, &mut q)?;
    if masking.household_pii {
        rows.0.mask_personal(&mask_name);
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
