//! County ⚙ settings: the county poverty office (县扶贫办, DOMAIN §1's "⚙ settings"
//! right) sets its county's [`CountySettings`]; every device fetches its own county's.
//!
//! - `GET /v1/settings`: the caller's county's settings as an [`EffectiveSettings`], with
//!   `source: "default"` and no `updated_ts` when the county has set nothing (or the account
//!   has no county: an administrator, a city office). A cadre's county is the first six digits
//!   of their team's village (or, for a pairing cadre, of an assigned household's village); a
//!   supervisor's is that of their division. Phones call it after each sync.
//! - `GET /v1/settings/county/{code}` and `PUT /v1/settings/county/{code}`: that county's
//!   settings, for its own county poverty office and the administrator only; every other role
//!   (the county organisation department, townships, the city, cadres) is `403 forbidden`,
//!   another county's office `403 out_of_scope`. A `PUT` body is a whole [`CountySettings`]
//!   (missing fields take DOMAIN's defaults); a field out of range, of the wrong type or unknown
//!   is `422 invalid_settings` naming each field, JSON that does not parse `400 malformed`, a
//!   county the server knows nothing of (no village, no account) `404 not_found`. Each `PUT`
//!   replaces the row of `county_settings` and appends old → new, who and when to
//!   `county_settings_history`, in one transaction.
//!
//! A browser session (`POST /v1/session`, the dashboard's sign-in) may call these too: it
//! cannot sync records, but changing settings is an office's act, not a device's.
//!
//! This module reads them ([`effective`], [`county_of`]); the endpoints below are
//! `crate::http::settings`, which also decides who may manage a county's settings.
//!
//! The reports read them through [`effective`]: report 1 per seat's county, report 3's
//! default interval for a scope inside one county (see [`cunji_core::rules::settings`]).
//! Not here: an endpoint for the history (it is in the database for audits:
//! `county_settings_history`).

use cunji_core::domain::ScopeLevel;
use cunji_core::rules::{CountySettings, EffectiveSettings, SettingsSource};

use crate::accounts::Principal;
use crate::store::{StoreError, StoreResult, Tx};

/// The county (six digits) of an account: its division's, or its team village's, or an
/// assigned household's village's; `None` for the administrator and a city office.
pub fn county_of(tx: &mut dyn Tx, principal: &Principal) -> StoreResult<Option<String>> {
    let county = |code: &str| ScopeLevel::County.part_of(code).map(str::to_string);
    if !principal.division.is_empty() {
        return Ok(county(&principal.division));
    }
    if let Some(v) = principal.home_village(tx)? {
        return Ok(county(&v));
    }
    for p in tx.cadre_assignments(&principal.login)? {
        if let Some(v) = tx.household_village(&p.place)? {
            return Ok(county(&v));
        }
    }
    Ok(None)
}

/// The settings of each county of `villages`, read once per county, for a report that judges
/// each village by its own county's settings (a city's report mixes counties).
#[derive(Debug)]
pub struct ByCounty(std::collections::HashMap<String, CountySettings>);

impl ByCounty {
    pub fn read<'a>(
        tx: &mut dyn Tx,
        villages: impl IntoIterator<Item = &'a str>,
    ) -> StoreResult<ByCounty> {
        let mut map = std::collections::HashMap::new();
        for village in villages {
            if let Some(county) = ScopeLevel::County.part_of(village)
                && !map.contains_key(county)
            {
                map.insert(county.to_string(), effective(tx, Some(county))?.settings);
            }
        }
        Ok(ByCounty(map))
    }

    /// The settings of a village's county; `None` for a village it was not read for.
    pub fn of(&self, village: &str) -> Option<&CountySettings> {
        ScopeLevel::County
            .part_of(village)
            .and_then(|c| self.0.get(c))
    }
}

/// The settings in force in `county` for a request of `who`: read once per request and county
/// (a push of a hundred check-ins reads its county's settings once; settings do not change
/// within a push).
pub(crate) fn for_request(
    tx: &mut dyn Tx,
    who: &Principal,
    county: Option<&str>,
) -> StoreResult<std::sync::Arc<CountySettings>> {
    let Some(code) = county else {
        return Ok(Default::default());
    };
    if let Some(s) = who.cached_settings(code) {
        return Ok(s);
    }
    let read = std::sync::Arc::new(effective(tx, Some(code))?.settings);
    who.keep_settings(code, read.clone());
    Ok(read)
}

/// The settings in force in `county`: its own, or the defaults.
pub fn effective(tx: &mut dyn Tx, county: Option<&str>) -> StoreResult<EffectiveSettings> {
    let Some(code) = county else {
        return Ok(EffectiveSettings::default());
    };
    Ok(match tx.county_settings(code)? {
        Some(row) => EffectiveSettings {
            county_code: Some(row.county_code),
            source: SettingsSource::County,
            updated_ts: Some(row.updated_ts),
            updated_by: Some(row.updated_by),
            settings: serde_json::from_str(&row.settings_json)
                .map_err(|e| StoreError::Corrupt(format!("settings of county {code}: {e}")))?,
        },
        None => EffectiveSettings {
            county_code: Some(code.to_string()),
            ..EffectiveSettings::default()
        },
    })
}
