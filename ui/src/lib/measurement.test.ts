import { describe, expect, it } from 'vitest';
import { dataFormatName, measurementRows } from './measurement';

describe('measurementRows', () => {
  it('labels known fields, converts pressure to hPa and shows N/A for null', () => {
    const rows = measurementRows({
      dataFormat: 5,
      temperature: 24.3,
      pressure: 100044,
      txPower: 4,
      movementCounter: null,
      id: 'CB:B8:33:4C:88:4F',
      derived: { dewPoint: 14.2621, iaqs: null },
    });
    expect(rows.map((r) => r.key)).toEqual(['temperature', 'pressure', 'txPower', 'movementCounter', 'id', 'dewPoint']);
    expect(rows[0]).toEqual({ key: 'temperature', label: 'Temperature', value: '24.30', unit: '°C' });
    expect(rows[1].value).toBe('1000.44');
    expect(rows[1].unit).toBe('hPa');
    expect(rows[3].value).toBe('N/A');
    expect(rows[5].value).toBe('14.26');
  });

  it('names formats', () => {
    expect(dataFormatName(0xe1)).toBe('Ruuvi Air extended (E1)');
    expect(dataFormatName(0x42)).toBe('Unknown (66)');
  });
});
