import { describe, expect, it } from 'vitest';
import { dataForm, fromDataForm } from './dataSettings';

const now = { receiver_enabled: true, bluetooth: true, keep_days: null, resolution_minutes: 15 };

describe('data settings form', () => {
  it('round-trips the settings, empty meaning no limit', () => {
    const f = dataForm(now);
    expect(f).toEqual({ bluetooth: true, keepDays: '', resolutionMinutes: '15' });
    expect(fromDataForm(f, now)).toEqual(now);
    expect(fromDataForm({ bluetooth: false, keepDays: ' 30 ', resolutionMinutes: '' }, now)).toEqual({
      receiver_enabled: true,
      bluetooth: false,
      keep_days: 30,
      resolution_minutes: null,
    });
  });

  it('names what is wrong', () => {
    expect(fromDataForm({ bluetooth: true, keepDays: '0', resolutionMinutes: '' }, now)).toHaveProperty('error');
    expect(fromDataForm({ bluetooth: true, keepDays: '1.5', resolutionMinutes: '' }, now)).toHaveProperty('error');
    expect(fromDataForm({ bluetooth: true, keepDays: '', resolutionMinutes: '1441' }, now)).toHaveProperty('error');
  });
});
