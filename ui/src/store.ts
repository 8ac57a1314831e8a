// App-wide state the screens share: who is signed in, the code lists, online status.
import { reactive } from 'vue'
import { api } from './api'
import type { CodeLists } from './bindings/CodeLists'
import type { Me } from './bindings/Me'

export const state = reactive({
  me: null as Me | null,
  codes: null as CodeLists | null,
  online: false,
})

export async function loadSession() {
  state.me = await api.me()
  state.codes = await api.codeLists()
}
