// Remote configuration served by Ruuvi Desk, in a real browser against the real backend and a
// simulator process: log in, set the gateway to download its settings from this computer
// (HTTPS with our CA, a token from the keychain), publish a scan filter for it, let it download
// now, check at the gateway that it applied it, and see the download in the page's log; then
// it fetches a second version by itself on its refresh interval. No mocks; loopback only.
// Needs a keychain: run inside tests/with-keychain.sh.
//
//   tests/with-keychain.sh node --test ui/e2e/remote.e2e.mjs   (after `make build`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, findGateway, launchChromium, logIn, shots, start, stopAll } from './support.mjs';

const ruuvictl = bin('ruuvictl', 'RUUVICTL');
const simulator = bin('ruuvi-gw-sim', 'RUUVI_GW_SIM');

let dataDir;
let env;
let browser;
let uiUrl;
let gateway;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-remote-e2e-'));
  env = {
    RUUVI_DESK_DATA_DIR: dataDir,
    RUUVI_DESK_KEYCHAIN_SERVICE: `ruuvi-desk-remote-e2e-${process.pid}`,
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
  };
  execFileSync(ruuvictl, ['pki', 'init'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  // One refresh "minute" lasts 400 ms; configuration mode after a read 3 s (60 s on hardware).
  gateway = await start(simulator, ['--tags', '3', '--post-delay-ms', '100', '--remote-cfg-minute-ms', '400', '--config-mode-ms', '3000']);
  const serving = await start(ruuvictl, ['serve', '--listen', '127.0.0.1:0', '--no-admin', '--ui', '127.0.0.1:0'], env);
  assert.match(serving.listening, /^https:\/\/127\.0\.0\.1:\d+\/record$/);
  uiUrl = serving.ui;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** What the gateway itself has now (its own password). */
function areasOf(gw) {
  const out = execFileSync(ruuvictl, ['gateway', 'config', 'show', gw.address, '--json'], {
    env: { ...process.env, ...env, RUUVI_GATEWAY_PASSWORD: gw.default_password },
  });
  return JSON.parse(out.toString()).areas;
}

test('a gateway downloads the scan filter published for it from Ruuvi Desk', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 1000 } });
  await page.goto(uiUrl);
  const found = await findGateway(page, gateway.address);
  await found.getByRole('button', { name: 'Log in' }).click();
  await logIn(page, gateway.default_password);
  await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('#remote-state').textContent(), /Off/);

  await page.locator('#remote-minutes').fill('1');
  await page.getByRole('button', { name: 'Serve settings from this computer' }).click();
  const result = page.locator(`#apply-results li[data-endpoint="${gateway.address}"]`);
  await result.waitFor({ timeout: 60_000 });
  assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
  await page.waitForFunction(() => /gw-cfg\/ every 1 min/.test(document.querySelector('#remote-state')?.textContent ?? ''));

  // Published, not pushed: the gateway has not changed yet.
  await page.locator('#scan-list').selectOption('deny');
  await page.locator('#scan-tags').fill('AA:BB:CC:DD:EE:07');
  await page.getByRole('button', { name: 'Publish for remote configuration' }).click();
  await page.locator('#scan-published').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('#scan-published').textContent(), /version 1 published/);

  await page.getByRole('button', { name: 'Download now' }).click();
  await page.locator('#remote-fetched').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#remote-fetched').textContent(), /downloaded and applied/);
  const scan = areasOf(gateway).scan;
  assert.deepEqual(scan.scan_filter_list, ['AA:BB:CC:DD:EE:07']);
  assert.equal(scan.scan_filter_allow_listed, false);
  const row = page.locator('#remote-fetches tbody tr').first();
  await row.waitFor({ timeout: 10_000 });
  const [, from, version, answer] = await row.locator('td').allTextContents();
  assert.deepEqual([from, version, answer], [gateway.gw_mac, '1', '200']);
  await page.screenshot({ path: join(shots, 'browser-remote-config.png'), fullPage: true });

  // Version 2: the gateway takes it by itself on its refresh interval.
  await page.locator('#scan-tags').fill('AA:BB:CC:DD:EE:08');
  await page.getByRole('button', { name: 'Publish for remote configuration' }).click();
  await page.waitForFunction(() => /version 2 published/.test(document.querySelector('#scan-published')?.textContent ?? ''));
  // Each look at the gateway pauses it for its configuration mode (3 s here): look every 4 s.
  let list = [];
  for (let i = 0; i < 10 && list[0] !== 'AA:BB:CC:DD:EE:08'; i++) {
    await new Promise((r) => setTimeout(r, 4000));
    list = areasOf(gateway).scan.scan_filter_list;
  }
  assert.deepEqual(list, ['AA:BB:CC:DD:EE:08'], 'the gateway fetched version 2 by itself');
  await page.close();
});
