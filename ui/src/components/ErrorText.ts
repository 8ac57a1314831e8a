// How an error is told to a person: a network error says the record is safe on the phone.
import type { Ref } from 'vue'
import { showFailToast } from 'vant'
import { toAppError } from '../api'
import { i18n } from '../i18n'

export function showError(e: unknown) {
  const err = toAppError(e)
  if (err.code === 'wrong_pin') {
    showFailToast({ message: i18n.global.t('errors.wrongPin'), duration: 4000 })
    return
  }
  const t = i18n.global.t
  const text = err.code === 'network' ? t('errors.network') : err.message || t('errors.generic')
  showFailToast({ message: text, duration: 4000, wordBreak: 'break-word' })
}

/** Runs a screen's action with its button showing busy; a failure is shown to the cadre with
 *  showError, not thrown. */
export async function whileBusy(busy: Ref<boolean>, work: () => Promise<void>): Promise<void> {
  busy.value = true
  try {
    await work()
  } catch (e) {
    showError(e)
  } finally {
    busy.value = false
  }
}
