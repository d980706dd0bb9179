import { describe, expect, it } from 'vitest';
import {
  formFromBackend,
  MAX_URL_LENGTH,
  secretLabel,
  toProfileForm,
  validateForm,
  type CertificateChoices,
  type FormState,
} from './gatewayForm';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';

function form(change: Partial<FormState> = {}, certificates: Partial<CertificateChoices> = {}): FormState {
  const base = formFromBackend({ ruuvi_cloud: true, custom: null });
  return {
    ...base,
    ownServer: true,
    url: 'https://desk.local:8443/record',
    ...change,
    certificates: { ...base.certificates, ...certificates },
  };
}

describe('gateway backend form', () => {
  it('starts from what the gateway has', () => {
    const f = formFromBackend({
      ruuvi_cloud: false,
      custom: {
        url: 'https://x:1/r',
        data_format: 'ruuvi',
        period_s: 30,
        auth: 'basic',
        user: 'gw',
        use_client_cert: true,
        use_server_cert: false,
        extra: { path: true, query: false, headers: false },
      },
    });
    expect(f).toMatchObject({ ruuviCloud: false, ownServer: true, interval: '30', auth: 'basic', user: 'gw' });
    expect(f.certificates.clientCert).toBe('issue');
    expect(f.certificates.serverCa).toBe('builtin');
    expect(f.secret).toBe('');
  });

  it('accepts a complete form', () => {
    expect(validateForm(form())).toEqual({});
    expect(validateForm(form({ ownServer: false, url: '' }))).toEqual({});
  });

  it('names the field that is wrong', () => {
    expect(validateForm(form({ url: '' })).url).toMatch(/Enter/);
    expect(validateForm(form({ url: 'ftp://x/' })).url).toMatch(/http/);
    expect(validateForm(form({ url: 'desk.local/record' })).url).toMatch(/http/);
    expect(validateForm(form({ url: `https://x/${'a'.repeat(MAX_URL_LENGTH)}` })).url).toMatch(/255/);
    expect(validateForm(form({ url: 'https://network.ruuvi.com/record' })).url).toMatch(/Ruuvi Cloud/);
    expect(validateForm(form({ url: 'http://x/' }, { serverCa: 'ours' })).url).toMatch(/https/);
    expect(validateForm(form({ interval: '0' })).interval).toBeDefined();
    expect(validateForm(form({ interval: '1.5' })).interval).toBeDefined();
    expect(validateForm(form({ interval: '65536' })).interval).toBeDefined();
    expect(validateForm(form({ interval: '65535' })).interval).toBeUndefined();
    expect(validateForm(form({ auth: 'basic', user: ' ' })).user).toBeDefined();
    expect(validateForm(form({}, { clientCert: 'pem', clientCertPem: 'x', clientKeyPem: KEY })).clientCertPem).toBeDefined();
    expect(validateForm(form({}, { clientCert: 'pem', clientCertPem: CERT, clientKeyPem: CERT })).clientKeyPem).toBeDefined();
    expect(validateForm(form({}, { clientCert: 'pem', clientCertPem: CERT, clientKeyPem: KEY }))).toEqual({});
    expect(validateForm(form({}, { serverCa: 'pem', serverCaPem: '' })).serverCaPem).toBeDefined();
  });

  it('sends what the backend takes, keeping the secret when none is typed', () => {
    expect(toProfileForm(form({ ownServer: false }))).toEqual({ ruuvi_cloud: true, own_server: null });
    const p = toProfileForm(form({ auth: 'bearer', secret: '', interval: '20', url: ' https://a/r ' }));
    expect(p.own_server).toMatchObject({ url: 'https://a/r', period_s: 20, auth: 'bearer', secret: null });
    expect(p.own_server?.client_cert).toEqual({ kind: 'none' });
    const q = toProfileForm(form(
        { auth: 'basic', user: ' gw ', secret: 'pw' },
        { clientCert: 'pem', clientCertPem: CERT, clientKeyPem: KEY, serverCa: 'ours' },
      ));
    expect(q.own_server).toMatchObject({ user: 'gw', secret: 'pw', server_ca: { kind: 'ours' } });
    expect(q.own_server?.client_cert).toEqual({ kind: 'pem', cert: CERT, key: KEY });
    // A secret typed for "none" is never sent.
    expect(toProfileForm(form({ auth: 'none', secret: 'left over' })).own_server?.secret).toBeNull();
  });

  it('labels the secret by auth type', () => {
    expect(secretLabel('none')).toBeNull();
    expect(secretLabel('basic')).toBe('Password');
    expect(secretLabel('bearer')).toBe('Token');
  });

  it('takes an extra path, query and header lines, and names what is wrong with them', () => {
    expect(validateForm(form({ extraPath: '/site 1' })).extraPath).toMatch(/No spaces/);
    expect(validateForm(form({ extraQuery: 'a=b#c' })).extraQuery).toMatch(/No spaces or #/);
    expect(validateForm(form({ extraHeaders: 'X-Site one' })).extraHeaders).toMatch(/Name: value/);
    expect(validateForm(form({ extraHeaders: 'Content-Type: text/plain' })).extraHeaders).toMatch(/sets it itself/);
    const f = form({ extraPath: '/site1', extraQuery: '?k=v', extraHeaders: 'X-Site: one\n\nX-Floor: 2' });
    expect(validateForm(f)).toEqual({});
    expect(toProfileForm(f).own_server).toMatchObject({ extra_path: '/site1', extra_query: '?k=v', extra_headers: 'X-Site: one\n\nX-Floor: 2' });
  });
});
