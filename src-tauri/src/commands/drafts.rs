//! Form drafts.

commands! {
    sync fn save_draft[state](form: String, json: String) -> () {
        Ok(state.app()?.save_draft(&form, &json)?)
    }

    sync fn draft[state](form: String) -> Option<String> {
        Ok(state.app()?.draft(&form)?)
    }

    sync fn discard_draft[state](form: String) -> () {
        Ok(state.app()?.discard_draft(&form)?)
    }
}
