// Typed calls to the app's Tauri commands. The calls are generated from the Rust commands
// (./commands.ts) and their types from the Rust types by ts-rs (./bindings), both by
// src-tauri/tests/bindings.rs; nothing here restates them.
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import { commands, type InvokeArgs } from './commands'
import type { ShellError } from './bindings/ShellError'
import type { SyncEvent } from './bindings/SyncEvent'

export type { InvokeArgs }

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

/** Every command of the app (generated from the Rust side: ./commands.ts). */
export const api = commands(call)

/** Listens to the progress of a sync. */
export function onSyncProgress(fn: (e: SyncEvent) => void): Promise<UnlistenFn> {
  return listen<SyncEvent>('sync-progress', (event) => fn(event.payload))
}
