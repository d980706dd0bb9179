// Beyond one machine, as a gateway owner does it, in a real browser (Debian's Chromium) against
// the real backend: `ruuvictl serve --ui` keeps its observations in PostgreSQL and reads a
// mosquitto broker; the `ruuvi-gw-sim` gateway is pointed at that broker through the Gateways
// page's MQTT form; its sensors then arrive on the dashboard over MQTT, the Settings page says
// where data is stored and that the feed is connected, and the rows are in PostgreSQL.
// No mocks; loopback only. Needs the servers: run inside tests/with-servers.sh (and
// tests/with-keychain.sh, as the Gateways page may use the keychain).
//
//   tests/with-keychain.sh tests/with-servers.sh node --test ui/e2e/mqtt.e2e.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, findGateway, launchChromium, logIn, shots, start, startProcess, stopAll } from './support.mjs';

const ruuvictl = bin('ruuvictl', 'RUUVICTL');
const simulator = bin('ruuvi-gw-sim', 'RUUVI_GW_SIM');

let dataDir;
let browser;
let uiUrl;
let gateway;
let brokerPort;
let database;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function listening(port, tries = 100) {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

const psql = (url, sql) => execFileSync('psql', [url, '-tAc', sql], { encoding: 'utf8' }).trim();

before(async () => {
  const server = process.env.RUUVI_TEST_POSTGRES;
  assert.ok(server, 'run inside tests/with-servers.sh');
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-mqtt-e2e-'));
  // A broker of the test's own. One that does not listen within 10 s (a port taken meanwhile,
  // a slow start) is ended and started again on another port, up to three times.
  for (let attempt = 1; ; attempt++) {
    brokerPort = await freePort();
    const log = join(dataDir, `mosquitto-${attempt}.log`);
    writeFileSync(
      join(dataDir, 'mosquitto.conf'),
      `listener ${brokerPort} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nlog_dest file ${log}\n`,
    );
    const broker = startProcess('mosquitto', ['-c', join(dataDir, 'mosquitto.conf')]);
    try {
      await listening(brokerPort);
      break;
    } catch (e) {
      broker.kill();
      const said = existsSync(log) ? readFileSync(log, 'utf8') : '(no log)';
      console.error(`mosquitto attempt ${attempt} on ${brokerPort}: ${e.message}; its log: ${said}`);
      if (attempt === 3) throw e;
    }
  }
  // A database of the test's own on the test server.
  const name = `e2e_mqtt_${process.pid}`;
  psql(server, `CREATE DATABASE ${name}`);
  database = server.replace(/\/[^/]*$/, `/${name}`);

  gateway = await start(simulator, ['--tags', '3', '--post-delay-ms', '100']);
  const env = {
    RUUVI_DESK_DATA_DIR: dataDir,
    RUUVI_DESK_KEYCHAIN_SERVICE: `ruuvi-desk-e2e-${process.pid}`,
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
  };
  const serving = await start(
    ruuvictl,
    ['serve', '--listen', '127.0.0.1:0', '--http', '--no-admin', '--ui', '127.0.0.1:0', '--store', database,
      '--mqtt', `mqtt://127.0.0.1:${brokerPort}`, '--mqtt-topic', 'site1/#'],
    env,
  );
  uiUrl = serving.ui;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('point a gateway at a broker from the Gateways page; its data arrives over MQTT into PostgreSQL', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  await page.goto(uiUrl);
  const found = await findGateway(page, gateway.address);
  await found.getByRole('button', { name: 'Log in' }).click();
  await logIn(page, gateway.default_password);
  await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('#current-mqtt').textContent(), /off/);

  // The MQTT form: a mistake is named before anything is sent.
  await page.getByLabel('Publish to an MQTT broker').check();
  await page.getByLabel('Broker', { exact: true }).fill(`http://127.0.0.1:${brokerPort}`);
  await page.getByRole('button', { name: 'Apply MQTT to this gateway' }).click();
  await page.locator('#mqtt-url-error').waitFor();
  await page.getByLabel('Broker', { exact: true }).fill(`mqtt://127.0.0.1:${brokerPort}`);
  await page.getByLabel('Topic prefix').fill('site1/');
  await page.getByLabel('MQTT data format').selectOption('ruuvi_raw_and_decoded');
  await page.getByRole('button', { name: 'Apply MQTT to this gateway' }).click();
  const result = page.locator(`#apply-results li[data-endpoint="${gateway.address}"]`);
  await result.waitFor({ timeout: 60_000 });
  assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
  await page.waitForFunction(() => /publishing to 127\.0\.0\.1/.test(document.querySelector('#current-mqtt')?.textContent ?? ''));
  assert.match(await page.locator('#current-mqtt').textContent(), /under site1\//);
  await page.screenshot({ path: join(shots, 'browser-gateway-mqtt.png'), fullPage: true });

  // The gateway's sensors arrive over MQTT (relaying resumes 5 s after the change).
  await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
  const card = page.locator('.card').filter({ has: page.locator('.source', { hasText: `gateway ${gateway.gw_mac} (MQTT)` }) });
  await card.first().locator('[data-key=temperature] .value').waitFor({ timeout: 60_000 });
  await page.waitForFunction((mac) => [...document.querySelectorAll('.card .source')].filter((s) => s.textContent.includes(`gateway ${mac} (MQTT)`)).length === 3, gateway.gw_mac, { timeout: 30_000 });

  // Settings say where the data goes and what the feed does.
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.locator('#storage-now').waitFor();
  assert.match(await page.locator('#storage-now').textContent(), /postgres:\/\/postgres@127\.0\.0\.1:\d+\/e2e_mqtt_/);
  await page.waitForFunction(() => /connected · [1-9]\d* observations/.test(document.querySelector('#mqtt-feed-now')?.textContent ?? ''));
  assert.match(await page.locator('#mqtt-feed-now').textContent(), new RegExp(`${gateway.gw_mac} online`));
  await page.screenshot({ path: join(shots, 'browser-settings-mqtt.png'), fullPage: true });

  // And the rows are in PostgreSQL, from the MQTT feed.
  const rows = Number(psql(database, `SELECT count(*) FROM observations WHERE feed LIKE '%gateway_mqtt%'`));
  assert.ok(rows >= 3, `${rows} rows`);
  await page.close();
});
