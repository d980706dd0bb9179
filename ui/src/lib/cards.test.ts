import { describe, expect, it } from 'vitest';
import { ago, cardValues, cardsMatching, kindLabel, withCard } from './cards';
import { tokenFrom } from './httpBackend';
import { usableLanguage } from './locale';
import type { SensorCard } from './backend';
import { derived, readings, sensorCard } from '../test-fixtures';

function card(sensor: string, kind: SensorCard['kind'], some: Partial<SensorCard['readings']>): SensorCard {
  return sensorCard({
    sensor,
    kind,
    format: kind === 'ruuvi_air' ? 'E1' : 'Df5',
    rssi: -60,
    readings: readings(some),
    derived: derived({ iaqs: kind === 'ruuvi_air' ? 93.4 : null }),
  });
}

describe('cards', () => {
  it('shows a tag its climate values and an Air its air quality too', () => {
    const tag = cardValues(card('AA', 'ruuvi_tag', { temperature_c: 21.456, humidity_pct: 40.4, pressure_pa: 100_523 }));
    expect(tag.map((v) => `${v.label} ${v.value} ${v.unit}`)).toEqual([
      'Temperature 21.5 °C',
      'Humidity 40 %',
      'Pressure 1005 hPa',
    ]);
    const fahrenheit = cardValues(card('AA', 'ruuvi_tag', { temperature_c: 20 }), 'F');
    expect(`${fahrenheit[0].value} ${fahrenheit[0].unit}`).toBe('68.0 °F');
    const air = cardValues(card('BB', 'ruuvi_air', { temperature_c: 22, co2_ppm: 612.4, pm2_5: 3.25 }));
    expect(air.map((v) => v.key)).toEqual(['temperature', 'iaqs', 'co2', 'pm25']);
    expect(air.find((v) => v.key === 'iaqs')?.value).toBe('93');
    expect(kindLabel(card('BB', 'ruuvi_air', {}))).toBe('Ruuvi Air');
  });

  it('says how fresh a value is', () => {
    expect(ago(10_000, 10_500)).toBe('just now');
    expect(ago(0, 12_000)).toBe('12 s ago');
    expect(ago(0, 5 * 60_000)).toBe('5 min ago');
    expect(ago(0, 3 * 3_600_000)).toBe('3 h ago');
    expect(ago(0, 2 * 86_400_000)).toBe('2 d ago');
  });

  it('replaces a sensor card and keeps the order', () => {
    const cards = [card('AA', 'ruuvi_tag', {}), card('CC', 'ruuvi_tag', {})];
    const next = withCard(cards, card('BB', 'ruuvi_air', {}));
    expect(next.map((c) => c.sensor)).toEqual(['AA', 'BB', 'CC']);
    const updated = withCard(next, card('AA', 'ruuvi_tag', { temperature_c: 5 }));
    expect(updated.length).toBe(3);
    expect(updated[0].readings.temperature_c).toBe(5);
  });

  it('tells a usable language tag from the C locale', () => {
    expect(usableLanguage('en-US')).toBe(true);
    expect(usableLanguage('C')).toBe(false);
  });

  it('reads the token from the page address', () => {
    expect(tokenFrom('#token=00ff')).toBe('00ff');
    expect(tokenFrom('#view=x&token=abc1')).toBe('abc1');
    expect(tokenFrom('')).toBeNull();
  });

  it('finds sensors by MAC, kind or gateway', () => {
    const all = [
      { ...card('C8:25:2D:8E:9C:2C', 'ruuvi_tag', {}), source: 'gateway AA:BB:CC:DD:EE:01' },
      { ...card('D1:00:00:00:00:02', 'ruuvi_air', {}), source: 'Bluetooth' },
    ];
    expect(cardsMatching(all, '')).toHaveLength(2);
    expect(cardsMatching(all, ' 9c:2c ').map((c) => c.sensor)).toEqual(['C8:25:2D:8E:9C:2C']);
    expect(cardsMatching(all, 'air').map((c) => c.sensor)).toEqual(['D1:00:00:00:00:02']);
    expect(cardsMatching(all, 'gateway aa:bb')).toHaveLength(1);
    expect(cardsMatching(all, 'nothing')).toHaveLength(0);
  });
});
