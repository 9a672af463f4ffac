// Browser end-to-end test of the settings made in the web UI: the storage
// limits and the indoor chime (Settings page, www/js/hub-settings.js), the
// motion schedule drawn on the week grid (a doorbell's Motion panel,
// www/js/week-grid.js) and the quiet hours of a notification target
// (Notifications page), set at 1280×800; then the hub restarts, the pages
// reload, and the UI shows what the API returns; at 390×844 the same pages
// do not scroll sideways and the grid still toggles by touch.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, watchErrors } from '../lib/browser.mjs';

const data = tempDir('doorstep-e2e-settings-');
let hub, admin, device, doorbell, browser;
const GB = 1e9;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 300 });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

async function open(path, options = {}) {
  const context = await loggedInContext(browser, hub, admin, options);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${hub.url}/#${path}`);
  return { context, page, errors };
}

const sideways = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

// The grid's cell of a weekday (0 Sunday) and hour.
const cell = (page, day, hour) => page.locator(`[data-testid="motion-schedule-grid"] .week-grid-cell[data-day="${day}"][data-hour="${hour}"]`);

// The doorbell page keeps its Motion panel folded until it is opened.
async function openMotionPanel(page) {
  await page.getByTestId('motion-fold').locator('summary').click();
  await page.getByTestId('motion-schedule-grid').waitFor();
}

test('settings made in the UI are what the API returns, and still there after a restart', { timeout: 180000 }, async () => {
  const desktop = { viewport: { width: 1280, height: 800 } };
  let { context, page, errors } = await open('/settings', desktop);
  try {
    // Storage: a 3 GB budget, 1.5 GB kept free.
    const limits = page.getByTestId('storage-limits-section');
    await limits.getByTestId('storage-budget-on').waitFor();
    assert.match(await limits.getByTestId('storage-disk-total').textContent(), /B$/);
    await limits.getByTestId('storage-budget-on').check();
    await limits.getByTestId('storage-budget').fill('3');
    await limits.getByTestId('storage-min-free-mode').selectOption('custom');
    await limits.getByTestId('storage-min-free').fill('1.5');
    await limits.getByTestId('storage-limits-save').click();
    await page.getByText('Storage limits saved').waitFor();
    let storage = (await admin.api('GET', '/api/v1/settings/storage')).json;
    assert.equal(storage.budget_bytes, 3 * GB);
    assert.equal(storage.min_free_bytes, 1.5 * GB);

    // Chime: on, on ALSA's null output, at 60 %.
    const chime = page.getByTestId('chime-section');
    await chime.getByTestId('chime-enabled').waitFor();
    assert.equal(await chime.getByTestId('chime-enabled').isChecked(), false);
    await chime.getByTestId('chime-enabled').check();
    await chime.getByTestId('chime-device').selectOption('null');
    await chime.getByTestId('chime-volume').fill('60');
    await chime.getByTestId('chime-save').click();
    await page.getByText('Chime saved').waitFor();
    let chimeApi = (await admin.api('GET', '/api/v1/settings/chime')).json;
    assert.deepEqual([chimeApi.enabled, chimeApi.device, chimeApi.volume], [true, 'null', 60]);
    await chime.getByTestId('chime-test').click();
    await page.getByText('Chiming on null').waitFor();
    assert.equal(await sideways(page), 0);
    await context.close();

    // Motion schedule: every hour on to start with; switch Monday 9-12 off by a drag and Sunday 3 off by a click.
    ({ context, page, errors } = await open(`/devices/${device.id}`, desktop));
    await openMotionPanel(page);
    await cell(page, 1, 9).scrollIntoViewIfNeeded();
    assert.equal(await cell(page, 1, 9).getAttribute('aria-checked'), 'true');
    const from = await cell(page, 1, 9).boundingBox();
    const to = await cell(page, 1, 11).boundingBox();
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 6 });
    await page.mouse.up();
    await cell(page, 0, 3).click();
    for (const [day, hour, on] of [[1, 8, 'true'], [1, 9, 'false'], [1, 10, 'false'], [1, 11, 'false'], [1, 12, 'true'], [0, 3, 'false']]) {
      assert.equal(await cell(page, day, hour).getAttribute('aria-checked'), on, `day ${day} hour ${hour}`);
    }
    await page.getByTestId('motion-schedule-save').click();
    await page.getByText('Motion schedule saved').waitFor();
    const all = 0xffffff;
    const expectedHours = [all & ~(1 << 3), all & ~((1 << 9) | (1 << 10) | (1 << 11)), all, all, all, all, all];
    let events = (await admin.api('GET', `/api/v1/devices/${device.id}/event-settings`)).json;
    assert.deepEqual(events.motion_schedule, { hours: expectedHours });
    await context.close();

    // Quiet hours on a new target: rings only, weekdays 22:00-07:00.
    ({ context, page, errors } = await open('/notifications', desktop));
    await page.getByTestId('target-add').click();
    const dialog = page.getByTestId('target-dialog');
    await dialog.getByTestId('target-kind-webhook').click();
    await dialog.getByTestId('target-name-input').fill('Phone at night');
    await dialog.getByTestId('target-url-input').fill('https://127.0.0.1:9/hook');
    await dialog.getByTestId('target-quiet-mode').selectOption('rings_only');
    for (const day of [0, 6]) await dialog.getByTestId(`target-quiet-day-${day}`).uncheck();
    await dialog.getByTestId('target-quiet-from').fill('22:00');
    await dialog.getByTestId('target-quiet-to').fill('07:00');
    await dialog.getByTestId('target-save').click();
    await dialog.getByTestId('target-secret-done').click();
    await dialog.waitFor({ state: 'detached' });
    let [target] = (await admin.api('GET', '/api/v1/notifications/targets')).json.targets.filter((t) => t.name === 'Phone at night');
    assert.deepEqual(target.quiet_hours, { mode: 'rings_only', days: [1, 2, 3, 4, 5], from: '22:00', to: '07:00' });
    assert.deepEqual(errors, []);
    await context.close();

    // A restart: the hub reads it all back.
    await doorbell.stop();
    doorbell = null;
    await hub.stop();
    await hub.launch();
    admin = await hub.admin();
    doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 300 });
    storage = (await admin.api('GET', '/api/v1/settings/storage')).json;
    chimeApi = (await admin.api('GET', '/api/v1/settings/chime')).json;
    events = (await admin.api('GET', `/api/v1/devices/${device.id}/event-settings`)).json;
    [target] = (await admin.api('GET', '/api/v1/notifications/targets')).json.targets.filter((t) => t.name === 'Phone at night');
    assert.equal(storage.budget_bytes, 3 * GB);
    assert.equal(storage.min_free_bytes, 1.5 * GB);
    assert.deepEqual([chimeApi.enabled, chimeApi.device, chimeApi.volume], [true, 'null', 60]);
    assert.deepEqual(events.motion_schedule, { hours: expectedHours });
    assert.equal(target.quiet_hours.mode, 'rings_only');

    // The pages after the restart, on a phone: what the API says, nothing sideways.
    const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
    ({ context, page, errors } = await open('/settings', phone));
    await page.getByTestId('storage-budget-on').waitFor();
    assert.equal(await page.getByTestId('storage-budget-on').isChecked(), true);
    assert.equal(Number(await page.getByTestId('storage-budget').inputValue()), 3);
    assert.equal(await page.getByTestId('storage-min-free-mode').inputValue(), 'custom');
    assert.equal(Number(await page.getByTestId('storage-min-free').inputValue()), 1.5);
    await page.getByTestId('chime-enabled').waitFor();
    assert.equal(await page.getByTestId('chime-enabled').isChecked(), true);
    assert.equal(await page.getByTestId('chime-device').inputValue(), 'null');
    assert.equal(await page.getByTestId('chime-volume').inputValue(), '60');
    assert.equal(await sideways(page), 0, 'no sideways scroll on the settings page at 390 px');
    await context.close();

    ({ context, page, errors } = await open(`/devices/${device.id}`, phone));
    await openMotionPanel(page);
    await cell(page, 1, 9).scrollIntoViewIfNeeded();
    for (const [day, hour, on] of [[1, 8, 'true'], [1, 10, 'false'], [0, 3, 'false'], [3, 3, 'true']]) {
      assert.equal(await cell(page, day, hour).getAttribute('aria-checked'), on, `after the restart: day ${day} hour ${hour}`);
    }
    const box = await cell(page, 3, 3).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `the grid fits (${box.x}..${box.x + box.width})`);
    await cell(page, 3, 3).tap();
    assert.equal(await cell(page, 3, 3).getAttribute('aria-checked'), 'false', 'a tap toggles');
    assert.equal(await sideways(page), 0, 'no sideways scroll on the doorbell page at 390 px');
    await context.close();

    ({ context, page, errors } = await open('/notifications', phone));
    const card = page.locator(`[data-testid="target-card"][data-target-id="${target.id}"]`);
    await card.waitFor();
    await card.getByTestId('target-edit').click();
    const edit = page.getByTestId('target-dialog');
    assert.equal(await edit.getByTestId('target-quiet-mode').inputValue(), 'rings_only');
    assert.equal(await edit.getByTestId('target-quiet-from').inputValue(), '22:00');
    assert.equal(await edit.getByTestId('target-quiet-day-0').isChecked(), false);
    assert.equal(await edit.getByTestId('target-quiet-day-1').isChecked(), true);
    assert.equal(await sideways(page), 0, 'no sideways scroll on the notifications page at 390 px');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
