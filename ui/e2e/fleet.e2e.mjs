// Several gateways at once, in a real browser against the real backend and three simulator
// processes: log in to each; on two of them in one go, new API keys (kept in the keychain, the
// read-write one used from then on) and Bluetooth scanning (a deny list); check at the gateways
// themselves; then undo the scanning on one; a change made behind Ruuvi Desk's back shows as
// "differs" in the fleet table. No mocks; loopback only.
// Needs a keychain: run inside tests/with-keychain.sh.
//
//   tests/with-keychain.sh node --test ui/e2e/fleet.e2e.mjs   (after `make build`)
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
let gateways;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-fleet-e2e-'));
  env = {
    RUUVI_DESK_DATA_DIR: dataDir,
    RUUVI_DESK_KEYCHAIN_SERVICE: `ruuvi-desk-fleet-e2e-${process.pid}`,
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
  };
  // Three gateways, each its own identity (seed), factory settings.
  gateways = await Promise.all([3, 4, 5].map((seed) => start(simulator, ['--tags', '3', '--seed', String(seed), '--post-delay-ms', '100'])));
  // The receiver in plain HTTP: this journey sets no gateway to send here.
  const serving = await start(ruuvictl, ['serve', '--http', '--listen', '127.0.0.1:0', '--no-admin', '--ui', '127.0.0.1:0'], env);
  uiUrl = serving.ui;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** What the gateway itself has now (`ruuvictl gateway config show`, its own password). */
function areasOf(gw) {
  const out = execFileSync(ruuvictl, ['gateway', 'config', 'show', gw.address, '--json'], {
    env: { ...process.env, ...env, RUUVI_GATEWAY_PASSWORD: gw.default_password },
  });
  return JSON.parse(out.toString()).areas;
}
const scanningOf = (gw) => areasOf(gw).scan;

test('new API keys and scanning on two of three gateways at once, then undo the scanning on one', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  await page.goto(uiUrl);
  for (const gw of gateways) {
    const found = await findGateway(page, gw.address);
    await found.getByRole('button', { name: 'Log in' }).click();
    await logIn(page, gw.default_password);
    await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });
    await page.waitForFunction((mac) => document.querySelector('#gateway-mac')?.textContent === mac, gw.gw_mac);
  }
  const [first, second, third] = gateways;
  // The third is open; tick the second as well: the change goes to both.
  const row = (gw) => page.locator(`#saved-gateways tr[data-endpoint="${gw.address}"]`);
  await row(second).getByRole('checkbox').check();

  // New API keys on both: made here, kept in the keychain; Ruuvi Desk logs in with the new
  // read-write key from then on.
  await page.locator('#read-key').selectOption('generate');
  await page.locator('#write-key').selectOption('generate');
  await page.getByRole('button', { name: 'Change LAN access on 2 gateways' }).click();
  for (const gw of [third, second]) {
    const result = page.locator(`#apply-results li[data-endpoint="${gw.address}"]`);
    await result.waitFor({ timeout: 60_000 });
    assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
    const lan = areasOf(gw).lan_auth;
    assert.equal(lan.lan_auth_api_key_use, true);
    assert.equal(lan.lan_auth_api_key_rw_use, true);
    // The key in the keychain is the one the gateway took (ruuvictl logs in with it).
    execFileSync(ruuvictl, ['gateway', 'info', gw.address, '--api-key', '--id', gw.address], { env: { ...process.env, ...env } });
  }
  assert.equal(areasOf(first).lan_auth.lan_auth_api_key_rw_use, false, 'the unticked gateway is left alone');
  assert.equal(await page.locator('#gateway-title').textContent(), `RuuviGateway${third.gw_mac.replaceAll(':', '').slice(-4)}`);
  await page.screenshot({ path: join(shots, 'browser-fleet-keys.png'), fullPage: true });

  // Scanning on both, through the sessions that now use the new keys.
  await page.locator('#scan-list').selectOption('deny');
  await page.locator('#scan-tags').fill('aa:bb:cc:dd:ee:01\nnot-a-mac');
  assert.match(await page.locator('#scan-tags-error').textContent(), /NOT-A-MAC is not a MAC address/);
  await page.locator('#scan-tags').fill('aa:bb:cc:dd:ee:01\nAA:BB:CC:DD:EE:02');
  await page.getByRole('button', { name: 'Apply scanning to 2 gateways' }).click();
  for (const gw of [third, second]) {
    const result = page.locator(`#apply-results li[data-endpoint="${gw.address}"]`);
    await result.waitFor({ timeout: 60_000 });
    assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
  }
  await page.screenshot({ path: join(shots, 'browser-fleet-scanning-applied.png'), fullPage: true });
  for (const gw of [third, second]) {
    assert.equal(scanningOf(gw).scan_filter_allow_listed, false);
    assert.deepEqual(scanningOf(gw).scan_filter_list, ['AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02']);
  }
  assert.deepEqual(scanningOf(first).scan_filter_list, [], 'the unticked gateway is left alone');

  // Undo on the second only.
  await page.getByRole('button', { name: `Undo the change on ${second.address}` }).click();
  await page.locator(`#apply-results li[data-endpoint="${second.address}"][data-undone="true"]`).waitFor({ timeout: 60_000 });
  assert.deepEqual(scanningOf(second).scan_filter_list, []);
  assert.deepEqual(scanningOf(third).scan_filter_list, ['AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02'], 'the other keeps the change');
  await page.screenshot({ path: join(shots, 'browser-fleet-scanning-undone.png'), fullPage: true });

  // Someone else sets the third gateway's scanning back to the factory settings (ruuvictl
  // straight to the gateway, as its web page would): after reading the fleet again, its row
  // says what no longer matches what Ruuvi Desk set; the others do not.
  execFileSync(ruuvictl, ['gateway', 'config', 'set-scan', third.address, '--api-key', '--id', third.address], { env: { ...process.env, ...env } });
  await row(second).getByRole('checkbox').uncheck();
  await page.getByRole('button', { name: 'Read all logged-in again' }).click();
  const differs = row(third).locator('.differs');
  await differs.waitFor({ timeout: 60_000 });
  assert.match(await differs.getAttribute('data-differs'), /scan_filter_list/);
  assert.equal(await row(second).locator('.differs').count(), 0);
  assert.equal(await row(first).locator('.differs').count(), 0);
  assert.equal(await row(third).locator('[data-column="lan"]').textContent(), 'default');
  assert.equal(await row(third).locator('[data-column="backend"]').textContent(), 'Ruuvi Cloud');
  await page.screenshot({ path: join(shots, 'browser-fleet-differs.png'), fullPage: true });

  // The third gets a login of its owner's: user and password instead of the label's device id.
  // Ruuvi Desk goes on with its read-write key; the new password works in the gateway's page.
  await page.locator('#lan-login').selectOption('ruuvi');
  await page.locator('#lan-user').fill('owner');
  assert.match(await page.locator('#lan-login-error').textContent(), /needs a user and a new password/);
  await page.locator('#lan-password').fill('s3cret owner');
  await page.getByRole('button', { name: 'Change LAN access on this gateway' }).click();
  const changed = page.locator(`#apply-results li[data-endpoint="${third.address}"]`);
  await changed.waitFor({ timeout: 60_000 });
  assert.equal(await changed.getAttribute('data-state'), 'applied', await changed.textContent());
  await page.waitForFunction(() => document.querySelector('#current-keys')?.textContent?.includes('lan_auth_ruuvi'));
  // What it set is what the gateway has: nothing about the login differs.
  assert.doesNotMatch((await row(third).locator('.differs').getAttribute('data-differs')) ?? '', /lan_auth/);
  assert.equal(await row(third).locator('[data-column="lan"]').textContent(), 'ruuvi');
  execFileSync(ruuvictl, ['gateway', 'info', third.address, '--user', 'owner', '--id', 'nobody'], {
    env: { ...process.env, ...env, RUUVI_GATEWAY_PASSWORD: 's3cret owner' },
  });
  await page.close();
});
