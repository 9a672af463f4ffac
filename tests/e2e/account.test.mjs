// Browser end-to-end, the account and audit pages: a user signs another of
// their sessions out from "My account" and that other browser is signed
// out, then changes the password there and stays signed in; the admin's audit page lists the user's login and live view, filters
// by user, and its CSV download has them; both pages fit a 390 px phone
// screen without sideways scrolling.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Client, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, watchErrors } from '../lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const VIEWER_PASSWORD = 'a viewer password long enough';
const NEW_PASSWORD = 'the new viewer password, longer';
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const data = tempDir('doorstep-e2e-account-');
let hub;
let doorbell;
let browser;
let admin;
let device;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  const added = await admin.api('POST', '/api/v1/devices', { json: { name: 'Front door' } });
  device = { id: added.json.device.id, secret: added.json.secret };
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201);
  doorbell = await Doorbell.start({ hub, ...device, fps: 10 });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

async function loginAs(username, password) {
  const client = new Client(hub.url);
  const response = await client.login(username, password);
  assert.equal(response.status, 200);
  return client;
}

// Ignore the failed loads of a signed-out page; keep script errors.
const scriptErrors = (errors) => errors.filter((e) => !/Failed to load resource|status of 40[13]/.test(e));

test('a user signs another of their sessions out from My account; that browser is signed out', { timeout: 120000 }, async () => {
  const phoneContext = await loggedInContext(browser, hub, await loginAs('vera', VIEWER_PASSWORD), PHONE);
  const laptopContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  try {
    // The laptop signs in through the page and watches the doorbell live.
    const laptop = await laptopContext.newPage();
    const laptopErrors = watchErrors(laptop);
    await laptop.goto(`${hub.url}/#/login?next=%2Flive`);
    await laptop.getByTestId('login-username').fill('vera');
    await laptop.getByTestId('login-password').fill(VIEWER_PASSWORD);
    await laptop.getByTestId('login-submit').click();
    await waitFor(async () => (await admin.api('GET', '/api/v1/audit?user=vera&action=live_view')).json.total > 0,
      { what: 'the live view to be audited', timeout: 30000 });

    // The phone opens My account from the header and signs the laptop out.
    const phone = await phoneContext.newPage();
    const phoneErrors = watchErrors(phone);
    await phone.goto(`${hub.url}/#/devices`);
    await phone.getByTestId('nav-account').click();
    await phone.getByTestId('account-page').waitFor();
    const rows = phone.getByTestId('session-row');
    await waitFor(async () => (await rows.count()) === 2, { what: 'two sessions listed' });
    const current = phone.locator('[data-testid="session-row"][data-current="true"]');
    assert.equal(await current.count(), 1);
    assert.match(await current.textContent(), /This browser/);
    const other = phone.locator('[data-testid="session-row"][data-current="false"]');
    assert.match(await other.textContent(), /Chrom/);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `My account: no horizontal scrolling at 390 px (${overflow}px)`);
    await other.getByTestId('session-revoke').click();
    await waitFor(async () => (await rows.count()) === 1, { what: 'the list without the laptop' });

    // The laptop is signed out: its live view closes and the next page asks to sign in.
    await laptop.getByTestId('nav-devices').click();
    await laptop.getByTestId('login-username').waitFor({ timeout: 15000 });
    // The phone is still signed in; it changes the password and stays signed in.
    await phone.reload();
    await phone.getByTestId('account-page').waitFor();
    const elsewhere = await loginAs('vera', VIEWER_PASSWORD);
    await phone.getByTestId('password-current').fill(VIEWER_PASSWORD);
    await phone.getByTestId('password-new').fill(NEW_PASSWORD);
    await phone.getByTestId('password-again').fill(NEW_PASSWORD);
    await phone.getByTestId('password-save').click();
    await waitFor(async () => (await elsewhere.api('GET', '/api/v1/me')).status === 401, { what: 'the other session to end' });
    await phone.getByTestId('session-current').waitFor({ timeout: 15000 });
    await waitFor(async () => (await rows.count()) === 1, { what: 'only this browser signed in' });
    assert.equal((await loginAs('vera', NEW_PASSWORD)).csrf !== null, true);
    assert.deepEqual(scriptErrors(phoneErrors), []);
    assert.deepEqual(scriptErrors(laptopErrors).filter((e) => !/WebSocket/.test(e)), []);
  } finally {
    await phoneContext.close();
    await laptopContext.close();
  }
});

test("the admin's audit page: the login and the live view, a filter by user, the CSV", { timeout: 120000 }, async () => {
  const context = await loggedInContext(browser, hub, admin, { acceptDownloads: true });
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#/settings`);
    await page.getByTestId('settings-audit').click();
    await page.getByTestId('audit-page').waitFor();
    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor();
    const veraLogin = page.locator('[data-testid="audit-row"][data-action="login"][data-user="vera"]');
    const veraLive = page.locator('[data-testid="audit-row"][data-action="live_view"][data-user="vera"]');
    await veraLogin.first().waitFor();
    await veraLive.first().waitFor();
    assert.match(await veraLive.first().textContent(), /Watched live.*Front door/);

    await page.getByTestId('audit-user').selectOption('vera');
    await waitFor(async () => {
      const users = await rows.evaluateAll((els) => els.map((el) => el.dataset.user));
      return users.length > 0 && users.every((u) => u === 'vera');
    }, { what: 'only the rows of vera' });
    const shown = await rows.evaluateAll((els) => els.map((el) => el.dataset.action));
    assert.ok(shown.includes('login') && shown.includes('live_view') && shown.includes('session_end'), shown.join(','));

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.equal(lines[0], 'id,time,at_ms,user,action,target,detail,address');
    assert.ok(lines.slice(1).every((line) => line.split(',')[3] === 'vera'), 'the CSV has the same filter');
    assert.ok(lines.some((line) => line.includes(',vera,login,')));
    assert.ok(lines.some((line) => line.includes(`,vera,live_view,${device.id},`)));
    assert.deepEqual(scriptErrors(errors), []);
  } finally {
    await context.close();
  }
});

test('the audit page fits a phone screen; Load more pages on', { timeout: 60000 }, async () => {
  const now = Date.now();
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'),
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
     INSERT INTO audit_log (at, username, action, detail) SELECT ${now} - i, 'bulk', 'login_failed', 'row ' || i FROM n`]);
  const total = (await admin.api('GET', '/api/v1/audit?limit=1')).json.total;
  const context = await loggedInContext(browser, hub, admin, PHONE);
  try {
    const page = await context.newPage();
    await page.goto(`${hub.url}/#/audit`);
    const rows = page.getByTestId('audit-row');
    await rows.first().waitFor();
    await waitFor(async () => (await rows.count()) === 50, { what: 'the first page of 50' });
    await page.getByTestId('audit-more').click();
    await waitFor(async () => (await rows.count()) === 100, { what: 'the second page' });
    assert.match(await page.getByTestId('audit-status').textContent(), new RegExp(`^100 of ${total} entries$`));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (${overflow}px)`);
    const box = await page.getByTestId('audit-row').first().boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `an entry fits the screen (${box.x}..${box.x + box.width})`);
  } finally {
    await context.close();
  }
});
