//! The county's ⚙ settings as the phone applies them (see the module docs of
//! [`crate::field`]): the last fetched, or DOMAIN's defaults.

use super::{FieldApp, FieldResult};
use crate::rules::{EffectiveSettings, RulesConfig};

impl FieldApp {
    /// The county's ⚙ settings as last fetched, or DOMAIN's defaults when none ever were
    /// (see the module docs). Settings this build cannot read count as none.
    pub fn settings(&self) -> FieldResult<EffectiveSettings> {
        Ok(self.store.county_settings()?.unwrap_or_default())
    }

    pub(super) fn rules(&self) -> FieldResult<RulesConfig> {
        Ok(self.settings()?.settings.rules)
    }
}
