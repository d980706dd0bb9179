import { describe, expect, it } from 'vitest';
import { appSettings } from '../test-fixtures';
import { connectionsForm, fromConnectionsForm } from './connectionsForm';

const NONE = appSettings();

describe('database and MQTT settings', () => {
  it('starts empty with useful defaults', () => {
    const f = connectionsForm(NONE);
    expect(f).toMatchObject({ store: '', feed: false, feedTopic: 'ruuvi/#', sinkPrefix: 'ruuvi_desk', homeAssistant: true });
    expect(fromConnectionsForm(f, NONE)).toEqual(NONE);
  });

  it('saves a shared database and both MQTT links', () => {
    const f = {
      ...connectionsForm(NONE),
      store: ' postgres://ruuvi@db.lan:5432/ruuvi ',
      feed: true,
      feedBroker: 'mqtt://broker.lan:1883',
      feedUser: 'desk',
      sink: true,
      sinkBroker: 'mqtts://ha.lan:8883',
      sinkOurCertificates: true,
    };
    expect(fromConnectionsForm(f, NONE)).toMatchObject({
      store: 'postgres://ruuvi@db.lan:5432/ruuvi',
      mqtt_feed: { broker: 'mqtt://broker.lan:1883', topic: 'ruuvi/#', user: 'desk', our_certificates: false },
      mqtt_sink: { broker: 'mqtts://ha.lan:8883', prefix: 'ruuvi_desk', home_assistant: true, user: null, our_certificates: true },
    });
  });

  it('says what is wrong', () => {
    const f = connectionsForm(NONE);
    expect(fromConnectionsForm({ ...f, store: 'db.lan' }, NONE)).toHaveProperty('error', expect.stringMatching(/postgres/));
    expect(fromConnectionsForm({ ...f, store: 'postgres://u:secret@db/x' }, NONE)).toHaveProperty('error', expect.stringMatching(/password/));
    expect(fromConnectionsForm({ ...f, feed: true, feedBroker: 'broker.lan' }, NONE)).toHaveProperty('error', expect.stringMatching(/feed/));
    expect(fromConnectionsForm({ ...f, sink: true, sinkBroker: 'mqtt://b', sinkPrefix: 'a/#' }, NONE)).toHaveProperty('error', expect.stringMatching(/wildcards/));
  });
});
