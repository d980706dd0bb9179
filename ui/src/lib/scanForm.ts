// The gateway's Bluetooth scanning form: the manufacturer filter, a list of tags to forward
// (or to leave out), and the radio's PHYs and channels, as inputs hold them; per-field checks
// before anything is sent; and the `ScanProfile` the backend takes (it checks again against
// the firmware).
import type { Radio, ScanProfile } from './backend';
import { translate, type Translate } from './i18n';

export const RUUVI_COMPANY_ID = 0x0499;
export const MAX_LISTED = 100;

export interface ScanFormState {
  /** `ruuvi`: Ruuvi's 0x0499; `other`: the id typed; `off`: every manufacturer. */
  company: 'ruuvi' | 'other' | 'off';
  /** Decimal or 0x…, as typed. */
  companyId: string;
  list: 'off' | 'allow' | 'deny';
  /** MACs, one per line (commas and spaces also separate). */
  tags: string;
  /** The firmware's defaults for PHYs and channels. */
  radioDefault: boolean;
  radio: Radio;
}

const DEFAULT_RADIO: Radio = {
  coded_phy: false,
  phy_1m: true,
  phy_2m: true,
  channel_37: true,
  channel_38: true,
  channel_39: true,
};

/** The form as the gateway's settings fill it. */
export function scanFormFromGateway(s: ScanProfile): ScanFormState {
  const id = s.company_filter;
  return {
    company: id === null ? 'off' : id === RUUVI_COMPANY_ID ? 'ruuvi' : 'other',
    companyId: id === null || id === RUUVI_COMPANY_ID ? '' : `0x${id.toString(16).toUpperCase().padStart(4, '0')}`,
    list: s.tags.mode,
    tags: s.tags.mode === 'off' ? '' : s.tags.tags.join('\n'),
    radioDefault: s.radio === null,
    radio: { ...(s.radio ?? DEFAULT_RADIO) },
  };
}

export type ScanFormErrors = Partial<Record<'companyId' | 'tags' | 'radio', string>>;

const MAC = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/;

/** The MACs typed, upper case, in order. */
export function listedTags(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((t) => t.trim().toUpperCase())
    .filter((t) => t !== '');
}

function companyId(text: string): number | null {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : null;
}

/** Per-field problems; empty when the form can be sent. */
export function validateScanForm(f: ScanFormState, t: Translate = translate()): ScanFormErrors {
  const errors: ScanFormErrors = {};
  if (f.company === 'other' && companyId(f.companyId) === null) {
    errors.companyId = t('scanForm.check.company');
  }
  if (f.list !== 'off') {
    const tags = listedTags(f.tags);
    const wrong = tags.find((tag) => !MAC.test(tag));
    const twice = tags.find((tag, i) => tags.indexOf(tag) !== i);
    if (wrong) errors.tags = t('scanForm.check.notMac', { values: { tag: wrong } });
    else if (twice) errors.tags = t('scanForm.check.twice', { values: { tag: twice } });
    else if (tags.length > MAX_LISTED) errors.tags = t('scanForm.check.tooMany', { values: { count: tags.length, max: MAX_LISTED } });
    else if (f.list === 'allow' && tags.length === 0) errors.tags = t('scanForm.check.emptyAllow');
  }
  if (!f.radioDefault) {
    const r = f.radio;
    if (!(r.channel_37 || r.channel_38 || r.channel_39)) errors.radio = t('scanForm.check.channel');
    else if (!(r.phy_1m || r.phy_2m || r.coded_phy)) errors.radio = t('scanForm.check.phy');
  }
  return errors;
}

/** What the backend takes (call only when `validateScanForm` is empty). */
export function toScanProfile(f: ScanFormState): ScanProfile {
  const tags = listedTags(f.tags);
  return {
    company_filter: f.company === 'off' ? null : f.company === 'ruuvi' ? RUUVI_COMPANY_ID : companyId(f.companyId),
    tags: f.list === 'off' ? { mode: 'off' } : { mode: f.list, tags },
    radio: f.radioDefault ? null : { ...f.radio },
  };
}
