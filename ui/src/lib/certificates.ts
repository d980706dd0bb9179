// Words for the Certificates page.
import { translate, type Translate } from './i18n';

/** "valid for 729 more days (until 2028-11-22)", "expires in 12 days: renew it", "expired". */
export function expiryText(
  c: { days_left: number; not_after: number; renew_soon: boolean },
  t: Translate = translate(),
): string {
  const until = new Date(c.not_after * 1000).toISOString().slice(0, 10);
  if (c.days_left < 0) return t('certificates.expired', { values: { until } });
  if (c.renew_soon) return t('certificates.renewSoon', { values: { days: c.days_left, until } });
  return t('certificates.valid', { values: { days: c.days_left, until } });
}
