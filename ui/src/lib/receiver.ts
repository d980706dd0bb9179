// Words for the Receiver page.
import type { Outcome, ReceiverStatus } from './backend';

const OUTCOMES: Record<string, string> = {
  auth_failed: 'refused: wrong or missing credentials',
  client_cert_missing: 'refused: no client certificate',
  client_cert_mismatch: "refused: the client certificate is not this gateway's",
  bad_signature: 'refused: bad HMAC signature',
  bad_json: 'refused: not a gateway document',
  too_large: 'refused: too large',
  truncated: 'refused: the post stopped short (cut off or too slow)',
  unknown_gateway: 'refused: unknown gateway',
  busy: 'busy: the gateway will retry',
  store_failed: 'not stored: the database failed',
  not_whitelisted: 'refused: not on the whitelist',
  blocked: 'refused: blocked',
  bad_timestamp: 'refused: timestamp out of range',
  replay: 'refused: replayed request',
};

/** What happened to one post, for people. */
export function outcomeText(outcome: Outcome): string {
  if (typeof outcome === 'object' && 'stored' in outcome) {
    const n = outcome.stored.observations;
    return `stored ${n} observation${n === 1 ? '' : 's'}`;
  }
  return OUTCOMES[outcome as string] ?? String(outcome);
}

export function storedCount(s: ReceiverStatus): number {
  return s.posts.filter((p) => p.outcome === 'stored').reduce((n, p) => n + p.count, 0);
}

export function refusedCount(s: ReceiverStatus): number {
  return s.posts.reduce((n, p) => n + p.count, 0) - storedCount(s);
}
