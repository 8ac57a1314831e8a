import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import Inspection from '../src/views/Inspection.vue'
import Survey from '../src/views/Survey.vue'
import { fails, fakeApp, mountAt, signIn, toasts } from './forms.kit'

afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

const village = { id: '530322101201', name: '上村村' }

describe('inspection', () => {
  const world = () => ({
    villages: () => [village],
    my_inspections: () => [],
    village_cadres: (a: Record<string, unknown>) =>
      a.village === village.id ? [{ id: 'cadre-li-ming', name: '李明' }] : [],
    village_households: () => [{ id: 'hh1', name: '张建国' }],
    record_inspection: () => 'i1',
  })

  it('records the village, the absent cadre and the households asked', async () => {
    signIn('township')
    const app = fakeApp(world())
    const { wrapper } = await mountAt(Inspection, '/inspection', '/inspection')
    await wrapper.find('[data-test=inspection-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请选择被督查村')
    await wrapper.find(`[data-test=village-${village.id}]`).trigger('click')
    await flushPromises()
    expect(app.of('village_cadres')).toEqual([{ village: village.id }])
    await wrapper.find('[data-test=onpost-absent]').trigger('click')
    await wrapper.find('[data-test=inspection-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('无故不在岗时请选择被检查干部')
    expect(app.of('record_inspection')).toHaveLength(0)
    await wrapper.find('[data-test=target-cadre-li-ming]').trigger('click')
    await wrapper.find('[data-test=check-hh1]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=findings] textarea').setValue('驻村队员当日不在岗')
    await wrapper.find('[data-test=inspection-save]').trigger('click')
    await flushPromises()
    const [{ inspection }] = app.of('record_inspection')
    expect(inspection).toMatchObject({
      level: 'township',
      method: 'field_visit',
      unannounced: true,
      village_code: village.id,
      target_cadre_id: 'cadre-li-ming',
      on_post: 'absent',
      findings: '驻村队员当日不在岗',
      deadline: null,
      households_checked: [
        {
          household_id: 'hh1',
          knows_cadre: true,
          claimed_visit_confirmed: true,
          satisfaction: null,
        },
      ],
    })
    expect(toasts()).toContain('督查记录已保存')
  })

  it('shows the core’s message for a deadline without findings', async () => {
    signIn('county_org')
    fakeApp({
      ...world(),
      record_inspection: fails(
        'invalid_record',
        '「整改期限」与其他内容矛盾:there is nothing to rectify without findings',
      ),
    })
    const { wrapper } = await mountAt(Inspection, '/inspection', '/inspection')
    await wrapper.find(`[data-test=village-${village.id}]`).trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=deadline] input').setValue('2016-06-15')
    await wrapper.find('[data-test=inspection-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('「整改期限」与其他内容矛盾')
  })
})

describe('satisfaction survey', () => {
  const world = () => ({
    household_members: () => [
      { id: 'm1', name: '张建国' },
      { id: 'm2', name: '李秀英' },
    ],
    surveys: () => [],
    record_survey: () => 's1',
  })

  it('records the answer of the member who answered, for a quarter', async () => {
    signIn('pairing_cadre')
    const app = fakeApp(world())
    const { wrapper } = await mountAt(Survey, '/survey/:household', '/survey/hh1')
    await wrapper.find('[data-test=survey-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请选择受访成员')
    await wrapper.find('[data-test=respondent-m2]').trigger('click')
    await wrapper.find('[data-test=survey-year] input').setValue('2016')
    await wrapper.find('[data-test=quarter-Q3]').trigger('click')
    await wrapper.find('[data-test=result-dissatisfied]').trigger('click')
    await wrapper.find('[data-test=survey-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('不满意时请写明原因')
    expect(app.of('record_survey')).toHaveLength(0)
    await wrapper.find('[data-test=survey-reasons] textarea').setValue('产业补助未到位')
    await wrapper.find('[data-test=survey-save]').trigger('click')
    await flushPromises()
    expect(app.of('record_survey')[0].survey).toEqual({
      household_id: 'hh1',
      period: '2016-Q3',
      surveyor_id: 'cadre-me',
      source: 'pairing_cadre_visit',
      respondent_member_id: 'm2',
      result: 'dissatisfied',
      reasons: '产业补助未到位',
    })
    expect(toasts()).toContain('测评已保存')
  })

  it('shows the core’s message when the period is refused', async () => {
    signIn('township')
    fakeApp({
      ...world(),
      record_survey: fails(
        'invalid_record',
        '「测评期」格式不对:a period is a year (2016) or a quarter (2016-Q3)',
      ),
    })
    const { wrapper } = await mountAt(Survey, '/survey/:household', '/survey/hh1')
    await wrapper.find('[data-test=respondent-m1]').trigger('click')
    await wrapper.find('[data-test=survey-year] input').setValue('16')
    await wrapper.find('[data-test=survey-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('「测评期」格式不对')
  })
})
