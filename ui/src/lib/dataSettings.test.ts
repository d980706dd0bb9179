import { describe, expect, it } from 'vitest';
import { appSettings } from '../test-fixtures';
import { dataForm, fromDataForm } from './dataSettings';

const now = appSettings({ receiver_enabled: true, resolution_minutes: 15 });

describe('data settings form', () => {
  it('round-trips the settings, empty meaning no limit', () => {
    const f = dataForm(now);
    expect(f).toEqual({ bluetooth: true, keepDays: '', resolutionMinutes: '15', webhook: '', internalApi: '' });
    expect(fromDataForm(f, now)).toEqual(now);
    expect(fromDataForm({ bluetooth: false, keepDays: ' 30 ', resolutionMinutes: '', webhook: ' https://hooks.example/ruuvi ', internalApi: ' 127.0.0.1:8444 ' }, now)).toEqual({
      receiver_enabled: true,
      bluetooth: false,
      keep_days: 30,
      resolution_minutes: null,
      alert_webhook: 'https://hooks.example/ruuvi',
      store: null,
      mqtt_feed: null,
      mqtt_sink: null,
      polls: [],
      internal_api: '127.0.0.1:8444',
      demo: null,
    });
  });

  it('names what is wrong', () => {
    expect(fromDataForm({ bluetooth: true, keepDays: '0', resolutionMinutes: '', webhook: '', internalApi: '' }, now)).toHaveProperty('error');
    expect(fromDataForm({ bluetooth: true, keepDays: '1.5', resolutionMinutes: '', webhook: '', internalApi: '' }, now)).toHaveProperty('error');
    expect(fromDataForm({ bluetooth: true, keepDays: '', resolutionMinutes: '1441', webhook: '', internalApi: '' }, now)).toHaveProperty('error');
    expect(fromDataForm({ bluetooth: true, keepDays: '', resolutionMinutes: '', webhook: 'hooks.example', internalApi: '' }, now)).toHaveProperty('error');
    expect(fromDataForm({ bluetooth: true, keepDays: '', resolutionMinutes: '', webhook: '', internalApi: 'localhost' }, now)).toHaveProperty('error');
  });
});
