// Browser end-to-end test of each viewer's own quality: on the doorbell page
// Low plays the doorbell's sub-stream (640x360) and High its main stream,
// switching keeps frames coming in order on the same MediaSource (the new
// init segment goes through changeType), and the live grid's tiles (Auto)
// play the sub-stream.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, activePlayer, withPage as openPage } from '../lib/browser.mjs';

const MAIN = { width: 1280, height: 720 };
const SUB = { width: 640, height: 360 };
const wait = (fn, options = {}) => waitFor(fn, { ...options, timeout: patience(options.timeout ?? 20000) });
const data = tempDir('doorstep-e2e-live-quality-');
let hub, admin, browser, device, doorbell;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: `${MAIN.width}x${MAIN.height}`, fps: 30, bitrate: 1200 });
  await wait(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video.frames > 30,
    { timeout: 30000, what: 'the doorbell streaming' });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

const withPage = (path, fn) => openPage({ browser, hub, client: admin }, path, fn);

// The picture's size as the browser decodes it.
const videoSize = (page) => page.getByTestId('live-player').first().evaluate((v) => `${v.videoWidth}x${v.videoHeight}`);

// Wait until the player has presented `count` more stamped frames after `since`.
async function presentedAfter(page, since, count) {
  return wait(async () => {
    const player = await activePlayer(page, device.id);
    const frames = player ? player.frames.filter((f) => f.sequence !== null && f.presentedMs > since) : [];
    return frames.length >= count ? player : null;
  }, { what: `${count} frames presented` });
}

test('Low plays the sub-stream, High the main stream; switching keeps frames in order with no new MediaSource', { timeout: patience(120000) }, async () => {
  await withPage(`/devices/${device.id}`, async ({ page, errors }) => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await presentedAfter(page, 0, 10);
    const quality = page.getByTestId('live-quality');

    await quality.selectOption({ label: 'Low' });
    await wait(async () => (await videoSize(page)) === `${SUB.width}x${SUB.height}`, { what: 'a 640x360 picture' });
    const lowAt = Date.now();
    const low = await presentedAfter(page, lowAt, 20);
    assert.equal(low.stream, 'sub');

    await quality.selectOption({ label: 'High' });
    await wait(async () => (await videoSize(page)) === `${MAIN.width}x${MAIN.height}`, { what: 'the main size' });
    const highAt = Date.now();
    const high = await presentedAfter(page, highAt, 20);
    assert.equal(high.stream, 'main');

    // Across both switches: one MediaSource, each new init through changeType
    // or as is, the stamps (the camera's) only ever increasing, and no
    // presentation stall longer than a second.
    assert.equal(high.mediaSources, 1, 'no MediaSource reset');
    const frames = high.frames.filter((f) => f.sequence !== null && f.captureMs !== null && f.presentedMs >= lowAt - 3000);
    for (let i = 1; i < frames.length; i++) {
      assert.ok(frames[i].captureMs >= frames[i - 1].captureMs, `frame ${i} goes back: ${frames[i - 1].captureMs} -> ${frames[i].captureMs}`);
    }
    let longest = 0;
    for (let i = 1; i < frames.length; i++) longest = Math.max(longest, frames[i].presentedMs - frames[i - 1].presentedMs);
    assert.ok(longest < patience(1000), `a stall of ${longest} ms while switching`);
    const streams = high.streams.map((s) => s.stream);
    assert.deepEqual(streams.slice(-2), ['sub', 'main']);
    assert.deepEqual(errors.filter((text) => !/net::ERR_|WebSocket connection/.test(text)), []);
  });
});

test('the live grid\'s tiles (Auto) play the sub-stream', { timeout: patience(90000) }, async () => {
  await withPage('/live', async ({ page }) => {
    await wait(async () => {
      const player = await activePlayer(page, device.id);
      return player && player.stream === 'sub' && player.frames.length > 5;
    }, { what: 'the tile on the sub-stream' });
    await wait(async () => (await videoSize(page)) === `${SUB.width}x${SUB.height}`, { what: 'a 640x360 tile' });
  });
});

test('an admin sets the low stream\'s bitrate on the doorbell page; it fits a phone screen', { timeout: patience(90000) }, async () => {
  for (const viewport of [{ width: 390, height: 844 }, { width: 1280, height: 800 }]) {
    await openPage({ browser, hub, client: admin }, `/devices/${device.id}`, async ({ page }) => {
      const settings = page.getByTestId('encoder-settings');
      await settings.waitFor({ timeout: patience(15000) });
      await wait(async () => page.getByTestId('encoder-sub-bitrate').isVisible(), { what: 'the low stream row' });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at ${viewport.width}px (${overflow}px)`);
      if (viewport.width !== 1280) return;
      await page.getByTestId('encoder-sub-bitrate').fill('500');
      await page.getByTestId('encoder-sub-apply').click();
      await wait(async () => JSON.parse(await doorbell.control('status')).sub_stream.bitrate_kbps === 500,
        { what: 'the doorbell\'s sub encoder at 500 kbit/s' });
      assert.equal(JSON.parse(await doorbell.control('status')).bitrate_kbps, 1200, 'the main stream is untouched');
    }, { viewport });
  }
});
