//! What the process records' forms offer: the role's rights, villages, cadres, households.

use cunji_core::field::{Choice, RecordRights};

commands! {
    sync fn record_rights[state]() -> RecordRights {
        Ok(state.app()?.record_rights()?)
    }

    sync fn villages[state]() -> Vec<Choice> {
        Ok(state.app()?.villages()?)
    }

    sync fn village_cadres[state](village: String) -> Vec<Choice> {
        Ok(state.app()?.village_cadres(&village)?)
    }

    sync fn village_households[state](village: String) -> Vec<Choice> {
        Ok(state.app()?.village_households(&village)?)
    }
}
