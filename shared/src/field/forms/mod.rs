//! The field forms of the process records (DOMAIN §2.7–2.11): petitions (信访/群众诉求),
//! 动态调整 cases with their village steps, projects with their progress, inspections
//! (督查暗访) and satisfaction surveys (满意度测评). One method per screen action, as in the
//! rest of [`FieldApp`].
//!
//! ## Who may record what
//! A form is offered only to a role the access table lets create the record
//! ([`crate::domain::access::rights`], which the sync server's checks also read;
//! `tests/tests/it/authz_matrix.rs` holds both to DOMAIN §1), so nothing is written on the phone
//! that the server would later refuse. [`RecordRights::of`] reads that table for the roles that
//! sign in on a phone; every method below checks it again and answers `not_your_role` before
//! anything is written. Today the table gives:
//!
//! | Record | Roles |
//! |---|---|
//! | petition (intake and handling) | first secretary, team member, township |
//! | 动态调整 case (open, village steps, withdraw) | first secretary |
//! | project (create, progress) | first secretary |
//! | inspection | township, county organisation department |
//! | satisfaction survey | pairing cadre, township |
//!
//! ## Validation
//! Every record is validated here before the store sees it, and a [`ValidationError`] becomes
//! `invalid_record` with a Chinese message naming the field ([`invalid`]); the store validates
//! again (its message is English, for logs and the server).
//!
//! Not here: the steps after the village's (乡镇审核, 县审批公告, 系统录入: the township's and
//! the county's desk work, where R12 is applied with the county's poverty line), petition
//! assignment by the county, the project library's approval, and the reports over these
//! records (`crate::reports`).

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::{FieldApp, FieldError, FieldResult, Me};
use crate::domain::access::rights;
use crate::domain::codes::{
    PetitionChannel, PetitionDomain, PetitionSource, PetitionStatus, ReturnVisitResult,
    StatusChangeResult, StatusChangeStep, StatusChangeType, StepOutcome, SubjectLevel,
};
use crate::domain::status_change::{Publicity, Snapshot, Step};
use crate::domain::{
    Household, Inspection, Kind, Petition, Progress, Project, Record, ReturnVisit, Role,
    SatisfactionSurvey, StatusChange,
};
use crate::error::{Problem, ValidationError};
use crate::store::{Author, HouseholdFilter, Page, PetitionsOf};
use crate::values::Date;

/// Which process records the signed-in role may write (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecordRights {
    pub petition: bool,
    pub status_change: bool,
    pub project: bool,
    pub inspection: bool,
    pub survey: bool,
}

impl RecordRights {
    /// The rights of an account role code (`team_member`, `first_secretary`…): the records the
    /// access table ([`crate::domain::access::rights`]) lets the role create. An unknown code
    /// has none.
    pub fn of(role: &str) -> RecordRights {
        let Some(role) = Role::from_code(role) else {
            return RecordRights::default();
        };
        let creates = |kind| rights(role, kind).write.is_some();
        RecordRights {
            petition: creates(Kind::Petition),
            status_change: creates(Kind::StatusChange),
            project: creates(Kind::Project),
            inspection: creates(Kind::Inspection),
            survey: creates(Kind::SatisfactionSurvey),
        }
    }
}

/// A petition as the intake form gives it; the handler is the signed-in cadre, the status
/// 受理 and the village the household's (or, anonymous, the cadre's team village).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PetitionInput {
    /// `None` for an anonymous petition (匿名).
    pub household_id: Option<String>,
    pub received_date: Date,
    pub channel: PetitionChannel,
    pub source: PetitionSource,
    pub domain: PetitionDomain,
    pub subject_level: Option<SubjectLevel>,
    pub summary: String,
    /// `None` for the default term (60 days⚙).
    pub due_date: Option<Date>,
}

/// One step of handling a petition (DOMAIN §2.7: 受理 → 办理中 → 办结 → 回访, or 不予受理).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PetitionStep {
    /// 办理中: work on it has started.
    InProgress,
    /// 办结: resolved, saying how.
    Close { date: Date, resolution: String },
    /// 不予受理: refused, saying why.
    NotAccepted { date: Date, reason: String },
    /// 回访: what the petitioner said after the closing.
    ReturnVisit {
        date: Date,
        result: ReturnVisitResult,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PetitionItem {
    pub id: String,
    pub petition: Petition,
    /// R15: open past its due date.
    pub overdue: bool,
}

/// Opening a 动态调整 case: its first step (申请/村初选) is taken the same day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusChangeInput {
    pub household_id: String,
    pub change_type: StatusChangeType,
    pub reason: String,
    pub date: Date,
    pub note: Option<String>,
}

/// A step of a case as the step form gives it; the actor is the signed-in cadre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepInput {
    pub step: StatusChangeStep,
    pub date: Date,
    pub outcome: StepOutcome,
    pub note: Option<String>,
    pub votes_for: Option<u32>,
    pub votes_against: Option<u32>,
    /// 村内公示 only.
    pub publicity: Option<Publicity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusChangeItem {
    pub id: String,
    pub case: StatusChange,
    /// The village steps the signed-in cadre may take next, in procedure order (empty once
    /// the case is decided or past the village).
    pub next_steps: Vec<StatusChangeStep>,
    /// R12 codes the case itself still fails for an exit (consent, notice); see
    /// [`StatusChange::r12_procedure_blockers`].
    pub blockers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProjectItem {
    pub id: String,
    pub project: Project,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InspectionItem {
    pub id: String,
    pub inspection: Inspection,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SurveyItem {
    pub id: String,
    pub survey: SatisfactionSurvey,
}

/// Something to pick in a form: a village, a cadre, a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Choice {
    pub id: String,
    pub name: String,
}

/// The last village step a first secretary takes; the township reviews next.
const LAST_VILLAGE_STEP: StatusChangeStep = StatusChangeStep::Publicity;

impl FieldApp {
    /// What the signed-in role may record (all false when nobody is signed in).
    pub fn record_rights(&self) -> FieldResult<RecordRights> {
        Ok(self
            .me()?
            .map_or_else(RecordRights::default, |me| RecordRights::of(&me.role)))
    }

    fn require_right(&self, what: fn(&RecordRights) -> bool, who: &str) -> FieldResult<Me> {
        let me = self.require_me()?;
        if !what(&RecordRights::of(&me.role)) {
            return Err(FieldError::input(
                "not_your_role",
                format!("你的账号不能登记这项记录,由{who}登记 / your role may not record this"),
            ));
        }
        Ok(me)
    }

    fn household_village(&self, household_id: &str) -> FieldResult<String> {
        Ok(self
            .store
            .get::<Household>(household_id)
            .map_err(|_| unknown_household())?
            .record
            .village_code)
    }

    // ---- Petitions (§2.7) ----

    /// 受理: records a petition with the signed-in cadre as its handler.
    pub fn record_petition(&mut self, input: &PetitionInput) -> FieldResult<String> {
        let me = self.require_right(|r| r.petition, "驻村工作队员、第一书记或乡镇")?;
        let household_id = input
            .household_id
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        let village_code = match household_id {
            Some(h) => self.household_village(h)?,
            None => self
                .my_village(&me.cadre_id, input.received_date)?
                .ok_or_else(|| {
                    FieldError::input(
                        "no_team",
                        "匿名诉求记在你驻村的村:本机没有你的工作队记录,请从农户页面登记,或先同步",
                    )
                })?
                .code,
        };
        let petition = Petition {
            received_date: input.received_date,
            channel: input.channel,
            source: input.source,
            household_id: household_id.map(String::from),
            village_code,
            domain: input.domain,
            subject_level: input.subject_level,
            summary: input.summary.trim().to_string(),
            handler_id: me.cadre_id.clone(),
            due_date: input
                .due_date
                .unwrap_or_else(|| Petition::default_due(input.received_date)),
            status: PetitionStatus::Accepted,
            resolution: None,
            closed_date: None,
            return_visit: None,
            assignment: None,
            progress: Vec::new(),
        };
        check(&petition)?;
        self.create(&me, "受理信访诉求", &petition, None)
    }

    /// Takes one handling step of a petition (see [`PetitionStep`]).
    pub fn advance_petition(&mut self, id: &str, step: &PetitionStep) -> FieldResult<()> {
        let me = self.require_right(|r| r.petition, "驻村工作队员、第一书记或乡镇")?;
        let mut p = self.store.get::<Petition>(id)?.record;
        let reason = match step {
            PetitionStep::InProgress => {
                require_status(
                    &p,
                    &[PetitionStatus::Accepted],
                    "只有刚受理的诉求能转为办理中",
                )?;
                p.status = PetitionStatus::InProgress;
                "信访诉求转办理中"
            }
            PetitionStep::Close { date, resolution } => {
                require_status(
                    &p,
                    &[PetitionStatus::Accepted, PetitionStatus::InProgress],
                    "这条诉求已经办结或不予受理",
                )?;
                p.status = PetitionStatus::Closed;
                p.closed_date = Some(*date);
                p.resolution = text(resolution);
                "信访诉求办结"
            }
            PetitionStep::NotAccepted { date, reason } => {
                require_status(
                    &p,
                    &[PetitionStatus::Accepted],
                    "只有刚受理的诉求能不予受理",
                )?;
                if reason.trim().is_empty() {
                    return Err(FieldError::input(
                        "reason_required",
                        "请写明不予受理的理由 / say why it is not accepted",
                    ));
                }
                p.status = PetitionStatus::NotAccepted;
                p.closed_date = Some(*date);
                p.resolution = text(reason);
                "信访诉求不予受理"
            }
            PetitionStep::ReturnVisit { date, result } => {
                require_status(&p, &[PetitionStatus::Closed], "办结以后才能回访")?;
                if p.return_visit.is_some() {
                    return Err(FieldError::input(
                        "already_done",
                        "这条诉求已经回访过 / already visited back",
                    ));
                }
                p.return_visit = Some(ReturnVisit {
                    date: *date,
                    result: *result,
                });
                "信访诉求回访"
            }
        };
        check(&p)?;
        self.store
            .update(&Author::now(me.cadre_id, reason), id, &p)?;
        Ok(())
    }

    /// Petitions of a household, or (`None`) of the cadre's village (every one on the phone
    /// for a cadre without a team village), newest first.
    pub fn petitions(
        &self,
        household_id: Option<&str>,
        today: Date,
    ) -> FieldResult<Vec<PetitionItem>> {
        let me = self.require_me()?;
        let village = match household_id {
            Some(_) => None,
            None => self.my_village(&me.cadre_id, today)?,
        };
        let of = match (household_id, &village) {
            (Some(h), _) => PetitionsOf::Household(h),
            (None, Some(v)) => PetitionsOf::Village(&v.code),
            (None, None) => PetitionsOf::All,
        };
        let ids = self.store.petition_ids(of)?;
        ids.into_iter()
            .map(|id| {
                let petition = self.store.get::<Petition>(&id)?.record;
                Ok(PetitionItem {
                    overdue: petition.is_overdue(today),
                    id,
                    petition,
                })
            })
            .collect()
    }

    // ---- 动态调整 (§2.8) ----

    /// Opens a case for a household, with a snapshot of its latest income and its flags
    /// today, and takes the first step (申请/村初选).
    pub fn open_status_change(
        &mut self,
        input: &StatusChangeInput,
        today: Date,
    ) -> FieldResult<String> {
        let me = self.require_right(|r| r.status_change, "第一书记")?;
        // R13: the county's window for this type (the server refuses it too).
        let adjustment = self.settings()?.settings.rules.adjustment;
        if !adjustment.in_window(input.change_type, input.date) {
            return Err(FieldError::input(
                "outside_window",
                crate::rules::adjustment::outside_window_message(
                    &adjustment,
                    input.change_type,
                    input.date,
                ),
            ));
        }
        let household = self
            .store
            .get::<Household>(&input.household_id)
            .map_err(|_| unknown_household())?
            .record;
        let open_same = self
            .cases_of(&input.household_id)?
            .into_iter()
            .any(|(_, c)| c.result.is_none() && c.change_type == input.change_type);
        if open_same {
            return Err(FieldError::input(
                "case_open",
                "这户已有同类动态调整在办,请在原记录上继续 / a case of this type is already open",
            ));
        }
        let income_year = household
            .incomes
            .keys()
            .filter_map(|y| y.parse::<i32>().ok())
            .filter(|y| *y <= input.date.year())
            .max()
            .unwrap_or(input.date.year() - 1);
        let flags = self.household(&input.household_id, today)?.flags;
        let case = StatusChange {
            household_id: input.household_id.clone(),
            change_type: input.change_type,
            reason: input.reason.trim().to_string(),
            snapshot: Snapshot {
                income_year,
                per_capita: household.per_capita(income_year),
                food_clothing_ok: flags.food_clothing_ok,
                education_ok: flags.education_ok,
                medical_ok: flags.medical_ok,
                housing_ok: flags.housing_ok,
                water_ok: flags.water_ok,
            },
            steps: vec![Step {
                step: StatusChangeStep::Application,
                date: input.date,
                actor_id: me.cadre_id.clone(),
                outcome: StepOutcome::Passed,
                note: input.note.as_deref().and_then(text),
                votes_for: None,
                votes_against: None,
                publicity: None,
            }],
            effective_date: None,
            result: None,
        };
        check(&case)?;
        self.create(&me, "动态调整:申请/村初选", &case, None)
    }

    /// Adds a village step (民主评议, 核实, 农户认可签字, 村内公示…) to an open case.
    pub fn add_status_change_step(&mut self, id: &str, input: &StepInput) -> FieldResult<()> {
        let me = self.require_right(|r| r.status_change, "第一书记")?;
        let mut case = self.open_case(id)?;
        if input.step > LAST_VILLAGE_STEP {
            return Err(FieldError::input(
                "not_your_step",
                "乡镇审核及以后的步骤由乡镇和县里办理 / the township and county take the later steps",
            ));
        }
        case.steps.push(Step {
            step: input.step,
            date: input.date,
            actor_id: me.cadre_id.clone(),
            outcome: input.outcome,
            note: input.note.as_deref().and_then(text),
            votes_for: input.votes_for,
            votes_against: input.votes_against,
            publicity: input.publicity.clone().map(|mut p| {
                for o in &mut p.objections {
                    o.summary = o.summary.trim().to_string();
                    o.resolution = o.resolution.as_deref().and_then(text);
                }
                p
            }),
        });
        check(&case)?;
        let reason = format!("动态调整:{}", input.step.label_zh());
        self.store
            .update(&Author::now(me.cadre_id, reason), id, &case)?;
        Ok(())
    }

    /// Answers objection `objection` of the case's latest public notice.
    pub fn resolve_objection(
        &mut self,
        id: &str,
        objection: usize,
        resolution: &str,
    ) -> FieldResult<()> {
        let me = self.require_right(|r| r.status_change, "第一书记")?;
        let mut case = self.open_case(id)?;
        let Some(resolution) = text(resolution) else {
            return Err(FieldError::input(
                "reason_required",
                "请写明异议的处理结果 / say how the objection was settled",
            ));
        };
        let target = case
            .steps
            .iter_mut()
            .rev()
            .find_map(|s| s.publicity.as_mut())
            .and_then(|p| p.objections.get_mut(objection))
            .ok_or_else(|| FieldError::input("no_objection", "找不到这条公示异议,请刷新"))?;
        target.resolution = Some(resolution);
        check(&case)?;
        self.store.update(
            &Author::now(me.cadre_id, "动态调整:公示异议处理"),
            id,
            &case,
        )?;
        Ok(())
    }

    /// 撤回: ends an open case, saying why.
    pub fn withdraw_status_change(&mut self, id: &str, reason: &str) -> FieldResult<()> {
        let me = self.require_right(|r| r.status_change, "第一书记")?;
        let mut case = self.open_case(id)?;
        let Some(reason) = text(reason) else {
            return Err(FieldError::input(
                "reason_required",
                "请写明撤回的理由 / say why the case is withdrawn",
            ));
        };
        case.result = Some(StatusChangeResult::Withdrawn);
        check(&case)?;
        self.store.update(
            &Author::now(me.cadre_id, format!("动态调整撤回:{reason}")),
            id,
            &case,
        )?;
        Ok(())
    }

    /// The household's 动态调整 cases, newest first, with the steps the cadre may take next.
    pub fn status_changes(&self, household_id: &str) -> FieldResult<Vec<StatusChangeItem>> {
        let rights = self.record_rights()?;
        Ok(self
            .cases_of(household_id)?
            .into_iter()
            .rev()
            .map(|(id, case)| StatusChangeItem {
                next_steps: if rights.status_change {
                    next_village_steps(&case)
                } else {
                    Vec::new()
                },
                blockers: case
                    .r12_procedure_blockers()
                    .into_iter()
                    .map(String::from)
                    .collect(),
                id,
                case,
            })
            .collect())
    }

    fn cases_of(&self, household_id: &str) -> FieldResult<Vec<(String, StatusChange)>> {
        let ids = self.store.status_change_ids(household_id)?;
        ids.into_iter()
            .map(|id| {
                let case = self.store.get::<StatusChange>(&id)?.record;
                Ok((id, case))
            })
            .collect()
    }

    fn open_case(&self, id: &str) -> FieldResult<StatusChange> {
        let case = self.store.get::<StatusChange>(id)?.record;
        if case.result.is_some() {
            return Err(FieldError::input(
                "case_closed",
                "这件动态调整已经办结或撤回,不能再添加 / the case is decided",
            ));
        }
        Ok(case)
    }

    // ---- Projects (§2.9) ----

    /// Creates a project of the first secretary's village.
    pub fn create_project(&mut self, project: &Project, today: Date) -> FieldResult<String> {
        let me = self.require_right(|r| r.project, "第一书记")?;
        let village = self.my_village(&me.cadre_id, today)?.ok_or_else(no_team)?;
        let project = Project {
            village_code: village.code,
            name: project.name.trim().to_string(),
            performance_target: project.performance_target.trim().to_string(),
            benefit_link: project.benefit_link.as_deref().and_then(text),
            ..project.clone()
        };
        check(&project)?;
        self.create(&me, "新建项目", &project, None)
    }

    /// Adds a progress report (cumulative percent and money disbursed so far).
    pub fn report_project_progress(&mut self, id: &str, progress: &Progress) -> FieldResult<()> {
        let me = self.require_right(|r| r.project, "第一书记")?;
        let mut project = self.store.get::<Project>(id)?.record;
        project.progress.push(progress.clone());
        check(&project)?;
        self.store
            .update(&Author::now(me.cadre_id, "项目进度"), id, &project)?;
        Ok(())
    }

    /// The projects of the cadre's village (every one on the phone without a team village),
    /// latest start first.
    pub fn projects(&self, today: Date) -> FieldResult<Vec<ProjectItem>> {
        let me = self.require_me()?;
        let village = self.my_village(&me.cadre_id, today)?;
        let ids = self
            .store
            .project_ids(village.as_ref().map(|v| v.code.as_str()))?;
        ids.into_iter()
            .map(|id| {
                let project = self.store.get::<Project>(&id)?.record;
                Ok(ProjectItem { id, project })
            })
            .collect()
    }

    // ---- Inspections (§2.10) ----

    /// Records an inspection by the signed-in inspector (the inspector is always the author).
    pub fn record_inspection(&mut self, inspection: &Inspection) -> FieldResult<String> {
        let me = self.require_right(|r| r.inspection, "乡镇或县委组织部督查人员")?;
        let inspection = Inspection {
            inspector_id: me.cadre_id.clone(),
            findings: inspection.findings.as_deref().and_then(text),
            target_cadre_id: inspection
                .target_cadre_id
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from),
            ..inspection.clone()
        };
        check(&inspection)?;
        self.create(&me, "督查暗访", &inspection, None)
    }

    /// The signed-in inspector's inspections, newest first.
    pub fn my_inspections(&self) -> FieldResult<Vec<InspectionItem>> {
        let me = self.require_me()?;
        let ids = self.store.inspection_ids(&me.cadre_id)?;
        ids.into_iter()
            .map(|id| {
                let inspection = self.store.get::<Inspection>(&id)?.record;
                Ok(InspectionItem { id, inspection })
            })
            .collect()
    }

    /// The villages on this phone, for the inspection form.
    pub fn villages(&self) -> FieldResult<Vec<Choice>> {
        Ok(choices(self.store.village_names()?))
    }

    /// The resident cadres of a village's team (name when the cadre's file is on the phone).
    pub fn village_cadres(&self, village_code: &str) -> FieldResult<Vec<Choice>> {
        Ok(choices(self.store.village_cadre_names(village_code)?))
    }

    /// A village's households (head's name), for the inspection's household checks.
    pub fn village_households(&self, village_code: &str) -> FieldResult<Vec<Choice>> {
        let filter = HouseholdFilter {
            village_code: Some(village_code.to_string()),
            status: None,
            search: None,
        };
        Ok(self
            .store
            .list_households(&filter, Page::first(500))?
            .into_iter()
            .map(|h| Choice {
                name: h.head_name.unwrap_or_else(|| h.id.clone()),
                id: h.id,
            })
            .collect())
    }

    // ---- Satisfaction surveys (§2.11) ----

    /// Records a household's satisfaction answer, asked by the signed-in cadre.
    pub fn record_survey(&mut self, survey: &SatisfactionSurvey) -> FieldResult<String> {
        let me = self.require_right(|r| r.survey, "帮扶干部或乡镇")?;
        let household = self
            .store
            .get::<Household>(&survey.household_id)
            .map_err(|_| unknown_household())?
            .record;
        if !household.members.contains_key(&survey.respondent_member_id) {
            return Err(FieldError::input(
                "unknown_member",
                "请选择回答问题的家庭成员 / choose the member who answered",
            ));
        }
        let survey = SatisfactionSurvey {
            surveyor_id: me.cadre_id.clone(),
            period: survey.period.trim().to_string(),
            reasons: survey.reasons.as_deref().and_then(text),
            ..survey.clone()
        };
        check(&survey)?;
        self.create(&me, "满意度测评", &survey, None)
    }

    /// A household's survey answers, latest period first.
    pub fn surveys(&self, household_id: &str) -> FieldResult<Vec<SurveyItem>> {
        let ids = self.store.survey_ids(household_id)?;
        ids.into_iter()
            .map(|id| {
                let survey = self.store.get::<SatisfactionSurvey>(&id)?.record;
                Ok(SurveyItem { id, survey })
            })
            .collect()
    }
}

/// (id, name) pairs as a form's choices.
fn choices(pairs: Vec<(String, String)>) -> Vec<Choice> {
    pairs
        .into_iter()
        .map(|(id, name)| Choice { id, name })
        .collect()
}

/// The village steps that may follow where `case` stands: the current step again (a step
/// may repeat after a return) and every later one up to 村内公示; the consent step only for
/// exits.
fn next_village_steps(case: &StatusChange) -> Vec<StatusChangeStep> {
    if case.result.is_some() {
        return Vec::new();
    }
    let from = case
        .current_step()
        .map_or(StatusChangeStep::Application, |s| s.step);
    StatusChangeStep::ALL
        .iter()
        .copied()
        .filter(|s| *s >= from && *s <= LAST_VILLAGE_STEP)
        .filter(|s| *s != StatusChangeStep::HouseholdConsent || case.change_type.is_exit())
        .collect()
}

fn require_status(p: &Petition, allowed: &[PetitionStatus], message: &str) -> FieldResult<()> {
    if allowed.contains(&p.status) {
        Ok(())
    } else {
        Err(FieldError::input(
            "bad_step",
            format!("{message}(现在是「{}」)", p.status.label_zh()),
        ))
    }
}

/// Trimmed text, `None` when blank.
fn text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn unknown_household() -> FieldError {
    FieldError::input(
        "unknown_household",
        "本机没有这户的记录:请先同步,或从农户列表进入",
    )
}

fn no_team() -> FieldError {
    FieldError::input(
        "no_team",
        "还没有你的驻村工作队记录:请联网同步一次,或联系管理员",
    )
}

/// Validates `record` and says what is wrong in Chinese first.
fn check<T: Record>(record: &T) -> FieldResult<()> {
    record.validate().map_err(|e| invalid(&e))
}

/// A validation error as the field user reads it: 「field」problem, then the core's sentence.
pub fn invalid(e: &ValidationError) -> FieldError {
    let problem = match e.problem {
        Problem::Required => "必须填写",
        Problem::UnknownCode => "不在可选范围内",
        Problem::BadIdNumber => "身份证号不对",
        Problem::OutOfRange => "超出范围或日期先后不对",
        Problem::Inconsistent => "与其他内容矛盾",
        Problem::Malformed => "格式不对",
    };
    FieldError::input(
        "invalid_record",
        format!("「{}」{problem}:{}", field_label(&e.field), e.message),
    )
}

/// The Chinese name of a field path of these forms (`steps.3.publicity.end` → 第4步 公示结束日期).
fn field_label(path: &str) -> String {
    let mut prefix = String::new();
    let mut parts: Vec<&str> = path.split('.').collect();
    if parts.len() >= 2
        && let Ok(i) = parts[1].parse::<usize>()
    {
        let what = match parts[0] {
            "steps" => "第{}步",
            "progress" => "第{}次进度",
            "households_checked" => "抽查第{}户",
            _ => "第{}项",
        };
        prefix = what.replace("{}", &(i + 1).to_string());
        parts.drain(..2);
    }
    let name = match parts.join(".").as_str() {
        "summary" => "诉求内容",
        "resolution" => "办理结果",
        "closed_date" => "办结日期",
        "due_date" => "办理期限",
        "return_visit" | "return_visit.date" => "回访",
        "household_id" => "农户",
        "village_code" => "村",
        "handler_id" => "承办人",
        "reason" => "调整理由",
        "snapshot.income_year" => "收入年度",
        "step" => "步骤",
        "date" => "日期",
        "actor_id" => "经办人",
        "note" => "说明",
        "votes_for" => "赞成票",
        "publicity" => "公示期",
        "publicity.start" => "公示开始日期",
        "publicity.end" => "公示结束日期",
        "result" => "结果",
        "effective_date" => "生效日期",
        "name" => "项目名称",
        "funding" => "资金来源",
        "performance_target" => "绩效目标",
        "benefit_link" => "带贫机制",
        "planned_end" => "计划完工日期",
        "beneficiaries.persons" => "受益人数",
        "percent" => "完成比例",
        "disbursed" => "已拨付资金",
        "photo_sha256" => "照片",
        "publicity.completion_date" => "竣工公告日期",
        "inspector_id" => "督查人员",
        "target_cadre_id" => "被检查干部",
        "findings" => "发现的问题",
        "deadline" => "整改期限",
        "rectified_date" => "整改完成日期",
        "period" => "测评期",
        "surveyor_id" => "测评人",
        "respondent_member_id" => "受访成员",
        "reasons" => "原因",
        other if other.starts_with("publicity.objections") => "公示异议",
        other if other.starts_with("funding.") => "资金来源",
        other => return format!("{prefix}{other}"),
    };
    format!("{prefix}{name}")
}

#[cfg(test)]
mod tests;
