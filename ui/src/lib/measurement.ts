// Turns a decoded measurement (gateway key names) into labelled rows for display.

export interface Row {
  key: string;
  label: string;
  value: string;
  unit: string;
}

interface FieldInfo {
  label: string;
  unit: string;
  decimals?: number;
}

const FIELDS: Record<string, FieldInfo> = {
  temperature: { label: 'Temperature', unit: '°C', decimals: 2 },
  humidity: { label: 'Humidity', unit: '%RH', decimals: 2 },
  pressure: { label: 'Pressure', unit: 'hPa', decimals: 2 },
  accelX: { label: 'Acceleration X', unit: 'g', decimals: 3 },
  accelY: { label: 'Acceleration Y', unit: 'g', decimals: 3 },
  accelZ: { label: 'Acceleration Z', unit: 'g', decimals: 3 },
  voltage: { label: 'Battery', unit: 'V', decimals: 3 },
  txPower: { label: 'TX power', unit: 'dBm' },
  movementCounter: { label: 'Movements', unit: '' },
  measurementSequenceNumber: { label: 'Sequence', unit: '' },
  'PM1.0': { label: 'PM1.0', unit: 'µg/m³', decimals: 1 },
  'PM2.5': { label: 'PM2.5', unit: 'µg/m³', decimals: 1 },
  'PM4.0': { label: 'PM4.0', unit: 'µg/m³', decimals: 1 },
  'PM10.0': { label: 'PM10', unit: 'µg/m³', decimals: 1 },
  CO2: { label: 'CO₂', unit: 'ppm', decimals: 0 },
  VOC: { label: 'VOC index', unit: '', decimals: 0 },
  NOx: { label: 'NOx index', unit: '', decimals: 0 },
  luminosity: { label: 'Light', unit: 'lx', decimals: 0 },
  sound_inst_dba: { label: 'Sound (instant)', unit: 'dBA', decimals: 1 },
  sound_avg_dba: { label: 'Sound (average)', unit: 'dBA', decimals: 1 },
  sound_peak_spl_db: { label: 'Sound (peak)', unit: 'dB SPL', decimals: 1 },
  flag_calibration_in_progress: { label: 'Calibrating', unit: '' },
  flag_button_pressed: { label: 'Button pressed', unit: '' },
  flag_rtc_running_on_boot: { label: 'Clock kept on boot', unit: '' },
  id: { label: 'Device id', unit: '' },
};

const DERIVED: Record<string, FieldInfo> = {
  dewPoint: { label: 'Dew point', unit: '°C', decimals: 2 },
  absoluteHumidity: { label: 'Absolute humidity', unit: 'g/m³', decimals: 2 },
  vapourPressure: { label: 'Vapour pressure', unit: 'Pa', decimals: 0 },
  airDensity: { label: 'Air density', unit: 'kg/m³', decimals: 4 },
  accelerationTotal: { label: 'Total acceleration', unit: 'g', decimals: 3 },
  iaqs: { label: 'Air quality score (IAQS)', unit: '', decimals: 0 },
};

export function formatValue(value: unknown, info: FieldInfo, key: string): string {
  if (value === null || value === undefined) return 'N/A';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    // Pressure arrives in Pa (gateway units); people read hPa.
    const shown = key === 'pressure' ? value / 100 : value;
    return info.decimals === undefined ? String(shown) : shown.toFixed(info.decimals);
  }
  return String(value);
}

export function dataFormatName(code: unknown): string {
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
      return `Unknown (${String(code)})`;
  }
}

/** Rows for every known field present in the measurement, then the derived values. */
export function measurementRows(m: Record<string, unknown>): Row[] {
  const rows: Row[] = [];
  for (const [key, value] of Object.entries(m)) {
    const info = FIELDS[key];
    if (!info) continue;
    rows.push({ key, label: info.label, value: formatValue(value, info, key), unit: info.unit });
  }
  const derived = m.derived;
  if (derived && typeof derived === 'object') {
    for (const [key, value] of Object.entries(derived as Record<string, unknown>)) {
      const info = DERIVED[key];
      if (!info || value === null) continue;
      rows.push({ key, label: info.label, value: formatValue(value, info, key), unit: info.unit });
    }
  }
  return rows;
}
