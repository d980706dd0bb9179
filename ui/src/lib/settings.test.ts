import { describe, expect, it } from 'vitest';
import { convertTemperature, DEFAULT_SETTINGS, loadSettings, saveSettings, temperatureSymbol } from './settings';

function memory(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    clear: () => m.clear(),
    key: () => null,
    length: 0,
  };
}

describe('settings', () => {
  it('converts temperatures exactly', () => {
    expect(convertTemperature(100, 'F')).toBe(212);
    expect(convertTemperature(-40, 'F')).toBe(-40);
    expect(convertTemperature(0, 'K')).toBe(273.15);
    expect(convertTemperature(21.5, 'C')).toBe(21.5);
    expect(temperatureSymbol('F')).toBe('°F');
    expect(temperatureSymbol('K')).toBe('K');
  });

  it('saves and loads, and ignores what it does not understand', () => {
    const s = memory();
    expect(loadSettings(s)).toEqual(DEFAULT_SETTINGS);
    saveSettings(s, { temperature: 'F', theme: 'dark', language: 'fi' });
    expect(loadSettings(s)).toEqual({ temperature: 'F', theme: 'dark', language: 'fi' });
    s.setItem('ruuvi-desk.settings', '{"temperature": "X", "theme": 3}');
    expect(loadSettings(s)).toEqual(DEFAULT_SETTINGS);
    s.setItem('ruuvi-desk.settings', 'not json');
    expect(loadSettings(s)).toEqual(DEFAULT_SETTINGS);
  });
});
