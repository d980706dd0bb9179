// What a sensor card shows: the values that matter for its kind, with units, and how fresh it is.
import type { SensorCard } from './backend';
import { convertTemperature, temperatureSymbol, type TemperatureUnit } from './settings';
import { currentLocale, formatNumber, translate, type Translate } from './i18n';

export interface CardValue {
  key: string;
  label: string;
  value: string;
  unit: string;
}

/** The main values of a card, in display order, numbers as the language writes them (`t`:
 * the current language's lookup); values the sensor does not have are left out. */
export function cardValues(card: SensorCard, unit: TemperatureUnit = 'C', t: Translate = translate()): CardValue[] {
  const lang = currentLocale();
  const fixed = (v: number | null | undefined, decimals: number): string | null =>
    typeof v === 'number' && Number.isFinite(v) ? formatNumber(v, decimals, lang) : null;
  const r = card.readings;
  const temperature = r.temperature_c === null ? null : convertTemperature(r.temperature_c, unit);
  const rows: [string, string, string | null, string][] = [
    ['temperature', t('values.temperature'), fixed(temperature, 1), temperatureSymbol(unit)],
    ['humidity', t('values.humidity'), fixed(r.humidity_pct, 0), '%'],
    ['pressure', t('values.pressure'), fixed(r.pressure_pa === null ? null : r.pressure_pa / 100, 0), 'hPa'],
  ];
  if (card.kind === 'ruuvi_air') {
    rows.push(
      ['iaqs', t('values.airQuality'), fixed(card.derived.iaqs, 0), '/100'],
      ['co2', t('values.co2'), fixed(r.co2_ppm, 0), 'ppm'],
      ['pm25', t('values.pm25'), fixed(r.pm2_5, 1), 'µg/m³'],
    );
  }
  return rows
    .filter(([, , value]) => value !== null)
    .map(([key, label, value, unit]) => ({ key, label, value: value as string, unit }));
}

/** Product names: the same in every language. */
export function kindLabel(card: SensorCard): string {
  return card.kind === 'ruuvi_air' ? 'Ruuvi Air' : 'RuuviTag';
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago" (in the current language). */
export function ago(thenMs: number, nowMs: number, t: Translate = translate()): string {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 2) return t('ago.now');
  if (s < 60) return t('ago.seconds', { values: { n: s } });
  if (s < 3600) return t('ago.minutes', { values: { n: Math.floor(s / 60) } });
  if (s < 86400) return t('ago.hours', { values: { n: Math.floor(s / 3600) } });
  return t('ago.days', { values: { n: Math.floor(s / 86400) } });
}

/** Cards keyed by sensor, updated by one new card; sorted by sensor for a stable layout. A
 * known sensor's card is replaced where it stands (every live update takes this path); a new
 * one goes in at its sorted place. `cards` must already be sorted. */
export function withCard(cards: SensorCard[], card: SensorCard): SensorCard[] {
  const at = cards.findIndex((c) => c.sensor.localeCompare(card.sensor) >= 0);
  const next = [...cards];
  if (at >= 0 && cards[at].sensor === card.sensor) next[at] = card;
  else next.splice(at < 0 ? cards.length : at, 0, card);
  return next;
}

/** The cards whose name, location, MAC, kind or source contain `text` (any case); all of
 * them for none. */
export function cardsMatching(cards: SensorCard[], text: string): SensorCard[] {
  const needle = text.trim().toLocaleLowerCase();
  if (needle === '') return cards;
  return cards.filter(
    (c) =>
      c.name.toLocaleLowerCase().includes(needle) ||
      c.location.toLocaleLowerCase().includes(needle) ||
      c.sensor.toLowerCase().includes(needle) ||
      c.source.toLowerCase().includes(needle) ||
      kindLabel(c).toLowerCase().includes(needle),
  );
}

export type SortBy = 'name' | 'sensor' | 'last_seen';
export type GroupBy = 'none' | 'location' | 'gateway' | 'kind';

/** The gateway a card's latest observation came through ('' for Bluetooth). */
export function gatewayOf(card: SensorCard): string {
  return card.feed.kind === 'ble' || card.feed.kind === 'ble_history' ? '' : (card.feed.gateway ?? '');
}

export interface CardGroup {
  key: string;
  /** `null`: no heading (not grouped). */
  title: string | null;
  cards: SensorCard[];
}

/** Cards sorted (names by the user's language's rules, e.g. å/ä/ö after z in Finnish and
 * Swedish) and grouped; groups in name order, the group without a value last. */
export function arrange(
  cards: SensorCard[],
  sort: SortBy,
  group: GroupBy,
  locale?: string,
  t: Translate = translate(),
): CardGroup[] {
  const collator = new Intl.Collator(locale, { sensitivity: 'base', numeric: true });
  const sorted = [...cards].sort((a, b) => {
    if (sort === 'last_seen') return b.last_seen_ms - a.last_seen_ms || a.sensor.localeCompare(b.sensor);
    if (sort === 'name') return collator.compare(a.name, b.name) || a.sensor.localeCompare(b.sensor);
    return a.sensor.localeCompare(b.sensor);
  });
  if (group === 'none') return [{ key: '', title: null, cards: sorted }];
  const keyOf = (c: SensorCard) =>
    group === 'location' ? c.location : group === 'gateway' ? gatewayOf(c) : kindLabel(c);
  const groups = new Map<string, SensorCard[]>();
  for (const c of sorted) {
    const k = keyOf(c);
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const none = group === 'location' ? t('dashboard.noLocation') : group === 'gateway' ? t('dashboard.bluetoothGroup') : '';
  return [...groups.entries()]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : collator.compare(a, b)))
    .map(([key, list]) => ({ key, title: key === '' ? none : key, cards: list }));
}
