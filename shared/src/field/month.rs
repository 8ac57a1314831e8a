//! "My log": a month of day statuses laid out as a calendar.

use chrono::Datelike;
use serde::Serialize;

use crate::domain::codes::DayStatus;
use crate::rules::CadreMonth;
use crate::rules::attendance::MonthSummary;
use crate::rules::visits::DueHousehold;

/// One day of the calendar.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayCell {
    pub day: u32,
    /// `None` for days outside the cadre's time on the team.
    pub status: Option<DayStatus>,
}

/// A cadre's month as a calendar: `leading_blanks` empty cells (Monday first) then one cell
/// per day, and the R1 summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonthGrid {
    pub cadre_id: String,
    pub leading_blanks: u32,
    pub days: Vec<DayCell>,
    pub summary: MonthSummary,
}

/// The "my log" screen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MyMonth {
    pub year: i32,
    pub month: u32,
    pub me: MonthGrid,
    /// My households due a visit (R5).
    pub due: Vec<DueHousehold>,
    /// Each team member's month, for a first secretary; empty otherwise.
    pub team: Vec<MonthGrid>,
}

/// Lays out a month's statuses as calendar cells.
pub fn month_grid(month: CadreMonth, year: i32, m: u32) -> MonthGrid {
    let days_in_month: Vec<_> = crate::rules::attendance::month_days(year, m).collect();
    let leading_blanks = days_in_month
        .first()
        .map(|d| d.weekday().num_days_from_monday())
        .unwrap_or(0);
    let days = days_in_month
        .iter()
        .map(|d| DayCell {
            day: d.day(),
            status: month
                .days
                .iter()
                .find(|(date, _)| date == d)
                .map(|(_, s)| *s),
        })
        .collect();
    MonthGrid {
        cadre_id: month.cadre_id,
        leading_blanks,
        days,
        summary: month.summary,
    }
}
