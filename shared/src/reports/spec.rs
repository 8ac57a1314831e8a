//! What each report is, declared once beside its row type: its path, number, titles, time
//! basis, parameters, summary fields and row columns ([`ReportRow`]).
//!
//! Everything that describes a report reads this: the server's report list (`GET
//! /v1/reports`, from which the dashboard takes its column headers), its OpenAPI document
//! (row and summary schemas, parameters) and the CSV/xlsx export (headers, order, how a value
//! is shown). A column reads its value from the typed row through [`Column`]'s accessor (a
//! [`Cell`]), so nothing downstream looks a row up by string key; the columns that hold a
//! household's name say so ([`Column::personal`]) and the server masks them in place.
//!
//! A column is one serde field of the row, in the row's field order (a unit test serialises a
//! sample of every row type and compares). An object column may be exported as several
//! figures of its object ([`Export::Parts`]: a village's survey tally); a field only the JSON
//! carries (codes beside their labels, lists) is [`Export::No`].

use std::borrow::Cow;

use serde::Serialize;

use super::TimeBasis;
use crate::values::Date;

/// One query parameter of a report (besides `scope` and `format`): the server parses it by
/// its [`ParamKind`] and the OpenAPI document states the same bounds, so what the document
/// allows is what the server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    pub required: bool,
    pub kind: ParamKind,
    pub description: &'static str,
}

/// What a report parameter's value is, with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParamKind {
    /// A date, `YYYY-MM-DD` (four-digit year).
    Date,
    /// A month, `YYYY-MM`.
    Month,
    /// A whole number from `min` to `max`, both included.
    Integer { min: i64, max: i64 },
    /// One of these whole numbers.
    OneOf(&'static [i64]),
    /// A decimal number from `min` to `max`, both included.
    Number { min: i64, max: i64 },
}

impl ParamKind {
    /// `date`, `month`, `integer` or `number`: the report list's name of the kind.
    pub fn code(self) -> &'static str {
        match self {
            ParamKind::Date => "date",
            ParamKind::Month => "month",
            ParamKind::Integer { .. } | ParamKind::OneOf(_) => "integer",
            ParamKind::Number { .. } => "number",
        }
    }
}

pub const fn param(
    name: &'static str,
    required: bool,
    kind: ParamKind,
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        required,
        kind,
        description,
    }
}

/// The period P's start.
pub const FROM: ParamSpec = param("from", true, ParamKind::Date, "P.start, YYYY-MM-DD");
/// The period P's end.
pub const TO: ParamSpec = param("to", true, ParamKind::Date, "P.end, YYYY-MM-DD (inclusive)");
/// The report date D.
pub const DATE: ParamSpec = param(
    "date",
    false,
    ParamKind::Date,
    "report date D, YYYY-MM-DD; default today (UTC+8)",
);
/// A report over a period P.
pub const PERIOD: [ParamSpec; 2] = [FROM, TO];

/// The JSON type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl ColumnType {
    /// The OpenAPI / JSON Schema type name.
    pub fn json(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::Array => "array",
            ColumnType::Object => "object",
        }
    }
}

/// A field of a row or a summary as the API documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub ty: ColumnType,
    pub nullable: bool,
    pub description: &'static str,
    /// The shared schema an object (or an array's items) follows: `GroupCount`, `Tally`.
    pub schema: Option<&'static str>,
}

impl Field {
    pub const fn new(
        key: &'static str,
        ty: ColumnType,
        nullable: bool,
        description: &'static str,
    ) -> Self {
        Field {
            key,
            ty,
            nullable,
            description,
            schema: None,
        }
    }

    /// A field whose value (or whose items) follow the shared schema `name`.
    pub const fn shared(key: &'static str, ty: ColumnType, name: &'static str) -> Self {
        Field {
            key,
            ty,
            nullable: false,
            description: name,
            schema: Some(name),
        }
    }
}

/// How the export shows a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Text,
    Number,
    /// A fraction shown as a percentage.
    Rate,
    /// true/false as 是/否.
    YesNo,
}

impl Show {
    /// Every way of showing a value.
    pub const ALL: [Show; 4] = [Show::Text, Show::Number, Show::Rate, Show::YesNo];

    /// How the report list names it (`text`, `number`, `rate`, `yes_no`).
    pub fn code(self) -> &'static str {
        match self {
            Show::Text => "text",
            Show::Number => "number",
            Show::Rate => "rate",
            Show::YesNo => "yes_no",
        }
    }
}

/// One value of a row, typed, as a writer needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Count(u64),
    Int(i64),
    Number(f64),
    Bool(bool),
}

/// A row field's value as a [`Cell`] (`None` is empty).
pub trait ToCell {
    fn cell(&self) -> Cell<'_>;
}

impl ToCell for String {
    fn cell(&self) -> Cell<'_> {
        Cell::Text(Cow::Borrowed(self))
    }
}
impl ToCell for &str {
    fn cell(&self) -> Cell<'_> {
        Cell::Text(Cow::Borrowed(self))
    }
}
impl ToCell for u64 {
    fn cell(&self) -> Cell<'_> {
        Cell::Count(*self)
    }
}
impl ToCell for u32 {
    fn cell(&self) -> Cell<'_> {
        Cell::Count(u64::from(*self))
    }
}
impl ToCell for i64 {
    fn cell(&self) -> Cell<'_> {
        Cell::Int(*self)
    }
}
impl ToCell for f64 {
    fn cell(&self) -> Cell<'_> {
        Cell::Number(*self)
    }
}
impl ToCell for bool {
    fn cell(&self) -> Cell<'_> {
        Cell::Bool(*self)
    }
}
impl ToCell for Date {
    fn cell(&self) -> Cell<'_> {
        Cell::Text(Cow::Owned(self.to_string()))
    }
}
impl<T: ToCell> ToCell for Option<T> {
    fn cell(&self) -> Cell<'_> {
        self.as_ref().map_or(Cell::Empty, ToCell::cell)
    }
}

/// One column of the export: its header and how to read and show its value.
pub struct ExportColumn<R: 'static> {
    /// The JSON key (dotted for a figure of an object: `official.rate`).
    pub key: &'static str,
    pub label_zh: &'static str,
    pub show: Show,
    pub get: fn(&R) -> Cell<'_>,
}

impl<R> Clone for ExportColumn<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for ExportColumn<R> {}

impl<R> std::fmt::Debug for ExportColumn<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExportColumn({} {:?})", self.key, self.show)
    }
}

impl<R> std::fmt::Debug for Export<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Export::No => f.write_str("No"),
            Export::As(show, _) => write!(f, "As({show:?})"),
            Export::Parts(parts) => write!(f, "Parts({parts:?})"),
        }
    }
}

impl<R> std::fmt::Debug for Column<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({:?} {:?})", self.field, self.export)
    }
}

/// Whether and how a column appears in the export.
pub enum Export<R: 'static> {
    /// JSON only (codes beside their labels, lists).
    No,
    /// One export column under the column's own key and label.
    As(Show, fn(&R) -> Cell<'_>),
    /// Figures of an object column, each its own export column.
    Parts(&'static [ExportColumn<R>]),
}

/// One column of a report's rows: a serde field of the row type.
pub struct Column<R: 'static> {
    pub field: Field,
    pub label_zh: &'static str,
    pub export: Export<R>,
    /// The household name this column holds, for masking (组织部 and city see `张**`).
    pub personal: Option<fn(&mut R) -> Option<&mut String>>,
}

impl<R> Column<R> {
    /// A JSON-only column.
    pub const fn new(
        key: &'static str,
        ty: ColumnType,
        nullable: bool,
        label_zh: &'static str,
        description: &'static str,
    ) -> Self {
        Column {
            field: Field::new(key, ty, nullable, description),
            label_zh,
            export: Export::No,
            personal: None,
        }
    }

    /// An object column (or an array of items) of the shared schema `name`.
    pub const fn shared(
        key: &'static str,
        ty: ColumnType,
        label_zh: &'static str,
        name: &'static str,
    ) -> Self {
        Column {
            field: Field::shared(key, ty, name),
            label_zh,
            export: Export::No,
            personal: None,
        }
    }

    /// Exported as one column, shown as `show`.
    pub const fn show(self, show: Show, get: fn(&R) -> Cell<'_>) -> Self {
        Column {
            export: Export::As(show, get),
            ..self
        }
    }

    /// Exported as the given figures of the object.
    pub const fn parts(self, parts: &'static [ExportColumn<R>]) -> Self {
        Column {
            export: Export::Parts(parts),
            ..self
        }
    }

    /// The village code column most rows open with, exported as text.
    pub const fn village_code(get: fn(&R) -> Cell<'_>) -> Self {
        Self::new(
            "village_code",
            ColumnType::String,
            false,
            "村代码",
            "村代码",
        )
        .show(Show::Text, get)
    }

    /// The village name beside its code (none for a code the registers do not know).
    pub const fn village_name(get: fn(&R) -> Cell<'_>) -> Self {
        Self::new("village_name", ColumnType::String, true, "村名", "村名").show(Show::Text, get)
    }

    /// The household head's name: exported as text and masked for 组织部 and the city.
    pub const fn head_name(
        get: fn(&R) -> Cell<'_>,
        name: fn(&mut R) -> Option<&mut String>,
    ) -> Self {
        Self::new(
            "head_name",
            ColumnType::String,
            true,
            "户主",
            "户主 (masked for 组织部 and city)",
        )
        .show(Show::Text, get)
        .personal(name)
    }

    /// The column holds a household's name (masked for some roles).
    pub const fn personal(self, name: fn(&mut R) -> Option<&mut String>) -> Self {
        Column {
            personal: Some(name),
            ..self
        }
    }
}

/// A report: what the list, the OpenAPI document and the export headers say about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportSpec {
    /// The path segment: `/v1/reports/<path>`.
    pub path: &'static str,
    /// DOMAIN §4 number (1–9).
    pub number: u8,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub time_basis: TimeBasis,
    /// The report's own parameters (besides `scope` and `format`).
    pub params: &'static [ParamSpec],
    /// The summary's fields.
    pub summary: &'static [Field],
}

/// A report's row type, with the report's spec and the row's columns.
pub trait ReportRow: Serialize + Sized + 'static {
    const SPEC: &'static ReportSpec;
    /// Every serde field of the row, in field order.
    const COLUMNS: &'static [Column<Self>];
    /// The export's column order by key, when it is not the columns' order; empty: theirs.
    const EXPORT_ORDER: &'static [&'static str] = &[];

    /// The export columns, in the export's order.
    fn export_columns() -> Vec<ExportColumn<Self>> {
        let mut out = Vec::new();
        for c in Self::COLUMNS {
            match &c.export {
                Export::No => {}
                Export::As(show, get) => out.push(ExportColumn {
                    key: c.field.key,
                    label_zh: c.label_zh,
                    show: *show,
                    get: *get,
                }),
                Export::Parts(parts) => out.extend(parts.iter().copied()),
            }
        }
        if !Self::EXPORT_ORDER.is_empty() {
            out.sort_by_key(|c| {
                Self::EXPORT_ORDER
                    .iter()
                    .position(|k| *k == c.key)
                    .unwrap_or(usize::MAX)
            });
        }
        out
    }

    /// Masks every household name of the rows with `mask`.
    fn mask_personal(rows: &mut [Self], mask: &dyn Fn(&str) -> String) {
        for c in Self::COLUMNS {
            if let Some(name) = c.personal {
                for r in rows.iter_mut() {
                    if let Some(s) = name(r) {
                        *s = mask(s);
                    }
                }
            }
        }
    }
}

/// The serde keys of `v`'s top-level object, in the order it writes them (for the tests that
/// hold a row type to its columns).
pub fn serde_keys<T: Serialize>(v: &T) -> Vec<String> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let text = serde_json::to_string(v).unwrap_or_default();
    serde_json::Deserializer::from_str(&text)
        .deserialize_map(Keys)
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) fn check_row<R: ReportRow>(sample: &R) {
    let keys = serde_keys(sample);
    let cols: Vec<&str> = R::COLUMNS.iter().map(|c| c.field.key).collect();
    assert_eq!(keys, cols, "{}: serde keys = columns", R::SPEC.path);
    let exported: Vec<&str> = R::export_columns().iter().map(|c| c.key).collect();
    for k in R::EXPORT_ORDER {
        assert!(
            exported.contains(k),
            "{}: export order names {k}",
            R::SPEC.path
        );
    }
    assert!(!exported.is_empty());
    // Every export key reads a field that is there (a dotted key: a field of an object).
    let json = serde_json::to_value(sample).unwrap_or_default();
    for k in &exported {
        let found = k.split('.').try_fold(&json, |v, p| v.get(p)).is_some();
        assert!(found, "{}: export key {k}", R::SPEC.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::{HouseholdStatus, StatusChangeType};
    use crate::reports::{attendance, delivery, petitions, satisfaction, status_changes, visits};

    /// Every row type serialises exactly its spec's columns, in order, and its export reads
    /// fields that are there.
    #[test]
    fn every_row_type_serialises_its_columns() {
        check_row(&attendance::LedgerRow::default());
        check_row(&visits::CoverageRow::default());
        check_row(&visits::DutyRow::default());
        check_row(&visits::NotVisitedRow {
            household_id: "h".into(),
            head_name: Some("张建国".into()),
            village_code: "v".into(),
            village_name: None,
            status: HouseholdStatus::NotExited,
            status_label: "",
            assignee_id: None,
            assignee_name: None,
            last_visitor_id: None,
            last_visit_date: None,
            days: None,
        });
        check_row(&delivery::DeliveryRow::default());
        check_row(&satisfaction::SatisfactionRow::default());
        check_row(&petitions::PetitionRow::default());
        check_row(&status_changes::CaseRow {
            case_id: "c".into(),
            household_id: "h".into(),
            head_name: None,
            village_code: "v".into(),
            village_name: None,
            change_type: StatusChangeType::MarkedExit,
            change_type_label: "",
            current_step: None,
            current_step_label: None,
            current_step_date: None,
            result: None,
            result_label: None,
            publicity_days: None,
            r12_blockers: Vec::new(),
            r12_blockers_label: String::new(),
        });
        check_row(&visits::IntegrityRow::default());
    }

    #[test]
    fn household_names_are_masked_through_the_spec() {
        let mut rows = [visits::NotVisitedRow {
            household_id: "h".into(),
            head_name: Some("张建国".into()),
            village_code: "v".into(),
            village_name: None,
            status: HouseholdStatus::NotExited,
            status_label: "",
            assignee_id: None,
            assignee_name: Some("李四".into()),
            last_visitor_id: None,
            last_visit_date: None,
            days: None,
        }];
        ReportRow::mask_personal(&mut rows, &|s| format!("<{s}>"));
        assert_eq!(rows[0].head_name.as_deref(), Some("<张建国>"));
        assert_eq!(rows[0].assignee_name.as_deref(), Some("李四"));
    }
}
