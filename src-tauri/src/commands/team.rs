//! The first secretary's part: what waits for it, 队长同意 (or sending back), log comments.

use cunji_core::field::{TeamPending, now, today};

commands! {
    /// The team's leave waiting for 队长同意 and logs without the leader's comment.
    sync fn team_pending[state]() -> TeamPending {
        Ok(state.app()?.team_pending(today())?)
    }

    /// 队长同意 (`accept`), or sending the request back with `reason`.
    sync fn endorse_leave[state](id: String, accept: bool, reason: Option<String>) -> () {
        Ok(state.app()?.endorse_leave(&id, accept, reason.as_deref(), now())?)
    }

    sync fn comment_log[state](id: String, comment: String) -> () {
        Ok(state.app()?.comment_log(&id, &comment, now())?)
    }
}
