// Complete values of the generated IPC types for tests, from the fields a test cares about.
import type { AppSettings, Derived, Mqtt, Readings, SensorCard } from './lib/backend';

export function readings(some: Partial<Readings> = {}): Readings {
  return {
    temperature_c: null,
    humidity_pct: null,
    pressure_pa: null,
    accel_x_g: null,
    accel_y_g: null,
    accel_z_g: null,
    battery_v: null,
    tx_power_dbm: null,
    movement_counter: null,
    measurement_sequence: null,
    pm1_0: null,
    pm2_5: null,
    pm4_0: null,
    pm10_0: null,
    co2_ppm: null,
    voc_index: null,
    nox_index: null,
    luminosity_lux: null,
    sound_inst_dba: null,
    sound_avg_dba: null,
    sound_peak_spl_db: null,
    calibration_in_progress: null,
    button_pressed: null,
    rtc_running_on_boot: null,
    mac: null,
    mac_suffix: null,
    ...some,
  };
}

export function derived(some: Partial<Derived> = {}): Derived {
  return {
    dewPoint: null,
    absoluteHumidity: null,
    vapourPressure: null,
    airDensity: null,
    accelerationTotal: null,
    iaqs: null,
    ...some,
  };
}

export function sensorCard(some: Partial<SensorCard> & Pick<SensorCard, 'sensor'>): SensorCard {
  return {
    name: `Ruuvi ${some.sensor.replaceAll(':', '').slice(8)}`,
    named: false,
    location: '',
    note: '',
    calibration: { temperature_c: 0, humidity_pct: 0, pressure_pa: 0 },
    kind: 'ruuvi_tag',
    format: 'Df5',
    source: 'Bluetooth',
    feed: { kind: 'ble' },
    last_seen_ms: 0,
    rssi: null,
    readings: readings(),
    measured: null,
    derived: derived(),
    ...some,
  };
}

/** A factory-fresh gateway's MQTT settings (off, its defaults). */
export function gatewayMqtt(some: Partial<Mqtt> = {}): Mqtt {
  return {
    use_mqtt: false,
    mqtt_transport: 'TCP',
    mqtt_server: 'test.mosquitto.org',
    mqtt_port: 1883,
    mqtt_data_format: 'ruuvi_raw',
    mqtt_sending_interval: 0,
    mqtt_prefix: 'ruuvi/C8:25:2D:8E:9C:2C/',
    mqtt_client_id: 'C8:25:2D:8E:9C:2C',
    mqtt_user: '',
    mqtt_disable_retained_messages: false,
    ...some,
  };
}

/** The app's settings as a first start has them. */
export function appSettings(some: Partial<AppSettings> = {}): AppSettings {
  return {
    receiver_enabled: false,
    bluetooth: true,
    keep_days: null,
    resolution_minutes: null,
    alert_webhook: null,
    store: null,
    mqtt_feed: null,
    mqtt_sink: null,
    polls: [],
    internal_api: null,
    demo: null,
    ...some,
  };
}
