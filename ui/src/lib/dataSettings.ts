// The Settings page's "Data and Bluetooth" form: inputs as typed, checked, and turned into
// the backend's AppSettings.
import type { AppSettings } from './backend';
import { translate, type Translate } from './i18n';

export interface DataForm {
  bluetooth: boolean;
  /** Days, empty: keep everything. */
  keepDays: string;
  /** Minutes, empty: full resolution. */
  resolutionMinutes: string;
  /** Where alerts are POSTed; empty: nowhere. */
  webhook: string;
  /** Where the Internal API listens (`127.0.0.1:8444`); empty: off. */
  internalApi: string;
}

export function dataForm(s: AppSettings): DataForm {
  return {
    bluetooth: s.bluetooth,
    keepDays: s.keep_days === null ? '' : String(s.keep_days),
    resolutionMinutes: s.resolution_minutes === null ? '' : String(s.resolution_minutes),
    webhook: s.alert_webhook ?? '',
    internalApi: s.internal_api ?? '',
  };
}

function whole(text: string, min: number, max: number): number | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= min && n <= max ? n : undefined;
}

/** The settings to save, or what is wrong with the form. */
export function fromDataForm(f: DataForm, current: AppSettings, t: Translate = translate()): AppSettings | { error: string } {
  const keep = whole(f.keepDays, 1, 36500);
  if (keep === undefined) return { error: t('dataSettings.check.keep') };
  const resolution = whole(f.resolutionMinutes, 1, 1440);
  if (resolution === undefined) return { error: t('dataSettings.check.resolution') };
  const webhook = f.webhook.trim();
  if (webhook !== '' && !/^https?:\/\/[^/\s]+/.test(webhook))
    return { error: t('dataSettings.check.webhook') };
  const internalApi = f.internalApi.trim();
  if (internalApi !== '' && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(internalApi))
    return { error: t('dataSettings.check.internalApi') };
  return {
    ...current,
    internal_api: internalApi === '' ? null : internalApi,
    bluetooth: f.bluetooth,
    keep_days: keep,
    resolution_minutes: resolution,
    alert_webhook: webhook === '' ? null : webhook,
  };
}
