// The Gateways page's list of gateways known by other paths than being added.
import type { KnownGateway } from './backend';
import { ago } from './cards';
import { translate, type Translate } from './i18n';

export interface KnownState {
  /** How Ruuvi Desk knows it, for people. */
  via: string;
  text: string;
  level: 'ok' | 'attention' | 'quiet';
}

/** What a row says about a known gateway at `now` (posts older than 5 minutes are quiet). */
export function knownState(k: KnownGateway, now: number, t: Translate = translate()): KnownState {
  const via = [
    k.demo ? t('known.viaDemo') : '',
    k.posts_stored + k.posts_refused > 0 ? t('known.viaPosts') : '',
    k.mqtt_online !== null ? 'MQTT' : '',
    k.polled ? t('known.viaHistory') : '',
  ]
    .filter((v) => v !== '')
    .join(', ');
  const parts: string[] = [];
  let level: KnownState['level'] = 'quiet';
  if (k.last_post_ms !== null) {
    parts.push(t('known.lastPost', { values: { ago: ago(k.last_post_ms, now, t) } }));
    if (now - k.last_post_ms < 300_000) level = 'ok';
  }
  if (k.posts_refused > 0) {
    parts.push(t('known.refused', { values: { refused: k.posts_refused, total: k.posts_stored + k.posts_refused } }));
    level = 'attention';
  }
  if (k.mqtt_online !== null) {
    parts.push(t(k.mqtt_online ? 'known.mqttOnline' : 'known.mqttOffline'));
    if (k.mqtt_online && level === 'quiet') level = 'ok';
  }
  return { via: via || t('known.seen'), text: parts.join('; ') || t('known.nothingRecent'), level };
}
