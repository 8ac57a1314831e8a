import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick, ref } from 'vue'
import { setInvoker } from '../src/api'
import { useDraft } from '../src/drafts'

// An in-memory stand-in for the device's draft table.
function memoryDrafts() {
  const saved = new Map<string, string>()
  setInvoker(async (cmd, args) => {
    const a = args as { form: string; json?: string }
    if (cmd === 'draft') return saved.get(a.form) ?? null
    if (cmd === 'save_draft') return void saved.set(a.form, a.json!)
    if (cmd === 'discard_draft') return void saved.delete(a.form)
    throw { code: 'unknown', message: cmd }
  })
  return saved
}

afterEach(() => vi.useRealTimers())

describe('useDraft', () => {
  it('saves a moment after typing and restores on reopening', async () => {
    vi.useFakeTimers()
    const saved = memoryDrafts()
    const form = ref({ demands: '', actions: '' })
    await useDraft('visit:h1', form, { delay: 400 })
    form.value.demands = '修路'
    await nextTick()
    expect(saved.has('visit:h1')).toBe(false)
    await vi.advanceTimersByTimeAsync(450)
    expect(JSON.parse(saved.get('visit:h1')!)).toEqual({ demands: '修路', actions: '' })

    // The app was closed: a new form comes back with what was typed.
    const reopened = ref({ demands: '', actions: '' })
    const d = await useDraft('visit:h1', reopened)
    expect(d.restored).toBe(true)
    expect(reopened.value.demands).toBe('修路')

    await d.discard()
    expect(saved.has('visit:h1')).toBe(false)
    reopened.value.actions = 'x'
    await vi.advanceTimersByTimeAsync(1000)
    expect(saved.has('visit:h1')).toBe(false)
  })

  it('ignores a damaged draft instead of blocking the form', async () => {
    const saved = memoryDrafts()
    saved.set('leave', '{not json')
    const form = ref({ reason: 'x' })
    await useDraft('leave', form)
    expect(form.value.reason).toBe('x')
  })
})

describe('useDraft stop', () => {
  it('keeps the saved draft but saves no more', async () => {
    vi.useFakeTimers()
    const saved = memoryDrafts()
    const form = ref({ text: '' })
    const d = await useDraft('step:a', form, { delay: 10 })
    form.value.text = '第一件'
    await nextTick()
    await vi.advanceTimersByTimeAsync(20)
    d.stop()
    form.value.text = '另一件'
    await nextTick()
    await vi.advanceTimersByTimeAsync(50)
    expect(JSON.parse(saved.get('step:a')!)).toEqual({ text: '第一件' })
  })
})
