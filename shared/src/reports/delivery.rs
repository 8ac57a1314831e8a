//! Report 5, policy delivery gaps (政策兑现), per policy × village, over R11.
//!
//! Dates are the record's own (`due_date`, `delivered_date`: [`super::TimeBasis::RecordDates`]).
//! Amounts are whole fen, as projected, so sums are exact; the JSON shows them in yuan.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::spec::{Column, ColumnType as T, DATE, Field, ReportRow, ReportSpec, Show, ToCell};

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
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
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

// ---------------------------------------------------------------------------------------------
// The reports' specs (what the list, the OpenAPI document and the export say).

impl ReportRow for DeliveryRow {
    const SPEC: &'static ReportSpec = &ReportSpec {
        path: "delivery-gaps",
        number: 5,
        title_zh: "政策兑现缺口",
        title_en: "Policy delivery gaps",
        time_basis: super::TimeBasis::RecordDates,
        params: &[DATE],
        summary: &[
            Field::new("due", T::Integer, false, ""),
            Field::new("delivered", T::Integer, false, ""),
            Field::new("gap", T::Integer, false, ""),
            Field::new("due_amount", T::Number, false, "yuan"),
            Field::new("delivered_amount", T::Number, false, "yuan"),
            Field::new("gap_amount", T::Number, false, "yuan"),
            Field::new("unverified", T::Integer, false, ""),
            Field::new("mean_delay_days", T::Number, true, ""),
        ],
    };
    const EXPORT_ORDER: &'static [&'static str] = &[
        "policy_code",
        "policy_name",
        "village_code",
        "village_name",
        "due",
        "delivered",
        "gap",
        "due_amount",
        "delivered_amount",
        "gap_amount",
        "unverified",
        "late",
        "mean_delay_days",
    ];
    const COLUMNS: &'static [Column<Self>] = &[
        Column::new("policy_code", T::String, false, "政策代码", "政策代码")
            .show(Show::Text, |r| r.policy_code.cell()),
        Column::new("policy_name", T::String, true, "政策名称", "政策名称")
            .show(Show::Text, |r| r.policy_name.cell()),
        Column::village_code(|r| r.village_code.cell()),
        Column::village_name(|r| r.village_name.cell()),
        Column::new(
            "due",
            T::Integer,
            false,
            "应兑现笔数",
            "entitlements with due_date ≤ D",
        )
        .show(Show::Number, |r| r.due.cell()),
        Column::new(
            "delivered",
            T::Integer,
            false,
            "已兑现笔数",
            "of those, with an 已兑现 delivery dated ≤ D",
        )
        .show(Show::Number, |r| r.delivered.cell()),
        Column::new("gap", T::Integer, false, "未兑现笔数", "due − delivered")
            .show(Show::Number, |r| r.gap.cell()),
        Column::new("due_amount", T::Number, false, "应兑现金额(元)", "yuan")
            .show(Show::Number, |r| r.due_amount.cell()),
        Column::new(
            "delivered_amount",
            T::Number,
            false,
            "已兑现金额(元)",
            "yuan, 已兑现 and 部分兑现 deliveries dated ≤ D",
        )
        .show(Show::Number, |r| r.delivered_amount.cell()),
        Column::new(
            "gap_amount",
            T::Number,
            false,
            "缺口金额(元)",
            "due_amount − delivered_amount, yuan",
        )
        .show(Show::Number, |r| r.gap_amount.cell()),
        Column::new(
            "unverified",
            T::Integer,
            false,
            "农户未确认笔数",
            "deliveries without household_ack (R11)",
        )
        .show(Show::Number, |r| r.unverified.cell()),
        Column::new(
            "mean_delay_days",
            T::Number,
            true,
            "平均逾期天数",
            "mean(delivered_date − due_date) over late deliveries",
        )
        .show(Show::Number, |r| r.mean_delay_days.cell()),
        Column::new("late", T::Integer, false, "逾期兑现笔数", "late deliveries")
            .show(Show::Number, |r| r.late.cell()),
    ];
}
