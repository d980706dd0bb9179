// A sensor owner's journey in a real browser against the real backend (`ruuvictl serve --ui
// --demo`): name and calibrate a sensor on its card; the card, the list, the chart's summary, an
// alert and the CSV and XLSX exports all use the name and the calibrated values; the Gateways
// page lists the demo gateway before any search; the status chips; 800×600 still usable; every
// page photographed in light and dark. Loopback only.
//
//   node --test ui/e2e/sensors.e2e.mjs   (after `make build`)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axeViolations, bin, launchChromium, logIn, shots, start, stopAll } from './support.mjs';

const ruuvictl = bin('ruuvictl', 'RUUVICTL');
const PAGES = ['Dashboard', 'Gateways', 'Alerts', 'Receiver', 'Ruuvi Network', 'Certificates', 'Decoder', 'Settings'];

let dataDir;
let browser;
let uiUrl;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ruuvi-desk-e2e-sensors-'));
  const first = await start(
    ruuvictl,
    ['serve', '--http', '--listen', '127.0.0.1:0', '--no-admin', '--demo', '--ui', '127.0.0.1:0'],
    { RUUVI_DESK_DATA_DIR: dataDir, DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/bus' },
  );
  uiUrl = first.ui;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopAll();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Every message of a catalogue, flattened. */
function messages(catalogue) {
  return Object.values(catalogue).flatMap((v) => (typeof v === 'object' ? messages(v) : [v]));
}

const catalogue = (code) => JSON.parse(readFileSync(new URL(`../src/locales/${code}.json`, import.meta.url), 'utf8'));
/** English messages that Finnish writes differently, placeholders and plurals aside: none of
 * them may be shown once the UI is in Finnish. */
const ENGLISH_ONLY = (() => {
  const fi = new Set(messages(catalogue('fi')));
  return new Set(messages(catalogue('en')).filter((m) => !fi.has(m) && !/[{}]/.test(m) && /[a-z]{3}/.test(m)));
})();

/** Texts on the page that are English messages: an element's own words, labels, placeholders
 * and option texts. */
async function englishOn(page) {
  const shown = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('main *, header *, nav *')) {
      const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent.trim()).join(' ').trim();
      if (own) out.push(own);
      for (const a of ['placeholder', 'aria-label', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
    }
    return out;
  });
  return [...new Set(shown.filter((t) => ENGLISH_ONLY.has(t)))];
}

/** The number in a card's value cell. */
async function value(card, key) {
  return Number(await card.locator(`[data-key=${key}] .value`).textContent());
}

test('a sensor named and calibrated: card, list, chart, alert and exports use it', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  await page.goto(uiUrl);
  const tag = page.locator('.card[data-kind=ruuvi_tag]').first();
  await tag.locator('[data-key=temperature] .value').waitFor({ timeout: 20_000 });
  const sensor = await tag.getAttribute('data-sensor');
  const card = page.locator(`.card[data-sensor="${sensor}"]`);
  assert.match(await card.locator('h3').textContent(), /^Ruuvi [0-9A-F]{4}$/, 'the default name');

  // Calm chrome: no raw OS message, the details one click away.
  const ble = page.getByTestId('ble-status');
  // `serve` starts with Bluetooth off (`--ble` turns it on).
  assert.equal(await ble.textContent(), 'Bluetooth: off');
  assert.equal(await page.getByText(/system_bus_socket|nonexistent/).count(), 0);
  await ble.click();
  assert.match(await page.getByTestId('ble-details').textContent(), /Switch it on in Settings/);
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('receiver-status').textContent(), 'Receiver: on');

  // Name, place and calibrate it on its card.
  await card.getByRole('button', { name: /^Edit / }).click();
  const form = card.getByTestId('sensor-form');
  await form.getByLabel('Name').fill('Sauna, lauteet');
  await form.getByLabel('Location').fill('Mökki');
  await form.getByLabel(/^Temperature offset/).fill('abc');
  assert.match(await form.getByRole('alert').textContent(), /temperature offset is not a number/);
  assert.equal(await form.getByRole('button', { name: 'Save' }).isDisabled(), true);
  await form.getByLabel(/^Temperature offset/).fill('30,0');
  const preview = form.getByTestId('calibration-preview').locator('[data-key=temperature] td');
  const [measuredText, shownText] = await preview.allTextContents();
  assert.ok(Math.abs(parseFloat(shownText) - parseFloat(measuredText) - 30) < 0.01, `${measuredText} → ${shownText}`);
  await form.getByRole('button', { name: 'Save' }).click();
  await card.locator('h3', { hasText: 'Sauna, lauteet' }).waitFor({ timeout: 10_000 });
  assert.equal(await card.getByTestId('location').textContent(), 'Mökki');
  await card.locator('.calibrated').waitFor();
  // Calibrated at once (the card is sent again) and from then on.
  const measured = parseFloat(measuredText);
  await page.waitForFunction(
    ([s, m]) => Number(document.querySelector(`.card[data-sensor="${s}"] [data-key=temperature] .value`)?.textContent) > m + 25,
    [sensor, measured],
    { timeout: 15_000 },
  );
  const shown = await value(card, 'temperature');

  // Found by name, grouped by location, listed.
  await page.locator('#find-sensor').fill('sauna');
  assert.equal(await page.locator('.card').count(), 1);
  await page.locator('#find-sensor').fill('');
  await page.locator('#group-by').selectOption('location');
  await page.locator('.group-title[data-group="Mökki"]').waitFor();
  await page.locator('#view-list').click();
  const row = page.locator(`.sensor-list tr[data-sensor="${sensor}"]`);
  assert.match(await row.locator('th').textContent(), /Sauna, lauteet/);
  await page.screenshot({ path: join(shots, 'sensors-list-grouped.png'), fullPage: true });
  await page.locator('#view-cards').click();
  await page.locator('#group-by').selectOption('none');

  // Its chart: named, calibrated, with its summary.
  await card.getByRole('button', { name: /^History of / }).click();
  assert.match(await page.locator('#detail-title').textContent(), /Sauna, lauteet/);
  const summary = page.getByTestId('chart-summary');
  await summary.waitFor({ timeout: 10_000 });
  const mean = Number(await summary.locator('[data-key=mean]').textContent());
  assert.ok(mean > measured + 25 && Math.abs(mean - shown) < 5, `average ${mean}, card ${shown}`);
  await page.screenshot({ path: join(shots, 'sensors-detail.png'), fullPage: true });

  // CSV: measured and calibrated columns, the name.
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
  const lines = readFileSync(await csvDownload.path(), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const last = lines.at(-1).replace('"Sauna, lauteet"', 'NAME').split(',');
  const col = (n) => last[header.indexOf(n)];
  assert.equal(col('name'), 'NAME');
  assert.ok(Math.abs(Number(col('temperature_c_calibrated')) - Number(col('temperature_c')) - 30) < 1e-9);
  // XLSX: a zip whose sheet is named after the sensor.
  const [xlsxDownload] = await Promise.all([page.waitForEvent('download'), page.locator('#export-xlsx').click()]);
  assert.equal(xlsxDownload.suggestedFilename(), `ruuvi-${sensor.replaceAll(':', '')}.xlsx`);
  const book = readFileSync(await xlsxDownload.path());
  assert.equal(book.subarray(0, 2).toString(), 'PK');
  await page.getByRole('button', { name: '← All sensors' }).click();

  // An alert 15 °C over what the tag measures: reached only calibrated.
  await page.getByRole('button', { name: 'Alerts', exact: true }).click();
  await page.locator('#new-rule').click();
  await page.locator('#rule-sensor').selectOption(sensor);
  await page.locator('#rule-threshold').fill(String(Math.round(measured + 15)));
  await page.locator('#save-rule').click();
  const fired = page.locator('#alert-history li').first();
  await fired.waitFor({ timeout: 15_000 });
  assert.match(await fired.locator('strong').textContent(), /Temperature alert: Sauna, lauteet/);
  // Edited in place: the threshold raised, the rule keeps its row.
  const rule = page.locator('#alert-rules tr[data-rule]').first();
  const id = await rule.getAttribute('data-rule');
  await rule.getByRole('button', { name: /^Edit the alert/ }).click();
  await page.locator(`#alert-rules tr[data-rule="${id}"].editing #rule-threshold`).fill('80');
  await page.locator('#save-rule').click();
  await page.locator(`#alert-rules tr[data-rule="${id}"]:not(.editing)`, { hasText: '80 C' }).waitFor();
  assert.equal(await page.locator('#alert-rules tr[data-rule]').count(), 1);

  // The Gateways page knows the demo gateway before any search.
  await page.getByRole('button', { name: 'Gateways', exact: true }).click();
  const known = page.locator('#known-gateways tbody tr').first();
  await known.waitFor({ timeout: 10_000 });
  assert.match(await known.textContent(), /demo \(simulated\), posts to this computer/);
  await known.getByRole('button', { name: /^Log in to / }).click();
  assert.notEqual(await page.locator('#login-secret').inputValue(), '', 'its factory password filled in');
  await page.close();
});

test('800×600 is still usable; every page photographed and audited (axe) in light and dark', async () => {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 }, colorScheme: scheme });
    await page.goto(uiUrl);
    await page.locator('.card').first().waitFor({ timeout: 20_000 });
    // Nothing wider than the window: no sideways scrolling on the dashboard.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 800, `the dashboard is ${wide} px wide at 800 px`);
    // The edit form opens and its Save button can be reached.
    const card = page.locator('.card').first();
    await card.getByRole('button', { name: /^Edit / }).click();
    const save = card.getByRole('button', { name: 'Save' });
    await save.scrollIntoViewIfNeeded();
    assert.ok(await save.isVisible());
    await card.getByRole('button', { name: 'Cancel' }).click();
    const found = [];
    for (const name of PAGES) {
      await page.getByRole('button', { name, exact: true }).click();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(shots, `page-${name.toLowerCase().replace(' ', '-')}-${scheme}.png`), fullPage: true });
      for (const v of await axeViolations(page)) found.push(`${name} (${scheme}): ${v}`);
    }
    // A sensor's detail and its open edit form too.
    await page.getByRole('button', { name: 'Dashboard', exact: true }).click();
    await page.locator('.card').first().getByRole('button', { name: /^History of / }).click();
    await page.getByTestId('chart-summary').waitFor({ timeout: 10_000 });
    await page.locator('#edit-sensor').click();
    for (const v of await axeViolations(page)) found.push(`detail (${scheme}): ${v}`);
    assert.deepEqual(found, [], 'no serious or critical accessibility violations');
    await page.close();
  }
});

test('in Finnish: every page, a sensor and its chart, a gateway and its forms', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(uiUrl);
  await page.locator('.card').first().waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await page.locator('#setting-language').selectOption('fi');
  // Kept for the next visit.
  await page.reload();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'fi');
  const nav = await page.locator('nav button').allTextContents();
  assert.deepEqual(nav.map((t) => t.trim()), [
    'Yleiskuva', 'Gatewayt', 'Hälytykset', 'Vastaanotin', 'Ruuvi Network', 'Varmenteet', 'Purkaja', 'Asetukset',
  ]);
  assert.equal(await page.locator('#dashboard-title').textContent(), 'Anturit');
  assert.equal(await page.getByTestId('receiver-status').textContent(), 'Vastaanotin: päällä');
  const tag = page.locator('.card[data-kind=ruuvi_tag]').first();
  await tag.locator('[data-key=temperature] .value').waitFor({ timeout: 20_000 });
  assert.equal(await tag.locator('[data-key=temperature] dt').textContent(), 'Lämpötila');
  assert.match(await tag.locator('[data-key=temperature] .value').textContent(), /^-?\d+,\d$/, 'a decimal comma');
  assert.match(await tag.getByTestId('last-seen').textContent(), /juuri nyt|s sitten/);
  await page.screenshot({ path: join(shots, 'fi-dashboard.png'), fullPage: true });
  await tag.getByRole('button', { name: /^Historia/ }).click();
  await page.getByRole('button', { name: '24 tuntia' }).waitFor();
  await page.getByTestId('chart-summary').waitFor({ timeout: 10_000 });
  assert.equal(await page.getByTestId('chart-summary').locator('dt').first().textContent(), 'Alin');
  await page.screenshot({ path: join(shots, 'fi-detail.png'), fullPage: true });
  await page.getByRole('button', { name: '← Kaikki anturit' }).click();
  // Every page: its heading and a piece of its text in Finnish, and no English message shown.
  const english = [];
  const finnish = {
    Gatewayt: ['Gatewayt', 'Gatewayt, jotka Ruuvi Desk tuntee'],
    Hälytykset: ['Hälytykset', 'Säännöt'],
    Vastaanotin: ['Vastaanotin', 'Gatewayt ilman sääntöä'],
    'Ruuvi Network': ['Ruuvi Network', 'Sisäinen API on pois päältä'],
    Varmenteet: ['Varmenteet', 'Gatewayt'],
    Purkaja: ['Pura mainos', 'Liitä raaka mainos'],
    Asetukset: ['Asetukset', 'Kieli'],
  };
  for (const name of ['Yleiskuva', 'Gatewayt', 'Hälytykset', 'Vastaanotin', 'Ruuvi Network', 'Varmenteet', 'Purkaja', 'Asetukset']) {
    await page.getByRole('button', { name, exact: true }).click();
    await page.waitForTimeout(300);
    if (finnish[name]) {
      const [heading, text] = finnish[name];
      assert.equal(await page.locator('main h2').first().textContent(), heading);
      assert.ok((await page.locator('main').textContent()).includes(text), `${name}: ${text}`);
    }
    for (const t of await englishOn(page)) english.push(`${name}: ${t}`);
    await page.screenshot({ path: join(shots, `fi-page-${name.toLowerCase().replace(' ', '-')}.png`), fullPage: true });
  }
  // A gateway's own forms: the demo gateway logged in to, a change previewed.
  await page.getByRole('button', { name: 'Gatewayt', exact: true }).click();
  const known = page.locator('#known-gateways tbody tr').first();
  await known.getByRole('button', { name: /^Kirjaudu: / }).click();
  await logIn(page, await page.locator('#login-secret').inputValue());
  await page.locator('#gateway-mac').waitFor({ timeout: 20_000 });
  const headings = await page.locator('main h3').allTextContents();
  for (const h of ['HTTP(S)-palvelin', 'MQTT', 'Bluetooth-haku', 'LAN-pääsy', 'Aika, paikka ja tilastot', 'Laiteohjelmisto', 'Etäkonfigurointi', 'Lue muuttamatta']) {
    assert.ok(headings.includes(h), `${h} in ${headings.join(' | ')}`);
  }
  await page.locator('#own-server').check();
  await page.locator('#server-url').fill('http://');
  await page.locator('#preview-changes').click();
  assert.equal(await page.locator('#server-url-error').textContent(), 'Alun on oltava http:// tai https:// ja sisällettävä palvelimen nimi');
  await page.locator('#server-url').fill('http://127.0.0.1:9/record');
  await page.locator('#auth-kind').selectOption('bearer');
  await page.locator('#auth-secret').fill('a-token');
  await page.locator('#preview-changes').click();
  await page.locator('#preview-table').waitFor({ timeout: 20_000 });
  assert.deepEqual(await page.locator('#preview-table thead th').allTextContents(), ['Asetus', 'Nyt', 'Jälkeen']);
  const rows = await page.locator('#preview-table tbody th').allTextContents();
  assert.ok(rows.includes('Tunnistautuminen') && rows.includes('Bearer-tunniste'), rows.join(' | '));
  await page.locator('#scan-preview-button').click();
  await page.locator('[data-for="scan-preview"], #scan-preview').first().waitFor({ timeout: 20_000 });
  for (const t of await englishOn(page)) english.push(`gateway: ${t}`);
  await page.screenshot({ path: join(shots, 'fi-page-gateway-forms.png'), fullPage: true });
  assert.deepEqual(english, [], 'no English message on a Finnish page');
  // Back to English for the next run in this profile.
  await page.getByRole('button', { name: 'Asetukset', exact: true }).click();
  await page.locator('#setting-language').selectOption('en');
  assert.equal(await page.locator('#settings-title').textContent(), 'Settings');
  await page.close();
});
