//! Attendance rules R1–R3: a cadre's status for each day and their in-village day count.
//!
//! Pure functions over facts ([`CheckInFact`], [`LeaveFact`], assignment periods); the store
//! gathers the facts from its projections ([`crate::Store::attendance_month`]). A day is, in
//! order of precedence:
//! 1. 在村 (R2) with at least `min_checkins` valid check-ins: inside the geofence, inside the
//!    check-in window, no mock location, clock drift (once known) within the limit;
//! 2. covered by a leave that excuses it (R3): approved (or since returned), at the level its
//!    length requires, requested before it starts (sick leave: within the grace days after).
//!    公务外出报备 and 公假(会议培训) days are 公务外出, 轮休 is 轮休, the rest 请假;
//! 3. 无故不在岗 when it falls after an approved leave's `to` and before its 销假 (R3);
//! 4. otherwise 无记录.
//!
//! Days outside the cadre's team assignment and days after `today` have no status. Rankings,
//! penalties and mandatory photos are deliberately absent (DOMAIN §3, compliance caution):
//! these figures are evidence for review.

use chrono::{Datelike, NaiveTime};
use serde::Serialize;

use crate::domain::codes::{ApprovalLevel, DayStatus, LeaveStatus, LeaveType};
use crate::values::Date;

/// The county-configurable (⚙) attendance settings, with DOMAIN's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AttendanceConfig {
    /// R1: in-village days required in a full calendar month.
    pub required_days: u32,
    /// R1: whether 公务外出 (trips and meetings) days count toward the requirement.
    pub count_official_days: bool,
    /// R2: valid check-ins needed for a day to be 在村.
    pub min_checkins: u32,
    /// R2: the check-in window, local time.
    pub window_start: NaiveTime,
    pub window_end: NaiveTime,
    /// R2: the largest clock drift (seconds) a check-in may have.
    pub max_clock_drift_s: i64,
    /// R3: sick leave may be requested up to this many days after it starts.
    pub sick_leave_grace_days: i64,
    /// R3: leave up to this many days is approved by the township, longer by the county
    /// organisation department.
    pub township_max_leave_days: u32,
    /// Report 1: the township signs month M's ledger, and the organisation department
    /// receives it, by this day of M+1 (DOMAIN §4: day 10⚙).
    pub ledger_due_day: u32,
}

impl Default for AttendanceConfig {
    fn default() -> Self {
        AttendanceConfig {
            required_days: 20,
            count_official_days: true,
            min_checkins: 1,
            window_start: NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default(),
            window_end: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
            max_clock_drift_s: 600,
            sick_leave_grace_days: 2,
            township_max_leave_days: 3,
            ledger_due_day: 10,
        }
    }
}

/// One check-in, as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInFact {
    /// Local date and time of the check-in, in the zone it was made in.
    pub date: Date,
    pub time: NaiveTime,
    pub inside_geofence: bool,
    pub mock: bool,
    /// Known once the server has compared clocks; `None` before.
    pub clock_drift_s: Option<i64>,
}

/// One leave or trip request, as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaveFact {
    pub leave_type: LeaveType,
    pub from: Date,
    pub to: Date,
    pub days: u32,
    /// The local date the request was made.
    pub requested: Date,
    pub status: LeaveStatus,
    pub level: ApprovalLevel,
    /// The local date of 销假, if done.
    pub returned: Option<Date>,
}

/// A period of team membership (`to` inclusive; open-ended when `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Option<Date>,
}

impl Period {
    pub fn contains(&self, d: Date) -> bool {
        d >= self.from && self.to.is_none_or(|t| d <= t)
    }
}

/// R2: whether a check-in counts toward 在村.
pub fn check_in_counts(c: &CheckInFact, cfg: &AttendanceConfig) -> bool {
    c.inside_geofence
        && !c.mock
        && c.time >= cfg.window_start
        && c.time <= cfg.window_end
        && c.clock_drift_s
            .is_none_or(|d| d.abs() <= cfg.max_clock_drift_s)
}

/// The approval level a leave of `days` days needs.
pub fn required_level(days: u32, cfg: &AttendanceConfig) -> ApprovalLevel {
    if days <= cfg.township_max_leave_days {
        ApprovalLevel::Township
    } else {
        ApprovalLevel::CountyOrg
    }
}

/// R3: whether a leave excuses the days it covers.
pub fn leave_excuses(l: &LeaveFact, cfg: &AttendanceConfig) -> bool {
    let approved = matches!(
        l.status,
        LeaveStatus::Approved | LeaveStatus::Returned | LeaveStatus::Overdue
    );
    let right_level = l.level == required_level(l.days, cfg)
        || (l.level == ApprovalLevel::CountyOrg
            && required_level(l.days, cfg) == ApprovalLevel::Township);
    let grace = if l.leave_type == LeaveType::Sick {
        cfg.sick_leave_grace_days
    } else {
        0
    };
    let in_time = (l.requested - l.from).num_days() <= grace;
    approved && right_level && in_time
}

fn status_for_leave(t: LeaveType) -> DayStatus {
    match t {
        LeaveType::OfficialTrip | LeaveType::OfficialMeeting => DayStatus::OfficialTrip,
        LeaveType::Rotation => DayStatus::Rotation,
        LeaveType::Personal | LeaveType::Sick => DayStatus::OnLeave,
    }
}

/// The status of one day (see the module docs for the precedence).
pub fn day_status(
    day: Date,
    checkins: &[CheckInFact],
    leaves: &[LeaveFact],
    cfg: &AttendanceConfig,
) -> DayStatus {
    let valid = checkins
        .iter()
        .filter(|c| c.date == day && check_in_counts(c, cfg))
        .count();
    if valid as u32 >= cfg.min_checkins.max(1) {
        return DayStatus::InVillage;
    }
    if let Some(l) = leaves
        .iter()
        .find(|l| day >= l.from && day <= l.to && leave_excuses(l, cfg))
    {
        return status_for_leave(l.leave_type);
    }
    let unreturned = leaves.iter().any(|l| {
        matches!(
            l.status,
            LeaveStatus::Approved | LeaveStatus::Overdue | LeaveStatus::Returned
        ) && day > l.to
            && l.returned.is_none_or(|r| day < r)
    });
    if unreturned {
        DayStatus::Absent
    } else {
        DayStatus::NoRecord
    }
}

/// Every day of `month` within an assignment period and not after `today`, with its status.
pub fn month_statuses(
    year: i32,
    month: u32,
    assigned: &[Period],
    checkins: &[CheckInFact],
    leaves: &[LeaveFact],
    today: Date,
    cfg: &AttendanceConfig,
) -> Vec<(Date, DayStatus)> {
    month_days(year, month)
        .filter(|d| *d <= today && assigned.iter().any(|p| p.contains(*d)))
        .map(|d| (d, day_status(d, checkins, leaves, cfg)))
        .collect()
}

/// The last day of the month that `day` lies in.
pub fn month_end(day: Date) -> Date {
    month_days(day.year(), day.month()).last().unwrap_or(day)
}

/// The days of a calendar month.
pub fn month_days(year: i32, month: u32) -> impl Iterator<Item = Date> {
    let first = Date::from_ymd_opt(year, month, 1);
    first
        .into_iter()
        .flat_map(|f| f.iter_days().take_while(move |d| d.month() == f.month()))
}

/// R1 for a partial month: `ceil(required × assigned_days / days_in_month)`.
pub fn required_days(assigned_days: u32, days_in_month: u32, cfg: &AttendanceConfig) -> u32 {
    if days_in_month == 0 {
        return 0;
    }
    (cfg.required_days * assigned_days).div_ceil(days_in_month)
}

/// A cadre's month (report 1, 考勤台账, for one cadre).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MonthSummary {
    pub in_village_days: u32,
    pub official_days: u32,
    pub leave_days: u32,
    pub rest_days: u32,
    pub absent_days: u32,
    pub no_record_days: u32,
    /// Days of the month within the team assignment.
    pub assigned_days: u32,
    pub required_days: u32,
    /// In-village days as R1 counts them (plus 公务外出 when configured).
    pub counted_days: u32,
    pub compliant: bool,
}

/// Sums a month's statuses per R1.
pub fn summarize(
    year: i32,
    month: u32,
    assigned: &[Period],
    statuses: &[(Date, DayStatus)],
    cfg: &AttendanceConfig,
) -> MonthSummary {
    let mut s = MonthSummary::default();
    for (_, status) in statuses {
        match status {
            DayStatus::InVillage => s.in_village_days += 1,
            DayStatus::OfficialTrip => s.official_days += 1,
            DayStatus::OnLeave => s.leave_days += 1,
            DayStatus::Rotation => s.rest_days += 1,
            DayStatus::Absent => s.absent_days += 1,
            DayStatus::NoRecord => s.no_record_days += 1,
        }
    }
    let days: Vec<Date> = month_days(year, month).collect();
    s.assigned_days = days
        .iter()
        .filter(|d| assigned.iter().any(|p| p.contains(**d)))
        .count() as u32;
    s.required_days = required_days(s.assigned_days, days.len() as u32, cfg);
    s.counted_days = s.in_village_days
        + if cfg.count_official_days {
            s.official_days
        } else {
            0
        };
    s.compliant = s.counted_days >= s.required_days;
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> Date {
        Date::from_ymd_opt(2016, m, day).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn ci(day: Date, time: NaiveTime) -> CheckInFact {
        CheckInFact {
            date: day,
            time,
            inside_geofence: true,
            mock: false,
            clock_drift_s: None,
        }
    }

    fn leave(lt: LeaveType, from: Date, to: Date, requested: Date) -> LeaveFact {
        let days = (to - from).num_days() as u32 + 1;
        LeaveFact {
            leave_type: lt,
            from,
            to,
            days,
            requested,
            status: LeaveStatus::Returned,
            level: required_level(days, &AttendanceConfig::default()),
            returned: Some(to + chrono::Days::new(1)),
        }
    }

    #[test]
    fn r2_a_day_needs_a_check_in_inside_the_fence_window_and_without_mock() {
        let cfg = AttendanceConfig::default();
        let day = d(3, 1);
        assert_eq!(
            day_status(day, &[ci(day, t(8, 0))], &[], &cfg),
            DayStatus::InVillage
        );
        assert_eq!(
            day_status(day, &[ci(day, t(5, 59))], &[], &cfg),
            DayStatus::NoRecord
        );
        assert_eq!(
            day_status(day, &[ci(day, t(22, 1))], &[], &cfg),
            DayStatus::NoRecord
        );
        let outside = CheckInFact {
            inside_geofence: false,
            ..ci(day, t(9, 0))
        };
        assert_eq!(day_status(day, &[outside], &[], &cfg), DayStatus::NoRecord);
        let mock = CheckInFact {
            mock: true,
            ..ci(day, t(9, 0))
        };
        assert_eq!(day_status(day, &[mock], &[], &cfg), DayStatus::NoRecord);
        let drift = CheckInFact {
            clock_drift_s: Some(601),
            ..ci(day, t(9, 0))
        };
        assert_eq!(day_status(day, &[drift], &[], &cfg), DayStatus::NoRecord);
        let small = CheckInFact {
            clock_drift_s: Some(-600),
            ..ci(day, t(9, 0))
        };
        assert_eq!(day_status(day, &[small], &[], &cfg), DayStatus::InVillage);
        // A check-in on another day does not count for this one.
        assert_eq!(
            day_status(day, &[ci(d(3, 2), t(9, 0))], &[], &cfg),
            DayStatus::NoRecord
        );
    }

    #[test]
    fn r2_min_checkins_is_configurable() {
        let cfg = AttendanceConfig {
            min_checkins: 2,
            ..AttendanceConfig::default()
        };
        let day = d(3, 1);
        assert_eq!(
            day_status(day, &[ci(day, t(8, 0))], &[], &cfg),
            DayStatus::NoRecord
        );
        let two = [ci(day, t(8, 0)), ci(day, t(15, 0))];
        assert_eq!(day_status(day, &two, &[], &cfg), DayStatus::InVillage);
    }

    #[test]
    fn r3_leave_types_map_to_day_statuses() {
        let cfg = AttendanceConfig::default();
        let day = d(3, 10);
        for (lt, want) in [
            (LeaveType::Personal, DayStatus::OnLeave),
            (LeaveType::Sick, DayStatus::OnLeave),
            (LeaveType::OfficialTrip, DayStatus::OfficialTrip),
            (LeaveType::OfficialMeeting, DayStatus::OfficialTrip),
            (LeaveType::Rotation, DayStatus::Rotation),
        ] {
            let l = leave(lt, d(3, 9), d(3, 11), d(3, 8));
            assert_eq!(day_status(day, &[], &[l], &cfg), want, "{lt:?}");
        }
    }

    #[test]
    fn r3_late_request_wrong_level_or_unapproved_leave_excuses_nothing() {
        let cfg = AttendanceConfig::default();
        let day = d(3, 10);
        let late = leave(LeaveType::Personal, d(3, 9), d(3, 11), d(3, 10));
        assert_eq!(day_status(day, &[], &[late], &cfg), DayStatus::NoRecord);
        // Sick leave may be requested up to two days late, not three.
        let sick_ok = leave(LeaveType::Sick, d(3, 9), d(3, 11), d(3, 11));
        assert_eq!(day_status(day, &[], &[sick_ok], &cfg), DayStatus::OnLeave);
        let sick_late = leave(LeaveType::Sick, d(3, 8), d(3, 11), d(3, 11));
        assert_eq!(
            day_status(day, &[], &[sick_late], &cfg),
            DayStatus::NoRecord
        );
        // Five days approved by the township only: the county organisation dept. must approve.
        let mut long = leave(LeaveType::Personal, d(3, 8), d(3, 12), d(3, 1));
        long.level = ApprovalLevel::Township;
        assert_eq!(
            day_status(day, &[], &[long.clone()], &cfg),
            DayStatus::NoRecord
        );
        long.level = ApprovalLevel::CountyOrg;
        assert_eq!(day_status(day, &[], &[long], &cfg), DayStatus::OnLeave);
        let mut pending = leave(LeaveType::Personal, d(3, 9), d(3, 11), d(3, 1));
        pending.status = LeaveStatus::Pending;
        assert_eq!(day_status(day, &[], &[pending], &cfg), DayStatus::NoRecord);
    }

    #[test]
    fn r3_days_after_leave_without_return_are_absent_until_return() {
        let cfg = AttendanceConfig::default();
        let mut l = leave(LeaveType::Personal, d(3, 1), d(3, 3), d(2, 28));
        l.status = LeaveStatus::Approved;
        l.returned = None;
        assert_eq!(
            day_status(d(3, 4), &[], &[l.clone()], &cfg),
            DayStatus::Absent
        );
        // A valid check-in shows the cadre is back.
        assert_eq!(
            day_status(d(3, 4), &[ci(d(3, 4), t(9, 0))], &[l.clone()], &cfg),
            DayStatus::InVillage
        );
        // 销假 on the 6th: the 4th and 5th are absent, the 6th is not.
        l.returned = Some(d(3, 6));
        l.status = LeaveStatus::Returned;
        assert_eq!(
            day_status(d(3, 5), &[], &[l.clone()], &cfg),
            DayStatus::Absent
        );
        assert_eq!(day_status(d(3, 6), &[], &[l], &cfg), DayStatus::NoRecord);
    }

    #[test]
    fn r1_required_days_prorate_with_ceiling() {
        let cfg = AttendanceConfig::default();
        assert_eq!(required_days(31, 31, &cfg), 20);
        assert_eq!(required_days(30, 30, &cfg), 20);
        // 15 of 31 days: ceil(20 × 15 / 31) = ceil(9.67) = 10.
        assert_eq!(required_days(15, 31, &cfg), 10);
        // 1 of 29 days: ceil(0.69) = 1.
        assert_eq!(required_days(1, 29, &cfg), 1);
        assert_eq!(required_days(0, 30, &cfg), 0);
    }

    #[test]
    fn r1_month_summary_counts_official_days_when_configured() {
        let cfg = AttendanceConfig::default();
        let assigned = [Period {
            from: d(1, 1),
            to: None,
        }];
        // 18 in-village days (1st–18th) and a 3-day official trip (20th–22nd) in a 29-day February.
        let checkins: Vec<CheckInFact> = (1..=18).map(|i| ci(d(2, i), t(9, 0))).collect();
        let trip = leave(LeaveType::OfficialTrip, d(2, 20), d(2, 22), d(2, 19));
        let statuses = month_statuses(2016, 2, &assigned, &checkins, &[trip], d(2, 29), &cfg);
        assert_eq!(statuses.len(), 29);
        let s = summarize(2016, 2, &assigned, &statuses, &cfg);
        assert_eq!(
            (s.in_village_days, s.official_days, s.no_record_days),
            (18, 3, 8)
        );
        assert_eq!(
            (s.required_days, s.counted_days, s.compliant),
            (20, 21, true)
        );
        let strict = AttendanceConfig {
            count_official_days: false,
            ..cfg
        };
        let s = summarize(2016, 2, &assigned, &statuses, &strict);
        assert_eq!((s.counted_days, s.compliant), (18, false));
    }

    #[test]
    fn r1_partial_assignment_and_future_days_are_left_out() {
        let cfg = AttendanceConfig::default();
        // Joined the team on 16 March; today is 20 March.
        let assigned = [Period {
            from: d(3, 16),
            to: None,
        }];
        let checkins: Vec<CheckInFact> = (16..=20).map(|i| ci(d(3, i), t(9, 0))).collect();
        let statuses = month_statuses(2016, 3, &assigned, &checkins, &[], d(3, 20), &cfg);
        assert_eq!(statuses.len(), 5);
        let s = summarize(2016, 3, &assigned, &statuses, &cfg);
        assert_eq!(s.assigned_days, 16);
        // ceil(20 × 16 / 31) = ceil(10.32) = 11.
        assert_eq!(s.required_days, 11);
        assert!(!s.compliant);
    }
}
