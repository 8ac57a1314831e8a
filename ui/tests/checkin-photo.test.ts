// The check-in screen under the county's photo setting (a ⚙ setting the phone fetched):
// `off` shows no photo button, `optional` offers one, `required` blocks the check-in until a
// photo is taken and says why. The photo's bytes go to the core, which hashes them; the
// check-in carries the hash.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import CheckIn from '../src/views/CheckIn.vue'
import type { CheckInPhoto } from '../src/bindings/CheckInPhoto'
import { type Args, fails, fakeApp, mountAt, signIn, toasts } from './forms.kit'

const HASH = 'ab'.repeat(32)

beforeEach(() => {
  signIn('team_member')
  // jsdom has no object URLs (the thumbnail's source).
  URL.createObjectURL = vi.fn(() => 'blob:photo')
  URL.revokeObjectURL = vi.fn()
})
afterEach(() => {
  closeToast(true)
  document.body.innerHTML = ''
})

function phone(mode: CheckInPhoto, savePhoto: (args: Args) => unknown = () => HASH) {
  return fakeApp({
    home: () => ({ check_in_photo: mode, settings_source: mode === 'off' ? 'default' : 'county' }),
    device_location: () => ({ lat: 25.0321, lon: 103.6612, accuracy_m: 8 }),
    save_check_in_photo: savePhoto,
    check_in: () => ({ id: 'c1', inside_geofence: true, village_name: '示范村' }),
  })
}

/** Chooses `bytes` in the photo input, as the camera does. */
async function takePhoto(wrapper: Awaited<ReturnType<typeof mountAt>>['wrapper'], bytes: number[]) {
  const input = wrapper.find('[data-test=photo-input]')
  expect(input.attributes('accept')).toBe('image/*')
  expect(input.attributes('capture')).toBe('environment')
  const file = new File([new Uint8Array(bytes)], 'photo.jpg', { type: 'image/jpeg' })
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  await flushPromises()
  await new Promise((r) => setTimeout(r, 0))
  await flushPromises()
}

describe('check-in photo', () => {
  it('off (the default): no photo button, check-in as before', async () => {
    const app = phone('off')
    const { wrapper } = await mountAt(CheckIn, '/checkin', '/checkin')
    expect(wrapper.find('[data-test=photo]').exists()).toBe(false)
    expect(wrapper.text()).not.toContain('拍照')
    await wrapper.find('[data-test=checkin-tap]').trigger('click')
    await flushPromises()
    const [{ input }] = app.of('check_in')
    expect(input.photo_sha256).toBeUndefined()
    expect(wrapper.find('[data-test=checkin-result]').exists()).toBe(true)
  })

  it('optional: a big photo button; checking in without a photo works, with one it carries the hash', async () => {
    const app = phone('optional')
    const { wrapper } = await mountAt(CheckIn, '/checkin', '/checkin')
    const tap = wrapper.find('[data-test=photo-tap]')
    expect(tap.text()).toContain('拍照 (可选)')
    expect(wrapper.find('[data-test=photo-needed]').exists()).toBe(false)
    expect(wrapper.find('[data-test=checkin-tap]').attributes('disabled')).toBeUndefined()

    await takePhoto(wrapper, [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])
    // The bytes went to the core as bytes, and the screen says a photo is taken.
    const sent = app.calls.find((c) => c.cmd === 'save_check_in_photo')!
      .args as unknown as Uint8Array
    expect(Array.from(sent)).toEqual([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])
    expect(wrapper.find('[data-test=photo-tap]').text()).toContain('已拍照')
    expect(wrapper.find('[data-test=photo-thumb]').exists()).toBe(true)

    await wrapper.find('[data-test=checkin-tap]').trigger('click')
    await flushPromises()
    const [{ input }] = app.of('check_in')
    expect(input).toMatchObject({ lat: 25.0321, lon: 103.6612, photo_sha256: HASH })
  })

  it('required: no check-in until a photo is taken, and it says why', async () => {
    const app = phone('required')
    const { wrapper } = await mountAt(CheckIn, '/checkin', '/checkin')
    expect(wrapper.find('[data-test=photo-tap]').text()).toContain('拍照 (本县要求)')
    expect(wrapper.find('[data-test=photo-needed]').text()).toContain('本县要求打卡时拍照')
    expect(wrapper.find('[data-test=checkin-tap]').attributes('disabled')).toBeDefined()
    await wrapper.find('[data-test=checkin-tap]').trigger('click')
    await flushPromises()
    expect(app.of('check_in')).toHaveLength(0)

    await takePhoto(wrapper, [0xff, 0xd8, 0xff, 9])
    expect(wrapper.find('[data-test=photo-needed]').exists()).toBe(false)
    expect(wrapper.find('[data-test=checkin-tap]').attributes('disabled')).toBeUndefined()
    await wrapper.find('[data-test=checkin-tap]').trigger('click')
    await flushPromises()
    expect(app.of('check_in')[0].input.photo_sha256).toBe(HASH)
  })

  it('a file that is not a photo: the core’s message is shown and the check-in stays blocked', async () => {
    const app = phone(
      'required',
      fails('not_a_photo', '这不是照片(需要 JPEG、PNG、WebP 或 HEIC),请用相机重拍'),
    )
    const { wrapper } = await mountAt(CheckIn, '/checkin', '/checkin')
    await takePhoto(wrapper, [1, 2, 3])
    expect(toasts()).toContain('请用相机重拍')
    expect(wrapper.find('[data-test=photo-needed]').exists()).toBe(true)
    expect(wrapper.find('[data-test=checkin-tap]').attributes('disabled')).toBeDefined()
    expect(app.of('check_in')).toHaveLength(0)
  })
})
