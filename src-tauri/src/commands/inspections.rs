//! Inspections (督查暗访).

use cunji_core::domain::Inspection;
use cunji_core::field::InspectionItem;

commands! {
    sync fn record_inspection[state](inspection: Inspection) -> String {
        Ok(state.app()?.record_inspection(&inspection)?)
    }

    sync fn my_inspections[state]() -> Vec<InspectionItem> {
        Ok(state.app()?.my_inspections()?)
    }
}
