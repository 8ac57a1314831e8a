import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import StatusChange from '../src/views/StatusChange.vue'
import type { StatusChangeItem } from '../src/bindings/StatusChangeItem'
import { fails, fakeApp, mountAt, rights, signIn, toasts } from './forms.kit'

beforeEach(() => signIn('first_secretary'))
afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

const exitCase = (): StatusChangeItem => ({
  id: 'sc1',
  case: {
    household_id: 'hh1',
    type: 'marked_exit',
    reason: '人均纯收入超过扶贫标准',
    snapshot: {
      income_year: 2015,
      per_capita: '3120.00',
      food_clothing_ok: true,
      education_ok: true,
      medical_ok: true,
      housing_ok: true,
      water_ok: true,
    },
    steps: [
      {
        step: 'application',
        date: '2016-10-08',
        actor_id: 'cadre-me',
        outcome: 'passed',
        note: null,
        votes_for: null,
        votes_against: null,
        publicity: null,
      },
      {
        step: 'household_consent',
        date: '2016-10-15',
        actor_id: 'cadre-me',
        outcome: 'passed',
        note: null,
        votes_for: null,
        votes_against: null,
        publicity: null,
      },
    ],
    effective_date: null,
    result: null,
  },
  next_steps: ['household_consent', 'publicity'],
  blockers: ['publicity_missing'],
})

const page = (r = rights({ petition: true, status_change: true, project: true })) => ({
  record_rights: () => r,
  status_changes: () => [exitCase()],
  open_status_change: () => 'sc2',
  add_status_change_step: () => null,
  withdraw_status_change: () => null,
})

describe('status change', () => {
  it('opens a case with its type and reason', async () => {
    const app = fakeApp(page())
    const { wrapper } = await mountAt(
      StatusChange,
      '/status-change/:household',
      '/status-change/hh1',
    )
    expect(wrapper.find('[data-test=blockers]').text()).toContain('未经村内公示')
    await wrapper.find('[data-test=case-open]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请填写调整理由')
    expect(app.of('open_status_change')).toHaveLength(0)
    await wrapper.find('[data-test=type-new_inclusion]').trigger('click')
    await wrapper.find('[data-test=case-reason] textarea').setValue(' 因病致贫,人均收入低于标准 ')
    await wrapper.find('[data-test=case-open]').trigger('click')
    await flushPromises()
    expect(app.of('open_status_change')[0].input).toMatchObject({
      household_id: 'hh1',
      change_type: 'new_inclusion',
      reason: '因病致贫,人均收入低于标准',
      note: null,
    })
    expect(toasts()).toContain('已建立动态调整')
  })

  it('adds the public notice step with its period and objections', async () => {
    const app = fakeApp(page())
    const { wrapper } = await mountAt(
      StatusChange,
      '/status-change/:household',
      '/status-change/hh1',
    )
    await wrapper.find('[data-test=add-step]').trigger('click')
    await flushPromises()
    // Only the steps the core offers next.
    expect(wrapper.findAll('[data-test^=next-]').map((w) => w.attributes('data-test'))).toEqual([
      'next-household_consent',
      'next-publicity',
    ])
    await wrapper.find('[data-test=next-publicity]').trigger('click')
    await wrapper.find('[data-test=pub-start] input').setValue('2016-10-17')
    await wrapper.find('[data-test=pub-end] input').setValue('2016-10-23')
    await wrapper.find('[data-test=step-save]').trigger('click')
    await flushPromises()
    const [call] = app.of('add_status_change_step')
    expect(call.id).toBe('sc1')
    expect(call.input).toMatchObject({
      step: 'publicity',
      outcome: 'passed',
      votes_for: null,
      publicity: { start: '2016-10-17', end: '2016-10-23', objections: [] },
    })
    expect(toasts()).toContain('步骤已保存')
  })

  it('shows why the core refused a step', async () => {
    fakeApp({
      ...page(),
      add_status_change_step: fails(
        'invalid_record',
        '「第3步公示结束日期」超出范围或日期先后不对:the notice ends before it starts',
      ),
    })
    const { wrapper } = await mountAt(
      StatusChange,
      '/status-change/:household',
      '/status-change/hh1',
    )
    await wrapper.find('[data-test=add-step]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=next-publicity]').trigger('click')
    await wrapper.find('[data-test=step-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('「第3步公示结束日期」')
    expect(wrapper.find('[data-test=step-form]').exists()).toBe(true)
  })

  it('withdraws only with a reason', async () => {
    const app = fakeApp(page())
    const { wrapper } = await mountAt(
      StatusChange,
      '/status-change/:household',
      '/status-change/hh1',
    )
    await wrapper.find('[data-test=add-step]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=withdraw]').trigger('click')
    await flushPromises()
    expect(app.of('withdraw_status_change')).toHaveLength(0)
    await wrapper.find('[data-test=withdraw-reason] input').setValue('农户申请撤回')
    await wrapper.find('[data-test=withdraw]').trigger('click')
    await flushPromises()
    expect(app.of('withdraw_status_change')).toEqual([{ id: 'sc1', reason: '农户申请撤回' }])
  })

  it('settles an objection raised during the public notice', async () => {
    const noticed = exitCase()
    noticed.case.steps.push({
      step: 'publicity',
      date: '2016-10-17',
      actor_id: 'cadre-me',
      outcome: 'passed',
      note: null,
      votes_for: null,
      votes_against: null,
      publicity: {
        start: '2016-10-17',
        end: '2016-10-23',
        objections: [{ summary: '务工收入未如实登记', resolution: null }],
      },
    })
    const app = fakeApp({
      ...page(),
      status_changes: () => [noticed],
      resolve_objection: () => null,
    })
    const { wrapper } = await mountAt(
      StatusChange,
      '/status-change/:household',
      '/status-change/hh1',
    )
    await wrapper.find('[data-test=objection-resolve-0]').trigger('click')
    await flushPromises()
    expect(app.of('resolve_objection')).toHaveLength(0)
    await wrapper.find('[data-test=objection-answer-0] input').setValue('经核实已计入工资性收入')
    await wrapper.find('[data-test=objection-resolve-0]').trigger('click')
    await flushPromises()
    expect(app.of('resolve_objection')).toEqual([
      { id: 'sc1', objection: 0, text: '经核实已计入工资性收入' },
    ])
    expect(toasts()).toContain('异议已处理')
  })

  it('is read-only for a team member', async () => {
    signIn('team_member')
    fakeApp(page(rights({ petition: true })))
    const { wrapper } = await mountAt(
      StatusChange,
      '/status-change/:household',
      '/status-change/hh1',
    )
    expect(wrapper.findAll('[data-test=case]')).toHaveLength(1)
    expect(wrapper.find('[data-test=open-form]').exists()).toBe(false)
    expect(wrapper.find('[data-test=add-step]').exists()).toBe(false)
    expect(wrapper.text()).toContain('动态调整由第一书记发起')
  })
})
