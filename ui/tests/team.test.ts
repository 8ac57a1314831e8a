import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import Leave from '../src/views/Leave.vue'
import TeamLeave from '../src/views/TeamLeave.vue'
import TeamLog from '../src/views/TeamLog.vue'
import type { LeaveRow } from '../src/bindings/LeaveRow'
import type { TeamPending } from '../src/bindings/TeamPending'
import { codes, fails, fakeApp, mountAt, signIn, toasts } from './forms.kit'
import { state } from '../src/store'

const row = (over: Partial<LeaveRow> = {}): LeaveRow => ({
  id: 'l1',
  cadre_name: '李明',
  stage: 'awaiting_endorsement',
  leave: {
    cadre_id: 'cadre-li-ming',
    type: 'personal',
    from: '2026-05-06',
    to: '2026-05-07',
    days: 2,
    reason: '母亲住院',
    requested_ts: '2026-05-04T09:00:00+08:00',
    approver_id: 'cadre-me',
    level: 'township',
    status: 'pending',
  },
  steps: [
    {
      step: 'requested',
      by_name: '李明',
      by_level: null,
      at: '2026-05-04T09:00:00+08:00',
      note: null,
    },
  ],
  return_blocked: { code: 'wrong_order', zh: '只有已批准的请假才能销假', en: 'only approved' },
  ...over,
})

const pending = (): TeamPending => ({
  leaves: [row()],
  logs: [
    {
      id: 'g1',
      author_name: '李明',
      log: {
        date: '2026-05-03',
        village_code: '530322101201',
        activities: ['household_visits'],
        summary: '走访张建国户',
      },
    },
  ],
})

function withCodes() {
  state.codes = {
    ...codes,
    leave_type: [{ code: 'personal', zh: '事假', en: 'Personal' }],
    approval_level: [{ code: 'township', zh: '乡镇', en: 'Township' }],
    work_activity: [{ code: 'household_visits', zh: '入户走访', en: 'Visits' }],
  } as typeof codes
}

beforeEach(() => {
  signIn('first_secretary')
  withCodes()
})
afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

describe('队长同意 on the phone', () => {
  it('endorses the request it opened, with feedback naming the next level', async () => {
    const app = fakeApp({ team_pending: pending, endorse_leave: () => null })
    const { wrapper } = await mountAt(TeamLeave, '/team/leave/:id', '/team/leave/l1')
    expect(wrapper.text()).toContain('李明的请假')
    expect(wrapper.text()).toContain('待队长同意')
    expect(wrapper.text()).not.toContain('cadre-li-ming')
    await wrapper.find('[data-test=endorse]').trigger('click')
    await flushPromises()
    expect(app.of('endorse_leave')).toEqual([{ id: 'l1', accept: true, reason: null }])
    expect(toasts()).toContain('交乡镇审批')
  })

  it('sends back only with a reason it did not pre-fill', async () => {
    const app = fakeApp({ team_pending: pending, endorse_leave: () => null })
    const { wrapper } = await mountAt(TeamLeave, '/team/leave/:id', '/team/leave/l1')
    await wrapper.find('[data-test=send-back]').trigger('click')
    const reason = wrapper.find('[data-test=send-back-reason] textarea')
    expect((reason.element as HTMLTextAreaElement).value).toBe('')
    await wrapper.find('[data-test=send-back-confirm]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('退回时请写明理由')
    expect(app.of('endorse_leave')).toHaveLength(0)
    await reason.setValue('  汛期值班,请改期 ')
    await wrapper.find('[data-test=send-back-confirm]').trigger('click')
    await flushPromises()
    expect(app.of('endorse_leave')).toEqual([
      { id: 'l1', accept: false, reason: '汛期值班,请改期' },
    ])
  })

  it('says the core’s refusal and why', async () => {
    fakeApp({
      team_pending: pending,
      endorse_leave: fails('wrong_order', '这条请假已经签署过“队长同意”'),
    })
    const { wrapper } = await mountAt(TeamLeave, '/team/leave/:id', '/team/leave/l1')
    await wrapper.find('[data-test=endorse]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('已经签署过')
  })

  it('says when the item is gone', async () => {
    fakeApp({ team_pending: () => ({ leaves: [], logs: [] }) })
    const { wrapper } = await mountAt(TeamLeave, '/team/leave/:id', '/team/leave/l1')
    expect(wrapper.find('[data-test=team-gone]').exists()).toBe(true)
  })

  it('comments on a team member’s log, never empty', async () => {
    const app = fakeApp({ team_pending: pending, comment_log: () => null })
    const { wrapper } = await mountAt(TeamLog, '/team/log/:id', '/team/log/g1')
    expect(wrapper.text()).toContain('入户走访')
    await wrapper.find('[data-test=log-comment-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请写下点评内容')
    await wrapper.find('[data-test=log-comment] textarea').setValue('记录详实')
    await wrapper.find('[data-test=log-comment-save]').trigger('click')
    await flushPromises()
    expect(app.of('comment_log')).toEqual([{ id: 'g1', comment: '记录详实' }])
  })
})

describe('the leave form and where my requests stand', () => {
  it('pre-fills nothing, asks for the type, and says R3 at entry', async () => {
    signIn('team_member')
    state.codes = {
      ...codes,
      leave_type: [{ code: 'personal', zh: '事假', en: 'Personal' }],
      leave_status: [],
      approval_level: [{ code: 'township', zh: '乡镇', en: 'Township' }],
    } as typeof codes
    const late = { code: 'leave_late', zh: '请假应在开始之前申请,这条晚了1天', en: 'late' }
    const app = fakeApp({
      my_leaves: () => [row()],
      leave_notice: () => late,
      request_leave: () => 'l2',
    })
    const { wrapper } = await mountAt(Leave, '/leave', '/leave')
    expect(wrapper.find('[data-test=leave-type-personal] .van-radio__icon--checked').exists()).toBe(
      false,
    )
    expect((wrapper.find('[data-test=leave-from] input').element as HTMLInputElement).value).toBe(
      '',
    )
    // Pending: no 销假 button, and why.
    expect(wrapper.find('[data-test=leave-return]').exists()).toBe(false)
    expect(wrapper.find('[data-test=leave-no-return]').text()).toContain('只有已批准的请假才能销假')
    await wrapper.find('[data-test=leave-reason] textarea').setValue('陪护')
    await wrapper.find('[data-test=leave-submit]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请选择请假类型')
    expect(app.of('request_leave')).toHaveLength(0)
    await wrapper.find('[data-test=leave-type-personal]').trigger('click')
    await wrapper.find('[data-test=leave-from] input').setValue('2026-05-01')
    await wrapper.find('[data-test=leave-to] input').setValue('2026-05-01')
    await flushPromises()
    expect(wrapper.find('[data-test=leave-late]').text()).toContain('晚了1天')
    await wrapper.find('[data-test=leave-submit]').trigger('click')
    await flushPromises()
    expect(app.of('request_leave')[0].input).toMatchObject({
      leave_type: 'personal',
      from: '2026-05-01',
      to: '2026-05-01',
      reason: '陪护',
    })
  })

  it('offers 销假 on approved leave and shows who acted, by name or level', async () => {
    signIn('team_member')
    withCodes()
    const approved = row({
      stage: 'approved',
      return_blocked: null,
      steps: [
        ...row().steps,
        { step: 'endorsed', by_name: '王志刚', by_level: null, at: null, note: null },
        {
          step: 'approved',
          by_name: null,
          by_level: 'township',
          at: '2026-05-05T10:00:00+08:00',
          note: null,
        },
      ],
    })
    const app = fakeApp({ my_leaves: () => [approved], return_from_leave: () => null })
    const { wrapper } = await mountAt(Leave, '/leave', '/leave')
    const steps = wrapper.findAll('[data-test=leave-step]').map((s) => s.text())
    expect(steps[1]).toContain('王志刚 队长同意')
    expect(steps[2]).toContain('乡镇 批准')
    await wrapper.find('[data-test=leave-return]').trigger('click')
    await flushPromises()
    expect(app.of('return_from_leave')).toEqual([{ id: 'l1' }])
    expect(toasts()).toContain('已销假')
  })
})
