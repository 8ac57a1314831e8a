//! CSV and xlsx renderings of a report, with Chinese column headers.
//!
//! A report's export columns come from its row type's spec
//! ([`cunji_core::reports::spec::ReportRow`]): the JSON key (dotted for a figure of an object,
//! `official.rate`), the Chinese header, how to show the value, and how to read it from the
//! typed row (a [`Cell`]); nothing here looks a row up by key. CSV is UTF-8 with
//! a byte-order mark, so Excel on a Chinese Windows opens it with the right characters; rates
//! are written as percentages (`87.5%`), yes/no as 是/否. The xlsx has the rows on a sheet
//! named after the report and a second sheet 说明 with the scope, parameters, time basis and
//! generation time.
//!
//! A report whose summary carries `signatures` (report 1, the attendance ledger) ends with
//! its signature lines ([`signature_lines`]): 审核人, 签字 and 日期, filled from the township's
//! signature of the report's own scope when there is one (and a line saying the figures
//! changed after signing when they did), empty to sign by hand when there is none; on the
//! rows' sheet of the xlsx, below the rows, and as the CSV's last rows.
//!
//! Not here: the summaries' breakdowns (by unit, by domain…), which stay in the JSON.

use cunji_core::reports::spec::Cell;
use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};

use super::{ReportDocument, ReportError, ReportName};

/// The media type of an xlsx file.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV: &str = "text/csv; charset=utf-8";

/// What a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

/// `format=` wins over `Accept`; JSON when neither names CSV or xlsx.
pub fn negotiate(format: Option<&str>, accept: Option<&str>) -> Result<Format, ReportError> {
    match format {
        Some("json") => return Ok(Format::Json),
        Some("csv") => return Ok(Format::Csv),
        Some("xlsx") => return Ok(Format::Xlsx),
        Some(other) => {
            return Err(ReportError::BadParam {
                name: "format".into(),
                message: format!("`{other}` is not json, csv or xlsx"),
            });
        }
        None => {}
    }
    let accept = accept.unwrap_or("");
    Ok(if accept.contains(XLSX) {
        Format::Xlsx
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    })
}

pub use cunji_core::reports::spec::Show;

/// A float as the JSON answer writes it (`1500.0`, `0.5`); a non-finite one is empty there.
fn number(f: f64) -> Option<String> {
    serde_json::Number::from_f64(f).map(|n| n.to_string())
}

/// The numeric value of a cell, if it is a finite number.
fn numeric(c: &Cell<'_>) -> Option<f64> {
    match c {
        Cell::Count(n) => Some(*n as f64),
        Cell::Int(n) => Some(*n as f64),
        Cell::Number(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// A cell as text (CSV, and text cells of the xlsx).
fn text(c: &Cell<'_>, show: Show) -> String {
    match (c, show) {
        (Cell::Empty, _) => String::new(),
        (Cell::Bool(b), _) => if *b { "是" } else { "否" }.into(),
        (Cell::Text(s), _) => s.to_string(),
        (c, Show::Rate) => numeric(c)
            .map(|f| format!("{:.1}%", f * 100.0))
            .unwrap_or_default(),
        (Cell::Count(n), _) => n.to_string(),
        (Cell::Int(n), _) => n.to_string(),
        (Cell::Number(f), _) => number(*f).unwrap_or_default(),
    }
}

/// The signature lines of a report whose summary carries `signatures` (see the module docs):
/// (label, value) pairs; `None` for a report without them.
pub fn signature_lines(doc: &ReportDocument) -> Option<Vec<(&'static str, String)>> {
    let signatures = doc.summary.get("signatures")?.as_array()?;
    let code = doc.scope.split_once(':').map_or("", |(_, c)| c);
    let own = signatures.iter().find(|s| s["scope"] == code);
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let Some(s) = own else {
        return Some(vec![
            ("审核人", String::new()),
            ("签字", String::new()),
            ("日期", String::new()),
        ]);
    };
    let by = match s["by_name"].as_str() {
        Some(name) => format!("{name}({})", text(s, "by")),
        None => text(s, "by"),
    };
    let at = text(s, "at");
    let mut lines = vec![
        ("审核人", by),
        (
            "签字",
            format!(
                "已电子签字,数据摘要 SHA-256 {}{}",
                text(s, "figures_sha256"),
                if s["on_time"] == true {
                    ""
                } else {
                    "(逾期签字)"
                }
            ),
        ),
        (
            "日期",
            cunji_core::domain::ledger::china_date(&at).map_or_else(
                || at.get(..10).unwrap_or(&at).to_string(),
                |d| d.to_string(),
            ),
        ),
    ];
    if s["figures_changed"] == true {
        lines.push((
            "注意",
            format!(
                "签字后台账数据已变化:当前数据摘要 {}",
                text(s, "current_sha256")
            ),
        ));
    }
    Some(lines)
}

/// The report as CSV: UTF-8 with a BOM, a header row of Chinese column names, one row each.
pub fn csv(report: ReportName, doc: &ReportDocument) -> Result<Vec<u8>, csv::Error> {
    let cols = report.export_columns();
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        // Flexible: the signature lines below the rows have two fields.
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        w.write_record(cols.iter().map(|c| c.1))?;
        for i in 0..doc.rows.len() {
            let cells = doc.rows.cells(i);
            w.write_record(
                cols.iter()
                    .zip(&cells)
                    .map(|((_, _, show), c)| text(c, *show)),
            )?;
        }
        if let Some(lines) = signature_lines(doc) {
            w.write_record([""])?;
            for (k, v) in lines {
                w.write_record([k, v.as_str()])?;
            }
        }
        w.flush()?;
    }
    Ok(out)
}

/// The report as an xlsx workbook.
pub fn xlsx(report: ReportName, doc: &ReportDocument) -> Result<Vec<u8>, XlsxError> {
    let cols = report.export_columns();
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let percent = CellFormat::new().set_num_format("0.0%");
    let sheet = book.add_worksheet();
    sheet.set_name(report.title_zh())?;
    for (c, (_, header, _)) in cols.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *header, &bold)?;
        sheet.set_column_width(c as u16, 14)?;
    }
    for i in 0..doc.rows.len() {
        let r = i as u32 + 1;
        let cells = doc.rows.cells(i);
        for (c, ((_, _, show), cell)) in cols.iter().zip(&cells).enumerate() {
            let c = c as u16;
            match (cell, numeric(cell), show) {
                (Cell::Empty, _, _) | (Cell::Number(_), None, _) => {}
                (_, Some(n), Show::Rate) => {
                    sheet.write_number_with_format(r, c, n, &percent)?;
                }
                (_, Some(n), _) => {
                    sheet.write_number(r, c, n)?;
                }
                (cell, None, show) => {
                    sheet.write_string(r, c, text(cell, *show))?;
                }
            }
        }
    }
    if let Some(lines) = signature_lines(doc) {
        let first = doc.rows.len() as u32 + 2;
        for (i, (k, v)) in lines.iter().enumerate() {
            let r = first + i as u32;
            sheet.write_string_with_format(r, 0, *k, &bold)?;
            sheet.write_string(r, 1, v)?;
        }
    }
    let about = book.add_worksheet();
    about.set_name("说明")?;
    let params: Vec<String> = doc.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let lines = [
        ("报表", format!("{}. {}", doc.number, doc.title)),
        ("范围", doc.scope.clone()),
        ("参数", params.join("; ")),
        ("时间口径", doc.time_basis_note.to_string()),
        ("生成时间", doc.generated_at.clone()),
    ];
    for (i, (k, v)) in lines.iter().enumerate() {
        about.write_string_with_format(i as u32, 0, *k, &bold)?;
        about.write_string(i as u32, 1, v)?;
    }
    about.set_column_width(1, 60)?;
    book.save_to_buffer()
}
