//! Domain types: one struct per record kind (DOMAIN.md §2), its validation and its projection.
//!
//! Every record is stored as one Automerge document (see [`crate::doc`]) holding an
//! [`Envelope`] under `meta` and the record itself under `data`. A kind is:
//! 1. a serde struct (field names as in DOMAIN.md, enum fields as [`codes`] enums),
//! 2. its [`Record::validate`] (what the types cannot say: non-empty names, GB 11643 checksums,
//!    ranges, cross-field rules), and
//! 3. its projection ([`Record::tables`], [`Record::project`]),
//!
//! plus one line in [`crate::for_each_kind!`]. Nothing else in the store or the sync code changes.
//!
//! Not here: anything time-dependent that is not a field. Derived values that change with the
//! calendar (a member's age, the 两不愁三保障 flags, a cadre's day status) are computed when read
//! ([`household::Household::flags`], [`crate::rules`]), never frozen into a document.

pub mod access;
pub mod attendance;
pub mod codes;
pub mod feedback;
pub mod household;
pub mod household_private;
pub mod id_number;
pub mod inspection;
pub mod ledger;
pub mod org;
pub mod petition;
pub mod policy;
pub mod privacy;
pub mod project;
pub mod status_change;
pub mod survey;
pub mod visit;
pub mod worklog;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::projection::{Rows, Table};
use crate::values::{Date, Geo, Timestamp, code_enum};

pub use access::{Role, ScopeLevel};
pub use attendance::{CheckIn, Leave};
pub use feedback::{Feedback, FeedbackAnswer};
pub use household::{Household, Income, Member};
pub use household_private::HouseholdPrivate;
pub use inspection::{HouseholdCheck, Inspection};
pub use ledger::LedgerSignature;
pub use org::{Assignment, Cadre, Team, TeamMember, Unit, Village};
pub use petition::{Petition, ReturnVisit};
pub use policy::{Delivery, Entitlement, PolicyItem};
pub use project::{Beneficiaries, Funding, Progress, Project, ProjectPublicity};
pub use status_change::{Objection, Publicity, Snapshot, StatusChange, Step};
pub use survey::SatisfactionSurvey;
pub use visit::Visit;
pub use worklog::WorkLog;

code_enum! {
    /// The kind of record a document holds.
    pub enum Kind {
        Village = "village", "行政村", "Village";
        Unit = "unit", "派出单位", "Sending unit";
        Cadre = "cadre", "干部", "Cadre";
        Team = "team", "驻村工作队", "Village work team";
        Assignment = "assignment", "结对帮扶", "Pairing assignment";
        Household = "household", "贫困户", "Household";
        HouseholdPrivate = "household_private", "贫困户身份证与银行账号", "Household ID and bank numbers";
        Visit = "visit", "走访记录", "Household visit";
        CheckIn = "check_in", "考勤打卡", "Check-in";
        Leave = "leave", "请假/外出报备", "Leave or trip";
        PolicyItem = "policy_item", "政策项目", "Policy item";
        Entitlement = "entitlement", "应享政策", "Entitlement";
        Delivery = "delivery", "兑现记录", "Delivery";
        WorkLog = "work_log", "驻村日志", "Work log";
        Petition = "petition", "信访/群众诉求", "Petition";
        StatusChange = "status_change", "动态调整", "Status change (dynamic adjustment)";
        Project = "project", "项目", "Project";
        Inspection = "inspection", "督查暗访", "Inspection";
        SatisfactionSurvey = "survey", "满意度测评", "Satisfaction survey";
        LedgerSignature = "ledger_signature", "考勤台账签字", "Attendance ledger signature";
        Feedback = "feedback", "投诉建议", "Feedback and complaints";
    }
}

impl Kind {
    /// Event records may be written only by their author (DOMAIN §0): nobody edits another
    /// cadre's visits, check-ins, leave or logs, nor an inspector's inspection or a surveyor's
    /// survey; reviewers add reviews.
    pub fn is_event(self) -> bool {
        matches!(
            self,
            Kind::Visit
                | Kind::CheckIn
                | Kind::Leave
                | Kind::WorkLog
                | Kind::Inspection
                | Kind::SatisfactionSurvey
                | Kind::LedgerSignature
                | Kind::Feedback
        )
    }
}

/// How a period (a supervisor's export of a month, say) picks a kind's records: by columns of
/// the kind's main projection table (its first), read as ISO dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventDate {
    /// The record happened on this day.
    On(&'static str),
    /// The record covers the days from the first column to the second, both included (a
    /// leave): it belongs to every period it overlaps.
    Span(&'static str, &'static str),
}

impl Kind {
    /// The date a period selects this kind's records by. `None` for registers and reference
    /// data (villages, teams, households, entitlements, status changes, projects, surveys…),
    /// whose rows describe a state rather than an event of a day: a period takes them whole.
    pub fn event_date(self) -> Option<EventDate> {
        match self {
            Kind::Visit => Some(EventDate::On("start_date")),
            Kind::CheckIn => Some(EventDate::On("local_date")),
            Kind::WorkLog => Some(EventDate::On("date")),
            Kind::Delivery => Some(EventDate::On("delivered_date")),
            Kind::Petition => Some(EventDate::On("received_date")),
            Kind::Inspection => Some(EventDate::On("date")),
            Kind::Leave => Some(EventDate::Span("from_date", "to_date")),
            _ => None,
        }
    }
}

code_enum! {
    /// The life cycle state of any record.
    pub enum RecordState {
        Draft = "draft", "草稿", "Draft";
        Submitted = "submitted", "已提交", "Submitted";
        Void = "void", "作废", "Void";
    }
}

/// The envelope every record document carries (DOMAIN §0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Envelope {
    /// UUID v7 made on the device.
    pub id: String,
    pub kind: Kind,
    pub author_id: String,
    pub device_id: String,
    pub created_device_ts: Timestamp,
    /// Milliseconds since the device booted, for the server's clock check.
    pub device_uptime_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    /// Set by the server when it first receives the record; never by a device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_received_ts: Option<Timestamp>,
    pub state: RecordState,
}

/// A kind of record. See the module docs for what implementing it involves.
pub trait Record:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static
{
    const KIND: Kind;

    /// Checks what the types cannot express. Called before anything is stored.
    fn validate(&self) -> Result<(), ValidationError>;

    /// The projection tables of this kind; the first has one row per record.
    fn tables() -> &'static [Table];

    /// The rows of this record; the store adds `doc_id` and replaces the previous rows.
    fn project(&self, env: &Envelope, rows: &mut Rows);

    /// Values no other record may hold (checked against the projections before a write).
    fn unique_values(&self) -> Vec<UniqueValue> {
        Vec::new()
    }

    /// Where the record belongs, which decides who may read and write it (DOMAIN §1). The
    /// server resolves the hint to a village scope once, when it first sees the record.
    fn scope(&self) -> ScopeHint {
        ScopeHint::Global
    }

    /// For event records: the cadre the record is about, who must also be its author (a
    /// check-in is only ever the cadre's own).
    fn subject_cadre(&self) -> Option<&str> {
        None
    }

    /// The day the record is about, on which the writer's team membership or assignment must
    /// be valid (DOMAIN §1 "write rights follow the assignment valid on the record date"):
    /// a visit's start, a check-in's local day, a leave's request, a log's day, a delivery's,
    /// a petition's receipt, an inspection's. `None` for shared data with no such day (a
    /// household, an entitlement, a case), whose writers need a right valid today.
    fn record_date(&self) -> Option<Date> {
        None
    }
}

/// Where a record belongs, as far as the record itself can say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "by", content = "id", rename_all = "snake_case")]
pub enum ScopeHint {
    /// In a village (by code).
    Village(String),
    /// With a household: the household's village.
    Household(String),
    /// With an entitlement: its household's village.
    Entitlement(String),
    /// With a cadre: the village of the cadre's team.
    Cadre(String),
    /// Reference data every account reads (policy catalog, units, cadres).
    Global,
}

/// A value that must be unique: the field that holds it, and the projection column where
/// other records' values are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueValue {
    pub field: String,
    pub table: &'static str,
    pub column: &'static str,
    pub value: String,
}

/// Calls `$m!` with the list of every record type. The one place a new kind is registered.
#[macro_export]
macro_rules! for_each_kind {
    ($m:ident) => {
        $m! {
            $crate::domain::Village,
            $crate::domain::Unit,
            $crate::domain::Cadre,
            $crate::domain::Team,
            $crate::domain::Assignment,
            $crate::domain::Household,
            $crate::domain::HouseholdPrivate,
            $crate::domain::Visit,
            $crate::domain::CheckIn,
            $crate::domain::Leave,
            $crate::domain::PolicyItem,
            $crate::domain::Entitlement,
            $crate::domain::Delivery,
            $crate::domain::WorkLog,
            $crate::domain::Petition,
            $crate::domain::StatusChange,
            $crate::domain::Project,
            $crate::domain::Inspection,
            $crate::domain::SatisfactionSurvey,
            $crate::domain::LedgerSignature,
            $crate::domain::Feedback
        }
    };
}

/// Every projection table of every kind.
pub fn all_tables() -> Vec<(Kind, &'static Table)> {
    macro_rules! collect {
        ($($t:ty),+) => {{
            let mut out = Vec::new();
            $(out.extend(<$t as Record>::tables().iter().map(|t| (<$t as Record>::KIND, t)));)+
            out
        }};
    }
    for_each_kind!(collect)
}

/// Projects a record given as JSON, dispatching on its kind, then validates it. Used when the
/// record is known only as a document (merged changes, a rebuild). A record that deserialises
/// but breaks a rule (possible after a merge: two cadres each named a different head) still
/// gets its rows, and the rule it breaks is returned for the store to flag.
pub fn project_json(
    env: &Envelope,
    data: serde_json::Value,
    rows: &mut Rows,
) -> Result<(), ValidationError> {
    macro_rules! dispatch {
        ($($t:ty),+) => {
            match env.kind {
                $(k if k == <$t as Record>::KIND => {
                    let record: $t = from_json(data)?;
                    record.project(env, rows);
                    record.validate()
                })+
                _ => unreachable!("every kind is listed in for_each_kind!"),
            }
        };
    }
    for_each_kind!(dispatch)
}

/// A stored document's projection: its kind, its rows, and the rule its merged state breaks,
/// if any. A merged state that breaks a rule still projects (two cadres each named a different
/// head); the caller logs the rule and the reports flag it.
pub fn project_doc(
    doc: &crate::doc::RecordDoc,
) -> crate::Result<(Kind, Rows, Option<ValidationError>)> {
    let env = doc.envelope()?;
    let data = doc.data_json()?;
    let mut rows = Rows::default();
    let broken = project_json(&env, data, &mut rows).err();
    Ok((env.kind, rows, broken))
}

/// Loads a stored document from its snapshot and chunks and projects it ([`project_doc`]).
/// Nothing is written, so the loading actor is a fixed one.
pub fn project_stored(
    id: &str,
    snapshot: &[u8],
    chunks: &[Vec<u8>],
) -> crate::Result<(Kind, Rows, Option<ValidationError>)> {
    let actor = automerge::ActorId::from(b"cunji-projection".as_slice());
    let doc = crate::doc::RecordDoc::load(id, Some(snapshot), chunks, actor)?;
    project_doc(&doc)
}

/// What the sync server needs to know of a record to authorise a write: where it belongs and,
/// for event records, whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFacts {
    pub scope: ScopeHint,
    pub subject_cadre: Option<String>,
    /// [`Record::record_date`].
    pub date: Option<Date>,
}

/// Reads [`RecordFacts`] from a record given as JSON, dispatching on its kind.
pub fn record_facts(kind: Kind, data: serde_json::Value) -> Result<RecordFacts, ValidationError> {
    macro_rules! dispatch {
        ($($t:ty),+) => {
            match kind {
                $(k if k == <$t as Record>::KIND => {
                    let record: $t = from_json(data)?;
                    Ok(RecordFacts {
                        scope: record.scope(),
                        subject_cadre: record.subject_cadre().map(str::to_string),
                        date: record.record_date(),
                    })
                })+
                _ => unreachable!("every kind is listed in for_each_kind!"),
            }
        };
    }
    for_each_kind!(dispatch)
}

/// [`record_facts`] and [`project_json`] in one pass (the record is deserialised once): the
/// facts, and the rows pushed into `rows`. A record that deserialises but breaks a rule still
/// gets its facts and rows; the rule it breaks comes back beside them.
pub fn facts_and_rows(
    env: &Envelope,
    data: serde_json::Value,
    rows: &mut Rows,
) -> Result<(RecordFacts, Option<ValidationError>), ValidationError> {
    macro_rules! dispatch {
        ($($t:ty),+) => {
            match env.kind {
                $(k if k == <$t as Record>::KIND => {
                    let record: $t = from_json(data)?;
                    record.project(env, rows);
                    let facts = RecordFacts {
                        scope: record.scope(),
                        subject_cadre: record.subject_cadre().map(str::to_string),
                        date: record.record_date(),
                    };
                    Ok((facts, record.validate().err()))
                })+
                _ => unreachable!("every kind is listed in for_each_kind!"),
            }
        };
    }
    for_each_kind!(dispatch)
}

/// Deserialises a record from JSON with the failing field's path in the error.
pub fn from_json<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(value).map_err(ValidationError::from_serde)
}

/// Shared validation helpers for the kinds.
pub(crate) mod check {
    use crate::error::{Problem, ValidationError};

    pub fn non_empty(field: &str, value: &str) -> Result<(), ValidationError> {
        if value.trim().is_empty() {
            Err(ValidationError::required(field))
        } else {
            Ok(())
        }
    }

    pub fn range(field: &str, ok: bool, message: &str) -> Result<(), ValidationError> {
        if ok {
            Ok(())
        } else {
            Err(ValidationError::new(field, Problem::OutOfRange, message))
        }
    }

    pub fn consistent(field: &str, ok: bool, message: &str) -> Result<(), ValidationError> {
        if ok {
            Ok(())
        } else {
            Err(ValidationError::new(field, Problem::Inconsistent, message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event date names text columns of the kind's main table: the first table of the
    /// kind in [`all_tables`].
    #[test]
    fn event_dates_name_columns_of_the_main_table() {
        let tables = all_tables();
        let mut dated = 0;
        for kind in Kind::ALL {
            let Some(date) = kind.event_date() else {
                continue;
            };
            dated += 1;
            let (_, main) = tables
                .iter()
                .find(|(k, _)| k == kind)
                .unwrap_or_else(|| panic!("{kind:?} has no table"));
            let columns = match date {
                EventDate::On(c) => vec![c],
                EventDate::Span(a, b) => vec![a, b],
            };
            for c in columns {
                assert!(
                    main.columns
                        .iter()
                        .any(|(n, t)| *n == c && *t == crate::projection::SqlType::Text),
                    "{kind:?}: {c} is not a text column of {}",
                    main.name
                );
            }
        }
        assert_eq!(dated, 7);
    }
}
