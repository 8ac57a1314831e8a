//! Report 1, the attendance ledger 考勤台账 (cadre × month), over R1–R3 and R4.
//!
//! Each day's status and the month's R1 sums come from [`crate::rules::attendance`] (the same
//! functions a device runs for its own cadre); this module adds what only the merged data
//! shows: leave days by type, inspection absences (R4), leave never closed with 销假, R16's
//! logs (在村 days without a 驻村日志, logs the township reviewed after day 10⚙ of the next
//! month), and the roll-up `compliance_rate = compliant / cadres with a team role that
//! month`. Days are the device's local dates ([`super::TimeBasis::DeviceEventTime`]).

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;
use serde::Serialize;

use super::spec::{
    Column, ColumnType as T, Field, ParamKind, ReportRow, ReportSpec, Show, ToCell, param,
};

use super::ratio;
use crate::domain::codes::{DayStatus, LeaveStatus, LeaveType};
use crate::rules::attendance::{
    AttendanceConfig, CheckInFact, LeaveFact, Period, leave_excuses, month_statuses, summarize,
};
use crate::values::Date;

/// A cadre's seat on a village team (one `p_team_member` row).
#[derive(Debug, Clone, PartialEq)]
pub struct TeamSeat {
    pub cadre_id: String,
    pub village_code: String,
    pub is_leader: bool,
    pub period: Period,
}

/// What the ledger reads, for one scope and month.
#[derive(Debug, Default)]
pub struct AttendanceFacts {
    pub seats: Vec<TeamSeat>,
    /// By cadre; `inside_geofence` already decided against the check-in's village.
    pub checkins: HashMap<String, Vec<CheckInFact>>,
    pub leaves: HashMap<String, Vec<LeaveFact>>,
    /// Dates on which an inspection found the cadre 无故不在岗, by cadre.
    pub inspection_absences: HashMap<String, Vec<Date>>,
    /// Work logs by author: (log date, local date of the township's review if any).
    pub logs: HashMap<String, Vec<(Date, Option<Date>)>>,
    pub cadre_names: HashMap<String, String>,
    pub village_names: HashMap<String, String>,
}

/// R16: the township reviews month M's logs by this day of M+1 (⚙).
pub const LOG_REVIEW_DAY: u32 = 10;

/// One cadre's month in one village.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LedgerRow {
    pub cadre_id: String,
    pub cadre_name: Option<String>,
    pub village_code: String,
    pub village_name: Option<String>,
    /// 第一书记/队长 or 队员.
    pub team_role: &'static str,
    pub in_village_days: u32,
    pub official_days: u32,
    /// 请假 days in total, then by type (事假, 病假).
    pub leave_days: u32,
    pub personal_leave_days: u32,
    pub sick_leave_days: u32,
    /// 轮休.
    pub rest_days: u32,
    /// 无故不在岗.
    pub absent_days: u32,
    pub no_record_days: u32,
    pub assigned_days: u32,
    pub required_days: u32,
    /// In-village days as R1 counts them (with 公务外出 when the county counts them).
    pub counted_days: u32,
    pub compliant: bool,
    /// Inspections that found the cadre 无故不在岗 this month, and this year up to the month's
    /// end (R4 counts per year: 1 → not 优秀, 2 → 基本称职, ≥ 3 → 不称职 and recall candidate).
    pub inspection_absences: u32,
    pub inspection_absences_year: u32,
    /// R4's consequence for the year so far: `none`, `not_excellent`, `basically_competent`,
    /// `incompetent_recall_candidate`.
    pub r4_rating_cap: &'static str,
    /// Approved leave whose end has passed (as of the report day) without 销假.
    pub unreturned_leaves: u32,
    /// Days of the month with a 驻村日志.
    pub log_days: u32,
    /// R16: 在村 days without a log.
    pub in_village_days_without_log: u32,
    /// R16: the month's logs not reviewed by day 10 of the next month (counted once that day
    /// has passed as of the report day, or when reviewed later).
    pub logs_reviewed_late: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerSummary {
    pub cadres: u64,
    pub compliant: u64,
    pub compliance_rate: Option<f64>,
    /// The township signs the ledger and the 组织部 receives it by this day (the 10th⚙ of the
    /// next month).
    pub due_to_county_org: Date,
    /// The township's signatures on this month's ledgers of the scope and the villages and
    /// townships in it ([`SignatureStatus`]); empty when none is signed.
    pub signatures: Vec<SignatureStatus>,
}

/// A stored ledger signature as report 1 shows it: who signed which scope's month and when,
/// whether by the due day, and whether the figures changed since.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureStatus {
    /// The signed scope: a village's or a township's code.
    pub scope: String,
    pub scope_name: Option<String>,
    /// The signature record's id.
    pub record_id: String,
    /// The signer's login, and its name.
    pub by: String,
    pub by_name: Option<String>,
    /// When it was signed (China's zone).
    pub at: String,
    /// Signed by day 10⚙ of the next month ([`ledger_due_date`]).
    pub on_time: bool,
    pub due: Date,
    /// Today's figures' hash differs from the signed one: the ledger changed after signing.
    pub figures_changed: bool,
    pub figures_sha256: String,
    pub current_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerReport {
    pub summary: LedgerSummary,
    pub rows: Vec<LedgerRow>,
}

/// R4: the rating cap from a year's inspection absences.
pub fn r4_rating_cap(absences: u32) -> &'static str {
    match absences {
        0 => "none",
        1 => "not_excellent",
        2 => "basically_competent",
        _ => "incompetent_recall_candidate",
    }
}

/// Report 1 for `year`-`month` as of `today` (days after it have no status yet).
pub fn ledger(
    f: &AttendanceFacts,
    year: i32,
    month: u32,
    today: Date,
    cfg: &AttendanceConfig,
) -> LedgerReport {
    ledger_by_village(f, year, month, today, &|_| cfg)
}

/// [`ledger`] with each seat's R1–R3 thresholds those of its village (a county's ⚙
/// settings apply to its villages, so a city's ledger mixes counties' rules row by row).
pub fn ledger_by_village<'c>(
    f: &AttendanceFacts,
    year: i32,
    month: u32,
    today: Date,
    cfg_for: &dyn Fn(&str) -> &'c AttendanceConfig,
) -> LedgerReport {
    let mut seats: BTreeMap<(&str, &str), (Vec<Period>, bool)> = BTreeMap::new();
    for s in &f.seats {
        let e = seats.entry((&s.cadre_id, &s.village_code)).or_default();
        e.0.push(s.period);
        e.1 |= s.is_leader;
    }
    let month_end = crate::rules::attendance::month_days(year, month)
        .last()
        .unwrap_or(today);
    let year_start = Date::from_ymd_opt(year, 1, 1).unwrap_or(today);
    let mut rows = Vec::new();
    for ((cadre, village), (periods, leader)) in seats {
        let cfg = cfg_for(village);
        let checkins = f.checkins.get(cadre).map_or(&[][..], |v| v);
        let leaves = f.leaves.get(cadre).map_or(&[][..], |v| v);
        let days = month_statuses(year, month, &periods, checkins, leaves, today, cfg);
        let s = summarize(year, month, &periods, &days, cfg);
        if s.assigned_days == 0 {
            continue;
        }
        let (mut personal, mut sick) = (0, 0);
        for (day, status) in &days {
            if *status != DayStatus::OnLeave {
                continue;
            }
            let excusing = leaves
                .iter()
                .find(|l| *day >= l.from && *day <= l.to && leave_excuses(l, cfg));
            match excusing.map(|l| l.leave_type) {
                Some(LeaveType::Sick) => sick += 1,
                _ => personal += 1,
            }
        }
        let absences = f.inspection_absences.get(cadre).map_or(&[][..], |v| v);
        let in_month = absences
            .iter()
            .filter(|d| d.year() == year && d.month() == month)
            .count() as u32;
        let in_year = absences
            .iter()
            .filter(|d| **d >= year_start && **d <= month_end)
            .count() as u32;
        let unreturned = leaves
            .iter()
            .filter(|l| {
                matches!(l.status, LeaveStatus::Approved | LeaveStatus::Overdue)
                    && l.to < today
                    && l.returned.is_none()
            })
            .count() as u32;
        let logs = f.logs.get(cadre).map_or(&[][..], |v| v);
        let month_logs: Vec<&(Date, Option<Date>)> = logs
            .iter()
            .filter(|(d, _)| d.year() == year && d.month() == month && *d <= today)
            .collect();
        let log_dates: std::collections::BTreeSet<Date> =
            month_logs.iter().map(|(d, _)| *d).collect();
        let without_log = days
            .iter()
            .filter(|(d, s)| *s == DayStatus::InVillage && !log_dates.contains(d))
            .count() as u32;
        let review_due = Date::from_ymd_opt(
            if month == 12 { year + 1 } else { year },
            if month == 12 { 1 } else { month + 1 },
            LOG_REVIEW_DAY,
        )
        .unwrap_or(month_end);
        let late = month_logs
            .iter()
            // A review dated after the report day has not happened yet as of that day.
            .filter(|(_, reviewed)| match reviewed {
                Some(r) if *r <= today => *r > review_due,
                _ => today > review_due,
            })
            .count() as u32;
        rows.push(LedgerRow {
            cadre_id: cadre.to_string(),
            cadre_name: f.cadre_names.get(cadre).cloned(),
            village_code: village.to_string(),
            village_name: f.village_names.get(village).cloned(),
            team_role: if leader {
                "第一书记"
            } else {
                "驻村队员"
            },
            in_village_days: s.in_village_days,
            official_days: s.official_days,
            leave_days: s.leave_days,
            personal_leave_days: personal,
            sick_leave_days: sick,
            rest_days: s.rest_days,
            absent_days: s.absent_days,
            no_record_days: s.no_record_days,
            assigned_days: s.assigned_days,
            required_days: s.required_days,
            counted_days: s.counted_days,
            compliant: s.compliant,
            inspection_absences: in_month,
            inspection_absences_year: in_year,
            r4_rating_cap: r4_rating_cap(in_year),
            unreturned_leaves: unreturned,
            log_days: log_dates.len() as u32,
            in_village_days_without_log: without_log,
            logs_reviewed_late: late,
        });
    }
    let cadres = rows.len() as u64;
    let compliant = rows.iter().filter(|r| r.compliant).count() as u64;
    // The scope's county's due day (a city's ledger mixes counties: its first village's).
    let due_day = f
        .seats
        .first()
        .map_or(AttendanceConfig::default().ledger_due_day, |s| {
            cfg_for(&s.village_code).ledger_due_day
        });
    let due = ledger_due_date(
        Date::from_ymd_opt(year, month, 1).unwrap_or(month_end),
        due_day,
    );
    LedgerReport {
        summary: LedgerSummary {
            cadres,
            compliant,
            compliance_rate: ratio(compliant, cadres),
            due_to_county_org: due,
            signatures: Vec::new(),
        },
        rows,
    }
}

/// The day by which month `first`'s ledger is signed and received: day `due_day` (⚙, 10 by
/// default) of the next month.
pub fn ledger_due_date(first: Date, due_day: u32) -> Date {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    Date::from_ymd_opt(y, m, due_day.clamp(1, 28)).unwrap_or(first)
}

/// The version line that starts [`figures_text`]: a new canonical form gets a new line, so a
/// hash never silently means something else.
pub const FIGURES_FORM: &str = "cunji-attendance-ledger-figures/1";

/// The canonical text of report 1's figures for `scope` (a village's or township's code) and
/// `month` (`YYYY-MM`): what a ledger signature hashes ([`figures_sha256`]).
///
/// The report's rows computed as of the month's last day, those whose village lies in the
/// scope (its code starts with `scope`), sorted by village code then cadre id; after the
/// version line and a `scope<TAB>month` line, one line per row: the village code, cadre id,
/// 职务, then every figure in the order of [`LedgerRow`]'s fields (counts in decimal, the
/// `compliant` flag `1`/`0`, R4's cap as its code), tab-separated, each line ending in `\n`.
/// Names are not figures: correcting a cadre's name does not change what was signed.
pub fn figures_text(rows: &[LedgerRow], scope: &str, month: &str) -> String {
    let mut rows: Vec<&LedgerRow> = rows
        .iter()
        .filter(|r| r.village_code.starts_with(scope))
        .collect();
    rows.sort_by(|a, b| (&a.village_code, &a.cadre_id).cmp(&(&b.village_code, &b.cadre_id)));
    let mut out = format!("{FIGURES_FORM}\n{scope}\t{month}\n");
    for r in rows {
        let figures = [
            r.in_village_days,
            r.official_days,
            r.leave_days,
            r.personal_leave_days,
            r.sick_leave_days,
            r.rest_days,
            r.absent_days,
            r.no_record_days,
            r.assigned_days,
            r.required_days,
            r.counted_days,
            u32::from(r.compliant),
            r.inspection_absences,
            r.inspection_absences_year,
        ];
        let tail = [
            r.unreturned_leaves,
            r.log_days,
            r.in_village_days_without_log,
            r.logs_reviewed_late,
        ];
        let mut line = vec![
            r.village_code.clone(),
            r.cadre_id.clone(),
            r.team_role.to_string(),
        ];
        line.extend(figures.iter().map(u32::to_string));
        line.push(r.r4_rating_cap.to_string());
        line.extend(tail.iter().map(u32::to_string));
        out.push_str(&line.join("\t"));
        out.push('\n');
    }
    out
}

/// The lower-case hex SHA-256 of [`figures_text`]: the `figures_sha256` a ledger signature
/// holds, which the server and any verifier compute alike.
pub fn figures_sha256(rows: &[LedgerRow], scope: &str, month: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(figures_text(rows, scope, month).as_bytes()))
}

/// How many of the rows lie in `scope`.
pub fn rows_in(rows: &[LedgerRow], scope: &str) -> u32 {
    rows.iter()
        .filter(|r| r.village_code.starts_with(scope))
        .count() as u32
}

// ---------------------------------------------------------------------------------------------
// The reports' specs (what the list, the OpenAPI document and the export say).

impl ReportRow for LedgerRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "attendance",
        number: 1,
        title_zh: "考勤台账",
        title_en: "Attendance ledger",
        time_basis: super::TimeBasis::DeviceEventTime,
        params: &[
            param("month", true, ParamKind::Month, "the month, YYYY-MM"),
            param(
                "today",
                false,
                ParamKind::Date,
                "days after it have no status yet; default today (UTC+8)",
            ),
        ],
        summary: &[
            Field::new(
                "cadres",
                T::Integer,
                false,
                "cadres with a team role that month",
            ),
            Field::new("compliant", T::Integer, false, "of those, compliant"),
            Field::new("compliance_rate", T::Number, true, "compliant / cadres"),
            Field::new(
                "due_to_county_org",
                T::String,
                false,
                "the ledger reaches the 组织部 by this day (10th⚙ of next month)",
            ),
            Field::shared("signatures", T::Array, "LedgerSignatureStatus"),
        ],
    };
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new(
            "cadre_id",
            T::String,
            false,
            "干部编号",
            "cadre id (= login)",
        )
        .show(Show::Text, |r| r.cadre_id.cell()),
        Column::new(
            "cadre_name",
            T::String,
            true,
            "姓名",
            "姓名, from the Cadre record",
        )
        .show(Show::Text, |r| r.cadre_name.cell()),
        Column::village_code(|r| r.village_code.cell()),
        Column::village_name(|r| r.village_name.cell()),
        Column::new(
            "team_role",
            T::String,
            false,
            "职务",
            "第一书记 or 驻村队员",
        )
        .show(Show::Text, |r| r.team_role.cell()),
        Column::new(
            "in_village_days",
            T::Integer,
            false,
            "在村天数",
            "在村 days (R2)",
        )
        .show(Show::Number, |r| r.in_village_days.cell()),
        Column::new(
            "official_days",
            T::Integer,
            false,
            "公务外出天数",
            "公务外出 days",
        )
        .show(Show::Number, |r| r.official_days.cell()),
        Column::new(
            "leave_days",
            T::Integer,
            false,
            "请假天数",
            "请假 days (事假 + 病假)",
        )
        .show(Show::Number, |r| r.leave_days.cell()),
        Column::new(
            "personal_leave_days",
            T::Integer,
            false,
            "事假天数",
            "事假 days",
        )
        .show(Show::Number, |r| r.personal_leave_days.cell()),
        Column::new(
            "sick_leave_days",
            T::Integer,
            false,
            "病假天数",
            "病假 days",
        )
        .show(Show::Number, |r| r.sick_leave_days.cell()),
        Column::new("rest_days", T::Integer, false, "轮休天数", "轮休 days")
            .show(Show::Number, |r| r.rest_days.cell()),
        Column::new(
            "absent_days",
            T::Integer,
            false,
            "无故不在岗天数",
            "无故不在岗 days (R3)",
        )
        .show(Show::Number, |r| r.absent_days.cell()),
        Column::new(
            "no_record_days",
            T::Integer,
            false,
            "无记录天数",
            "无记录 days",
        )
        .show(Show::Number, |r| r.no_record_days.cell()),
        Column::new(
            "assigned_days",
            T::Integer,
            false,
            "在队天数",
            "days of the month on the team",
        )
        .show(Show::Number, |r| r.assigned_days.cell()),
        Column::new(
            "required_days",
            T::Integer,
            false,
            "应在村天数",
            "R1: ceil(20 × assigned / days in month)",
        )
        .show(Show::Number, |r| r.required_days.cell()),
        Column::new(
            "counted_days",
            T::Integer,
            false,
            "计入在村天数",
            "in-village days as R1 counts them (with 公务外出)",
        )
        .show(Show::Number, |r| r.counted_days.cell()),
        Column::new(
            "compliant",
            T::Boolean,
            false,
            "是否达标",
            "counted_days ≥ required_days",
        )
        .show(Show::YesNo, |r| r.compliant.cell()),
        Column::new(
            "inspection_absences",
            T::Integer,
            false,
            "本月督查不在岗次数",
            "inspections this month finding 无故不在岗",
        )
        .show(Show::Number, |r| r.inspection_absences.cell()),
        Column::new(
            "inspection_absences_year",
            T::Integer,
            false,
            "本年督查不在岗次数",
            "the same, this year to the month's end (R4)",
        )
        .show(Show::Number, |r| r.inspection_absences_year.cell()),
        Column::new(
            "r4_rating_cap",
            T::String,
            false,
            "R4评定等次上限",
            "none | not_excellent | basically_competent | incompetent_recall_candidate",
        ),
        Column::new(
            "unreturned_leaves",
            T::Integer,
            false,
            "超期未销假次数",
            "approved leave past its end without 销假",
        )
        .show(Show::Number, |r| r.unreturned_leaves.cell()),
        Column::new(
            "log_days",
            T::Integer,
            false,
            "日志天数",
            "days of the month with a 驻村日志",
        )
        .show(Show::Number, |r| r.log_days.cell()),
        Column::new(
            "in_village_days_without_log",
            T::Integer,
            false,
            "在村无日志天数",
            "R16: 在村 days without a log",
        )
        .show(Show::Number, |r| r.in_village_days_without_log.cell()),
        Column::new(
            "logs_reviewed_late",
            T::Integer,
            false,
            "日志未按时审阅篇数",
            "R16: logs not reviewed by day 10 of the next month",
        )
        .show(Show::Number, |r| r.logs_reviewed_late.cell()),
    ];
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod figures_tests {
    use super::*;

    fn row(village: &str, cadre: &str, days: u32) -> LedgerRow {
        LedgerRow {
            cadre_id: cadre.into(),
            cadre_name: Some("王芳".into()),
            village_code: village.into(),
            team_role: "驻村队员",
            in_village_days: days,
            r4_rating_cap: "none",
            ..LedgerRow::default()
        }
    }

    #[test]
    fn the_figures_hash_reads_the_scope_in_order_and_not_the_names() {
        let a = row("530322101201", "b", 20);
        let b = row("530322101201", "a", 18);
        let other = row("530322101202", "c", 5);
        let h = figures_sha256(
            &[a.clone(), b.clone(), other.clone()],
            "530322101201",
            "2016-05",
        );
        // Order and rows outside the scope do not matter.
        assert_eq!(
            h,
            figures_sha256(&[b.clone(), a.clone()], "530322101201", "2016-05")
        );
        // Names are not figures.
        let mut renamed = a.clone();
        renamed.cadre_name = Some("王 芳".into());
        assert_eq!(
            h,
            figures_sha256(&[renamed, b.clone()], "530322101201", "2016-05")
        );
        // A figure, the month or the scope do.
        let mut changed = a.clone();
        changed.in_village_days = 21;
        assert_ne!(
            h,
            figures_sha256(&[changed, b.clone()], "530322101201", "2016-05")
        );
        assert_ne!(
            h,
            figures_sha256(&[a.clone(), b.clone()], "530322101201", "2016-06")
        );
        // The township's figures hold both villages.
        let t = figures_text(&[a, b, other], "530322101", "2016-05");
        assert_eq!(t.lines().count(), 5);
        assert!(t.starts_with("cunji-attendance-ledger-figures/1\n530322101\t2016-05\n"));
        assert!(
            t.lines()
                .nth(2)
                .unwrap()
                .starts_with("530322101201\ta\t驻村队员\t18\t")
        );
        assert_eq!(rows_in(&[row("530322101201", "a", 1)], "530322101"), 1);
    }

    #[test]
    fn the_due_day_is_in_the_next_month() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(ledger_due_date(d("2016-05-01"), 10), d("2016-06-10"));
        assert_eq!(ledger_due_date(d("2016-12-01"), 10), d("2017-01-10"));
        assert_eq!(ledger_due_date(d("2016-01-01"), 28), d("2016-02-28"));
    }
}
