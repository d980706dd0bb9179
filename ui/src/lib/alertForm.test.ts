import { describe, expect, it } from 'vitest';
import { newRuleForm, ruleFormOf, toRule, triggerLabel, validateRule } from './alertForm';

const types = [
  { alert_type: 'Temperature' as const, units: ['C', 'F', 'K'] },
  { alert_type: 'Movement' as const, units: ['count'] },
  { alert_type: 'noData' as const, units: ['s'] },
];

describe('alert rule form', () => {
  it('starts with the sensor and the default unit, and names what is missing', () => {
    const f = newRuleForm('c8:25:2d:8e:9c:2c', types);
    expect(f.unit).toBe('C');
    expect(validateRule(f, types)).toEqual({ threshold: 'Enter a number' });
    expect(validateRule({ ...f, sensor: 'nope' }, types).sensor).toBeDefined();
    expect(validateRule({ ...f, threshold: '30', unit: 'hPa' }, types).unit).toBe('One of C, F, K');
    expect(validateRule({ ...f, threshold: '30', hysteresis: '-1' }, types).hysteresis).toBeDefined();
    expect(validateRule({ ...f, threshold: '30', cooldown: '1.5' }, types).cooldown).toBe('Whole seconds');
  });

  it('makes the backend rule', () => {
    const f = { ...newRuleForm('c8:25:2d:8e:9c:2c', types), threshold: '-12.5', unit: 'F', text: 'Freezer!', cooldown: '300' };
    expect(validateRule(f, types)).toEqual({});
    expect(toRule(f)).toMatchObject({
      id: 0,
      sensor: 'C8:25:2D:8E:9C:2C',
      name: '',
      alert_type: 'Temperature',
      trigger: 'Over',
      threshold: -12.5,
      unit: 'F',
      cooldown_s: 300,
      text: 'Freezer!',
      enabled: true,
    });
  });

  it('treats movement and silence as their own kinds', () => {
    const moved = { ...newRuleForm('c8:25:2d:8e:9c:2c', types), alertType: 'Movement' as const, trigger: 'Different from' as const, unit: 'count' };
    expect(validateRule(moved, types)).toEqual({});
    expect(toRule(moved).threshold).toBe(0);
    expect(triggerLabel('Different from', 'Movement')).toMatch(/moved/i);
    const silent = { ...moved, alertType: 'noData' as const, trigger: 'Under' as const, unit: 's', threshold: '0.5' };
    expect(validateRule(silent, types).threshold).toBe('At least 1 second');
    expect(toRule({ ...silent, threshold: '600' }).trigger).toBe('Over');
  });

  it('edits a saved rule as it is, keeping its id', () => {
    const saved = {
      ...toRule({ ...newRuleForm('C8:25:2D:8E:9C:2C', types), threshold: '30', text: 'Hot', cooldown: '60' }),
      id: 7,
      name: 'Sauna',
      enabled: false,
    };
    const f = ruleFormOf(saved);
    expect(validateRule(f, types)).toEqual({});
    expect(toRule(f)).toEqual(saved);
    expect(toRule({ ...f, threshold: '35' })).toMatchObject({ id: 7, threshold: 35, name: 'Sauna', enabled: false });
  });
});
