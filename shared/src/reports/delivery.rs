//! Report 5, policy delivery gaps (政策兑现), per policy × village, over R11.
//!
//! Dates are the record's own (`due_date`, `delivered_date`: [`super::TimeBasis::RecordDates`]).
//! Amounts are whole fen, as projected, so sums are exact; the JSON shows them in yuan.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::domain::codes::DeliveryStatus;
use crate::rules::policy::{DeliveryFact, EntitlementFact, unverified_deliveries};
use crate::values::Date;

/// What report 5 reads, for one scope.
#[derive(Debug, Default)]
pub struct DeliveryFacts {
    /// Each entitlement with its household's village.
    pub entitlements: Vec<(EntitlementFact, String)>,
    pub deliveries: Vec<DeliveryFact>,
    /// Delivered amount by delivery id (in kind deliveries have none).
    pub amounts: HashMap<String, i64>,
    pub policy_names: HashMap<String, String>,
    pub village_names: HashMap<String, String>,
}

/// One policy in one village.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRow {
    pub policy_code: String,
    pub policy_name: Option<String>,
    pub village_code: String,
    pub village_name: Option<String>,
    pub due: u64,
    pub delivered: u64,
    pub gap: u64,
    pub due_amount: f64,
    pub delivered_amount: f64,
    pub gap_amount: f64,
    /// Deliveries without the household's acknowledgement (R11).
    pub unverified: u64,
    /// Mean of `delivered_date − due_date` (days) over the late deliveries; `None` if none.
    pub mean_delay_days: Option<f64>,
    pub late: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliverySummary {
    pub due: u64,
    pub delivered: u64,
    pub gap: u64,
    pub due_amount: f64,
    pub delivered_amount: f64,
    pub gap_amount: f64,
    pub unverified: u64,
    pub mean_delay_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryReport {
    pub summary: DeliverySummary,
    pub rows: Vec<DeliveryRow>,
}

fn yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

#[derive(Default)]
struct Acc {
    due: u64,
    delivered: u64,
    due_fen: i64,
    delivered_fen: i64,
    unverified: u64,
    delays: Vec<i64>,
}

/// Report 5 on D: `due` = entitlements with `due_date ≤ D`; `delivered` = those with an
/// 已兑现 delivery dated ≤ D; `gap = due − delivered`; `due_amount`, `delivered_amount` (the
/// amounts of 已兑现 and 部分兑现 deliveries dated ≤ D of the due entitlements), `gap_amount =
/// due_amount − delivered_amount`; `unverified` = those deliveries without `household_ack`;
/// `mean_delay = mean(delivered_date − due_date)` over late deliveries (the first 已兑现
/// delivery after the due date).
pub fn delivery_gaps(f: &DeliveryFacts, d: Date) -> DeliveryReport {
    let mut by_entitlement: HashMap<&str, Vec<&DeliveryFact>> = HashMap::new();
    for x in f.deliveries.iter().filter(|x| x.delivered_date <= d) {
        by_entitlement.entry(&x.entitlement_id).or_default().push(x);
    }
    let mut groups: BTreeMap<(&str, &str), Acc> = BTreeMap::new();
    let mut all = Acc::default();
    for (e, village) in f.entitlements.iter().filter(|(e, _)| e.due_date <= d) {
        let deliveries: Vec<DeliveryFact> = by_entitlement
            .get(e.id.as_str())
            .map(|v| v.iter().map(|x| (*x).clone()).collect())
            .unwrap_or_default();
        let done = deliveries
            .iter()
            .filter(|x| x.status == DeliveryStatus::Delivered)
            .map(|x| x.delivered_date)
            .min();
        let paid: i64 = deliveries
            .iter()
            .filter(|x| {
                matches!(
                    x.status,
                    DeliveryStatus::Delivered | DeliveryStatus::Partial
                )
            })
            .map(|x| f.amounts.get(&x.id).copied().unwrap_or(0))
            .sum();
        let unverified = unverified_deliveries(&deliveries).len() as u64;
        for acc in [
            groups.entry((&e.policy_code, village)).or_default(),
            &mut all,
        ] {
            acc.due += 1;
            acc.due_fen += e.due_amount.map_or(0, |m| m.fen());
            acc.delivered_fen += paid;
            acc.unverified += unverified;
            if let Some(date) = done {
                acc.delivered += 1;
                if date > e.due_date {
                    acc.delays.push((date - e.due_date).num_days());
                }
            }
        }
    }
    let mean = |v: &[i64]| (!v.is_empty()).then(|| v.iter().sum::<i64>() as f64 / v.len() as f64);
    let rows = groups
        .into_iter()
        .map(|((policy, village), a)| DeliveryRow {
            policy_code: policy.to_string(),
            policy_name: f.policy_names.get(policy).cloned(),
            village_code: village.to_string(),
            village_name: f.village_names.get(village).cloned(),
            due: a.due,
            delivered: a.delivered,
            gap: a.due - a.delivered,
            due_amount: yuan(a.due_fen),
            delivered_amount: yuan(a.delivered_fen),
            gap_amount: yuan(a.due_fen - a.delivered_fen),
            unverified: a.unverified,
            mean_delay_days: mean(&a.delays),
            late: a.delays.len() as u64,
        })
        .collect();
    DeliveryReport {
        summary: DeliverySummary {
            due: all.due,
            delivered: all.delivered,
            gap: all.due - all.delivered,
            due_amount: yuan(all.due_fen),
            delivered_amount: yuan(all.delivered_fen),
            gap_amount: yuan(all.due_fen - all.delivered_fen),
            unverified: all.unverified,
            mean_delay_days: mean(&all.delays),
        },
        rows,
    }
}
