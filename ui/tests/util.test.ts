import { describe, expect, it } from 'vitest'
import {
  calendarRows,
  clockOff,
  label,
  leaveForm,
  nowRfc3339,
  pinProblem,
  shortTime,
  statusColor,
} from '../src/util'
import type { MonthGrid } from '../src/bindings/MonthGrid'

const grid = (blanks: number, n: number): MonthGrid => ({
  cadre_id: 'c',
  leading_blanks: blanks,
  days: Array.from({ length: n }, (_, i) => ({
    day: i + 1,
    status: i === 0 ? 'in_village' : 'no_record',
  })),
  summary: {
    in_village_days: 1,
    official_days: 0,
    leave_days: 0,
    rest_days: 0,
    absent_days: 0,
    no_record_days: n - 1,
    assigned_days: n,
    required_days: 20,
    counted_days: 1,
    compliant: false,
  },
})

describe('calendarRows', () => {
  it('starts on the right weekday and fills whole weeks', () => {
    // September 2015 began on a Tuesday: one blank Monday.
    const rows = calendarRows(grid(1, 30))
    expect(rows).toHaveLength(5)
    expect(rows[0][0]).toBeNull()
    expect(rows[0][1]?.day).toBe(1)
    expect(rows.every((r) => r.length === 7)).toBe(true)
    expect(rows[4][2]?.day).toBe(30)
    expect(rows[4][3]).toBeNull()
  })
  it('needs no blank row for a month starting on Monday', () => {
    const rows = calendarRows(grid(0, 28))
    expect(rows).toHaveLength(4)
    expect(rows[3][6]?.day).toBe(28)
  })
})

describe('label', () => {
  const list = [{ code: 'in_village', zh: '在村', en: 'In the village' }]
  it('shows the label of the current language', () => {
    expect(label(list, 'in_village', 'zh-CN')).toBe('在村')
    expect(label(list, 'in_village', 'en')).toBe('In the village')
  })
  it('falls back to the code for an unknown code, and to nothing for none', () => {
    expect(label(list, 'absent', 'zh-CN')).toBe('absent')
    expect(label(list, null, 'zh-CN')).toBe('')
  })
})

describe('times', () => {
  it('writes RFC 3339 with the local offset', () => {
    const s = nowRfc3339(new Date(2015, 8, 14, 7, 52, 3))
    expect(s).toMatch(/^2015-09-14T07:52:03[+-]\d\d:\d\d$/)
    expect(new Date(s).getTime()).toBe(new Date(2015, 8, 14, 7, 52, 3).getTime())
  })
  it('shortens a timestamp for lists and keeps garbage visible', () => {
    expect(shortTime(nowRfc3339(new Date(2015, 8, 14, 7, 5)))).toBe('09-14 07:05')
    expect(shortTime('not a time')).toBe('not a time')
    expect(shortTime(null)).toBe('')
  })
  it('colours each day status differently', () => {
    const codes = ['in_village', 'official_trip', 'on_leave', 'rotation', 'absent', 'no_record']
    expect(new Set(codes.map(statusColor)).size).toBe(codes.length)
  })
})

describe('pinProblem', () => {
  it('asks for six characters and the same PIN twice', () => {
    expect(pinProblem('12345', '12345')).toBe('tooShort')
    expect(pinProblem('123456', '123465')).toBe('mismatch')
    expect(pinProblem('123456', '123456')).toBeNull()
    // Characters, not UTF-16 units or bytes.
    expect(pinProblem('一二三四五', '一二三四五')).toBe('tooShort')
    expect(pinProblem('一二三四五六', '一二三四五六')).toBeNull()
  })
})

describe('leaveForm', () => {
  const fake = () => {
    const calls: string[] = []
    return {
      calls,
      router: {
        back: () => calls.push('back'),
        replace: (to: string) => calls.push(`replace ${to}`),
      },
    }
  }
  it('goes back to the screen that opened the form', () => {
    const { calls, router } = fake()
    window.history.replaceState({ back: '/household/h1' }, '')
    leaveForm(router, '/household/h1')
    expect(calls).toEqual(['back'])
  })
  it('opens the fallback when the form was the first screen', () => {
    const { calls, router } = fake()
    window.history.replaceState({}, '')
    leaveForm(router, '/household/h1')
    expect(calls).toEqual(['replace /household/h1'])
  })
})

describe('clockOff', () => {
  const t = (key: string, v: Record<string, unknown>) => `${v.n} ${key.split('.')[1]}`
  it('says days, hours or minutes, whichever way the clock is off', () => {
    expect(clockOff(-2 * 86_400, t)).toBe('2 days')
    expect(clockOff(3 * 3_600 + 100, t)).toBe('3 hours')
    expect(clockOff(700, t)).toBe('12 minutes')
    expect(clockOff(-20, t)).toBe('1 minutes')
  })
})
