// The real UI in a real browser (Debian's Chromium through playwright-core) against the real
// backend: `ruuvictl serve --ui --demo`, whose simulated gateways are set up through the
// gateway client and post to the receiver. No IPC or HTTP mocks. Loopback only.
//
//   node --test ui/e2e/dashboard.e2e.mjs   (after `make build`; RUUVICTL=… to use another binary)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, launchChromium, shots, start, stopAll } from './support.mjs';

const ruuvictl = bin('ruuvictl', 'RUUVICTL');

let dataDir;
let browser;
let uiUrl;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-e2e-'));
  // No Bluetooth and no system bus here, whatever the machine has.
  const first = await start(
    ruuvictl,
    ['serve', '--http', '--listen', '127.0.0.1:0', '--no-admin', '--demo', '--ui', '127.0.0.1:0'],
    { RUUVI_DESK_DATA_DIR: dataDir, DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
  );
  uiUrl = first.ui;
  assert.match(uiUrl, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+$/);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('demo sensors arrive live on the dashboard', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  const started = Date.now();
  await page.goto(uiUrl);
  await page.getByTestId('demo-banner').waitFor({ timeout: 15_000 });
  // The simulated gateways post every 2 s: tags and Ruuvi Airs appear with values.
  const tag = page.locator('.card[data-kind=ruuvi_tag]').first();
  const air = page.locator('.card[data-kind=ruuvi_air]').first();
  await tag.locator('[data-key=temperature] .value').waitFor({ timeout: 20_000 });
  await air.locator('[data-key=iaqs] .value').waitFor({ timeout: 20_000 });
  const firstPaintMs = Date.now() - started;
  const temperature = Number(await tag.locator('[data-key=temperature] .value').textContent());
  assert.ok(Number.isFinite(temperature) && temperature > -40 && temperature < 85, `temperature ${temperature}`);
  assert.match(await tag.locator('.source').textContent(), /^gateway [0-9A-F:]{17}$/);
  const co2 = await air.locator('[data-key=co2] .value').textContent();
  assert.ok(Number(co2) > 0, `CO2 ${co2}`);
  // Live: a card's observation is replaced by a newer one without reloading.
  const sensor = await tag.getAttribute('data-sensor');
  const card = page.locator(`.card[data-sensor="${sensor}"]`);
  const before = await card.getAttribute('data-last-seen');
  await page.waitForFunction(
    ([s, old]) => document.querySelector(`.card[data-sensor="${s}"]`)?.getAttribute('data-last-seen') !== old,
    [sensor, before],
    { timeout: 15_000 },
  );
  assert.ok((await page.locator('.card').count()) >= 4);
  await page.screenshot({ path: join(shots, 'browser-dashboard.png'), fullPage: true });
  console.log(`dashboard with live demo values ${firstPaintMs} ms after navigation`);

  // Its history as a chart, read from the store.
  await card.getByRole('button', { name: /^History of / }).click();
  const chart = page.getByTestId('chart');
  await chart.locator('canvas').waitFor({ timeout: 10_000 });
  // The last hour at 600 points is one point per 6 s: the posts so far fill one or two.
  assert.ok(Number(await chart.getAttribute('data-points')) >= 1, 'stored posts are charted');
  await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '24 hours' }).click();
  await chart.locator('canvas').waitFor();
  await page.getByLabel('Quantity').selectOption('humidity_pct');
  await chart.locator('canvas').waitFor();
  await page.screenshot({ path: join(shots, 'browser-chart.png'), fullPage: true });

  // Compared with another sensor: two lines on one time axis.
  const compare = page.locator('#compare-with');
  await compare.selectOption({ index: 1 });
  await page.waitForFunction(() => document.querySelector('[data-testid=chart]')?.getAttribute('data-series') === '2');
  await page.screenshot({ path: join(shots, 'browser-compare.png'), fullPage: true });
  // Its history as CSV, downloaded.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
  assert.equal(download.suggestedFilename(), `ruuvi-${sensor.replaceAll(':', '')}.csv`);
  const csv = readFileSync(await download.path(), 'utf8').split('\n');
  assert.match(csv[0], /^sensor,received_at_ms,/);
  assert.ok(csv.length > 2 && csv[1].startsWith(sensor), csv.slice(0, 2).join(' / '));
  await page.getByRole('button', { name: '← All sensors' }).click();
  await page.locator('.card').first().waitFor();
  await page.close();
});

test('temperatures follow the unit chosen in Settings', async () => {
  const page = await browser.newPage();
  await page.goto(uiUrl);
  const unit = page.locator('.card[data-kind=ruuvi_tag] [data-key=temperature] .unit').first();
  await unit.waitFor({ timeout: 20_000 });
  assert.equal(await unit.textContent(), '°C');
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.getByLabel('Fahrenheit (°F)').check();
  await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
  await page.locator('.card [data-key=temperature] .unit').first().waitFor();
  assert.equal(await page.locator('.card [data-key=temperature] .unit').first().textContent(), '°F');
  // Remembered across a reload.
  await page.reload();
  await page.locator('.card [data-key=temperature] .unit').first().waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('.card [data-key=temperature] .unit').first().textContent(), '°F');
  await page.close();
});

test('a Ruuvi Station export imported in Settings becomes a card and a year chart with its spread', async () => {
  // Ten days of one tag every 10 minutes, ending an hour ago, as Ruuvi Station writes them.
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
  const end = Date.now() - 3_600_000;
  const lines = ['timestamp,temperature (°C),humidity (%),pressure (hPa),rssi'];
  for (let i = 1440; i > 0; i--) {
    const t = 20 + 5 * Math.sin(i / 72);
    lines.push(`${iso(end - i * 600_000)},${t.toFixed(2)},45.5,1013.25,-70`);
  }
  const file = join(dataDir, 'F1F2F3F4F5F6_251206-1200.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  const page = await browser.newPage();
  await page.goto(uiUrl);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.locator('#import-file').setInputFiles(file);
  await page.getByRole('button', { name: 'Import' }).click();
  await page.locator('#import-said').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#import-said').textContent(), 'Read 1440 rows: 1440 new, 0 already stored.');
  // Twice: nothing new.
  await page.getByRole('button', { name: 'Import' }).click();
  await page.waitForFunction(() => document.querySelector('#import-said')?.textContent?.includes('1440 already stored'));
  await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
  const sensor = 'F1:F2:F3:F4:F5:F6';
  const search = page.getByRole('searchbox');
  if (await search.count()) await search.fill(sensor);
  const card = page.locator(`.card[data-sensor="${sensor}"]`);
  await card.waitFor({ timeout: 20_000 });
  await card.getByRole('button', { name: /^History of / }).click();
  await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '1 year' }).click();
  const chart = page.getByTestId('chart');
  await page.waitForFunction(() => document.querySelector('[data-testid=chart]')?.getAttribute('data-band') === 'true');
  await chart.locator('canvas').waitFor();
  assert.ok(Number(await chart.getAttribute('data-points')) >= 10, 'a point a day at least');
  await page.screenshot({ path: join(shots, 'browser-imported-year.png'), fullPage: true });
  await page.close();
});

test('the decoder works over HTTP, errors come back by code', async () => {
  const page = await browser.newPage();
  await page.goto(uiUrl);
  await page.getByRole('button', { name: 'Decoder', exact: true }).click();
  await page.locator('#hex-input').fill('0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F');
  await page.getByRole('button', { name: 'Decode', exact: true }).click();
  await page.locator('tr[data-key=temperature] td').first().waitFor();
  assert.equal(await page.locator('tr[data-key=temperature] td').first().textContent(), '24.30');
  await page.locator('#hex-input').fill('05FF');
  await page.getByRole('button', { name: 'Decode', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'wrong_length');
  await page.screenshot({ path: join(shots, 'browser-decoder-error.png') });
  await page.close();
});

test('without the token the backend refuses and the page says so', async () => {
  const page = await browser.newPage();
  await page.goto(uiUrl.replace(/#token=.*/, ''));
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('data-code'), 'unauthorised');
  await page.close();
});

test('an alert made in the UI fires from the simulated gateways', async () => {
  const page = await browser.newPage();
  await page.goto(uiUrl);
  await page.locator('.card[data-kind=ruuvi_tag]').first().waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Alerts', exact: true }).click();
  await page.getByRole('button', { name: 'New alert' }).click();
  const sensor = await page.locator('#rule-sensor').inputValue();
  await page.getByLabel('Sensor name').fill('Demo sauna');
  // Field checks first: no threshold yet.
  await page.getByRole('button', { name: 'Save the alert' }).click();
  assert.equal(await page.locator('#rule-threshold-error').textContent(), 'Enter a number');
  await page.getByLabel('Threshold').fill('-100');
  await page.getByLabel('Alert text').fill('The sauna is ready');
  await page.getByRole('button', { name: 'Save the alert' }).click();
  await page.locator('#alert-rules tr').first().waitFor();
  // The next post from the demo gateway fires it: the banner, then the history.
  const banner = page.getByTestId('alert-banner');
  await banner.waitFor({ timeout: 20_000 });
  assert.match(await banner.textContent(), /Ruuvi Temperature alert: Demo sauna\s+The sauna is ready/);
  const fired = page.locator('#alert-history li').first();
  await fired.waitFor({ timeout: 10_000 });
  assert.equal(await fired.getAttribute('data-acknowledged'), 'false');
  await page.screenshot({ path: join(shots, 'browser-alerts.png'), fullPage: true });
  await fired.getByRole('button', { name: 'Acknowledge' }).click();
  await page.waitForFunction(() => document.querySelector('#alert-history li')?.getAttribute('data-acknowledged') === 'true');
  // It fires once: the temperature stays over the threshold.
  await page.waitForTimeout(6000);
  assert.equal(await page.locator('#alert-history li').count(), 1);
  await page.getByRole('button', { name: `Remove the alert of Demo sauna` }).click();
  await page.locator('#no-rules').waitFor();
  assert.ok(sensor.length === 17);
  await page.close();
});
