import { afterEach, describe, expect, it } from 'vitest';
import { useLanguage } from './i18n';
import { settingLabel, settingValue } from './preview';

describe('preview rows', () => {
  afterEach(() => useLanguage('en'));

  it('name a setting by its configuration key in the UI language, else as the backend does', () => {
    expect(settingLabel({ key: 'use_http', label: 'Own server' })).toBe('Own server');
    expect(settingLabel({ key: 'company_use_filtering', label: 'company_use_filtering' })).toBe('Manufacturer filter');
    expect(settingLabel({ key: 'some_future_key', label: 'some_future_key' })).toBe('some_future_key');
    useLanguage('fi');
    expect(settingLabel({ key: 'use_http', label: 'Own server' })).toBe('Oma palvelin');
    expect(settingLabel({ key: 'some_future_key', label: 'some_future_key' })).toBe('some_future_key');
  });

  it('translate the words of a value, never a value itself', () => {
    useLanguage('de');
    expect(settingValue('on')).toBe('an');
    expect(settingValue('(kept secret)')).toBe('(geheim)');
    expect(settingValue('https://desk.local:8443/record')).toBe('https://desk.local:8443/record');
    expect(settingValue('10')).toBe('10');
  });
});
