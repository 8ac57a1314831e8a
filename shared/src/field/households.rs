//! Households: the list with its search and filters, a household's page (flags,
//! entitlements with their deliveries, visits, history) and its members for the forms.

use super::{
    DeliveryItem, EntitlementItem, FieldApp, FieldResult, HouseholdItem, HouseholdPage,
    HouseholdQuery, MemberOption, VisitItem,
};
use crate::domain::access::{Role, Sight, rights};
use crate::domain::privacy::{Masking, mask_at};
use crate::domain::{Delivery, Entitlement, Household, HouseholdPrivate, Kind, Visit};
use crate::store::{HouseholdFilter, Page};
use crate::values::Date;

impl FieldApp {
    /// Households matching a search and filters, with when each was last visited.
    pub fn households(
        &self,
        query: &HouseholdQuery,
        today: Date,
    ) -> FieldResult<Vec<HouseholdItem>> {
        let filter = HouseholdFilter {
            village_code: None,
            status: query.status,
            search: query.search.clone().filter(|s| !s.trim().is_empty()),
        };
        let rows = self
            .store
            .list_households(&filter, Page::first(query.limit.unwrap_or(200)))?;
        let me = self.me()?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let last = self.store.last_visit_date(&row.id)?;
            let days_since = last
                .as_deref()
                .and_then(|d| Date::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| (today - d).num_days());
            if let Some(n) = query.not_visited_days
                && days_since.is_some_and(|d| d <= n)
            {
                continue;
            }
            let assigned_to_me = match &me {
                Some(me) => self.store.is_assigned(&row.id, &me.cadre_id)?,
                None => false,
            };
            out.push(HouseholdItem {
                row,
                last_visit: last,
                days_since_visit: days_since,
                assigned_to_me,
            });
        }
        Ok(out)
    }

    /// A household's page: the record, its flags, entitlements with deliveries, visits and
    /// the edit history.
    pub fn household(&self, id: &str, today: Date) -> FieldResult<HouseholdPage> {
        let stored = self.store.get::<Household>(id)?;
        let visits: Vec<VisitItem> = self
            .store
            .visit_ids(id)?
            .into_iter()
            .map(|vid| {
                let visit = self.store.get::<Visit>(&vid)?.record;
                Ok(VisitItem { id: vid, visit })
            })
            .collect::<FieldResult<_>>()?;
        let latest_food = visits
            .first()
            .map(|v| v.visit.checklist.food_clothing.answer);
        let water_scarce = self
            .store
            .village_water_scarce(&stored.record.village_code)?;
        let flags = stored.record.flags(
            today,
            latest_food,
            &crate::domain::household::FlagConfig::default(),
            water_scarce,
        );
        let mut entitlements = Vec::new();
        for eid in self.store.entitlement_ids(id)? {
            let entitlement = self.store.get::<Entitlement>(&eid)?.record;
            let deliveries = self
                .store
                .delivery_ids(&eid)?
                .into_iter()
                .map(|did| {
                    let delivery = self.store.get::<Delivery>(&did)?.record;
                    Ok(DeliveryItem { id: did, delivery })
                })
                .collect::<FieldResult<_>>()?;
            entitlements.push(EntitlementItem {
                id: eid,
                entitlement,
                deliveries,
            });
        }
        let masking = self.household_masking(id)?;
        let mut history = self.store.history(id)?;
        let mut household = stored.record;
        if masking != Masking::NONE {
            for entry in &mut history {
                for f in &mut entry.fields {
                    // A field's path starts at the document's root: the record is under `data`.
                    let path = match f.path.split_first() {
                        Some((root, rest)) if root == "data" => rest,
                        _ => continue,
                    };
                    for v in [&mut f.old, &mut f.new].into_iter().flatten() {
                        mask_at(Kind::Household, path, v, masking);
                    }
                }
            }
            household = household.masked(masking);
        }
        let numbers = match self.store.numbers_id(id)? {
            Some(nid) => {
                let n = self.store.get::<HouseholdPrivate>(&nid)?.record;
                Some(if masking.sensitive { n.masked() } else { n })
            }
            None => None,
        };
        Ok(HouseholdPage {
            id: id.to_string(),
            household,
            flags,
            visits,
            entitlements,
            history,
            conflicts: stored.conflicts,
            numbers,
            masked: masking.sensitive,
        })
    }

    /// What this phone's cadre may not see of a household (the access table's read right:
    /// a team member reads unassigned households masked).
    fn household_masking(&self, id: &str) -> FieldResult<Masking> {
        let Some(me) = self.me()? else {
            return Ok(Masking::NONE);
        };
        let Ok(role) = me.role.parse::<Role>() else {
            return Ok(Masking::NONE);
        };
        Ok(match rights(role, Kind::Household).read {
            Some((_, Sight::MaskedUnlessAssigned))
                if self.store.is_assigned(id, &me.cadre_id)? =>
            {
                Masking::NONE
            }
            Some((_, sight)) => Masking::of(sight),
            None => Masking::NONE,
        })
    }

    /// Members of a household, for the visit form's "met member" choice.
    pub fn household_members(&self, id: &str) -> FieldResult<Vec<MemberOption>> {
        let household = self.store.get::<Household>(id)?.record;
        Ok(household
            .members
            .iter()
            .map(|(mid, m)| MemberOption {
                id: mid.clone(),
                name: m.name.clone(),
            })
            .collect())
    }
}
