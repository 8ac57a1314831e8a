//! 投诉建议: the form and the account's own list (`cunji_core::field::FieldApp::submit_feedback`).

use cunji_core::field::{FeedbackInput, FeedbackItem, now};

commands! {
    sync fn submit_feedback[state](input: FeedbackInput) -> String {
        Ok(state.app()?.submit_feedback(&input, now())?)
    }

    sync fn my_feedback[state]() -> Vec<FeedbackItem> {
        Ok(state.app()?.my_feedback()?)
    }
}
