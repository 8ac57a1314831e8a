// App-wide state the screens share: who is signed in, the code lists, online status.
import { reactive } from 'vue'
import { api } from './api'
import type { CodeLists } from './bindings/CodeLists'
import type { LockState } from './bindings/LockState'
import type { Me } from './bindings/Me'

export const state = reactive({
  me: null as Me | null,
  codes: null as CodeLists | null,
  online: false,
  lock: 'locked' as LockState,
})

/** Reads where the app stands; the session only when the store is open. */
export async function loadState() {
  state.lock = await api.lockState()
  if (state.lock === 'open') await loadSession()
}

export async function loadSession() {
  state.me = await api.me()
  state.codes = await api.codeLists()
}
