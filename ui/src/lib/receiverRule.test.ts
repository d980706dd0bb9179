import { describe, expect, it } from 'vitest';
import { ruleForm, ruleSave } from './receiverRule';

const saved = {
  gateway: 'C8:25:2D:8E:9C:2C',
  rule: { auth: 'bearer', user: '', require_client_cert: true, hmac: true, rotate_hmac: false, rate: 10 },
  has_secret: true,
  has_hmac_key: true,
};

describe('receiver rule form', () => {
  it('edits a saved rule, keeping the secrets the keychain has', () => {
    const f = ruleForm(saved);
    expect(f).toMatchObject({ auth: 'bearer', requireClientCert: true, hmac: true, rate: '10', secret: '' });
    expect(ruleSave({ ...f, rate: '30' }, saved)).toEqual({
      gateway: 'C8:25:2D:8E:9C:2C',
      rule: { auth: 'bearer', user: '', require_client_cert: true, hmac: true, rotate_hmac: false, rate: 30 },
      secret: null,
      hmacKey: null,
    });
  });

  it('asks for what is missing', () => {
    const fresh = ruleForm(null, 'c8-25-2d-8e-9c-2c');
    expect(ruleSave({ ...fresh, auth: 'basic' }, null)).toEqual({ problem: 'Basic authentication needs a user.' });
    expect(ruleSave({ ...fresh, auth: 'bearer' }, null)).toHaveProperty('problem');
    expect(ruleSave({ ...fresh, auth: 'bearer', secret: 't0ken' }, null)).toMatchObject({ gateway: 'C8:25:2D:8E:9C:2C', secret: 't0ken' });
    expect(ruleSave({ ...fresh, hmac: true }, null)).toHaveProperty('problem');
    expect(ruleSave({ ...fresh, rate: '0' }, null)).toHaveProperty('problem');
    expect(ruleSave({ ...fresh, gateway: 'nope' }, null)).toEqual({ problem: 'The gateway MAC is AA:BB:CC:DD:EE:FF.' });
    // A secret typed for "none" is not sent.
    expect(ruleSave({ ...fresh, secret: 'x' }, null)).toMatchObject({ secret: null, rule: { auth: 'none' } });
  });
});
