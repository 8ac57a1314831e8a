// Names instead of ids on the 投诉建议 cards (the 待办 lists' other cards get theirs with
// /v1/todo's entries): a cadre's name from its cadre record, a household by its head's name,
// each asked of the server once (GET /v1/records/{id}). The server masks
// what the role may not read (the organisation department gets 张**); an id it will not
// show stays an id.
import type { Api } from './api'

export class Names {
  private cache = new Map<string, Promise<string | null>>()

  constructor(private readonly api: Api) {}

  private ask(id: string, read: (record: Record<string, unknown>) => unknown) {
    let found = this.cache.get(id)
    if (!found) {
      found = this.api.record(id).then(
        (v) => {
          const name = read(v.record as Record<string, unknown>)
          return typeof name === 'string' && name ? name : null
        },
        () => null,
      )
      this.cache.set(id, found)
    }
    return found
  }

  /** A cadre's (or an account's) name; null when the server holds no cadre record of it. */
  cadre(id: string): Promise<string | null> {
    return this.ask(id, (r) => r.name)
  }

  /** A household's head's name. */
  household(id: string): Promise<string | null> {
    return this.ask(id, (r) => {
      const members = r.members as Record<string, { name?: string }> | undefined
      const head = r.head_member_id
      return typeof head === 'string' ? members?.[head]?.name : undefined
    })
  }
}
