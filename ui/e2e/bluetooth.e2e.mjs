// Bluetooth as a sensor owner uses it, in a real browser against the real backend
// (`ruuvictl serve --ble --ui`) on btleplug's real Linux backend. This machine has no
// Bluetooth radio: BlueZ and the sensors are played by `ruuvi-bluez-standin` on a private
// D-Bus (a RuuviTag and a Ruuvi Air advertising, each keeping two days of log). The journey:
// the Bluetooth chip says it scans, the tag's card appears, its stored history is downloaded
// from its detail view with a progress bar, and the chart's gap is filled. Loopback and a
// private bus only.
//
//   node --test ui/e2e/bluetooth.e2e.mjs   (after `make build` and `cargo build -p ruuvi-bluez-standin`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeViolations, bin, launchChromium, shots, start, stopAll } from './support.mjs';

let dataDir;
let browser;
let uiUrl;
let tag;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-e2e-ble-'));
  const standin = await start(bin('ruuvi-bluez-standin', 'RUUVI_BLUEZ_STANDIN'), ['--tags', '1', '--airs', '1', '--log-days', '2']);
  tag = standin.sensors.find((s) => s.kind === 'RuuviTag').mac;
  const served = await start(
    bin('ruuvictl', 'RUUVICTL'),
    ['serve', '--http', '--listen', '127.0.0.1:0', '--no-admin', '--ble', '--ui', '127.0.0.1:0'],
    { RUUVI_DESK_DATA_DIR: dataDir, DBUS_SYSTEM_BUS_ADDRESS: standin.bus },
  );
  uiUrl = served.ui;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("a Bluetooth tag's own history is downloaded from its detail view and fills the chart", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(uiUrl);
  await page.locator('[data-testid=ble-status][data-ble-state=scanning]').waitFor({ timeout: 20_000 });
  const card = page.locator(`.card[data-sensor="${tag}"]`);
  await card.locator('[data-key=temperature] .value').waitFor({ timeout: 20_000 });
  await card.getByRole('button', { name: /^History of / }).click();
  await page.getByRole('button', { name: '24 hours' }).click();
  const count = async () => Number((await page.getByTestId('point-count').textContent()).match(/\d+/)[0]);
  await page.getByTestId('point-count').waitFor({ timeout: 10_000 });
  const before = await count();
  assert.ok(before < 100, `only what was heard live: ${before} points`);

  const section = page.getByTestId('ble-history');
  await section.locator('#history-since').selectOption('day');
  await section.getByRole('button', { name: 'Download history from the sensor' }).click();
  const said = page.locator('#download-said');
  await said.waitFor({ timeout: 60_000 });
  const [, received, stored] = (await said.textContent()).match(/(\d+) records from the sensor: (\d+) new/).map(Number);
  assert.ok(received >= 287 && received <= 289, `a day of 5-minute records: ${received}`);
  assert.ok(stored >= received - 2, `${stored} of ${received} new`);
  // The chart is drawn again with the day's log in it.
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=point-count]')?.textContent?.match(/\d+/)?.[0]) > n + 250, before);
  await page.screenshot({ path: join(shots, 'ble-history-downloaded.png'), fullPage: true });
  assert.deepEqual(await axeViolations(page), [], 'no serious or critical accessibility violations');

  // Downloading again brings nothing new.
  await section.getByRole('button', { name: 'Download history from the sensor' }).click();
  await page.waitForFunction(() => /: 0 new/.test(document.querySelector('#download-said')?.textContent ?? ''), null, { timeout: 60_000 });
  await page.close();
});
