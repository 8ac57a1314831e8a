//! The supervisors' reports (DOMAIN §4, reports 1–9) as pure functions over facts.
//!
//! Each report module takes plain fact structs (what the projection tables hold, already
//! scoped to one village, township, county or city) and returns rows and a summary that
//! serialise to the JSON the server's `/v1/reports/*` API answers. The formulas are DOMAIN's,
//! quoted in each function's docs; where a rule already exists for the device
//! ([`crate::rules::attendance`], [`crate::rules::visits`], [`crate::rules::policy`]) the report
//! calls it rather than restating it.
//!
//! Shared here: the report period ([`DateRange`]), which clock a report reads
//! ([`TimeBasis`]), a household's registered status on a past date ([`registered_at`]), and
//! R8's evidence levels ([`evidence`]), which reports 2–4 and 9 all need.
//!
//! Not here: reading the store, authorisation and masking (the server's `reports` module),
//! and the rendering to CSV/xlsx. Nothing here ranks individual cadres: the rows are evidence
//! for review (DOMAIN §3, compliance caution).

pub mod attendance;
pub mod delivery;
pub mod evidence;
pub mod petitions;
pub mod satisfaction;
pub mod spec;
pub mod status_changes;
pub mod visits;

use chrono::Datelike;
use serde::Serialize;

use crate::domain::codes::{HouseholdStatus, StatusChangeResult, StatusChangeType};
use crate::values::{Date, Geo};

/// A report period P = [from, to], both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

impl DateRange {
    pub fn contains(&self, d: Date) -> bool {
        d >= self.from && d <= self.to
    }
}

/// Which clock a report's dates come from (device clocks can be wrong: DOMAIN §2 envelope, R2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// The time the device recorded for the event (a check-in's or a visit's own timestamp,
    /// read in the zone it was made in).
    DeviceEventTime,
    /// Dates a person entered as facts of the record (due dates, delivery dates, received
    /// dates of petitions, step dates), whatever clock the device had.
    RecordDates,
    /// Event times from the device, and the server's own receipt time
    /// (`server_received_ts`) where the report measures how late something was entered.
    DeviceEventAndServerReceived,
}

impl TimeBasis {
    /// What the basis means, in Chinese, for report headers.
    pub fn note_zh(self) -> &'static str {
        match self {
            TimeBasis::DeviceEventTime => "按设备记录的事件时间(打卡、走访时间)统计",
            TimeBasis::RecordDates => "按记录中填写的日期(应兑现日期、兑现日期、受理日期等)统计",
            TimeBasis::DeviceEventAndServerReceived => {
                "事件按设备记录时间统计;补录延迟按服务器收到时间(server_received_ts)计算"
            }
        }
    }

    pub fn note_en(self) -> &'static str {
        match self {
            TimeBasis::DeviceEventTime => {
                "Counted by the event time the device recorded (check-in and visit times)."
            }
            TimeBasis::RecordDates => {
                "Counted by dates entered in the records (due, delivery, received, step dates)."
            }
            TimeBasis::DeviceEventAndServerReceived => {
                "Events by the device's recorded time; entry delays by the server's receipt time (server_received_ts)."
            }
        }
    }
}

/// `n / d`, or `None` when there is nothing to divide by (an empty scope has no rate, not 0%).
pub fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// A household as the reports need it.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdFact {
    pub id: String,
    pub village_code: String,
    pub head_name: Option<String>,
    /// The status now (the merged record's).
    pub status: HouseholdStatus,
    pub registered_year: i32,
    pub home: Option<Geo>,
}

/// A 动态调整 case, as [`registered_at`] needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEventFact {
    pub household_id: String,
    pub change_type: StatusChangeType,
    pub result: Option<StatusChangeResult>,
    pub effective_date: Option<Date>,
}

/// Whether a household had a registered status (未脱贫, 返贫, 已脱贫(享受政策)) on `d`.
///
/// The record holds only today's status, so the status on a past day is today's with every
/// approved 动态调整 that took effect after `d` undone, latest first: before a 新识别纳入 or
/// 返贫纳入 the household was not registered; before a 标注脱贫, 清退 or 自然销户 it was.
/// A household registered in a later year was not registered on `d`. `changes` may hold other
/// households' cases; they are skipped.
pub fn registered_at(h: &HouseholdFact, changes: &[&StatusEventFact], d: Date) -> bool {
    if h.registered_year > d.year() {
        return false;
    }
    let mut later: Vec<(&Date, StatusChangeType)> = changes
        .iter()
        .filter(|c| c.household_id == h.id && c.result == Some(StatusChangeResult::Approved))
        .filter_map(|c| c.effective_date.as_ref().map(|e| (e, c.change_type)))
        .filter(|(e, _)| **e > d)
        .collect();
    later.sort_by(|a, b| b.0.cmp(a.0));
    let mut registered = h.status.is_registered();
    for (_, t) in later {
        registered = match t {
            StatusChangeType::NewInclusion | StatusChangeType::ReturnInclusion => false,
            StatusChangeType::MarkedExit
            | StatusChangeType::Removal
            | StatusChangeType::Closure => true,
            StatusChangeType::MemberChange => registered,
        };
    }
    registered
}

/// A group's count and rate (a breakdown row: by unit, by cadre level, by domain…).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupCount {
    pub key: String,
    pub label: String,
    pub total: u64,
    pub count: u64,
    pub rate: Option<f64>,
}

impl GroupCount {
    pub fn new(key: impl Into<String>, label: impl Into<String>, total: u64, count: u64) -> Self {
        GroupCount {
            key: key.into(),
            label: label.into(),
            total,
            count,
            rate: ratio(count, total),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::from_ymd_opt(y, m, day).unwrap()
    }

    fn hh(status: HouseholdStatus, year: i32) -> HouseholdFact {
        HouseholdFact {
            id: "h1".into(),
            village_code: "v".into(),
            head_name: None,
            status,
            registered_year: year,
            home: None,
        }
    }

    fn case(t: StatusChangeType, eff: Date) -> StatusEventFact {
        StatusEventFact {
            household_id: "h1".into(),
            change_type: t,
            result: Some(StatusChangeResult::Approved),
            effective_date: Some(eff),
        }
    }

    #[test]
    fn registered_status_on_a_past_day_undoes_later_approved_changes() {
        // Removed (清退) on 2016-03-01: registered before, not after.
        let h = hh(HouseholdStatus::Removed, 2014);
        let c = case(StatusChangeType::Removal, d(2016, 3, 1));
        assert!(registered_at(&h, &[&c], d(2016, 2, 29)));
        assert!(!registered_at(&h, &[&c], d(2016, 3, 1)));
        // Newly included on 2015-11-20, registered year 2015.
        let h = hh(HouseholdStatus::NotExited, 2015);
        let c = case(StatusChangeType::NewInclusion, d(2015, 11, 20));
        assert!(!registered_at(&h, &[&c], d(2015, 11, 19)));
        assert!(registered_at(&h, &[&c], d(2015, 11, 20)));
        assert!(!registered_at(&h, &[&c], d(2014, 12, 31)));
        // A rejected case changes nothing; an exit without support was registered before.
        let h = hh(HouseholdStatus::ExitedUnsupported, 2014);
        let mut rejected = case(StatusChangeType::MarkedExit, d(2016, 10, 30));
        rejected.result = Some(StatusChangeResult::Rejected);
        assert!(!registered_at(&h, &[&rejected], d(2016, 1, 1)));
        let exit = case(StatusChangeType::MarkedExit, d(2016, 10, 30));
        assert!(registered_at(&h, &[&exit], d(2016, 1, 1)));
    }
}
