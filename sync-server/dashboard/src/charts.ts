// Chart options for a report, derived from its rows and summary. Deliberately no chart ranks
// individual cadres (DOMAIN §3 bars rankings): per-cadre reports are shown as distributions
// or totals; per-village figures are shown in division-code order, not sorted by score.
import type { EChartsCoreOption } from 'echarts/core'
import type { Column, ReportDocument } from './api'

export interface ChartSpec {
  id: string
  title: string
  option: EChartsCoreOption
}

interface GroupCount {
  key: string
  label: string
  total: number
  count: number
  rate: number | null
}

function isGroupCounts(v: unknown): v is GroupCount[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((g) => g && typeof g === 'object' && 'label' in g && 'count' in g)
  )
}

export function valueAt(row: Record<string, unknown>, key: string): unknown {
  let v: unknown = row
  for (const part of key.split('.')) {
    if (v && typeof v === 'object') v = (v as Record<string, unknown>)[part]
    else return undefined
  }
  return v
}

function bar(
  title: string,
  labels: string[],
  values: (number | null)[],
  percent = false,
  mark?: number,
): EChartsCoreOption {
  return {
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 48, right: 16, bottom: 64, top: 40 },
    xAxis: {
      type: 'category',
      data: labels,
      axisLabel: { rotate: labels.length > 6 ? 30 : 0, interval: 0 },
    },
    yAxis: percent
      ? { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } }
      : { type: 'value' },
    series: [
      {
        type: 'bar',
        data: values.map((v) => (v === null ? null : percent ? Math.round(v * 1000) / 10 : v)),
        itemStyle: { color: '#1989fa' },
        markLine:
          mark === undefined
            ? undefined
            : { symbol: 'none', data: [{ yAxis: mark }], lineStyle: { color: '#ee0a24' } },
      },
    ],
  }
}

const GROUP_TITLES: Record<string, string> = {
  by_domain: '按诉求领域',
  by_channel: '按渠道',
  by_type: '按类型',
  by_step: '按环节',
  by_unit: '按派出单位',
  by_level: '按干部层级',
  by_village: '按村',
  by_source: '按测评来源',
}

export function chartsFor(doc: ReportDocument, columns: Column[]): ChartSpec[] {
  const charts: ChartSpec[] = []
  // Breakdowns the server computed (petitions by domain and channel, coverage by unit…).
  for (const [key, value] of Object.entries(doc.summary ?? {})) {
    if (isGroupCounts(value)) {
      const title = GROUP_TITLES[key] ?? key
      const hasRate =
        value.some((g) => g.rate !== null && g.rate !== undefined) &&
        !value.every((g) => g.total === g.count)
      charts.push({
        id: key,
        title,
        option: hasRate
          ? bar(
              title,
              value.map((g) => g.label),
              value.map((g) => g.rate),
              true,
            )
          : bar(
              title,
              value.map((g) => g.label),
              value.map((g) => g.count),
            ),
      })
    }
  }
  const rows = doc.rows ?? []
  if (rows.length === 0) return charts
  const perCadre = 'cadre_id' in rows[0]
  if (doc.report === 'attendance') {
    // The distribution of in-village days, against the required 20 (R1): no names.
    const buckets = ['0–7', '8–15', '16–19', '20–25', '26+']
    const counts = [0, 0, 0, 0, 0]
    for (const r of rows) {
      const d = Number(r.in_village_days ?? 0)
      counts[d <= 7 ? 0 : d <= 15 ? 1 : d <= 19 ? 2 : d <= 25 ? 3 : 4]++
    }
    charts.push({
      id: 'in-village-days',
      title: '在村天数分布（人数）',
      option: bar('在村天数分布（人数）', buckets, counts),
    })
    return charts
  }
  if ('household_id' in rows[0] && 'days' in rows[0]) {
    // Households not visited: how long, in bands (never visited counts on its own).
    const bands = ['≤60', '61–90', '91–180', '>180', '从未走访']
    const counts = [0, 0, 0, 0, 0]
    for (const r of rows) {
      const d = r.days
      counts[typeof d !== 'number' ? 4 : d <= 60 ? 0 : d <= 90 ? 1 : d <= 180 ? 2 : 3]++
    }
    charts.push({
      id: 'days',
      title: '未走访天数分布（户数）',
      option: bar('未走访天数分布（户数）', bands, counts),
    })
    return charts
  }
  const perHousehold = 'household_id' in rows[0]
  if (!perCadre && !perHousehold && 'village_code' in rows[0]) {
    const rate = columns.find((c) => c.show === 'rate')
    const number = columns.find((c) => c.show === 'number')
    const col = rate ?? number
    if (col) {
      const sorted = [...rows].sort((a, b) =>
        String(a.village_code).localeCompare(String(b.village_code)),
      )
      const labels = sorted.map((r) => String(r.village_name ?? r.village_code))
      const values = sorted.map((r) => {
        const v = valueAt(r, col.key)
        return typeof v === 'number' ? v : null
      })
      const title = col.title + '（按村）'
      const mark = doc.report === 'satisfaction' ? 90 : undefined
      charts.push({
        id: 'by-village',
        title,
        option: bar(title, labels.slice(0, 60), values.slice(0, 60), col.show === 'rate', mark),
      })
    }
    return charts
  }
  // Per-cadre or per-household rows: totals of each count column.
  const numbers = columns.filter((c) => c.show === 'number').slice(0, 8)
  if (numbers.length > 0) {
    const totals = numbers.map((c) =>
      rows.reduce((s, r) => s + (Number(valueAt(r, c.key)) || 0), 0),
    )
    charts.push({
      id: 'totals',
      title: '合计',
      option: bar(
        '合计',
        numbers.map((c) => c.title),
        totals,
      ),
    })
  }
  return charts
}
