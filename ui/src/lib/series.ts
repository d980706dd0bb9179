// What a sensor's chart can show and over which ranges.
import type { Readings, SensorCard } from './backend';

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
