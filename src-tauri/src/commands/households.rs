//! Households: the list, a household's page, its members.

use cunji_core::field::{HouseholdItem, HouseholdPage, HouseholdQuery, MemberOption, today};

commands! {
    sync fn households[state](query: HouseholdQuery) -> Vec<HouseholdItem> {
        Ok(state.app()?.households(&query, today())?)
    }

    sync fn household[state](id: String) -> HouseholdPage {
        Ok(state.app()?.household(&id, today())?)
    }

    sync fn household_members[state](id: String) -> Vec<MemberOption> {
        Ok(state.app()?.household_members(&id)?)
    }
}
