//! Conflicts: the fields a merge left with two values, and settling one with a reason.

use super::{ConflictItem, FieldApp, FieldError, FieldResult, ResolveInput};
use crate::store::Author;

impl FieldApp {
    /// Every field on this device holding two values after a merge.
    pub fn conflicts(&self) -> FieldResult<Vec<ConflictItem>> {
        let mut out = Vec::new();
        let kinds: Vec<(String, String)> = self
            .store
            .all_conflicts()?
            .into_iter()
            .map(|(id, kind, _)| (id, kind))
            .collect();
        for (id, kind) in kinds {
            for conflict in self.store.conflicts(&id)? {
                out.push(ConflictItem {
                    record_id: id.clone(),
                    kind: kind.clone(),
                    conflict,
                });
            }
        }
        Ok(out)
    }

    /// Settles one conflict with the chosen value and a reason.
    pub fn resolve_conflict(&mut self, input: &ResolveInput) -> FieldResult<()> {
        let me = self.require_me()?;
        if input.reason.trim().is_empty() {
            return Err(FieldError::input(
                "reason_required",
                "请写明选择这个值的理由 / say why",
            ));
        }
        let author = Author::now(me.cadre_id, input.reason.trim());
        self.store
            .resolve(&author, &input.record_id, &input.path, &input.value)?;
        Ok(())
    }
}
