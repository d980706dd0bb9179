import { describe, expect, it } from 'vitest';
import { listedTags, scanFormFromGateway, toScanProfile, validateScanForm } from './scanForm';

describe('Bluetooth scanning form', () => {
  it('starts from the gateway and gives back the same profile', () => {
    const profile = {
      company_filter: 0x0059,
      tags: { mode: 'deny' as const, tags: ['AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02'] },
      radio: { coded_phy: true, phy_1m: true, phy_2m: false, channel_37: true, channel_38: false, channel_39: true },
    };
    const f = scanFormFromGateway(profile);
    expect(f).toMatchObject({ company: 'other', companyId: '0x0059', list: 'deny', radioDefault: false });
    expect(validateScanForm(f)).toEqual({});
    expect(toScanProfile(f)).toEqual(profile);
    const factory = scanFormFromGateway({ company_filter: 0x0499, tags: { mode: 'off' }, radio: null });
    expect(toScanProfile(factory)).toEqual({ company_filter: 0x0499, tags: { mode: 'off' }, radio: null });
  });

  it('says what is wrong before anything is sent', () => {
    const f = scanFormFromGateway({ company_filter: 0x0499, tags: { mode: 'off' }, radio: null });
    expect(validateScanForm({ ...f, list: 'allow' }).tags).toMatch(/at least one tag/);
    expect(validateScanForm({ ...f, list: 'deny', tags: 'aa:bb:cc:dd:ee:01, nope' }).tags).toMatch(/NOPE is not a MAC/);
    expect(validateScanForm({ ...f, list: 'deny', tags: 'aa:bb:cc:dd:ee:01\nAA:BB:CC:DD:EE:01' }).tags).toMatch(/twice/);
    const many = Array.from({ length: 101 }, (_, i) => `AA:BB:CC:DD:EE:${i.toString(16).padStart(2, '0')}`).join('\n');
    expect(validateScanForm({ ...f, list: 'deny', tags: many }).tags).toMatch(/at most 100/);
    expect(validateScanForm({ ...f, company: 'other', companyId: '0x10000' }).companyId).toMatch(/0xFFFF/);
    const deaf = { ...f, radioDefault: false, radio: { ...f.radio, channel_37: false, channel_38: false, channel_39: false } };
    expect(validateScanForm(deaf).radio).toMatch(/channel/);
    expect(listedTags(' aa:bb:cc:dd:ee:01,\n\nAA:BB:CC:DD:EE:02 ')).toEqual(['AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02']);
  });
});
