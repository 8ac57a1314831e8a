// Vant's own texts follow the app's language: a confirm dialog's buttons in Chinese, then in
// English after the switch, then Chinese again.
import { afterEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { closeDialog, showConfirmDialog } from 'vant'
import { setLocale } from '../src/i18n'

async function dialogButtons(): Promise<[string, string]> {
  void showConfirmDialog({ message: '…' }).catch(() => {})
  await nextTick()
  await nextTick()
  const dialogs = document.querySelectorAll('.van-dialog')
  const last = dialogs[dialogs.length - 1]
  const text = (css: string) => last.querySelector(css)?.textContent?.trim() ?? ''
  const buttons: [string, string] = [text('.van-dialog__confirm'), text('.van-dialog__cancel')]
  closeDialog()
  return buttons
}

describe("Vant's locale", () => {
  afterEach(() => setLocale('zh-CN'))

  it('follows vue-i18n', async () => {
    setLocale('zh-CN')
    expect(await dialogButtons()).toEqual(['确认', '取消'])
    setLocale('en')
    expect(await dialogButtons()).toEqual(['Confirm', 'Cancel'])
    setLocale('zh-CN')
    expect(await dialogButtons()).toEqual(['确认', '取消'])
  })
})
