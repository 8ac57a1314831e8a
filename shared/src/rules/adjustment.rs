//! R12's poverty line and R13's windows for 动态调整 (DOMAIN §3, §2.8), as county settings.
//!
//! **R13 (check)**: inclusions and data changes are made in the quarterly window, exits in the
//! annual window (DOMAIN's example: October). A window here is a set of calendar months, and a
//! case is *opened* (its 申请/村初选 step dated) inside the window of its type; the later steps
//! may run past the window's end, as township and county review do in practice. Which type
//! belongs to which window follows [`StatusChangeType::is_exit`]: 标注脱贫, 清退 and 自然销户
//! take the annual window, 新识别纳入, 返贫纳入 and 成员自然增减 the quarterly one.
//!
//! Defaults, a decision DOMAIN leaves to the county (⚙): the quarterly window is the first
//! month of each quarter (January, April, July, October), the annual window October. A county
//! that runs its quarterly update in the last month of the quarter, or its exits in November,
//! sets its own months; a county that wants no window lists all twelve.
//!
//! **R12's poverty line** is the national line of the income year ([`default_poverty_line`],
//! 2300 yuan at 2010 prices, indexed) unless the county sets its own (a 省定标准 above the
//! national one, say): [`AdjustmentConfig::poverty_lines`] lists lines from a year on.
//!
//! The phone checks the window before it opens a case, to tell the cadre offline; the server
//! checks both rules on every push (`sync-server/src/checks.rs`).

use serde::{Deserialize, Serialize};

use crate::domain::codes::StatusChangeType;
use crate::values::{Date, Money};
use chrono::Datelike;

/// The national poverty line for an income year (2300 yuan at 2010 prices, indexed).
pub fn default_poverty_line(year: i32) -> Money {
    Money::from_yuan(match year {
        ..=2014 => 2_800,
        2015 => 2_855,
        _ => 2_952,
    })
}

/// A county's own poverty line, from an income year on (until a later entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct YearLine {
    pub from_year: i32,
    pub line: Money,
}

/// R12–R13's county settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AdjustmentConfig {
    /// R13: the months (1–12) in which inclusions and data changes are opened.
    pub quarterly_months: Vec<u32>,
    /// R13: the months (1–12) in which exits are opened.
    pub annual_months: Vec<u32>,
    /// R12: the county's poverty lines; empty means the national line of each year.
    pub poverty_lines: Vec<YearLine>,
}

impl Default for AdjustmentConfig {
    fn default() -> Self {
        AdjustmentConfig {
            quarterly_months: vec![1, 4, 7, 10],
            annual_months: vec![10],
            poverty_lines: Vec::new(),
        }
    }
}

impl AdjustmentConfig {
    /// The months in which a case of `change_type` is opened.
    pub fn window(&self, change_type: StatusChangeType) -> &[u32] {
        if change_type.is_exit() {
            &self.annual_months
        } else {
            &self.quarterly_months
        }
    }

    /// R13: whether a case of `change_type` may be opened on `date`.
    pub fn in_window(&self, change_type: StatusChangeType, date: Date) -> bool {
        self.window(change_type).contains(&date.month())
    }

    /// The window of `change_type` as people read it: "1月、4月、7月、10月" and
    /// "January, April, July, October".
    pub fn window_text(&self, change_type: StatusChangeType) -> (String, String) {
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let mut months = self.window(change_type).to_vec();
        months.sort_unstable();
        let zh: Vec<String> = months.iter().map(|m| format!("{m}月")).collect();
        let en: Vec<&str> = months
            .iter()
            .filter_map(|m| EN.get((*m as usize).wrapping_sub(1)).copied())
            .collect();
        (zh.join("、"), en.join(", "))
    }

    /// R12's line for an income year: the county's latest line from that year or before, else
    /// the national line.
    pub fn poverty_line(&self, year: i32) -> Money {
        self.poverty_lines
            .iter()
            .filter(|l| l.from_year <= year)
            .max_by_key(|l| l.from_year)
            .map_or_else(|| default_poverty_line(year), |l| l.line)
    }
}

/// R13's refusal of a case opened outside its window: Chinese, then English.
pub fn outside_window_message(
    cfg: &AdjustmentConfig,
    change_type: StatusChangeType,
    date: Date,
) -> String {
    let (zh, en) = cfg.window_text(change_type);
    let (which_zh, which_en) = if change_type.is_exit() {
        ("年度", "annual")
    } else {
        ("季度", "quarterly")
    };
    format!(
        "“{}”只能在本县的{which_zh}动态调整时段({zh})发起,{date}不在其中:请到时段内再发起 / a case of “{}” is opened only in the county's {which_en} window ({en}); {date} is outside it: open it in the window",
        change_type.label_zh(),
        change_type.label_en()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn exits_take_the_annual_window_and_inclusions_the_quarterly_one() {
        let cfg = AdjustmentConfig::default();
        assert!(cfg.in_window(StatusChangeType::MarkedExit, d(2016, 10, 31)));
        assert!(!cfg.in_window(StatusChangeType::MarkedExit, d(2016, 11, 1)));
        assert!(!cfg.in_window(StatusChangeType::Removal, d(2016, 4, 1)));
        assert!(cfg.in_window(StatusChangeType::NewInclusion, d(2016, 4, 1)));
        assert!(cfg.in_window(StatusChangeType::MemberChange, d(2016, 7, 15)));
        assert!(!cfg.in_window(StatusChangeType::ReturnInclusion, d(2016, 5, 1)));
        let message = outside_window_message(&cfg, StatusChangeType::MarkedExit, d(2016, 11, 1));
        assert!(message.contains("10月"), "{message}");
        assert!(message.contains("October"), "{message}");
    }

    #[test]
    fn a_county_line_applies_from_its_year_on() {
        let mut cfg = AdjustmentConfig::default();
        assert_eq!(cfg.poverty_line(2015), Money::from_yuan(2_855));
        cfg.poverty_lines = vec![
            YearLine {
                from_year: 2016,
                line: Money::from_yuan(3_100),
            },
            YearLine {
                from_year: 2018,
                line: Money::from_yuan(3_500),
            },
        ];
        assert_eq!(cfg.poverty_line(2015), Money::from_yuan(2_855));
        assert_eq!(cfg.poverty_line(2017), Money::from_yuan(3_100));
        assert_eq!(cfg.poverty_line(2020), Money::from_yuan(3_500));
    }
}
