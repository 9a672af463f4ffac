// Browser end-to-end tests of live view: Debian's Chromium (headless,
// through playwright-core) plays real simulated doorbells from the real hub.
// The player's test hook (window.doorstepLive) reports every presented frame
// with the frame stamp decoded from the picture itself (SPEC §3), so these
// tests see order, gaps and glass-to-glass latency of what was on screen.
// Latency is only checked for sanity here; tests/bench/latency.bench.mjs
// measures it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, activePlayer, summariseFrames, withPage as openPage } from '../lib/browser.mjs';

const FPS = 30;
const data = tempDir('doorstep-e2e-live-');
let hub;
let admin;
let browser;
let front;
let back;
const doorbells = [];

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  front = hub.addDevice('Front door');
  back = hub.addDevice('Back door');
  doorbells.push(await Doorbell.start({ hub, ...front, size: '640x360', fps: FPS, bitrate: 800 }));
  doorbells.push(await Doorbell.start({ hub, ...back, size: '640x360', fps: 15, bitrate: 500, audio: true }));
  await waitFor(async () => {
    const devices = (await admin.api('GET', '/api/v1/devices')).json.devices;
    return devices.length === 2 && devices.every((d) => d.online && d.video && d.video.frames > 30);
  }, { timeout: 30000, what: 'both doorbells streaming' });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  for (const doorbell of doorbells) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// A page at #path, logged in as the admin.
const withPage = (path, fn) => openPage({ browser, hub, client: admin }, path, fn);

// The <video> plays: its currentTime moves on by `seconds` within a few seconds.
async function assertPlays(video, seconds = 1) {
  const t0 = await videoTime(video);
  await waitFor(async () => (await videoTime(video)) - t0 >= seconds, { timeout: 10000, what: `currentTime past ${t0} + ${seconds} s` });
}

// Wait until the doorbell's player in the page says "live" and has presented frames.
async function waitLive(page, deviceId, root = page) {
  const state = root.getByTestId('live-state');
  await waitFor(async () => (await state.getAttribute('data-state')) === 'live', { timeout: 20000, what: `live view of ${deviceId}` });
  return waitFor(async () => {
    const player = await activePlayer(page, deviceId);
    return player && player.frames.length > 5 ? player : null;
  }, { timeout: 10000, what: 'presented frames' });
}

const videoTime = (locator) => locator.evaluate((v) => v.currentTime);

// Script errors fail a test; a failed request while the hub is down does not.
function scriptErrors(errors) {
  return errors.filter((text) => !/status of (401|502|503)|net::ERR_|WebSocket connection/.test(text));
}

test('(a) a doorbell page plays live video, frames in order, latency sane', { timeout: 90000 }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page, errors }) => {
    await page.getByTestId('live-view').waitFor();
    const video = page.getByTestId('live-player');
    const player = await waitLive(page, front.id);
    assert.ok(player.firstFrameMs - player.openedMs < 10000, 'a first picture soon after opening');
    assert.match(player.mime, /avc1\./);

    // The video plays: currentTime advances with the wall clock (steering
    // runs at most 10 % fast; a jump to the live edge adds < 0.5 s).
    const t0 = await videoTime(video);
    await sleep(3000);
    const t1 = await videoTime(video);
    assert.ok(t1 - t0 > 2 && t1 - t0 < 4, `currentTime advanced ${t1 - t0} s in 3 s`);

    // Frames presented in the next 4 s, as decoded from their stamps.
    const since = Date.now();
    await sleep(4000);
    const frames = (await activePlayer(page, front.id)).frames.filter((f) => f.presentedMs >= since);
    const s = summariseFrames(frames, { fps: FPS });
    assert.ok(s.frames >= 4 * FPS * 0.8, `stamped frames presented: ${s.frames}`);
    assert.equal(s.outOfOrder, 0, 'sequence numbers only go forward');
    assert.equal(s.repeated, 0, 'no frame presented twice');
    assert.ok(s.missing <= Math.max(6, s.frames * 0.05), `at most a few frames missing (${s.missing} of ${s.frames + s.missing})`);
    assert.ok(s.min > 0 && s.max < 1000, `glass-to-glass latency between 0 and 1000 ms (${s.min}..${s.max}, p50 ${s.p50})`);

    // The stats overlay shows the same figure.
    const stats = page.getByTestId('live-stats');
    assert.equal(await stats.isVisible(), false);
    await page.getByTestId('live-stats-toggle').click();
    await stats.waitFor({ state: 'visible' });
    const latency = Number(await waitFor(() => stats.getAttribute('data-latency-ms'), { what: 'data-latency-ms' }));
    assert.ok(latency > 0 && latency < 1000, `overlay latency ${latency} ms`);
    assert.match(await stats.textContent(), /Latency\d+ ms.*Bitrate.*(k|M)bit\/s.*fps.*640×360/);
    assert.equal(await stats.getAttribute('data-estimated'), 'false', 'measured from the frame stamp');

    // Controls are there and labelled.
    for (const id of ['live-mute', 'live-fullscreen', 'live-quality']) assert.ok(await page.getByTestId(id).isVisible(), id);
    assert.deepEqual(await page.getByTestId('live-quality').locator('option').allTextContents(), ['Auto', 'High', 'Low']);

    // Leaving the page stops the player and closes its WebSocket.
    await page.getByTestId('nav-devices').click();
    await waitFor(async () => (await page.evaluate((id) => window.doorstepLive.players.filter((p) => p.deviceId === id && p.state !== 'stopped').length, front.id)) === 0,
      { what: 'the player to stop' });
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.live.viewers === 0,
      { what: 'the hub to see no viewer' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(a2) the quality select asks the doorbell for a bitrate', { timeout: 60000 }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page, errors }) => {
    await waitLive(page, front.id);
    const requests = [];
    page.on('request', (request) => { if (request.url().endsWith(`/api/v1/devices/${front.id}/video`)) requests.push(request); });
    await page.getByTestId('live-quality').selectOption({ label: 'Low' });
    await waitFor(() => requests.length === 1, { what: 'POST .../video' });
    assert.equal(requests[0].method(), 'POST');
    assert.deepEqual(JSON.parse(requests[0].postData()), { bitrate_kbps: 600 });
    const response = await requests[0].response();
    assert.equal(response.status(), 202);
    await page.getByTestId('live-quality').selectOption({ label: 'High' });
    await waitFor(() => requests.length === 2, { what: 'the second POST' });
    assert.deepEqual(JSON.parse(requests[1].postData()), { bitrate_kbps: 2000 });
    await page.getByTestId('live-quality').selectOption({ label: 'Auto' });
    await sleep(500);
    assert.equal(requests.length, 2, 'Auto sends nothing');
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(b) a doorbell with a microphone plays sound once unmuted', { timeout: 90000}, async () => {
  await withPage(`/devices/${back.id}`, async ({ page, errors }) => {
    let player = await waitLive(page, back.id);
    assert.match(player.mime, /opus/i, `the init message announces Opus (${player.mime})`);
    const video = page.getByTestId('live-player');
    assert.equal(await video.evaluate((v) => v.muted), true, 'starts muted');
    // Muted, the player feeds only the video track; unmuting reopens with sound.
    await page.getByTestId('live-mute').click();
    assert.equal(await video.evaluate((v) => v.muted), false);
    player = await waitFor(async () => {
      const p = await activePlayer(page, back.id);
      return p && p.audio && p.state === 'live' ? p : null;
    }, { timeout: 20000, what: 'live view with sound' });
    await waitFor(() => video.evaluate((v) => v.webkitAudioDecodedByteCount > 0), { timeout: 15000, what: 'decoded audio' });
    await assertPlays(video, 1.5);
    const before = await video.evaluate((v) => v.webkitAudioDecodedByteCount);
    await sleep(1000);
    assert.ok((await video.evaluate((v) => v.webkitAudioDecodedByteCount)) > before, 'audio keeps being decoded');
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(c) the live grid plays every doorbell; a tile opens its doorbell', { timeout: 90000 }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    await page.getByTestId('nav-live').click();
    const grid = page.getByTestId('live-grid');
    await grid.waitFor();
    for (const device of [front, back]) {
      const tile = grid.locator(`[data-testid="live-tile"][data-device-id="${device.id}"]`);
      await tile.waitFor();
      await waitLive(page, device.id, tile);
      await assertPlays(tile.getByTestId('live-player'));
    }
    assert.equal(await grid.getByTestId('live-tile').count(), 2);
    await grid.locator(`[data-testid="live-tile"][data-device-id="${back.id}"]`).click();
    await page.waitForURL(new RegExp(`#/devices/${back.id}$`));
    await waitLive(page, back.id, page.getByTestId('live-view'));
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(d) the player reconnects by itself when the hub restarts', { timeout: 120000 }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page }) => {
    await waitLive(page, front.id);
    const state = page.getByTestId('live-state');
    await hub.stop();
    await waitFor(async () => ['reconnecting', 'waiting'].includes(await state.getAttribute('data-state')),
      { timeout: 15000, what: 'the player to notice' });
    await hub.launch();
    const restarted = Date.now();
    await waitFor(async () => (await state.getAttribute('data-state')) === 'live', { timeout: 45000, interval: 200, what: 'live again' });
    const fresh = await waitFor(async () => {
      const p = await activePlayer(page, front.id);
      const frames = p.frames.filter((f) => f.presentedMs > restarted);
      return frames.length > 30 ? frames : null;
    }, { timeout: 20000, what: 'frames after the restart' });
    const s = summariseFrames(fresh, { fps: FPS });
    assert.equal(s.outOfOrder, 0);
    assert.ok(s.max < 1000, `latency after the restart ${s.p50} ms (max ${s.max})`);
    const player = await activePlayer(page, front.id);
    assert.ok(player.stats.reconnects >= 1, 'it reconnected');
  });
});

test('(e) a hidden tab closes the stream and resumes when visible', { timeout: 60000 }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page, errors }) => {
    await waitLive(page, front.id);
    const state = page.getByTestId('live-state');
    const setVisibility = (value) => page.evaluate((v) => {
      Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, value);
    await setVisibility('hidden');
    await waitFor(async () => (await state.getAttribute('data-state')) === 'paused', { what: 'paused' });
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.live.viewers === 0,
      { what: 'the WebSocket to close' });
    await setVisibility('visible');
    await waitFor(async () => (await state.getAttribute('data-state')) === 'live', { what: 'live again' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});
