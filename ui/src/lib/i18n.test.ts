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

/** The UI's sources (tests aside), by path. */
function uiSources(): Record<string, string> {
  const all = import.meta.glob('../**/*.{svelte,ts}', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  return Object.fromEntries(Object.entries(all).filter(([path]) => !path.endsWith('.test.ts')));
}

/** Names, codes and formats that read the same in every language. */
const SAME_IN_EVERY_LANGUAGE = /^(MAC|URL|MQTT|SHA-256|Ruuvi Cloud|Ruuvi Desk|\(HTTP\s*\)|[\w.-]+\/[\w./…-]*)$/;

/** Words a component's markup shows as they are written, not looked up: text between tags,
 * labels and placeholders written out, and quoted phrases in its expressions. */
function untranslatedText(component: string): string[] {
  const markup = component
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  // Literal text apart from {expressions} (braces nest; quotes inside them are skipped).
  let text = '';
  const expressions: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const c of markup) {
    if (depth === 0) {
      if (c === '{') {
        depth = 1;
        current = '';
      } else text += c;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      expressions.push(current);
      text += ' ';
      continue;
    }
    current += c;
  }
  const found: string[] = [];
  for (const piece of text.replace(/<[^>]*>/g, '\n').split('\n')) {
    const words = piece.replace(/&[a-z]+;/g, ' ').trim();
    if (/[A-Za-z]{2,}/.test(words) && !SAME_IN_EVERY_LANGUAGE.test(words)) found.push(words);
  }
  for (const m of text.matchAll(/\b(placeholder|aria-label|title|alt)="([^"]*)"/g)) {
    if (/[A-Za-z]{2,}\s/.test(m[2]) || /^[A-Z][a-z]/.test(m[2])) found.push(`${m[1]}="${m[2]}"`);
  }
  for (const e of expressions) {
    // Values compared or listed as a type's members are data, not words shown.
    const shown = e
      .replace(/[!=]==\s*('[^']*'|`[^`]*`)/g, '')
      .replace(/('[^']*'|`[^`]*`)\s*[!=]==/g, '')
      .replace(/\[[^\]]*\]\s+as\s+const/g, '');
    for (const m of shown.matchAll(/'([^']*)'|`([^`]*)`/g)) {
      const s = (m[1] ?? m[2]).replace(/\$\{[^}]*\}/g, '');
      // A phrase: two words with a space, or an ellipsis; one capitalised word ("Over").
      if (/[A-Za-z]{2,} +[A-Za-z]{2,}/.test(s) || /…/.test(s) || /^[A-Z][a-z]+$/.test(s)) found.push(s.trim());
    }
  }
  return found;
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
    const used = new Set<string>();
    for (const text of Object.values(uiSources())) {
      for (const m of text.matchAll(/(?:\$_|\bt)\(\s*'([a-zA-Z][\w]*(?:\.[\w]+)+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !enKeys.includes(k))).toEqual([]);
  });

  it('every key kept in a table, and every family of keys built at run time, is in the catalogue', () => {
    const namespaces = Object.keys(en).join('|');
    const keyed = new RegExp(`'((?:${namespaces})\\.[\\w]+(?:\\.[\\w]+)*)'`, 'g');
    const family = new RegExp(`\`((?:${namespaces})(?:\\.[\\w]+)*)\\.\\$\\{`, 'g');
    const keys = new Set<string>();
    const families = new Set<string>();
    for (const [path, text] of Object.entries(uiSources())) {
      for (const m of text.matchAll(keyed)) keys.add(`${path}: ${m[1]}`);
      for (const m of text.matchAll(family)) families.add(`${path}: ${m[1]}`);
    }
    expect(keys.size).toBeGreaterThan(300);
    expect(families.size).toBeGreaterThan(3);
    expect([...keys].filter((k) => !enKeys.includes(k.split(': ')[1]))).toEqual([]);
    expect([...families].filter((f) => typeof lookup(en, f.split(': ')[1]) !== 'object')).toEqual([]);
  });

  it('no page shows words that are not looked up in the catalogue', () => {
    const found: string[] = [];
    for (const [path, text] of Object.entries(uiSources())) {
      if (path.endsWith('.svelte')) found.push(...untranslatedText(text).map((w) => `${path}: ${w}`));
    }
    expect(found).toEqual([]);
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
