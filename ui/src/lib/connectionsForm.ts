// The Settings page's "Database and MQTT" form: where observations are kept (this computer,
// or a PostgreSQL database several Ruuvi Desks share), the MQTT feed (gateways' messages from
// a broker) and the MQTT sink (observations republished, with Home Assistant discovery).
// Passwords are not part of it: each goes to the keychain on its own.
import type { AppSettings } from './backend';
import { translate, type Translate } from './i18n';

export interface ConnectionsForm {
  /** Empty: this computer's database. */
  store: string;
  feed: boolean;
  feedBroker: string;
  feedTopic: string;
  feedUser: string;
  /** Trust Ruuvi Desk's CA and present its client certificate. */
  feedOurCertificates: boolean;
  sink: boolean;
  sinkBroker: string;
  sinkPrefix: string;
  homeAssistant: boolean;
  sinkUser: string;
  sinkOurCertificates: boolean;
}

export function connectionsForm(s: AppSettings): ConnectionsForm {
  return {
    store: s.store ?? '',
    feed: s.mqtt_feed !== null,
    feedBroker: s.mqtt_feed?.broker ?? '',
    feedTopic: s.mqtt_feed?.topic ?? 'ruuvi/#',
    feedUser: s.mqtt_feed?.user ?? '',
    feedOurCertificates: s.mqtt_feed?.our_certificates ?? false,
    sink: s.mqtt_sink !== null,
    sinkBroker: s.mqtt_sink?.broker ?? '',
    sinkPrefix: s.mqtt_sink?.prefix ?? 'ruuvi_desk',
    homeAssistant: s.mqtt_sink?.home_assistant ?? true,
    sinkUser: s.mqtt_sink?.user ?? '',
    sinkOurCertificates: s.mqtt_sink?.our_certificates ?? false,
  };
}

const BROKER = /^(mqtts?|wss?):\/\/(\[[^\]]+\]|[^/:\s]+)(:\d{1,5})?(\/\S*)?$/i;

/** The settings to save, or what is wrong with the form. */
export function fromConnectionsForm(f: ConnectionsForm, current: AppSettings, t: Translate = translate()): AppSettings | { error: string } {
  const store = f.store.trim();
  if (store !== '') {
    let url: URL | null = null;
    try {
      url = new URL(store);
    } catch {
      url = null;
    }
    if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '')
      return { error: t('connections.check.store') };
    if (url.password !== '') return { error: t('connections.check.storePassword') };
  }
  if (f.feed && !BROKER.test(f.feedBroker.trim()))
    return { error: t('connections.check.feedBroker') };
  if (f.feed && f.feedTopic.trim() === '') return { error: t('connections.check.feedTopic') };
  if (f.sink && !BROKER.test(f.sinkBroker.trim()))
    return { error: t('connections.check.sinkBroker') };
  if (f.sink && (f.sinkPrefix.trim() === '' || /[#+]/.test(f.sinkPrefix)))
    return { error: t('connections.check.sinkPrefix') };
  const user = (u: string) => (u.trim() === '' ? null : u.trim());
  return {
    ...current,
    store: store === '' ? null : store,
    mqtt_feed: f.feed
      ? { broker: f.feedBroker.trim(), topic: f.feedTopic.trim(), user: user(f.feedUser), our_certificates: f.feedOurCertificates }
      : null,
    mqtt_sink: f.sink
      ? {
          broker: f.sinkBroker.trim(),
          prefix: f.sinkPrefix.trim(),
          home_assistant: f.homeAssistant,
          user: user(f.sinkUser),
          our_certificates: f.sinkOurCertificates,
        }
      : null,
  };
}
