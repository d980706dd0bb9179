import { describe, expect, it } from 'vitest';
import { applyCalibration, knownLocations, parseOffset, sensorChange, sensorForm } from './sensorForm';
import { arrange, cardsMatching } from './cards';
import { summary } from './series';
import { sparkPath } from './sparkline';
import { readings, sensorCard } from '../test-fixtures';

const tag = (sensor: string, some: Parameters<typeof sensorCard>[0] extends infer T ? Partial<T> : never = {}) =>
  sensorCard({ sensor, ...some });

describe('sensor form', () => {
  it('shows offsets in the reader\'s unit and sends them in °C, Pa', () => {
    const card = tag('AA:00:00:00:00:01', {
      name: 'Sauna',
      named: true,
      calibration: { temperature_c: -0.5, humidity_pct: 2, pressure_pa: 150 },
    });
    expect(sensorForm(card, 'C')).toMatchObject({ name: 'Sauna', temperature: '-0.5', humidity: '2', pressure: '1.5' });
    expect(sensorForm(card, 'F').temperature).toBe('-0.9');
    const sent = sensorChange(card, { ...sensorForm(card, 'F'), temperature: '1,8' }, 'F');
    expect(sent).toEqual({
      change: {
        sensor: 'AA:00:00:00:00:01',
        name: 'Sauna',
        location: '',
        note: '',
        calibration: { temperature_c: 1, humidity_pct: 2, pressure_pa: 150 },
      },
    });
    // A default name is not sent back as a given one.
    expect(sensorForm(tag('AA:00:00:00:00:02'), 'C').name).toBe('');
  });

  it('refuses what the backend would refuse, with the reason', () => {
    const card = tag('AA:00:00:00:00:01');
    const form = sensorForm(card, 'C');
    expect(sensorChange(card, { ...form, temperature: '51' }, 'C')).toEqual({
      problem: 'The temperature offset must be between -50 °C and 50 °C.',
    });
    expect(sensorChange(card, { ...form, temperature: '91' }, 'F')).toHaveProperty('problem');
    expect(sensorChange(card, { ...form, temperature: '89' }, 'F')).toHaveProperty('change');
    expect(sensorChange(card, { ...form, humidity: 'abc' }, 'C')).toEqual({ problem: 'The humidity offset is not a number.' });
    expect(sensorChange(card, { ...form, pressure: '101' }, 'C')).toHaveProperty('problem');
    expect(sensorChange(card, { ...form, name: 'ä'.repeat(64) }, 'C')).toHaveProperty('change');
    expect(sensorChange(card, { ...form, name: 'ä'.repeat(65) }, 'C')).toHaveProperty('problem');
    expect([parseOffset(''), parseOffset(' +0,25 '), parseOffset('−1'), parseOffset('1.2.3'), parseOffset('e5')]).toEqual([
      0, 0.25, -1, null, null,
    ]);
  });

  it('previews calibration as the backend applies it', () => {
    expect(
      applyCalibration({ temperature_c: 20, humidity_pct: 99, pressure_pa: null }, { temperature_c: 0.5, humidity_pct: 3, pressure_pa: 10 }),
    ).toEqual({ temperature_c: 20.5, humidity_pct: 100, pressure_pa: null });
    expect(knownLocations([tag('A1', { location: 'Sauna' }), tag('A2', { location: '' }), tag('A3', { location: 'Keittiö' }), tag('A4', { location: 'Sauna' })])).toEqual([
      'Keittiö',
      'Sauna',
    ]);
  });
});

describe('arranging cards', () => {
  const cards = [
    tag('AA:00:00:00:00:03', { name: 'Ö-huone', location: 'Koti', last_seen_ms: 3 }),
    tag('AA:00:00:00:00:01', { name: 'Zeta', location: '', last_seen_ms: 1, feed: { kind: 'gateway_post', gateway: 'C8:25:2D:8E:9C:2C' } }),
    tag('AA:00:00:00:00:02', { name: 'Aamu', location: 'Mökki', last_seen_ms: 2 }),
  ];
  it('sorts names by the language\'s rules and groups with the empty group last', () => {
    const names = (g: ReturnType<typeof arrange>) => g.flatMap((x) => x.cards.map((c) => c.name));
    // Finnish and Swedish put Ö after Z; English treats it as O.
    expect(names(arrange(cards, 'name', 'none', 'fi'))).toEqual(['Aamu', 'Zeta', 'Ö-huone']);
    expect(names(arrange(cards, 'name', 'none', 'en'))).toEqual(['Aamu', 'Ö-huone', 'Zeta']);
    expect(names(arrange(cards, 'last_seen', 'none'))).toEqual(['Ö-huone', 'Aamu', 'Zeta']);
    const byPlace = arrange(cards, 'name', 'location', 'fi');
    expect(byPlace.map((g) => g.title)).toEqual(['Koti', 'Mökki', 'No location']);
    const byGateway = arrange(cards, 'sensor', 'gateway');
    expect(byGateway.map((g) => g.title)).toEqual(['C8:25:2D:8E:9C:2C', 'Bluetooth (this computer)']);
  });
  it('finds by name and location', () => {
    expect(cardsMatching(cards, 'mökki').map((c) => c.name)).toEqual(['Aamu']);
    expect(cardsMatching(cards, 'ö-HUONE').map((c) => c.name)).toEqual(['Ö-huone']);
  });
});

describe('chart summary and sparkline', () => {
  it('takes the spread of each point into the lowest and highest', () => {
    const p = (t: number, low?: number, high?: number) => ({
      at_ms: 0,
      readings: readings({ temperature_c: t }),
      low: low === undefined ? null : readings({ temperature_c: low }),
      high: high === undefined ? null : readings({ temperature_c: high }),
    });
    expect(summary([p(20, 18, 23), p(22), p(24, 21, 25)], 'temperature_c')).toEqual({ min: 18, max: 25, mean: 22, points: 3 });
    expect(summary([p(20)], 'co2_ppm')).toBeNull();
  });
  it('draws a line with gaps, the highest at the top', () => {
    const path = sparkPath([1, 3, null, 2, 2], 40, 10);
    expect(path).toEqual({ d: 'M0 10L10 0M30 5L40 5', min: 1, max: 3 });
    expect(sparkPath([null, 5, null], 10, 10)).toBeNull();
    expect(sparkPath([4, 4], 10, 10)?.d).toBe('M0 5L10 5');
  });
});
