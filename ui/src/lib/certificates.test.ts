import { describe, expect, it } from 'vitest';
import { expiryText } from './certificates';

describe('certificate expiry', () => {
  const at = Date.UTC(2028, 10, 22) / 1000;
  it('says how long, and when to renew', () => {
    expect(expiryText({ days_left: 729, not_after: at, renew_soon: false })).toBe(
      'valid for 729 more days (until 2028-11-22)',
    );
    expect(expiryText({ days_left: 12, not_after: at, renew_soon: true })).toBe('expires in 12 days (2028-11-22): renew it');
    expect(expiryText({ days_left: -1, not_after: at, renew_soon: true })).toBe('expired on 2028-11-22');
  });
});
