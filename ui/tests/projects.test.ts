import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import Projects from '../src/views/Projects.vue'
import type { ProjectItem } from '../src/bindings/ProjectItem'
import { fails, fakeApp, mountAt, rights, signIn, toasts } from './forms.kit'

beforeEach(() => signIn('first_secretary'))
afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

const water: ProjectItem = {
  id: 'pr1',
  project: {
    name: '人畜饮水管网延伸工程',
    category: 'infrastructure',
    village_code: '530322101201',
    beneficiaries: { households: 23, persons: 87 },
    funding: {
      fiscal_special: '180000.00',
      integrated: '60000.00',
      sending_unit: '20000.00',
      self_raised: '0.00',
    },
    performance_target: '解决23户饮水安全',
    benefit_link: null,
    planned_start: '2016-03-01',
    planned_end: '2016-06-30',
    progress: [{ date: '2016-04-15', percent: 40, disbursed: '80000.00', photo_sha256: null }],
    publicity: null,
  },
}

describe('projects', () => {
  it('creates a project with its funding, blanks as zero', async () => {
    const app = fakeApp({
      record_rights: () => rights({ project: true }),
      projects: () => [],
      create_project: () => 'pr2',
    })
    const { wrapper } = await mountAt(Projects, '/projects', '/projects')
    await wrapper.find('[data-test=new-project]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=project-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('请填写项目名称')
    await wrapper.find('[data-test=project-name] input').setValue('核桃种植基地')
    await wrapper.find('[data-test=category-industry]').trigger('click')
    await wrapper.find('[data-test=fund-fiscal] input').setValue('150000')
    await wrapper.find('[data-test=project-households] input').setValue('30')
    await wrapper.find('[data-test=project-target] textarea').setValue('带动30户增收')
    await wrapper.find('[data-test=project-save]').trigger('click')
    await flushPromises()
    const [{ project }] = app.of('create_project')
    expect(project).toMatchObject({
      name: '核桃种植基地',
      category: 'industry',
      beneficiaries: { households: 30, persons: null },
      funding: { fiscal_special: '150000', integrated: '0', sending_unit: '0', self_raised: '0' },
      performance_target: '带动30户增收',
      progress: [],
    })
    expect(toasts()).toContain('项目已保存')
  })

  it('reports progress and shows the core’s refusal', async () => {
    let refuse = true
    const app = fakeApp({
      record_rights: () => rights({ project: true }),
      projects: () => [water],
      report_project_progress: (a) =>
        refuse
          ? fails('invalid_record', '「第2次进度完成比例」与其他内容矛盾:progress is cumulative')()
          : a,
    })
    const { wrapper } = await mountAt(Projects, '/projects', '/projects')
    expect(wrapper.text()).toContain('进度 40% · 已拨付 80000.00 元')
    await wrapper.find('[data-test=report]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test=progress-percent] input').setValue('30')
    await wrapper.find('[data-test=progress-disbursed] input').setValue('90000')
    await wrapper.find('[data-test=progress-save]').trigger('click')
    await flushPromises()
    expect(toasts()).toContain('「第2次进度完成比例」与其他内容矛盾')
    refuse = false
    await wrapper.find('[data-test=progress-percent] input').setValue('70')
    await wrapper.find('[data-test=progress-save]').trigger('click')
    await flushPromises()
    const calls = app.of('report_project_progress')
    expect(calls[1]).toMatchObject({
      id: 'pr1',
      progress: { percent: 70, disbursed: '90000', photo_sha256: null },
    })
    expect(toasts()).toContain('进度已保存')
  })

  it('only lists projects for a team member', async () => {
    signIn('team_member')
    fakeApp({ record_rights: () => rights({ petition: true }), projects: () => [water] })
    const { wrapper } = await mountAt(Projects, '/projects', '/projects')
    expect(wrapper.findAll('[data-test=project-item]')).toHaveLength(1)
    expect(wrapper.find('[data-test=new-project]').exists()).toBe(false)
    expect(wrapper.find('[data-test=report]').exists()).toBe(false)
  })
})
