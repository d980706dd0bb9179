// What the browser journeys share: where the binaries and screenshots are, starting the real
// processes (and ending them), and launching Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A workspace binary (`target/debug/<name>`), or the one `env` names. */
export const bin = (name, env) => process.env[env] ?? join(root, 'target', 'debug', name);
export const shots = process.env.RUUVI_DESK_SCREENSHOTS ?? join(root, 'target', 'e2e-screenshots');
mkdirSync(shots, { recursive: true });

/** The processes `start` started; `stopAll` ends them. */
const children = [];

/** Starts a process; resolves with its first stdout line parsed as JSON (or at once with null
 * when `firstLine` is false). */
export function start(command, args, env = {}, firstLine = true) {
  const child = startProcess(command, args, env);
  if (!firstLine) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
    setTimeout(() => reject(new Error(`${command}: no startup line within 30 s`)), 30_000).unref();
  });
}

/** Starts a process and returns it (ended by `stopAll`, or by the caller through `kill`). */
export function startProcess(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return child;
}

export function stopAll() {
  for (const c of children) c.kill();
}

/** Debian's Chromium, headless, with nothing of its own reaching out to the network. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Gateways page: find the gateway by its address only (no multicast from a test) and open
 * its login form; returns its row. */
export async function findGateway(page, address) {
  await page.getByRole('button', { name: 'Gateways', exact: true }).click();
  await page.getByLabel('Search this network (mDNS)').uncheck();
  await page.getByLabel('Addresses').fill(address);
  await page.getByRole('button', { name: 'Find gateways' }).click();
  const found = page.locator(`#found-gateways li[data-endpoint="${address}"]`);
  await found.waitFor({ timeout: 10_000 });
  return found;
}

export async function logIn(page, password) {
  await page.locator('#login-secret').fill(password);
  await page.locator('#login-button').click();
}

/** Serious and critical accessibility violations on the page as it is (axe-core), each as
 * "rule: target" lines; empty when there are none. */
export async function axeViolations(page) {
  await page.addScriptTag({ path: join(root, 'ui', 'node_modules', 'axe-core', 'axe.min.js') });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary?.split('\n')[1] ?? ''}`));
  });
  return violations;
}
