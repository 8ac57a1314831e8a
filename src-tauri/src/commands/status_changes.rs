//! 动态调整 cases.

use cunji_core::field::{StatusChangeInput, StatusChangeItem, StepInput, today};

commands! {
    sync fn open_status_change[state](input: StatusChangeInput) -> String {
        Ok(state.app()?.open_status_change(&input, today())?)
    }

    sync fn add_status_change_step[state](id: String, input: StepInput) -> () {
        Ok(state.app()?.add_status_change_step(&id, &input)?)
    }

    sync fn resolve_objection[state](id: String, objection: usize, text: String) -> () {
        Ok(state.app()?.resolve_objection(&id, objection, &text)?)
    }

    sync fn withdraw_status_change[state](id: String, reason: String) -> () {
        Ok(state.app()?.withdraw_status_change(&id, &reason)?)
    }

    sync fn status_changes[state](household: String) -> Vec<StatusChangeItem> {
        Ok(state.app()?.status_changes(&household)?)
    }
}
