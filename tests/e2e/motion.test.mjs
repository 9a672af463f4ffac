// Browser end-to-end test of the Motion panel on a doorbell's page
// (www/js/motion-settings.js): Debian's Chromium (headless, through
// playwright-core) on the real hub and a real simulated doorbell. Draw a
// detection zone on the snapshot by clicking its corners and double-clicking,
// change the sensitivity, save, reload: the zone is still drawn, the GET
// API has it, and the doorbell itself runs with it (control command
// `motion`). Deleting it and saving empties the list again. The doorstep
// area (packages) is drawn, saved and deleted the same way.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, watchErrors } from '../lib/browser.mjs';

const data = tempDir('doorstep-e2e-motion-');
let hub, admin, device, doorbell, browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 400 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.snapshot_at, { what: 'a snapshot' });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

test('draw a zone on the snapshot, save, reload: it is there', async () => {
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    // Folded on the doorbell page (one picture there until zones are edited).
    await page.getByTestId('motion-fold').locator('summary').click();
    const panel = page.getByTestId('motion-settings');
    await panel.waitFor();
    const picture = page.getByTestId('motion-snapshot');
    await waitFor(() => picture.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'the snapshot in the panel' });

    const canvas = page.getByTestId('motion-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    const at = (x, y) => ({ x: box.x + x * box.width, y: box.y + y * box.height });
    const corners = [[0.2, 0.4], [0.8, 0.4], [0.8, 0.9]];
    for (const [x, y] of corners) {
      const p = at(x, y);
      await page.mouse.click(p.x, p.y);
    }
    const last = at(0.2, 0.9);
    await page.mouse.dblclick(last.x, last.y);
    await page.getByTestId('motion-zones-0').waitFor();
    await page.getByTestId('motion-sensitivity').selectOption('high');
    await page.getByTestId('motion-save').click();
    await page.getByText('Motion settings saved').waitFor();

    const saved = (await admin.api('GET', `/api/v1/devices/${device.id}/motion`)).json;
    assert.equal(saved.sensitivity, 'high');
    assert.equal(saved.zones.length, 1);
    const zone = saved.zones[0];
    assert.equal(zone.length, 4, 'four corners: the double-click adds one point');
    const expected = [...corners, [0.2, 0.9]];
    zone.forEach(([x, y], i) => {
      assert.ok(Math.abs(x - expected[i][0]) < 0.02 && Math.abs(y - expected[i][1]) < 0.02, `corner ${i}: ${x},${y}`);
    });
    await waitFor(async () => JSON.parse(await doorbell.control('motion')).zones.length === 1, { what: 'the zone on the doorbell' });

    await page.reload();
    await page.getByTestId('motion-fold').locator('summary').click();
    await page.getByTestId('motion-zones-0').waitFor();
    assert.equal(await page.getByTestId('motion-sensitivity').inputValue(), 'high');
    assert.equal(await page.getByTestId('motion-polygons').locator('li').count(), 1);

    await page.getByTestId('motion-delete-zones-0').click();
    await page.getByTestId('motion-save').click();
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/motion`)).json.zones.length === 0, { what: 'the zone deleted' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('draw the doorstep area (packages): saved as package_zone, on the doorbell, deleted again', async () => {
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    await page.getByTestId('motion-fold').locator('summary').click();
    await page.getByTestId('motion-settings').waitFor();
    await page.getByTestId('motion-draw-kind').selectOption('package');
    const canvas = page.getByTestId('motion-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    const corners = [[0.15, 0.75], [0.35, 0.75], [0.35, 0.95], [0.15, 0.95]];
    for (const [x, y] of corners) await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
    await page.getByTestId('motion-finish').click();
    await page.getByTestId('motion-package-0').waitFor();
    await page.getByText('Doorstep area (packages) (4 points)').waitFor();
    await page.getByTestId('motion-save').click();
    await page.getByText('Motion settings saved').waitFor();

    const saved = (await admin.api('GET', `/api/v1/devices/${device.id}/motion`)).json;
    assert.equal(saved.package_zone.length, 4);
    saved.package_zone.forEach(([x, y], i) => {
      assert.ok(Math.abs(x - corners[i][0]) < 0.02 && Math.abs(y - corners[i][1]) < 0.02, `corner ${i}: ${x},${y}`);
    });
    await waitFor(async () => JSON.parse(await doorbell.control('motion')).package_zone?.length === 4, { what: 'the doorstep area on the doorbell' });

    await page.getByTestId('motion-delete-package-0').click();
    await page.getByTestId('motion-save').click();
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/motion`)).json.package_zone === undefined, { what: 'the doorstep area deleted' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
