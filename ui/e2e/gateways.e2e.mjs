// A gateway owner's first session, in a real browser (Debian's Chromium through playwright-core)
// against the real backend and the real simulator binary: `ruuvi-gw-sim` stands in for the
// gateway, `ruuvictl serve --ui` is Ruuvi Desk with its HTTPS receiver. Find the gateway by
// address, log in (a wrong password first), "Send data to this computer", see its sensors live
// on the dashboard, open a chart; then change the backend through the form with a preview.
// No mocks. Loopback only. Needs a keychain: run inside tests/with-keychain.sh.
//
//   tests/with-keychain.sh node --test ui/e2e/gateways.e2e.mjs   (after `make build`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, findGateway, launchChromium, logIn, shots, start, stopAll } from './support.mjs';

const ruuvictl = bin('ruuvictl', 'RUUVICTL');
const simulator = bin('ruuvi-gw-sim', 'RUUVI_GW_SIM');

let dataDir;
let browser;
let uiUrl;
let gateway;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-gw-e2e-'));
  const env = {
    RUUVI_DESK_DATA_DIR: dataDir,
    RUUVI_DESK_KEYCHAIN_SERVICE: `ruuvi-desk-e2e-${process.pid}`,
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
  };
  // The installation's CA, as `ruuvictl pki init` makes it; the receiver's certificate follows.
  execFileSync(ruuvictl, ['pki', 'init'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  // A factory-fresh gateway (password = its device id), with the firmware's timings shortened.
  gateway = await start(simulator, ['--tags', '3', '--post-delay-ms', '100', '--retry-after-failure-ms', '2000']);
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

test('find a gateway, log in, send its data to this computer, watch it live', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 760 } });
  await page.goto(uiUrl);
  const found = await findGateway(page, gateway.address);
  await page.screenshot({ path: join(shots, 'browser-gateways-found.png'), fullPage: true });
  await found.getByRole('button', { name: 'Log in' }).click();

  await logIn(page, 'not-the-password');
  const refused = page.locator('#login-error');
  await refused.waitFor({ timeout: 20_000 });
  assert.match(await refused.textContent(), /device id on the gateway's label/);
  await logIn(page, gateway.default_password);
  await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#gateway-mac').textContent(), gateway.gw_mac);
  assert.equal(await page.locator('#current-cloud').textContent(), 'on');
  await page.screenshot({ path: join(shots, 'browser-gateway-logged-in.png'), fullPage: true });

  // Progress arrives over the live socket while the gateway is set up.
  await page.evaluate(() => {
    window.__maxProgress = 0;
    new MutationObserver(() => {
      for (const p of document.querySelectorAll('progress')) window.__maxProgress = Math.max(window.__maxProgress, p.value);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByRole('button', { name: 'Send data to this computer' }).click();
  const result = page.locator(`#apply-results li[data-endpoint="${gateway.address}"]`);
  await result.waitFor({ timeout: 60_000 });
  assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
  assert.ok((await page.evaluate(() => window.__maxProgress)) > 0, 'a progress bar moved');
  // The page shows what the gateway now has: our receiver, over HTTPS.
  await page.waitForFunction(() => document.querySelector('#current-url')?.textContent?.startsWith('https://'));
  assert.match(await page.locator('#current-url').textContent(), /^https:\/\/127\.0\.0\.1:\d+\/record$/);
  assert.equal(await page.locator('#current-cloud').textContent(), 'on', 'Ruuvi Cloud left as it was');
  await page.screenshot({ path: join(shots, 'browser-gateway-sending-here.png'), fullPage: true });

  // The gateway's tags arrive on the dashboard (bearer token + client certificate accepted).
  await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
  const card = page.locator('.card').filter({ has: page.locator('.source', { hasText: `gateway ${gateway.gw_mac}` }) }).first();
  await card.locator('[data-key=temperature] .value').waitFor({ timeout: 60_000 });
  const sensor = await card.getAttribute('data-sensor');
  await card.getByRole('button', { name: /^History of / }).click();
  await page.getByTestId('chart').locator('canvas').waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(shots, 'browser-gateway-chart.png'), fullPage: true });

  // The Receiver page: this gateway's rule and its stored posts.
  await page.getByRole('button', { name: 'Receiver', exact: true }).click();
  const activity = page.locator(`.receiver-gateway[data-gateway="${gateway.gw_mac}"]`);
  await activity.waitFor({ timeout: 10_000 });
  assert.match(await activity.textContent(), /Authentication: Bearer token; client certificate required/);
  await activity.locator('tr[data-status="200"]').first().waitFor({ timeout: 10_000 });
  assert.match(await activity.locator('tbody tr').first().textContent(), /stored \d+ observations?/);
  assert.match(await page.locator('#receiver-url').textContent(), /https:\/\/127\.0\.0\.1:\d+\/record/);
  await page.screenshot({ path: join(shots, 'browser-receiver.png'), fullPage: true });

  // Certificates: the CA, the receiver's and the gateway's; renewing uploads the new one to it.
  await page.getByRole('button', { name: 'Certificates', exact: true }).click();
  await page.locator('#ca').waitFor({ timeout: 10_000 });
  assert.match(await page.locator('#server-cert').textContent(), /127\.0\.0\.1/);
  const client = page.locator(`#client-certs tr[data-gateway="${gateway.gw_mac}"][data-previous="false"]`);
  assert.match(await client.textContent(), /valid for 7\d\d more days/);
  await client.getByRole('button', { name: `Renew ${gateway.gw_mac}'s certificate` }).click();
  await page.locator('#certificates-said').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('#certificates-said').textContent(), /renewed and uploaded/);
  await page.locator(`#client-certs tr[data-gateway="${gateway.gw_mac}"][data-previous="true"]`).waitFor();
  await page.screenshot({ path: join(shots, 'browser-certificates.png'), fullPage: true });

  // The receiver was told to expect this gateway; no secret in its files.
  const policy = JSON.parse(readFileSync(join(dataDir, 'receiver.json'), 'utf8'));
  assert.deepEqual(policy.gateways[gateway.gw_mac], { auth: 'bearer', require_client_cert: true, hmac: false, rotate_hmac: false });
  assert.doesNotMatch(readFileSync(join(dataDir, 'gateways.json'), 'utf8'), new RegExp(gateway.default_password));
  await page.close();
});

test('change the backend through the form: checks, preview, apply', async () => {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  await page.goto(uiUrl);
  await page.getByRole('button', { name: 'Gateways', exact: true }).click();
  // Remembered from the first test: opening it needs no password.
  const row = page.locator(`#saved-gateways tr[data-endpoint="${gateway.address}"]`);
  await row.waitFor({ timeout: 10_000 });
  await row.getByRole('button', { name: /Open|Log in/ }).click();
  await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });

  // Field checks before anything is sent.
  await page.locator('#server-url').fill('desk.local/record');
  await page.getByRole('button', { name: 'Preview changes' }).click();
  assert.match(await page.locator('#server-url-error').textContent(), /http/);
  await page.locator('#interval').fill('0');
  assert.match(await page.locator('#interval-error').textContent(), /1 to 65535/);

  // Ruuvi Cloud off, a 30 s interval on the same receiver: the preview lists exactly that.
  const url = await page.locator('#current-url').textContent();
  await page.locator('#server-url').fill(url);
  await page.locator('#interval').fill('30');
  await page.getByLabel('Send to Ruuvi Cloud').uncheck();
  await page.getByRole('button', { name: 'Preview changes' }).click();
  await page.locator('#preview-table').waitFor({ timeout: 20_000 });
  const keys = await page.locator('#preview-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.key));
  assert.deepEqual(keys.sort(), ['http_period', 'use_cloud']);
  await page.screenshot({ path: join(shots, 'browser-gateway-preview.png'), fullPage: true });

  // The gateway itself tests the URL with the token it has saved.
  await page.getByRole('button', { name: 'Test the URL from the gateway' }).click();
  const check = page.locator('#url-check');
  await check.waitFor({ timeout: 40_000 });
  assert.match(await check.textContent(), /reached the server/);

  await page.getByRole('button', { name: 'Preview changes' }).click();
  await page.getByRole('button', { name: 'Apply to this gateway' }).click();
  const result = page.locator(`#apply-results li[data-endpoint="${gateway.address}"]`);
  await result.waitFor({ timeout: 60_000 });
  assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
  await page.waitForFunction(() => document.querySelector('#current-cloud')?.textContent === 'off');
  // Usable at 800×600: nothing wider than the window.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than 800`);
  await page.screenshot({ path: join(shots, 'browser-gateway-applied-800x600.png'), fullPage: true });
  await page.close();
});

test('a gateway set up by hand with a long URL posts to exactly our URL after "Send data to this computer"', async () => {
  // Someone used the gateway's own web page (firmware v1.17.2+): an extra path and a header
  // line appended to their old server's URL. The firmware keeps those switches when a change
  // leaves them out.
  const setUp = join(dataDir, 'set-up-by-hand.json');
  writeFileSync(setUp, JSON.stringify({
    ruuvi_json: {
      use_http: true, http_url: 'http://127.0.0.1:9/old', http_auth: 'none',
      http_use_extra_http_path: true, http_use_extra_http_headers: true,
    },
    files: { http_path: 'old/path', http_headers: 'X-Old-Site: three\r\n' },
  }));
  const byHand = await start(simulator, ['--tags', '2', '--seed', '7', '--post-delay-ms', '100',
    '--retry-after-failure-ms', '2000', '--set-up', setUp]);
  const page = await browser.newPage({ viewport: { width: 1024, height: 760 } });
  await page.goto(uiUrl);
  const found = await findGateway(page, byHand.address);
  await found.getByRole('button', { name: 'Log in' }).click();
  await logIn(page, byHand.default_password);
  await page.locator('#current-extra').waitFor({ timeout: 20_000 });
  assert.match(await page.locator('#current-extra').textContent(), /an extra URL path, extra HTTP headers/);
  await page.screenshot({ path: join(shots, 'browser-gateway-long-url.png'), fullPage: true });

  await page.getByRole('button', { name: 'Send data to this computer' }).click();
  const result = page.locator(`#apply-results li[data-endpoint="${byHand.address}"]`);
  await result.waitFor({ timeout: 60_000 });
  assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
  await page.waitForFunction(() => document.querySelector('#current-url')?.textContent?.startsWith('https://'));
  assert.equal(await page.locator('#current-extra').count(), 0, 'the long-URL switches are off');

  // Checked at the receiver: posts from this gateway arrive at its one path (any other path is
  // answered 404 and never reaches a gateway's log) and carry none of the old header lines.
  await page.getByRole('button', { name: 'Receiver', exact: true }).click();
  const activity = page.locator(`.receiver-gateway[data-gateway="${byHand.gw_mac}"]`);
  await activity.locator('tr[data-status="200"]').first().waitFor({ timeout: 60_000 });
  const headers = await activity.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.unexpectedHeaders));
  assert.ok(headers.length > 0);
  assert.deepEqual(headers.filter((h) => h !== ''), [], 'no post carried a header the gateway does not send by itself');
  await page.screenshot({ path: join(shots, 'browser-receiver-long-url-gone.png'), fullPage: true });
  await page.close();
});

test('the long URL set through the form: the gateway posts to URL + path + query with the header line', async () => {
  // An own server of this test's: it records what each post asked for.
  const posts = [];
  const own = createServer((req, res) => {
    posts.push({ url: req.url, site: req.headers['x-site'] });
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise((resolve) => own.listen(0, '127.0.0.1', resolve));
  const gw = await start(simulator, ['--tags', '2', '--seed', '8', '--post-delay-ms', '100', '--retry-after-failure-ms', '2000']);
  const page = await browser.newPage({ viewport: { width: 1024, height: 900 } });
  try {
    await page.goto(uiUrl);
    const found = await findGateway(page, gw.address);
    await found.getByRole('button', { name: 'Log in' }).click();
    await logIn(page, gw.default_password);
    await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });
    await page.getByLabel('Send to my own server').check();
    await page.locator('#server-url').fill(`http://127.0.0.1:${own.address().port}/in`);
    await page.locator('#interval').fill('1');
    await page.locator('#extra-path').fill('site1/floor2');
    await page.locator('#extra-query').fill('key=abc');
    await page.locator('#extra-headers').fill('X-Site one');
    await page.getByRole('button', { name: 'Preview changes' }).click();
    assert.match(await page.locator('#extra-headers-error').textContent(), /Name: value/);
    await page.locator('#extra-headers').fill('X-Site: one');
    await page.getByRole('button', { name: 'Preview changes' }).click();
    await page.locator('#preview-table').waitFor({ timeout: 20_000 });
    const keys = await page.locator('#preview-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.key));
    assert.ok(keys.includes('http_use_extra_http_path') && keys.includes('http_use_extra_http_headers'), keys.join(','));
    await page.getByRole('button', { name: 'Apply to this gateway' }).click();
    const result = page.locator(`#apply-results li[data-endpoint="${gw.address}"]`);
    await result.waitFor({ timeout: 60_000 });
    assert.equal(await result.getAttribute('data-state'), 'applied', await result.textContent());
    for (let i = 0; i < 100 && posts.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(posts[0], { url: '/in/site1/floor2?key=abc', site: 'one' });
    await page.screenshot({ path: join(shots, 'browser-gateway-long-url-set.png'), fullPage: true });
  } finally {
    await page.close();
    own.close();
  }
});
