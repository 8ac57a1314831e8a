import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import PetitionForm from '../src/views/PetitionForm.vue'
import Petitions from '../src/views/Petitions.vue'
import type { PetitionItem } from '../src/bindings/PetitionItem'
import { fails, fakeApp, mountAt, rights, signIn, toasts } from './forms.kit'

beforeEach(() => signIn('team_member'))
afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

describe('petition intake', () => {
  it('submits the petition of the household it was opened from', async () => {
    const app = fakeApp({ record_petition: () => 'p1' })
    const { wrapper, router } = await mountAt(
      PetitionForm,
      '/petition/new',
      '/petition/new?household=hh1',
    )
    await wrapper.find('[data-test=channel-phone]').trigger('click')
    await wrapper.find('[data-test=domain-housing_renovation]').trigger('click')
    await wrapper.find('[data-test=petition-summary] textarea').setValue('  危房改造补助尚无答复 ')
    await wrapper.find('[data-test=petition-save]').trigger('click')
    await flushPromises()
    const [{ input }] = app.of('record_petition')
    expect(input).toMatchObject({
      household_id: 'hh1',
      channel: 'phone',
      source: 'public_complaint',
      domain: 'housing_renovation',
      subject_level: null,
      summary: '危房改造补助尚无答复',
      due_date: null,
    })
    expect(input.received_date).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(toasts()).toContain('诉求已受理')
    expect(router.currentRoute.value.fullPath).toBe('/petitions?household=hh1')
    expect(app.of('discard_draft')).toEqual([{ form: 'petition:hh1' }])
  })

  it('asks for the summary before calling the core, and shows the core’s message', async () => {
    const app = fakeApp({ record_petition: fails('no_team', '匿名诉求记在你驻村的村:请先同步') })
    const { wrapper, router } = await mountAt(PetitionForm, '/petition/new', '/petition/new')
    await wrapper.find('[data-test=petition-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请填写诉求内容')
    expect(app.of('record_petition')).toHaveLength(0)
    await wrapper.find('[data-test=petition-summary] textarea').setValue('村道塌方')
    await wrapper.find('[data-test=petition-save]').trigger('click')
    await flushPromises()
    expect(app.of('record_petition')[0].input.household_id).toBeNull()
    expect(toasts()).toContain('匿名诉求记在你驻村的村')
    expect(router.currentRoute.value.path).toBe('/petition/new')
  })

  it('comes back with what was typed after the app was closed', async () => {
    const drafts = new Map([
      ['petition:hh1', JSON.stringify({ summary: '饮水管破裂', channel: 'phone' })],
    ])
    fakeApp({}, drafts)
    const { wrapper } = await mountAt(PetitionForm, '/petition/new', '/petition/new?household=hh1')
    expect(
      (wrapper.find('[data-test=petition-summary] textarea').element as HTMLTextAreaElement).value,
    ).toBe('饮水管破裂')
  })
})

const accepted: PetitionItem = {
  id: 'p1',
  overdue: true,
  petition: {
    received_date: '2015-10-09',
    channel: 'in_person',
    source: 'public_complaint',
    household_id: 'hh1',
    village_code: '530322101201',
    domain: 'housing_renovation',
    subject_level: null,
    summary: '危房改造补助尚无答复',
    handler_id: 'cadre-me',
    due_date: '2015-12-08',
    status: 'accepted',
    resolution: null,
    closed_date: null,
    return_visit: null,
  },
}

describe('petition handling', () => {
  it('closes a petition with its resolution', async () => {
    const app = fakeApp({
      record_rights: () => rights({ petition: true }),
      petitions: () => [accepted],
      advance_petition: () => null,
    })
    const { wrapper } = await mountAt(Petitions, '/petitions', '/petitions?household=hh1')
    expect(app.of('petitions')).toEqual([{ household: 'hh1' }])
    expect(wrapper.find('[data-test=overdue]').exists()).toBe(true)
    await wrapper.find('[data-test=handle]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=step-close]').trigger('click')
    await wrapper.find('[data-test=step-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请填写办理结果')
    expect(app.of('advance_petition')).toHaveLength(0)
    await wrapper.find('[data-test=step-text] textarea').setValue('已列入改造计划')
    await wrapper.find('[data-test=step-save]').trigger('click')
    await flushPromises()
    const [call] = app.of('advance_petition')
    expect(call.id).toBe('p1')
    expect(call.step).toMatchObject({ step: 'close', resolution: '已列入改造计划' })
    expect(toasts()).toContain('已保存:办结')
  })

  it('shows the core’s Chinese message when a step is refused', async () => {
    fakeApp({
      record_rights: () => rights({ petition: true }),
      petitions: () => [accepted],
      advance_petition: fails(
        'invalid_record',
        '「办结日期」超出范围或日期先后不对:a petition is closed after it is received',
      ),
    })
    const { wrapper } = await mountAt(Petitions, '/petitions', '/petitions')
    await wrapper.find('[data-test=handle]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=step-close]').trigger('click')
    await wrapper.find('[data-test=step-text] textarea').setValue('已答复')
    await wrapper.find('[data-test=step-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('「办结日期」超出范围')
  })

  it('offers no handling to a role that may not write petitions', async () => {
    fakeApp({ record_rights: () => rights({ survey: true }), petitions: () => [accepted] })
    const { wrapper } = await mountAt(Petitions, '/petitions', '/petitions')
    expect(wrapper.findAll('[data-test=petition-item]')).toHaveLength(1)
    expect(wrapper.find('[data-test=handle]').exists()).toBe(false)
    expect(wrapper.find('[data-test=new-petition]').exists()).toBe(false)
  })
})
