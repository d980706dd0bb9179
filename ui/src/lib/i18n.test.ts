import { describe, expect, it, afterEach } from 'vitest';
import { CATALOGUES, LANGUAGES, catalogueKeys, formatNumber, systemLanguage, useLanguage } from './i18n';
import { ago, cardValues } from './cards';
import { readings, sensorCard } from '../test-fixtures';

const en = CATALOGUES.en as Record<string, unknown>;
const enKeys = catalogueKeys(en);

/** A message's `{placeholders}` (plural forms' own words aside). */
function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)(?:,|\})/g)].map((m) => m[1]).sort();
}

function lookup(messages: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((m, k) => (m as Record<string, unknown> | undefined)?.[k], messages);
}

describe('catalogues', () => {
  afterEach(() => useLanguage('en'));

  it('every language has every English message, with the same placeholders, and nothing else', () => {
    for (const { code } of LANGUAGES) {
      const messages = CATALOGUES[code] as Record<string, unknown>;
      const keys = catalogueKeys(messages);
      expect(enKeys.filter((k) => !keys.includes(k)), `${code} lacks`).toEqual([]);
      expect(keys.filter((k) => !enKeys.includes(k)), `${code} has extra`).toEqual([]);
      for (const key of enKeys) {
        const text = lookup(messages, key);
        expect(typeof text === 'string' && text.trim() !== '', `${code}: ${key} is empty`).toBe(true);
        expect(placeholders(text as string), `${code}: ${key}`).toEqual(placeholders(lookup(en, key) as string));
      }
    }
  });

  it('every message the UI asks for is in the catalogue', () => {
    const sources = import.meta.glob('../**/*.{svelte,ts}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
    const used = new Set<string>();
    for (const [path, text] of Object.entries(sources)) {
      if (path.endsWith('.test.ts')) continue;
      for (const m of text.matchAll(/(?:\$_|\bt)\(\s*'([a-zA-Z][\w]*(?:\.[\w]+)+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !enKeys.includes(k))).toEqual([]);
  });

  it('takes the system language when it is one of ours', () => {
    expect(systemLanguage(['fi-FI', 'en-US'])).toBe('fi');
    expect(systemLanguage(['pt-BR', 'sv_SE'])).toBe('sv');
    expect(systemLanguage(['pt-BR'])).toBe('en');
    expect(systemLanguage([])).toBe('en');
  });

  it('writes numbers and words as the language does', () => {
    const card = sensorCard({ sensor: 'AA:00:00:00:00:01', readings: readings({ temperature_c: 21.456, humidity_pct: 40.4, pressure_pa: 100_523 }) });
    useLanguage('fi');
    expect(cardValues(card).map((v) => `${v.label} ${v.value}`)).toEqual(['Lämpötila 21,5', 'Kosteus 40', 'Ilmanpaine 1005']);
    expect(ago(0, 300_000)).toBe('5 min sitten');
    useLanguage('de');
    expect(cardValues(card)[0].value).toBe('21,5');
    expect(ago(0, 7_200_000)).toBe('vor 2 h');
    useLanguage('en');
    expect(cardValues(card)[0].value).toBe('21.5');
    expect(formatNumber(1234.5, 1, 'fr')).toBe('1234,5');
  });
});
