// 投诉建议 in the dashboard (issue 16 item 9), in a real headless Chromium against the real
// sync server scripts/dashboard-test starts (same environment as dashboard.test.mjs): a
// township submits a complaint from the 投诉建议 page at 360 px (category chosen, nothing
// pre-selected, text required, the server's summary confirmed before the browser signs);
// the county office answers it from its 待办 at 360 px (the answer required, never
// pre-filled, confirmed, signed); the township reads the answer; the organisation department
// cannot read the complaint at all.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { distinctColours } from './png.mjs'

const base = process.env.CUNJI_DASHBOARD_URL
const password = process.env.CUNJI_DEMO_PASSWORD
const shots = process.env.CUNJI_SCREENSHOTS ?? 'target/screenshots'
if (!base || !password)
  throw new Error('set CUNJI_DASHBOARD_URL and CUNJI_DEMO_PASSWORD (scripts/test does)')
mkdirSync(shots, { recursive: true })

let browser
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
})
after(async () => browser?.close())

async function shoot(page, name) {
  const png = await page.screenshot({ fullPage: true })
  const file = join(shots, `dashboard-${name}.png`)
  writeFileSync(file, png)
  const { colours } = distinctColours(png)
  assert.ok(colours > 8, `${file} looks blank (${colours} colours)`)
}

async function signIn(page, login) {
  await page.goto(base + '/dashboard/')
  await page.fill('input[name=login]', login)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=who]')
}

/** No horizontal scroll at the page's width; every visible button of `scope` ≥ 44 px high. */
async function fitsPhone(page, scope) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }))
  assert.ok(scroll <= width, `no horizontal scroll at ${width} px (content is ${scroll} px wide)`)
  const small = await page.$$eval(`${scope} button`, (els) =>
    els
      .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
      .map((e) => e.textContent.trim()),
  )
  assert.deepEqual(small, [], 'buttons at least 44 px high')
}

async function api(login, path) {
  const s = await fetch(base + '/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  })
  assert.equal(s.status, 200)
  const { token } = await s.json()
  const r = await fetch(base + path, { headers: { authorization: 'Bearer ' + token } })
  return { status: r.status, body: await r.json() }
}

test('a township complains, the county office answers from its 待办, and only they read it', async () => {
  const subject = `请假审批太慢 ${Date.now() % 100000}`
  const phone = { viewport: { width: 360, height: 640 } }

  // The township submits at 360 px.
  const town = await browser.newPage(phone)
  await signIn(town, 'demo-township')
  await town.click('[data-view=feedback]')
  await town.waitForSelector('[data-testid=feedback]')
  await town.waitForSelector('[data-testid=fb-none], [data-testid=fb-mine]')
  // Nothing pre-selected or pre-filled; each missing part is named.
  assert.equal(await town.$$eval('input[name=fb-category]:checked', (e) => e.length), 0)
  assert.equal(await town.inputValue('textarea[name=fb-text]'), '')
  await town.click('[data-testid=fb-next]')
  assert.match(await town.textContent('[data-testid=fb-invalid]'), /请选择类别/)
  await town.check('input[data-choice=complaint]')
  await town.fill('input[name=fb-subject]', subject)
  await town.click('[data-testid=fb-next]')
  assert.match(await town.textContent('[data-testid=fb-invalid]'), /请填写内容/)
  await town.fill('textarea[name=fb-text]', '乡镇请假审批常要等三四天，建议村记提醒审批人。')
  await town.fill('input[name=fb-about]', '请假审批')
  await town.click('[data-testid=fb-next]')
  const summary = await town.waitForSelector('[data-testid=fb-summary]')
  assert.match(await summary.textContent(), /提交投诉/)
  assert.match(await summary.textContent(), new RegExp(subject))
  await fitsPhone(town, '[data-testid=feedback]')
  await town.click('[data-testid=fb-sign]')
  assert.match(await (await town.waitForSelector('[data-testid=fb-toast]')).textContent(), /已提交/)
  const mine = `[data-testid=fb-mine] [data-record]`
  await town.waitForSelector(`${mine} [data-testid=fb-status]`)
  const cards = await town.$$eval(mine, (els) =>
    els.map((e) => ({ id: e.getAttribute('data-record'), text: e.textContent })),
  )
  const card = cards.find((c) => c.text.includes(subject))
  assert.ok(card, `the new complaint is listed: ${JSON.stringify(cards)}`)
  assert.match(card.text, /待答复/)
  const id = card.id
  await shoot(town, 'feedback-submit-360')

  // Who reads it: not the organisation department (nor the township's villages' cadres).
  assert.equal((await api('demo-org', `/v1/records/${id}`)).status, 404)
  assert.equal((await api('demo-secretary', `/v1/records/${id}`)).status, 404)

  // The county office answers from its 待办 at 360 px.
  const county = await browser.newPage(phone)
  await signIn(county, 'demo-county')
  await county.waitForSelector('[data-list=feedback_to_answer]')
  await county.click('[data-list=feedback_to_answer]')
  const c = `[data-record="${id}"]`
  await county.waitForSelector(`${c} [data-testid=fb-status]`)
  assert.match(await county.textContent(c), new RegExp(subject))
  await county.click(`${c} [data-action=feedback_answer]`)
  assert.equal(await county.inputValue(`${c} textarea[name=step-answer]`), '')
  await county.click(`${c} [data-testid=step-next]`)
  assert.match(await county.textContent(`${c} [data-testid=step-invalid]`), /请填写答复内容/)
  const answer = '已请各乡镇两个工作日内完成请假审批，逾期由县里督办。'
  await county.fill(`${c} textarea[name=step-answer]`, answer)
  await county.click(`${c} [data-testid=step-next]`)
  const said = await county.waitForSelector(`${c} [data-testid=step-summary]`)
  assert.match(await said.textContent(), /答复投诉/)
  await fitsPhone(county, '[data-testid=todo]')
  await shoot(county, 'feedback-answer-360')
  await county.click(`${c} [data-testid=step-sign]`)
  assert.match(await (await county.waitForSelector('[data-testid=toast]')).textContent(), /答复/)
  await county.waitForSelector(c, { state: 'detached' })

  // Stored as the office's own signed change; the township reads the answer.
  const { status, body } = await api('demo-county', `/v1/records/${id}`)
  assert.equal(status, 200)
  assert.equal(body.record.status, 'answered')
  assert.equal(body.record.answer.by, 'demo-county')
  assert.equal(body.record.answer.text, answer)
  const step = body.history.filter((h) => h.cadre_id === 'demo-county')
  assert.ok(
    step.length > 0 && step.every((h) => h.device_id.startsWith('web-')),
    'signed by the session',
  )
  await town.click('[data-view=todo]')
  await town.click('[data-view=feedback]')
  await town.waitForSelector(`[data-testid=fb-mine] ${c} [data-testid=fb-answer]`)
  assert.equal(await town.textContent(`${c} [data-testid=fb-answer]`), answer)
  assert.match(await town.textContent(`${c} [data-testid=fb-status]`), /已答复/)
  await shoot(town, 'feedback-answered-360')
  await town.close()
  await county.close()
})
