// Browser end-to-end test of person events on the recordings page: the
// event list says "Person · 87 %", the Person filter lists only person
// events and the Motion filter lists them with the motion, and the event
// detail draws the person's box over the event picture with its confidence,
// names what triggered it, and fits a 390 px phone in light and dark
// themes. Debian's Chromium on the real hub; the events are written into
// its database as the person voting writes them (type 'person', trigger
// 'motion', the best frame as snapshot), since the detector itself is
// tested with real footage in tests/integration/person-events.test.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage as openPage } from '../lib/browser.mjs';
import { measureContrast } from '../lib/contrast.mjs';

const data = tempDir('doorstep-e2e-person-');
let hub, admin, device, browser;
const ids = {};

function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

function insertEvent(type, trigger, at, { score = 1, boxes = '[]', snapshot = null } = {}) {
  const blob = snapshot ? `readfile('${snapshot}')` : 'NULL';
  return Number(sql(`INSERT INTO events (device_id, type, trigger_type, device_event_id, start_ms, end_ms,
    clip_start_ms, clip_end_ms, score, boxes, snapshot, notify) VALUES ('${device.id}', '${type}', '${trigger}', 1,
    ${at}, ${at + 4000}, ${at - 5000}, ${at + 14000}, ${score}, '${boxes}', ${blob}, 'sent') RETURNING id`));
}

before(async () => {
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  const picture = join(data.dir, 'person.jpg');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=960x720', '-frames:v', '1', picture]);
  const now = Date.now();
  ids.ring = insertEvent('ring', 'ring', now - 60000, { snapshot: picture });
  ids.motion = insertEvent('motion', 'motion', now - 40000, { score: 0.4, boxes: '[{"x":0.1,"y":0.5,"w":0.2,"h":0.2}]', snapshot: picture });
  ids.person = insertEvent('person', 'motion', now - 20000, {
    score: 0.87, boxes: '[{"x":0.3,"y":0.02,"w":0.2,"h":0.8,"confidence":0.87}]', snapshot: picture });
  browser = await launchChromium();
});

after(() => stopAll(browser, hub, data));

const withPage = (path, fn, options = {}) => openPage({ browser, hub, client: admin }, path, fn, options);

const rowOf = (page, id) => page.locator(`[data-testid="event-item"][data-event-id="${id}"]`);

async function shownIds(page) {
  return page.locator('[data-testid="event-item"]').evaluateAll((rows) => rows.map((row) => Number(row.dataset.eventId)));
}

// The list, the filters and the detail, at a viewport; both themes.
async function check(page, errors, width) {
  const person = rowOf(page, ids.person);
  await person.waitFor({ timeout: 20000 });
  assert.equal(await person.getByTestId('event-type').textContent(), 'Person · 87 %');
  assert.equal(await person.getAttribute('data-trigger'), 'motion');

  await page.getByTestId('event-filter-person').click();
  await waitFor(async () => (await shownIds(page)).join() === String(ids.person), { what: 'only the person event' });
  await page.getByTestId('event-filter-person').click();
  await page.getByTestId('event-filter-motion').click();
  await waitFor(async () => (await shownIds(page)).sort().join() === [ids.motion, ids.person].sort().join(),
    { what: 'motion and the person event under Motion' });
  await page.getByTestId('event-filter-motion').click();
  await waitFor(async () => (await shownIds(page)).length === 3, { what: 'every event again' });

  await person.getByTestId('event-thumb').click();
  const dialog = page.getByTestId('event-detail');
  await dialog.waitFor();
  const image = dialog.getByTestId('event-detail-image');
  await waitFor(() => image.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'the picture' });
  assert.equal(await dialog.getByTestId('event-detail-type').textContent(), 'Person');
  assert.equal(await dialog.getByTestId('event-detail-score').textContent(), '87 %');
  assert.equal(await dialog.getByTestId('event-detail-trigger').textContent(), 'Motion');
  assert.equal(await dialog.getByTestId('event-detail-boxes').getAttribute('data-boxes'), '1');
  const label = dialog.getByTestId('event-detail-box-label');
  assert.equal(await label.textContent(), 'Person 87 %');
  // The box covers its fraction of the picture; its label stays inside it.
  const frame = await image.boundingBox();
  const box = await dialog.getByTestId('event-detail-box').boundingBox();
  const expected = [0.3, 0.02, 0.2, 0.8];
  [(box.x - frame.x) / frame.width, (box.y - frame.y) / frame.height, box.width / frame.width, box.height / frame.height]
    .forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 0.02, `box value ${i}: ${v} vs ${expected[i]}`));
  const tag = await label.boundingBox();
  assert.ok(tag.y >= frame.y - 0.5 && tag.x + tag.width <= frame.x + frame.width + 0.5, 'the label is inside the picture');
  assert.ok(frame.x >= 0 && frame.x + frame.width <= width, `the picture fits (${frame.x}..${frame.x + frame.width})`);

  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (${colorScheme}, ${overflow}px)`);
    const samples = await measureContrast(page, ['[data-testid="event-detail-box-label"]', '[data-testid="event-detail-type"]']);
    assert.equal(samples.length, 2, `both texts measured (${colorScheme})`);
    for (const sample of samples) {
      assert.ok(sample.ratio >= 4.5, `${colorScheme}: "${sample.text}" contrast ${sample.ratio.toFixed(2)}`);
    }
  }
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const samples = await measureContrast(page, [`[data-event-id="${ids.person}"] [data-testid="event-type"]`]);
    assert.equal(samples.length, 1, `the list's label measured (${colorScheme})`);
    for (const sample of samples) {
      assert.ok(sample.ratio >= 4.5, `${colorScheme}: the list's "${sample.text}" contrast ${sample.ratio.toFixed(2)}`);
    }
  }
  assert.deepEqual(errors.filter((text) => !/status of 404|net::ERR_/.test(text)), []);
}

test('a person event in the list, the filters and the detail with its box (desktop)', { timeout: 90000 }, async () => {
  await withPage(`/devices/${device.id}/recordings`, ({ page, errors }) => check(page, errors, 1280));
});

test('a person event on a 390 px phone', { timeout: 90000 }, async () => {
  await withPage(`/devices/${device.id}/recordings`, ({ page, errors }) => check(page, errors, 390),
    { viewport: { width: 390, height: 844 }, isMobile: true });
});
