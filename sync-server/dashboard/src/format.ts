// How figures read: rates as percentages, yes/no as 是/否, and Chinese names for the summary
// keys the reports return (unknown keys are shown as they are, so a new figure is never hidden).
import type { Column } from './api'
import { valueAt } from './charts'

export const SUMMARY_LABELS: Record<string, [string, string]> = {
  cadres: ['干部数', 'Cadres'],
  compliant: ['达标人数', 'Compliant'],
  compliance_rate: ['达标率', 'Compliance rate'],
  due_to_county_org: ['报组织部截止日', 'Due to org. dept.'],
  registered: ['建档立卡户数', 'Registered households'],
  not_visited: ['超期未走访户数', 'Not visited'],
  never_visited: ['从未走访户数', 'Never visited'],
  covered: ['已走访户数', 'Covered'],
  coverage: ['走访覆盖率', 'Coverage'],
  unit_rate: ['单位履职率', 'Unit rate'],
  overdue: ['超期户数', 'Overdue'],
  assignments: ['帮扶关系数', 'Assignments'],
  households: ['户数', 'Households'],
  due: ['应兑现', 'Due'],
  delivered: ['已兑现', 'Delivered'],
  gap: ['缺口', 'Gap'],
  due_amount: ['应兑现金额(元)', 'Due amount (yuan)'],
  delivered_amount: ['已兑现金额(元)', 'Delivered amount (yuan)'],
  gap_amount: ['缺口金额(元)', 'Gap amount (yuan)'],
  unverified: ['未经农户确认', 'Unverified'],
  mean_delay_days: ['平均延迟(天)', 'Mean delay (days)'],
  surveyed: ['受访户数', 'Surveyed'],
  satisfied: ['满意', 'Satisfied'],
  basically_satisfied: ['基本满意', 'Basically satisfied'],
  rate: ['满意率', 'Rate'],
  strict: ['满意（严格口径）', 'Strict rate'],
  sample: ['抽样率', 'Sample'],
  received: ['受理件数', 'Received'],
  closed: ['办结件数', 'Closed'],
  closure_rate: ['办结率', 'Closure rate'],
  overdue_open: ['超期未办结', 'Overdue open'],
  satisfaction: ['回访满意率', 'Satisfaction'],
  with_return_visit: ['已回访', 'With return visit'],
  closed_without_timely_return_visit: ['办结未及时回访', 'Closed without timely return visit'],
  level_c_visits: ['C级走访', 'Level C visits'],
  anomalies: ['疑似代访异常', 'R9 anomalies'],
  remote_visits: ['电话/视频走访', 'Remote visits'],
  confirm_rate: ['暗访核实率', 'Confirm rate'],
  checked: ['暗访核查户数', 'Households checked'],
  confirmed: ['核实走访户数', 'Confirmed'],
}

export function isRateKey(key: string): boolean {
  const last = key.split('.').pop() ?? key
  return (
    last === 'rate' ||
    last.endsWith('_rate') ||
    last === 'coverage' ||
    last === 'strict' ||
    last === 'sample' ||
    last === 'satisfaction'
  )
}

export function percent(v: number): string {
  return (Math.round(v * 1000) / 10).toFixed(1) + '%'
}

export function showValue(v: unknown, kind: Column['show'] | 'auto', key = ''): string {
  if (v === null || v === undefined || v === '') return '—'
  if (kind === 'rate' || (kind === 'auto' && typeof v === 'number' && isRateKey(key))) {
    return typeof v === 'number' ? percent(v) : String(v)
  }
  if (kind === 'yes_no' || typeof v === 'boolean')
    return v === true ? '是' : v === false ? '否' : String(v)
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('zh-CN') : v.toFixed(2)
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** The summary's scalar figures, flattened one level (`counts.received`). */
export function summaryFigures(
  summary: Record<string, unknown>,
): { key: string; value: unknown }[] {
  const out: { key: string; value: unknown }[] = []
  for (const [k, v] of Object.entries(summary ?? {})) {
    if (Array.isArray(v)) continue
    if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        if (!Array.isArray(v2) && (v2 === null || typeof v2 !== 'object'))
          out.push({ key: `${k}.${k2}`, value: v2 })
      }
    } else {
      out.push({ key: k, value: v })
    }
  }
  return out
}

export function label(key: string, locale: string): string {
  const last = key.split('.').pop() ?? key
  const l = SUMMARY_LABELS[last]
  return l ? (locale === 'en' ? l[1] : l[0]) : key
}

export function cell(row: Record<string, unknown>, col: Column): string {
  return showValue(valueAt(row, col.key), col.show, col.key)
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A cell that names a record the server can open (households, visits…). */
export function recordLink(row: Record<string, unknown>, col: Column): string | null {
  const v = valueAt(row, col.key)
  return typeof v === 'string' && col.key.endsWith('_id') && UUID.test(v) ? v : null
}

/** An RFC 3339 time as people read it, in Beijing time: `2026-12-07 10:24`. */
export function formatTime(ts: string): string {
  const d = new Date(ts)
  if (Number.isNaN(d.getTime())) return ts
  const local = new Date(d.getTime() + 8 * 3600 * 1000)
  return local.toISOString().slice(0, 16).replace('T', ' ')
}
