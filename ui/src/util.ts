// Small pure helpers the screens share; unit-tested in tests/util.test.ts.
import type { CodeOption } from './bindings/CodeOption'
import type { MonthGrid } from './bindings/MonthGrid'
import type { DayCell } from './bindings/DayCell'

/** The label of a code in the current language, or the code itself when unknown. */
export function label(
  list: CodeOption[] | undefined,
  code: string | null | undefined,
  locale: string,
): string {
  if (!code) return ''
  const o = list?.find((c) => c.code === code)
  if (!o) return code
  return locale === 'en' ? o.en : o.zh
}

/** A month grid as calendar rows of 7 (Monday first); `null` for blank cells. */
export function calendarRows(grid: MonthGrid): (DayCell | null)[][] {
  const cells: (DayCell | null)[] = [...Array(grid.leading_blanks).fill(null), ...grid.days]
  while (cells.length % 7 !== 0) cells.push(null)
  const rows: (DayCell | null)[][] = []
  for (let i = 0; i < cells.length; i += 7) rows.push(cells.slice(i, i + 7))
  return rows
}

/** Local date as YYYY-MM-DD. */
export function isoDate(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** Local time with its zone offset, RFC 3339 (what the core's Timestamp reads). */
export function nowRfc3339(d: Date = new Date()): string {
  const p = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0')
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  return `${isoDate(d)}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${sign}${p(off / 60)}:${p(off % 60)}`
}

/** "2026-11-22T09:05:00+08:00" → "11-22 09:05" (for lists). */
export function shortTime(rfc3339: string | null | undefined): string {
  if (!rfc3339) return ''
  const d = new Date(rfc3339)
  if (Number.isNaN(d.getTime())) return rfc3339
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

/** Colour of a day status in the calendar. */
export function statusColor(code: string | null | undefined): string {
  switch (code) {
    case 'in_village':
      return '#07c160'
    case 'official_trip':
      return '#1989fa'
    case 'on_leave':
      return '#ff976a'
    case 'rotation':
      return '#7232dd'
    case 'absent':
      return '#ee0a24'
    case 'no_record':
      return '#c8c9cc'
    default:
      return 'transparent'
  }
}

/** SHA-256 of bytes as lowercase hex. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as BufferSource)
  return Array.from(new Uint8Array(digest))
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
}

/** The shortest PIN the app lets a cadre choose (the core refuses under 4; six digits make
 *  guessing against a stolen phone's file far slower). */
export const MIN_PIN = 6

/** Why a new PIN cannot be used, as a key of the `pin` texts, or null when it can. */
export function pinProblem(pin: string, again: string): 'tooShort' | 'mismatch' | null {
  if ([...pin].length < MIN_PIN) return 'tooShort'
  if (pin !== again) return 'mismatch'
  return null
}

/** Where to go after a form is saved: back to the screen that opened it, so the phone's back
 *  button does not return to a second copy of it; or, when the form was the first screen
 *  (reopened from a draft), to `fallback`. */
export function leaveForm(
  router: { back(): void; replace(to: string): unknown },
  fallback: string,
) {
  if (window.history.state?.back) router.back()
  else router.replace(fallback)
}

/** How far the phone's clock is off, for a person: "3 天", "25 分钟" (with the `time` texts). */
export function clockOff(
  seconds: number,
  t: (key: string, values: Record<string, unknown>) => string,
): string {
  const s = Math.abs(seconds)
  if (s >= 86_400) return t('time.days', { n: Math.round(s / 86_400) })
  if (s >= 3_600) return t('time.hours', { n: Math.round(s / 3_600) })
  return t('time.minutes', { n: Math.max(1, Math.round(s / 60)) })
}
