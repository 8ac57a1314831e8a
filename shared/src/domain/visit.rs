//! A household visit (走访记录, DOMAIN §2.3): who went, how, where, whom they met, the
//! 两不愁三保障 + 饮水 checklist, and how the household confirmed it.
//!
//! A visit is an event record: only its author writes it (the visitor is the logged-in,
//! device-bound cadre, and there is deliberately no "on behalf of" field, R6).
//!
//! Not here: `distance_to_home_m` and `evidence_level` (R8). Both depend on the household's
//! `home_geo`, which is set or corrected after the visit, so they are computed when read
//! ([`Visit::distance_to_home_m`], and the R8 rule in `crate::rules`), never frozen into the
//! record.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{
    ChecklistAnswer, Confirmation, VisitMode, VisitPurpose, VisitRole, joined_codes,
};
use super::org::{check_sha256, opt_text};
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Geo, Timestamp};

/// A household visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Visit {
    pub household_id: String,
    /// The logged-in author; the store checks it against the envelope (R6).
    pub visitor_id: String,
    pub role_at_visit: VisitRole,
    pub mode: VisitMode,
    pub start_ts: Timestamp,
    pub end_ts: Timestamp,
    /// Where the visitor was; required unless `no_gps_reason` says why there is no fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_gps_reason: Option<String>,
    /// The member met; required unless `not_met_reason` says why nobody was (未见本人).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met_member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_met_reason: Option<String>,
    /// At least one purpose.
    pub purpose: Vec<VisitPurpose>,
    pub checklist: Checklist,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_found: Option<String>,
    /// 诉求: what the household asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demands: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_due: Option<Date>,
    /// The head could name their 帮扶责任人; `None` when not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knows_cadre: Option<bool>,
    pub confirmation: Confirmation,
    /// SHA-256 of the signature or fingerprint image; required unless the household refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_image_sha256: Option<String>,
    /// Why the household refused to sign; required exactly when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<Photo>,
    /// The township's acceptance of a level-C or mock-location visit (R8), which then counts;
    /// added by the township in its own name ([`crate::rules::approvals`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
}

/// The township's verdict on a visit whose evidence does not let it count by itself (R8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Acceptance {
    pub accepted: bool,
    /// Who, when, and why (required to reject).
    pub review: super::worklog::Review,
}

/// The 两不愁三保障 + 饮水 checklist of a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Checklist {
    /// 不愁吃、不愁穿.
    pub food_clothing: ChecklistEntry,
    /// 义务教育有保障.
    pub education: ChecklistEntry,
    /// 基本医疗有保障.
    pub medical: ChecklistEntry,
    /// 住房安全有保障.
    pub housing: ChecklistEntry,
    /// 饮水安全有保障.
    pub water: ChecklistEntry,
}

impl Checklist {
    /// Every item answered "yes".
    pub fn all_yes() -> Self {
        let yes = ChecklistEntry {
            answer: ChecklistAnswer::Yes,
            note: None,
        };
        Checklist {
            food_clothing: yes.clone(),
            education: yes.clone(),
            medical: yes.clone(),
            housing: yes.clone(),
            water: yes,
        }
    }

    /// The items with their field names, in display order.
    pub fn items(&self) -> [(&'static str, &ChecklistEntry); 5] {
        [
            ("food_clothing", &self.food_clothing),
            ("education", &self.education),
            ("medical", &self.medical),
            ("housing", &self.housing),
            ("water", &self.water),
        ]
    }
}

/// One checklist answer. A "no" needs a note saying what is wrong, so that the problem can
/// be followed up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistEntry {
    pub answer: ChecklistAnswer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A photo taken at the visit; the image itself travels separately, by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Photo {
    pub sha256: String,
    /// Perceptual hash (hex), to find near-duplicate photos reused across visits (R9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
}

impl Visit {
    /// Metres between where the visit was recorded and the household's home, when both are
    /// known (input to the R8 evidence level).
    pub fn distance_to_home_m(&self, home: Option<&Geo>) -> Option<f64> {
        Some(self.geo.as_ref()?.distance_m(home?))
    }

    /// The household confirmed the visit: someone signed or pressed a fingerprint, and the
    /// image is there (R8).
    pub fn household_confirmed(&self) -> bool {
        self.confirmation != Confirmation::Refused && self.confirmation_image_sha256.is_some()
    }

    /// The location came from a mock provider.
    pub fn mock_location(&self) -> bool {
        self.geo.is_some_and(|g| g.mock_flag)
    }

    /// Minutes between start and end.
    pub fn duration_minutes(&self) -> i64 {
        (self.end_ts - self.start_ts).num_minutes()
    }

    /// A valid example record: the primary cadre's first-round visit to the example household,
    /// for tests, docs and the demo.
    pub fn example() -> Self {
        let ts = |s: &str| s.parse::<Timestamp>().expect("example timestamp");
        let mut checklist = Checklist::all_yes();
        checklist.housing = ChecklistEntry {
            answer: ChecklistAnswer::No,
            note: Some("土木结构房屋墙体开裂,鉴定为C级危房".into()),
        };
        Visit {
            household_id: "hh-530322101201-0007".into(),
            visitor_id: "cadre-li-ming".into(),
            role_at_visit: VisitRole::PairingCadre,
            mode: VisitMode::InHome,
            start_ts: ts("2015-09-12T09:40:00+08:00"),
            end_ts: ts("2015-09-12T10:25:00+08:00"),
            geo: Some(Geo {
                accuracy_m: Some(12.0),
                fix_ts: Some(ts("2015-09-12T09:41:03+08:00")),
                ..Geo::at(25.03391, 103.67008)
            }),
            no_gps_reason: None,
            met_member_id: Some("m1".into()),
            not_met_reason: None,
            purpose: vec![VisitPurpose::FirstRound, VisitPurpose::InfoCheck],
            checklist,
            changes_found: Some("儿子张伟8月起在浙江务工".into()),
            demands: Some("希望申请危房改造补助".into()),
            actions: Some("讲解危房改造政策,协助准备申请材料".into()),
            follow_up_due: Some(Date::from_ymd_opt(2015, 10, 15).expect("valid date")),
            knows_cadre: Some(true),
            confirmation: Confirmation::HeadSigned,
            confirmation_image_sha256: Some(
                "3f1a9c0e7b2d4f6a8c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a".into(),
            ),
            refusal_reason: None,
            photos: vec![Photo {
                sha256: "9b2e4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e1b".into(),
                phash: Some("c3d1e0f0b0a09080".into()),
                ts: Some(ts("2015-09-12T10:02:00+08:00")),
                geo: Some(Geo::at(25.03389, 103.67011)),
            }],
            acceptance: None,
        }
    }

    fn validate_location(&self) -> Result<(), ValidationError> {
        opt_text("no_gps_reason", &self.no_gps_reason)?;
        match &self.geo {
            Some(g) => range("geo", g.is_valid(), "the location is not on Earth"),
            None if self.no_gps_reason.is_none() => Err(ValidationError::new(
                "geo",
                Problem::Required,
                "a visit needs a location, or the reason there is none",
            )),
            None => Ok(()),
        }
    }

    fn validate_met(&self) -> Result<(), ValidationError> {
        opt_text("met_member_id", &self.met_member_id)?;
        opt_text("not_met_reason", &self.not_met_reason)?;
        match (&self.met_member_id, &self.not_met_reason) {
            (None, None) => Err(ValidationError::new(
                "met_member_id",
                Problem::Required,
                "say whom you met, or why you met nobody (未见本人)",
            )),
            (Some(_), Some(_)) => Err(ValidationError::new(
                "not_met_reason",
                Problem::Inconsistent,
                "a member was met, so there is no reason for not meeting one",
            )),
            _ => Ok(()),
        }
    }

    fn validate_confirmation(&self) -> Result<(), ValidationError> {
        if let Some(hash) = &self.confirmation_image_sha256 {
            check_sha256("confirmation_image_sha256", hash)?;
        }
        opt_text("refusal_reason", &self.refusal_reason)?;
        if self.confirmation == Confirmation::Refused {
            if self.refusal_reason.is_none() {
                return Err(ValidationError::new(
                    "refusal_reason",
                    Problem::Required,
                    "say why the household refused to sign",
                ));
            }
        } else {
            if self.confirmation_image_sha256.is_none() {
                return Err(ValidationError::new(
                    "confirmation_image_sha256",
                    Problem::Required,
                    "a signature or fingerprint needs its image",
                ));
            }
            consistent(
                "refusal_reason",
                self.refusal_reason.is_none(),
                "the household signed",
            )?;
        }
        Ok(())
    }
}

static VISIT_TABLES: [Table; 2] = [
    Table {
        name: "p_visit",
        columns: &[
            ("household_id", SqlType::Text),
            ("visitor_id", SqlType::Text),
            ("role_at_visit", SqlType::Text),
            ("mode", SqlType::Text),
            ("counts_mode", SqlType::Integer),
            ("purposes", SqlType::Text),
            ("start_ts", SqlType::Text),
            ("start_date", SqlType::Text),
            ("end_ts", SqlType::Text),
            ("lat", SqlType::Real),
            ("lon", SqlType::Real),
            ("accuracy_m", SqlType::Real),
            ("mock_flag", SqlType::Integer),
            ("met_member_id", SqlType::Text),
            ("confirmation", SqlType::Text),
            ("confirmation_image_sha256", SqlType::Text),
            ("follow_up_due", SqlType::Text),
            ("author_id", SqlType::Text),
            ("device_id", SqlType::Text),
            ("state", SqlType::Text),
            // R8: 1 accepted, 0 rejected by the township, NULL not reviewed.
            ("accepted", SqlType::Integer),
        ],
        indexes: &[
            &["household_id", "start_ts"],
            &["visitor_id", "start_ts"],
            &["confirmation_image_sha256"],
        ],
    },
    Table {
        name: "p_visit_photo",
        columns: &[
            ("household_id", SqlType::Text),
            ("visitor_id", SqlType::Text),
            ("sha256", SqlType::Text),
            ("phash", SqlType::Text),
            ("ts", SqlType::Text),
        ],
        indexes: &[&["sha256"], &["phash"]],
    },
];

impl Record for Visit {
    const KIND: Kind = Kind::Visit;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Household(self.household_id.clone())
    }

    fn record_date(&self) -> Option<Date> {
        Some(self.start_ts.date_naive())
    }

    fn subject_cadre(&self) -> Option<&str> {
        Some(&self.visitor_id)
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("household_id", &self.household_id)?;
        non_empty("visitor_id", &self.visitor_id)?;
        range(
            "end_ts",
            self.end_ts >= self.start_ts,
            "the visit ends before it starts",
        )?;
        self.validate_location()?;
        self.validate_met()?;
        if self.purpose.is_empty() {
            return Err(ValidationError::required("purpose"));
        }
        let mut seen = HashSet::new();
        for (i, p) in self.purpose.iter().enumerate() {
            consistent(
                &format!("purpose.{i}"),
                seen.insert(*p),
                "a purpose is listed twice",
            )?;
        }
        for (name, entry) in self.checklist.items() {
            let note = format!("checklist.{name}.note");
            opt_text(&note, &entry.note)?;
            if entry.answer == ChecklistAnswer::No && entry.note.is_none() {
                return Err(ValidationError::new(
                    note,
                    Problem::Required,
                    "a \"no\" needs a note saying what is wrong",
                ));
            }
        }
        for (name, text) in [
            ("changes_found", &self.changes_found),
            ("demands", &self.demands),
            ("actions", &self.actions),
        ] {
            opt_text(name, text)?;
        }
        if let Some(due) = self.follow_up_due {
            range(
                "follow_up_due",
                due >= self.start_ts.date_naive(),
                "the follow-up is due before the visit",
            )?;
        }
        self.validate_confirmation()?;
        let mut hashes = HashSet::new();
        for (i, photo) in self.photos.iter().enumerate() {
            check_sha256(&format!("photos.{i}.sha256"), &photo.sha256)?;
            consistent(
                &format!("photos.{i}.sha256"),
                hashes.insert(photo.sha256.as_str()),
                "the same photo is attached twice",
            )?;
            if let Some(phash) = &photo.phash {
                let ok = !phash.is_empty()
                    && phash.len() <= 64
                    && phash.bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return Err(ValidationError::new(
                        format!("photos.{i}.phash"),
                        Problem::Malformed,
                        "a perceptual hash is up to 64 hex digits",
                    ));
                }
            }
            if let Some(g) = &photo.geo {
                range(
                    &format!("photos.{i}.geo"),
                    g.is_valid(),
                    "the location is not on Earth",
                )?;
            }
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &VISIT_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_visit",
            vec![
                ("household_id", self.household_id.sql()),
                ("visitor_id", self.visitor_id.sql()),
                ("role_at_visit", self.role_at_visit.sql()),
                ("mode", self.mode.sql()),
                ("counts_mode", self.mode.counts_for_coverage().sql()),
                (
                    "purposes",
                    joined_codes(&self.purpose, VisitPurpose::code).sql(),
                ),
                ("start_ts", self.start_ts.sql()),
                ("start_date", self.start_ts.date_naive().sql()),
                ("end_ts", self.end_ts.sql()),
                ("lat", self.geo.map(|g| g.lat).sql()),
                ("lon", self.geo.map(|g| g.lon).sql()),
                ("accuracy_m", self.geo.and_then(|g| g.accuracy_m).sql()),
                ("mock_flag", self.mock_location().sql()),
                ("met_member_id", self.met_member_id.sql()),
                ("confirmation", self.confirmation.sql()),
                (
                    "confirmation_image_sha256",
                    self.confirmation_image_sha256.sql(),
                ),
                ("follow_up_due", self.follow_up_due.sql()),
                ("author_id", env.author_id.sql()),
                ("device_id", env.device_id.sql()),
                ("state", env.state.code().sql()),
                (
                    "accepted",
                    self.acceptance.as_ref().map(|a| a.accepted).sql(),
                ),
            ],
        );
        for photo in &self.photos {
            rows.push(
                "p_visit_photo",
                vec![
                    ("household_id", self.household_id.sql()),
                    ("visitor_id", self.visitor_id.sql()),
                    ("sha256", photo.sha256.sql()),
                    ("phash", photo.phash.sql()),
                    ("ts", photo.ts.sql()),
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value;
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, count, edited_json, json_error, project, text, ts,
    };

    #[test]
    fn the_example_is_valid_and_round_trips() {
        let v = Visit::example();
        assert_eq!(v.validate(), Ok(()));
        assert_round_trips(&v);
        assert_eq!(v.duration_minutes(), 45);
        assert!(v.household_confirmed());
        assert!(!v.mock_location());
    }

    #[test]
    fn a_visit_cannot_end_before_it_starts() {
        let mut v = Visit::example();
        v.end_ts = ts("2015-09-12T09:39:59+08:00");
        assert_invalid(&v, "end_ts", Problem::OutOfRange);
        // The same instant written in another zone is not "before".
        v.end_ts = ts("2015-09-12T01:40:00Z");
        assert_eq!(v.validate(), Ok(()));
    }

    #[test]
    fn a_location_or_the_reason_there_is_none() {
        let mut v = Visit::example();
        v.geo = None;
        assert_invalid(&v, "geo", Problem::Required);
        v.no_gps_reason = Some("山区无信号".into());
        assert_eq!(v.validate(), Ok(()));
        v.no_gps_reason = Some(" ".into());
        assert_invalid(&v, "no_gps_reason", Problem::Required);

        let mut v = Visit::example();
        v.geo = Some(Geo::at(25.0, 203.0));
        assert_invalid(&v, "geo", Problem::OutOfRange);
    }

    #[test]
    fn whom_was_met_or_why_nobody() {
        let mut v = Visit::example();
        v.met_member_id = None;
        assert_invalid(&v, "met_member_id", Problem::Required);
        v.not_met_reason = Some("全家外出务工,门锁".into());
        assert_eq!(v.validate(), Ok(()));
        v.met_member_id = Some("m2".into());
        assert_invalid(&v, "not_met_reason", Problem::Inconsistent);
    }

    #[test]
    fn purposes_are_required_and_distinct() {
        let mut v = Visit::example();
        v.purpose.clear();
        assert_invalid(&v, "purpose", Problem::Required);
        v.purpose = vec![VisitPurpose::FollowUp, VisitPurpose::FollowUp];
        assert_invalid(&v, "purpose.1", Problem::Inconsistent);

        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            m.remove("purpose");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("purpose", Problem::Required)
        );
        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            m.insert("purpose".into(), json!(["first_round", "chat"]));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("purpose[1]", Problem::UnknownCode)
        );
    }

    #[test]
    fn a_no_on_the_checklist_needs_a_note() {
        let mut v = Visit::example();
        v.checklist.medical.answer = ChecklistAnswer::No;
        assert_invalid(&v, "checklist.medical.note", Problem::Required);
        v.checklist.medical.note = Some("次子未参加城乡居民医保".into());
        assert_eq!(v.validate(), Ok(()));
        v.checklist.water.answer = ChecklistAnswer::NotApplicable;
        assert_eq!(v.validate(), Ok(()), "不适用 needs no note");

        let mut json = serde_json::to_value(Visit::example()).expect("serialises");
        json["checklist"]["water"]["answer"] = json!("maybe");
        let err = json_error::<Visit>(json);
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("checklist.water.answer", Problem::UnknownCode)
        );
        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            if let Some(c) = m.get_mut("checklist").and_then(|c| c.as_object_mut()) {
                c.remove("education");
            }
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("checklist.education", Problem::Required)
        );
    }

    #[test]
    fn confirmation_needs_an_image_or_a_refusal_reason() {
        let mut v = Visit::example();
        v.confirmation_image_sha256 = None;
        assert_invalid(&v, "confirmation_image_sha256", Problem::Required);

        let mut v = Visit::example();
        v.confirmation_image_sha256 = Some("not-a-hash".into());
        assert_invalid(&v, "confirmation_image_sha256", Problem::Malformed);

        let mut v = Visit::example();
        v.confirmation = Confirmation::Refused;
        assert_invalid(&v, "refusal_reason", Problem::Required);
        v.refusal_reason = Some("对危房鉴定结果有意见".into());
        v.confirmation_image_sha256 = None;
        assert_eq!(v.validate(), Ok(()));
        assert!(!v.household_confirmed());

        let mut v = Visit::example();
        v.refusal_reason = Some("?".into());
        assert_invalid(&v, "refusal_reason", Problem::Inconsistent);

        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            m.insert("confirmation".into(), json!("代签"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("confirmation", Problem::UnknownCode)
        );
    }

    #[test]
    fn photos_are_hashed_and_not_repeated() {
        let mut v = Visit::example();
        v.photos[0].sha256 = v.photos[0].sha256.to_uppercase();
        assert_invalid(&v, "photos.0.sha256", Problem::Malformed);

        let mut v = Visit::example();
        v.photos.push(v.photos[0].clone());
        assert_invalid(&v, "photos.1.sha256", Problem::Inconsistent);

        let mut v = Visit::example();
        v.photos[0].phash = Some("xyz".into());
        assert_invalid(&v, "photos.0.phash", Problem::Malformed);
    }

    #[test]
    fn follow_up_is_not_due_before_the_visit() {
        let mut v = Visit::example();
        v.follow_up_due = Some(Date::from_ymd_opt(2015, 9, 11).expect("date"));
        assert_invalid(&v, "follow_up_due", Problem::OutOfRange);
        v.follow_up_due = Some(Date::from_ymd_opt(2015, 9, 12).expect("date"));
        assert_eq!(v.validate(), Ok(()));
    }

    #[test]
    fn required_fields_and_codes_in_json() {
        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            m.remove("start_ts");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("start_ts", Problem::Required)
        );
        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            m.insert("mode".into(), json!("proxy"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("mode", Problem::UnknownCode)
        );
        let err = json_error::<Visit>(edited_json(&Visit::example(), |m| {
            m.insert("start_ts".into(), json!("yesterday"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("start_ts", Problem::Malformed)
        );
        let mut v = Visit::example();
        v.household_id = String::new();
        assert_invalid(&v, "household_id", Problem::Required);
    }

    #[test]
    fn distance_to_home_needs_both_locations() {
        let v = Visit::example();
        let home = Geo::at(25.0338, 103.6702);
        let d = v.distance_to_home_m(Some(&home)).expect("both known");
        assert!((5.0..30.0).contains(&d), "{d}");
        assert_eq!(v.distance_to_home_m(None), None);
        let no_fix = Visit {
            geo: None,
            no_gps_reason: Some("无信号".into()),
            ..v
        };
        assert_eq!(no_fix.distance_to_home_m(Some(&home)), None);
    }

    #[test]
    fn projection_rows() {
        let mut v = Visit::example();
        v.mode = VisitMode::Phone;
        if let Some(g) = v.geo.as_mut() {
            g.mock_flag = true;
        }
        let rows = project(&v);
        assert_eq!(
            cell(&rows, "p_visit", 0, "household_id"),
            &text("hh-530322101201-0007")
        );
        assert_eq!(cell(&rows, "p_visit", 0, "mode"), &text("phone"));
        assert_eq!(cell(&rows, "p_visit", 0, "counts_mode"), &Value::Integer(0));
        assert_eq!(cell(&rows, "p_visit", 0, "mock_flag"), &Value::Integer(1));
        assert_eq!(
            cell(&rows, "p_visit", 0, "purposes"),
            &text("first_round,info_check")
        );
        // Projected in UTC, so that text order is time order across zones.
        assert_eq!(
            cell(&rows, "p_visit", 0, "start_ts"),
            &text("2015-09-12T01:40:00.000Z")
        );
        assert_eq!(cell(&rows, "p_visit", 0, "lat"), &Value::Real(25.03391));
        assert_eq!(
            cell(&rows, "p_visit", 0, "confirmation"),
            &text("head_signed")
        );
        assert_eq!(
            cell(&rows, "p_visit", 0, "follow_up_due"),
            &text("2015-10-15")
        );
        assert_eq!(
            cell(&rows, "p_visit", 0, "author_id"),
            &text("cadre-author")
        );
        assert_eq!(count(&rows, "p_visit_photo"), 1);
        assert_eq!(
            cell(&rows, "p_visit_photo", 0, "phash"),
            &text("c3d1e0f0b0a09080")
        );

        let rows = project(&Visit::example());
        assert_eq!(cell(&rows, "p_visit", 0, "counts_mode"), &Value::Integer(1));
        assert_eq!(cell(&rows, "p_visit", 0, "mock_flag"), &Value::Integer(0));
        let no_fix = Visit {
            geo: None,
            no_gps_reason: Some("无信号".into()),
            photos: vec![],
            ..v
        };
        let rows = project(&no_fix);
        assert_eq!(cell(&rows, "p_visit", 0, "lat"), &Value::Null);
        assert_eq!(count(&rows, "p_visit_photo"), 0);
    }
}
