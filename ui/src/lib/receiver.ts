// Words for the Receiver page.
import type { Outcome, ReceiverStatus } from './backend';
import { CATALOGUES, translate, type Translate } from './i18n';

/** What happened to one post, for people (in the current language). */
export function outcomeText(outcome: Outcome, t: Translate = translate()): string {
  if (typeof outcome === 'object' && 'stored' in outcome) {
    return t('receiver.outcome.stored', { values: { count: outcome.stored.observations } });
  }
  const known = (CATALOGUES.en.receiver as { outcome: Record<string, string> }).outcome;
  return typeof outcome === 'string' && outcome in known ? t(`receiver.outcome.${outcome}`) : String(outcome);
}

export function storedCount(s: ReceiverStatus): number {
  return s.posts.filter((p) => p.outcome === 'stored').reduce((n, p) => n + p.count, 0);
}

export function refusedCount(s: ReceiverStatus): number {
  return s.posts.reduce((n, p) => n + p.count, 0) - storedCount(s);
}
