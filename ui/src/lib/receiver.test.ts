import { describe, expect, it } from 'vitest';
import { outcomeText, refusedCount, storedCount } from './receiver';

describe('receiver words', () => {
  it('says what happened to a post', () => {
    expect(outcomeText({ stored: { observations: 1 } })).toBe('stored 1 observation');
    expect(outcomeText({ stored: { observations: 12 } })).toBe('stored 12 observations');
    expect(outcomeText('client_cert_missing')).toBe('refused: no client certificate');
    expect(outcomeText('busy')).toMatch(/retry/);
  });

  it('counts stored and refused posts', () => {
    const s = {
      url: 'https://x:8443/record',
      observations: 30,
      gateways: [],
      posts: [
        { outcome: 'auth_failed', count: 2 },
        { outcome: 'stored', count: 10 },
        { outcome: 'busy', count: 1 },
      ],
    };
    expect(storedCount(s)).toBe(10);
    expect(refusedCount(s)).toBe(3);
  });
});
