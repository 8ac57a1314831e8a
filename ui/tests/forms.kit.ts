// What the form tests share: an in-memory stand-in for the Tauri commands (recording every
// call, keeping drafts), the code lists the forms show, and mounting a view at a route with
// Vant, i18n and a router, as the app does.
import { afterAll, afterEach } from 'vitest'
import { type VueWrapper, flushPromises, mount } from '@vue/test-utils'
import Vant from 'vant'
import { RouterView, createMemoryHistory, createRouter } from 'vue-router'
import type { Component } from 'vue'
import { setInvoker } from '../src/api'
import type { CodeLists } from '../src/bindings/CodeLists'
import type { CodeOption } from '../src/bindings/CodeOption'
import type { RecordRights } from '../src/bindings/RecordRights'
import { i18n } from '../src/i18n'
import { state } from '../src/store'

// Each test's views are unmounted after it; Vant measures some elements up to 300 ms after
// mounting, so each file waits that long before the DOM is torn down.
const mounted: VueWrapper[] = []
afterEach(() => {
  while (mounted.length) mounted.pop()!.unmount()
})
afterAll(() => new Promise((resolve) => setTimeout(resolve, 400)))

// The commands' arguments as the UI sends them; each fake reads the ones it knows.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a stand-in for every command's own argument type
export type Args = Record<string, any>
export interface Call {
  cmd: string
  args: Args
}

/** Answers commands from `handlers`; drafts live in a map, as on the device. */
export function fakeApp(
  handlers: Record<string, (args: Args) => unknown>,
  drafts = new Map<string, string>(),
) {
  const calls: Call[] = []
  setInvoker(async (cmd, raw) => {
    const args = (raw ?? {}) as Args
    calls.push({ cmd, args })
    if (cmd === 'draft') return drafts.get(args.form) ?? null
    if (cmd === 'save_draft') return void drafts.set(args.form, args.json)
    if (cmd === 'discard_draft') return void drafts.delete(args.form)
    const h = handlers[cmd]
    if (!h) throw { code: 'unknown_command', message: `no fake for ${cmd}` }
    return h(args)
  })
  return {
    calls,
    drafts,
    of: (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
  }
}

/** A command that fails the way the core does. */
export function fails(code: string, message: string) {
  return () => {
    throw { code, message }
  }
}

export const rights = (r: Partial<RecordRights> = {}): RecordRights => ({
  petition: false,
  status_change: false,
  project: false,
  inspection: false,
  survey: false,
  ...r,
})

const opts = (...codes: [string, string][]): CodeOption[] =>
  codes.map(([code, zh]) => ({ code, zh, en: code }))

/** The code lists the new forms use (labels as the core gives them). */
export const codes = {
  petition_channel: opts(['in_person', '来访'], ['phone', '来电']),
  petition_source: opts(['public_complaint', '群众反映'], ['inspection', '督查发现']),
  petition_domain: opts(['identification', '精准识别'], ['housing_renovation', '危房改造']),
  subject_level: opts(['village_cadre', '行政村干部']),
  petition_status: opts(
    ['accepted', '受理'],
    ['in_progress', '办理中'],
    ['closed', '办结'],
    ['not_accepted', '不予受理'],
  ),
  return_visit_result: opts(
    ['satisfied', '满意'],
    ['fairly_satisfied', '基本满意'],
    ['dissatisfied', '不满意'],
  ),
  status_change_type: opts(
    ['new_inclusion', '新识别纳入'],
    ['marked_exit', '标注脱贫'],
    ['member_change', '成员自然增减'],
  ),
  status_change_step: opts(
    ['application', '申请/村初选'],
    ['democratic_review', '村民代表大会民主评议'],
    ['verification', '村两委+工作队核实'],
    ['household_consent', '农户认可签字'],
    ['publicity', '村内公示'],
  ),
  step_outcome: opts(['passed', '通过'], ['failed', '未通过'], ['returned', '退回补正']),
  status_change_result: opts(['approved', '批准'], ['withdrawn', '撤回']),
  project_category: opts(['industry', '产业'], ['infrastructure', '水电路基础设施']),
  inspection_level: opts(['township', '乡镇'], ['county', '县']),
  inspection_method: opts(['field_visit', '实地暗访'], ['phone_check', '电话抽查']),
  on_post: opts(['on_post', '在岗'], ['on_leave', '请假在册'], ['absent', '无故不在岗']),
  satisfaction: opts(['satisfied', '满意'], ['dissatisfied', '不满意'], ['cannot_say', '说不清']),
  survey_source: opts(['pairing_cadre_visit', '帮扶干部走访'], ['township_check', '乡镇核查']),
  feedback_category: opts(
    ['complaint', '投诉'],
    ['suggestion', '建议'],
    ['app_problem', '系统问题'],
  ),
  feedback_status: opts(['submitted', '待答复'], ['answered', '已答复']),
} as unknown as CodeLists

/** Signs in `role` for the screens that read it, with the code lists loaded. */
export function signIn(role: string) {
  state.me = { login: 'me', cadre_id: 'cadre-me', role, server_url: 'http://x', last_sync: null }
  state.codes = codes
}

/** Mounts the app's router view at `path`, with `component` on the route `pattern`. */
export async function mountAt(component: Component, pattern: string, path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: pattern, component },
      { path: '/:rest(.*)*', component: { render: () => null } },
    ],
  })
  await router.push(path)
  await router.isReady()
  const wrapper = mount(RouterView, {
    global: { plugins: [Vant, i18n, router] },
    attachTo: document.body,
  })
  mounted.push(wrapper)
  await flushPromises()
  return { wrapper, router }
}

/** The text of the toasts on screen. */
export function toasts(): string {
  return Array.from(document.querySelectorAll('.van-toast'))
    .map((e) => e.textContent ?? '')
    .join(' | ')
}
