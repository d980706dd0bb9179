import { describe, expect, it } from 'vitest';
import { gatewayMqtt } from '../test-fixtures';
import { mqttFormFromGateway, toMqttForm, validateMqttForm, type MqttFormState } from './mqttForm';

const GATEWAY = gatewayMqtt();

function form(change: Partial<MqttFormState> = {}): MqttFormState {
  return { ...mqttFormFromGateway(GATEWAY), enabled: true, url: 'mqtt://broker.lan:1883', ...change };
}

describe('gateway MQTT form', () => {
  it('starts from what the gateway has', () => {
    const f = mqttFormFromGateway({ ...GATEWAY, use_mqtt: true, mqtt_transport: 'SSL', mqtt_port: 8883 });
    expect(f).toMatchObject({ enabled: true, url: 'mqtts://test.mosquitto.org:8883', retain: true, interval: '0' });
    expect(f.prefix).toBe('ruuvi/C8:25:2D:8E:9C:2C/');
  });

  it('names the field that is wrong', () => {
    expect(validateMqttForm(form())).toEqual({});
    expect(validateMqttForm(form({ enabled: false, url: '' }))).toEqual({});
    expect(validateMqttForm(form({ url: '' })).url).toMatch(/Enter/);
    expect(validateMqttForm(form({ url: 'http://broker.lan' })).url).toMatch(/mqtt/);
    expect(validateMqttForm(form({ url: 'mqtt://broker.lan:70000' })).url).toMatch(/port/);
    expect(validateMqttForm(form({ prefix: 'ruuvi/#' })).prefix).toMatch(/wildcard/);
    expect(validateMqttForm(form({ interval: '-1' })).interval).toBeDefined();
    expect(validateMqttForm(form({ clientId: 'x'.repeat(51) })).clientId).toBeDefined();
    const tlsOnly = form({ certificates: { ...form().certificates, serverCa: 'ours' } });
    expect(validateMqttForm(tlsOnly).url).toMatch(/mqtts/);
    expect(validateMqttForm({ ...tlsOnly, url: 'mqtts://broker.lan:8883' })).toEqual({});
  });

  it('sends what the backend takes, keeping the password when none is typed', () => {
    expect(toMqttForm(form({ enabled: false }))).toEqual({ broker: null });
    const m = toMqttForm(form({ url: ' mqtt://b:1 ', prefix: ' site1/ ', interval: '10', retain: false }));
    expect(m.broker).toMatchObject({ url: 'mqtt://b:1', prefix: 'site1/', interval_s: 10, retain: false, password: null });
    expect(m.broker?.client_cert).toEqual({ kind: 'none' });
    expect(toMqttForm(form({ user: 'gw', password: 'pw' })).broker).toMatchObject({ user: 'gw', password: 'pw' });
  });
});
