//! R8 evidence levels and R9 suspected proxy visits (代访/代签), over the visits of a scope.
//!
//! R8: **A** = GPS within 200 m⚙ of the household's `home_geo` and the household confirmed;
//! **B** = one of the two; **C** = neither. C-level and mock-location visits count (for R5 and
//! coverage) only after township acceptance (a visit's `acceptance`, signed by the township:
//! [`crate::rules::approvals::check_visit`]); [`counts_r8`] is the one place that says so.
//!
//! R9 flags a visit when: its photo or signature hash appears on another visit; the cadre
//! would have moved faster than 60 km/h⚙ from their previous visit; its device recorded
//! visits for two or more accounts that day; a check-in of the same cadre that day places them
//! too far away to have been there (the same speed test); it lasted under 5 minutes⚙; or the
//! server received it more than 7 days⚙ after it started (server time, not the device's).
//!
//! Not here: reading photos themselves (perceptual-hash comparison is by equal `phash` only).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::RecordState;
use crate::domain::codes::VisitMode;
use crate::rules::visits::VisitFact;
use crate::values::{Date, Geo};

/// The county-configurable (⚙) thresholds of R8 and R9.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EvidenceConfig {
    /// R8: a visit's GPS fix this close to the home counts as "at the household".
    pub max_distance_m: f64,
    /// R9: faster than this between two places is implausible.
    pub max_speed_kmh: f64,
    /// R9: shorter visits are suspicious.
    pub min_duration_min: i64,
    /// R9: entered (received by the server) later than this after the visit.
    pub max_entry_delay_days: i64,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            max_distance_m: 200.0,
            max_speed_kmh: 60.0,
            min_duration_min: 5,
            max_entry_delay_days: 7,
        }
    }
}

/// A visit with what R8 and R9 look at.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitRecord {
    pub id: String,
    pub household_id: String,
    pub visitor_id: String,
    pub mode: VisitMode,
    pub state: RecordState,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The local date the visit started (device time, in its own zone).
    pub date: Date,
    pub geo: Option<Geo>,
    pub mock: bool,
    /// Someone signed or pressed a fingerprint and the image is there.
    pub confirmed: bool,
    /// The confirmation image's and the photos' hashes (sha256 and phash).
    pub hashes: Vec<String>,
    pub device_id: String,
    /// When the server first received the visit (`server_received_ts`).
    pub received: Option<DateTime<Utc>>,
    /// The township's verdict (R8): accepted, rejected, or `None` when not reviewed.
    pub accepted: Option<bool>,
}

impl VisitRecord {
    /// The visit as the device-side rules (R5–R7) see it.
    pub fn fact(&self) -> VisitFact {
        VisitFact {
            household_id: self.household_id.clone(),
            visitor_id: self.visitor_id.clone(),
            mode: self.mode,
            date: self.date,
            state: self.state,
        }
    }

    pub fn is_remote(&self) -> bool {
        !self.mode.counts_for_coverage()
    }
}

/// R8 evidence level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EvidenceLevel {
    A,
    B,
    C,
}

/// R8: the evidence level of a visit given the household's home location.
pub fn evidence_level(v: &VisitRecord, home: Option<&Geo>, cfg: &EvidenceConfig) -> EvidenceLevel {
    let near = match (&v.geo, home) {
        (Some(g), Some(h)) => g.distance_m(h) <= cfg.max_distance_m,
        _ => false,
    };
    level_of(near, v.confirmed)
}

/// R8's level from its two tests: at the household, and confirmed by it.
fn level_of(near: bool, confirmed: bool) -> EvidenceLevel {
    match (near, confirmed) {
        (true, true) => EvidenceLevel::A,
        (false, false) => EvidenceLevel::C,
        _ => EvidenceLevel::B,
    }
}

/// R8 for a visit as its record says (the server's check of a township's acceptance): whether
/// it counts only once accepted, given its household's home.
pub fn visit_needs_acceptance(
    v: &crate::domain::Visit,
    home: Option<&Geo>,
    cfg: &EvidenceConfig,
) -> bool {
    let near = v
        .distance_to_home_m(home)
        .is_some_and(|d| d <= cfg.max_distance_m);
    level_of(near, v.household_confirmed()) == EvidenceLevel::C || v.mock_location()
}

/// R8: whether a visit's evidence lets it count: level A or B without a mock location, or
/// accepted by the township.
pub fn counts_r8(v: &VisitRecord, level: EvidenceLevel) -> bool {
    (!needs_acceptance(v, level)) || v.accepted == Some(true)
}

/// R8: whether a visit counts only once the township accepts it (level C, or a mock
/// location).
pub fn needs_acceptance(v: &VisitRecord, level: EvidenceLevel) -> bool {
    level == EvidenceLevel::C || v.mock
}

/// An R9 anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    ReusedHash,
    TooFast,
    SharedDevice,
    CheckInElsewhere,
    TooShort,
    EnteredLate,
}

impl Anomaly {
    pub const ALL: [Anomaly; 6] = [
        Anomaly::ReusedHash,
        Anomaly::TooFast,
        Anomaly::SharedDevice,
        Anomaly::CheckInElsewhere,
        Anomaly::TooShort,
        Anomaly::EnteredLate,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            Anomaly::ReusedHash => "照片或签字重复",
            Anomaly::TooFast => "行程速度异常",
            Anomaly::SharedDevice => "一机多号",
            Anomaly::CheckInElsewhere => "打卡位置冲突",
            Anomaly::TooShort => "走访时长过短",
            Anomaly::EnteredLate => "超期补录",
        }
    }
}

/// A located check-in of a cadre (for the "check-in places them elsewhere" test).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInPoint {
    pub cadre_id: String,
    pub ts: DateTime<Utc>,
    pub date: Date,
    pub geo: Geo,
}

/// Hours between an instant and an interval (0 inside it), at least one minute so that two
/// places at the same instant give a finite, very high speed.
fn hours_apart(t: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let secs = if t < from {
        (from - t).num_seconds()
    } else if t > to {
        (t - to).num_seconds()
    } else {
        0
    };
    secs.max(60) as f64 / 3600.0
}

fn too_fast(a: &Geo, b: &Geo, hours: f64, cfg: &EvidenceConfig) -> bool {
    // Within the R8 radius is "the same place": GPS noise must not make a speed.
    let m = a.distance_m(b);
    m > cfg.max_distance_m && (m / 1000.0) / hours > cfg.max_speed_kmh
}

/// R9 for every submitted visit in `visits`: the anomalies of each, by visit id (visits
/// without any are left out). Hash reuse and shared devices are found among `visits` only,
/// so pass the whole scope, not one cadre's.
pub fn r9_anomalies(
    visits: &[VisitRecord],
    checkins: &[CheckInPoint],
    cfg: &EvidenceConfig,
) -> HashMap<String, Vec<Anomaly>> {
    let visits: Vec<&VisitRecord> = visits
        .iter()
        .filter(|v| v.state == RecordState::Submitted)
        .collect();
    let mut out: HashMap<String, HashSet<Anomaly>> = HashMap::new();
    let mut flag = |id: &str, a: Anomaly| {
        out.entry(id.to_string()).or_default().insert(a);
    };

    let mut by_hash: HashMap<&str, HashSet<&str>> = HashMap::new();
    for v in &visits {
        for h in &v.hashes {
            by_hash.entry(h).or_default().insert(&v.id);
        }
    }
    for ids in by_hash.values().filter(|ids| ids.len() >= 2) {
        for id in ids {
            flag(id, Anomaly::ReusedHash);
        }
    }

    let mut by_visitor: HashMap<&str, Vec<&VisitRecord>> = HashMap::new();
    for v in &visits {
        by_visitor.entry(&v.visitor_id).or_default().push(v);
    }
    for list in by_visitor.values_mut() {
        list.sort_by_key(|v| v.start);
        for pair in list.windows(2) {
            let (prev, next) = (pair[0], pair[1]);
            if let (Some(a), Some(b)) = (&prev.geo, &next.geo)
                && too_fast(a, b, hours_apart(next.start, prev.start, prev.end), cfg)
            {
                flag(&next.id, Anomaly::TooFast);
            }
        }
    }

    let mut accounts: HashMap<(&str, Date), HashSet<&str>> = HashMap::new();
    for v in &visits {
        accounts
            .entry((&v.device_id, v.date))
            .or_default()
            .insert(&v.visitor_id);
    }

    let mut checkins_of: HashMap<(&str, Date), Vec<&CheckInPoint>> = HashMap::new();
    for c in checkins {
        checkins_of
            .entry((&c.cadre_id, c.date))
            .or_default()
            .push(c);
    }

    for v in &visits {
        if accounts
            .get(&(v.device_id.as_str(), v.date))
            .is_some_and(|a| a.len() >= 2)
        {
            flag(&v.id, Anomaly::SharedDevice);
        }
        if let (Some(geo), Some(cs)) = (&v.geo, checkins_of.get(&(v.visitor_id.as_str(), v.date)))
            && cs
                .iter()
                .any(|c| too_fast(&c.geo, geo, hours_apart(c.ts, v.start, v.end), cfg))
        {
            flag(&v.id, Anomaly::CheckInElsewhere);
        }
        if (v.end - v.start).num_minutes() < cfg.min_duration_min {
            flag(&v.id, Anomaly::TooShort);
        }
        if v.received
            .is_some_and(|r| (r - v.start).num_seconds() > cfg.max_entry_delay_days * 86_400)
        {
            flag(&v.id, Anomaly::EnteredLate);
        }
    }
    out.into_iter()
        .map(|(id, set)| {
            let mut list: Vec<Anomaly> = set.into_iter().collect();
            list.sort_by_key(|a| Anomaly::ALL.iter().position(|x| x == a));
            (id, list)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn visit(id: &str, visitor: &str, start: &str, end: &str, geo: Option<Geo>) -> VisitRecord {
        let start = t(start);
        VisitRecord {
            id: id.into(),
            household_id: format!("h-{id}"),
            visitor_id: visitor.into(),
            mode: VisitMode::InHome,
            state: RecordState::Submitted,
            start,
            end: t(end),
            date: start.date_naive(),
            geo,
            mock: false,
            confirmed: true,
            hashes: vec![format!("hash-{id}")],
            device_id: format!("dev-{visitor}"),
            received: Some(start),
            accepted: None,
        }
    }

    #[test]
    fn r8_levels_from_distance_and_confirmation() {
        let cfg = EvidenceConfig::default();
        let home = Geo::at(25.0, 103.0);
        // 0.001° of latitude is about 111 m: near; 0.003° is about 333 m: not near.
        let mut v = visit(
            "a",
            "c1",
            "2016-03-01T01:00:00Z",
            "2016-03-01T01:30:00Z",
            Some(Geo::at(25.001, 103.0)),
        );
        assert_eq!(evidence_level(&v, Some(&home), &cfg), EvidenceLevel::A);
        v.confirmed = false;
        assert_eq!(evidence_level(&v, Some(&home), &cfg), EvidenceLevel::B);
        v.geo = Some(Geo::at(25.003, 103.0));
        assert_eq!(evidence_level(&v, Some(&home), &cfg), EvidenceLevel::C);
        assert!(!counts_r8(&v, EvidenceLevel::C));
        v.confirmed = true;
        assert_eq!(evidence_level(&v, None, &cfg), EvidenceLevel::B);
        v.mock = true;
        assert!(!counts_r8(&v, EvidenceLevel::B));
        // The township's acceptance lets it count; a rejection does not.
        v.accepted = Some(false);
        assert!(!counts_r8(&v, EvidenceLevel::B));
        v.accepted = Some(true);
        assert!(counts_r8(&v, EvidenceLevel::B) && counts_r8(&v, EvidenceLevel::C));
    }

    #[test]
    fn r9_flags_each_anomaly() {
        let cfg = EvidenceConfig::default();
        let here = Geo::at(25.0, 103.0);
        // 0.5° of latitude is about 55.6 km: 30 minutes apart is 111 km/h.
        let far = Geo::at(25.5, 103.0);
        let mut visits = vec![
            visit(
                "v1",
                "c1",
                "2016-03-01T01:00:00Z",
                "2016-03-01T01:30:00Z",
                Some(here),
            ),
            visit(
                "v2",
                "c1",
                "2016-03-01T02:00:00Z",
                "2016-03-01T02:03:00Z",
                Some(far),
            ),
            visit(
                "v3",
                "c2",
                "2016-03-01T03:00:00Z",
                "2016-03-01T03:30:00Z",
                Some(here),
            ),
            visit(
                "v4",
                "c3",
                "2016-03-02T03:00:00Z",
                "2016-03-02T03:30:00Z",
                Some(here),
            ),
        ];
        visits[2].hashes = vec!["hash-v1".into()];
        visits[3].device_id = "dev-c2".into();
        let mut v5 = visit(
            "v5",
            "c2",
            "2016-03-02T05:00:00Z",
            "2016-03-02T05:30:00Z",
            Some(here),
        );
        v5.received = Some(t("2016-03-09T05:00:01Z"));
        visits.push(v5);
        let checkins = [CheckInPoint {
            cadre_id: "c3".into(),
            ts: t("2016-03-02T03:40:00Z"),
            date: Date::from_ymd_opt(2016, 3, 2).unwrap(),
            geo: far,
        }];
        let got = r9_anomalies(&visits, &checkins, &cfg);
        assert_eq!(got["v1"], vec![Anomaly::ReusedHash]);
        assert_eq!(got["v2"], vec![Anomaly::TooFast, Anomaly::TooShort]);
        assert_eq!(got["v3"], vec![Anomaly::ReusedHash]);
        // dev-c2 recorded visits for c3 and c2 on 2 March; c3 checked in 55 km away 10 minutes later.
        assert_eq!(
            got["v4"],
            vec![Anomaly::SharedDevice, Anomaly::CheckInElsewhere]
        );
        // Received 7 days and 1 second after it started.
        assert_eq!(got["v5"], vec![Anomaly::SharedDevice, Anomaly::EnteredLate]);
        assert_eq!(got.len(), 5);
    }
}
