//! Form drafts, saved as the cadre types so that closing the app mid-form loses nothing.

use super::{FieldApp, FieldError, FieldResult, now};

impl FieldApp {
    /// Saves a form's draft (called as the cadre types).
    pub fn save_draft(&mut self, form: &str, json: &str) -> FieldResult<()> {
        serde_json::from_str::<serde_json::Value>(json)
            .map_err(|e| FieldError::input("bad_draft", format!("草稿不是 JSON: {e}")))?;
        self.store.save_draft(form, json, &now().to_rfc3339())?;
        Ok(())
    }

    /// The saved draft of a form, if any.
    pub fn draft(&self, form: &str) -> FieldResult<Option<String>> {
        Ok(self.store.draft(form)?)
    }

    /// Drops a form's draft (after it was saved as a record, or discarded).
    pub fn discard_draft(&mut self, form: &str) -> FieldResult<()> {
        Ok(self.store.discard_draft(form)?)
    }
}
