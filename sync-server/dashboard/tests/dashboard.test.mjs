// End-to-end test of the supervisors' dashboard in a real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against a real sync server holding generated
// demo data. scripts/test starts the server and sets:
//   CUNJI_DASHBOARD_URL   e.g. http://127.0.0.1:8481
//   CUNJI_DEMO_PASSWORD   the generated demo accounts' password
//   CUNJI_SCREENSHOTS     where screenshots go (target/screenshots)
//   CUNJI_MONTH           a month with generated records (YYYY-MM)
import { test, before, after } from 'node:test'
import { generateKeyPairSync, sign } from 'node:crypto'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { distinctColours } from './png.mjs'
import { workbook } from './xlsx.mjs'

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

/** Signs in through the page; `view` (`reports`, `import`, …) is opened after, when given. */
async function signIn(page, login, view) {
  await page.goto(base + '/dashboard/')
  await page.fill('input[name=login]', login)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=who]')
  if (view) await page.click(`[data-view=${view}]`)
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
  await signIn(page, 'demo-county', 'reports')
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
  await signIn(page, 'demo-township', 'reports')
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
  await signIn(page, 'demo-township', 'reports')
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

/** A session's bearer token from the API itself, for the tests' own set-up and checks. */
async function apiSession(login) {
  const resp = await fetch(base + '/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  })
  assert.equal(resp.status, 200, `sign-in of ${login}`)
  return resp.json()
}

async function apiGet(token, path) {
  const resp = await fetch(base + path, { headers: { authorization: 'Bearer ' + token } })
  assert.equal(resp.status, 200, `GET ${path}: ${resp.status}`)
  return resp.json()
}

/** The page has no horizontal scroll and every visible button of `scope` is ≥ 44 px high. */
async function fitsPhone(page, scope) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }))
  assert.ok(scroll <= width, `no horizontal scroll at ${width} px (content is ${scroll} px wide)`)
  const small = await page.$$eval(`${scope} button, ${scope} .file-pick`, (els) =>
    els
      .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
      .map((e) => `${e.textContent.trim()} (${e.getBoundingClientRect().height} px)`),
  )
  assert.deepEqual(small, [], 'touch targets at least 44 px high')
}

/** Picks a workbook in the import page's file input and has the server check it. */
async function checkWorkbook(page, name, buffer) {
  await page.setInputFiles('input[name=import-file]', {
    name,
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer,
  })
  await page.click('[data-testid=import-check]')
}

/** Report 5's count of entitlements due (应兑现笔数) for a policy, as the page shows it. */
async function dueOnPage(page, policy) {
  await page.click('[data-view=reports]')
  await page.fill('input[name=month]', month)
  await page.click('[data-tab=delivery-gaps]')
  await page.click('[data-testid=load]')
  await page.waitForSelector('section[data-report=delivery-gaps] [data-testid=rows] tbody tr')
  const cells = await page.$$eval(
    'section[data-report=delivery-gaps] [data-testid=rows] tbody tr',
    (rows, code) =>
      rows
        .map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent.trim()))
        .filter((c) => c[0] === code),
    policy,
  )
  assert.equal(cells.length, 1, `one row of report 5 for ${policy}`)
  return Number(cells[0][4].replace(/,/g, ''))
}

test('the county office imports entitlements: a planted error is shown by its row, then a correct file is checked, committed and counted in report 5', async () => {
  const town = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await signIn(town, 'demo-township')
  assert.equal(await town.$('[data-view=import]'), null, 'no import entry for a township')
  await town.close()

  // The files: three generated households of the county get one more 资产收益分红
  // entitlement each, due on a day the generator does not use for them.
  const county = await apiSession('demo-county')
  const pulled = (
    await apiGet(county.token, `/v1/supervisor/pull?scope=county:${county.division}&limit=2000`)
  ).records
  const households = pulled.filter((r) => r.kind === 'household').map((r) => r.doc_id)
  assert.ok(
    pulled.some((r) => r.kind === 'policy_item' && r.tables.p_policy_item[0].code === 'ASSET-FH'),
    'the generated policy catalog has 资产收益分红 (ASSET-FH)',
  )
  assert.ok(households.length >= 3, 'generated households to import entitlements for')
  const header = [
    '户编号',
    '成员编号',
    '政策代码*',
    '年度*',
    '应享金额（元）',
    '应兑现日期*',
    '依据*',
  ]
  const rows = households
    .slice(0, 3)
    .map((h) => [h, '', 'ASSET-FH', 2015, 600, '2015-10-15', '县扶贫办〔2015〕12号'])
  const good = workbook({ 应享政策: [header, ...rows] })
  const bad = workbook({
    应享政策: [header, rows[0], [rows[1][0], '', 'NO-SUCH', ...rows[1].slice(3)], rows[2]],
  })

  const page = await browser.newPage({
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
  })
  await signIn(page, 'demo-county')
  const before = await dueOnPage(page, 'ASSET-FH')
  await page.click('[data-view=import]')

  // A template downloads as a real workbook.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-template=entitlements]'),
  ])
  const template = readFileSync(await download.path())
  assert.equal(template.subarray(0, 2).toString('ascii'), 'PK', 'the template is an xlsx (a zip)')
  assert.ok(template.includes('xl/workbook.xml'), 'with a workbook inside')
  assert.match(download.suggestedFilename(), /\.xlsx$/)
  assert.match(await page.textContent('[data-testid=import-notice]'), /已下载/)

  // The planted error: its row, column, value and message, and nothing to commit.
  await checkWorkbook(page, '应享政策-有误.xlsx', bad)
  assert.match(await page.textContent('[data-testid=import-file]'), /应享政策-有误\.xlsx/)
  await page.waitForSelector('[data-testid=import-refused]')
  const problem = await page.textContent('[data-testid=import-problems] tbody tr[data-row="3"]')
  assert.match(problem, /应享政策-有误\.xlsx/)
  assert.match(problem, /政策代码/)
  assert.match(problem, /NO-SUCH/)
  assert.match(problem, /在文件和系统中都没有/)
  assert.equal(
    (await page.$$('[data-testid=import-problems] tbody tr')).length,
    1,
    'exactly the planted problem',
  )
  assert.equal(
    await page.$('[data-testid=import-commit]'),
    null,
    'a file with problems cannot be committed',
  )
  await shoot(page, 'import-problems')
  // In English, the same problem in English.
  await page.click('[data-testid=lang]')
  assert.match(
    await page.textContent('[data-testid=import-problems] tbody tr[data-row="3"]'),
    /policy item `NO-SUCH` is neither in the files nor on the server/,
  )
  assert.match(await page.textContent('[data-testid=import-refused]'), /nothing was written/)
  await page.click('[data-testid=lang]')

  // The corrected file: the dry run's counts, then the commit.
  await checkWorkbook(page, '应享政策.xlsx', good)
  await page.waitForSelector('[data-testid=import-checked]')
  const count = async (kind, what) =>
    Number(
      await page.textContent(
        `[data-testid=import-kinds] tr[data-kind=${kind}] [data-count=${what}]`,
      ),
    )
  assert.equal(await count('entitlement', 'new'), 3)
  assert.equal(await count('entitlement', 'changed'), 0)
  assert.equal(await count('entitlement', 'refused'), 0)
  assert.ok(
    (await count('entitlement', 'missing')) > 0,
    'the households’ other entitlements are reported missing',
  )
  assert.match(await page.textContent('[data-testid=import-checked]'), /将写入 3 项修改/)
  await shoot(page, 'import-checked')
  await page.click('[data-testid=import-commit]')
  await page.waitForSelector('[data-testid=import-committed]')
  assert.match(await page.textContent('[data-testid=import-committed]'), /已写入 3 项修改/)
  assert.equal(await count('entitlement', 'new'), 3)
  assert.equal(await page.$('[data-testid=import-commit]'), null, 'committed: no second commit')
  await shoot(page, 'import-committed')

  // The same file again changes nothing.
  await page.click('[data-testid=import-check]')
  await page.waitForSelector('[data-testid=import-same]')
  assert.equal(await count('entitlement', 'unchanged'), 3)
  assert.equal(await count('entitlement', 'new'), 0)

  // And the entitlements count in report 5.
  assert.equal(
    await dueOnPage(page, 'ASSET-FH'),
    before + 3,
    'report 5 counts the imported entitlements',
  )
  await page.close()

  // On a phone-sized screen: no horizontal scroll, big buttons, the problems table readable.
  const phone = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(phone, 'demo-county')
  await phone.click('[data-view=import]')
  await checkWorkbook(phone, 'bad.xlsx', bad)
  await phone.waitForSelector('[data-testid=import-problems]')
  await fitsPhone(phone, '[data-testid=import]')
  await shoot(phone, 'import-360')
  await phone.close()
})

/** An API session with a signing key of its own (as the dashboard registers one): its POST,
 * and `commit`, which signs a prepared change with node's Ed25519 and stores it. */
async function keyedSession(login) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  const resp = await fetch(base + '/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password, public_key: raw.toString('hex') }),
  })
  const { token } = await resp.json()
  const post = async (path, body) => {
    const r = await fetch(base + path, {
      method: 'POST',
      headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    assert.equal(r.status, 200, `POST ${path}: ${r.status} ${await r.clone().text()}`)
    return r.json()
  }
  const commit = (prepared) =>
    post('/v1/steps', {
      record_id: prepared.record_id,
      change: prepared.change,
      signature: sign(null, Buffer.from(prepared.signing_input, 'hex'), privateKey).toString('hex'),
    })
  return { post, commit }
}

/** A step taken through a keyed API session: prepared, signed, stored. */
async function stepThroughApi(login, id, step) {
  const { post, commit } = await keyedSession(login)
  return commit(await post(`/v1/records/${id}/steps`, step))
}

async function listCount(page, list) {
  return Number(await page.textContent(`[data-list=${list}] [data-testid=count]`))
}

test('the township accepts a level-C visit from its 待办: confirmed, signed by the browser’s key, and in the record’s history', async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await signIn(page, 'demo-township')
  // The dashboard opens on the 待办, with the role's lists and their counts.
  await page.waitForSelector('[data-testid=todo] [data-list=visits_to_accept]')
  assert.equal(await page.$('[data-testid=cannot-sign]'), null, 'Chromium signs with Ed25519')
  const before = await listCount(page, 'visits_to_accept')
  assert.ok(before >= 3, `the generated village leaves level-C visits to accept (${before})`)
  await page.click('[data-list=visits_to_accept]')
  const card = await page.waitForSelector('[data-record] .facts')
  const first = await page.$eval('[data-record]', (e) => e.getAttribute('data-record'))
  // Names, not ids: the visitor and the household's head.
  const facts = await page.textContent(`[data-record="${first}"] .facts`)
  assert.match(facts, /走访人/)
  assert.match(facts, /户主 \p{Script=Han}+/u)
  assert.doesNotMatch(facts, /gc\d{6}/, 'the visitor by name, not login')
  assert.ok(card)
  await shoot(page, 'todo')

  // Accept: the server's summary is shown before anything is signed.
  await page.click(`[data-record="${first}"] [data-action=visit_accept]`)
  await page.click(`[data-record="${first}"] [data-testid=step-next]`)
  const summary = await page.waitForSelector(`[data-record="${first}"] [data-testid=step-summary]`)
  assert.match(await summary.textContent(), /验收走访/)
  const town = await apiSession('demo-township')
  assert.equal(
    (await apiGet(town.token, `/v1/records/${first}`)).record.acceptance,
    undefined,
    'nothing is stored before the clerk confirms',
  )
  await shoot(page, 'todo-confirm')
  await page.click(`[data-record="${first}"] [data-testid=step-sign]`)
  assert.match(
    await (await page.waitForSelector('[data-testid=toast]')).textContent(),
    /已完成：验收走访/,
  )
  await page.waitForSelector(`[data-record="${first}"]`, { state: 'detached' })
  assert.equal(await listCount(page, 'visits_to_accept'), before - 1, 'the item left the list')

  // The record holds the township's acceptance, made by this browser's registered key.
  const device = await page.evaluate(
    () => JSON.parse(sessionStorage.getItem('cunji.dashboard.session')).device_id,
  )
  assert.match(device, /^web-/)
  const view = await apiGet(town.token, `/v1/records/${first}`)
  assert.equal(view.record.acceptance.accepted, true)
  assert.equal(view.record.acceptance.review.reviewer_id, 'demo-township')
  const step = view.history.filter((h) => h.field.startsWith('acceptance'))
  assert.ok(step.length > 0, 'the acceptance is in the history')
  for (const h of step) {
    assert.equal(h.cadre_id, 'demo-township')
    assert.equal(h.device_id, device, 'signed by the session’s own key')
  }

  // Rejecting without a reason is stopped by the page: nothing is asked of the server.
  const second = await page.$eval('[data-record]', (e) => e.getAttribute('data-record'))
  assert.notEqual(second, first)
  await page.click(`[data-record="${second}"] [data-action=visit_reject]`)
  assert.equal(
    await page.inputValue(`[data-record="${second}"] [name=step-reason]`),
    '',
    'never pre-filled',
  )
  await page.click(`[data-record="${second}"] [data-testid=step-next]`)
  assert.match(
    await page.textContent(`[data-record="${second}"] [data-testid=step-invalid]`),
    /请填写原因/,
  )
  assert.equal(await page.$(`[data-record="${second}"] [data-testid=step-confirm]`), null)
  assert.equal((await apiGet(town.token, `/v1/records/${second}`)).record.acceptance, undefined)

  // Someone else accepts it meanwhile (another session of the township's, through the API):
  // the page's step is refused by the server, and the page says what happened and what to do.
  const taken = await stepThroughApi('demo-township', second, { action: 'visit_accept' })
  assert.equal(taken.outcome, 'accepted')
  await page.click(`[data-record="${second}"] [data-action=visit_accept]`)
  await page.click(`[data-record="${second}"] [data-testid=step-next]`)
  const refusal = await page.waitForSelector(`[data-record="${second}"] [data-testid=step-error]`)
  const said = await refusal.textContent()
  assert.match(said, /已经验收/, 'the server’s reason')
  assert.match(said, /review_locked/)
  assert.match(said, /刷新待办列表/, 'what to do next')
  await shoot(page, 'todo-refused')
  await page.click(`[data-record="${second}"] [data-testid=step-error] button`)
  await page.waitForSelector(`[data-record="${second}"]`, { state: 'detached' })

  // The key the browser signed with cannot be read out of it, and sign-out forgets it.
  const keptKey = () =>
    page.evaluate(
      (id) =>
        new Promise((resolve, reject) => {
          const req = indexedDB.open('cunji-dashboard')
          req.onerror = () => reject(req.error)
          req.onsuccess = () => {
            const get = req.result.transaction('signing-keys').objectStore('signing-keys').get(id)
            get.onsuccess = () =>
              resolve(
                get.result
                  ? { extractable: get.result.key.extractable, type: get.result.key.type }
                  : null,
              )
          }
        }),
      device,
    )
  assert.deepEqual(await keptKey(), { extractable: false, type: 'private' })
  await page.click('button:has-text("退出")')
  await page.waitForSelector('input[name=login]')
  assert.equal(await keptKey(), null, 'signed out: the key is gone')
  await page.close()

  // A phone-sized screen.
  const phone = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(phone, 'demo-township')
  await phone.click('[data-list=visits_to_accept]')
  const third = await (await phone.waitForSelector('[data-record]')).getAttribute('data-record')
  await phone.waitForSelector(`[data-record="${third}"] .facts`)
  await phone.click(`[data-record="${third}"] [data-action=visit_reject]`)
  await fitsPhone(phone, '[data-testid=todo]')
  await shoot(phone, 'todo-360')
  await phone.close()
})

test('a browser without Ed25519 signs in to read, and the 待办 says it cannot sign instead of offering steps', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } })
  await context.addInitScript(() => {
    const generate = crypto.subtle.generateKey.bind(crypto.subtle)
    crypto.subtle.generateKey = (algorithm, ...rest) =>
      (algorithm?.name ?? algorithm) === 'Ed25519'
        ? Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError'))
        : generate(algorithm, ...rest)
  })
  const page = await context.newPage()
  await signIn(page, 'demo-township')
  const said = await page.waitForSelector('[data-testid=cannot-sign]')
  assert.match(await said.textContent(), /不支持审批所需的签名/)
  await page.click('[data-list=visits_to_accept]')
  await page.waitForSelector('[data-record] .facts')
  assert.equal(
    await page.$eval('[data-record] [data-action=visit_accept]', (b) => b.disabled),
    true,
    'no step offered',
  )
  const device = await page.evaluate(
    () => JSON.parse(sessionStorage.getItem('cunji.dashboard.session')).device_id,
  )
  assert.equal(device, null, 'signed in without a key')
  await context.close()
})

test('the county office assigns a petition from its 待办: handler and due date required, then signed and stored; the handler records progress, closes it and records the 回访', async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await signIn(page, 'demo-county')
  await page.waitForSelector('[data-list=petitions_to_assign]')
  const before = await listCount(page, 'petitions_to_assign')
  assert.ok(before > 0, 'the generated village leaves petitions to assign')
  await page.click('[data-list=petitions_to_assign]')
  await page.waitForSelector('[data-record] .facts')
  const id = await page.$eval('[data-record]', (e) => e.getAttribute('data-record'))
  const card = `[data-record="${id}"]`
  assert.match(await page.textContent(`${card} .facts`), /受理日期/)
  await page.click(`${card} [data-action=petition_assign]`)
  // Both fields are required; neither is filled in for the clerk.
  assert.equal(await page.inputValue(`${card} [name=step-handler]`), '')
  assert.equal(await page.inputValue(`${card} [name=step-due]`), '')
  await page.click(`${card} [data-testid=step-next]`)
  assert.match(await page.textContent(`${card} [data-testid=step-invalid]`), /承办人/)
  await page.fill(`${card} [name=step-handler]`, 'demo-secretary')
  await page.click(`${card} [data-testid=step-next]`)
  assert.match(await page.textContent(`${card} [data-testid=step-invalid]`), /办理期限/)
  // A due date after the petition's receipt (the server refuses one before it).
  const county = await apiSession('demo-county')
  const received = (await apiGet(county.token, `/v1/records/${id}`)).record.received_date
  const due = new Date(Date.parse(received) + 30 * 86_400_000).toISOString().slice(0, 10)
  await page.fill(`${card} [name=step-due]`, due)
  await page.click(`${card} [data-testid=step-next]`)
  const summary = await page.waitForSelector(`${card} [data-testid=step-summary]`)
  assert.match(await summary.textContent(), /demo-secretary/)
  assert.match(await summary.textContent(), new RegExp(due))
  await page.click(`${card} [data-testid=step-sign]`)
  await page.waitForSelector('[data-testid=toast]')
  await page.waitForSelector(card, { state: 'detached' })
  assert.equal(await listCount(page, 'petitions_to_assign'), before - 1)

  const view = await apiGet(county.token, `/v1/records/${id}`)
  assert.equal(view.record.handler_id, 'demo-secretary')
  assert.equal(view.record.due_date, due)
  const device = await page.evaluate(
    () => JSON.parse(sessionStorage.getItem('cunji.dashboard.session')).device_id,
  )
  const step = view.history.filter((h) => h.field === 'handler_id' && h.new === 'demo-secretary')
  assert.equal(step.length, 1, 'the assignment is in the history')
  assert.equal(step[0].cadre_id, 'demo-county')
  assert.equal(step[0].device_id, device, 'signed by the session’s own key')
  await page.close()

  // The handler closes it, then records the 回访: a result is required, none is chosen.
  const handler = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(handler, 'demo-secretary')
  await handler.waitForSelector('[data-list=petitions_to_handle]')
  await handler.click('[data-list=petitions_to_handle]')
  const mine = `[data-record="${id}"]`
  await handler.waitForSelector(`${mine} .facts`)
  // First the handler records progress: a note is required, none is written for it; the
  // petition stays open, on its list.
  const handleBefore = await listCount(handler, 'petitions_to_handle')
  await handler.click(`${mine} [data-action=petition_progress]`)
  assert.equal(await handler.inputValue(`${mine} [name=step-note]`), '', 'never pre-filled')
  await handler.click(`${mine} [data-testid=step-next]`)
  assert.match(await handler.textContent(`${mine} [data-testid=step-invalid]`), /请填写说明/)
  await handler.fill(`${mine} [name=step-note]`, '已约农户面谈，正在核实')
  await handler.click(`${mine} [data-testid=step-next]`)
  assert.match(
    await (await handler.waitForSelector(`${mine} [data-testid=step-summary]`)).textContent(),
    /记录办理进展/,
  )
  await fitsPhone(handler, '[data-testid=todo]')
  await shoot(handler, 'petition-progress-360')
  await signOn(handler, mine, { leaves: false })
  await handler.reload()
  await handler.waitForSelector('[data-list=petitions_to_handle]')
  assert.equal(await listCount(handler, 'petitions_to_handle'), handleBefore, 'still open')
  const progress = (await apiGet(county.token, `/v1/records/${id}`)).record.progress
  assert.equal(progress.at(-1).reviewer_id, 'demo-secretary')
  assert.equal(progress.at(-1).comment, '已约农户面谈，正在核实')
  await handler.click('[data-list=petitions_to_handle]')
  await handler.waitForSelector(`${mine} .facts`)
  await handler.click(`${mine} [data-action=petition_close]`)
  await handler.fill(`${mine} [name=step-resolution]`, '已协调解决')
  await handler.click(`${mine} [data-testid=step-next]`)
  await handler.waitForSelector(`${mine} [data-testid=step-summary]`)
  await handler.click(`${mine} [data-testid=step-sign]`)
  await handler.waitForSelector(mine, { state: 'detached' })
  await handler.waitForSelector('[data-list=petitions_to_return_visit]')
  assert.equal(await listCount(handler, 'petitions_to_return_visit'), 1)
  await handler.click('[data-list=petitions_to_return_visit]')
  await handler.waitForSelector(`${mine} .facts`)
  await handler.click(`${mine} [data-action=petition_return_visit]`)
  const checked = await handler.$$eval(
    `${mine} [name=step-result]`,
    (rs) => rs.filter((r) => r.checked).length,
  )
  assert.equal(checked, 0, 'no answer is chosen for the clerk')
  await handler.click(`${mine} [data-testid=step-next]`)
  assert.match(await handler.textContent(`${mine} [data-testid=step-invalid]`), /回访结果/)
  await handler.click(`${mine} [data-choice=fairly_satisfied]`)
  await handler.click(`${mine} [data-testid=step-next]`)
  const visitSummary = await handler.waitForSelector(`${mine} [data-testid=step-summary]`)
  assert.match(await visitSummary.textContent(), /基本满意/)
  await handler.screenshot({ path: `${shots}/dashboard-todo-return-visit-360.png` })
  await handler.click(`${mine} [data-testid=step-sign]`)
  await handler.waitForSelector(mine, { state: 'detached' })
  assert.equal(await listCount(handler, 'petitions_to_return_visit'), 0)
  const after = await apiGet(county.token, `/v1/records/${id}`)
  assert.equal(after.record.status, 'closed')
  assert.equal(after.record.return_visit.result, 'fairly_satisfied')
  await handler.close()
})

/** The township's signature of a ledger taken through a keyed API session: composed by the
 * server, signed, stored. */
async function signLedgerThroughApi(login, scope, ledgerMonth) {
  const { post, commit } = await keyedSession(login)
  return commit(await post('/v1/ledgers/sign', { scope, month: ledgerMonth }))
}

/** Report 1's signatures for a scope (`village:…`, `township:…`) and month, as the API says. */
async function ledgerSignatures(token, scope, ledgerMonth) {
  const doc = await apiGet(token, `/v1/reports/attendance?scope=${scope}&month=${ledgerMonth}`)
  return doc.summary.signatures ?? []
}

test('the township signs a village’s attendance ledger from its 待办: reads the figures, confirms, signs; a ledger signed meanwhile is refused; the organisation department sees it received', async () => {
  const town = await apiSession('demo-township')
  const todo = await apiGet(town.token, '/v1/todo')
  const list = todo.items.find((i) => i.list === 'ledgers_to_sign')
  // The demo's months lie years back: every month with check-ins is over and unsigned.
  assert.ok(list.count >= 4, `generated months to sign (${list.count})`)
  const villageLedger = list.ledgers.slice(0, 10).find((l) => l.scope.length === 12)
  const ownLedger = list.ledgers
    .slice(0, 10)
    .find((l) => l.scope.length === 9 && l.month === villageLedger.month)
  assert.ok(villageLedger && ownLedger, 'a village’s and the township’s ledger on the first page')
  const vKey = `${villageLedger.scope}:${villageLedger.month}`
  const tKey = `${ownLedger.scope}:${ownLedger.month}`
  assert.deepEqual(
    await ledgerSignatures(town.token, `village:${villageLedger.scope}`, villageLedger.month),
    [],
  )

  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
  await signIn(page, 'demo-township')
  await page.waitForSelector('[data-list=ledgers_to_sign]')
  const before = await listCount(page, 'ledgers_to_sign')
  assert.equal(before, list.count)
  await page.click('[data-list=ledgers_to_sign]')
  const card = `[data-ledger="${vKey}"]`
  await page.waitForSelector(card)
  assert.match(await page.textContent(`${card} [data-testid=ledger-scope]`), /\p{Script=Han}+/u)
  // The figures first: report 1's rows of that village and month, cadres by name.
  await page.click(`${card} [data-action=ledger_open]`)
  await page.waitForSelector(`${card} [data-testid=ledger-figures] tbody tr`)
  const figures = await page.textContent(`${card} [data-testid=ledger-figures]`)
  assert.match(figures, /共 \d+ 名干部/)
  assert.match(figures, /驻村/)
  assert.doesNotMatch(figures, /demo-member/, 'cadres by name, not login')
  await shoot(page, 'ledger-figures')
  // Then the server's composed signature, named with the cadres and the figures' hash.
  await page.click(`${card} [data-action=ledger_sign]`)
  const summary = await page.waitForSelector(`${card} [data-testid=step-summary]`)
  assert.match(
    await summary.textContent(),
    /签字确认村.*考勤台账：?:?\d+ 名干部，?,?数据摘要 [0-9a-f]{12}/,
  )
  assert.deepEqual(
    await ledgerSignatures(town.token, `village:${villageLedger.scope}`, villageLedger.month),
    [],
    'nothing is stored before the clerk confirms',
  )
  await shoot(page, 'ledger-confirm')
  await page.click(`${card} [data-testid=step-sign]`)
  assert.match(
    await (await page.waitForSelector('[data-testid=toast]')).textContent(),
    /已完成：签字确认村/,
  )
  await page.waitForSelector(card, { state: 'detached' })
  assert.equal(await listCount(page, 'ledgers_to_sign'), before - 1, 'the ledger left the list')
  const signed = await ledgerSignatures(
    town.token,
    `village:${villageLedger.scope}`,
    villageLedger.month,
  )
  assert.equal(signed.length, 1)
  assert.equal(signed[0].by, 'demo-township')
  assert.equal(signed[0].figures_changed, false)
  // After a reload the list still lacks it: the server holds the signature.
  await page.reload()
  await page.waitForSelector('[data-list=ledgers_to_sign]')
  assert.equal(await listCount(page, 'ledgers_to_sign'), before - 1)

  // The township's own ledger of that month, signed meanwhile by another session: the page's
  // signature is refused, with the code and what to do.
  await page.click('[data-list=ledgers_to_sign]')
  const own = `[data-ledger="${tKey}"]`
  await page.waitForSelector(own)
  await page.click(`${own} [data-action=ledger_open]`)
  await page.waitForSelector(`${own} [data-testid=ledger-figures] tbody tr`)
  await page.click(`${own} [data-action=ledger_sign]`)
  await page.waitForSelector(`${own} [data-testid=step-summary]`)
  const taken = await signLedgerThroughApi('demo-township', ownLedger.scope, ownLedger.month)
  assert.equal(taken.outcome, 'accepted')
  await page.click(`${own} [data-testid=step-sign]`)
  const refusal = await page.waitForSelector(`${own} [data-testid=step-error]`)
  const said = await refusal.textContent()
  assert.match(said, /ledger_already_signed/)
  assert.match(said, /刷新待办列表/, 'what to do next')
  await shoot(page, 'ledger-refused')
  await page.click(`${own} [data-testid=step-error] button`)
  await page.waitForSelector(own, { state: 'detached' })
  assert.equal(await listCount(page, 'ledgers_to_sign'), before - 2)
  await page.close()

  // The organisation department: both signatures received, by whom, when, and late (the
  // demo's months ended years ago).
  const org = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await signIn(org, 'demo-org')
  await org.waitForSelector('[data-list=ledgers_received]')
  assert.equal(await listCount(org, 'ledgers_received'), 2)
  await org.click('[data-list=ledgers_received]')
  const got = await org.waitForSelector(`[data-ledger="${vKey}"]`)
  const text = await got.textContent()
  assert.match(text, /签字人/)
  assert.match(text, new RegExp(villageLedger.month))
  assert.match(
    await org.textContent(`[data-ledger="${vKey}"] [data-testid=ledger-on-time]`),
    /逾期/,
  )
  await shoot(org, 'ledger-received')
  await org.close()

  // A phone-sized screen: the figures scroll inside the card, not the page.
  const phone = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(phone, 'demo-township')
  await phone.click('[data-list=ledgers_to_sign]')
  const next = await (await phone.waitForSelector('[data-ledger]')).getAttribute('data-ledger')
  await phone.click(`[data-ledger="${next}"] [data-action=ledger_open]`)
  await phone.waitForSelector(`[data-ledger="${next}"] [data-testid=ledger-figures]`)
  await fitsPhone(phone, '[data-testid=todo]')
  await shoot(phone, 'ledger-360')
  await phone.close()
})

/** Opens a step on a card: the action, the fields (each checked empty first: nothing is
 * pre-filled), then the server's summary; returns the summary's text. */
async function prepareOn(page, card, action, fields = {}) {
  await page.click(`${card} [data-action=${action}]`)
  const next = await page.$(`${card} [data-testid=step-next]`)
  if (next) {
    const values = await page.$$eval(
      `${card} .step-form textarea, ${card} .step-form input:not([type=radio])`,
      (els) => els.map((e) => e.value),
    )
    assert.ok(values.length > 0 && values.every((v) => v === ''), 'nothing pre-filled')
    for (const [name, value] of Object.entries(fields))
      await page.fill(`${card} [name=step-${name}]`, value)
    await next.click()
  }
  const summary = await page.waitForSelector(`${card} [data-testid=step-summary]`)
  return summary.textContent()
}

/** Signs the prepared step of a card: the toast says it is done, the card leaves the list. */
async function signOn(page, card, { leaves = true } = {}) {
  await page.click(`${card} [data-testid=step-sign]`)
  const toast = await (await page.waitForSelector('[data-testid=toast]')).textContent()
  assert.match(toast, /已完成：/)
  if (leaves) await page.waitForSelector(card, { state: 'detached' })
  return toast
}

/** The ids of a 待办 list through the API. */
async function listIds(token, list) {
  const todo = await apiGet(token, '/v1/todo')
  return todo.items.find((i) => i.list === list).ids
}

test('the township approves leave and sends one back with a reason; the organisation department approves a longer one', async () => {
  const town = await apiSession('demo-township')
  const ids = await listIds(town.token, 'leave_to_approve')
  assert.ok(
    ids.length >= 2,
    `the generated data's last week leaves leave to approve (${ids.length})`,
  )
  const [approveId, backId] = ids
  for (const id of ids) {
    const r = (await apiGet(town.token, `/v1/records/${id}`)).record
    assert.equal(r.status, 'pending')
    assert.ok(r.days <= 3, 'the township approves up to 3 days')
  }

  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await signIn(page, 'demo-township')
  await page.waitForSelector('[data-list=leave_to_approve]')
  const before = await listCount(page, 'leave_to_approve')
  assert.equal(before, ids.length)
  await page.click('[data-list=leave_to_approve]')
  const approve = `[data-record="${approveId}"]`
  await page.waitForSelector(`${approve} .facts`)
  const facts = await page.textContent(`${approve} .facts`)
  assert.match(facts, /请假人\s*\p{Script=Han}{2,}/u)
  assert.match(facts, /审批层级\s*乡镇/)
  assert.match(await prepareOn(page, approve, 'leave_approve'), /批准请假/)
  assert.equal(
    (await apiGet(town.token, `/v1/records/${approveId}`)).record.status,
    'pending',
    'nothing stored before the clerk confirms',
  )
  await signOn(page, approve)
  assert.equal(await listCount(page, 'leave_to_approve'), before - 1)

  // Sending back needs a reason: the page stops an empty one, nothing is asked of the server.
  const back = `[data-record="${backId}"]`
  await page.click(`${back} [data-action=leave_send_back]`)
  assert.equal(await page.inputValue(`${back} [name=step-reason]`), '', 'never pre-filled')
  await page.click(`${back} [data-testid=step-next]`)
  assert.match(await page.textContent(`${back} [data-testid=step-invalid]`), /请填写原因/)
  assert.equal(await page.$(`${back} [data-testid=step-confirm]`), null)
  await page.fill(`${back} [name=step-reason]`, '年底考核期间请调整请假时间')
  await page.click(`${back} [data-testid=step-next]`)
  assert.match(
    await (await page.waitForSelector(`${back} [data-testid=step-summary]`)).textContent(),
    /驳回请假/,
  )
  await shoot(page, 'leave-send-back')
  await signOn(page, back)
  assert.equal(await listCount(page, 'leave_to_approve'), before - 2)

  // After a reload: both gone from the list, and the records hold the decisions.
  await page.reload()
  await page.waitForSelector('[data-list=leave_to_approve]')
  assert.equal(await listCount(page, 'leave_to_approve'), before - 2)
  await page.close()
  const approved = (await apiGet(town.token, `/v1/records/${approveId}`)).record
  assert.equal(approved.status, 'approved')
  assert.equal(approved.decision.reviewer_id, 'demo-township')
  const sentBack = (await apiGet(town.token, `/v1/records/${backId}`)).record
  assert.equal(sentBack.status, 'rejected')
  assert.equal(sentBack.decision.comment, '年底考核期间请调整请假时间')

  // The organisation department approves leave of more than 3 days, on a phone-sized screen.
  const org = await apiSession('demo-org')
  const orgIds = await listIds(org.token, 'leave_to_approve')
  assert.ok(
    orgIds.length >= 1,
    'the generated data leaves a longer leave for the organisation department',
  )
  const longId = orgIds[0]
  assert.ok((await apiGet(org.token, `/v1/records/${longId}`)).record.days > 3)
  const phone = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(phone, 'demo-org')
  await phone.waitForSelector('[data-list=leave_to_approve]')
  const orgBefore = await listCount(phone, 'leave_to_approve')
  await phone.click('[data-list=leave_to_approve]')
  const long = `[data-record="${longId}"]`
  await phone.waitForSelector(`${long} .facts`)
  assert.match(await phone.textContent(`${long} .facts`), /审批层级\s*县委组织部/)
  assert.match(await prepareOn(phone, long, 'leave_approve'), /批准请假/)
  await fitsPhone(phone, '[data-testid=todo]')
  await shoot(phone, 'leave-org-360')
  await signOn(phone, long)
  assert.equal(await listCount(phone, 'leave_to_approve'), orgBefore - 1)
  await phone.close()
  const longAfter = (await apiGet(org.token, `/v1/records/${longId}`)).record
  assert.equal(longAfter.status, 'approved')
  assert.equal(longAfter.decision.reviewer_id, 'demo-org')
})

test('the township records 乡镇审核 (an exit with an open objection is refused by R12 and sent back), the county office 县审批公告 and 系统录入', async () => {
  const town = await apiSession('demo-township')
  const ids = await listIds(town.token, 'cases_to_review')
  assert.ok(ids.length >= 2, `generated cases wait at 乡镇审核 (${ids.length})`)
  const cases = await Promise.all(
    ids.map(async (id) => [id, (await apiGet(town.token, `/v1/records/${id}`)).record]),
  )
  const open = (r) =>
    r.steps.some((s) => (s.publicity?.objections ?? []).some((o) => !o.resolution))
  const blockedId = cases.find(([, r]) => open(r))?.[0]
  const readyId = cases.find(([, r]) => !open(r))?.[0]
  assert.ok(blockedId && readyId, 'one exit with an open objection, one without')

  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
  await signIn(page, 'demo-township')
  await page.waitForSelector('[data-list=cases_to_review]')
  const before = await listCount(page, 'cases_to_review')
  // The names come with the list (/v1/todo's entries): one record read per card, no more.
  const reads = []
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/records/')) reads.push(r.url())
  })
  await page.click('[data-list=cases_to_review]')
  const blocked = `[data-record="${blockedId}"]`
  await page.waitForSelector(`${blocked} .facts`)
  await page.waitForSelector(`[data-record="${readyId}"] .facts`)
  assert.equal(reads.length, ids.length, `one read per card: ${reads}`)
  const facts = await page.textContent(`${blocked} .facts`)
  assert.match(facts, /户主 \p{Script=Han}+/u)
  assert.match(facts, /村\s*\p{Script=Han}+/u)
  assert.match(facts, /标注脱贫/)
  assert.match(facts, /公示异议.*未处理/)
  // R12's blockers, as the server computes them, before anything is tried.
  assert.match(facts, /R12 未满足的条件\s*公示异议未处理/)
  assert.match(
    await page.textContent(`[data-record="${readyId}"] .facts`),
    /R12 未满足的条件\s*无（条件已满足）/,
  )
  // Passing it is refused by the server's R12 check: the code and what to do are shown.
  await page.click(`${blocked} [data-action=case_passed]`)
  assert.equal(await page.inputValue(`${blocked} [name=step-note]`), '')
  await page.click(`${blocked} [data-testid=step-next]`)
  const refusal = await (
    await page.waitForSelector(`${blocked} [data-testid=step-error]`)
  ).textContent()
  assert.match(refusal, /exit_not_ready/)
  assert.match(refusal, /公示异议未处理/)
  assert.match(refusal, /退回村里补正/)
  await shoot(page, 'case-blocked')
  // So the township sends it back, with a reason.
  assert.match(
    await prepareOn(page, blocked, 'case_returned', { reason: '公示异议未处理，请村里核实后再报' }),
    /乡镇审核/,
  )
  await signOn(page, blocked)
  assert.equal(await listCount(page, 'cases_to_review'), before - 1)
  const ready = `[data-record="${readyId}"]`
  await page.waitForSelector(`${ready} .facts`)
  assert.match(await prepareOn(page, ready, 'case_passed'), /乡镇审核/)
  await signOn(page, ready)
  assert.equal(await listCount(page, 'cases_to_review'), before - 2)
  await page.reload()
  await page.waitForSelector('[data-list=cases_to_review]')
  assert.equal(await listCount(page, 'cases_to_review'), before - 2)
  await page.close()
  const lastStep = async (token, id) =>
    (await apiGet(token, `/v1/records/${id}`)).record.steps.at(-1)
  assert.deepEqual(
    (({ step, outcome, actor_id }) => ({ step, outcome, actor_id }))(
      await lastStep(town.token, blockedId),
    ),
    { step: 'township_review', outcome: 'returned', actor_id: 'demo-township' },
  )
  assert.equal((await lastStep(town.token, readyId)).outcome, 'passed')

  // The county office: 县审批公告 on the case just passed, then 系统录入 on an approved one.
  const county = await apiSession('demo-county')
  assert.ok((await listIds(county.token, 'cases_to_approve')).includes(readyId))
  const page2 = await browser.newPage({ viewport: { width: 1366, height: 900 } })
  await signIn(page2, 'demo-county')
  await page2.waitForSelector('[data-list=cases_to_approve]')
  const approveBefore = await listCount(page2, 'cases_to_approve')
  const enterBefore = await listCount(page2, 'cases_to_enter')
  await page2.click('[data-list=cases_to_approve]')
  const approving = `[data-record="${readyId}"]`
  await page2.waitForSelector(`${approving} .facts`)
  assert.match(await prepareOn(page2, approving, 'case_passed'), /县审批公告/)
  await signOn(page2, approving)
  assert.equal(await listCount(page2, 'cases_to_approve'), approveBefore - 1)
  const approvedCase = (await apiGet(county.token, `/v1/records/${readyId}`)).record
  assert.equal(approvedCase.result, 'approved')
  assert.equal(approvedCase.steps.at(-1).step, 'county_approval')
  // Now it waits for 系统录入, with the generated ones.
  assert.equal(await listCount(page2, 'cases_to_enter'), enterBefore + 1)
  await page2.click('[data-list=cases_to_enter]')
  const entering = `[data-record="${readyId}"]`
  await page2.waitForSelector(`${entering} .facts`)
  assert.match(await prepareOn(page2, entering, 'case_passed'), /系统录入/)
  await shoot(page2, 'case-system-entry')
  await signOn(page2, entering)
  assert.equal(await listCount(page2, 'cases_to_enter'), enterBefore)
  await page2.reload()
  await page2.waitForSelector('[data-list=cases_to_enter]')
  assert.equal(await listCount(page2, 'cases_to_enter'), enterBefore)
  await page2.close()
  const entered = (await apiGet(county.token, `/v1/records/${readyId}`)).record.steps.at(-1)
  assert.equal(entered.step, 'system_entry')
  assert.equal(entered.actor_id, 'demo-county')

  // A phone-sized screen: the county's list with a case's step open.
  const phone = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(phone, 'demo-county')
  await phone.click('[data-list=cases_to_approve]')
  const next = await (await phone.waitForSelector('[data-record]')).getAttribute('data-record')
  await phone.waitForSelector(`[data-record="${next}"] .facts`)
  await phone.click(`[data-record="${next}"] [data-action=case_returned]`)
  await fitsPhone(phone, '[data-testid=todo]')
  await shoot(phone, 'case-360')
  await phone.close()
})

test('the township reviews a month’s logs (月考) from its 待办', async () => {
  const town = await apiSession('demo-township')
  const ids = await listIds(town.token, 'logs_to_review')
  assert.ok(ids.length >= 2, `the data's last month leaves logs to review (${ids.length})`)
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  await signIn(page, 'demo-township')
  await page.waitForSelector('[data-list=logs_to_review]')
  const before = await listCount(page, 'logs_to_review')
  await page.click('[data-list=logs_to_review]')
  const [first, second] = ids
  const card = `[data-record="${first}"]`
  await page.waitForSelector(`${card} .facts`)
  const facts = await page.textContent(`${card} .facts`)
  assert.match(facts, /填写人\s*\p{Script=Han}{2,}/u)
  assert.match(facts, /工作内容/)
  assert.match(await prepareOn(page, card, 'log_review', { comment: '记录完整' }), /月考审核日志/)
  assert.equal((await apiGet(town.token, `/v1/records/${first}`)).record.review, undefined)
  await shoot(page, 'logs-review')
  await signOn(page, card)
  assert.equal(await listCount(page, 'logs_to_review'), before - 1)
  // The comment is optional: the second is reviewed without one.
  const card2 = `[data-record="${second}"]`
  await page.waitForSelector(`${card2} .facts`)
  assert.match(await prepareOn(page, card2, 'log_review'), /月考审核日志/)
  await signOn(page, card2)
  assert.equal(await listCount(page, 'logs_to_review'), before - 2)
  await page.reload()
  await page.waitForSelector('[data-list=logs_to_review]')
  assert.equal(await listCount(page, 'logs_to_review'), before - 2)
  await page.close()
  const reviewed = (await apiGet(town.token, `/v1/records/${first}`)).record.review
  assert.equal(reviewed.reviewer_id, 'demo-township')
  assert.equal(reviewed.comment, '记录完整')
  assert.equal(
    (await apiGet(town.token, `/v1/records/${second}`)).record.review.reviewer_id,
    'demo-township',
  )

  const phone = await browser.newPage({ viewport: { width: 360, height: 640 } })
  await signIn(phone, 'demo-township')
  await phone.click('[data-list=logs_to_review]')
  const next = await (await phone.waitForSelector('[data-record]')).getAttribute('data-record')
  await phone.waitForSelector(`[data-record="${next}"] .facts`)
  await phone.click(`[data-record="${next}"] [data-action=log_review]`)
  await fitsPhone(phone, '[data-testid=todo]')
  await shoot(phone, 'logs-review-360')
  await phone.close()
})
