// Typed calls to the app's Tauri commands. The types come from ui/src/bindings, generated from
// the Rust types by ts-rs (src-tauri/tests/bindings.rs); nothing here restates them.
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type { CheckInDone } from './bindings/CheckInDone'
import type { CheckInInput } from './bindings/CheckInInput'
import type { CodeLists } from './bindings/CodeLists'
import type { ConflictItem } from './bindings/ConflictItem'
import type { Delivery } from './bindings/Delivery'
import type { Home } from './bindings/Home'
import type { HouseholdItem } from './bindings/HouseholdItem'
import type { HouseholdPage } from './bindings/HouseholdPage'
import type { HouseholdQuery } from './bindings/HouseholdQuery'
import type { LeaveInput } from './bindings/LeaveInput'
import type { LeaveRow } from './bindings/LeaveRow'
import type { LockState } from './bindings/LockState'
import type { LoginInput } from './bindings/LoginInput'
import type { Me } from './bindings/Me'
import type { MemberOption } from './bindings/MemberOption'
import type { MyMonth } from './bindings/MyMonth'
import type { ResolveInput } from './bindings/ResolveInput'
import type { ShellError } from './bindings/ShellError'
import type { SyncEvent } from './bindings/SyncEvent'
import type { SyncReport } from './bindings/SyncReport'
import type { Visit } from './bindings/Visit'
import type { WorkLog } from './bindings/WorkLog'
import type { Choice } from './bindings/Choice'
import type { Inspection } from './bindings/Inspection'
import type { InspectionItem } from './bindings/InspectionItem'
import type { PetitionInput } from './bindings/PetitionInput'
import type { PetitionItem } from './bindings/PetitionItem'
import type { PetitionStep } from './bindings/PetitionStep'
import type { Progress } from './bindings/Progress'
import type { Project } from './bindings/Project'
import type { ProjectItem } from './bindings/ProjectItem'
import type { RecordRights } from './bindings/RecordRights'
import type { SatisfactionSurvey } from './bindings/SatisfactionSurvey'
import type { StatusChangeInput } from './bindings/StatusChangeInput'
import type { StatusChangeItem } from './bindings/StatusChangeItem'
import type { StepInput } from './bindings/StepInput'
import type { SurveyItem } from './bindings/SurveyItem'

/** An error from the app: a stable code and a message a person can act on. */
export class AppError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Turns whatever a command rejected with into an AppError. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const s = e as ShellError
    return new AppError(String(s.code), String(s.message))
  }
  return new AppError('internal', String(e))
}

/** A command's arguments: named values, or raw bytes (a photo crosses as bytes, not as a JSON
 *  array of numbers four times its size). */
export type InvokeArgs = Record<string, unknown> | Uint8Array
type Invoke = (cmd: string, args?: InvokeArgs) => Promise<unknown>
let invoker: Invoke = invoke

/** Unit tests replace the Tauri bridge with an in-memory one. */
export function setInvoker(fn: Invoke) {
  invoker = fn
}

async function call<T>(cmd: string, args?: InvokeArgs): Promise<T> {
  try {
    return (await invoker(cmd, args)) as T
  } catch (e) {
    throw toAppError(e)
  }
}

export const api = {
  lockState: () => call<LockState>('lock_state'),
  unlock: (pin: string) => call<void>('unlock', { pin }),
  changePin: (old: string, pin: string) => call<void>('change_pin', { old, new: pin }),
  me: () => call<Me | null>('me'),
  login: (input: LoginInput) => call<Me>('login', { input }),
  logout: () => call<void>('logout'),
  home: () => call<Home>('home'),
  codeLists: () => call<CodeLists>('code_lists'),
  deviceLocation: () => call<CheckInInput | null>('device_location'),
  syncNow: () => call<SyncReport>('sync_now'),
  serverReachable: () => call<boolean>('server_reachable'),
  checkIn: (input: CheckInInput) => call<CheckInDone>('check_in', { input }),
  /** Keeps a check-in photo on the phone; returns its SHA-256 (hex), hashed by the core. */
  saveCheckInPhoto: (bytes: Uint8Array) => call<string>('save_check_in_photo', bytes),
  myLeaves: () => call<LeaveRow[]>('my_leaves'),
  requestLeave: (input: LeaveInput) => call<string>('request_leave', { input }),
  returnFromLeave: (id: string) => call<void>('return_from_leave', { id }),
  myMonth: (year: number, month: number) => call<MyMonth>('my_month', { year, month }),
  households: (query: HouseholdQuery) => call<HouseholdItem[]>('households', { query }),
  household: (id: string) => call<HouseholdPage>('household', { id }),
  householdMembers: (id: string) => call<MemberOption[]>('household_members', { id }),
  recordVisit: (visit: Visit) => call<string>('record_visit', { visit }),
  recordDelivery: (delivery: Delivery) => call<string>('record_delivery', { delivery }),
  writeWorkLog: (log: WorkLog) => call<string>('write_work_log', { log }),
  workLog: (date: string) => call<WorkLog | null>('work_log', { date }),
  conflicts: () => call<ConflictItem[]>('conflicts'),
  resolveConflict: (input: ResolveInput) => call<void>('resolve_conflict', { input }),
  saveDraft: (form: string, json: string) => call<void>('save_draft', { form, json }),
  draft: (form: string) => call<string | null>('draft', { form }),
  discardDraft: (form: string) => call<void>('discard_draft', { form }),
  // The process records' forms (petitions, 动态调整, projects, inspections, surveys).
  recordRights: () => call<RecordRights>('record_rights'),
  villages: () => call<Choice[]>('villages'),
  villageCadres: (village: string) => call<Choice[]>('village_cadres', { village }),
  villageHouseholds: (village: string) => call<Choice[]>('village_households', { village }),
  recordPetition: (input: PetitionInput) => call<string>('record_petition', { input }),
  advancePetition: (id: string, step: PetitionStep) => call<void>('advance_petition', { id, step }),
  petitions: (household: string | null) => call<PetitionItem[]>('petitions', { household }),
  openStatusChange: (input: StatusChangeInput) => call<string>('open_status_change', { input }),
  addStatusChangeStep: (id: string, input: StepInput) => call<void>('add_status_change_step', { id, input }),
  resolveObjection: (id: string, objection: number, text: string) => call<void>('resolve_objection', { id, objection, text }),
  withdrawStatusChange: (id: string, reason: string) => call<void>('withdraw_status_change', { id, reason }),
  statusChanges: (household: string) => call<StatusChangeItem[]>('status_changes', { household }),
  createProject: (project: Project) => call<string>('create_project', { project }),
  reportProjectProgress: (id: string, progress: Progress) => call<void>('report_project_progress', { id, progress }),
  projects: () => call<ProjectItem[]>('projects'),
  recordInspection: (inspection: Inspection) => call<string>('record_inspection', { inspection }),
  myInspections: () => call<InspectionItem[]>('my_inspections'),
  recordSurvey: (survey: SatisfactionSurvey) => call<string>('record_survey', { survey }),
  surveys: (household: string) => call<SurveyItem[]>('surveys', { household }),
}

/** Listens to the progress of a sync. */
export function onSyncProgress(fn: (e: SyncEvent) => void): Promise<UnlistenFn> {
  return listen<SyncEvent>('sync-progress', (event) => fn(event.payload))
}
