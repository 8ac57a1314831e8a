// What to do after a refusal, by its code: the 待办's cards show the server's message and
// code, then this advice (`todo.advice.*`) in a clerk's words.

const GROUPS: Record<string, string[]> = {
  taken: [
    'review_locked',
    'wrong_order',
    'leave_locked',
    'leave_not_pending',
    'steps_out_of_order',
    'step_rewritten',
    'not_needed',
    'ledger_already_signed',
    'signature_final',
  ],
  again: [
    'signing_key_required',
    'bad_signature',
    'actor_not_bound',
    'no_signing_key',
    'device_revoked',
    'bad_token',
  ],
  scope: ['not_found', 'out_of_scope', 'moved_record', 'unknown_scope'],
  self: ['self_approval'],
  other: [
    'wrong_level',
    'wrong_approver',
    'not_assigner',
    'not_handler',
    'not_endorser',
    'not_yours',
  ],
  fill: ['reason_required', 'malformed'],
  window: ['outside_window'],
  exit: ['exit_not_ready'],
  figures: ['figures_changed'],
  month: ['month_not_over'],
  clock: ['signed_at_off'],
  network: ['network'],
}

/** The advice group of a refusal's code (`default` for any other). */
export function adviceGroup(code: string): string {
  return Object.entries(GROUPS).find(([, codes]) => codes.includes(code))?.[0] ?? 'default'
}

/** Whether after this refusal the list is stale (someone else acted, or the item left it). */
export function staleAfter(code: string): boolean {
  return ['taken', 'scope'].includes(adviceGroup(code))
}
