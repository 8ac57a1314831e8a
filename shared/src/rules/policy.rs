//! Policy delivery rule R11: entitlements past due without a delivery, and deliveries the
//! household has not acknowledged.
//!
//! An entitlement is a gap on day D when its `due_date` is before D and no delivery with status
//! 已兑现 dated on or before D exists for it. A 部分兑现 delivery does not close the gap; it is
//! shown on the gap. A delivery without `household_ack` is unverified.

use serde::Serialize;

use crate::domain::codes::DeliveryStatus;
use crate::values::{Date, Money};

/// An entitlement, as the rule needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitlementFact {
    pub id: String,
    pub household_id: String,
    pub policy_code: String,
    pub due_date: Date,
    pub due_amount: Option<Money>,
}

/// A delivery, as the rule needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryFact {
    pub id: String,
    pub entitlement_id: String,
    pub delivered_date: Date,
    pub status: DeliveryStatus,
    pub household_ack: bool,
}

/// An entitlement past due without a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeliveryGap {
    pub entitlement_id: String,
    pub household_id: String,
    pub policy_code: String,
    pub due_date: Date,
    pub days_overdue: i64,
    pub partially_delivered: bool,
}

/// R11 gaps on `today`, most overdue first.
pub fn delivery_gaps(
    today: Date,
    entitlements: &[EntitlementFact],
    deliveries: &[DeliveryFact],
) -> Vec<DeliveryGap> {
    let mut gaps: Vec<DeliveryGap> = entitlements
        .iter()
        .filter(|e| e.due_date < today)
        .filter(|e| {
            !deliveries.iter().any(|d| {
                d.entitlement_id == e.id
                    && d.status == DeliveryStatus::Delivered
                    && d.delivered_date <= today
            })
        })
        .map(|e| DeliveryGap {
            entitlement_id: e.id.clone(),
            household_id: e.household_id.clone(),
            policy_code: e.policy_code.clone(),
            due_date: e.due_date,
            days_overdue: (today - e.due_date).num_days(),
            partially_delivered: deliveries.iter().any(|d| {
                d.entitlement_id == e.id
                    && d.status == DeliveryStatus::Partial
                    && d.delivered_date <= today
            }),
        })
        .collect();
    gaps.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.entitlement_id.cmp(&b.entitlement_id))
    });
    gaps
}

/// R11: deliveries not acknowledged by the household (revoked ones aside).
pub fn unverified_deliveries(deliveries: &[DeliveryFact]) -> Vec<&DeliveryFact> {
    deliveries
        .iter()
        .filter(|d| !d.household_ack && d.status != DeliveryStatus::Revoked)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> Date {
        Date::from_ymd_opt(2016, m, day).unwrap()
    }

    fn ent(id: &str, due: Date) -> EntitlementFact {
        EntitlementFact {
            id: id.into(),
            household_id: format!("h-{id}"),
            policy_code: "edu".into(),
            due_date: due,
            due_amount: Some(Money::from_yuan(500)),
        }
    }

    fn del(e: &str, date: Date, status: DeliveryStatus, ack: bool) -> DeliveryFact {
        DeliveryFact {
            id: format!("d-{e}"),
            entitlement_id: e.into(),
            delivered_date: date,
            status,
            household_ack: ack,
        }
    }

    #[test]
    fn r11_gap_is_past_due_without_a_full_delivery() {
        let today = d(6, 30);
        let ents = [
            ent("a", d(3, 1)),  // delivered on time
            ent("b", d(4, 1)),  // only partly delivered
            ent("c", d(5, 1)),  // nothing delivered
            ent("d", d(6, 30)), // due today: not past due yet
            ent("e", d(2, 1)),  // delivery revoked
            ent("f", d(2, 1)),  // delivery dated after today does not count yet
        ];
        let dels = [
            del("a", d(3, 1), DeliveryStatus::Delivered, true),
            del("b", d(4, 5), DeliveryStatus::Partial, true),
            del("e", d(2, 2), DeliveryStatus::Revoked, false),
            del("f", d(7, 2), DeliveryStatus::Delivered, false),
        ];
        let gaps = delivery_gaps(today, &ents, &dels);
        let got: Vec<(&str, i64, bool)> = gaps
            .iter()
            .map(|g| {
                (
                    g.entitlement_id.as_str(),
                    g.days_overdue,
                    g.partially_delivered,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("e", 150, false),
                ("f", 150, false),
                ("b", 90, true),
                ("c", 60, false)
            ]
        );
        let unverified: Vec<&str> = unverified_deliveries(&dels)
            .iter()
            .map(|d| d.entitlement_id.as_str())
            .collect();
        assert_eq!(unverified, vec!["f"]);
    }
}
