import { describe, expect, it } from 'vitest'
import Home from '../src/views/Home.vue'
import Household from '../src/views/Household.vue'
import type { RecordRights } from '../src/bindings/RecordRights'
import { fakeApp, mountAt, rights, signIn } from './forms.kit'

// The forms are reachable from the home screen (village records) and the household page
// (household records), and only for the roles the server accepts them from.
const home = (r: RecordRights) => ({
  home: () => ({
    me: null,
    today: '2016-10-08',
    village: null,
    check_ins: [],
    waiting_to_sync: 0,
    conflicts: 0,
    on_leave: null,
  }),
  record_rights: () => r,
  server_reachable: () => false,
})
const links = (w: {
  findAll: (s: string) => { attributes: (a: string) => string | undefined }[]
}) => w.findAll('[data-test^=go-]').map((e) => e.attributes('data-test'))

describe('links to the forms', () => {
  it('on the home screen follow the role', async () => {
    signIn('first_secretary')
    fakeApp(home(rights({ petition: true, status_change: true, project: true })))
    let { wrapper } = await mountAt(Home, '/home', '/home')
    expect(links(wrapper)).toEqual(expect.arrayContaining(['go-petitions', 'go-projects']))
    expect(links(wrapper)).not.toContain('go-inspection')

    signIn('township')
    fakeApp(home(rights({ petition: true, inspection: true, survey: true })))
    ;({ wrapper } = await mountAt(Home, '/home', '/home'))
    expect(links(wrapper)).toEqual(expect.arrayContaining(['go-petitions', 'go-inspection']))
    expect(links(wrapper)).not.toContain('go-projects')

    signIn('pairing_cadre')
    fakeApp(home(rights({ survey: true })))
    ;({ wrapper } = await mountAt(Home, '/home', '/home'))
    expect(wrapper.find('[data-test=records]').exists()).toBe(false)
  })

  it('on the household page follow the role', async () => {
    const page = {
      id: 'hh1',
      household: { members: {}, head_member_id: 'm1', status: 'not_exited' },
      flags: {
        food_clothing_ok: true,
        education_ok: true,
        medical_ok: true,
        housing_ok: true,
        water_ok: true,
      },
      visits: [],
      entitlements: [],
      history: [],
      conflicts: [],
    }
    signIn('pairing_cadre')
    fakeApp({ household: () => page, record_rights: () => rights({ survey: true }) })
    let { wrapper } = await mountAt(Household, '/household/:id', '/household/hh1')
    expect(links(wrapper)).toEqual(['go-petitions', 'go-status-change', 'go-survey'])

    signIn('team_member')
    fakeApp({ household: () => page, record_rights: () => rights({ petition: true }) })
    ;({ wrapper } = await mountAt(Household, '/household/:id', '/household/hh1'))
    expect(links(wrapper)).toEqual(['go-petitions', 'go-new-petition', 'go-status-change'])
  })
})
