//! Organisation records (DOMAIN §2.1): villages with their geofence, sending units, cadres,
//! village work teams and pairing assignments.
//!
//! A unit's or a cadre's `id` is its document id (the envelope's `id`), so it is not a field
//! here; other records refer to cadres by that id (`cadre_id`, `leader_id`, `visitor_id`).
//!
//! Not here: townships and counties (their `is_poor` flag arrives with the county settings),
//! and anything derived from assignments over time (who was the primary cadre on a day is
//! [`Assignment::active_on`], asked by the rules).
//!
//! This module also holds the small field checks the other kinds share (phone numbers,
//! SHA-256 hashes, optional free text).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::check::{consistent, non_empty, range};
use super::codes::{CadreRole, UnitLevel};
use super::id_number::check_id_number;
use super::{Envelope, Kind, Record, ScopeHint};
use crate::error::{Problem, ValidationError};
use crate::projection::{Rows, Sql, SqlType, Table};
use crate::values::{Date, Geo};

/// Default geofence radius around a village centroid, in metres (⚙).
pub const DEFAULT_GEOFENCE_RADIUS_M: f64 = 1500.0;

// ---------------------------------------------------------------------------------------------
// Village 行政村

/// An administrative village (行政村) with a work team or poor households.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Village {
    /// The 12-digit statistical division code (统计用区划代码), e.g. `530322101201`.
    pub code: String,
    pub township_code: String,
    pub name: String,
    /// 贫困村.
    pub is_poor_village: bool,
    pub geofence: Geofence,
    /// 自然村/村民小组.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hamlets: Vec<String>,
    /// The county counts this village as water-scarce, so 20 instead of 35 litres per person
    /// per day meet the 饮水安全 standard (⚙).
    #[serde(default)]
    pub water_scarce: bool,
}

/// Where check-ins count as "in the village" (R2): a polygon when the county has drawn one,
/// otherwise a circle around the centroid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Geofence {
    pub centroid: Geo,
    #[serde(default = "default_radius")]
    pub radius_m: f64,
    /// The village boundary; used instead of the circle when it has at least three points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub polygon: Vec<Geo>,
}

fn default_radius() -> f64 {
    DEFAULT_GEOFENCE_RADIUS_M
}

impl Geofence {
    /// A circle of the default radius around `centroid`.
    pub fn circle(centroid: Geo) -> Self {
        Geofence {
            centroid,
            radius_m: DEFAULT_GEOFENCE_RADIUS_M,
            polygon: Vec::new(),
        }
    }

    /// The polygon as projected: `lat,lon;lat,lon;…` (`None` without a polygon), so that a
    /// server can test check-ins against the fence from the projection alone.
    pub fn polygon_text(&self) -> Option<String> {
        (!self.polygon.is_empty()).then(|| {
            self.polygon
                .iter()
                .map(|g| format!("{},{}", g.lat, g.lon))
                .collect::<Vec<_>>()
                .join(";")
        })
    }

    /// The fence back from its projected columns (see [`Geofence::polygon_text`]); points
    /// that do not parse are left out.
    pub fn from_projection(centroid: Geo, radius_m: f64, polygon: Option<&str>) -> Geofence {
        let polygon = polygon
            .unwrap_or("")
            .split(';')
            .filter_map(|p| {
                let (lat, lon) = p.split_once(',')?;
                Some(Geo::at(lat.trim().parse().ok()?, lon.trim().parse().ok()?))
            })
            .collect();
        Geofence {
            centroid,
            radius_m,
            polygon,
        }
    }

    /// Whether `point` lies inside the village: inside the polygon (even-odd rule, with
    /// latitude and longitude as plane coordinates, which is exact enough over a village)
    /// when one of three or more points is given, else within `radius_m` of the centroid.
    pub fn contains(&self, point: &Geo) -> bool {
        if self.polygon.len() < 3 {
            return self.centroid.distance_m(point) <= self.radius_m;
        }
        let (x, y) = (point.lon, point.lat);
        let mut inside = false;
        let mut j = self.polygon.len() - 1;
        for (i, a) in self.polygon.iter().enumerate() {
            let b = &self.polygon[j];
            if (a.lat > y) != (b.lat > y) {
                let cross = (b.lon - a.lon) * (y - a.lat) / (b.lat - a.lat) + a.lon;
                if x < cross {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }

    fn validate(&self) -> Result<(), ValidationError> {
        range(
            "geofence.centroid",
            self.centroid.is_valid(),
            "the centroid is not on Earth",
        )?;
        range(
            "geofence.radius_m",
            self.radius_m.is_finite() && self.radius_m > 0.0,
            "the radius must be a positive number of metres",
        )?;
        if matches!(self.polygon.len(), 1 | 2) {
            return Err(ValidationError::new(
                "geofence.polygon",
                Problem::Malformed,
                "a boundary needs at least three points",
            ));
        }
        for (i, p) in self.polygon.iter().enumerate() {
            range(
                &format!("geofence.polygon.{i}"),
                p.is_valid(),
                "the point is not on Earth",
            )?;
        }
        Ok(())
    }
}

impl Village {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Village {
            code: "530322101201".into(),
            township_code: "530322101".into(),
            name: "新庄村".into(),
            is_poor_village: true,
            geofence: Geofence::circle(Geo::at(25.0312, 103.6674)),
            hamlets: vec!["新庄".into(), "上村".into(), "下村".into(), "大凹子".into()],
            water_scarce: false,
        }
    }
}

static VILLAGE_TABLES: [Table; 1] = [Table {
    name: "p_village",
    columns: &[
        ("code", SqlType::Text),
        ("township_code", SqlType::Text),
        ("name", SqlType::Text),
        ("is_poor_village", SqlType::Integer),
        ("centroid_lat", SqlType::Real),
        ("centroid_lon", SqlType::Real),
        ("radius_m", SqlType::Real),
        ("water_scarce", SqlType::Integer),
        ("polygon", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[&["code"], &["township_code"]],
}];

impl Record for Village {
    const KIND: Kind = Kind::Village;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.code.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        code_text("code", &self.code)?;
        code_text("township_code", &self.township_code)?;
        non_empty("name", &self.name)?;
        self.geofence.validate()?;
        let mut seen = HashSet::new();
        for (i, h) in self.hamlets.iter().enumerate() {
            let field = format!("hamlets.{i}");
            non_empty(&field, h)?;
            consistent(&field, seen.insert(h.trim()), "the hamlet is listed twice")?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &VILLAGE_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_village",
            vec![
                ("code", self.code.sql()),
                ("township_code", self.township_code.sql()),
                ("name", self.name.sql()),
                ("is_poor_village", self.is_poor_village.sql()),
                ("centroid_lat", self.geofence.centroid.lat.sql()),
                ("centroid_lon", self.geofence.centroid.lon.sql()),
                ("radius_m", self.geofence.radius_m.sql()),
                ("water_scarce", self.water_scarce.sql()),
                ("polygon", self.geofence.polygon_text().sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Unit 派出/挂包单位

/// A sending or sponsoring unit (派出单位/挂包单位). Its id is the document id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Unit {
    pub name: String,
    pub level: UnitLevel,
}

impl Unit {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Unit {
            name: "曲靖市财政局".into(),
            level: UnitLevel::City,
        }
    }
}

static UNIT_TABLES: [Table; 1] = [Table {
    name: "p_unit",
    columns: &[
        ("name", SqlType::Text),
        ("level", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[&["level"]],
}];

impl Record for Unit {
    const KIND: Kind = Kind::Unit;

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("name", &self.name)
    }

    fn tables() -> &'static [Table] {
        &UNIT_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_unit",
            vec![
                ("name", self.name.sql()),
                ("level", self.level.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cadre 干部

/// A cadre: first secretary, resident team member or pairing cadre. Its id is the document id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cadre {
    pub name: String,
    pub phone: String,
    pub unit_id: String,
    pub level: UnitLevel,
    pub role: CadreRole,
    /// Resident ID number; optional, but checked when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_no: Option<String>,
}

impl Cadre {
    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Cadre {
            name: "王志刚".into(),
            phone: "13887412345".into(),
            unit_id: "unit-qj-czj".into(),
            level: UnitLevel::City,
            role: CadreRole::FirstSecretary,
            id_no: Some("530302198203150615".into()),
        }
    }
}

static CADRE_TABLES: [Table; 1] = [Table {
    name: "p_cadre",
    columns: &[
        ("name", SqlType::Text),
        ("phone", SqlType::Text),
        ("unit_id", SqlType::Text),
        ("level", SqlType::Text),
        ("role", SqlType::Text),
        ("id_no", SqlType::Text),
        ("state", SqlType::Text),
    ],
    indexes: &[&["unit_id"], &["role"], &["id_no"]],
}];

impl Record for Cadre {
    const KIND: Kind = Kind::Cadre;

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("name", &self.name)?;
        check_phone("phone", &self.phone)?;
        non_empty("unit_id", &self.unit_id)?;
        if let Some(id_no) = &self.id_no {
            check_id_number(id_no)
                .map_err(|e| ValidationError::new("id_no", Problem::BadIdNumber, e.to_string()))?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &CADRE_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_cadre",
            vec![
                ("name", self.name.sql()),
                ("phone", self.phone.sql()),
                ("unit_id", self.unit_id.sql()),
                ("level", self.level.sql()),
                ("role", self.role.sql()),
                ("id_no", self.id_no.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Team 驻村工作队

/// A village work team (驻村工作队). The leader (第一书记/队长) is one of its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Team {
    pub village_code: String,
    pub leader_id: String,
    /// Keyed by cadre id, so two cadres' concurrent edits merge member by member.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<String, TeamMember>,
}

/// A cadre's time on a team; `to` is the last day on the team, `None` while still serving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamMember {
    pub from: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
}

impl TeamMember {
    /// Whether the cadre is on the team on `date` (both ends inclusive).
    pub fn active_on(&self, date: Date) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

impl Team {
    /// The ids of the cadres on the team on `date`.
    pub fn members_on(&self, date: Date) -> impl Iterator<Item = &str> {
        self.members
            .iter()
            .filter(move |(_, m)| m.active_on(date))
            .map(|(id, _)| id.as_str())
    }

    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        let member = |from: &str, to: Option<&str>| TeamMember {
            from: from.parse().expect("example date"),
            to: to.map(|t| t.parse().expect("example date")),
        };
        Team {
            village_code: "530322101201".into(),
            leader_id: "cadre-wang-zhigang".into(),
            members: BTreeMap::from([
                ("cadre-wang-zhigang".into(), member("2015-08-25", None)),
                ("cadre-li-ming".into(), member("2015-08-25", None)),
                (
                    "cadre-zhao-hong".into(),
                    member("2015-09-01", Some("2016-06-30")),
                ),
            ]),
        }
    }
}

static TEAM_TABLES: [Table; 2] = [
    Table {
        name: "p_team",
        columns: &[
            ("village_code", SqlType::Text),
            ("leader_id", SqlType::Text),
            ("state", SqlType::Text),
        ],
        indexes: &[&["village_code"], &["leader_id"]],
    },
    Table {
        name: "p_team_member",
        columns: &[
            ("village_code", SqlType::Text),
            ("cadre_id", SqlType::Text),
            ("from_date", SqlType::Text),
            ("to_date", SqlType::Text),
            ("is_leader", SqlType::Integer),
        ],
        indexes: &[&["cadre_id", "from_date"], &["village_code"]],
    },
];

impl Record for Team {
    const KIND: Kind = Kind::Team;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Village(self.village_code.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("village_code", &self.village_code)?;
        non_empty("leader_id", &self.leader_id)?;
        if self.members.is_empty() {
            return Err(ValidationError::required("members"));
        }
        for (id, m) in &self.members {
            non_empty("members", id)?;
            if let Some(to) = m.to {
                range(
                    &format!("members.{id}.to"),
                    to >= m.from,
                    "the end is before the start",
                )?;
            }
        }
        consistent(
            "leader_id",
            self.members.contains_key(&self.leader_id),
            "the leader must be one of the team's members",
        )
    }

    fn tables() -> &'static [Table] {
        &TEAM_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_team",
            vec![
                ("village_code", self.village_code.sql()),
                ("leader_id", self.leader_id.sql()),
                ("state", env.state.code().sql()),
            ],
        );
        for (id, m) in &self.members {
            rows.push(
                "p_team_member",
                vec![
                    ("village_code", self.village_code.sql()),
                    ("cadre_id", id.sql()),
                    ("from_date", m.from.sql()),
                    ("to_date", m.to.sql()),
                    ("is_leader", (*id == self.leader_id).sql()),
                ],
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Assignment 结对帮扶

/// A pairing of a cadre with a household (结对帮扶). `to` is the last day, inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Assignment {
    pub household_id: String,
    pub cadre_id: String,
    pub from: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Date>,
    /// The household's 帮扶责任人, whose visits count for R5.
    pub is_primary: bool,
}

impl Assignment {
    /// Whether the assignment holds on `date` (both ends inclusive).
    pub fn active_on(&self, date: Date) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }

    /// A valid example record, for tests, docs and the demo.
    pub fn example() -> Self {
        Assignment {
            household_id: "hh-530322101201-0007".into(),
            cadre_id: "cadre-li-ming".into(),
            from: Date::from_ymd_opt(2015, 8, 25).expect("valid date"),
            to: None,
            is_primary: true,
        }
    }
}

static ASSIGNMENT_TABLES: [Table; 1] = [Table {
    name: "p_assignment",
    columns: &[
        ("household_id", SqlType::Text),
        ("cadre_id", SqlType::Text),
        ("from_date", SqlType::Text),
        ("to_date", SqlType::Text),
        ("is_primary", SqlType::Integer),
        ("state", SqlType::Text),
    ],
    indexes: &[&["household_id", "from_date"], &["cadre_id", "from_date"]],
}];

impl Record for Assignment {
    const KIND: Kind = Kind::Assignment;

    fn scope(&self) -> ScopeHint {
        ScopeHint::Household(self.household_id.clone())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        non_empty("household_id", &self.household_id)?;
        non_empty("cadre_id", &self.cadre_id)?;
        if let Some(to) = self.to {
            range("to", to >= self.from, "the end is before the start")?;
        }
        Ok(())
    }

    fn tables() -> &'static [Table] {
        &ASSIGNMENT_TABLES
    }

    fn project(&self, env: &Envelope, rows: &mut Rows) {
        rows.push(
            "p_assignment",
            vec![
                ("household_id", self.household_id.sql()),
                ("cadre_id", self.cadre_id.sql()),
                ("from_date", self.from.sql()),
                ("to_date", self.to.sql()),
                ("is_primary", self.is_primary.sql()),
                ("state", env.state.code().sql()),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Field checks shared by the kinds

/// A code or key: not empty and without spaces (a pasted code with a trailing space would
/// silently fail to join).
pub(crate) fn code_text(field: &str, value: &str) -> Result<(), ValidationError> {
    non_empty(field, value)?;
    if value.chars().any(char::is_whitespace) {
        return Err(ValidationError::new(
            field,
            Problem::Malformed,
            "a code has no spaces",
        ));
    }
    Ok(())
}

/// A phone number: a mobile (`13887412345`) or a landline with area code (`0874-8123456`),
/// optionally with `+86`; 7 to 15 digits with `-`, spaces or a leading `+` between them.
pub(crate) fn check_phone(field: &str, value: &str) -> Result<(), ValidationError> {
    non_empty(field, value)?;
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let shape_ok = value
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || c == '-' || c == ' ' || (c == '+' && i == 0));
    if !shape_ok || !(7..=15).contains(&digits) {
        return Err(ValidationError::new(
            field,
            Problem::Malformed,
            "a phone number has 7 to 15 digits, with only -, spaces or a leading +",
        ));
    }
    Ok(())
}

/// A SHA-256 hash as 64 lower-case hex characters, so equal files always compare equal (R9
/// looks for the same photo or signature on two visits).
pub(crate) fn check_sha256(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok = value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            Problem::Malformed,
            "a SHA-256 is 64 lower-case hex digits",
        ))
    }
}

/// Optional free text: absent is fine, present must not be blank.
pub(crate) fn opt_text(field: &str, value: &Option<String>) -> Result<(), ValidationError> {
    value.as_deref().map_or(Ok(()), |v| non_empty(field, v))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::codes::testkit::{
        assert_invalid, assert_round_trips, cell, count, date, edited_json, json_error, project,
        text,
    };

    #[test]
    fn examples_are_valid_and_round_trip() {
        assert_eq!(Village::example().validate(), Ok(()));
        assert_round_trips(&Village::example());
        assert_eq!(Unit::example().validate(), Ok(()));
        assert_round_trips(&Unit::example());
        assert_eq!(Cadre::example().validate(), Ok(()));
        assert_round_trips(&Cadre::example());
        assert_eq!(Team::example().validate(), Ok(()));
        assert_round_trips(&Team::example());
        assert_eq!(Assignment::example().validate(), Ok(()));
        assert_round_trips(&Assignment::example());
    }

    #[test]
    fn a_circle_geofence_contains_points_within_its_radius() {
        let fence = Geofence::circle(Geo::at(25.0, 103.0));
        // 0.01° of latitude is about 1.1 km, 0.02° about 2.2 km.
        assert!(fence.contains(&Geo::at(25.01, 103.0)));
        assert!(!fence.contains(&Geo::at(25.02, 103.0)));
        let wide = Geofence {
            radius_m: 2500.0,
            ..fence
        };
        assert!(wide.contains(&Geo::at(25.02, 103.0)));
    }

    #[test]
    fn a_polygon_geofence_replaces_the_circle() {
        // An L-shaped boundary: the notch is near the centroid but outside the village.
        let p = |lat, lon| Geo::at(lat, lon);
        let fence = Geofence {
            centroid: p(25.0, 103.0),
            radius_m: 1500.0,
            polygon: vec![
                p(24.99, 102.99),
                p(24.99, 103.03),
                p(25.0, 103.03),
                p(25.0, 103.0),
                p(25.03, 103.0),
                p(25.03, 102.99),
            ],
        };
        assert!(fence.contains(&p(24.995, 103.02)), "in the foot of the L");
        assert!(
            fence.contains(&p(25.02, 102.995)),
            "in the stem of the L, 2 km away"
        );
        assert!(
            !fence.contains(&p(25.005, 103.005)),
            "in the notch, 700 m from the centroid"
        );
        assert!(!fence.contains(&p(25.05, 103.0)), "beyond the boundary");
        // West of the boundary, level with the foot: the eastward ray crosses it twice.
        assert!(Geofence::circle(p(25.0, 103.0)).contains(&p(24.996, 102.988)));
        assert!(
            !fence.contains(&p(24.996, 102.988)),
            "inside the circle, outside the boundary"
        );
    }

    #[test]
    fn a_geofence_missing_in_json_is_required_and_the_radius_defaults() {
        let err = json_error::<Village>(edited_json(&Village::example(), |m| {
            m.remove("geofence");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("geofence", Problem::Required)
        );
        let v: Village = crate::domain::from_json(edited_json(&Village::example(), |m| {
            m.insert(
                "geofence".into(),
                json!({"centroid": {"lat": 25.0, "lon": 103.0}}),
            );
            m.remove("water_scarce");
        }))
        .expect("radius and water_scarce default");
        assert_eq!(v.geofence.radius_m, 1500.0);
        assert!(!v.water_scarce);
    }

    #[test]
    fn village_rules() {
        let mut v = Village::example();
        v.name = "  ".into();
        assert_invalid(&v, "name", Problem::Required);

        let mut v = Village::example();
        v.code = "530322 101201".into();
        assert_invalid(&v, "code", Problem::Malformed);

        let mut v = Village::example();
        v.geofence.radius_m = 0.0;
        assert_invalid(&v, "geofence.radius_m", Problem::OutOfRange);

        let mut v = Village::example();
        v.geofence.polygon = vec![Geo::at(25.0, 103.0), Geo::at(25.1, 103.0)];
        assert_invalid(&v, "geofence.polygon", Problem::Malformed);

        let mut v = Village::example();
        v.geofence.polygon = vec![
            Geo::at(25.0, 103.0),
            Geo::at(25.1, 103.0),
            Geo::at(95.0, 1.0),
        ];
        assert_invalid(&v, "geofence.polygon.2", Problem::OutOfRange);

        let mut v = Village::example();
        v.geofence.centroid = Geo::at(25.0, 190.0);
        assert_invalid(&v, "geofence.centroid", Problem::OutOfRange);

        let mut v = Village::example();
        v.hamlets.push("上村".into());
        assert_invalid(&v, "hamlets.4", Problem::Inconsistent);
    }

    #[test]
    fn cadre_id_numbers_must_pass_the_checksum() {
        let mut c = Cadre::example();
        c.id_no = Some("530302198203150616".into());
        assert_invalid(&c, "id_no", Problem::BadIdNumber);
        c.id_no = None;
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn cadre_phone_numbers_are_checked() {
        let mut c = Cadre::example();
        c.phone = "0874-8123456".into();
        assert_eq!(c.validate(), Ok(()));
        c.phone = "+86 138 8741 2345".into();
        assert_eq!(c.validate(), Ok(()));
        c.phone = "1388741234x".into();
        assert_invalid(&c, "phone", Problem::Malformed);
        c.phone = "12345".into();
        assert_invalid(&c, "phone", Problem::Malformed);
        c.phone = String::new();
        assert_invalid(&c, "phone", Problem::Required);
    }

    #[test]
    fn unknown_codes_and_missing_fields_fail_to_deserialise() {
        let err = json_error::<Cadre>(edited_json(&Cadre::example(), |m| {
            m.insert("role".into(), json!("village_head"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("role", Problem::UnknownCode)
        );
        let err = json_error::<Unit>(edited_json(&Unit::example(), |m| {
            m.insert("level".into(), json!("省"));
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("level", Problem::UnknownCode)
        );
        let err = json_error::<Assignment>(edited_json(&Assignment::example(), |m| {
            m.remove("is_primary");
        }));
        assert_eq!(
            (err.field.as_str(), err.problem),
            ("is_primary", Problem::Required)
        );
    }

    #[test]
    fn team_rules() {
        let mut t = Team::example();
        t.leader_id = "cadre-someone-else".into();
        assert_invalid(&t, "leader_id", Problem::Inconsistent);

        let mut t = Team::example();
        t.members.clear();
        assert_invalid(&t, "members", Problem::Required);

        let mut t = Team::example();
        if let Some(m) = t.members.get_mut("cadre-li-ming") {
            m.to = Some(date("2015-08-01"));
        }
        assert_invalid(&t, "members.cadre-li-ming.to", Problem::OutOfRange);
    }

    #[test]
    fn team_members_on_a_date() {
        let t = Team::example();
        let on = |d| t.members_on(date(d)).collect::<Vec<_>>();
        assert_eq!(on("2015-08-28"), ["cadre-li-ming", "cadre-wang-zhigang"]);
        assert_eq!(
            on("2015-09-01"),
            ["cadre-li-ming", "cadre-wang-zhigang", "cadre-zhao-hong"]
        );
        assert_eq!(on("2016-06-30").len(), 3, "the last day is inclusive");
        assert_eq!(on("2016-07-01").len(), 2);
    }

    #[test]
    fn assignments_hold_from_their_first_to_their_last_day() {
        let mut a = Assignment::example();
        a.to = Some(date("2016-03-31"));
        assert!(!a.active_on(date("2015-08-24")));
        assert!(a.active_on(date("2015-08-25")));
        assert!(a.active_on(date("2016-03-31")));
        assert!(!a.active_on(date("2016-04-01")));
        a.to = Some(date("2015-08-24"));
        assert_invalid(&a, "to", Problem::OutOfRange);
        a.to = None;
        a.cadre_id = String::new();
        assert_invalid(&a, "cadre_id", Problem::Required);
    }

    #[test]
    fn projections() {
        let rows = project(&Village::example());
        assert_eq!(cell(&rows, "p_village", 0, "code"), &text("530322101201"));
        assert_eq!(cell(&rows, "p_village", 0, "is_poor_village"), &true.sql());
        assert_eq!(cell(&rows, "p_village", 0, "radius_m"), &1500.0_f64.sql());
        assert_eq!(cell(&rows, "p_village", 0, "state"), &text("submitted"));

        let rows = project(&Unit::example());
        assert_eq!(cell(&rows, "p_unit", 0, "level"), &text("city"));

        let rows = project(&Cadre::example());
        assert_eq!(cell(&rows, "p_cadre", 0, "role"), &text("first_secretary"));
        assert_eq!(
            cell(&rows, "p_cadre", 0, "id_no"),
            &text("530302198203150615")
        );

        let rows = project(&Team::example());
        assert_eq!(count(&rows, "p_team_member"), 3);
        let zhao = (0..3)
            .find(|&i| cell(&rows, "p_team_member", i, "cadre_id") == &text("cadre-zhao-hong"))
            .expect("zhao's row");
        assert_eq!(
            cell(&rows, "p_team_member", zhao, "from_date"),
            &text("2015-09-01")
        );
        assert_eq!(
            cell(&rows, "p_team_member", zhao, "to_date"),
            &text("2016-06-30")
        );
        assert_eq!(
            cell(&rows, "p_team_member", zhao, "is_leader"),
            &false.sql()
        );

        let rows = project(&Assignment::example());
        assert_eq!(
            cell(&rows, "p_assignment", 0, "to_date"),
            &rusqlite::types::Value::Null
        );
        assert_eq!(cell(&rows, "p_assignment", 0, "is_primary"), &true.sql());
    }

    #[test]
    fn sha256_must_be_lower_case_hex() {
        let good = "a".repeat(64);
        assert_eq!(check_sha256("x", &good), Ok(()));
        assert!(check_sha256("x", &"A".repeat(64)).is_err());
        assert!(check_sha256("x", &"a".repeat(63)).is_err());
        assert!(check_sha256("x", &"g".repeat(64)).is_err());
    }
}
