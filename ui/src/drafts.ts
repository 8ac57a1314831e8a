// Drafts save as you type: a form's state is written to the device (api.saveDraft) a moment
// after each change, and read back when the form opens, so closing the app loses nothing.
import { watch, type Ref } from 'vue'
import { api } from './api'

export interface DraftOptions {
  /** Milliseconds to wait after the last change before saving. */
  delay?: number
  onSaved?: () => void
}

/** Restores `form` from its saved draft, then saves it after each change. Returns `discard`. */
export async function useDraft<T extends object>(
  key: string,
  form: Ref<T>,
  opts: DraftOptions = {},
) {
  const saved = await api.draft(key)
  if (saved) {
    try {
      form.value = { ...form.value, ...JSON.parse(saved) }
    } catch {
      // A damaged draft is dropped rather than blocking the form.
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const stop = watch(
    form,
    (value) => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        api.saveDraft(key, JSON.stringify(value)).then(() => opts.onSaved?.())
      }, opts.delay ?? 400)
    },
    { deep: true },
  )
  return {
    restored: saved !== null,
    /** Stops saving and keeps the draft (the form now edits something else). */
    stop() {
      stop()
      clearTimeout(timer)
    },
    /** Stops saving and deletes the draft (after the record was saved). */
    async discard() {
      stop()
      clearTimeout(timer)
      await api.discardDraft(key)
    },
  }
}
