//! Report 5, policy delivery gaps: its query (`date`) and the facts it reads.

use cunji_core::reports::delivery::{DeliveryFacts, DeliveryReport, DeliveryRow, DeliverySummary};
use cunji_core::values::Date;

use super::{Def, ReportScope, facts, today};
use crate::store::{StoreResult, Tx};

pub(crate) const DELIVERY_GAPS: Def<DeliverySummary, DeliveryRow> = Def {
    run: |tx, scope, q| {
        let d = q.date("date", Some(today()))?;
        let r = delivery_gaps(tx, scope, d)?;
        Ok((r.summary, r.rows))
    },
};

/// Report 5 at D.
pub fn delivery_gaps(tx: &mut dyn Tx, scope: &ReportScope, d: Date) -> StoreResult<DeliveryReport> {
    let filter = scope.filter();
    let villages = facts::villages(tx, filter)?;
    let (deliveries, amounts) = facts::deliveries(tx, filter)?;
    let f = DeliveryFacts {
        entitlements: facts::entitlements(tx, filter)?,
        deliveries,
        amounts,
        policy_names: facts::policy_names(tx)?,
        village_names: facts::village_names(&villages),
    };
    Ok(cunji_core::reports::delivery::delivery_gaps(&f, d))
}
