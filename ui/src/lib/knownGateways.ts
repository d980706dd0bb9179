// The Gateways page's list of gateways known by other paths than being added.
import type { KnownGateway } from './backend';
import { ago } from './cards';

export interface KnownState {
  /** How Ruuvi Desk knows it, for people. */
  via: string;
  text: string;
  level: 'ok' | 'attention' | 'quiet';
}

/** What a row says about a known gateway at `now` (posts older than 5 minutes are quiet). */
export function knownState(k: KnownGateway, now: number): KnownState {
  const via = [
    k.demo ? 'demo (simulated)' : '',
    k.posts_stored + k.posts_refused > 0 ? 'posts to this computer' : '',
    k.mqtt_online !== null ? 'MQTT' : '',
    k.polled ? 'history read' : '',
  ]
    .filter((v) => v !== '')
    .join(', ');
  const parts: string[] = [];
  let level: KnownState['level'] = 'quiet';
  if (k.last_post_ms !== null) {
    parts.push(`last post ${ago(k.last_post_ms, now)}`);
    if (now - k.last_post_ms < 300_000) level = 'ok';
  }
  if (k.posts_refused > 0) {
    parts.push(`${k.posts_refused} of its latest ${k.posts_stored + k.posts_refused} posts refused`);
    level = 'attention';
  }
  if (k.mqtt_online !== null) {
    parts.push(k.mqtt_online ? 'online over MQTT' : 'offline over MQTT');
    if (k.mqtt_online && level === 'quiet') level = 'ok';
  }
  return { via: via || 'seen', text: parts.join('; ') || 'nothing recent', level };
}
