// End-to-end test of the supervisors' dashboard in a real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against a real sync server holding generated
// demo data. scripts/test starts the server and sets:
//   CUNJI_DASHBOARD_URL   e.g. http://127.0.0.1:8481
//   CUNJI_DEMO_PASSWORD   the generated demo accounts' password
//   CUNJI_SCREENSHOTS     where screenshots go (target/screenshots)
//   CUNJI_MONTH           a month with generated records (YYYY-MM)
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { distinctColours } from './png.mjs'

const base = process.env.CUNJI_DASHBOARD_URL
const password = process.env.CUNJI_DEMO_PASSWORD
const shots = process.env.CUNJI_SCREENSHOTS ?? 'target/screenshots'
const month = process.env.CUNJI_MONTH ?? '2015-11'
if (!base || !password)
  throw new Error('set CUNJI_DASHBOARD_URL and CUNJI_DEMO_PASSWORD (scripts/test does)')
mkdirSync(shots, { recursive: true })

let browser
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})
after(async () => browser?.close())

/** Saves a screenshot and fails if it is blank (a page that drew nothing has a few colours). */
async function shoot(page, name) {
  const png = await page.screenshot({ fullPage: true })
  const file = join(shots, `dashboard-${name}.png`)
  writeFileSync(file, png)
  const { colours } = distinctColours(png)
  assert.ok(colours > 8, `${file} looks blank (${colours} colours)`)
  return file
}

async function signIn(page, login) {
  await page.goto(base + '/dashboard/')
  await page.fill('input[name=login]', login)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=who]')
}

test('login page renders in Chinese and a wrong password says what went wrong', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(base + '/dashboard/')
  assert.match(await page.textContent('h2'), /督查人员登录/)
  await shoot(page, 'login')
  await page.fill('input[name=login]', 'demo-county')
  await page.fill('input[name=password]', 'not-the-password')
  await page.click('button[type=submit]')
  const error = await page.waitForSelector('[data-testid=login-error]')
  assert.match(await error.textContent(), /账号或密码/)
  await page.close()
})

test('a county supervisor reads every report for a month, with charts and rows, and exports xlsx', async () => {
  const page = await browser.newPage({
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  })
  await signIn(page, 'demo-county')
  await page.fill('input[name=month]', month)
  // The tabs come with the report list (GET /v1/reports), after the sign-in: wait for them.
  await page.waitForSelector('[data-tab]')
  const tabs = await page.$$eval('[data-tab]', (els) => els.map((e) => e.getAttribute('data-tab')))
  assert.equal(tabs.length, 9, `nine reports, got ${tabs}`)
  for (const tab of tabs) {
    await page.click(`[data-tab="${tab}"]`)
    await page.click('[data-testid=load]')
    await page.waitForSelector(`section[data-report="${tab}"] [data-testid=summary]`, {
      timeout: 30_000,
    })
    const basis = await page.textContent('[data-testid=time-basis]')
    assert.match(basis, /时间口径/)
    assert.match(basis, new RegExp(`county:`))
    await shoot(page, tab)
  }
  // The attendance ledger has one row per team cadre and a chart drawn as SVG.
  await page.click('[data-tab=attendance]')
  await page.waitForSelector('section[data-report=attendance] [data-testid=rows] tbody tr')
  assert.ok(
    (await page.$$('section[data-report=attendance] [data-testid=chart] svg path')).length > 0,
    'chart drawn',
  )
  // Excel export downloads a real xlsx (a zip).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid=export-xlsx]'),
  ])
  const path = await download.path()
  const bytes = readFileSync(path)
  assert.equal(bytes.subarray(0, 2).toString('ascii'), 'PK', 'xlsx is a zip')
  assert.match(download.suggestedFilename(), /\.xlsx$/)
  await page.close()
})

test('drilling down from a report row opens the record and its edit history', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await signIn(page, 'demo-township')
  await page.fill('input[name=month]', month)
  await page.click('[data-tab=not-visited]')
  await page.click('[data-testid=load]')
  await page.waitForSelector('section[data-report=not-visited] [data-testid=summary]')
  // 90 days before the end of the first months, every household is "not visited" or none is;
  // pick whichever report has linked rows.
  let link = await page.$('.record-link')
  if (!link) {
    await page.click('[data-tab=integrity]')
    await page.click('[data-testid=load]')
    await page.waitForSelector('section[data-report=integrity] [data-testid=summary]')
    link = await page.$('.record-link')
  }
  assert.ok(link, 'a report row links to a record')
  await link.click()
  await page.waitForSelector('[data-testid=record-drawer] .fields')
  const drawer = await page.textContent('[data-testid=record-drawer]')
  assert.match(drawer, /修改痕迹/)
  await shoot(page, 'record')
  await page.close()
})

test('a township supervisor asking for the whole county is refused with a reason', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await signIn(page, 'demo-township')
  const division = await page.inputValue('input[name=code]')
  assert.equal(division.length, 9, 'a township account starts at its township')
  const who = await page.textContent('[data-testid=who]')
  assert.match(who, /（乡镇）/, 'the role is named, not shown as its code')
  await page.selectOption('select[name=level]', 'county')
  await page.fill('input[name=code]', division.slice(0, 6))
  await page.fill('input[name=month]', month)
  await page.click('[data-tab=attendance]')
  await page.click('[data-testid=load]')
  const error = await page.waitForSelector('[data-testid=report-error]')
  assert.match(await error.textContent(), /forbidden|无权|权限/)
  await shoot(page, 'forbidden')
  await page.close()
})

test('the county office cuts off a lost phone, and a township is not offered to', async () => {
  const town = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await signIn(town, 'demo-township')
  assert.equal(await town.$('[data-testid=devices-toggle]'), null, 'not the township’s to do')
  await town.close()

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await signIn(page, 'demo-county')
  await page.click('[data-testid=devices-toggle]')
  await page.fill('input[name=device-login]', 'nobody-here')
  await page.click('[data-testid=find-devices]')
  const unknown = await page.waitForSelector('[data-testid=devices-error]')
  assert.match(await unknown.textContent(), /nobody-here/)
  await page.fill('input[name=device-login]', 'demo-member')
  await page.click('[data-testid=find-devices]')
  const row = await page.waitForSelector('[data-testid=devices] tbody tr[data-device]')
  const device = await row.getAttribute('data-device')
  assert.match(await row.textContent(), /在用/)
  await page.click(`tr[data-device="${device}"] [data-testid=revoke]`)
  await page.click(`tr[data-device="${device}"] [data-testid=confirm-revoke]`)
  const done = await page.waitForSelector('[data-testid=devices-done]')
  assert.match(await done.textContent(), /新手机/)
  assert.match(await page.textContent(`tr[data-device="${device}"]`), /已停用/)
  await shoot(page, 'devices')
  await page.close()
})
