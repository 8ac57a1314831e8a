import { describe, expect, it } from 'vitest'
import { messages } from '../src/i18n'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

describe('messages', () => {
  it('have the same keys in Chinese and English', () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
  })
  it('are Chinese first', () => {
    expect(messages['zh-CN'].home.checkIn).toBe('打卡')
    expect(keys(messages['zh-CN']).every((k) => k.length > 0)).toBe(true)
  })
  it('use the same placeholders in both languages', () => {
    const flat = (o: object) =>
      Object.fromEntries(
        keys(o).map((k) => [
          k,
          k
            .split('.')
            .reduce(
              (a: Record<string, unknown>, p) => a[p] as Record<string, unknown>,
              o as Record<string, unknown>,
            ) as unknown as string,
        ]),
      )
    const zh = flat(messages['zh-CN'])
    const en = flat(messages.en)
    for (const k of Object.keys(zh)) {
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort()
      expect(ph(en[k]), k).toEqual(ph(zh[k]))
    }
  })
})
