//! Visit rules R5–R7: which visits count, and a cadre's households due a visit.
//!
//! A visit counts toward R5 (and coverage) when it is submitted (not a draft, not void), made
//! in person (R7: 电话 and 微信视频 visits are recorded but never count), and made by the
//! household's primary 帮扶责任人 on that day (R6). A household is due when the days since its
//! last counting visit by that assignee (or since the assignment began, if none) exceed N;
//! this is report 3's `gap = D − max(last, assignment.from)`.
//!
//! Not here: evidence levels and proxy-visit detection (R8, R9), which are server reports.

use serde::Serialize;

use crate::domain::RecordState;
use crate::domain::codes::VisitMode;
use crate::values::Date;

/// The county-configurable (⚙) visit settings.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct VisitConfig {
    /// R5: the longest gap between counting visits by the primary assignee.
    pub interval_days: i64,
}

/// The bounds of R5's interval in days, both included: what a county may set
/// ([`crate::rules::CountySettings::validate`]) and what report 3's `interval_days` takes.
pub const INTERVAL_DAYS: (i64, i64) = (1, 366);

impl Default for VisitConfig {
    fn default() -> Self {
        VisitConfig { interval_days: 60 }
    }
}

/// A visit, as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitFact {
    pub household_id: String,
    pub visitor_id: String,
    pub mode: VisitMode,
    /// The local date the visit started.
    pub date: Date,
    pub state: RecordState,
}

/// A pairing assignment, as the rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentFact {
    pub household_id: String,
    pub cadre_id: String,
    pub from: Date,
    pub to: Option<Date>,
    pub is_primary: bool,
}

impl AssignmentFact {
    pub fn active_on(&self, d: Date) -> bool {
        d >= self.from && self.to.is_none_or(|t| d <= t)
    }
}

/// R6 + R7: whether a visit counts for R5 and coverage.
pub fn visit_counts(v: &VisitFact, assignments: &[AssignmentFact]) -> bool {
    v.state == RecordState::Submitted
        && !matches!(v.mode, VisitMode::Phone | VisitMode::Video)
        && assignments.iter().any(|a| {
            a.is_primary
                && a.household_id == v.household_id
                && a.cadre_id == v.visitor_id
                && a.active_on(v.date)
        })
}

/// A household of the cadre's that is due a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DueHousehold {
    pub household_id: String,
    /// The last counting visit by this cadre, if any.
    pub last_visit: Option<Date>,
    /// `today − max(last_visit, assignment.from)`.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub days: i64,
}

/// The households for which `cadre_id` is the active primary assignee on `today`, registered
/// (`is_registered`), and not visited in more than `n_days` days, most overdue first.
pub fn households_due(
    cadre_id: &str,
    today: Date,
    n_days: i64,
    assignments: &[AssignmentFact],
    visits: &[VisitFact],
    is_registered: impl Fn(&str) -> bool,
) -> Vec<DueHousehold> {
    let mut due: Vec<DueHousehold> = assignments
        .iter()
        .filter(|a| a.cadre_id == cadre_id && a.is_primary && a.active_on(today))
        .filter(|a| is_registered(&a.household_id))
        .filter_map(|a| {
            let last = visits
                .iter()
                .filter(|v| {
                    v.household_id == a.household_id
                        && v.visitor_id == cadre_id
                        && v.date <= today
                        && visit_counts(v, assignments)
                })
                .map(|v| v.date)
                .max();
            let since = last.map_or(a.from, |l| l.max(a.from));
            let days = (today - since).num_days();
            (days > n_days).then(|| DueHousehold {
                household_id: a.household_id.clone(),
                last_visit: last,
                days,
            })
        })
        .collect();
    due.sort_by(|a, b| {
        b.days
            .cmp(&a.days)
            .then_with(|| a.household_id.cmp(&b.household_id))
    });
    due.dedup_by(|a, b| a.household_id == b.household_id);
    due
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> Date {
        Date::from_ymd_opt(2016, m, day).unwrap()
    }

    fn assign(h: &str, c: &str, from: Date) -> AssignmentFact {
        AssignmentFact {
            household_id: h.into(),
            cadre_id: c.into(),
            from,
            to: None,
            is_primary: true,
        }
    }

    fn visit(h: &str, c: &str, date: Date, mode: VisitMode) -> VisitFact {
        VisitFact {
            household_id: h.into(),
            visitor_id: c.into(),
            mode,
            date,
            state: RecordState::Submitted,
        }
    }

    #[test]
    fn r7_remote_visits_never_count_and_r6_only_the_primary_assignee_counts() {
        let a = [assign("h1", "c1", d(1, 1))];
        assert!(visit_counts(
            &visit("h1", "c1", d(2, 1), VisitMode::InHome),
            &a
        ));
        assert!(visit_counts(
            &visit("h1", "c1", d(2, 1), VisitMode::InVillage),
            &a
        ));
        assert!(!visit_counts(
            &visit("h1", "c1", d(2, 1), VisitMode::Phone),
            &a
        ));
        assert!(!visit_counts(
            &visit("h1", "c1", d(2, 1), VisitMode::Video),
            &a
        ));
        assert!(!visit_counts(
            &visit("h1", "c2", d(2, 1), VisitMode::InHome),
            &a
        ));
        // Before the assignment began it does not count either.
        assert!(!visit_counts(
            &visit("h1", "c1", d(1, 1).pred_opt().unwrap(), VisitMode::InHome),
            &a
        ));
        let mut draft = visit("h1", "c1", d(2, 1), VisitMode::InHome);
        draft.state = RecordState::Draft;
        assert!(!visit_counts(&draft, &a));
    }

    #[test]
    fn r5_households_due_use_gap_from_last_visit_or_assignment_start() {
        let a = [
            assign("h1", "c1", d(1, 1)),
            assign("h2", "c1", d(1, 1)),
            assign("h3", "c1", d(4, 1)),
            assign("h4", "c2", d(1, 1)),
        ];
        let v = [
            visit("h1", "c1", d(3, 1), VisitMode::InHome),
            // h2 was only phoned: the call does not count.
            visit("h2", "c1", d(4, 20), VisitMode::Phone),
        ];
        let today = d(5, 1);
        let due = households_due("c1", today, 30, &a, &v, |_| true);
        let got: Vec<(&str, Option<Date>, i64)> = due
            .iter()
            .map(|x| (x.household_id.as_str(), x.last_visit, x.days))
            .collect();
        // h2: never visited, 121 days since 1 Jan; h1: 61 days since 1 Mar; h3: 30 days, not > 30.
        assert_eq!(got, vec![("h2", None, 121), ("h1", Some(d(3, 1)), 61)]);
        // Exited households are not registered and drop out.
        let due = households_due("c1", today, 30, &a, &v, |h| h != "h2");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].household_id, "h1");
    }
}
