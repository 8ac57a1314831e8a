//! Attendance records (DOMAIN §2.4): a cadre's check-in in the village (考勤打卡) and a leave
//! or trip request (请假/外出报备).
//!
//! Both are event records, written only by the cadre (approvers change a leave's status
//! through their own edit with a reason).
//!
//! Not here: `inside_geofence` and `clock_drift_s` of a check-in, and the day status
//! ([`DayStatus`](super::codes::DayStatus)). They depend on the village's geofence, the
//! server's receipt time and the county's settings, so the rules derive them when read; the
//! check-in keeps only what the device saw. Mandatory photo or GPS check-in is a county
//! setting, not a default (see DOMAIN's compliance caution), so the photo is optional here:
//! the record holds its SHA-256 only, and whether the phone offers or requires a photo is the
//! county's [`CheckInPhoto`](crate::rules::CheckInPhoto) (enforced by the field app when the
//! check-in is made, not by this record's validation: a check-in made before the county
//! changed its setting stays valid).

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{ApprovalLevel, CheckInSlot, LeaveStatus, LeaveType};
use super::org::{check_sha256, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Geo, Timestamp};

/// Leave up to this many days is approved by the township by default (⚙).
pub const TOWNSHIP_MAX_LEAVE_DAYS: u32 = 3;

// ---------------------------------------------------------------------------------------------
// CheckIn 考勤打卡

/// One check-in: one tap, where and when the cadre was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckIn {
    pub cadre_id: String,
    pub village_code: String,
    /// Device time with the device's zone; the local date and time of day come from it.
    pub ts: Timestamp,
    pub geo: Geo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<CheckInSlot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_sha256: Option<String>,
    /// The app itself suspected a mock location (besides the OS flag in `geo.mock_flag`).
    pub mock_flag: bool,
}

impl CheckIn {
    /// The calendar day of the check-in in the zone it was recorded in: a check-in at 07:30
    /// Beijing time belongs to that day even though it is the previous day in UTC.
    pub fn local_date(&self) -> Date {
        self.ts.date_naive()
    }

    /// Either the OS or the app flagged a mock location.
    pub fn mocked(&self) -> bool {
        self.mock_flag || self.geo.mock_flag
    }

    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        let ts = |s: &str| s.parse::<Timestamp>().expect("example timestamp");
        CheckIn {
            cadre_id: "cadre-li-ming".into(),
            village_code: "530322101201".into(),
            ts: ts("2015-09-14T07:52:00+08:00"),
            geo: Geo {
                accuracy_m: Some(8.0),
                fix_ts: Some(ts("2015-09-14T07:51:58+08:00")),
                ..Geo::at(25.03125, 103.66702)
            },
            slot: Some(CheckInSlot::Morning),
            photo_sha256: None,
            mock_flag: false,
        }
    }
}

static CHECK_IN_TABLES: [Table; 1] = [Table {
    name: "p_checkin",
    columns: &[
        ("cadre_id", SqlType::Text),
        ("village_code", SqlType::Text),
        ("ts", SqlType::Text),
        ("local_date", SqlType::Text),
        ("local_time", SqlType::Text),
        ("slot", SqlType::Text),
        ("lat", SqlType::Real),
        ("lon", SqlType::Real),
        ("accuracy_m", SqlType::Real),
        ("mock_flag", SqlType::Integer),
        ("has_photo", SqlType::Integer),
        ("state", SqlType::Text),
    ],
    indexes: &[&["cadre_id", "local_date"], &["village_code", "local_date"]],
}];

impl Record for CheckIn {
    const KIND: Kind = Kind::CheckIn;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.village_code.clone())
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.local_date())
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.cadre_id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("cadre_id", &self.cadre_id)?;
        non_empty("village_code", &self.village_code)?;
        range("geo", self.geo.is_valid(), "the location is not on Earth")?;
        if let Some(acc) = self.geo.accuracy_m {
            range(
                "geo.accuracy_m",
                acc.is_finite() && acc >= 0.0,
                "accuracy is a distance",
            )?;
        }
        if let Some(hash) = &self.photo_sha256 {
            check_sha256("photo_sha256", hash)?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &CHECK_IN_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_checkin",
            vec![
                ("cadre_id", self.cadre_id.sql()),
                ("village_code", self.village_code.sql()),
                ("ts", self.ts.sql()),
                ("local_date", self.local_date().sql()),
                ("local_time", self.ts.format("%H:%M").to_string().sql()),
                ("slot", self.slot.sql()),
                ("lat", self.geo.lat.sql()),
                ("lon", self.geo.lon.sql()),
                ("accuracy_m", self.geo.accuracy_m.sql()),
                ("mock_flag", self.mocked().sql()),
                ("has_photo", self.photo_sha256.is_some().sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Leave 请假/外出报备

/// A leave or official-trip request, from request to 销假.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Leave {
    pub cadre_id: String,
    #[serde(rename = "type")]
    pub leave_type: LeaveType,
    /// First day away.
    pub from: Date,
    /// Last day away (inclusive).
    pub to: Date,
    /// Calendar days from `from` to `to`, both included.
    pub days: u32,
    pub reason: String,
    pub requested_ts: Timestamp,
    /// The team leader (队长) who agreed before it went to the approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsed_by: Option<String>,
    pub approver_id: String,
    pub level: ApprovalLevel,
    pub status: LeaveStatus,
    /// When the cadre reported back (销假); set exactly when the status is 已销假.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_ts: Option<Timestamp>,
    /// 诊断证明, 会议通知...: a description or an attachment hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The approver's decision (批准 or 驳回), in its own name, with the reason for sending
    /// it back ([`crate::rules::approvals`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<super::worklog::Review>,
}

impl Leave {
    /// Calendar days from `from` to `to`, both included (what `days` must say).
    pub fn span_days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// Who must approve (R3): the township up to `township_max_days` days (3 by default, ⚙),
    /// the county organisation department beyond.
    pub fn required_level(&self, township_max_days: u32) -> ApprovalLevel {
        if self.days <= township_max_days {
            ApprovalLevel::Township
        } else {
            ApprovalLevel::CountyOrg
        }
    }

    /// Whether `date` falls within the leave.
    pub fn covers(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }

    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        let ts = |s: &str| s.parse::<Timestamp>().expect("example timestamp");
        let d = |y, m, day| Date::from_ymd_opt(y, m, day).expect("valid date");
        Leave {
            cadre_id: "cadre-li-ming".into(),
            leave_type: LeaveType::Personal,
            from: d(2015, 10, 8),
            to: d(2015, 10, 9),
            days: 2,
            reason: "母亲住院手术,回曲靖陪护".into(),
            requested_ts: ts("2015-10-06T18:30:00+08:00"),
            endorsed_by: Some("cadre-wang-zhigang".into()),
            approver_id: "cadre-township-zhang".into(),
            level: ApprovalLevel::Township,
            status: LeaveStatus::Returned,
            returned_ts: Some(ts("2015-10-09T20:10:00+08:00")),
            evidence: None,
            decision: None,
        }
    }
}

static LEAVE_TABLES: [Table; 1] = [Table {
    name: "p_leave",
    columns: &[
        ("cadre_id", SqlType::Text),
        ("leave_type", SqlType::Text),
        ("from_date", SqlType::Text),
        ("to_date", SqlType::Text),
        ("days", SqlType::Integer),
        ("requested_ts", SqlType::Text),
        ("requested_date", SqlType::Text),
        ("endorsed_by", SqlType::Text),
        ("approver_id", SqlType::Text),
        ("level", SqlType::Text),
        ("status", SqlType::Text),
        ("returned_ts", SqlType::Text),
        ("returned_date", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[
        &["cadre_id", "from_date"],
        &["approver_id", "status"],
        &["status", "to_date"],
    ],
}];

impl Record for Leave {
    const KIND: Kind = Kind::Leave;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Cadre(self.cadre_id.clone())
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.requested_ts.date_naive())
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.cadre_id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("cadre_id", &self.cadre_id)?;
        range(
            "to",
            self.to >= self.from,
            "the leave ends before it starts",
        )?;
        consistent(
            "days",
            i64::from(self.days) == self.span_days(),
            "days must count every calendar day from `from` to `to`",
        )?;
        non_empty("reason", &self.reason)?;
        opt_text("endorsed_by", &self.endorsed_by)?;
        consistent(
            "endorsed_by",
            self.endorsed_by.as_deref() != Some(self.cadre_id.as_str()),
            "nobody endorses their own leave",
        )?;
        non_empty("approver_id", &self.approver_id)?;
        consistent(
            "approver_id",
            self.approver_id != self.cadre_id,
            "nobody approves their own leave",
        )?;
        match (self.status, self.returned_ts) {
            (LeaveStatus::Returned, None) => {
                return Err(ValidationError::new(
                    "returned_ts",
                    Problem::Required,
                    "a closed leave (已销假) needs the time of return",
                ));
            }
            (LeaveStatus::Returned, Some(back)) => {
                range(
                    "returned_ts",
                    back >= self.requested_ts,
                    "returned before requesting",
                )?;
            }
            (_, Some(_)) => {
                return Err(ValidationError::new(
                    "returned_ts",
                    Problem::Inconsistent,
                    "only a closed leave (已销假) has a return time",
                ));
            }
            (_, None) => {}
        }
        opt_text("evidence", &self.evidence)?;
        if let Some(d) = &self.decision {
            non_empty("decision.reviewer_id", &d.reviewer_id)?;
            opt_text("decision.comment", &d.comment)?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &LEAVE_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_leave",
            vec![
                ("cadre_id", self.cadre_id.sql()),
                ("leave_type", self.leave_type.sql()),
                ("from_date", self.from.sql()),
                ("to_date", self.to.sql()),
                ("days", self.days.sql()),
                ("requested_ts", self.requested_ts.sql()),
                ("requested_date", self.requested_ts.date_naive().sql()),
                ("endorsed_by", self.endorsed_by.sql()),
                ("approver_id", self.approver_id.sql()),
                ("level", self.level.sql()),
                ("status", self.status.sql()),
                ("returned_ts", self.returned_ts.sql()),
                (
                    "returned_date",
                    self.returned_ts.map(|t| t.date_naive()).sql(),
                ),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, date, edited_json, json_error, project, text, ts,
    };

    #[test]
    fn examples_are_valid_and_round_trip() {
        assert_eq!(CheckIn::example().validate(), Ok(()));
        assert_round_trips(&CheckIn::example());
        assert_eq!(Leave::example().validate(), Ok(()));
        assert_round_trips(&Leave::example());
    }

    #[test]
    fn check_in_rules() {
        let mut c = CheckIn::example();
        c.cadre_id = String::new();
        assert_invalid(&c, "cadre_id", Problem::Required);

        let mut c = CheckIn::example();
        c.geo.lat = 91.0;
        assert_invalid(&c, "geo", Problem::OutOfRange);

        let mut c = CheckIn::example();
        c.geo.accuracy_m = Some(-5.0);
        assert_invalid(&c, "geo.accuracy_m", Problem::OutOfRange);

        let mut c = CheckIn::example();
        c.photo_sha256 = Some("abc".into());
        assert_invalid(&c, "photo_sha256", Problem::Malformed);
        c.photo_sha256 = Some("0".repeat(64));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn check_in_json() {
        let err = json_error::<CheckIn>(edited_json(&CheckIn::example(), |m| {
            m.remove("geo");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("geo", Problem::Required)
        );
        let err = json_error::<CheckIn>(edited_json(&CheckIn::example(), |m| {
            m.remove("mock_flag");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("mock_flag", Problem::Required)
        );
        let err = json_error::<CheckIn>(edited_json(&CheckIn::example(), |m| {
            m.insert("slot".into(), json!("evening"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("slot", Problem::UnknownCode)
        );
    }

    #[test]
    fn check_in_projection_uses_the_local_day_and_either_mock_flag() {
        let mut c = CheckIn::example();
        // 07:30 in Yunnan is 23:30 the previous day in UTC: the ledger counts the local day.
        c.ts = ts("2015-09-14T07:30:00+08:00");
        let rows = project(&c);
        assert_eq!(
            cell(&rows, "p_checkin", 0, "ts"),
            &text("2015-09-13T23:30:00.000Z")
        );
        assert_eq!(
            cell(&rows, "p_checkin", 0, "local_date"),
            &text("2015-09-14")
        );
        assert_eq!(cell(&rows, "p_checkin", 0, "local_time"), &text("07:30"));
        assert_eq!(cell(&rows, "p_checkin", 0, "slot"), &text("morning"));
        assert_eq!(cell(&rows, "p_checkin", 0, "lat"), &Value::Real(25.03125));
        assert_eq!(cell(&rows, "p_checkin", 0, "accuracy_m"), &Value::Real(8.0));
        assert_eq!(cell(&rows, "p_checkin", 0, "mock_flag"), &Value::Integer(0));
        assert_eq!(cell(&rows, "p_checkin", 0, "has_photo"), &Value::Integer(0));

        c.geo.mock_flag = true;
        assert_eq!(
            cell(&project(&c), "p_checkin", 0, "mock_flag"),
            &Value::Integer(1)
        );
        c.geo.mock_flag = false;
        c.mock_flag = true;
        assert_eq!(
            cell(&project(&c), "p_checkin", 0, "mock_flag"),
            &Value::Integer(1)
        );
    }

    #[test]
    fn leave_days_count_both_ends() {
        let mut l = Leave::example();
        assert_eq!(l.span_days(), 2);
        l.days = 1;
        assert_invalid(&l, "days", Problem::Inconsistent);
        l.days = 3;
        assert_invalid(&l, "days", Problem::Inconsistent);
        // Across a month end: 2015-10-30 to 2015-11-02 is four days.
        l.from = date("2015-10-30");
        l.to = date("2015-11-02");
        l.days = 4;
        l.returned_ts = Some(ts("2015-11-02T19:00:00+08:00"));
        assert_eq!(l.validate(), Ok(()));
        l.to = date("2015-10-29");
        assert_invalid(&l, "to", Problem::OutOfRange);
    }

    #[test]
    fn approval_level_depends_on_the_days() {
        let mut l = Leave::example();
        assert_eq!(
            l.required_level(TOWNSHIP_MAX_LEAVE_DAYS),
            ApprovalLevel::Township
        );
        l.days = 3;
        assert_eq!(l.required_level(3), ApprovalLevel::Township);
        l.days = 4;
        assert_eq!(l.required_level(3), ApprovalLevel::CountyOrg);
        assert_eq!(
            l.required_level(5),
            ApprovalLevel::Township,
            "a county allowing five days"
        );
    }

    #[test]
    fn leave_text_fields_and_approvers() {
        let mut l = Leave::example();
        l.reason = "  ".into();
        assert_invalid(&l, "reason", Problem::Required);

        let mut l = Leave::example();
        l.approver_id = l.cadre_id.clone();
        assert_invalid(&l, "approver_id", Problem::Inconsistent);

        let mut l = Leave::example();
        l.endorsed_by = Some(l.cadre_id.clone());
        assert_invalid(&l, "endorsed_by", Problem::Inconsistent);
    }

    #[test]
    fn only_a_closed_leave_has_a_return_time() {
        let mut l = Leave::example();
        l.returned_ts = None;
        assert_invalid(&l, "returned_ts", Problem::Required);
        l.status = LeaveStatus::Approved;
        assert_eq!(l.validate(), Ok(()));
        l.status = LeaveStatus::Overdue;
        assert_eq!(l.validate(), Ok(()));
        l.returned_ts = Some(ts("2015-10-12T09:00:00+08:00"));
        assert_invalid(&l, "returned_ts", Problem::Inconsistent);
        l.status = LeaveStatus::Returned;
        l.returned_ts = Some(ts("2015-10-05T09:00:00+08:00"));
        assert_invalid(&l, "returned_ts", Problem::OutOfRange);
    }

    #[test]
    fn covers_its_days_inclusive() {
        let l = Leave::example();
        assert!(!l.covers(date("2015-10-07")));
        assert!(l.covers(date("2015-10-08")));
        assert!(l.covers(date("2015-10-09")));
        assert!(!l.covers(date("2015-10-10")));
    }

    #[test]
    fn leave_json_uses_type_and_rejects_unknown_codes() {
        let v = serde_json::to_value(Leave::example()).expect("serialises");
        assert_eq!(v["type"], json!("personal"));
        assert!(v.get("leave_type").is_none());
        let err = json_error::<Leave>(edited_json(&Leave::example(), |m| {
            m.insert("type".into(), json!("holiday"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("type", Problem::UnknownCode)
        );
        let err = json_error::<Leave>(edited_json(&Leave::example(), |m| {
            m.insert("status".into(), json!("待审批"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("status", Problem::UnknownCode)
        );
        let err = json_error::<Leave>(edited_json(&Leave::example(), |m| {
            m.remove("approver_id");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("approver_id", Problem::Required)
        );
    }

    #[test]
    fn leave_projection() {
        let rows = project(&Leave::example());
        assert_eq!(cell(&rows, "p_leave", 0, "leave_type"), &text("personal"));
        assert_eq!(cell(&rows, "p_leave", 0, "from_date"), &text("2015-10-08"));
        assert_eq!(cell(&rows, "p_leave", 0, "to_date"), &text("2015-10-09"));
        assert_eq!(cell(&rows, "p_leave", 0, "days"), &Value::Integer(2));
        assert_eq!(cell(&rows, "p_leave", 0, "level"), &text("township"));
        assert_eq!(cell(&rows, "p_leave", 0, "status"), &text("returned"));
        assert_eq!(
            cell(&rows, "p_leave", 0, "returned_ts"),
            &text("2015-10-09T12:10:00.000Z")
        );
        assert_eq!(
            cell(&rows, "p_leave", 0, "endorsed_by"),
            &text("cadre-wang-zhigang")
        );
    }
}
