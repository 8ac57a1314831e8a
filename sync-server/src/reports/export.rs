//! CSV and xlsx renderings of a report, with Chinese column headers.
//!
//! Each report declares its export columns: a key into the JSON row (dotted for nested
//! objects, `official.rate`), the Chinese header and how to show the value. CSV is UTF-8 with
//! a byte-order mark, so Excel on a Chinese Windows opens it with the right characters; rates
//! are written as percentages (`87.5%`), yes/no as 是/否. The xlsx has the rows on a sheet
//! named after the report and a second sheet 说明 with the scope, parameters, time basis and
//! generation time.
//!
//! Not here: the summaries' breakdowns (by unit, by domain…), which stay in the JSON.

use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};
use serde_json::Value;

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
    match format.map(str::trim) {
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

/// How a column's value is shown.
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
    /// How the JSON index names it (`text`, `number`, `rate`, `yes_no`).
    pub fn code(self) -> &'static str {
        match self {
            Show::Text => "text",
            Show::Number => "number",
            Show::Rate => "rate",
            Show::YesNo => "yes_no",
        }
    }
}

use Show::*;

/// The export columns of a report: (JSON key, Chinese header, how to show it).
pub fn columns(report: ReportName) -> &'static [(&'static str, &'static str, Show)] {
    match report {
        ReportName::Attendance => &[
            ("cadre_id", "干部编号", Text),
            ("cadre_name", "姓名", Text),
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("team_role", "职务", Text),
            ("in_village_days", "在村天数", Number),
            ("official_days", "公务外出天数", Number),
            ("leave_days", "请假天数", Number),
            ("personal_leave_days", "事假天数", Number),
            ("sick_leave_days", "病假天数", Number),
            ("rest_days", "轮休天数", Number),
            ("absent_days", "无故不在岗天数", Number),
            ("no_record_days", "无记录天数", Number),
            ("assigned_days", "在队天数", Number),
            ("required_days", "应在村天数", Number),
            ("counted_days", "计入在村天数", Number),
            ("compliant", "是否达标", YesNo),
            ("inspection_absences", "本月督查不在岗次数", Number),
            ("inspection_absences_year", "本年督查不在岗次数", Number),
            ("unreturned_leaves", "超期未销假次数", Number),
            ("log_days", "日志天数", Number),
            ("in_village_days_without_log", "在村无日志天数", Number),
            ("logs_reviewed_late", "日志未按时审阅篇数", Number),
        ],
        ReportName::VisitCoverage => &[
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("registered", "建档立卡户数", Number),
            ("covered", "已走访户数", Number),
            ("coverage", "走访覆盖率", Rate),
        ],
        ReportName::DutyCompliance => &[
            ("cadre_id", "干部编号", Text),
            ("cadre_name", "姓名", Text),
            ("unit_name", "派出单位", Text),
            ("level_label", "干部级别", Text),
            ("assignments", "结对户数", Number),
            ("overdue", "超期未走访户数", Number),
            ("max_gap_days", "最长间隔天数", Number),
            ("compliant", "是否履职到位", YesNo),
        ],
        ReportName::NotVisited => &[
            ("household_id", "户编号", Text),
            ("head_name", "户主", Text),
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("status_label", "脱贫状态", Text),
            ("assignee_id", "帮扶责任人编号", Text),
            ("assignee_name", "帮扶责任人", Text),
            ("last_visitor_id", "最近走访人", Text),
            ("last_visit_date", "最近走访日期", Text),
            ("days", "未走访天数", Number),
        ],
        ReportName::DeliveryGaps => &[
            ("policy_code", "政策代码", Text),
            ("policy_name", "政策名称", Text),
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("due", "应兑现笔数", Number),
            ("delivered", "已兑现笔数", Number),
            ("gap", "未兑现笔数", Number),
            ("due_amount", "应兑现金额(元)", Number),
            ("delivered_amount", "已兑现金额(元)", Number),
            ("gap_amount", "缺口金额(元)", Number),
            ("unverified", "农户未确认笔数", Number),
            ("late", "逾期兑现笔数", Number),
            ("mean_delay_days", "平均逾期天数", Number),
        ],
        ReportName::Satisfaction => &[
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("registered", "建档立卡户数", Number),
            ("official.surveyed", "测评户数", Number),
            ("official.satisfied", "满意", Number),
            ("official.fairly_satisfied", "基本满意", Number),
            ("official.dissatisfied", "不满意", Number),
            ("official.cannot_say", "说不清", Number),
            ("official.rate", "满意率", Rate),
            ("official.strict", "满意占比", Rate),
            ("official.sample", "测评覆盖率", Rate),
            ("cadre_collected.surveyed", "帮扶干部自查户数", Number),
            ("cadre_collected.rate", "帮扶干部自查满意率", Rate),
            ("below_threshold", "低于标准", YesNo),
            ("first_secretary_id", "第一书记", Text),
        ],
        ReportName::Petitions => &[
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("received", "受理件数", Number),
            ("closed", "办结件数", Number),
            ("closure_rate", "办结率", Rate),
            ("overdue_open", "超期未办结件数", Number),
            (
                "closed_without_timely_return_visit",
                "办结未及时回访件数",
                Number,
            ),
            ("with_return_visit", "已回访件数", Number),
            ("satisfaction", "回访满意率", Rate),
        ],
        ReportName::StatusChanges => &[
            ("household_id", "户编号", Text),
            ("head_name", "户主", Text),
            ("village_code", "村代码", Text),
            ("village_name", "村名", Text),
            ("change_type_label", "调整类型", Text),
            ("current_step_label", "当前环节", Text),
            ("current_step_date", "环节日期", Text),
            ("result_label", "结果", Text),
            ("publicity_days", "公示天数", Number),
            ("r12_blockers_label", "退出条件缺项", Text),
        ],
        ReportName::Integrity => &[
            ("cadre_id", "干部编号", Text),
            ("cadre_name", "姓名", Text),
            ("visits", "走访次数", Number),
            ("level_a", "A级佐证", Number),
            ("level_b", "B级佐证", Number),
            ("level_c", "C级佐证", Number),
            ("mock_location", "模拟定位", Number),
            ("remote_visits", "电话或视频走访", Number),
            ("anomalous_visits", "疑似异常走访", Number),
            ("reused_hash", "照片或签字重复", Number),
            ("too_fast", "行程速度异常", Number),
            ("shared_device", "一机多号", Number),
            ("checkin_elsewhere", "打卡位置冲突", Number),
            ("too_short", "走访时长过短", Number),
            ("entered_late", "超期补录", Number),
            ("households_checked", "督查抽查户数", Number),
            ("confirmed", "核实确认户数", Number),
            ("confirm_rate", "核实确认率", Rate),
        ],
    }
}

fn get<'a>(row: &'a Value, key: &str) -> &'a Value {
    key.split('.')
        .try_fold(row, |v, k| v.get(k))
        .unwrap_or(&Value::Null)
}

/// A cell as text (CSV, and text cells of the xlsx).
fn text(v: &Value, show: Show) -> String {
    match (v, show) {
        (Value::Null, _) => String::new(),
        (Value::Bool(b), _) => if *b { "是" } else { "否" }.into(),
        (Value::Number(n), Rate) => n
            .as_f64()
            .map(|f| format!("{:.1}%", f * 100.0))
            .unwrap_or_default(),
        (Value::Number(n), _) => n.to_string(),
        (Value::String(s), _) => s.clone(),
        (Value::Array(a), _) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        (Value::Object(_), _) => v.to_string(),
    }
}

/// The report as CSV: UTF-8 with a BOM, a header row of Chinese column names, one row each.
pub fn csv(report: ReportName, doc: &ReportDocument) -> Result<Vec<u8>, csv::Error> {
    let cols = columns(report);
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(cols.iter().map(|c| c.1))?;
        for row in &doc.rows {
            w.write_record(cols.iter().map(|(k, _, show)| text(get(row, k), *show)))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The report as an xlsx workbook.
pub fn xlsx(report: ReportName, doc: &ReportDocument) -> Result<Vec<u8>, XlsxError> {
    let cols = columns(report);
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let percent = CellFormat::new().set_num_format("0.0%");
    let sheet = book.add_worksheet();
    sheet.set_name(report.title_zh())?;
    for (c, (_, header, _)) in cols.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *header, &bold)?;
        sheet.set_column_width(c as u16, 14)?;
    }
    for (r, row) in doc.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, (key, _, show)) in cols.iter().enumerate() {
            let c = c as u16;
            match (get(row, key), show) {
                (Value::Null, _) => {}
                (Value::Number(n), Rate) => {
                    sheet.write_number_with_format(r, c, n.as_f64().unwrap_or(0.0), &percent)?;
                }
                (Value::Number(n), _) => {
                    sheet.write_number(r, c, n.as_f64().unwrap_or(0.0))?;
                }
                (v, show) => {
                    sheet.write_string(r, c, text(v, *show))?;
                }
            }
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
