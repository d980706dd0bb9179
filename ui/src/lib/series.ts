// What a sensor's chart can show and over which ranges.
import type { Point, Readings, SensorCard } from './backend';

export interface Range {
  key: string;
  label: string;
  ms: number;
}

export const RANGES: Range[] = [
  { key: '1h', label: '1 hour', ms: 3_600_000 },
  { key: '24h', label: '24 hours', ms: 86_400_000 },
  { key: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { key: '30d', label: '30 days', ms: 30 * 86_400_000 },
  { key: '1y', label: '1 year', ms: 365 * 86_400_000 },
];

/** A chartable quantity: a numeric field of `Readings`. */
export type ChartField = { key: keyof Readings; label: string };

const FIELDS: ChartField[] = [
  { key: 'temperature_c', label: 'Temperature (°C)' },
  { key: 'humidity_pct', label: 'Humidity (%)' },
  { key: 'pressure_pa', label: 'Pressure (Pa)' },
  { key: 'co2_ppm', label: 'CO₂ (ppm)' },
  { key: 'pm2_5', label: 'PM2.5 (µg/m³)' },
  { key: 'voc_index', label: 'VOC index' },
  { key: 'nox_index', label: 'NOx index' },
  { key: 'luminosity_lux', label: 'Light (lx)' },
  { key: 'battery_v', label: 'Battery (V)' },
];

/** The quantities this sensor has (a value in its latest reading). */
export function chartFields(card: SensorCard): ChartField[] {
  return FIELDS.filter((f) => typeof card.readings[f.key] === 'number');
}

/** Puts several sensors' points on one time axis for a chart: `[seconds, ys of each]`, with
 * `null` where a sensor has no point at that time. */
export function alignSeries(lists: Point[][], field: keyof Readings): (number | null)[][] {
  const times = Array.from(new Set(lists.flatMap((l) => l.map((p) => p.at_ms)))).sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const columns: (number | null)[][] = [times.map((t) => t / 1000)];
  for (const list of lists) {
    const ys: (number | null)[] = new Array(times.length).fill(null);
    for (const p of list) {
      const v = p.readings[field];
      ys[at.get(p.at_ms)!] = typeof v === 'number' ? v : null;
    }
    columns.push(ys);
  }
  return columns;
}

/** One sensor's lowest and highest values per point (`null` where a point stands for one
 * observation), aligned with `alignSeries([points])`'s times; `null` when no point has a
 * spread (short ranges: every point is one observation). */
export function spread(points: Point[], field: keyof Readings): [(number | null)[], (number | null)[]] | null {
  const times = alignSeries([points], field)[0];
  const at = new Map(times.map((t, i) => [t as number, i]));
  const lows: (number | null)[] = new Array(times.length).fill(null);
  const highs: (number | null)[] = new Array(times.length).fill(null);
  let any = false;
  for (const p of points) {
    const low = p.low?.[field];
    const high = p.high?.[field];
    if (typeof low === 'number' && typeof high === 'number') {
      const i = at.get(p.at_ms / 1000)!;
      lows[i] = low;
      highs[i] = high;
      any = true;
    }
  }
  return any ? [lows, highs] : null;
}

export interface Summary {
  min: number;
  max: number;
  /** The mean of the points' means (each point one stretch of equal time). */
  mean: number;
  points: number;
}

/** The lowest, highest and average of a quantity over the chart's points (their spread
 * included: a point that stands for an hour has its hour's lowest and highest), or `null`
 * when no point has it. */
export function summary(points: Point[], field: keyof Readings): Summary | null {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let n = 0;
  for (const p of points) {
    const v = p.readings[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const low = p.low?.[field];
    const high = p.high?.[field];
    min = Math.min(min, typeof low === 'number' ? low : v);
    max = Math.max(max, typeof high === 'number' ? high : v);
    sum += v;
    n += 1;
  }
  return n === 0 ? null : { min, max, mean: sum / n, points: n };
}
