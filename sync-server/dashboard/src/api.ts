// The dashboard's only way to the server: JSON over fetch with the session's bearer token.
// Every failure becomes an ApiError carrying the server's stable code and its messages, so a
// screen can say what went wrong and what to do next.
//
// Every type of the server's answers comes from src/openapi.ts, generated from
// sync-server/openapi.json (`npm run gen:api`; `npm run check:api` fails when it is stale),
// whose schemas the server derives from the structs it serialises.

import type { components, operations } from './openapi'
import { forgetKey, keepKey, makeKey, sign } from './signing'

type Schemas = components['schemas']

/** A browser session (POST /v1/session). */
export type Session = Schemas['SessionResponse']

/** One report of the list (GET /v1/reports): its parameters and its columns. */
export type ReportInfo = Schemas['ReportInfo']

/** One column of a report's table. */
export type Column = Schemas['ReportColumn']

/** A report as the server answers it. */
export type ReportDocument = Schemas['ReportDocument']

/** The body of every failure. */
export type ErrorBody = Schemas['Error']

/** One record with its edit history (GET /v1/records/{id}). */
export type RecordView = Schemas['RecordView']

/** An account's phones (GET /v1/accounts/{login}/devices). */
export type DeviceList = Schemas['DeviceList']

/** A phone cut off (POST /v1/devices/{device_id}/revoke). */
export type DeviceRevoked = Schemas['DeviceRevoked']

/** What an import found and (committed) did (POST /v1/import). */
export type ImportReport = Schemas['Report']

/** One kind's counts and first rows in an import report. */
export type KindReport = Schemas['KindReport']

/** One problem of an import: file, sheet, row, column, value, message. */
export type ImportProblem = Schemas['Problem']

/** The signed-in role's 待办 (GET /v1/todo). */
export type TodoList = Schemas['TodoList']

/** What a 待办 card shows of one record: names (masked by the server), dates, R12 blockers. */
export type TodoEntry = Schemas['TodoEntry']

/** One step a reviewer asks for (POST /v1/records/{id}/steps). */
export type StepRequest = Schemas['StepRequest']

/** A step composed for this browser's key to sign. */
export type PreparedStep = Schemas['PreparedStep']

/** One attendance ledger of the 待办's ledger lists (to sign, or received). */
export type LedgerEntry = Schemas['LedgerEntry']
/** A 投诉建议 as its author writes it (POST /v1/feedback). */
export type SubmitFeedback = Schemas['SubmitFeedback']

/** A stored step (POST /v1/steps). */
export type CommittedStep = Schemas['CommittedStep']

/** The import templates the server gives (GET /v1/import/templates/{kind}). */
export type TemplateKind = operations['importTemplate']['parameters']['path']['kind']

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly messageEn: string,
  ) {
    super(message)
  }

  /** The message in the page's language (English when the server gave it). */
  say(locale: string): string {
    return locale === 'en' ? this.messageEn || this.message : this.message
  }

  /** Any failure as an ApiError (a client-side one under `client`). */
  static of(e: unknown): ApiError {
    return e instanceof ApiError ? e : new ApiError(0, 'client', String(e), String(e))
  }
}

const SESSION_KEY = 'cunji.dashboard.session'

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(SESSION_KEY)
  if (!raw) return null
  try {
    const s = JSON.parse(raw) as Session
    return new Date(s.expires_at) > new Date() ? s : null
  } catch {
    return null
  }
}

export function saveSession(s: Session | null) {
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s))
  else sessionStorage.removeItem(SESSION_KEY)
}

/** The ApiError of a failed answer's status and body (the server's `Error`, if it is one). */
function failureOf(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>
    return new ApiError(
      status,
      body.code ?? 'http_' + status,
      body.message ?? '',
      body.message_en ?? '',
    )
  } catch {
    return new ApiError(
      status,
      'http_' + status,
      `服务器返回 ${status}`,
      `server answered ${status}`,
    )
  }
}

async function failure(resp: Response): Promise<ApiError> {
  return failureOf(resp.status, await resp.text().catch(() => ''))
}

const NETWORK_ERROR = () =>
  new ApiError(
    0,
    'network',
    '无法连接服务器，请检查网络后重试',
    'cannot reach the server; check the network and retry',
  )

async function send(input: string, init: RequestInit): Promise<Response> {
  let resp: Response
  try {
    resp = await fetch(input, init)
  } catch {
    throw NETWORK_ERROR()
  }
  if (!resp.ok) throw await failure(resp)
  return resp
}

/**
 * Signs in with a signing key of this browser's own when it can make one (src/signing.ts):
 * the session may then take approval steps. Without one it reads, as before.
 */
export async function signIn(login: string, password: string): Promise<Session> {
  const made = await makeKey()
  const publicKey = 'publicKey' in made ? made.publicKey : undefined
  const resp = await send('/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password, public_key: publicKey }),
  })
  const session = (await resp.json()) as Session
  if ('key' in made && session.device_id) {
    try {
      await keepKey(session.device_id, made.key, session.expires_at)
    } catch {
      // IndexedDB is off (a private window may refuse it): the session reads, and the 待办
      // page says it cannot sign.
    }
  }
  return session
}

/** Forgets the session's signing key (at sign-out). */
export async function signOutKey(session: Session | null) {
  if (session?.device_id) await forgetKey(session.device_id)
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v)
  const s = q.toString()
  return s ? '?' + s : ''
}

export class Api {
  constructor(private readonly session: Session) {}

  private auth(): HeadersInit {
    return { authorization: 'Bearer ' + this.session.token }
  }

  async json<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
    const resp = await send(path + query(params), { headers: this.auth() })
    return (await resp.json()) as T
  }

  reports(): Promise<Schemas['ReportList']> {
    return this.json('/v1/reports')
  }

  report(name: string, params: Record<string, string | undefined>): Promise<ReportDocument> {
    return this.json('/v1/reports/' + name, params)
  }

  record(id: string): Promise<RecordView> {
    return this.json('/v1/records/' + encodeURIComponent(id))
  }

  devices(login: string): Promise<DeviceList> {
    return this.json('/v1/accounts/' + encodeURIComponent(login) + '/devices')
  }

  async revokeDevice(deviceId: string): Promise<DeviceRevoked> {
    const resp = await send('/v1/devices/' + encodeURIComponent(deviceId) + '/revoke', {
      method: 'POST',
      headers: this.auth(),
    })
    return (await resp.json()) as DeviceRevoked
  }

  todo(): Promise<TodoList> {
    return this.json('/v1/todo')
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const resp = await send(path, {
      method: 'POST',
      headers: { ...this.auth(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return (await resp.json()) as T
  }

  /** Has the server compose and check a step (nothing is stored): the change to sign. */
  prepareStep(id: string, step: StepRequest): Promise<PreparedStep> {
    return this.post('/v1/records/' + encodeURIComponent(id) + '/steps', step)
  }

  /** Has the server compose and check the township's signature of a ledger (nothing is
   * stored): the record to sign, whose summary names the cadres and the figures' hash. */
  prepareLedger(scope: string, month: string): Promise<PreparedStep> {
    return this.post('/v1/ledgers/sign', { scope, month })
  }

  /** Has the server compose and check a new 投诉建议 (nothing is stored): the change to sign. */
  prepareFeedback(body: SubmitFeedback): Promise<PreparedStep> {
    return this.post('/v1/feedback', body)
  }

  /** Signs a prepared step with this browser's key and stores it. */
  async commitStep(prepared: PreparedStep): Promise<CommittedStep> {
    const signature = this.session.device_id
      ? await sign(this.session.device_id, prepared.signing_input)
      : null
    if (!signature)
      throw new ApiError(
        0,
        'no_signing_key',
        '这个浏览器里没有本次登录的签名密钥，不能签名。请退出后重新登录再办理。',
        'This browser holds no signing key for this sign-in. Sign out, sign in again, then retry.',
      )
    return this.post('/v1/steps', {
      record_id: prepared.record_id,
      change: prepared.change,
      signature,
    })
  }

  /** Fetches an export and hands it to the browser as a download. */
  async download(name: string, params: Record<string, string | undefined>, format: 'xlsx' | 'csv') {
    const resp = await send('/v1/reports/' + name + query({ ...params, format }), {
      headers: this.auth(),
    })
    return saveDownload(resp, `${name}.${format}`)
  }

  /** Downloads an import template (.xlsx). */
  async template(kind: TemplateKind): Promise<string> {
    const resp = await send('/v1/import/templates/' + kind, { headers: this.auth() })
    return saveDownload(resp, `import-${kind}.xlsx`)
  }

  /**
   * Sends a file to the import, as a dry run or (`commit`) for real. XMLHttpRequest rather
   * than fetch, for its upload progress: `onUpload(sent, total)` while the bytes go, then
   * `onChecking()` once they are all there and the server reads and checks them.
   */
  importFile(
    file: File,
    commit: boolean,
    onUpload: (sent: number, total: number) => void,
    onChecking: () => void,
  ): Promise<ImportReport> {
    const url = '/v1/import' + query({ file: file.name, commit: commit ? 'true' : undefined })
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      xhr.open('POST', url)
      xhr.setRequestHeader('authorization', 'Bearer ' + this.session.token)
      xhr.setRequestHeader('content-type', 'application/octet-stream')
      xhr.upload.onprogress = (e) => onUpload(e.loaded, e.lengthComputable ? e.total : file.size)
      xhr.upload.onload = () => onChecking()
      xhr.onerror = () => reject(NETWORK_ERROR())
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText) as ImportReport)
          } catch {
            reject(failureOf(xhr.status, ''))
          }
        } else reject(failureOf(xhr.status, xhr.responseText))
      }
      xhr.send(file)
    })
  }
}

/** Hands a response's body to the browser as a download, named as the server names it. */
async function saveDownload(resp: Response, fallback: string): Promise<string> {
  const blob = await resp.blob()
  const disposition = resp.headers.get('content-disposition') ?? ''
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
  const file = match ? decodeURIComponent(match[1]) : fallback
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = file
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
  return file
}
