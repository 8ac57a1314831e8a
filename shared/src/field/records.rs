//! The everyday records: household visits (走访), policy and fund deliveries (政策兑现) and
//! the day's work log (驻村日志).

use super::{FieldApp, FieldError, FieldResult};
use crate::domain::{Delivery, Entitlement, Visit, WorkLog};
use crate::store::Author;
use crate::values::Date;

impl FieldApp {
    /// Records a visit by the signed-in cadre (R6: the visitor is always the author).
    pub fn record_visit(&mut self, visit: &Visit) -> FieldResult<String> {
        let me = self.require_me()?;
        let mut visit = visit.clone();
        visit.visitor_id = me.cadre_id.clone();
        let geo = visit.geo;
        self.create(&me, "入户走访", &visit, geo)
    }

    /// Records a delivery of an entitlement.
    pub fn record_delivery(&mut self, delivery: &Delivery) -> FieldResult<String> {
        let me = self.require_me()?;
        self.store
            .get::<Entitlement>(&delivery.entitlement_id)
            .map_err(|_| {
                FieldError::input(
                    "unknown_entitlement",
                    "找不到这项应享政策:请先同步,或从户页面进入",
                )
            })?;
        self.create(&me, "政策兑现", delivery, None)
    }

    /// Writes the day's work log (one per day: a second one for the same day edits the first).
    pub fn write_work_log(&mut self, log: &WorkLog) -> FieldResult<String> {
        let me = self.require_me()?;
        match self.store.work_log_id(&me.cadre_id, log.date)? {
            Some(id) => {
                // The reviewers' steps are theirs: an edit keeps the township's review and
                // the first secretary's comment as they are (the server refuses otherwise).
                let stored = self.store.get::<WorkLog>(&id)?.record;
                let log = WorkLog {
                    review: stored.review,
                    leader_comment: stored.leader_comment,
                    ..log.clone()
                };
                self.store
                    .update(&Author::now(me.cadre_id, "修改驻村日志"), &id, &log)?;
                Ok(id)
            }
            None => self.create(&me, "驻村日志", log, None),
        }
    }

    /// The signed-in cadre's work log of `date`, if written.
    pub fn work_log(&self, date: Date) -> FieldResult<Option<WorkLog>> {
        let me = self.require_me()?;
        self.store
            .work_log_id(&me.cadre_id, date)?
            .map(|id| Ok(self.store.get::<WorkLog>(&id)?.record))
            .transpose()
    }
}
