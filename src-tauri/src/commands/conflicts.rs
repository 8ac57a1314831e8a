//! Conflicts: listing and settling them.

use cunji_core::field::{ConflictItem, ResolveInput};

commands! {
    sync fn conflicts[state]() -> Vec<ConflictItem> {
        Ok(state.app()?.conflicts()?)
    }

    sync fn resolve_conflict[state](input: ResolveInput) -> () {
        Ok(state.app()?.resolve_conflict(&input)?)
    }
}
