// Pairing in the browser: the real hub, real doorbelld processes that start
// unpaired (their state in a fresh --state-dir), and Chromium on "Add
// doorbell":
//   - a new doorbell appears in the dialog's waiting list; its setup code,
//     read from its log as a person would, pairs it; it is online and the
//     doorbell page shows live video soon after (the "within 5 s",
//     stretched by the machine's load: tests/lib/patience.mjs);
//   - five wrong codes, typed in the dialog, each get their own refusal; the
//     doorbell then closes pairing mode, so even the right code is refused,
//     until its button is held 10 s;
//   - a doorbell that signs in with a secret the hub keeps is marked
//     "legacy secret", a paired one is not.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, watchErrors, activePlayer } from '../lib/browser.mjs';
import { patience } from '../lib/patience.mjs';

const data = tempDir('doorstep-e2e-pairing-');
const doorbells = [];
let hub;
let admin;
let browser;

before(async () => {
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin();
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const doorbell of doorbells) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// A new doorbell, unpaired; its id and setup code as its log prints them.
async function newDoorbell(name) {
  const doorbell = await Doorbell.startPairing({ hub, stateDir: join(data.dir, name) });
  doorbells.push(doorbell);
  const line = await waitFor(() => doorbell.log.find((entry) => /pairing mode: setup code \d{4}-\d{4}, device id [0-9a-f]{12}/.test(entry)),
    { what: 'the setup code in the doorbell log' });
  const [, code, id] = /setup code (\d{4}-\d{4}), device id ([0-9a-f]{12})/.exec(line);
  return { doorbell, id, code };
}

// A well-formed code that is not code, and not a trivial one (12345678,
// 11111111, ...: never a setup code, so a hub may refuse it outright).
function wrongCode(code, attempt) {
  const digits = code.replace('-', '');
  const trivial = new Set(['12345678', '87654321', ...Array.from({ length: 10 }, (_, d) => String(d).repeat(8))]);
  for (let step = attempt; ; step += 5) {
    const candidate = `${digits.slice(0, 7)}${(Number(digits[7]) + step) % 10}`;
    if (candidate !== digits && !trivial.has(candidate)) return candidate;
  }
}

// The devices page with the Add doorbell dialog open.
async function openAddDialog(page) {
  await page.goto(`${hub.url}/#/devices`);
  await page.getByTestId('add-device').click();
  await page.getByTestId('add-device-dialog').waitFor();
}

// Start pairing the doorbell id from the dialog's waiting list.
async function choose(page, id) {
  const row = page.locator(`[data-testid="waiting-doorbell"][data-device-id="${id}"]`);
  await row.waitFor({ timeout: patience(30000) });
  await row.getByTestId('pair-start').click();
  await page.getByTestId('pair-code').waitFor();
}

async function submitCode(page, name, code) {
  await page.getByTestId('pair-name').fill(name);
  await page.getByTestId('pair-code').fill(code);
  await page.getByTestId('pair-submit').click();
}

test('a new doorbell appears under Add doorbell; the code from its log pairs it; it is online and live at once', async () => {
  const { id, code } = await newDoorbell('porch');
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await openAddDialog(page);
    await choose(page, id);
    await submitCode(page, 'Porch', code);
    await page.getByTestId('pair-success').waitFor({ timeout: patience(30000) });
    const paired = Date.now();
    await page.getByTestId('pair-done').click();

    const card = page.locator(`[data-testid="device-card"][data-device-id="${id}"]`);
    await card.waitFor();
    await waitFor(async () => (await card.locator('.badge-online').count()) === 1,
      { timeout: patience(5000), what: 'the paired doorbell online on its card' });
    const online = Date.now() - paired;
    assert.equal(await card.getByTestId('device-legacy').isVisible(), false, 'a paired doorbell is not "legacy secret"');

    await page.goto(`${hub.url}/#/devices/${id}`);
    await waitFor(async () => {
      const player = await activePlayer(page, id);
      return player && player.frames.length >= 10;
    }, { timeout: patience(15000), what: 'live video of the paired doorbell' });
    console.log(`# paired -> online on its card ${online} ms, then live video on its page`);
    const device = (await admin.api('GET', `/api/v1/devices/${id}`)).json;
    assert.equal(device.auth, 'key');
    assert.equal(device.name, 'Porch');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('five wrong codes in the dialog: each is refused, then pairing is closed until the button is held 10 s', async () => {
  const { doorbell, id, code } = await newDoorbell('gate');
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    await openAddDialog(page);
    await choose(page, id);
    const error = page.getByTestId('pair-error');
    for (let attempt = 1; attempt <= 5; attempt++) {
      // The doorbell reconnects after each refused exchange: wait until the
      // hub has it waiting again, as a person would retry.
      await waitFor(async () => (await admin.api('GET', '/api/v1/pairing')).json.waiting.some((entry) => entry.device_id === id),
        { timeout: patience(30000), what: `the doorbell waiting before wrong code ${attempt}` });
      await submitCode(page, 'Gate', wrongCode(code, attempt));
      await waitFor(async () => /setup code is not right/.test(await error.textContent()) && await error.isVisible(),
        { timeout: patience(30000), what: `the refusal of wrong code ${attempt}` });
      await page.evaluate(() => { document.querySelector('[data-testid="pair-error"]').textContent = ''; });
    }
    await waitFor(() => doorbell.log.some((line) => line.includes('wrong setup code (5 of 5)')), { what: 'the fifth wrong code counted' });

    // Closed: the right code is refused now, and the doorbell is not listed.
    await submitCode(page, 'Gate', code);
    await waitFor(async () => /closed pairing|no longer waiting/.test(await error.textContent()),
      { timeout: patience(30000), what: 'the right code refused while pairing is closed' });
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByTestId('pairing-list').waitFor({ state: 'attached' });
    await waitFor(async () => (await page.locator(`[data-testid="waiting-doorbell"][data-device-id="${id}"]`).count()) === 0,
      { timeout: patience(10000), what: 'the closed doorbell gone from the list' });
    assert.equal((await admin.api('GET', `/api/v1/devices/${id}`)).status, 404);

    // A 10 s hold opens pairing mode again, and the right code pairs it.
    assert.match(await doorbell.control('hold 10'), /pairing mode open/);
    await choose(page, id);
    await submitCode(page, 'Gate', code);
    await page.getByTestId('pair-success').waitFor({ timeout: patience(30000) });
  } finally {
    await context.close();
  }
});

test('a doorbell with a secret the hub keeps is marked "legacy secret"', async () => {
  const device = hub.addDevice('Old door');
  const doorbell = await Doorbell.start({ hub, ...device, fps: 10 });
  doorbells.push(doorbell);
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    await page.goto(`${hub.url}/#/devices`);
    const card = page.locator(`[data-testid="device-card"][data-device-id="${device.id}"]`);
    await card.getByTestId('device-legacy').waitFor();
    assert.match(await card.getByTestId('device-legacy').textContent(), /Legacy secret/);
  } finally {
    await context.close();
  }
});
