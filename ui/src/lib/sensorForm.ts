// The sensor form: a sensor's name, location, note and calibration offsets as typed, in the
// temperature unit the user reads, checked before they are sent (the backend checks again).
import type { Calibration, SensorArgs, SensorCard } from './backend';
import type { TemperatureUnit } from './settings';
import { translate, type Translate } from './i18n';

export interface SensorFormValues {
  name: string;
  location: string;
  note: string;
  /** Offsets as typed: temperature in the user's unit, humidity in %, pressure in hPa. */
  temperature: string;
  humidity: string;
  pressure: string;
}

/** The limits the backend takes (ruuvi_protocol::profile). */
export const MAX_NAME = 64;
export const MAX_NOTE = 2000;
const MAX_TEMPERATURE_C = 50;
const MAX_HUMIDITY = 100;
const MAX_PRESSURE_HPA = 100;

/** A Fahrenheit degree is 5/9 of a Celsius one: offsets convert without the 32. */
const F_PER_C = 1.8;

function offsetText(v: number): string {
  return v === 0 ? '' : String(Math.round(v * 1000) / 1000);
}

export function sensorForm(card: SensorCard, unit: TemperatureUnit): SensorFormValues {
  const c = card.calibration;
  return {
    name: card.named ? card.name : '',
    location: card.location,
    note: card.note,
    temperature: offsetText(unit === 'F' ? c.temperature_c * F_PER_C : c.temperature_c),
    humidity: offsetText(c.humidity_pct),
    pressure: offsetText(c.pressure_pa / 100),
  };
}

/** A typed offset: empty is 0; a decimal comma is taken (as Finnish, Swedish, German, French
 * and Polish keyboards write it). */
export function parseOffset(text: string): number | null {
  const t = text.trim().replace(',', '.').replace('−', '-');
  if (t === '') return 0;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return null;
  return Number(t);
}

export type Checked = { change: SensorArgs } | { problem: string };

/** What to send for `card`, or why it cannot be sent. */
export function sensorChange(
  card: SensorCard,
  form: SensorFormValues,
  unit: TemperatureUnit,
  t: Translate = translate(),
): Checked {
  const name = form.name.trim();
  if ([...name].length > MAX_NAME) return { problem: t('sensorForm.nameTooLong', { values: { max: MAX_NAME } }) };
  const location = form.location.trim();
  if ([...location].length > MAX_NAME) return { problem: t('sensorForm.locationTooLong', { values: { max: MAX_NAME } }) };
  if ([...form.note].length > MAX_NOTE) return { problem: t('sensorForm.noteTooLong', { values: { max: MAX_NOTE } }) };
  const temperature = parseOffset(form.temperature);
  const h = parseOffset(form.humidity);
  const p = parseOffset(form.pressure);
  if (temperature === null || h === null || p === null) {
    const which = temperature === null ? 'temperature' : h === null ? 'humidity' : 'pressure';
    return { problem: t('sensorForm.notANumber', { values: { which: t(`sensorForm.which.${which}`) } }) };
  }
  const tC = unit === 'F' ? temperature / F_PER_C : temperature;
  if (Math.abs(tC) > MAX_TEMPERATURE_C) {
    const max = unit === 'F' ? `${MAX_TEMPERATURE_C * F_PER_C} °F` : `${MAX_TEMPERATURE_C} °C`;
    return { problem: t('sensorForm.temperatureRange', { values: { max } }) };
  }
  if (Math.abs(h) > MAX_HUMIDITY) return { problem: t('sensorForm.humidityRange', { values: { max: MAX_HUMIDITY } }) };
  if (Math.abs(p) > MAX_PRESSURE_HPA) return { problem: t('sensorForm.pressureRange', { values: { max: MAX_PRESSURE_HPA } }) };
  const calibration: Calibration = { temperature_c: tC, humidity_pct: h, pressure_pa: Math.round(p * 100 * 1000) / 1000 };
  return { change: { sensor: card.sensor, name, location, note: form.note.trim(), calibration } };
}

/** The measured values of a card (before any calibration). */
export function measuredOf(card: SensorCard) {
  return card.measured ?? card.readings;
}

/** The offsets applied to measured values as the backend applies them (humidity kept within
 * 0–100 %): what the card will show after saving. */
export function applyCalibration(
  r: { temperature_c: number | null; humidity_pct: number | null; pressure_pa: number | null },
  c: Calibration,
) {
  return {
    temperature_c: r.temperature_c === null ? null : r.temperature_c + c.temperature_c,
    humidity_pct: r.humidity_pct === null ? null : Math.min(100, Math.max(0, r.humidity_pct + c.humidity_pct)),
    pressure_pa: r.pressure_pa === null ? null : r.pressure_pa + c.pressure_pa,
  };
}

/** Every location already given, for the form's suggestions. */
export function knownLocations(cards: SensorCard[]): string[] {
  return [...new Set(cards.map((c) => c.location).filter((l) => l !== ''))].sort((a, b) => a.localeCompare(b));
}
