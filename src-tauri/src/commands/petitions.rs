//! Petitions (信访/群众诉求).

use cunji_core::field::{PetitionInput, PetitionItem, PetitionStep, today};

commands! {
    sync fn record_petition[state](input: PetitionInput) -> String {
        Ok(state.app()?.record_petition(&input)?)
    }

    sync fn advance_petition[state](id: String, step: PetitionStep) -> () {
        Ok(state.app()?.advance_petition(&id, &step)?)
    }

    sync fn petitions[state](household: Option<String>) -> Vec<PetitionItem> {
        Ok(state.app()?.petitions(household.as_deref(), today())?)
    }
}
