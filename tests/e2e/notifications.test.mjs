// Browser end-to-end tests of notifications (#/notifications), the mode
// switch in the header and the event detail of the recordings page:
// Debian's Chromium (headless, through playwright-core) on the real hub, a
// real simulated doorbell and a local webhook / ntfy receiver
// (tests/lib/notify-receiver.mjs) that verifies Standard Webhooks
// signatures with node's own crypto. Nothing of ours is mocked.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Client, Doorbell, tempDir, waitFor, freePort, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage as openPage } from '../lib/browser.mjs';
import { NotifyReceiver, verifyStandardWebhook } from '../lib/notify-receiver.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-e2e-notify-');
let hub;
let admin;
let device;
let doorbell;
let receiver;
let browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 15 });
  receiver = await NotifyReceiver.start();
  browser = await launchChromium();
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'the doorbell online' });
});

after(() => stopAll(browser, receiver, doorbell, hub, data));

// A page at #path, logged in as client (the admin by default).
const withPage = (path, fn, options = {}, client = admin) =>
  openPage({ browser, hub, client }, path, fn, options);

// Script errors fail a test; failed requests the page expects do not.
function scriptErrors(errors) {
  return errors.filter((text) => !/status of (400|401|403|404|409)|net::ERR_/.test(text));
}

async function targetsByName(name) {
  const { targets } = (await admin.api('GET', '/api/v1/notifications/targets')).json;
  return targets.filter((t) => t.name === name);
}

// Open the add dialog and fill what every target has.
async function startTarget(page, kind, name, url) {
  await page.getByTestId('target-add').click();
  const dialog = page.getByTestId('target-dialog');
  await dialog.waitFor();
  await dialog.getByTestId(`target-kind-${kind}`).click();
  await dialog.getByTestId('target-name-input').fill(name);
  await dialog.getByTestId('target-url-input').fill(url);
  return dialog;
}

test('a webhook added in the UI shows its secret once, receives a ring, and the delivery shows as delivered', { timeout: 90000 }, async () => {
  await withPage('/notifications', async ({ page, errors }) => {
    await page.getByTestId('notifications').waitFor();
    const dialog = await startTarget(page, 'webhook', 'Automation', `${receiver.url}/hook`);
    await dialog.getByTestId('target-type-ring').check();
    await dialog.getByTestId('target-save').click();

    // The signing secret, shown this once with a copy button.
    const secretEl = dialog.getByTestId('target-secret');
    await secretEl.waitFor();
    const secret = (await secretEl.textContent()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
    await dialog.getByTestId('target-secret-copy').waitFor();
    await dialog.getByTestId('target-secret-done').click();
    await dialog.waitFor({ state: 'detached' });

    const [target] = await targetsByName('Automation');
    assert.ok(target, 'the hub has the target');
    assert.equal(target.kind, 'webhook');
    assert.deepEqual(target.event_types, ['ring']);
    assert.equal(target.secret_set, true);
    const listing = (await admin.api('GET', '/api/v1/notifications/targets')).body.toString();
    assert.ok(!listing.includes(secret.slice(6)), 'the secret is never returned again');

    const card = page.locator(`[data-testid="target-card"][data-target-id="${target.id}"]`);
    await card.waitFor();
    assert.match(await card.getByTestId('target-url').textContent(), /\/hook$/);
    assert.equal((await card.getByTestId('target-enabled').textContent()).trim(), 'Enabled');
    // Reopening the dialog shows no secret, only the choice to make a new one.
    await card.getByTestId('target-edit').click();
    const edit = page.getByTestId('target-dialog');
    await edit.getByTestId('target-rotate').waitFor();
    assert.equal(await edit.getByTestId('target-secret').count(), 0);
    assert.equal(await edit.getByTestId('target-name-input').inputValue(), 'Automation');
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'detached' });

    // A press of the button: the receiver verifies the signed ring...
    assert.equal(await doorbell.control('press'), 'ok');
    const entry = await waitFor(() => receiver.to('/hook').find((r) => JSON.parse(r.body).type === 'event.ring'),
      { timeout: 15000, what: 'the ring at the receiver' });
    const payload = verifyStandardWebhook(entry, secret);
    assert.equal(payload.data.device_id, device.id);

    // ...and the page lists it as delivered, on the card and in the deliveries.
    const row = page.locator(`[data-testid="delivery-row"][data-target-id="${target.id}"][data-state="delivered"]`);
    await row.first().waitFor({ timeout: 20000 });
    assert.match(await row.first().textContent(), /Ring/);
    await waitFor(async () => (await card.getByTestId('target-last').getAttribute('data-state')) === 'delivered',
      { what: 'the card to show the delivery' });

    // "Send test" shows the result once the delivery finished.
    await card.getByTestId('target-test').click();
    const result = card.getByTestId('target-test-result');
    await waitFor(async () => (await result.getAttribute('data-state')) === 'delivered', { timeout: 20000, what: 'the test delivered' });
    assert.match(await result.textContent(), /Test delivered \(HTTP 200\)/);
    const testEntry = receiver.to('/hook').find((r) => JSON.parse(r.body).type === 'notification.test');
    assert.ok(testEntry, 'the receiver got the test');
    verifyStandardWebhook(testEntry, secret);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('an ntfy target on a refused port shows its failure; delete asks first', { timeout: 90000 }, async () => {
  const port = await freePort(); // nothing listens there
  await withPage('/notifications', async ({ page, errors }) => {
    await page.getByTestId('notifications').waitFor();
    const dialog = await startTarget(page, 'ntfy', 'Nobody home', `http://127.0.0.1:${port}`);
    await dialog.getByTestId('target-topic-input').fill('front-door');
    await dialog.getByTestId('target-auth').selectOption('token');
    await dialog.getByTestId('target-token-input').fill('tk_example');
    // The certificate warning comes with the option.
    assert.equal(await dialog.getByTestId('target-insecure-warning').isVisible(), false);
    await dialog.getByTestId('target-insecure').check();
    assert.equal(await dialog.getByTestId('target-insecure-warning').isVisible(), true);
    await dialog.getByTestId('target-insecure').uncheck();
    // A schedule without days is refused before anything is sent.
    await dialog.getByTestId('target-scheduled').check();
    for (const day of [1, 2, 3, 4, 5]) await dialog.getByTestId(`target-day-${day}`).uncheck();
    await dialog.getByTestId('target-save').click();
    await dialog.getByTestId('target-error').waitFor();
    assert.match(await dialog.getByTestId('target-error').textContent(), /at least one day/);
    await dialog.getByTestId('target-scheduled').uncheck();
    // A URL the hub refuses: its reason is shown in the form.
    await dialog.getByTestId('target-url-input').fill('ftp://127.0.0.1/');
    await dialog.getByTestId('target-save').click();
    await waitFor(async () => /url/i.test(await dialog.getByTestId('target-error').textContent()), { what: 'the hub’s reason in the form' });
    assert.equal((await targetsByName('Nobody home')).length, 0);
    await dialog.getByTestId('target-url-input').fill(`http://127.0.0.1:${port}`);
    await dialog.getByTestId('target-save').click();
    await dialog.waitFor({ state: 'detached' });

    const [target] = await targetsByName('Nobody home');
    assert.equal(target.kind, 'ntfy');
    assert.equal(target.topic, 'front-door');
    assert.equal(target.token_set, true);
    assert.equal(target.schedule, null);
    const card = page.locator(`[data-testid="target-card"][data-target-id="${target.id}"]`);
    await card.waitFor();
    assert.match(await card.getByTestId('target-url').textContent(), new RegExp(`127\\.0\\.0\\.1:${port}/front-door$`));

    await card.getByTestId('target-test').click();
    const result = card.getByTestId('target-test-result');
    await waitFor(async () => /cannot connect/.test(await result.textContent()), { timeout: 20000, what: 'the test to report the failure' });
    assert.match(await result.getAttribute('class'), /is-bad/);
    const row = page.locator(`[data-testid="delivery-row"][data-target-id="${target.id}"]`).first();
    await waitFor(async () => /cannot connect/.test(await row.getByTestId('delivery-result').textContent()),
      { timeout: 20000, what: 'the deliveries list to show the error' });
    assert.match(await row.getAttribute('class'), /is-bad/);
    assert.ok(Number((await row.getByTestId('delivery-attempts').textContent()).match(/\d+/)[0]) >= 1);
    await page.getByTestId('delivery-filter-problems').click();
    await waitFor(async () => (await page.locator('[data-testid="delivery-row"][data-state="delivered"]').count()) === 0,
      { what: 'only problems listed' });
    assert.ok(await page.locator(`[data-testid="delivery-row"][data-target-id="${target.id}"]`).count() >= 1);

    // Delete: cancel keeps it, confirm removes it.
    await card.getByTestId('target-delete').click();
    await page.getByTestId('confirm-cancel').click();
    assert.equal((await targetsByName('Nobody home')).length, 1);
    await card.getByTestId('target-delete').click();
    await page.getByTestId('confirm-ok').click();
    await card.waitFor({ state: 'detached' });
    assert.equal((await targetsByName('Nobody home')).length, 0);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('cooldowns per doorbell are saved and kept', { timeout: 60000 }, async () => {
  await withPage('/notifications', async ({ page, errors }) => {
    const form = page.locator(`[data-testid="cooldowns"][data-device-id="${device.id}"]`);
    const motion = form.locator('input[name="motion"]');
    await motion.waitFor();
    assert.equal(await motion.inputValue(), '60');
    await motion.fill('120');
    await form.getByTestId('cooldown-save').click();
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/event-settings`)).json.cooldowns.motion === 120,
      { what: 'the hub to have the new cooldown' });
    await page.reload();
    await waitFor(async () => (await form.locator('input[name="motion"]').inputValue()) === '120', { what: 'the cooldown after a reload' });
    // Out of range: the browser refuses it and nothing is sent.
    await form.locator('input[name="ring"]').fill('999999');
    await form.getByTestId('cooldown-save').click();
    assert.equal(await form.locator('input[name="ring"]').evaluate((input) => input.validity.valid), false);
    assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/event-settings`)).json.cooldowns.ring, 0);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('the mode switch changes the hub mode, which survives a reload; viewers only see it', { timeout: 60000 }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    const away = page.getByTestId('mode-away');
    await waitFor(async () => (await page.getByTestId('mode-home').getAttribute('aria-pressed')) === 'true', { what: 'home shown' });
    await away.click();
    await waitFor(async () => (await admin.api('GET', '/api/v1/mode')).json.mode === 'away', { what: 'the hub in away mode' });
    await page.reload();
    await waitFor(async () => (await page.getByTestId('mode-away').getAttribute('aria-pressed')) === 'true', { what: 'away after a reload' });
    assert.equal(await page.getByTestId('mode-home').getAttribute('aria-pressed'), 'false');
    await page.getByTestId('mode-disarmed').click();
    await waitFor(async () => (await admin.api('GET', '/api/v1/mode')).json.mode === 'disarmed', { what: 'the hub disarmed' });
    await page.getByTestId('mode-home').click();
    await waitFor(async () => (await admin.api('GET', '/api/v1/mode')).json.mode === 'home', { what: 'the hub at home' });
    assert.deepEqual(scriptErrors(errors), []);
  });

  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'guest', password: PASSWORD, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201);
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('guest', PASSWORD)).status, 200);
  await withPage('/notifications', async ({ page, errors }) => {
    await page.getByTestId('notifications-forbidden').waitFor();
    await waitFor(async () => (await page.getByTestId('mode-badge').textContent()) === 'Home', { what: 'the mode badge' });
    assert.equal(await page.getByTestId('mode-switch').count(), 0);
    // A viewer reaches the page for this browser's alerts (ring sound, system notifications).
    assert.equal(await page.getByTestId('nav-notifications').count(), 1);
    assert.deepEqual(scriptErrors(errors), []);
  }, {}, viewer);
});

test('the event detail shows the ring snapshot and what was decided; boxes are drawn where they belong', { timeout: 60000 }, async () => {
  await withPage(`/devices/${device.id}/recordings`, async ({ page, errors }) => {
    const ring = page.locator('[data-testid="event-item"][data-event-type="ring"]').first();
    await ring.waitFor({ timeout: 20000 });
    const eventId = await ring.getAttribute('data-event-id');
    await ring.getByTestId('event-thumb').click();
    const dialog = page.getByTestId('event-detail');
    await dialog.waitFor();
    const image = dialog.getByTestId('event-detail-image');
    await waitFor(() => image.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'the snapshot to load' });
    assert.deepEqual(await image.evaluate((img) => [img.naturalWidth, img.naturalHeight]), [640, 360]);
    assert.equal(await dialog.getByTestId('event-detail-boxes').getAttribute('data-boxes'), '0');
    assert.equal(await dialog.getByTestId('event-detail-type').textContent(), 'Ring');
    assert.equal(await dialog.getByTestId('event-detail-notify').textContent(), 'Sent');
    assert.match(await dialog.getByTestId('event-detail-download').getAttribute('href'), new RegExp(`/api/v1/devices/${device.id}/export\\?from=\\d+&to=\\d+`));

    // The star in the dialog stars the event, and the row follows.
    const star = dialog.getByTestId('event-detail-star');
    assert.equal(await star.getAttribute('aria-pressed'), 'false');
    await star.click();
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/events/${eventId}`)).json.starred === true, { what: 'the event starred' });
    assert.equal(await star.getAttribute('aria-pressed'), 'true');
    assert.equal(await ring.getByTestId('event-star').getAttribute('aria-pressed'), 'true');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // The drawing itself, on an event with boxes (the sim's button and PIR
    // events have none): each box covers its fraction of the picture, and
    // malformed boxes are left out.
    const drawn = await page.evaluate(async () => {
      const { eventFigure } = await import('/js/timeline/events.js');
      const host = document.createElement('div');
      host.style.width = '400px';
      document.body.appendChild(host);
      const figure = eventFigure({ event_type: 'motion', has_snapshot: false, boxes: [
        { x: 0.1, y: 0.2, w: 0.3, h: 0.4 }, { x: 0.5, y: 0.5, w: 0.5, h: 0.5 }, { x: 'a', y: 0, w: 1, h: 1 }, { x: 0, y: 0, w: 0, h: 0.5 }] });
      host.appendChild(figure.el);
      const frame = figure.el.getBoundingClientRect();
      const boxes = [...figure.el.querySelectorAll('[data-testid="event-detail-box"]')].map((b) => {
        const r = b.getBoundingClientRect();
        return [(r.left - frame.left) / frame.width, (r.top - frame.top) / frame.height, r.width / frame.width, r.height / frame.height];
      });
      host.remove();
      return { boxes, width: frame.width, height: frame.height, label: figure.el.querySelector('.evd-box-label')?.textContent };
    });
    assert.equal(drawn.width, 400);
    assert.equal(drawn.height, 225);
    assert.equal(drawn.boxes.length, 2);
    const expected = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5, 0.5]];
    drawn.boxes.forEach((box, i) => box.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 0.01, `box ${i} value ${j}: ${v} vs ${expected[i][j]}`)));
    assert.equal(drawn.label, 'Motion');
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('the notifications page and the mode switch fit a phone screen', { timeout: 60000 }, async () => {
  await withPage('/notifications', async ({ page, errors }) => {
    await page.locator('[data-testid="target-card"]').first().waitFor();
    await page.locator('[data-testid="delivery-row"]').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
    const box = await page.getByTestId('mode-switch').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `the mode switch fits (${box.x}..${box.x + box.width})`);
    await page.getByTestId('target-add').click();
    const dialog = await page.getByTestId('target-dialog').boundingBox();
    assert.ok(dialog.x >= 0 && dialog.x + dialog.width <= 390, `the dialog fits (${dialog.x}..${dialog.x + dialog.width})`);
    assert.deepEqual(scriptErrors(errors), []);
  }, { viewport: { width: 390, height: 844 }, isMobile: true });
});
