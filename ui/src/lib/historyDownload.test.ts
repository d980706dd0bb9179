import { afterEach, describe, expect, it } from 'vitest';
import { useLanguage } from './i18n';
import { downloadable, progressOf, reportText, sinceOf, stepText } from './historyDownload';
import { sensorCard } from '../test-fixtures';

const NOW = 1_800_000_000_000;

describe('history download', () => {
  afterEach(() => useLanguage('en'));

  it('is offered for sensors heard over Bluetooth only', () => {
    expect(downloadable(sensorCard({ sensor: 'AA:00:00:00:00:01', feed: { kind: 'ble' } }))).toBe(true);
    expect(downloadable(sensorCard({ sensor: 'AA:00:00:00:00:01', feed: { kind: 'ble_history' } }))).toBe(true);
    expect(downloadable(sensorCard({ sensor: 'AA:00:00:00:00:01', feed: { kind: 'gateway_post', gateway: 'C8:25:2D:8E:9C:2C' } }))).toBe(false);
  });

  it('measures progress against the records the range holds', () => {
    const since = sinceOf('day', NOW);
    expect(since).toBe(NOW - 86_400_000);
    expect(sinceOf('all', NOW)).toBeNull();
    expect(progressOf({ step: 'connecting' }, since, NOW)).toEqual({ value: 0, max: 288 });
    expect(progressOf({ step: 'reading', records: 144 }, since, NOW)).toEqual({ value: 144, max: 288 });
    // A log longer than expected never runs past the end of the bar.
    expect(progressOf({ step: 'reading', records: 300 }, since, NOW)).toEqual({ value: 300, max: 300 });
    expect(progressOf({ step: 'done', records: 200 }, since, NOW)).toEqual({ value: 288, max: 288 });
    expect(progressOf({ step: 'reading', records: 10 }, null, NOW).max).toBe(2880);
  });

  it('says what it brought in the language', () => {
    const report = { sensor: 'C8:25:2D:8E:9C:2C', kind: 'ruuvi_tag' as const, received: 288, stored: 156, already_had: 132, error: null };
    expect(reportText(report)).toBe('288 records from the sensor: 156 new, 132 already here.');
    useLanguage('fi');
    expect(reportText({ ...report, error: 'the connection dropped' })).toBe(
      'Keskeytyi: the connection dropped. 288 tietuetta anturista: 156 uutta, 132 oli jo täällä.',
    );
    expect(stepText({ step: 'reading', records: 12 })).toBe('Luetaan lokia: 12 tietuetta');
  });
});
