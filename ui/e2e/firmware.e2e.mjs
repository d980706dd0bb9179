// A rolling firmware update in a real browser against the real backend, two simulator
// processes running v1.17.2 and an update server of this test's own on loopback: point the
// gateways at it, see v1.17.3 offered, update both one at a time with progress bars in the
// fleet table, and see them back with v1.17.3. No mocks; loopback only.
// Needs a keychain: run inside tests/with-keychain.sh.
//
//   tests/with-keychain.sh node --test ui/e2e/firmware.e2e.mjs   (after `make build`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, findGateway, launchChromium, logIn, shots, start, stopAll } from './support.mjs';

const ruuvictl = bin('ruuvictl', 'RUUVICTL');
const simulator = bin('ruuvi-gw-sim', 'RUUVI_GW_SIM');

let dataDir;
let browser;
let uiUrl;
let gateways;
let updates;
let updateUrl;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-fw-e2e-'));
  const env = {
    RUUVI_DESK_DATA_DIR: dataDir,
    RUUVI_DESK_KEYCHAIN_SERVICE: `ruuvi-desk-fw-e2e-${process.pid}`,
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
  };
  // The update server: the release list and the three files of the v1.17.3 folder.
  updates = createServer((req, res) => {
    const port = updates.address().port;
    if (req.url === '/firmwareupdate') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ latest: { version: 'v1.17.3', url: `http://127.0.0.1:${port}/v1.17.3`, created_at: '2026-06-01T12:00:00Z' } }));
    } else if (/^\/v1\.17\.3\/(ruuvi_gateway_esp|fatfs_gwui|fatfs_nrf52)\.bin$/.test(req.url)) {
      res.end('binary');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((resolve) => updates.listen(0, '127.0.0.1', resolve));
  updateUrl = `http://127.0.0.1:${updates.address().port}/firmwareupdate`;
  gateways = await Promise.all([6, 7].map((seed) => start(simulator, ['--fw', '1.17.2', '--tags', '2', '--seed', String(seed), '--post-delay-ms', '100'])));
  const serving = await start(ruuvictl, ['serve', '--http', '--listen', '127.0.0.1:0', '--no-admin', '--ui', '127.0.0.1:0'], env);
  uiUrl = serving.ui;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  updates?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('two gateways updated one at a time, with progress, back with the new version', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(uiUrl);
  for (const gw of gateways) {
    const found = await findGateway(page, gw.address);
    await found.getByRole('button', { name: 'Log in' }).click();
    await logIn(page, gw.default_password);
    await page.waitForFunction((mac) => document.querySelector('#gateway-mac')?.textContent === mac, gw.gw_mac, { timeout: 20_000 });
    // Each looks for releases on the test's server.
    await page.locator('#update-url').fill(updateUrl);
    await page.getByRole('button', { name: 'Use this server' }).click();
    await page.locator('#firmware-offer').waitFor({ timeout: 60_000 });
  }
  const [first, second] = gateways;
  assert.match(await page.locator('#firmware-running').textContent(), /v1\.17\.2/);
  assert.match(await page.locator('#firmware-offer').textContent(), /v1\.17\.3 is newer than what it runs/);
  await page.locator(`#saved-gateways tr[data-endpoint="${first.address}"]`).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Update 2 gateways to v1.17.3' }).click();
  // Progress bars in the fleet table while it runs.
  await page.locator('#saved-gateways progress').first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, 'browser-firmware-updating.png'), fullPage: true });
  for (const gw of [second, first]) {
    const result = page.locator(`#update-results li[data-endpoint="${gw.address}"]`);
    await result.waitFor({ timeout: 180_000 });
    assert.equal(await result.getAttribute('data-state'), 'updated', await result.textContent());
    assert.match(await result.textContent(), /updated to v1\.17\.3/);
  }
  for (const gw of gateways) {
    const firmware = page.locator(`#saved-gateways tr[data-endpoint="${gw.address}"] td:nth-child(4)`);
    await page.waitForFunction((el) => el?.textContent === 'v1.17.3', await firmware.elementHandle(), { timeout: 10_000 });
  }
  await page.screenshot({ path: join(shots, 'browser-firmware-updated.png'), fullPage: true });
  await page.close();
});
