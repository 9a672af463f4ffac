// Browser end-to-end test of package events in a doorbell's event list
// (www/js/timeline/events.js): Debian's Chromium on the real hub and a real
// simulated doorbell. A package_delivered and a package_taken event (with
// the doorbell's picture) and a ring are written into the hub's database,
// as other tests seed rows; the list names them "Package delivered" and
// "Package taken" with their thumbnails, and its "Package" filter shows
// both and nothing else.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage } from '../lib/browser.mjs';

const data = tempDir('doorstep-e2e-packages-');
let hub, admin, device, doorbell, browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 10, bitrate: 400 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.snapshot_at, { what: 'a snapshot' });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

test('the event list names package events, shows their pictures and filters them', { timeout: 120000 }, async () => {
  const picture = await admin.request('GET', `/api/v1/devices/${device.id}/snapshot.jpg`);
  assert.equal(picture.status, 200);
  const file = join(hub.dataDir, 'parcel.jpg');
  writeFileSync(file, picture.body);
  const now = Date.now();
  const seed = (type, at, snapshot) => sql(`INSERT INTO events (device_id, type, start_ms, end_ms, clip_start_ms, clip_end_ms,
    score, boxes, snapshot, notify) VALUES ('${device.id}', '${type}', ${at}, ${at}, ${at - 5000}, ${at + 10000}, 1,
    '[{"x":0.175,"y":0.756,"w":0.1,"h":0.133}]', ${snapshot ? `readfile('${file}')` : 'NULL'}, 'sent')`);
  seed('ring', now - 90000, false);
  seed('package_delivered', now - 60000, true);
  seed('package_taken', now - 30000, true);

  await withPage({ browser, hub, client: admin }, `/devices/${device.id}/recordings`, async ({ page, errors }) => {
    const delivered = page.locator('[data-testid="event-item"][data-event-type="package_delivered"]');
    const taken = page.locator('[data-testid="event-item"][data-event-type="package_taken"]');
    await delivered.waitFor({ timeout: 30000 });
    assert.match(await delivered.textContent(), /Package delivered/);
    assert.match(await taken.textContent(), /Package taken/);
    for (const item of [delivered, taken]) {
      const thumbnail = item.getByTestId('event-thumbnail');
      await waitFor(() => thumbnail.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'a package thumbnail' });
    }
    await page.locator('[data-testid="event-item"][data-event-type="ring"]').waitFor();

    await page.getByTestId('event-filter-package').click();
    await waitFor(async () => (await page.getByTestId('event-item').count()) === 2, { what: 'only the two package events' });
    const types = await page.getByTestId('event-item').evaluateAll((items) => items.map((item) => item.dataset.eventType));
    assert.deepEqual(types, ['package_taken', 'package_delivered']);
    assert.deepEqual(errors.filter((e) => !/net::ERR_ABORTED|Failed to load resource/.test(e)), []);
  });
});
