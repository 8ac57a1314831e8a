// The browser's own signing key for approval steps (sync-server `approvals` module docs).
//
// At sign-in the page asks WebCrypto for an Ed25519 key pair whose private half is *not
// extractable*: the page can have the browser sign with it but can never read it, so no
// script (ours or an injected one) can copy it elsewhere. The public half goes to the server
// with the password, which registers the session like a phone (`device_id` `web-…`). The
// private key's CryptoKey handle is kept in IndexedDB (structured clone keeps it
// non-extractable), under the session's device id, so a reload of the tab still signs; it is
// deleted at sign-out and once its session has expired. A lost key is a new sign-in.
//
// A browser without Ed25519 in WebCrypto (or a page not opened over HTTPS, where WebCrypto is
// off) signs in without a key: it reads as before and the 待办 page says it cannot sign.
// Nothing here pretends to sign.

const DB_NAME = 'cunji-dashboard'
const STORE = 'signing-keys'

interface Kept {
  deviceId: string
  key: CryptoKey
  expiresAt: string
}

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export function unhex(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(s.length / 2))
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Why this browser cannot sign: not opened over HTTPS, or no Ed25519 in its WebCrypto. */
export type Unsupported = 'insecure' | 'no_ed25519'

/** A fresh key pair (the raw public key, hex, and the private key's handle), or why the
 * browser cannot make one. */
export async function makeKey(): Promise<
  { publicKey: string; key: CryptoKey } | { unsupported: Unsupported }
> {
  if (!window.isSecureContext || !globalThis.crypto?.subtle) return { unsupported: 'insecure' }
  try {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
    ])) as CryptoKeyPair
    const raw = await crypto.subtle.exportKey('raw', pair.publicKey)
    return { publicKey: hex(raw), key: pair.privateKey }
  } catch {
    return { unsupported: 'no_ed25519' }
  }
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'deviceId' })
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

async function withStore<T>(
  mode: IDBTransactionMode,
  run: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await open()
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode)
      const req = run(tx.objectStore(STORE))
      tx.oncomplete = () => resolve(req.result)
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error)
    })
  } finally {
    db.close()
  }
}

/** Keeps the session's private key, and forgets the keys of sessions that have expired. */
export async function keepKey(deviceId: string, key: CryptoKey, expiresAt: string) {
  const all = await withStore<Kept[]>('readonly', (s) => s.getAll())
  const now = new Date()
  for (const k of all)
    if (new Date(k.expiresAt) <= now) await withStore('readwrite', (s) => s.delete(k.deviceId))
  await withStore('readwrite', (s) => s.put({ deviceId, key, expiresAt } satisfies Kept))
}

/** Whether this browser holds the key of the session's device. */
export async function hasKey(deviceId: string): Promise<boolean> {
  try {
    return !!(await withStore<Kept | undefined>('readonly', (s) => s.get(deviceId)))
  } catch {
    return false
  }
}

/** Signs `inputHex` with the session's key: the signature, hex; null without the key. */
export async function sign(deviceId: string, inputHex: string): Promise<string | null> {
  const kept = await withStore<Kept | undefined>('readonly', (s) => s.get(deviceId))
  if (!kept) return null
  const signature = await crypto.subtle.sign({ name: 'Ed25519' }, kept.key, unhex(inputHex))
  return hex(signature)
}

/** Forgets the session's key (at sign-out). */
export async function forgetKey(deviceId: string) {
  try {
    await withStore('readwrite', (s) => s.delete(deviceId))
  } catch {
    // Nothing kept, or IndexedDB is off: nothing to forget.
  }
}
