import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import Feedback from '../src/views/Feedback.vue'
import type { FeedbackItem } from '../src/bindings/FeedbackItem'
import { fakeApp, mountAt, signIn, toasts } from './forms.kit'

beforeEach(() => signIn('team_member'))
afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

const answered: FeedbackItem = {
  id: 'f1',
  category_label: '投诉',
  status_label: '已答复',
  sent: true,
  feedback: {
    category: 'complaint',
    subject: '请假审批太慢',
    text: '乡镇审批请假要等三四天',
    about: null,
    county_code: '530322',
    author_id: 'cadre-me',
    submitted_ts: '2016-05-10T09:30:00+08:00',
    status: 'answered',
    answer: { by: 'county-office', ts: '2016-05-12T10:00:00+08:00', text: '已责成乡镇两日内办结' },
  },
}

describe('投诉建议 on the phone', () => {
  it('asks for a category and the text before saving, then saves what was written', async () => {
    const app = fakeApp({ submit_feedback: () => 'f2', my_feedback: () => [] })
    const { wrapper } = await mountAt(Feedback, '/feedback', '/feedback')
    await flushPromises()
    // Nothing chosen for the user.
    expect(wrapper.findAll('.van-radio__icon--checked')).toHaveLength(0)
    await wrapper.find('[data-test=feedback-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请选择类别')
    await wrapper.find('[data-test=feedback-category-suggestion]').trigger('click')
    await wrapper.find('[data-test=feedback-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请填写内容')
    expect(app.of('submit_feedback')).toHaveLength(0)
    await wrapper.find('[data-test=feedback-text] textarea').setValue('  台账能否批量签字 ')
    await wrapper.find('[data-test=feedback-save]').trigger('click')
    await flushPromises()
    const [{ input }] = app.of('submit_feedback')
    expect(input).toEqual({
      category: 'suggestion',
      subject: '',
      text: '台账能否批量签字',
      about: null,
    })
    expect(toasts()).toContain('已保存在本机')
    expect(app.of('discard_draft')).toEqual([{ form: 'feedback' }])
    expect(app.of('my_feedback').length).toBeGreaterThanOrEqual(2)
  })

  it('lists its own feedback with the answer once synced, and what is not sent yet', async () => {
    const unsent: FeedbackItem = {
      ...answered,
      id: 'f3',
      sent: false,
      status_label: '待答复',
      feedback: { ...answered.feedback, status: 'submitted', answer: null },
    }
    fakeApp({ my_feedback: () => [unsent, answered] })
    const { wrapper } = await mountAt(Feedback, '/feedback', '/feedback')
    await flushPromises()
    expect(wrapper.find('[data-test=feedback-f3] [data-test=feedback-status]').text()).toBe(
      '未同步',
    )
    expect(wrapper.find('[data-test=feedback-f3] [data-test=feedback-answer]').exists()).toBe(false)
    expect(wrapper.find('[data-test=feedback-f1] [data-test=feedback-status]').text()).toBe(
      '已答复',
    )
    expect(wrapper.find('[data-test=feedback-f1] [data-test=feedback-answer]').text()).toContain(
      '已责成乡镇两日内办结',
    )
  })
})
