// What the first secretary's two team pages (TeamLeave.vue, TeamLog.vue) share: the pending
// item the route names, looked up in the team's pending list, and a step that, once the core
// has recorded it, says so and goes back home.
import { ref, type Ref } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { showSuccessToast } from 'vant'
import { api } from './api'
import type { TeamPending } from './bindings/TeamPending'
import { leaveForm } from './util'
import { showError, whileBusy } from './components/ErrorText'

export function useTeamItem<T extends { id: string }>(pick: (p: TeamPending) => T[]) {
  const route = useRoute()
  const router = useRouter()
  const item = ref(null) as Ref<T | null>
  const loaded = ref(false)
  const busy = ref(false)

  async function load() {
    try {
      item.value = pick(await api.teamPending()).find((x) => x.id === route.params.id) ?? null
    } catch (e) {
      showError(e)
    } finally {
      loaded.value = true
    }
  }

  /** Runs `step` on the item (busy meanwhile); on success shows `done` and goes home. */
  async function act(step: (id: string) => Promise<unknown>, done: () => string) {
    const current = item.value
    if (!current) return
    await whileBusy(busy, async () => {
      await step(current.id)
      showSuccessToast({ message: done(), wordBreak: 'break-word' })
      leaveForm(router, '/home')
    })
  }

  return { item, loaded, busy, load, act }
}
