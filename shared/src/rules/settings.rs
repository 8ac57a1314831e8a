//! A county's ⚙ settings (DOMAIN.md marks county-configurable thresholds with ⚙): the rule
//! thresholds of [`RulesConfig`] and whether the check-in offers a photo.
//!
//! The county poverty office (县扶贫办) holds the "⚙ settings" right (DOMAIN §1). It sets them
//! on the sync server (`PUT /v1/settings/county/{code}`, which keeps a history of every change);
//! phones fetch their county's settings after each sync (`GET /v1/settings`, answered with an
//! [`EffectiveSettings`]) and keep the last ones they got, so the settings apply offline too.
//! A county that never set anything gets [`CountySettings::default`]: DOMAIN's defaults and no
//! check-in photo.
//!
//! **The check-in photo** ([`CheckInPhoto`]) is `off` unless the county decides otherwise:
//! DOMAIN's compliance caution (the 2024 减负 rules) bars mandatory photo check-in as a
//! default, so `required` is a county's explicit choice, never this module's.
//!
//! [`CountySettings::validate`] names every field out of range, and
//! [`CountySettings::from_json`] also refuses fields it does not know (a misspelt
//! `required_day` would otherwise be dropped silently and the default kept), so a county
//! office is told exactly what to fix.
//!
//! The server's reports follow them where a threshold belongs to a place: the attendance
//! ledger (report 1) judges each seat by its village's county's R1–R3 settings, so a city's
//! ledger mixes counties row by row; duty compliance (report 3) takes its interval from the
//! county for a scope inside one county (a city scope uses DOMAIN's 60 days unless the
//! request names one). R8–R9's evidence thresholds are not county settings.
//!
//! Not here: storage (the server's `county_settings` table, the phone's `app_settings` table)
//! and who may change settings (the server).

use serde::{Deserialize, Serialize};

use super::RulesConfig;

/// Whether a check-in offers or requires a photo (DOMAIN: CheckIn `photo (optional⚙)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CheckInPhoto {
    /// No photo button (the default: see the module docs).
    #[default]
    Off,
    /// A photo button; checking in without a photo is fine.
    Optional,
    /// No check-in without a photo: the county's explicit decision.
    Required,
}

/// Every ⚙ setting of one county.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct CountySettings {
    pub rules: RulesConfig,
    pub check_in_photo: CheckInPhoto,
}

/// Where a device's settings came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SettingsSource {
    /// DOMAIN's defaults: the county has set nothing, or the account has no county (an
    /// administrator, a city office), or the device never fetched any.
    #[default]
    Default,
    /// The county poverty office's settings.
    County,
}

/// A county's settings as the server gives them out (`GET /v1/settings` and
/// `GET /v1/settings/county/{code}`), and as a phone keeps them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EffectiveSettings {
    /// The county (6 digits) whose settings these are; `None` when the account has none.
    pub county_code: Option<String>,
    pub source: SettingsSource,
    /// When the county last changed them (RFC 3339, server clock); `None` for defaults.
    pub updated_ts: Option<String>,
    /// Who last changed them (a login); `None` for defaults.
    pub updated_by: Option<String>,
    pub settings: CountySettings,
}

/// One field of [`CountySettings`] that is out of range: its path (`rules.attendance.required_days`)
/// and what is wrong, in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SettingsProblem {
    pub field: String,
    pub message: String,
    pub message_en: String,
}

impl std::fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} / {}", self.field, self.message, self.message_en)
    }
}

fn problem(field: &str, message: String, message_en: String) -> SettingsProblem {
    SettingsProblem {
        field: field.into(),
        message,
        message_en,
    }
}

/// `value` must lie in `min..=max`.
fn in_range<T: PartialOrd + std::fmt::Display>(
    out: &mut Vec<SettingsProblem>,
    field: &str,
    value: T,
    min: T,
    max: T,
) {
    if value < min || value > max {
        out.push(problem(
            field,
            format!("应在 {min} 到 {max} 之间,现在是 {value}"),
            format!("must be between {min} and {max}, is {value}"),
        ));
    }
}

impl CountySettings {
    /// Every field out of range, empty when all are fine. The bounds are what a month, a day
    /// and a year allow, not policy: a county may be strict or lenient within them.
    pub fn validate(&self) -> Vec<SettingsProblem> {
        let mut out = Vec::new();
        let a = &self.rules.attendance;
        in_range(
            &mut out,
            "rules.attendance.required_days",
            a.required_days,
            1,
            31,
        );
        in_range(
            &mut out,
            "rules.attendance.min_checkins",
            a.min_checkins,
            1,
            10,
        );
        if a.window_start >= a.window_end {
            out.push(problem(
                "rules.attendance.window_end",
                format!(
                    "打卡时段的结束时间({})应晚于开始时间({})",
                    a.window_end, a.window_start
                ),
                format!(
                    "the check-in window's end ({}) must be after its start ({})",
                    a.window_end, a.window_start
                ),
            ));
        }
        in_range(
            &mut out,
            "rules.attendance.max_clock_drift_s",
            a.max_clock_drift_s,
            0,
            86_400,
        );
        in_range(
            &mut out,
            "rules.attendance.sick_leave_grace_days",
            a.sick_leave_grace_days,
            0,
            31,
        );
        in_range(
            &mut out,
            "rules.attendance.township_max_leave_days",
            a.township_max_leave_days,
            1,
            366,
        );
        in_range(
            &mut out,
            "rules.attendance.ledger_due_day",
            a.ledger_due_day,
            1,
            28,
        );
        in_range(
            &mut out,
            "rules.visits.interval_days",
            self.rules.visits.interval_days,
            super::visits::INTERVAL_DAYS.0,
            super::visits::INTERVAL_DAYS.1,
        );
        let adj = &self.rules.adjustment;
        for (field, months) in [
            ("rules.adjustment.quarterly_months", &adj.quarterly_months),
            ("rules.adjustment.annual_months", &adj.annual_months),
        ] {
            months_problems(&mut out, field, months);
        }
        for (i, l) in adj.poverty_lines.iter().enumerate() {
            let field = format!("rules.adjustment.poverty_lines[{i}]");
            in_range(
                &mut out,
                &format!("{field}.from_year"),
                l.from_year,
                2000,
                2100,
            );
            if l.line <= crate::values::Money::ZERO {
                out.push(problem(
                    &format!("{field}.line"),
                    format!("贫困线应大于 0,现在是 {}", l.line),
                    format!("a poverty line must be above 0, is {}", l.line),
                ));
            }
        }
        let mut years: Vec<i32> = adj.poverty_lines.iter().map(|l| l.from_year).collect();
        years.sort_unstable();
        if years.windows(2).any(|w| w[0] == w[1]) {
            out.push(problem(
                "rules.adjustment.poverty_lines",
                "同一年份只能设一条贫困线".into(),
                "one poverty line per year".into(),
            ));
        }
        out
    }

    /// Parses settings sent by a person (a county office's `PUT`): malformed JSON or a value of
    /// the wrong type is one problem naming its field; a field this build does not know is a
    /// problem too; then [`CountySettings::validate`]. Missing fields take their defaults.
    pub fn from_json(json: &[u8]) -> Result<CountySettings, Vec<SettingsProblem>> {
        let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
            vec![problem(
                "",
                format!("不是有效的 JSON:{e}"),
                format!("not valid JSON: {e}"),
            )]
        })?;
        // A struct also deserialises from an array of its fields in order (so `[]` would be
        // the defaults): the settings are an object, field by name.
        if !value.is_object() {
            return Err(vec![problem(
                "",
                "设置应为一个 JSON 对象,各项按名称填写".to_string(),
                "the settings are a JSON object, each field by its name".to_string(),
            )]);
        }
        let settings: CountySettings = serde_path_to_error::deserialize(&value).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            vec![problem(
                &field,
                format!("值的类型或格式不对:{inner}"),
                format!("wrong type or format: {inner}"),
            )]
        })?;
        let mut out = Vec::new();
        let known = serde_json::to_value(CountySettings::default()).unwrap_or_default();
        unknown_fields(&value, &known, "", &mut out);
        out.extend(settings.validate());
        if out.is_empty() {
            Ok(settings)
        } else {
            Err(out)
        }
    }
}

/// A window is a non-empty set of months 1–12.
fn months_problems(out: &mut Vec<SettingsProblem>, field: &str, months: &[u32]) {
    if months.is_empty() {
        out.push(problem(
            field,
            "至少要有一个月份;不设时段请列出全部 12 个月".into(),
            "at least one month; for no window list all twelve".into(),
        ));
    }
    for m in months {
        in_range(out, field, *m, 1, 12);
    }
    let mut sorted = months.to_vec();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        out.push(problem(
            field,
            "月份重复了".into(),
            "a month is listed twice".into(),
        ));
    }
}

/// Object keys of `sent` that `known` (the serialised defaults) does not have.
fn unknown_fields(
    sent: &serde_json::Value,
    known: &serde_json::Value,
    path: &str,
    out: &mut Vec<SettingsProblem>,
) {
    let (Some(sent), Some(known)) = (sent.as_object(), known.as_object()) else {
        return;
    };
    for (key, value) in sent {
        let field = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match known.get(key) {
            Some(k) => unknown_fields(value, k, &field, out),
            None => out.push(problem(
                &field,
                "没有这个设置项,请检查拼写".into(),
                "no such setting; check the spelling".into(),
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fields(problems: &[SettingsProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.field.as_str()).collect()
    }

    #[test]
    fn defaults_are_domains_and_no_photo() {
        let s = CountySettings::default();
        assert_eq!(s.rules.attendance.required_days, 20);
        assert_eq!(s.rules.visits.interval_days, 60);
        assert_eq!(s.check_in_photo, CheckInPhoto::Off);
        assert!(s.validate().is_empty());
        assert_eq!(EffectiveSettings::default().source, SettingsSource::Default);
    }

    #[test]
    fn adjustment_windows_and_lines_are_checked() {
        let e = CountySettings::from_json(
            br#"{"rules":{"adjustment":{"quarterly_months":[],"annual_months":[10,13,10],"poverty_lines":[{"from_year":2016,"line":"0"},{"from_year":2016,"line":"3100"}]}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            fields(&e),
            [
                "rules.adjustment.quarterly_months",
                "rules.adjustment.annual_months",
                "rules.adjustment.annual_months",
                "rules.adjustment.poverty_lines[0].line",
                "rules.adjustment.poverty_lines",
            ]
        );
        let e = CountySettings::from_json(
            br#"{"rules":{"adjustment":{"poverty_lines":[{"year":2016,"line":"3100"}]}}}"#,
        )
        .unwrap_err();
        assert_eq!(fields(&e), ["rules.adjustment.poverty_lines[0].year"]);
        let s = CountySettings::from_json(
            br#"{"rules":{"adjustment":{"annual_months":[11],"poverty_lines":[{"from_year":2016,"line":"3100"}]}}}"#,
        )
        .unwrap();
        assert_eq!(s.rules.adjustment.annual_months, [11]);
        assert_eq!(s.rules.adjustment.quarterly_months, [1, 4, 7, 10]);
        assert_eq!(
            s.rules.adjustment.poverty_line(2016),
            crate::values::Money::from_yuan(3_100)
        );
    }

    #[test]
    fn out_of_range_values_are_named_field_by_field() {
        let mut s = CountySettings::default();
        s.rules.attendance.required_days = 0;
        s.rules.attendance.min_checkins = 0;
        s.rules.attendance.max_clock_drift_s = -1;
        s.rules.attendance.sick_leave_grace_days = -2;
        s.rules.attendance.township_max_leave_days = 0;
        s.rules.visits.interval_days = 0;
        s.rules.attendance.window_end = s.rules.attendance.window_start;
        let problems = s.validate();
        assert_eq!(
            fields(&problems),
            [
                "rules.attendance.required_days",
                "rules.attendance.min_checkins",
                "rules.attendance.window_end",
                "rules.attendance.max_clock_drift_s",
                "rules.attendance.sick_leave_grace_days",
                "rules.attendance.township_max_leave_days",
                "rules.visits.interval_days",
            ]
        );
        assert!(problems[0].message.contains("1 到 31"), "{}", problems[0]);
        assert!(problems[0].message_en.contains("is 0"), "{}", problems[0]);

        s = CountySettings::default();
        s.rules.attendance.required_days = 32;
        assert_eq!(fields(&s.validate()), ["rules.attendance.required_days"]);
        s.rules.attendance.required_days = 31;
        assert!(s.validate().is_empty());
    }

    #[test]
    fn json_from_a_person_fills_defaults_and_names_what_is_wrong() {
        let s = CountySettings::from_json(
            br#"{"check_in_photo":"optional","rules":{"attendance":{"required_days":18}}}"#,
        )
        .unwrap();
        assert_eq!(s.check_in_photo, CheckInPhoto::Optional);
        assert_eq!(s.rules.attendance.required_days, 18);
        assert_eq!(s.rules.attendance.min_checkins, 1);
        assert_eq!(s.rules.visits.interval_days, 60);

        let e = CountySettings::from_json(br#"{"rules":{"attendance":{"required_days":-3}}}"#)
            .unwrap_err();
        assert_eq!(fields(&e), ["rules.attendance.required_days"]);
        let e = CountySettings::from_json(br#"{"check_in_photo":"always"}"#).unwrap_err();
        assert_eq!(fields(&e), ["check_in_photo"]);
        let e =
            CountySettings::from_json(br#"{"rules":{"visits":{"interval_day":30}}}"#).unwrap_err();
        assert_eq!(fields(&e), ["rules.visits.interval_day"]);
        assert!(e[0].message.contains("拼写"));
        let e =
            CountySettings::from_json(br#"{"rules":{"visits":{"interval_days":0}}}"#).unwrap_err();
        assert_eq!(fields(&e), ["rules.visits.interval_days"]);
        let e = CountySettings::from_json(b"{not json").unwrap_err();
        assert_eq!(fields(&e), [""]);
        assert!(e[0].message.contains("JSON"));
        // An array (which serde would read as the fields in order, `[]` as the defaults), a
        // number, null: not settings.
        for body in [&b"[]"[..], b"[\"off\"]", b"7", b"null"] {
            let e = CountySettings::from_json(body).unwrap_err();
            assert_eq!(fields(&e), [""], "{}", String::from_utf8_lossy(body));
            assert!(e[0].message.contains("对象"));
        }
    }

    #[test]
    fn settings_round_trip_through_json() {
        let mut s = CountySettings {
            check_in_photo: CheckInPhoto::Required,
            ..CountySettings::default()
        };
        s.rules.attendance.count_official_days = false;
        let json = serde_json::to_vec(&s).unwrap();
        assert_eq!(CountySettings::from_json(&json).unwrap(), s);
        let e = EffectiveSettings {
            county_code: Some("530322".into()),
            source: SettingsSource::County,
            updated_ts: Some("2026-11-22T08:00:00+00:00".into()),
            updated_by: Some("demo-county".into()),
            settings: s,
        };
        let back: EffectiveSettings =
            serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }
}
