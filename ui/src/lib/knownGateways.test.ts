import { describe, expect, it } from 'vitest';
import { knownState } from './knownGateways';
import type { KnownGateway } from './backend';

const base: KnownGateway = {
  mac: 'F1:90:FA:17:66:25', endpoint: null, name: null, added: false, logged_in: false, demo: false, demo_password: null,
  polled: false, posts_stored: 0, posts_refused: 0, last_post_ms: null, mqtt_online: null, sensors: 0,
};

describe('known gateways', () => {
  it('says how each is known and how it is doing', () => {
    const now = 1_000_000_000;
    expect(knownState({ ...base, demo: true, posts_stored: 20, last_post_ms: now - 3000 }, now)).toEqual({
      via: 'demo (simulated), posts to this computer',
      text: 'last post 3 s ago',
      level: 'ok',
    });
    expect(knownState({ ...base, posts_stored: 2, posts_refused: 3, last_post_ms: now - 1000 }, now)).toMatchObject({
      text: 'last post just now; 3 of its latest 5 posts refused',
      level: 'attention',
    });
    expect(knownState({ ...base, mqtt_online: false }, now)).toEqual({ via: 'MQTT', text: 'offline over MQTT', level: 'quiet' });
    expect(knownState({ ...base, posts_stored: 1, last_post_ms: now - 600_000 }, now).level).toBe('quiet');
  });
});
