import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, fireEvent, waitFor } from '@testing-library/svelte';
import App from './App.svelte';
import { appSettings, derived, gatewayMqtt, readings, sensorCard } from './test-fixtures';
import {
  BackendError,
  type Backend,
  type BleStatus,
  type GatewaysApi,
  type HttpBackend,
  type ListedGateway,
  type SensorCard,
} from './lib/backend';

// The Rust backend is exercised by its own tests; here a hand-written Backend feeds the UI.
const noBluetooth: BleStatus = {
  state: 'unavailable',
  kind: 'no_stack',
  reason: 'connecting: no bus',
  hint: 'install BlueZ',
  message: 'Bluetooth unavailable: connecting: no bus (install BlueZ)',
};

const HTTP_NOW: HttpBackend = { ruuvi_cloud: true, custom: null };
const MQTT_NOW = gatewayMqtt();
const REMOTE_NOW = { on: true, url: 'https://127.0.0.1:8443/gw-cfg/', auth: 'bearer', user: '', refresh_minutes: 60, server_cert: true, client_cert: false };

/** Gateway calls that record what the page sent. */
function gatewaysApi(sent: unknown[]): GatewaysApi {
  const saved: ListedGateway[] = [];
  return {
    list: async () => saved,
    discover: async () => [
      { endpoint: { host: '127.0.0.1', port: 8080 }, name: 'RuuviGateway9C2C', mac_suffix: '9C2C', found: 'probe', lan_auth: null, firmware: null, reachable: null, demo_password: null },
    ],
    login: async (request) => {
      sent.push(request);
      if (request.password !== 'label-id') throw new BackendError('unauthorised', 'not allowed: wrong password');
      saved.push({ endpoint: request.endpoint, name: 'RuuviGateway9C2C', mac: 'C8:25:2D:8E:9C:2C', firmware: 'v1.17.3', user: 'Admin', login: 'password', remembered: true, last_change: null, demo: false, logged_in: true, summary: { lan_auth: 'lan_auth_ruuvi', backend: 'Ruuvi Cloud', mqtt: null, remote: null, read_at_ms: 0, differs: ['http_url'] }, expected: {}, last_post_ms: null });
      return { endpoint: request.endpoint, name: 'RuuviGateway9C2C', mac: 'C8:25:2D:8E:9C:2C', firmware: 'v1.17.3', lan_auth: 'lan_auth_ruuvi', http: HTTP_NOW, mqtt: MQTT_NOW, scan: { company_filter: 0x0499, tags: { mode: 'off' }, radio: null }, scan_list: true, read_key: false, write_key: false, storage: { ready: true, files: {} }, remote: REMOTE_NOW, update_url: 'https://network.ruuvi.com/firmwareupdate', auto_update: { cycle: 'regular', weekdays: 127, from_hour: 0, to_hour: 24, tz_offset_hours: 3 }, statistics: { on: true, url: 'https://network.ruuvi.com/status', user: '', server_cert: false, client_cert: false }, time_place: { clock: { source: 'dhcp' }, coordinates: '' }, remembered: true };
    },
    read: async () => saved,
    known: async () => [
      { mac: 'F1:90:FA:17:66:25', endpoint: '127.0.0.1:9090', name: null, added: false, logged_in: false, demo: true, demo_password: 'CA:45', polled: false, posts_stored: 20, posts_refused: 0, last_post_ms: Date.now() - 3000, mqtt_online: null, sensors: 4 },
      { mac: 'AA:BB:CC:DD:EE:01', endpoint: null, name: null, added: false, logged_in: false, demo: false, demo_password: null, polled: false, posts_stored: 0, posts_refused: 3, last_post_ms: Date.now() - 60_000, mqtt_online: true, sensors: 0 },
    ],
    forget: async () => true,
    details: async () => {
      throw new BackendError('not_logged_in', 'log in first');
    },
    preview: async (endpoint, form) => {
      sent.push(form);
      return { endpoint, changes: [{ key: 'http_url', label: 'URL', before: '', after: form.own_server!.url }], uploads: [], problems: [] };
    },
    apply: async (endpoints) => endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false })),
    applyMqtt: async (endpoints, form) => {
      sent.push(form);
      return endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false }));
    },
    applyScan: async (endpoints, scan) => {
      sent.push(scan);
      return endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: true }));
    },
    lanAccess: async (endpoints) => endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false })),
    undo: async (endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false }),
    checkMqtt: async (_, broker) => {
      sent.push(broker);
      return { ok: false, status: 401, summary: 'the server refused the credentials' };
    },
    checkUrl: async () => ({ ok: true, status: 200, summary: 'the gateway reached the server' }),
    sendHere: async (endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false }),
    poll: async (request) => {
      sent.push(request);
      return { endpoint: request.endpoint, interval_s: request.intervalS, user: request.user, mac: 'C8:25:2D:8E:9C:2C', report: { polls: 0, observations: 0, last_ok_ms: null, error: null }, stopped: false };
    },
    unpoll: async () => true,
    polls: async () => [],
    firmware: async (endpoint) => ({ endpoint, running: 'v1.17.2', update_url: 'https://network.ruuvi.com/firmwareupdate', latest: { version: 'v1.17.3', url: 'https://fw/v1.17.3', created_at: null }, beta: null, newer: { version: 'v1.17.3', url: 'https://fw/v1.17.3', created_at: null } }),
    setUpdateUrl: async () => {},
    update: async (endpoints, release, atATime) => {
      sent.push({ release, atATime });
      return endpoints.map((endpoint) => ({ endpoint, outcome: { state: 'updated', version: 'v1.17.3' } }));
    },
    applyAutoUpdate: async (endpoints, schedule) => {
      sent.push(schedule);
      return endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: true }));
    },
    applyTime: async (endpoints, timePlace) => {
      sent.push(timePlace);
      return endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: true }));
    },
    applyStatistics: async (endpoints, form) => {
      sent.push(form);
      return endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false }));
    },
    remoteConfig: async () => ({ path: '/gw-cfg/', files: [], fetches: [] }),
    previewAreas: async (endpoint, areas) => {
      sent.push(areas);
      return { endpoint, changes: [{ key: 'company_use_filtering', label: 'company_use_filtering', before: 'true', after: 'false' }], uploads: [], problems: [] };
    },
    remoteServe: async (endpoints) => endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false })),
    remoteStop: async (endpoints) => endpoints.map((endpoint) => ({ endpoint, mac: null, state: { state: 'applied' }, error: null, undoable: false })),
    remotePublish: async (endpoints, areas) => {
      sent.push(areas);
      return endpoints.map((endpoint, i) => ({ endpoint, file: null, version: i + 1, error: null }));
    },
    remoteFetchNow: async () => ({ ok: true, status: 200, summary: 'the gateway downloaded and applied its configuration' }),
    onStep: () => () => {},
  };
}

function backendWith(decode: Backend['decode'], bleStatus = async () => noBluetooth): Backend {
  return {
    alerts: {
      view: async () => ({ rules: [], history: [], unacknowledged: 0, types: [] }),
      save: async (r) => r,
      remove: async () => true,
      acknowledge: async () => true,
      test: async () => {},
      onAlert: () => () => {},
    },
    network: {
      view: async () => ({ listen: null, gateways: [], sensors: [], plans: [] }),
      whitelist: async () => ({ listen: null, gateways: [], sensors: [], plans: [] }),
      block: async () => ({ listen: null, gateways: [], sensors: [], plans: [] }),
    },
    sensors: {
      list: async () => [],
      save: async (change) => ({
        sensor: change.sensor,
        name: change.name ?? '',
        location: change.location ?? '',
        note: change.note ?? '',
        calibration: change.calibration ?? { temperature_c: 0, humidity_pct: 0, pressure_pa: 0 },
        updated_ms: 1,
      }),
      sparklines: async (sensors) => sensors.map((sensor) => ({ sensor, from_ms: 0, hourly: [] })),
      downloadHistory: async (sensor) => ({ sensor, kind: 'ruuvi_tag', received: 0, stored: 0, already_had: 0, error: null }),
      cancelDownload: async () => false,
      onDownload: () => () => {},
    },
    gateways: gatewaysApi([]),
    certificates: {
      list: async () => ({ ca: null, ca_pem: null, server: null, clients: [] }),
      createCa: async () => {
        throw new BackendError('keychain', 'no keychain here');
      },
      renew: async () => 'renewed',
      revoke: async () => true,
    },
    receiver: {
      status: async () => ({ url: null, posts: [], observations: 0, gateways: [] }),
      start: async () => ({ url: 'https://127.0.0.1:8443/record', posts: [], observations: 0, gateways: [] }),
      rules: async () => ({ accept_unknown: true, gateways: [] }),
      saveRule: async () => ({ accept_unknown: true, gateways: [] }),
      removeRule: async () => ({ accept_unknown: true, gateways: [] }),
      acceptUnknown: async (accept) => ({ accept_unknown: accept, gateways: [] }),
    },
    appInfo: async () => ({ name: 'Ruuvi Desk', version: '9.9.9', license: 'MIT' }),
    appSettings: async () => appSettings(),
    setAppSettings: async (s) => s,
    connections: async () => ({ storage: '/data/observations.sqlite', storage_problem: null, mqtt: { feed: null, sink: null } }),
    savePassword: async () => {},
    decode,
    bleStatus,
    dashboard: async () => ({ demo: false, demo_available: true, cards: [] }),
    startDemo: async () => ({ demo: true, demo_available: true, cards: [] }),
    stopDemo: async () => ({ demo: false, demo_available: true, cards: [] }),
    series: async (sensor) => ({ sensor, points: [] }),
    exportCsv: async () => 'Saved to /tmp/x.csv',
    exportXlsx: async () => 'Saved to /tmp/x.xlsx',
    importHistory: async () => ({ read: 0, stored: 0, skipped: 0 }),
    subscribe: () => () => {},
    onMigration: () => () => {},
  };
}

/** Gateways page: find the gateway by address and open its login form. */
async function findTheGateway() {
  await fireEvent.click(screen.getByRole('button', { name: 'Gateways' }));
  await fireEvent.click(screen.getByLabelText(/Search this network/));
  await fireEvent.input(screen.getByLabelText('Addresses'), { target: { value: '127.0.0.1:8080' } });
  await fireEvent.click(screen.getByRole('button', { name: 'Find gateways' }));
  await fireEvent.click(await screen.findByRole('button', { name: 'Log in' }));
}

describe('App', () => {
  afterEach(cleanup);

  it('reads a gateway without changing it: the key goes with the request, the poll is listed', async () => {
    const sent: unknown[] = [];
    const backend = backendWith(async () => ({}));
    backend.gateways = gatewaysApi(sent);
    let listed = false;
    backend.gateways.polls = async () =>
      listed
        ? [{ endpoint: '127.0.0.1:8080', interval_s: 30, user: null, mac: 'C8:25:2D:8E:9C:2C', report: { polls: 4, observations: 12, last_ok_ms: 1_795_000_000_000, error: null }, stopped: false }]
        : [];
    render(App, { backend });
    await fireEvent.click(screen.getByRole('button', { name: 'Gateways' }));
    await fireEvent.input(screen.getByLabelText('Address'), { target: { value: '127.0.0.1:8080' } });
    await fireEvent.input(screen.getByLabelText('Every (seconds)'), { target: { value: '30' } });
    await fireEvent.input(screen.getByLabelText('API key (read-only is enough)'), { target: { value: 'RO-KEY' } });
    listed = true;
    await fireEvent.click(screen.getByRole('button', { name: 'Read this gateway' }));
    expect(await screen.findByText(/4 polls, 12 readings/)).toBeTruthy();
    expect(sent).toEqual([{ endpoint: '127.0.0.1:8080', intervalS: 30, user: null, secret: 'RO-KEY' }]);
  });

  it('imports a history file: its name, text and sensor go to the backend, the count comes back', async () => {
    const backend = backendWith(async () => ({}));
    const sent: unknown[] = [];
    backend.importHistory = async (fileName, content, sensor) => {
      sent.push({ fileName, content, sensor });
      return { read: 2, stored: 1, skipped: 1 };
    };
    render(App, { backend });
    await fireEvent.click(screen.getByRole('button', { name: 'Settings' }));
    const text = 'timestamp,temperature (°C),humidity (%),pressure (hPa),rssi\n';
    const file = new File([text], 'Sauna_210304-1234.csv', { type: 'text/csv' });
    await fireEvent.change(screen.getByLabelText('File'), { target: { files: [file] } });
    await fireEvent.input(screen.getByLabelText(/^Sensor/), { target: { value: 'C8:25:2D:8E:9C:2C' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect(await screen.findByText('Read 2 rows: 1 new, 1 already stored.')).toBeTruthy();
    expect(sent).toEqual([{ fileName: 'Sauna_210304-1234.csv', content: text, sensor: 'C8:25:2D:8E:9C:2C' }]);
  });

  it('says how far moving an earlier version\'s history is while the app starts', async () => {
    const backend = backendWith(async () => ({}));
    let tell: (m: { done: number; total: number }) => void = () => {};
    backend.onMigration = (f) => {
      tell = f;
      return () => {};
    };
    render(App, { backend });
    tell({ done: 450, total: 1000 });
    expect((await screen.findByTestId('migration')).textContent).toMatch(/45 %/);
    tell({ done: 1000, total: 1000 });
    await waitFor(() => expect(screen.queryByTestId('migration')).toBeNull());
  });

  it('shows the decoded rows', async () => {
    render(App, {
      backend: backendWith(async () => ({ dataFormat: 5, temperature: 27.445, derived: {} })),
    });
    expect(await screen.findByText('v9.9.9')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Decoder' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    expect(await screen.findByText('RAWv2 (5)')).toBeTruthy();
    expect(screen.getByText('27.45')).toBeTruthy();
  });

  it('shows live sensor cards, labelled as demo data in demo mode', async () => {
    let push: ((c: SensorCard) => void) | null = null;
    const backend = backendWith(async () => ({}));
    backend.dashboard = async () => ({ demo: true, demo_available: true, cards: [] });
    backend.subscribe = (onCard) => {
      push = onCard;
      return () => {};
    };
    render(App, { backend });
    expect(await screen.findByTestId('demo-banner')).toBeTruthy();
    push!(
      sensorCard({
        sensor: 'C0:79:26:A7:CD:97',
        source: 'gateway E4:4B:7E:6E:32:3C',
        last_seen_ms: Date.now(),
        rssi: -58,
        readings: readings({ temperature_c: 20.67, humidity_pct: 50.1, pressure_pa: 99722, battery_v: 3.03 }),
        derived: derived({ dewPoint: 9.9 }),
      }),
    );
    expect(await screen.findByText('C0:79:26:A7:CD:97')).toBeTruthy();
    expect(screen.getByText('20.7')).toBeTruthy();
    expect(screen.getByText('gateway E4:4B:7E:6E:32:3C')).toBeTruthy();
  });

  it('shows temperatures in the unit chosen in Settings, and remembers it', async () => {
    localStorage.clear();
    const backend = backendWith(async () => ({}));
    backend.dashboard = async () => ({
      demo: false,
      demo_available: true,
      cards: [
        sensorCard({
          sensor: 'AA:00:00:00:00:01',
          last_seen_ms: Date.now(),
          rssi: -58,
          readings: readings({ temperature_c: 20 }),
        }),
      ],
    });
    render(App, { backend });
    expect(await screen.findByText('20.0')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Settings' }));
    await fireEvent.click(screen.getByLabelText('Fahrenheit (°F)'));
    await fireEvent.click(screen.getByRole('button', { name: 'Dashboard' }));
    expect(await screen.findByText('68.0')).toBeTruthy();
    expect(screen.getByText('°F')).toBeTruthy();
    expect(JSON.parse(localStorage.getItem('ruuvi-desk.settings')!).temperature).toBe('F');
    localStorage.clear();
  });

  it('says calmly whether Bluetooth can be used; the backend\'s words and what to do in its popover', async () => {
    render(App, { backend: backendWith(async () => ({})) });
    const chip = await screen.findByTestId('ble-status');
    expect(chip.getAttribute('data-ble-state')).toBe('unavailable');
    expect(chip.textContent).toBe('Bluetooth: not available');
    expect(screen.queryByText(/connecting: no bus/)).toBeNull();
    await fireEvent.click(chip);
    const details = screen.getByTestId('ble-details');
    expect(details.textContent).toContain('Bluetooth unavailable: connecting: no bus (install BlueZ)');
    expect(details.textContent).toContain('install BlueZ');
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('ble-details')).toBeNull();
    // The receiver and the database have chips of their own.
    expect((await screen.findByTestId('receiver-status')).textContent).toBe('Receiver: off');
    expect((await screen.findByTestId('database-status')).textContent).toBe('Database: ok');
    expect(screen.queryByTestId('mqtt-status')).toBeNull();
  });

  it('offers a guided start when there is no data, and starts the demo on request', async () => {
    const backend = backendWith(async () => ({}));
    let started = false;
    backend.startDemo = async () => {
      started = true;
      return { demo: true, demo_available: true, cards: [] };
    };
    render(App, { backend });
    const guide = await screen.findByTestId('first-run');
    expect(guide.textContent).toContain('Find my gateways');
    expect(screen.queryByTestId('demo-banner')).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Show demo data' }));
    expect(await screen.findByTestId('demo-banner')).toBeTruthy();
    expect(started).toBe(true);
    expect(screen.queryByTestId('first-run')).toBeNull();
  });

  it('sends a new user to the Gateways page from the guide', async () => {
    render(App, { backend: backendWith(async () => ({})) });
    await fireEvent.click(await screen.findByRole('button', { name: 'Find my gateways' }));
    expect(await screen.findByRole('heading', { name: 'Gateways' })).toBeTruthy();
  });

  it('shows the backend error with its code', async () => {
    render(App, {
      backend: backendWith(async () => {
        throw new BackendError('wrong_length', 'data format 0x05 needs 24 bytes of payload, got 2');
      }),
    });
    await fireEvent.click(screen.getByRole('button', { name: 'Decoder' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Decode' }));
    const alert = await screen.findByRole('alert');
    expect(alert.getAttribute('data-code')).toBe('wrong_length');
    expect(alert.textContent).toContain('needs 24 bytes');
  });

  it('logs in to a found gateway, previews a change and applies it', async () => {
    const sent: unknown[] = [];
    const backend = backendWith(async () => ({}));
    backend.gateways = gatewaysApi(sent);
    render(App, { backend });
    await findTheGateway();
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'wrong' } });
    await fireEvent.click(document.getElementById('login-button')!);
    expect((await screen.findByRole('alert')).textContent).toMatch(/device id on the gateway's label/);
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'label-id' } });
    await fireEvent.click(document.getElementById('login-button')!);
    expect(await screen.findByText('C8:25:2D:8E:9C:2C', { selector: '#gateway-mac' })).toBeTruthy();

    // The fleet table: what it has, and what no longer matches what Ruuvi Desk set.
    const row = document.querySelector('#saved-gateways tr[data-endpoint]')!;
    expect(row.querySelector('[data-column="backend"]')!.textContent).toBe('Ruuvi Cloud');
    expect(row.querySelector('.differs')!.textContent).toMatch(/differs from what was set: http_url/);

    await fireEvent.click(screen.getByLabelText('Send to my own server'));
    await fireEvent.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(screen.getByText(/Enter the server URL/)).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('URL'), { target: { value: 'https://desk.local:8443/record' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(await screen.findByText('https://desk.local:8443/record', { selector: 'td' })).toBeTruthy();
    expect(sent[sent.length - 1]).toMatchObject({ ruuvi_cloud: true, own_server: { url: 'https://desk.local:8443/record', period_s: 10 } });
    await fireEvent.click(screen.getByRole('button', { name: 'Apply to this gateway' }));
    expect((await screen.findByText(/Applied/)).closest('li')!.dataset.state).toBe('applied');
  });

  it('publishes scanning as the gateway\'s remote configuration and asks for a download', async () => {
    const sent: unknown[] = [];
    const backend = backendWith(async () => ({}));
    backend.gateways = gatewaysApi(sent);
    render(App, { backend });
    await findTheGateway();
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'label-id' } });
    await fireEvent.click(document.getElementById('login-button')!);
    expect((await screen.findByText(/Downloads its settings from/)).textContent).toMatch(/every 60 min/);
    await fireEvent.change(screen.getByLabelText('Manufacturer'), { target: { value: 'off' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Publish for remote configuration' }));
    expect((await screen.findByText(/version 1 published/)).id).toBe('scan-published');
    expect(sent[sent.length - 1]).toMatchObject({ scan: { company_filter: null, tags: { mode: 'off' } } });
    await fireEvent.click(screen.getByRole('button', { name: 'Preview scanning' }));
    expect((await screen.findByText('Manufacturer filter')).closest('table')!.id).toBe('scan-preview');
    await fireEvent.click(screen.getByRole('button', { name: 'Download now' }));
    expect((await screen.findByText(/downloaded and applied/)).id).toBe('remote-fetched');
  });

  it('updates the firmware, sets automatic updates on weekends and the clock from time servers', async () => {
    const sent: unknown[] = [];
    const backend = backendWith(async () => ({}));
    backend.gateways = gatewaysApi(sent);
    render(App, { backend });
    await findTheGateway();
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'label-id' } });
    await fireEvent.click(document.getElementById('login-button')!);
    await fireEvent.click(await screen.findByRole('button', { name: 'Check for updates' }));
    expect((await screen.findByText(/is newer than what it runs/)).id).toBe('firmware-offer');
    await fireEvent.click(screen.getByRole('button', { name: 'Update to v1.17.3' }));
    expect((await screen.findByText(/updated to v1.17.3/)).closest('li')!.dataset.state).toBe('updated');
    expect(sent[sent.length - 1]).toEqual({ release: 'latest', atATime: 1 });

    await fireEvent.change(screen.getByLabelText('Installs by itself'), { target: { value: 'beta' } });
    for (const day of ['1', '2', '3', '4', '5']) {
      await fireEvent.click(document.querySelector(`#auto-days input[data-day="${day}"]`)!);
    }
    await fireEvent.click(screen.getByRole('button', { name: 'Set automatic updates' }));
    await waitFor(() => expect(sent[sent.length - 1]).toMatchObject({ cycle: 'beta', weekdays: 65 }));

    await fireEvent.change(screen.getByLabelText('Clock'), { target: { value: 'servers' } });
    await fireEvent.input(screen.getByLabelText('Servers'), { target: { value: '' } });
    expect(screen.getByText(/Name 1 to 4 time servers/)).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Servers'), { target: { value: 'time.lan, pool.ntp.org' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Set time and place' }));
    await waitFor(() => expect(sent[sent.length - 1]).toEqual({ clock: { source: 'servers', servers: ['time.lan', 'pool.ntp.org'] }, coordinates: '' }));
  });

  it('sets a gateway\'s MQTT broker, checking the fields first', async () => {
    const sent: unknown[] = [];
    const backend = backendWith(async () => ({}));
    backend.gateways = gatewaysApi(sent);
    render(App, { backend });
    await findTheGateway();
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'label-id' } });
    await fireEvent.click(document.getElementById('login-button')!);
    expect((await screen.findByText(/^Now:/)).textContent).toMatch(/off/);

    await fireEvent.click(screen.getByLabelText('Publish to an MQTT broker'));
    await fireEvent.input(screen.getByLabelText('Broker'), { target: { value: 'http://broker.lan' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Apply MQTT to this gateway' }));
    expect(screen.getByText(/followed by host and port/)).toBeTruthy();
    expect(sent).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Test the broker from the gateway' }));
    expect(sent).toHaveLength(1);
    await fireEvent.input(screen.getByLabelText('Broker'), { target: { value: 'mqtts://broker.lan:8883' } });
    await fireEvent.input(screen.getByLabelText('Topic prefix'), { target: { value: 'site1/' } });
    await fireEvent.change(screen.getByLabelText('MQTT server CA'), { target: { value: 'ours' } });
    // The gateway tests the broker itself first: the broker's own answer is shown.
    await fireEvent.click(screen.getByRole('button', { name: 'Test the broker from the gateway' }));
    expect((await screen.findByText(/refused the credentials/)).id).toBe('mqtt-check-result');
    expect(sent[sent.length - 1]).toMatchObject({ url: 'mqtts://broker.lan:8883', prefix: 'site1/' });
    await fireEvent.click(screen.getByRole('button', { name: 'Apply MQTT to this gateway' }));
    expect((await screen.findByText(/Applied/)).closest('li')!.dataset.state).toBe('applied');
    expect(sent[sent.length - 1]).toMatchObject({
      broker: { url: 'mqtts://broker.lan:8883', prefix: 'site1/', retain: true, password: null, server_ca: { kind: 'ours' } },
    });
  });

  it('keeps hundreds of sensors to a page of cards, with more on request and a search', async () => {
    const backend = backendWith(async () => ({}));
    const many = Array.from({ length: 100 }, (_, i) =>
      sensorCard({ sensor: `AA:00:00:00:00:${i.toString(16).padStart(2, '0').toUpperCase()}`, readings: readings({ temperature_c: i }) }),
    );
    backend.dashboard = async () => ({ demo: false, demo_available: true, cards: many });
    const { container } = render(App, { backend });
    expect((await screen.findByText('48 of 100 sensors shown')).id).toBe('sensor-count');
    expect(container.querySelectorAll('.card')).toHaveLength(48);
    await fireEvent.click(screen.getByRole('button', { name: 'Show more sensors' }));
    expect(container.querySelectorAll('.card')).toHaveLength(96);
    await fireEvent.input(screen.getByLabelText('Find a sensor'), { target: { value: ':5F' } });
    expect(container.querySelectorAll('.card')).toHaveLength(1);
    expect(screen.getByText('1 of 1 sensors shown')).toBeTruthy();
  });
});
