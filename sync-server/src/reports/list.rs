//! The report list (`GET /v1/reports`): every report of the registry with its parameters and
//! its columns, for a dashboard to build its forms and table headers from.
//!
//! The list is typed here and read from each report's spec; the OpenAPI document derives its
//! schema from these same types ([`schemars`]), so the dashboard's generated types are those
//! of the answer it gets.

use cunji_core::reports::TimeBasis;
use cunji_core::reports::spec::{ParamSpec, Show};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use super::ReportName;

/// Every report a signed-in account may ask for, in DOMAIN §4's order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportList {
    pub reports: Vec<ReportInfo>,
}

/// One report: what to ask for and what its rows hold.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportInfo {
    /// The path name, e.g. `visit-coverage`.
    pub report: &'static str,
    /// DOMAIN §4 number, 1–9.
    pub number: u8,
    /// The Chinese title.
    pub title: &'static str,
    /// The English title.
    pub title_en: &'static str,
    /// Where to ask for it: `/v1/reports/<report>`.
    pub path: String,
    /// Which clock the report's dates come from.
    #[schemars(schema_with = "time_basis_schema")]
    pub time_basis: TimeBasis,
    /// The report's own parameters, besides `scope` and `format`.
    pub params: Vec<ReportParam>,
    /// The columns of the export, in its order (the JSON rows may carry more fields).
    pub columns: Vec<ReportColumn>,
}

/// One query parameter of a report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportParam {
    pub name: &'static str,
    pub required: bool,
    /// `date` (YYYY-MM-DD), `month` (YYYY-MM), `integer` or `number`.
    pub kind: &'static str,
    pub description: &'static str,
}

/// One column of a report's table.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportColumn {
    /// The row's JSON key (dotted for a figure of an object: `official.rate`).
    pub key: &'static str,
    /// The Chinese header.
    pub title: &'static str,
    /// How a value is shown: a rate as a percentage, yes/no as 是/否.
    #[schemars(schema_with = "show_schema")]
    pub show: &'static str,
}

impl From<&ParamSpec> for ReportParam {
    fn from(p: &ParamSpec) -> Self {
        ReportParam {
            name: p.name,
            required: p.required,
            kind: p.kind.code(),
            description: p.description,
        }
    }
}

/// The report list, from the registry.
pub fn list() -> ReportList {
    let reports = ReportName::ALL
        .iter()
        .map(|r| ReportInfo {
            report: r.path(),
            number: r.number(),
            title: r.title_zh(),
            title_en: r.spec().title_en,
            path: format!("/v1/reports/{}", r.path()),
            time_basis: r.time_basis(),
            params: r.params().iter().map(ReportParam::from).collect(),
            columns: r
                .export_columns()
                .into_iter()
                .map(|(key, title, show)| ReportColumn {
                    key,
                    title,
                    show: show.code(),
                })
                .collect(),
        })
        .collect();
    ReportList { reports }
}

/// The time bases the registry's reports use, as their codes.
pub fn time_basis_codes() -> Vec<serde_json::Value> {
    let mut codes: Vec<serde_json::Value> = Vec::new();
    for r in ReportName::ALL {
        let code = serde_json::json!(r.time_basis());
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

fn time_basis_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": time_basis_codes()})
}

fn show_schema(_: &mut SchemaGenerator) -> Schema {
    let codes: Vec<&str> = Show::ALL.iter().map(|s| s.code()).collect();
    json_schema!({"type": "string", "enum": codes})
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_every_report_with_its_columns() {
        let list = list();
        assert_eq!(list.reports.len(), ReportName::ALL.len());
        for (info, r) in list.reports.iter().zip(ReportName::ALL) {
            assert_eq!(info.report, r.path());
            assert_eq!(info.columns.len(), r.export_columns().len());
            assert!(!info.title_en.is_empty(), "{}", info.report);
        }
    }
}
