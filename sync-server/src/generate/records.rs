//! What a village's plan is made of: records with their versions (who wrote each one, when,
//! in which ingest phase), and the erased record trait that lets one list hold every kind.

use automerge::{ActorId, Change};
use cunji_core::ValidationError;
use cunji_core::doc::{Edit, RecordDoc};
use cunji_core::domain::{Envelope, Kind, Record};
use cunji_core::values::Timestamp;

/// The order in which a village's changes reach the server. A change that needs another
/// record (a visit needs its household and its assignment) or edits a record another device
/// made comes in a later phase than what it needs; a device's own changes to one record may
/// share a phase, as a device's batches are ingested in time order.
pub mod phase {
    /// Administrator: the team and the 建档立卡 register (households).
    pub const REGISTER: u8 = 0;
    /// Administrator: pairing assignments; county office: entitlements.
    pub const ASSIGN: u8 = 1;
    /// Cadres and supervisors: everything they record, and their own later edits.
    pub const EVENTS: u8 = 2;
    /// Leader endorses leave; township reviews logs and 动态调整 cases.
    pub const REVIEW: u8 = 3;
    /// Leave approval (township or 组织部); county approval of 动态调整 cases.
    pub const APPROVE: u8 = 4;
    /// 销假 by the cadre; the household file updated after an approved case.
    pub const CLOSE: u8 = 5;
    pub const COUNT: usize = 6;
}

/// Any record kind, behind one object-safe trait.
pub trait AnyRecord: Send + Sync + std::fmt::Debug {
    fn kind(&self) -> Kind;
    fn validate(&self) -> Result<(), ValidationError>;
    fn json(&self) -> serde_json::Value;
    fn create(
        &self,
        actor: ActorId,
        env: &Envelope,
        edit: &Edit,
    ) -> cunji_core::Result<(RecordDoc, Change)>;
    fn update(
        &self,
        doc: &mut RecordDoc,
        env: &Envelope,
        edit: &Edit,
    ) -> cunji_core::Result<Option<Change>>;
}

impl<T: Record> AnyRecord for T {
    fn kind(&self) -> Kind {
        T::KIND
    }
    fn validate(&self) -> Result<(), ValidationError> {
        Record::validate(self)
    }
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
    fn create(
        &self,
        actor: ActorId,
        env: &Envelope,
        edit: &Edit,
    ) -> cunji_core::Result<(RecordDoc, Change)> {
        RecordDoc::create(actor, env, self, edit)
    }
    fn update(
        &self,
        doc: &mut RecordDoc,
        env: &Envelope,
        edit: &Edit,
    ) -> cunji_core::Result<Option<Change>> {
        doc.update(env, self, edit)
    }
}

/// One state of a record, written by `by` (a login) at `at`.
#[derive(Debug)]
pub struct Version {
    pub by: String,
    pub at: Timestamp,
    pub phase: u8,
    pub reason: &'static str,
    pub record: Box<dyn AnyRecord>,
}

/// A record as the plan has it: its id and its versions, the first one creating it.
#[derive(Debug)]
pub struct Planned {
    pub id: String,
    pub versions: Vec<Version>,
    /// Expected to be refused by the server (an injected proxy visit), with this code.
    pub refused_as: Option<&'static str>,
}

impl Planned {
    pub fn new(
        id: String,
        by: &str,
        at: Timestamp,
        phase: u8,
        reason: &'static str,
        record: impl AnyRecord + 'static,
    ) -> Planned {
        Planned {
            id,
            versions: vec![Version {
                by: by.to_string(),
                at,
                phase,
                reason,
                record: Box::new(record),
            }],
            refused_as: None,
        }
    }

    /// Adds a later state of the record.
    pub fn then(
        mut self,
        by: &str,
        at: Timestamp,
        phase: u8,
        reason: &'static str,
        record: impl AnyRecord + 'static,
    ) -> Planned {
        self.versions.push(Version {
            by: by.to_string(),
            at,
            phase,
            reason,
            record: Box::new(record),
        });
        self
    }

    pub fn kind(&self) -> Kind {
        self.versions[0].record.kind()
    }
}
