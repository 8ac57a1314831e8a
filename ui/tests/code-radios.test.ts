// The forms' one-of-a-list radio row: a code list labelled in the current language, a list of
// the form's own, the empty choice, data-test names, and v-model both ways.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import Vant from 'vant'
import { defineComponent, ref } from 'vue'
import CodeRadios from '../src/components/CodeRadios.vue'
import type { CodeOption } from '../src/bindings/CodeOption'
import { i18n, setLocale } from '../src/i18n'

const channels: CodeOption[] = [
  { code: 'in_person', zh: '来访', en: 'In person' },
  { code: 'phone', zh: '来电', en: 'Phone' },
  { code: 'letter', zh: '来信', en: 'Letter' },
]

/** Mounts `template` with a `value` ref bound to it; returns the wrapper and the ref. */
function host(template: string, start: string) {
  const value = ref(start)
  const w = mount(
    defineComponent({ components: { CodeRadios }, setup: () => ({ value, channels }), template }),
    { global: { plugins: [Vant, i18n] }, attachTo: document.body },
  )
  return { w, value }
}
const texts = (w: ReturnType<typeof host>['w']) => w.findAll('.van-radio').map((r) => r.text())
const checked = (w: ReturnType<typeof host>['w']) =>
  w
    .findAll('.van-radio')
    .filter((r) => r.attributes('aria-checked') === 'true')
    .map((r) => r.text())

afterEach(() => {
  setLocale('zh-CN')
  document.body.innerHTML = ''
})

describe('CodeRadios', () => {
  it('shows a code list in the current language and follows a switch', async () => {
    const { w } = host(
      '<CodeRadios v-model="value" class="radios" :codes="channels" test="channel" />',
      'phone',
    )
    expect(texts(w)).toEqual(['来访', '来电', '来信'])
    expect(checked(w)).toEqual(['来电'])
    expect(w.classes()).toContain('radios')
    expect(w.find('[data-test=channel-letter]').exists()).toBe(true)
    setLocale('en')
    await flushPromises()
    expect(texts(w)).toEqual(['In person', 'Phone', 'Letter'])
  })

  it('writes the tapped code to v-model and checks what v-model holds', async () => {
    const { w, value } = host(
      '<CodeRadios v-model="value" :codes="channels" test="channel" />',
      'phone',
    )
    await w.find('[data-test=channel-letter]').trigger('click')
    expect(value.value).toBe('letter')
    expect(checked(w)).toEqual(['来信'])
    value.value = 'in_person'
    await flushPromises()
    expect(checked(w)).toEqual(['来访'])
  })

  it('offers only the given codes, in their order', () => {
    const { w } = host(
      '<CodeRadios v-model="value" :codes="channels" :only="[\'letter\', \'in_person\']" test="next" />',
      'letter',
    )
    expect(texts(w)).toEqual(['来信', '来访'])
    expect(w.findAll('[data-test^=next-]').map((r) => r.attributes('data-test'))).toEqual([
      'next-letter',
      'next-in_person',
    ])
  })

  it("shows a form's own choices with the empty one first or last", async () => {
    const first = host(
      '<CodeRadios v-model="value" :options="[{ value: \'m1\', text: \'张三\' }, { value: \'m2\', text: \'李四\' }]" test="who" none="无" />',
      '',
    )
    expect(texts(first.w)).toEqual(['无', '张三', '李四'])
    expect(checked(first.w)).toEqual(['无'])
    expect(first.w.findAll('[data-test]').map((r) => r.attributes('data-test'))).toEqual([
      'who-m1',
      'who-m2',
    ])
    await first.w.find('[data-test=who-m2]').trigger('click')
    expect(first.value.value).toBe('m2')

    const last = host(
      '<CodeRadios v-model="value" :options="[{ value: \'m1\', text: \'张三\' }]" none="—" none-last />',
      'm1',
    )
    expect(texts(last.w)).toEqual(['张三', '—'])
    expect(last.w.find('[data-test]').exists()).toBe(false)
    await last.w.findAll('.van-radio')[1].trigger('click')
    expect(last.value.value).toBe('')
  })
})
