// Browser end-to-end tests of what a ring does in an open UI: the toast
// (the doorbell's name, the time, the event's picture once the hub has it,
// "Open live" and the timeline link, readable text in light and dark
// themes), the system notification of a tab in the background, the ring
// chime and its toggle, and the contrast of the badges the doorbell list
// shows. Debian's Chromium through playwright-core on the real hub and a
// real simulated doorbell; only window.Notification is watched (a spy that
// records what the page asks for), nothing of ours is mocked.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Client, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage as openPage } from '../lib/browser.mjs';
import { measureContrast, lowContrast } from '../lib/contrast.mjs';
import { patience } from '../lib/patience.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-e2e-alerts-');
let hub;
let admin;
let viewer;     // may see the doorbell, not talk: a ring toast without talk controls
let device;
let idle;       // a doorbell that never connects: offline badge
let doorbell;
let browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  device = hub.addDevice('Front door');
  idle = hub.addDevice('Back gate');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 15 });
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'guest', password: PASSWORD, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201);
  viewer = new Client(hub.url);
  assert.equal((await viewer.login('guest', PASSWORD)).status, 200);
  browser = await launchChromium();
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online,
    { timeout: patience(20000), what: 'the doorbell online' });
});

after(() => stopAll(browser, doorbell, hub, data));

const withPage = (path, fn, options = {}, client = admin) => openPage({ browser, hub, client }, path, fn, options);

function scriptErrors(errors) {
  return errors.filter((text) => !/status of (400|401|403|404|409)|net::ERR_/.test(text));
}

// Records every Notification the page makes, and every permission request;
// document.visibilityState answers "hidden" while window.__doorstepHidden is true.
function notificationSpy() {
  const Real = window.Notification;
  window.__notifications = [];
  window.__permissionRequests = 0;
  class Spy {
    constructor(title, options = {}) {
      this.title = title;
      this.options = options;
      this.onclick = null;
      this.closed = false;
      window.__notifications.push(this);
    }
    close() { this.closed = true; }
    static get permission() { return Real ? Real.permission : 'denied'; }
    static requestPermission() {
      window.__permissionRequests++;
      return Real ? Real.requestPermission() : Promise.resolve('denied');
    }
  }
  window.Notification = Spy;
  const realVisibility = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState');
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get() { return window.__doorstepHidden ? 'hidden' : realVisibility.get.call(document); },
  });
}

async function ring(page) {
  await page.waitForFunction(() => document.documentElement.dataset.eventFeed === 'open', null, { timeout: patience(20000) });
  assert.equal(await doorbell.control('press'), 'ok');
}

test('a ring shows a readable toast with the doorbell, the time and its picture; "Open live" opens live', { timeout: patience(120000) }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    await ring(page);
    const toast = page.getByTestId('ring-toast').last();
    await toast.waitFor({ timeout: patience(10000) });
    assert.equal((await toast.getByTestId('toast-device').textContent()).trim(), 'Front door');
    assert.match(await toast.getByTestId('event-toast').textContent(), /Front door: Someone rang the doorbell/);
    assert.match(await toast.getByTestId('event-toast').getAttribute('href'), new RegExp(`^#/devices/${device.id}/recordings\\?t=\\d+$`));
    assert.match((await toast.getByTestId('toast-time').textContent()).trim(), /\d{1,2}[:.]\d{2}/);

    // The snapshot of the ring: a placeholder first or at once the picture,
    // then a decoded JPEG.
    const picture = toast.getByTestId('toast-snapshot');
    await waitFor(async () => picture.evaluate((img) => !img.hidden && img.complete && img.naturalWidth > 0),
      { timeout: patience(20000), what: 'the ring picture to load' });
    assert.deepEqual(await picture.evaluate((img) => [img.naturalWidth, img.naturalHeight]), [640, 360]);
    assert.equal(await toast.getByTestId('toast-snapshot-placeholder').isVisible(), false);

    // Readable in both themes (the toast was dark text on dark before).
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      const samples = await measureContrast(page, ['#toasts .toast']);
      assert.ok(samples.some((s) => /Front door/.test(s.text)), `the name is measured (${colorScheme})`);
      assert.deepEqual(lowContrast(samples), [], `toast text contrast in the ${colorScheme} theme`);
    }
    await page.emulateMedia({ colorScheme: 'light' });

    // The chime played (the test browser allows audio without a gesture).
    await waitFor(async () => (await page.evaluate(() => document.documentElement.dataset.ringSound)) === 'played',
      { what: 'the ring chime' });

    await toast.getByTestId('toast-open-live').click();
    await page.waitForFunction((id) => location.hash === `#/devices/${id}`, device.id);
    await page.getByTestId('live-view').waitFor();
    await toast.waitFor({ state: 'detached' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('a viewer\'s ring toast (no talk controls) is readable in both themes', { timeout: patience(120000) }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    await ring(page);
    const toast = page.getByTestId('ring-toast').last();
    await toast.waitFor({ timeout: patience(10000) });
    assert.equal(await toast.getByTestId('talk-hold').count(), 0);
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      const samples = await measureContrast(page, ['#toasts .toast']);
      assert.ok(samples.some((s) => /Someone rang/.test(s.text)), `the words are measured (${colorScheme})`);
      assert.deepEqual(lowContrast(samples), [], `toast text contrast in the ${colorScheme} theme`);
    }
    assert.deepEqual(scriptErrors(errors), []);
  }, {}, viewer);
});

test('in a background tab a ring makes a system notification; clicking it opens live', { timeout: patience(120000) }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    await page.getByTestId('device-grid').waitFor();
    // Nothing asks for the permission on load.
    assert.equal(await page.evaluate(() => window.__permissionRequests), 0);
    assert.equal(await page.evaluate(() => Notification.permission), 'granted');
    await page.evaluate(() => { window.__doorstepHidden = true; });
    await ring(page);
    await waitFor(async () => (await page.evaluate(() => window.__notifications.length)) > 0,
      { timeout: patience(10000), what: 'a system notification' });
    const note = await page.evaluate(() => ({ title: window.__notifications[0].title, body: window.__notifications[0].options.body }));
    assert.equal(note.title, 'Front door');
    assert.match(note.body, /Someone rang the doorbell/);
    await page.evaluate(() => { window.__doorstepHidden = false; window.__notifications[0].onclick(); });
    await page.waitForFunction((id) => location.hash === `#/devices/${id}`, device.id);
    await page.getByTestId('live-view').waitFor();
    assert.equal(await page.evaluate(() => window.__notifications[0].closed), true);
    assert.deepEqual(scriptErrors(errors), []);
  }, { initScript: notificationSpy, permissions: ['notifications'] });

  // A visible tab shows the toast and makes no system notification.
  await withPage('/devices', async ({ page }) => {
    await ring(page);
    await page.getByTestId('ring-toast').first().waitFor({ timeout: patience(10000) });
    assert.equal(await page.evaluate(() => window.__notifications.length), 0);
  }, { initScript: notificationSpy, permissions: ['notifications'] });
});

test('the Notifications page asks for the permission only from its button; the chime toggle is kept', { timeout: patience(120000) }, async () => {
  await withPage('/notifications', async ({ page, errors }) => {
    const section = page.getByTestId('browser-alerts');
    await section.waitFor();
    assert.equal(await page.evaluate(() => window.__permissionRequests), 0);
    assert.equal(await section.getByTestId('browser-notify-state').getAttribute('data-permission'), 'default');
    await section.getByTestId('browser-notify-enable').click();
    await waitFor(async () => (await page.evaluate(() => window.__permissionRequests)) === 1, { what: 'the permission request' });

    const toggle = section.getByTestId('ring-sound-toggle');
    assert.equal(await toggle.isChecked(), true);
    await toggle.uncheck();
    assert.equal(await page.evaluate(() => localStorage.getItem('doorstep.ringSound')), 'off');
    await page.reload();
    await section.waitFor();
    assert.equal(await section.getByTestId('ring-sound-toggle').isChecked(), false);

    // Off: a ring stays silent.
    await ring(page);
    await page.getByTestId('ring-toast').first().waitFor({ timeout: patience(10000) });
    await waitFor(async () => (await page.evaluate(() => document.documentElement.dataset.ringSound)) === 'off',
      { what: 'the chime turned off' });
    await section.getByTestId('ring-sound-toggle').check();
    assert.equal(await page.evaluate(() => localStorage.getItem('doorstep.ringSound')), 'on');
    assert.deepEqual(scriptErrors(errors), []);
  }, { initScript: notificationSpy });
});

test('badges, chips and buttons are readable in light and dark themes', { timeout: patience(120000) }, async () => {
  await withPage('/devices', async ({ page }) => {
    const online = page.locator(`[data-testid="device-card"][data-device-id="${device.id}"] [data-testid="device-status"]`);
    const offline = page.locator(`[data-testid="device-card"][data-device-id="${idle.id}"] [data-testid="device-status"]`);
    await waitFor(async () => (await online.textContent()) === 'online' && (await offline.textContent()) === 'offline',
      { what: 'an online and an offline badge' });
    await page.getByTestId('device-legacy').first().waitFor();
    await ring(page);
    await page.getByTestId('ring-toast').first().waitFor({ timeout: patience(10000) });
    // The two banners, with the classes and markup their modules draw, beside
    // the real ones (which their pollers clear): a full disk and a hub that
    // does not answer are not made for this check.
    await page.evaluate(() => {
      const storage = document.createElement('div');
      storage.className = 'banner storage-banner';
      storage.innerHTML = '<div class="banner-inner" role="alert"><ul class="storage-banner-list"><li>Recording stopped: disk full</li></ul></div>';
      const hub = document.createElement('div');
      hub.className = 'banner';
      hub.innerHTML = '<div class="banner-inner"><span class="spinner"></span><span>The hub is unreachable. Retrying…</span></div>';
      document.getElementById('main').before(storage, hub);
    });
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      const samples = await measureContrast(page, ['.badge', '.btn', '.chip', '.seg-btn', '.toast', '.banner']);
      for (const want of ['online', 'offline', 'Legacy secret — re-pair', 'Open live', 'Recording stopped: disk full', 'The hub is unreachable. Retrying…']) {
        assert.ok(samples.some((s) => s.text === want), `"${want}" is measured (${colorScheme})`);
      }
      assert.deepEqual(lowContrast(samples), [], `contrast in the ${colorScheme} theme`);
    }
  });
});
