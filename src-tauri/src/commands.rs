//! The commands the UI invokes, grouped by domain. Each is one line calling the core.
//! Commands that may wait on the network run on a blocking thread ([`crate::blocking`]): the
//! core's HTTP client is blocking and must not run on the async runtime or the main thread.

use tauri::State;

use crate::AppState;

macro_rules! handler {
    ($($path:path),* $(,)?) => {
        /// The invoke handler with every command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($path),*]
        }
    };
}

handler![
    lock::lock_state,
    lock::unlock,
    lock::change_pin,
    session::me,
    session::login,
    session::logout,
    session::home,
    session::code_lists,
    session::device_location,
    sync::sync_now,
    sync::server_reachable,
    attendance::check_in,
    attendance::save_check_in_photo,
    attendance::my_leaves,
    attendance::request_leave,
    attendance::return_from_leave,
    attendance::my_month,
    households::households,
    households::household,
    households::household_members,
    visits::record_visit,
    delivery::record_delivery,
    worklog::write_work_log,
    worklog::work_log,
    conflicts::conflicts,
    conflicts::resolve_conflict,
    drafts::save_draft,
    drafts::draft,
    drafts::discard_draft,
    forms::record_rights,
    forms::villages,
    forms::village_cadres,
    forms::village_households,
    petitions::record_petition,
    petitions::advance_petition,
    petitions::petitions,
    status_changes::open_status_change,
    status_changes::add_status_change_step,
    status_changes::resolve_objection,
    status_changes::withdraw_status_change,
    status_changes::status_changes,
    projects::create_project,
    projects::report_project_progress,
    projects::projects,
    inspections::record_inspection,
    inspections::my_inspections,
    surveys::record_survey,
    surveys::surveys,
];

pub mod lock {
    use super::*;
    use crate::{CmdResult, LockState};
    use cunji_core::field::FieldApp;

    /// Whether the store is open, waiting for its PIN, or not made yet.
    #[tauri::command]
    pub fn lock_state(state: State<'_, AppState>) -> LockState {
        crate::lock_state(&state)
    }

    /// Opens the store with `pin` (creating it, the first time, encrypted with that PIN). The
    /// Argon2 key derivation runs off the UI thread.
    #[tauri::command]
    pub async fn unlock(state: State<'_, AppState>, pin: String) -> CmdResult<()> {
        let dir = state.dir.clone();
        let field = crate::off_thread(move || FieldApp::open(&dir, &pin)).await?;
        *state.slot() = Some(field);
        Ok(())
    }

    #[tauri::command]
    pub async fn change_pin(app: tauri::AppHandle, old: String, new: String) -> CmdResult<()> {
        crate::blocking(app, move |f| f.change_pin(&old, &new)).await
    }
}

pub mod session {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{CheckInInput, CodeLists, Home, LoginInput, Me};

    #[tauri::command]
    pub fn me(state: State<'_, AppState>) -> CmdResult<Option<Me>> {
        Ok(state.app()?.me()?)
    }

    #[tauri::command]
    pub async fn login(app: tauri::AppHandle, input: LoginInput) -> CmdResult<Me> {
        crate::blocking(app, move |f| f.login(&input)).await
    }

    #[tauri::command]
    pub fn logout(state: State<'_, AppState>) -> CmdResult<()> {
        Ok(state.app()?.logout()?)
    }

    #[tauri::command]
    pub fn home(state: State<'_, AppState>) -> CmdResult<Home> {
        Ok(state.app()?.home(cunji_core::field::today())?)
    }

    #[tauri::command]
    pub fn code_lists(state: State<'_, AppState>) -> CmdResult<CodeLists> {
        Ok(state.app()?.code_lists())
    }

    /// The fixed location of a desktop without GPS (`CUNJI_LOCATION`), when the webview has
    /// no geolocation.
    #[tauri::command]
    pub fn device_location() -> Option<CheckInInput> {
        cunji_core::field::location_from_env(std::env::var("CUNJI_LOCATION").ok().as_deref())
    }
}

pub mod sync {
    use super::*;
    use crate::CmdResult;
    use cunji_core::sync::client::SyncReport;
    use tauri::Emitter;

    /// Syncs now on a connection of its own, emitting `sync-progress` events as it goes; the
    /// app's other commands go on meanwhile.
    #[tauri::command]
    pub async fn sync_now(
        app: tauri::AppHandle,
        state: State<'_, AppState>,
    ) -> CmdResult<SyncReport> {
        let job = state.app()?.sync_job()?;
        crate::off_thread(move || job.run(&mut |e| drop(app.emit("sync-progress", e)))).await
    }

    /// Whether the server accepts a connection; the app's lock is not held while it tries.
    #[tauri::command]
    pub async fn server_reachable(state: State<'_, AppState>) -> CmdResult<bool> {
        let Some(url) = state.app()?.server_url()? else {
            return Ok(false);
        };
        crate::off_thread(move || Ok(cunji_core::field::server_reachable(&url))).await
    }
}

pub mod attendance {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{CheckInDone, CheckInInput, LeaveInput, LeaveRow, MyMonth, now, today};

    #[tauri::command]
    pub fn check_in(state: State<'_, AppState>, input: CheckInInput) -> CmdResult<CheckInDone> {
        Ok(state.app()?.check_in(&input, now())?)
    }

    /// Keeps a check-in photo (the raw bytes of the invoke) and returns its SHA-256.
    #[tauri::command]
    pub fn save_check_in_photo(
        state: State<'_, AppState>,
        request: tauri::ipc::Request<'_>,
    ) -> CmdResult<String> {
        Ok(state
            .app()?
            .save_check_in_photo(&crate::raw_bytes(&request)?)?)
    }

    #[tauri::command]
    pub fn my_leaves(state: State<'_, AppState>) -> CmdResult<Vec<LeaveRow>> {
        Ok(state.app()?.my_leaves()?)
    }

    #[tauri::command]
    pub fn request_leave(state: State<'_, AppState>, input: LeaveInput) -> CmdResult<String> {
        Ok(state.app()?.request_leave(&input, now())?)
    }

    #[tauri::command]
    pub fn return_from_leave(state: State<'_, AppState>, id: String) -> CmdResult<()> {
        Ok(state.app()?.return_from_leave(&id, now())?)
    }

    #[tauri::command]
    pub fn my_month(state: State<'_, AppState>, year: i32, month: u32) -> CmdResult<MyMonth> {
        Ok(state.app()?.my_month(year, month, today())?)
    }
}

pub mod households {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{HouseholdItem, HouseholdPage, HouseholdQuery, MemberOption, today};

    #[tauri::command]
    pub fn households(
        state: State<'_, AppState>,
        query: HouseholdQuery,
    ) -> CmdResult<Vec<HouseholdItem>> {
        Ok(state.app()?.households(&query, today())?)
    }

    #[tauri::command]
    pub fn household(state: State<'_, AppState>, id: String) -> CmdResult<HouseholdPage> {
        Ok(state.app()?.household(&id, today())?)
    }

    #[tauri::command]
    pub fn household_members(
        state: State<'_, AppState>,
        id: String,
    ) -> CmdResult<Vec<MemberOption>> {
        Ok(state.app()?.household_members(&id)?)
    }
}

pub mod visits {
    use super::*;
    use crate::CmdResult;
    use cunji_core::domain::Visit;

    #[tauri::command]
    pub fn record_visit(state: State<'_, AppState>, visit: Visit) -> CmdResult<String> {
        Ok(state.app()?.record_visit(&visit)?)
    }
}

pub mod delivery {
    use super::*;
    use crate::CmdResult;
    use cunji_core::domain::Delivery;

    #[tauri::command]
    pub fn record_delivery(state: State<'_, AppState>, delivery: Delivery) -> CmdResult<String> {
        Ok(state.app()?.record_delivery(&delivery)?)
    }
}

pub mod worklog {
    use super::*;
    use crate::CmdResult;
    use cunji_core::domain::WorkLog;
    use cunji_core::values::Date;

    #[tauri::command]
    pub fn write_work_log(state: State<'_, AppState>, log: WorkLog) -> CmdResult<String> {
        Ok(state.app()?.write_work_log(&log)?)
    }

    #[tauri::command]
    pub fn work_log(state: State<'_, AppState>, date: Date) -> CmdResult<Option<WorkLog>> {
        Ok(state.app()?.work_log(date)?)
    }
}

pub mod conflicts {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{ConflictItem, ResolveInput};

    #[tauri::command]
    pub fn conflicts(state: State<'_, AppState>) -> CmdResult<Vec<ConflictItem>> {
        Ok(state.app()?.conflicts()?)
    }

    #[tauri::command]
    pub fn resolve_conflict(state: State<'_, AppState>, input: ResolveInput) -> CmdResult<()> {
        Ok(state.app()?.resolve_conflict(&input)?)
    }
}

pub mod drafts {
    use super::*;
    use crate::CmdResult;

    #[tauri::command]
    pub fn save_draft(state: State<'_, AppState>, form: String, json: String) -> CmdResult<()> {
        Ok(state.app()?.save_draft(&form, &json)?)
    }

    #[tauri::command]
    pub fn draft(state: State<'_, AppState>, form: String) -> CmdResult<Option<String>> {
        Ok(state.app()?.draft(&form)?)
    }

    #[tauri::command]
    pub fn discard_draft(state: State<'_, AppState>, form: String) -> CmdResult<()> {
        Ok(state.app()?.discard_draft(&form)?)
    }
}

pub mod forms {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{Choice, RecordRights};

    #[tauri::command]
    pub fn record_rights(state: State<'_, AppState>) -> CmdResult<RecordRights> {
        Ok(state.app()?.record_rights()?)
    }

    #[tauri::command]
    pub fn villages(state: State<'_, AppState>) -> CmdResult<Vec<Choice>> {
        Ok(state.app()?.villages()?)
    }

    #[tauri::command]
    pub fn village_cadres(state: State<'_, AppState>, village: String) -> CmdResult<Vec<Choice>> {
        Ok(state.app()?.village_cadres(&village)?)
    }

    #[tauri::command]
    pub fn village_households(
        state: State<'_, AppState>,
        village: String,
    ) -> CmdResult<Vec<Choice>> {
        Ok(state.app()?.village_households(&village)?)
    }
}

pub mod petitions {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{PetitionInput, PetitionItem, PetitionStep, today};

    #[tauri::command]
    pub fn record_petition(state: State<'_, AppState>, input: PetitionInput) -> CmdResult<String> {
        Ok(state.app()?.record_petition(&input)?)
    }

    #[tauri::command]
    pub fn advance_petition(
        state: State<'_, AppState>,
        id: String,
        step: PetitionStep,
    ) -> CmdResult<()> {
        Ok(state.app()?.advance_petition(&id, &step)?)
    }

    #[tauri::command]
    pub fn petitions(
        state: State<'_, AppState>,
        household: Option<String>,
    ) -> CmdResult<Vec<PetitionItem>> {
        Ok(state.app()?.petitions(household.as_deref(), today())?)
    }
}

pub mod status_changes {
    use super::*;
    use crate::CmdResult;
    use cunji_core::field::{StatusChangeInput, StatusChangeItem, StepInput, today};

    #[tauri::command]
    pub fn open_status_change(
        state: State<'_, AppState>,
        input: StatusChangeInput,
    ) -> CmdResult<String> {
        Ok(state.app()?.open_status_change(&input, today())?)
    }

    #[tauri::command]
    pub fn add_status_change_step(
        state: State<'_, AppState>,
        id: String,
        input: StepInput,
    ) -> CmdResult<()> {
        Ok(state.app()?.add_status_change_step(&id, &input)?)
    }

    #[tauri::command]
    pub fn resolve_objection(
        state: State<'_, AppState>,
        id: String,
        objection: usize,
        text: String,
    ) -> CmdResult<()> {
        Ok(state.app()?.resolve_objection(&id, objection, &text)?)
    }

    #[tauri::command]
    pub fn withdraw_status_change(
        state: State<'_, AppState>,
        id: String,
        reason: String,
    ) -> CmdResult<()> {
        Ok(state.app()?.withdraw_status_change(&id, &reason)?)
    }

    #[tauri::command]
    pub fn status_changes(
        state: State<'_, AppState>,
        household: String,
    ) -> CmdResult<Vec<StatusChangeItem>> {
        Ok(state.app()?.status_changes(&household)?)
    }
}

pub mod projects {
    use super::*;
    use crate::CmdResult;
    use cunji_core::domain::{Progress, Project};
    use cunji_core::field::{ProjectItem, today};

    #[tauri::command]
    pub fn create_project(state: State<'_, AppState>, project: Project) -> CmdResult<String> {
        Ok(state.app()?.create_project(&project, today())?)
    }

    #[tauri::command]
    pub fn report_project_progress(
        state: State<'_, AppState>,
        id: String,
        progress: Progress,
    ) -> CmdResult<()> {
        Ok(state.app()?.report_project_progress(&id, &progress)?)
    }

    #[tauri::command]
    pub fn projects(state: State<'_, AppState>) -> CmdResult<Vec<ProjectItem>> {
        Ok(state.app()?.projects(today())?)
    }
}

pub mod inspections {
    use super::*;
    use crate::CmdResult;
    use cunji_core::domain::Inspection;
    use cunji_core::field::InspectionItem;

    #[tauri::command]
    pub fn record_inspection(
        state: State<'_, AppState>,
        inspection: Inspection,
    ) -> CmdResult<String> {
        Ok(state.app()?.record_inspection(&inspection)?)
    }

    #[tauri::command]
    pub fn my_inspections(state: State<'_, AppState>) -> CmdResult<Vec<InspectionItem>> {
        Ok(state.app()?.my_inspections()?)
    }
}

pub mod surveys {
    use super::*;
    use crate::CmdResult;
    use cunji_core::domain::SatisfactionSurvey;
    use cunji_core::field::SurveyItem;

    #[tauri::command]
    pub fn record_survey(
        state: State<'_, AppState>,
        survey: SatisfactionSurvey,
    ) -> CmdResult<String> {
        Ok(state.app()?.record_survey(&survey)?)
    }

    #[tauri::command]
    pub fn surveys(state: State<'_, AppState>, household: String) -> CmdResult<Vec<SurveyItem>> {
        Ok(state.app()?.surveys(&household)?)
    }
}
