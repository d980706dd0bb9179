// Turns a decoded measurement (gateway key names) into labelled rows for display.
import { translate, type Translate } from './i18n';

export interface Row {
  key: string;
  label: string;
  value: string;
  unit: string;
}

interface FieldInfo {
  /** A catalogue key. */
  label: string;
  unit: string;
  decimals?: number;
}

const FIELDS: Record<string, FieldInfo> = {
  temperature: { label: 'measure.temperature', unit: '°C', decimals: 2 },
  humidity: { label: 'measure.humidity', unit: '%RH', decimals: 2 },
  pressure: { label: 'measure.pressure', unit: 'hPa', decimals: 2 },
  accelX: { label: 'measure.accelX', unit: 'g', decimals: 3 },
  accelY: { label: 'measure.accelY', unit: 'g', decimals: 3 },
  accelZ: { label: 'measure.accelZ', unit: 'g', decimals: 3 },
  voltage: { label: 'measure.voltage', unit: 'V', decimals: 3 },
  txPower: { label: 'measure.txPower', unit: 'dBm' },
  movementCounter: { label: 'measure.movementCounter', unit: '' },
  measurementSequenceNumber: { label: 'measure.measurementSequenceNumber', unit: '' },
  'PM1.0': { label: 'measure.PM1_0', unit: 'µg/m³', decimals: 1 },
  'PM2.5': { label: 'measure.PM2_5', unit: 'µg/m³', decimals: 1 },
  'PM4.0': { label: 'measure.PM4_0', unit: 'µg/m³', decimals: 1 },
  'PM10.0': { label: 'measure.PM10_0', unit: 'µg/m³', decimals: 1 },
  CO2: { label: 'measure.CO2', unit: 'ppm', decimals: 0 },
  VOC: { label: 'measure.VOC', unit: '', decimals: 0 },
  NOx: { label: 'measure.NOx', unit: '', decimals: 0 },
  luminosity: { label: 'measure.luminosity', unit: 'lx', decimals: 0 },
  sound_inst_dba: { label: 'measure.sound_inst_dba', unit: 'dBA', decimals: 1 },
  sound_avg_dba: { label: 'measure.sound_avg_dba', unit: 'dBA', decimals: 1 },
  sound_peak_spl_db: { label: 'measure.sound_peak_spl_db', unit: 'dB SPL', decimals: 1 },
  flag_calibration_in_progress: { label: 'measure.flag_calibration_in_progress', unit: '' },
  flag_button_pressed: { label: 'measure.flag_button_pressed', unit: '' },
  flag_rtc_running_on_boot: { label: 'measure.flag_rtc_running_on_boot', unit: '' },
  id: { label: 'measure.id', unit: '' },
};

const DERIVED: Record<string, FieldInfo> = {
  dewPoint: { label: 'measure.dewPoint', unit: '°C', decimals: 2 },
  absoluteHumidity: { label: 'measure.absoluteHumidity', unit: 'g/m³', decimals: 2 },
  vapourPressure: { label: 'measure.vapourPressure', unit: 'Pa', decimals: 0 },
  airDensity: { label: 'measure.airDensity', unit: 'kg/m³', decimals: 4 },
  accelerationTotal: { label: 'measure.accelerationTotal', unit: 'g', decimals: 3 },
  iaqs: { label: 'measure.iaqs', unit: '', decimals: 0 },
};

export function formatValue(value: unknown, info: FieldInfo, key: string, t: Translate = translate()): string {
  if (value === null || value === undefined) return t('measure.none');
  if (typeof value === 'boolean') return t(value ? 'measure.yes' : 'measure.no');
  if (typeof value === 'number') {
    // Pressure arrives in Pa (gateway units); people read hPa.
    const shown = key === 'pressure' ? value / 100 : value;
    return info.decimals === undefined ? String(shown) : shown.toFixed(info.decimals);
  }
  return String(value);
}

export function dataFormatName(code: unknown, t: Translate = translate()): string {
  switch (code) {
    case 3:
      return 'RAWv1 (3)';
    case 5:
      return 'RAWv2 (5)';
    case 0xc5:
      return 'Cut-RAWv2 (C5)';
    case 6:
      return 'Ruuvi Air (6)';
    case 0xe1:
      return 'Ruuvi Air extended (E1)';
    case 8:
      return 'Encrypted (8)';
    default:
      return t('measure.unknownFormat', { values: { code: String(code) } });
  }
}

/** Rows for every known field present in the measurement, then the derived values. */
export function measurementRows(m: Record<string, unknown>, t: Translate = translate()): Row[] {
  const rows: Row[] = [];
  for (const [key, value] of Object.entries(m)) {
    const info = FIELDS[key];
    if (!info) continue;
    rows.push({ key, label: t(info.label), value: formatValue(value, info, key, t), unit: info.unit });
  }
  const derived = m.derived;
  if (derived && typeof derived === 'object') {
    for (const [key, value] of Object.entries(derived as Record<string, unknown>)) {
      const info = DERIVED[key];
      if (!info || value === null) continue;
      rows.push({ key, label: t(info.label), value: formatValue(value, info, key, t), unit: info.unit });
    }
  }
  return rows;
}
