// The HTTP(S) backend form of the Gateways page: what the person edits (strings, as inputs
// hold them), checks that give an answer per field before anything is sent, and the
// `ProfileForm` the backend takes. The backend checks again against the gateway's firmware.
import type { HttpBackend, OwnServerForm, ProfileForm } from './backend';
import { translate, type Translate } from './i18n';

export type AuthKind = 'none' | 'basic' | 'bearer' | 'token' | 'api_key';
export type DataFormat = 'ruuvi' | 'ruuvi_raw_and_decoded' | 'ruuvi_decoded';

/** What a gateway target presents and trusts (HTTP backend and MQTT broker alike). */
export interface CertificateChoices {
  clientCert: 'none' | 'issue' | 'pem';
  clientCertPem: string;
  clientKeyPem: string;
  serverCa: 'builtin' | 'ours' | 'pem';
  serverCaPem: string;
}

export interface FormState {
  ruuviCloud: boolean;
  ownServer: boolean;
  url: string;
  dataFormat: DataFormat;
  /** Seconds between posts, as typed. */
  interval: string;
  auth: AuthKind;
  user: string;
  /** Empty: the gateway keeps the secret it has. */
  secret: string;
  certificates: CertificateChoices;
  /** The long URL (v1.17.2+): appended path and query, `Name: value` header lines; empty: off. */
  extraPath: string;
  extraQuery: string;
  extraHeaders: string;
}

/** Each authentication's label (a catalogue key). */
export const AUTH_LABELS: Record<AuthKind, string> = {
  none: 'auth.none',
  basic: 'auth.basic',
  bearer: 'auth.bearer',
  token: 'auth.token',
  api_key: 'auth.api_key',
};

/** Each data format's label (a catalogue key). */
export const FORMAT_LABELS: Record<DataFormat, string> = {
  ruuvi: 'gatewayForm.format.ruuvi',
  ruuvi_raw_and_decoded: 'gatewayForm.format.rawAndDecoded',
  ruuvi_decoded: 'gatewayForm.format.decoded',
};

/** The gateway stores at most this many characters of URL. */
export const MAX_URL_LENGTH = 255;
const RUUVI_CLOUD_URL = 'https://network.ruuvi.com/record';

/** The form as the gateway's current settings fill it. */
export function formFromBackend(http: HttpBackend): FormState {
  const c = http.custom;
  const auth = (c?.auth ?? 'none') as AuthKind;
  return {
    ruuviCloud: http.ruuvi_cloud,
    ownServer: c !== null,
    url: c?.url ?? '',
    dataFormat: (c?.data_format ?? 'ruuvi_raw_and_decoded') as DataFormat,
    interval: String(c?.period_s ?? 10),
    auth: auth in AUTH_LABELS ? auth : 'none',
    user: c?.user ?? '',
    secret: '',
    certificates: certificateChoices(c?.use_client_cert ?? false, c?.use_server_cert ?? false),
    extraPath: '',
    extraQuery: '',
    extraHeaders: '',
  };
}

/** Header names the gateway sets itself (an extra line must not repeat them). */
const OWN_HEADERS = ['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'ruuvi-hmac-sha256'];

/** What is wrong with typed `Name: value` lines, or null. */
export function headerLinesError(text: string, t: Translate = translate()): string | null {
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (colon < 0 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return t('gatewayForm.check.headerLine', { values: { line } });
    if (OWN_HEADERS.includes(name.toLowerCase())) return t('gatewayForm.check.ownHeader', { values: { name } });
  }
  return null;
}

/** The choices as a gateway's flags fill them: what is in its store cannot be read back, so
 * "in use" means ours (issue again, trust our CA). */
export function certificateChoices(useClientCert: boolean, useServerCert: boolean): CertificateChoices {
  return {
    clientCert: useClientCert ? 'issue' : 'none',
    clientCertPem: '',
    clientKeyPem: '',
    serverCa: useServerCert ? 'ours' : 'builtin',
    serverCaPem: '',
  };
}

export type FormErrors = Partial<Record<keyof FormState | keyof CertificateChoices, string>>;

function looksLikePem(text: string, label: string): boolean {
  return text.includes(`-----BEGIN ${label}`) && text.includes(`-----END ${label}`);
}

/** A field's problem as a form shows it: once the field has text or the person tried to go on.
 * Fields are the form's own or its certificate choices'. */
export function shownError(
  form: { certificates: CertificateChoices },
  errors: Partial<Record<string, string>>,
  touched: boolean,
  field: string,
): string | undefined {
  const value = field in form ? (form as unknown as Record<string, unknown>)[field] : form.certificates[field as keyof CertificateChoices];
  return touched || value !== '' ? errors[field] : undefined;
}

/** Problems with pasted certificates. */
export function certificateErrors(c: CertificateChoices, t: Translate = translate()): Partial<Record<keyof CertificateChoices, string>> {
  const errors: Partial<Record<keyof CertificateChoices, string>> = {};
  if (c.clientCert === 'pem') {
    if (!looksLikePem(c.clientCertPem, 'CERTIFICATE')) errors.clientCertPem = t('gatewayForm.check.clientCert');
    if (!looksLikePem(c.clientKeyPem, '') || !c.clientKeyPem.includes('PRIVATE KEY'))
      errors.clientKeyPem = t('gatewayForm.check.clientKey');
  }
  if (c.serverCa === 'pem' && !looksLikePem(c.serverCaPem, 'CERTIFICATE'))
    errors.serverCaPem = t('gatewayForm.check.serverCa');
  return errors;
}

/** What the backend takes for the choices. */
export function certificateForm(c: CertificateChoices): Pick<OwnServerForm, 'client_cert' | 'server_ca'> {
  return {
    client_cert: c.clientCert === 'pem' ? { kind: 'pem', cert: c.clientCertPem, key: c.clientKeyPem } : { kind: c.clientCert },
    server_ca: c.serverCa === 'pem' ? { kind: 'pem', pem: c.serverCaPem } : { kind: c.serverCa },
  };
}

/** Per-field problems; an empty object means the form can be previewed. */
export function validateForm(f: FormState, t: Translate = translate()): FormErrors {
  const errors: FormErrors = {};
  if (!f.ownServer) return errors;
  const url = f.url.trim();
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (url === '') errors.url = t('gatewayForm.check.urlEmpty');
  else if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hostname === '')
    errors.url = t('gatewayForm.check.urlScheme');
  else if (url.length > MAX_URL_LENGTH) errors.url = t('gatewayForm.check.urlLong', { values: { max: MAX_URL_LENGTH } });
  else if (url === RUUVI_CLOUD_URL) errors.url = t('gatewayForm.check.urlCloud');
  else if ((f.certificates.clientCert !== 'none' || f.certificates.serverCa !== 'builtin') && parsed.protocol !== 'https:')
    errors.url = t('gatewayForm.check.urlHttps');

  const interval = Number(f.interval);
  if (!/^\d+$/.test(f.interval.trim()) || interval < 1 || interval > 65535)
    errors.interval = t('gatewayForm.check.interval');

  if (f.auth === 'basic' && f.user.trim() === '') errors.user = t('gatewayForm.check.user');
  if (/[\s?#]/.test(f.extraPath.trim().replace(/^\//, ''))) errors.extraPath = t('gatewayForm.check.extraPath');
  if (/[\s#]/.test(f.extraQuery.trim().replace(/^\?/, ''))) errors.extraQuery = t('gatewayForm.check.extraQuery');
  const headers = headerLinesError(f.extraHeaders, t);
  if (headers) errors.extraHeaders = headers;
  return { ...errors, ...certificateErrors(f.certificates, t) };
}

/** What the backend takes; call only when `validateForm` found nothing. */
export function toProfileForm(f: FormState): ProfileForm {
  if (!f.ownServer) return { ruuvi_cloud: f.ruuviCloud, own_server: null };
  return {
    ruuvi_cloud: f.ruuviCloud,
    own_server: {
      url: f.url.trim(),
      data_format: f.dataFormat,
      period_s: Number(f.interval),
      auth: f.auth,
      user: f.auth === 'basic' ? f.user.trim() : '',
      secret: f.auth === 'none' || f.secret === '' ? null : f.secret,
      ...certificateForm(f.certificates),
      extra_path: f.extraPath.trim(),
      extra_query: f.extraQuery.trim(),
      extra_headers: f.extraHeaders,
    },
  };
}

/** The secret field's label for an auth type (none: no field). */
export function secretLabel(auth: AuthKind, t: Translate = translate()): string | null {
  switch (auth) {
    case 'basic':
      return t('gatewayForm.secret.password');
    case 'bearer':
      return t('gatewayForm.secret.token');
    case 'token':
    case 'api_key':
      return t('gatewayForm.secret.key');
    default:
      return null;
  }
}
