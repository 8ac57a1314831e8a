// Generated from the app's commands (src-tauri/src/commands/) by
// `CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-app --test bindings`: do not edit.
import type { CheckInDone } from './bindings/CheckInDone'
import type { CheckInInput } from './bindings/CheckInInput'
import type { Choice } from './bindings/Choice'
import type { CodeLists } from './bindings/CodeLists'
import type { ConflictItem } from './bindings/ConflictItem'
import type { Delivery } from './bindings/Delivery'
import type { FeedbackInput } from './bindings/FeedbackInput'
import type { FeedbackItem } from './bindings/FeedbackItem'
import type { Home } from './bindings/Home'
import type { HouseholdItem } from './bindings/HouseholdItem'
import type { HouseholdPage } from './bindings/HouseholdPage'
import type { HouseholdQuery } from './bindings/HouseholdQuery'
import type { Inspection } from './bindings/Inspection'
import type { InspectionItem } from './bindings/InspectionItem'
import type { LeaveInput } from './bindings/LeaveInput'
import type { LeaveRow } from './bindings/LeaveRow'
import type { LockState } from './bindings/LockState'
import type { LoginInput } from './bindings/LoginInput'
import type { Me } from './bindings/Me'
import type { MemberOption } from './bindings/MemberOption'
import type { MyMonth } from './bindings/MyMonth'
import type { Notice } from './bindings/Notice'
import type { PetitionInput } from './bindings/PetitionInput'
import type { PetitionItem } from './bindings/PetitionItem'
import type { PetitionStep } from './bindings/PetitionStep'
import type { Progress } from './bindings/Progress'
import type { Project } from './bindings/Project'
import type { ProjectItem } from './bindings/ProjectItem'
import type { RecordRights } from './bindings/RecordRights'
import type { ResolveInput } from './bindings/ResolveInput'
import type { SatisfactionSurvey } from './bindings/SatisfactionSurvey'
import type { StatusChangeInput } from './bindings/StatusChangeInput'
import type { StatusChangeItem } from './bindings/StatusChangeItem'
import type { StepInput } from './bindings/StepInput'
import type { SurveyItem } from './bindings/SurveyItem'
import type { SyncReport } from './bindings/SyncReport'
import type { TeamPending } from './bindings/TeamPending'
import type { Visit } from './bindings/Visit'
import type { WorkLog } from './bindings/WorkLog'

/** A command's arguments: named values, or raw bytes (a photo crosses as bytes, not as a
 *  JSON array of numbers four times its size). */
export type InvokeArgs = Record<string, unknown> | Uint8Array

/** Sends one command and answers what it answered. */
export type Call = <T>(cmd: string, args?: InvokeArgs) => Promise<T>

/** Every command of the app, typed, sent through `call`. */
export function commands(call: Call) {
  return {
    /** Whether the store is open, waiting for its PIN, or not made yet. */
    lockState: () => call<LockState>('lock_state'),
    /**
     * Opens the store with `pin` (creating it, the first time, encrypted with that PIN). The
     * Argon2 key derivation runs off the UI thread.
     */
    unlock: (pin: string) => call<void>('unlock', { pin }),
    changePin: (old: string, new_: string) => call<void>('change_pin', { old, new: new_ }),
    me: () => call<Me | null>('me'),
    login: (input: LoginInput) => call<Me>('login', { input }),
    logout: () => call<void>('logout'),
    home: () => call<Home>('home'),
    codeLists: () => call<CodeLists>('code_lists'),
    /**
     * The fixed location of a desktop without GPS (`CUNJI_LOCATION`), when the webview has
     * no geolocation.
     */
    deviceLocation: () => call<CheckInInput | null>('device_location'),
    /**
     * Syncs now on a connection of its own, emitting `sync-progress` events as it goes; the
     * app's other commands go on meanwhile.
     */
    syncNow: () => call<SyncReport>('sync_now'),
    /** Whether the server accepts a connection; the app's lock is not held while it tries. */
    serverReachable: () => call<boolean>('server_reachable'),
    checkIn: (input: CheckInInput) => call<CheckInDone>('check_in', { input }),
    /**
     * Keeps a check-in photo on the phone (the raw bytes of the invoke) and returns its
     * SHA-256 (hex), hashed by the core.
     */
    saveCheckInPhoto: (bytes: Uint8Array) => call<string>('save_check_in_photo', bytes),
    myLeaves: () => call<Array<LeaveRow>>('my_leaves'),
    /** What R3 says of the request at entry (late: recorded, but excusing nothing). */
    leaveNotice: (input: LeaveInput) => call<Notice | null>('leave_notice', { input }),
    requestLeave: (input: LeaveInput) => call<string>('request_leave', { input }),
    returnFromLeave: (id: string) => call<void>('return_from_leave', { id }),
    myMonth: (year: number, month: number) => call<MyMonth>('my_month', { year, month }),
    households: (query: HouseholdQuery) => call<Array<HouseholdItem>>('households', { query }),
    household: (id: string) => call<HouseholdPage>('household', { id }),
    householdMembers: (id: string) => call<Array<MemberOption>>('household_members', { id }),
    recordVisit: (visit: Visit) => call<string>('record_visit', { visit }),
    recordDelivery: (delivery: Delivery) => call<string>('record_delivery', { delivery }),
    writeWorkLog: (log: WorkLog) => call<string>('write_work_log', { log }),
    workLog: (date: string) => call<WorkLog | null>('work_log', { date }),
    /** The team's leave waiting for 队长同意 and logs without the leader's comment. */
    teamPending: () => call<TeamPending>('team_pending'),
    /** 队长同意 (`accept`), or sending the request back with `reason`. */
    endorseLeave: (id: string, accept: boolean, reason: string | null) =>
      call<void>('endorse_leave', { id, accept, reason }),
    commentLog: (id: string, comment: string) => call<void>('comment_log', { id, comment }),
    conflicts: () => call<Array<ConflictItem>>('conflicts'),
    resolveConflict: (input: ResolveInput) => call<void>('resolve_conflict', { input }),
    saveDraft: (form: string, json: string) => call<void>('save_draft', { form, json }),
    draft: (form: string) => call<string | null>('draft', { form }),
    discardDraft: (form: string) => call<void>('discard_draft', { form }),
    recordRights: () => call<RecordRights>('record_rights'),
    villages: () => call<Array<Choice>>('villages'),
    villageCadres: (village: string) => call<Array<Choice>>('village_cadres', { village }),
    villageHouseholds: (village: string) => call<Array<Choice>>('village_households', { village }),
    recordPetition: (input: PetitionInput) => call<string>('record_petition', { input }),
    advancePetition: (id: string, step: PetitionStep) =>
      call<void>('advance_petition', { id, step }),
    petitions: (household: string | null) => call<Array<PetitionItem>>('petitions', { household }),
    openStatusChange: (input: StatusChangeInput) => call<string>('open_status_change', { input }),
    addStatusChangeStep: (id: string, input: StepInput) =>
      call<void>('add_status_change_step', { id, input }),
    resolveObjection: (id: string, objection: number, text: string) =>
      call<void>('resolve_objection', { id, objection, text }),
    withdrawStatusChange: (id: string, reason: string) =>
      call<void>('withdraw_status_change', { id, reason }),
    statusChanges: (household: string) =>
      call<Array<StatusChangeItem>>('status_changes', { household }),
    createProject: (project: Project) => call<string>('create_project', { project }),
    reportProjectProgress: (id: string, progress: Progress) =>
      call<void>('report_project_progress', { id, progress }),
    projects: () => call<Array<ProjectItem>>('projects'),
    recordInspection: (inspection: Inspection) => call<string>('record_inspection', { inspection }),
    myInspections: () => call<Array<InspectionItem>>('my_inspections'),
    recordSurvey: (survey: SatisfactionSurvey) => call<string>('record_survey', { survey }),
    surveys: (household: string) => call<Array<SurveyItem>>('surveys', { household }),
    submitFeedback: (input: FeedbackInput) => call<string>('submit_feedback', { input }),
    myFeedback: () => call<Array<FeedbackItem>>('my_feedback'),
  }
}
