import { describe, expect, it } from 'vitest';
import { bleChip, databaseChip, mqttChip, receiverChip } from './status';

describe('status chips', () => {
  it('keeps raw system messages out of the chip and in its details', () => {
    const chip = bleChip({
      state: 'unavailable',
      kind: 'permission_denied',
      reason: 'org.bluez.Error.NotPermitted',
      hint: 'Allow Ruuvi Desk to use Bluetooth',
      message: 'Bluetooth unavailable: org.bluez.Error.NotPermitted',
    });
    expect([chip.state, chip.summary]).toEqual(['problem', 'not allowed']);
    expect(chip.details).toEqual(['Bluetooth unavailable: org.bluez.Error.NotPermitted']);
    expect(chip.action).toBe('Allow Ruuvi Desk to use Bluetooth');
    expect(bleChip({ state: 'scanning', adapter: 'hci0', message: 'Bluetooth: scanning with hci0' })).toMatchObject({ state: 'ok', summary: 'scanning' });
    expect(bleChip({ state: 'off', message: 'Bluetooth is off' }).state).toBe('off');
  });

  it('says how the receiver, MQTT and the database are doing', () => {
    expect(receiverChip({ url: null, posts: [], observations: 0, gateways: [] })).toMatchObject({ state: 'off', summary: 'off' });
    const refusedOnly = receiverChip({ url: 'https://127.0.0.1:8443/record', posts: [{ outcome: 'auth_failed', count: 3 }], observations: 0, gateways: [] });
    expect(refusedOnly.state).toBe('attention');
    expect(refusedOnly.details[1]).toBe('0 posts stored, 3 refused since the start');
    const mqtt = { storage: '/d/o.sqlite', storage_problem: null, mqtt: { feed: null, sink: { connected: false, published: 0, last_error: 'connection refused' } } };
    expect(mqttChip(mqtt)).toMatchObject({ state: 'problem', summary: 'not connected', details: ['Sink: not connected (connection refused)'] });
    expect(mqttChip({ ...mqtt, mqtt: { feed: null, sink: null } })).toBeNull();
    expect(databaseChip({ ...mqtt, storage_problem: 'opening postgres://db/ruuvi: timed out' })).toMatchObject({
      state: 'problem',
      details: ['opening postgres://db/ruuvi: timed out', 'In use: /d/o.sqlite'],
    });
  });
});
