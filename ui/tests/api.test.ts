import { describe, expect, it } from 'vitest'
import { AppError, api, setInvoker, toAppError } from '../src/api'

describe('api', () => {
  it('sends each command with its arguments by name', async () => {
    const calls: [string, unknown][] = []
    setInvoker(async (cmd, args) => {
      calls.push([cmd, args])
      return null
    })
    await api.checkIn({ lat: 1, lon: 2, accuracy_m: null })
    await api.myMonth(2015, 9)
    await api.saveDraft('visit:h1', '{}')
    expect(calls).toEqual([
      ['check_in', { input: { lat: 1, lon: 2, accuracy_m: null } }],
      ['my_month', { year: 2015, month: 9 }],
      ['save_draft', { form: 'visit:h1', json: '{}' }],
    ])
  })

  it('turns the shell error {code, message} into an AppError', async () => {
    setInvoker(async () => {
      throw { code: 'no_team', message: '还没有你的驻村工作队记录' }
    })
    await expect(api.home()).rejects.toMatchObject({
      code: 'no_team',
      message: '还没有你的驻村工作队记录',
    })
  })

  it('keeps anything else as an internal error with its text', () => {
    const e = toAppError('boom')
    expect(e).toBeInstanceOf(AppError)
    expect(e.code).toBe('internal')
    expect(e.message).toBe('boom')
  })
})
