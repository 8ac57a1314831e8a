//! What the field app's screens send and receive. Each type derives `ts_rs::TS` under the
//! `ts` feature, so the UI's TypeScript declarations are generated from these, never
//! written by hand.

use serde::{Deserialize, Serialize};

use crate::HouseholdRow;
use crate::doc::{Conflict, HistoryEntry};
use crate::domain::codes::ApprovalLevel;
use crate::domain::codes::{
    ChecklistAnswer, Confirmation, DayStatus, DeliveryChannel, DeliveryStatus, Health,
    HouseholdAttribute, HouseholdStatus, LeaveStatus, LeaveType, Relation, VisitMode, VisitPurpose,
    VisitRole, WorkActivity,
};
use crate::domain::codes::{
    FeedbackCategory, FeedbackStatus, InspectionLevel, InspectionMethod, OnPost, PetitionChannel,
    PetitionDomain, PetitionSource, PetitionStatus, ProjectCategory, ReturnVisitResult,
    Satisfaction, StatusChangeResult, StatusChangeStep, StatusChangeType, StepOutcome,
    SubjectLevel, SurveySource,
};
use crate::domain::household::Flags;
use crate::domain::{Delivery, Entitlement, Household, HouseholdPrivate, Leave, Visit, WorkLog};
use crate::rules::{CheckInPhoto, SettingsSource};
use crate::values::{Date, Timestamp};

/// Who is signed in on this device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Me {
    pub login: String,
    pub cadre_id: String,
    /// An account role code (`team_member`, `first_secretary`…).
    pub role: String,
    pub server_url: String,
    /// RFC 3339, when the last sync finished.
    pub last_sync: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginInput {
    pub server_url: String,
    pub login: String,
    pub password: String,
}

/// The village of the cadre's team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VillageInfo {
    pub code: String,
    pub name: String,
    pub leader_id: String,
}

/// One of today's check-ins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckInSummary {
    pub id: String,
    /// Local time, `HH:MM`.
    pub time: String,
    pub accuracy_m: Option<f64>,
    /// `None` when the village's geofence is not on the device.
    pub inside_geofence: Option<bool>,
}

/// The home screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Home {
    pub me: Option<Me>,
    /// The signed-in cadre's name, when its file is on the phone.
    pub my_name: Option<String>,
    pub today: String,
    pub village: Option<VillageInfo>,
    pub check_ins: Vec<CheckInSummary>,
    /// Local changes not yet acknowledged by the server.
    pub waiting_to_sync: usize,
    pub conflicts: usize,
    /// The leave or trip covering today, if any.
    pub on_leave: Option<LeaveRow>,
    /// How far this phone's clock was off the server's at the last sync, in whole seconds
    /// (positive: fast), when it is further off than R2 allows: check-ins then do not count
    /// as 在村, so the home screen asks the cadre to set the clock. `None` when within.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub clock_off_s: Option<i64>,
    /// Whether the check-in screen shows a photo button (the county's ⚙ setting; `off` unless
    /// the county chose otherwise).
    pub check_in_photo: CheckInPhoto,
    /// Whether the county set its own settings or DOMAIN's defaults apply.
    pub settings_source: SettingsSource,
}

/// Where the phone is, as the UI got it from the location provider, and the check-in photo
/// when one was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckInInput {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    /// The SHA-256 (hex) [`crate::field::FieldApp::save_check_in_photo`] returned; only when
    /// the county's settings offer a photo ([`crate::rules::CheckInPhoto`]).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub photo_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckInDone {
    pub id: String,
    pub inside_geofence: Option<bool>,
    pub village_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeaveInput {
    pub leave_type: LeaveType,
    pub from: Date,
    pub to: Date,
    pub reason: String,
    pub evidence: Option<String>,
}

/// A leave request with where it stands, as its requester and its team leader read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeaveRow {
    pub id: String,
    pub leave: Leave,
    /// The requester's name (its id when its file is not on the phone).
    pub cadre_name: String,
    pub stage: LeaveStage,
    /// The steps taken so far, in order: who (by name) and when.
    pub steps: Vec<LeaveStepDone>,
    /// Why 销假 is not possible now, in the core's words ([`crate::rules::approvals::check_leave`]);
    /// `None` when the requester may report back.
    pub return_blocked: Option<Notice>,
}

/// Where a leave request stands (DOMAIN §2.4, R3): 待队长同意, 待乡镇审批 (up to 3 days⚙),
/// 待组织部审批, 已批准, 退回 (with its reason), 已销假, 超期未销假.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LeaveStage {
    AwaitingEndorsement,
    AwaitingTownship,
    AwaitingCountyOrg,
    Approved,
    SentBack,
    Returned,
    Overdue,
}

/// A step taken on a leave request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LeaveStepKind {
    Requested,
    /// 队长同意.
    Endorsed,
    Approved,
    SentBack,
    /// 销假.
    Returned,
}

/// Who took a step and when: a cadre's name, or, for an approver whose file is not on the
/// phone (the township's and the organisation department's accounts), the approving level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeaveStepDone {
    pub step: LeaveStepKind,
    pub by_name: Option<String>,
    pub by_level: Option<ApprovalLevel>,
    /// RFC 3339; `None` when the record does not say (an endorsement made elsewhere whose
    /// change is not in the history).
    pub at: Option<Timestamp>,
    /// The note of an approval, the reason of a sending back.
    pub note: Option<String>,
}

/// What a rule says, with its code, Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub code: String,
    pub zh: String,
    pub en: String,
}

impl From<crate::rules::approvals::Refusal> for Notice {
    fn from(r: crate::rules::approvals::Refusal) -> Notice {
        Notice {
            code: r.code.to_string(),
            zh: r.zh,
            en: r.en,
        }
    }
}

/// A team member's work log waiting for the first secretary's comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamLog {
    pub id: String,
    pub author_name: String,
    pub log: WorkLog,
}

/// What waits for the first secretary (`crate::field::team`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamPending {
    /// The team's leave requests waiting for 队长同意, earliest first.
    pub leaves: Vec<LeaveRow>,
    /// The team's logs without its comment, latest first.
    pub logs: Vec<TeamLog>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdQuery {
    /// The head's name or the household id, in part.
    pub search: Option<String>,
    pub status: Option<HouseholdStatus>,
    /// Only households with no visit in more than this many days (or never visited).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub not_visited_days: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdItem {
    #[serde(flatten)]
    pub row: HouseholdRow,
    pub last_visit: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub days_since_visit: Option<i64>,
    pub assigned_to_me: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitItem {
    pub id: String,
    pub visit: Visit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeliveryItem {
    pub id: String,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EntitlementItem {
    pub id: String,
    pub entitlement: Entitlement,
    pub deliveries: Vec<DeliveryItem>,
}

/// A household's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HouseholdPage {
    pub id: String,
    pub household: Household,
    pub flags: Flags,
    pub visits: Vec<VisitItem>,
    pub entitlements: Vec<EntitlementItem>,
    pub history: Vec<HistoryEntry>,
    pub conflicts: Vec<Conflict>,
    /// The members' ID (or disability certificate) numbers and the bank account, when this
    /// phone holds them: a team member's phone holds only its assigned households' (DOMAIN §1).
    pub numbers: Option<HouseholdPrivate>,
    /// Sensitive fields are masked on this page (DOMAIN §1: a team member reads an unassigned
    /// household's ID, bank and disability numbers, health and home masked); the page then
    /// shows no health either.
    pub masked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberOption {
    pub id: String,
    pub name: String,
}

/// A conflicting field of a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConflictItem {
    pub record_id: String,
    pub kind: String,
    pub conflict: Conflict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResolveInput {
    pub record_id: String,
    pub path: Vec<String>,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub value: serde_json::Value,
    pub reason: String,
}

/// One value of a code list with its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CodeOption {
    pub code: String,
    pub zh: String,
    pub en: String,
}

/// The code lists the forms offer; labels come from the core's code lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CodeLists {
    pub visit_role: Vec<CodeOption>,
    pub visit_mode: Vec<CodeOption>,
    pub visit_purpose: Vec<CodeOption>,
    pub checklist_answer: Vec<CodeOption>,
    pub confirmation: Vec<CodeOption>,
    pub leave_type: Vec<CodeOption>,
    pub leave_status: Vec<CodeOption>,
    pub approval_level: Vec<CodeOption>,
    pub day_status: Vec<CodeOption>,
    pub delivery_channel: Vec<CodeOption>,
    pub delivery_status: Vec<CodeOption>,
    pub work_activity: Vec<CodeOption>,
    pub household_status: Vec<CodeOption>,
    pub household_attribute: Vec<CodeOption>,
    pub relation: Vec<CodeOption>,
    pub health: Vec<CodeOption>,
    pub petition_channel: Vec<CodeOption>,
    pub petition_source: Vec<CodeOption>,
    pub petition_domain: Vec<CodeOption>,
    pub subject_level: Vec<CodeOption>,
    pub petition_status: Vec<CodeOption>,
    pub return_visit_result: Vec<CodeOption>,
    pub status_change_type: Vec<CodeOption>,
    pub status_change_step: Vec<CodeOption>,
    pub step_outcome: Vec<CodeOption>,
    pub status_change_result: Vec<CodeOption>,
    pub project_category: Vec<CodeOption>,
    pub inspection_level: Vec<CodeOption>,
    pub inspection_method: Vec<CodeOption>,
    pub on_post: Vec<CodeOption>,
    pub satisfaction: Vec<CodeOption>,
    pub survey_source: Vec<CodeOption>,
    pub feedback_category: Vec<CodeOption>,
    pub feedback_status: Vec<CodeOption>,
}

macro_rules! options {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|v| CodeOption {
                code: v.code().into(),
                zh: v.label_zh().into(),
                en: v.label_en().into(),
            })
            .collect()
    };
}

impl CodeLists {
    pub fn all() -> CodeLists {
        CodeLists {
            visit_role: options!(VisitRole),
            visit_mode: options!(VisitMode),
            visit_purpose: options!(VisitPurpose),
            checklist_answer: options!(ChecklistAnswer),
            confirmation: options!(Confirmation),
            leave_type: options!(LeaveType),
            leave_status: options!(LeaveStatus),
            approval_level: options!(ApprovalLevel),
            day_status: options!(DayStatus),
            delivery_channel: options!(DeliveryChannel),
            delivery_status: options!(DeliveryStatus),
            work_activity: options!(WorkActivity),
            household_status: options!(HouseholdStatus),
            household_attribute: options!(HouseholdAttribute),
            relation: options!(Relation),
            health: options!(Health),
            petition_channel: options!(PetitionChannel),
            petition_source: options!(PetitionSource),
            petition_domain: options!(PetitionDomain),
            subject_level: options!(SubjectLevel),
            petition_status: options!(PetitionStatus),
            return_visit_result: options!(ReturnVisitResult),
            status_change_type: options!(StatusChangeType),
            status_change_step: options!(StatusChangeStep),
            step_outcome: options!(StepOutcome),
            status_change_result: options!(StatusChangeResult),
            project_category: options!(ProjectCategory),
            inspection_level: options!(InspectionLevel),
            inspection_method: options!(InspectionMethod),
            on_post: options!(OnPost),
            satisfaction: options!(Satisfaction),
            survey_source: options!(SurveySource),
            feedback_category: options!(FeedbackCategory),
            feedback_status: options!(FeedbackStatus),
        }
    }
}
