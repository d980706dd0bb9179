// The gateway's MQTT form: broker, topic prefix, client id, login, data format, interval,
// retained messages and certificates, as inputs hold them; per-field checks before anything
// is sent; and the `MqttForm` the backend takes (it checks again against the firmware).
import type { Mqtt, MqttForm } from './backend';
import { translate, type Translate } from './i18n';
import { certificateChoices, certificateErrors, certificateForm, type CertificateChoices } from './gatewayForm';

export type MqttDataFormat = 'ruuvi_raw' | 'ruuvi_raw_and_decoded' | 'ruuvi_decoded';

export const MQTT_FORMAT_LABELS: Record<MqttDataFormat, string> = {
  ruuvi_raw: 'mqttForm.format.raw',
  ruuvi_raw_and_decoded: 'gatewayForm.format.rawAndDecoded',
  ruuvi_decoded: 'gatewayForm.format.decoded',
};

export interface MqttFormState {
  enabled: boolean;
  /** mqtt://host:port, mqtts://…, ws://… or wss://… */
  url: string;
  prefix: string;
  clientId: string;
  dataFormat: MqttDataFormat;
  /** Seconds, as typed; 0 = every advertisement at once. */
  interval: string;
  retain: boolean;
  user: string;
  /** Empty: the gateway keeps the password it has. */
  password: string;
  certificates: CertificateChoices;
}

const SCHEMES: Record<string, string> = { TCP: 'mqtt', SSL: 'mqtts', WS: 'ws', WSS: 'wss' };

/** The form as the gateway's settings fill it. */
export function mqttFormFromGateway(m: Mqtt): MqttFormState {
  const scheme = SCHEMES[m.mqtt_transport.toUpperCase()] ?? 'mqtt';
  const format = (m.mqtt_data_format ?? 'ruuvi_raw') as MqttDataFormat;
  return {
    enabled: m.use_mqtt,
    url: m.mqtt_server ? `${scheme}://${m.mqtt_server}:${m.mqtt_port}` : '',
    prefix: m.mqtt_prefix,
    clientId: m.mqtt_client_id,
    dataFormat: format in MQTT_FORMAT_LABELS ? format : 'ruuvi_raw',
    interval: String(m.mqtt_sending_interval ?? 0),
    retain: !m.mqtt_disable_retained_messages,
    user: m.mqtt_user,
    password: '',
    // Certificates are not part of what the gateway reports for MQTT.
    certificates: certificateChoices(false, false),
  };
}

export type MqttFormErrors = Partial<Record<keyof MqttFormState | keyof CertificateChoices, string>>;

/** Per-field problems; empty when the form can be sent. */
export function validateMqttForm(f: MqttFormState, t: Translate = translate()): MqttFormErrors {
  const errors: MqttFormErrors = {};
  if (!f.enabled) return errors;
  const m = /^(mqtts?|wss?):\/\/(\[[^\]]+\]|[^/:\s]+)(:(\d+))?(\/\S*)?$/i.exec(f.url.trim());
  if (f.url.trim() === '') errors.url = t('mqttForm.check.urlEmpty');
  else if (!m) errors.url = t('mqttForm.check.urlScheme');
  else if (m[4] !== undefined && (Number(m[4]) < 1 || Number(m[4]) > 65535)) errors.url = t('mqttForm.check.port');
  const tls = m !== null && /^(mqtts|wss)$/i.test(m[1]);
  if ((f.certificates.clientCert !== 'none' || f.certificates.serverCa !== 'builtin') && m && !tls)
    errors.url = t('mqttForm.check.tls');
  if (/[#+]/.test(f.prefix)) errors.prefix = t('mqttForm.check.wildcards');
  else if (f.prefix.length > 256) errors.prefix = t('form.atMost', { values: { max: 256 } });
  if (f.clientId.length > 50) errors.clientId = t('form.atMost', { values: { max: 50 } });
  if (!/^\d+$/.test(f.interval.trim()) || Number(f.interval) > 86400)
    errors.interval = t('mqttForm.check.interval');
  if (f.user.length > 128) errors.user = t('form.atMost', { values: { max: 128 } });
  if (f.password.length > 256) errors.password = t('form.atMost', { values: { max: 256 } });
  return { ...errors, ...certificateErrors(f.certificates, t) };
}

/** What the backend takes; call only when `validateMqttForm` found nothing. */
export function toMqttForm(f: MqttFormState): MqttForm {
  if (!f.enabled) return { broker: null };
  return {
    broker: {
      url: f.url.trim(),
      prefix: f.prefix.trim(),
      client_id: f.clientId.trim(),
      data_format: f.dataFormat,
      interval_s: Number(f.interval),
      retain: f.retain,
      user: f.user.trim(),
      password: f.password === '' ? null : f.password,
      ...certificateForm(f.certificates),
    },
  };
}
