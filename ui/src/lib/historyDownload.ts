// The "Download history" part of a Bluetooth sensor's detail: from when, how far along, and
// what it brought, in the UI's language.
import type { DownloadStep, HistoryReport, SensorCard } from './backend';
import { translate, type Translate } from './i18n';

/** A sensor's log holds one record per 5 minutes. */
const LOG_EVERY_MS = 300_000;
const DAY_MS = 86_400_000;

export type SinceChoice = 'day' | 'days3' | 'all';
export const SINCE_CHOICES: SinceChoice[] = ['day', 'days3', 'all'];

/** Whether the sensor is heard over this computer's Bluetooth (only then can it be read). */
export function downloadable(card: SensorCard): boolean {
  return card.feed.kind === 'ble' || card.feed.kind === 'ble_history';
}

/** From when to download (`null`: everything the sensor keeps, about 10 days). */
export function sinceOf(choice: SinceChoice, nowMs: number): number | null {
  return choice === 'day' ? nowMs - DAY_MS : choice === 'days3' ? nowMs - 3 * DAY_MS : null;
}

/** A progress bar's value and maximum: the records expected in the range (10 days when the
 * whole log), never less than what has arrived. */
export function progressOf(step: DownloadStep, sinceMs: number | null, nowMs: number): { value: number; max: number } {
  const expected = Math.max(1, Math.round((nowMs - (sinceMs ?? nowMs - 10 * DAY_MS)) / LOG_EVERY_MS));
  const records = step.step === 'reading' || step.step === 'done' ? step.records : 0;
  return { value: step.step === 'done' ? Math.max(records, expected) : records, max: Math.max(expected, records) };
}

/** Where the download is, in words. */
export function stepText(step: DownloadStep, t: Translate = translate()): string {
  switch (step.step) {
    case 'finding':
      return t('bleHistory.step.finding');
    case 'connecting':
      return t('bleHistory.step.connecting');
    case 'reading':
      return t('bleHistory.step.reading', { values: { records: step.records } });
    case 'done':
      return t('bleHistory.step.done', { values: { records: step.records } });
  }
}

/** What the download brought (and why it ended early, if it did). */
export function reportText(r: HistoryReport, t: Translate = translate()): string {
  const brought = t('bleHistory.report', { values: { received: r.received, stored: r.stored, already: r.already_had } });
  return r.error ? `${t('bleHistory.stopped', { values: { error: r.error } })} ${brought}` : brought;
}
