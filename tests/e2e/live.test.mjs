// Browser end-to-end tests of live view: Debian's Chromium (headless,
// through playwright-core) plays real simulated doorbells from the real hub.
// The player's test hook (window.doorstepLive) reports every presented frame
// with the frame stamp decoded from the picture itself, so these
// tests see order, gaps and glass-to-glass latency of what was on screen.
// Latency is only checked for sanity here; tests/bench/latency.bench.mjs
// measures it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, activePlayer, summariseFrames, withPage as openPage } from '../lib/browser.mjs';

const FPS = 30;
// waitFor with its timeout (20 s by default) scaled by the machine's load.
const wait = (fn, options = {}) => waitFor(fn, { ...options, timeout: patience(options.timeout ?? 20000) });
const WINDOW = 4 * FPS;           // frames judged in (a)
// Glass-to-glass latency only for sanity (a loaded machine adds to it).
const LATENCY_SANITY_MS = 5000;
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
  await wait(async () => {
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

// The <video> plays: its currentTime moves on by `seconds`. How long that
// takes depends on the machine's load, so the wait is for the condition; on
// a timeout the player's counters say what it was doing.
async function assertPlays(video, seconds = 1, { page = null, deviceId = null } = {}) {
  const t0 = await videoTime(video);
  try {
    await wait(async () => (await videoTime(video)) - t0 >= seconds,
      { timeout: 10000, what: `currentTime past ${t0} + ${seconds} s` });
  } catch (error) {
    const player = page && (await activePlayer(page, deviceId));
    throw new Error(`${error.message}; currentTime now ${await videoTime(video)}; player ${JSON.stringify(player && { state: player.state, audio: player.audio, stats: player.stats })}`);
  }
}

// Wait until the doorbell's player in the page says "live" and has presented frames.
async function waitLive(page, deviceId, root = page) {
  const state = root.getByTestId('live-state');
  await wait(async () => (await state.getAttribute('data-state')) === 'live', { timeout: 20000, what: `live view of ${deviceId}` });
  return wait(async () => {
    const player = await activePlayer(page, deviceId);
    return player && player.frames.length > 5 ? player : null;
  }, { timeout: 10000, what: 'presented frames' });
}

const videoTime = (locator) => locator.evaluate((v) => v.currentTime);

// How many frames sequence is after first (16-bit stamp sequence numbers).
const framesAfter = (sequence, first) => (sequence - first + 65536) % 65536;

// Judge the frames presented from the last one at or before sequence
// `first` to the first one `count` or more after it. A test on a busy
// machine cannot demand every frame on screen: the compositor may show
// several frames between two frame callbacks (presentedFrames counts them),
// the browser may drop frames it could not show in time (dropped), and the
// player jumps to the live edge when it falls behind (jumps), skipping
// frames and showing the one it lands on again. Anything else is a fault:
// the picture going back in media time, a frame shown twice without a jump,
// and frames that vanished (lost: sequence steps not accounted for by the
// browser's counters, across pairs without a jump; the frame callback may
// read the next picture early, so steps are summed, not judged one by one).
function judgeWindow(frames, first, count) {
  const at = (f) => framesAfter(f.sequence, first);
  const startIndex = frames.findLastIndex((f) => at(f) === 0 || at(f) >= 30000);
  const endIndex = frames.findIndex((f, i) => i > startIndex && at(f) >= count && at(f) < 30000);
  const window = frames.slice(Math.max(0, startIndex), endIndex + 1);
  let backwards = 0, repeated = 0, steps = 0, shown = 0, jumps = 0, skippedByJumps = 0;
  for (let i = 1; i < window.length; i++) {
    const [a, b] = [window[i - 1], window[i]];
    const step = framesAfter(b.sequence, a.sequence);
    if (b.mediaTime < a.mediaTime) backwards++;
    if (b.jumps !== a.jumps) {
      jumps += b.jumps - a.jumps;
      if (step < 30000) skippedByJumps += Math.max(0, step - 1);
      continue;
    }
    if (b.mediaTime === a.mediaTime) repeated++;
    if (step >= 30000) { backwards++; continue; }
    steps += step;
    shown += (b.presentedFrames - a.presentedFrames) + (b.dropped - a.dropped);
  }
  const result = { observed: window.length, from: window[0]?.sequence, to: window.at(-1)?.sequence,
    backwards, repeated, jumps, skippedByJumps, lost: steps - shown };
  Object.defineProperty(result, 'frames', { value: window });   // not in the JSON of messages
  return result;
}

// The page's live <video> currentTime and the capture time of the newest
// frame its player presented, read together.
const playhead = (page, deviceId) => page.evaluate((id) => {
  const player = window.doorstepLive.players.filter((p) => p.deviceId === id && p.state !== 'stopped').pop();
  const frame = player.frames.filter((f) => f.captureMs !== null).at(-1);
  return { currentTime: document.querySelector('[data-testid="live-player"]').currentTime, captureMs: frame.captureMs, stats: player.stats };
}, deviceId);

// Script errors fail a test; a failed request while the hub is down does not.
function scriptErrors(errors) {
  return errors.filter((text) => !/status of (401|502|503)|net::ERR_|WebSocket connection/.test(text));
}

test('(a) a doorbell page plays live video, frames in order, latency sane', { timeout: patience(90000) }, async (t) => {
  await withPage(`/devices/${front.id}`, async ({ page, errors }) => {
    await page.getByTestId('live-view').waitFor();
    const video = page.getByTestId('live-player');
    const player = await waitLive(page, front.id);
    assert.match(player.mime, /avc1\./);

    // The player presents the frames the doorbell sends, in order, and the
    // video's clock follows the doorbell's capture clock. Judged against what
    // the doorbell itself produced, never against the wall clock: on a
    // loaded machine the doorbell may capture fewer than 30 frames a second
    // and every step may take longer. So: the doorbell's next 4 s of frames
    // (by its own sequence numbers), however long they take to come.
    const firstSequence = (await doorbells[0].stats()).last_sequence & 0xffff;
    const start = await playhead(page, front.id);
    const frames = await wait(async () => {
      const p = await activePlayer(page, front.id);
      const stamped = p.frames.filter((f) => f.sequence !== null);
      const done = stamped.some((f) => framesAfter(f.sequence, firstSequence) >= WINDOW && framesAfter(f.sequence, firstSequence) < 30000);
      return done ? stamped : null;
    }, { timeout: 30000, interval: 250, what: `the player to present the doorbell's next ${WINDOW} frames` });
    const end = await playhead(page, front.id);
    const judged = judgeWindow(frames, firstSequence, WINDOW);
    const how = `${JSON.stringify(judged)}; player before ${JSON.stringify(start.stats)}, after ${JSON.stringify(end.stats)}`;
    t.diagnostic(`window: ${how}`);
    assert.equal(judged.backwards, 0, `the picture only goes forward (${how})`);
    assert.equal(judged.repeated, 0, `no frame presented twice but where the player jumped (${how})`);
    assert.ok(judged.lost <= 3, `every frame is presented, dropped by the browser or skipped by a jump (${how})`);
    const s = summariseFrames(judged.frames, { fps: FPS });
    // currentTime moved on as far as the capture time of what was presented
    // (a jump to the live edge moves both), give or take sampling.
    const played = end.currentTime - start.currentTime;
    const captured = (end.captureMs - start.captureMs) / 1000;
    assert.ok(Math.abs(played - captured) < 1, `currentTime advanced ${played.toFixed(2)} s over ${captured.toFixed(2)} s of captured video`);
    // Sanity only (tests/bench/latency.bench.mjs measures it): the player
    // stays near the live edge rather than drifting behind.
    assert.ok(s.min > 0 && s.max < LATENCY_SANITY_MS, `glass-to-glass latency between 0 and ${LATENCY_SANITY_MS} ms (${s.min}..${s.max}, p50 ${s.p50})`);

    // The stats overlay shows the same figure.
    const stats = page.getByTestId('live-stats');
    assert.equal(await stats.isVisible(), false);
    await page.getByTestId('live-stats-toggle').click();
    await stats.waitFor({ state: 'visible' });
    // A figure measured from the frame stamp, once a stamped frame was shown
    // in the last second (on a busy machine the overlay may say "est." for
    // a while: few frames shown, or a picture read between two frames).
    const overlay = /Latency\d+ ms.*Bitrate.*(k|M)bit\/s.*fps.*640×360/;
    const shown = await wait(async () => {
      const now = await stats.evaluate((element) => ({ text: element.textContent,
        latency: element.getAttribute('data-latency-ms'), estimated: element.getAttribute('data-estimated') }));
      return now.estimated === 'false' && now.latency && overlay.test(now.text) ? now : null;
    }, { what: `the overlay to show a measured latency and match ${overlay}` });
    const latency = Number(shown.latency);
    assert.ok(latency > 0 && latency < LATENCY_SANITY_MS, `overlay latency ${latency} ms`);

    // Controls are there and labelled.
    for (const id of ['live-mute', 'live-fullscreen', 'live-quality']) assert.ok(await page.getByTestId(id).isVisible(), id);
    assert.deepEqual(await page.getByTestId('live-quality').locator('option').allTextContents(), ['Auto', 'High', 'Low']);

    // Leaving the page stops the player and closes its WebSocket.
    await page.getByTestId('nav-devices').click();
    await wait(async () => (await page.evaluate((id) => window.doorstepLive.players.filter((p) => p.deviceId === id && p.state !== 'stopped').length, front.id)) === 0,
      { what: 'the player to stop' });
    await wait(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.live.viewers === 0,
      { what: 'the hub to see no viewer' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(a2) the quality select is this viewer\'s own: it tells the hub, asks the doorbell for nothing, and is kept', { timeout: patience(60000) }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page, errors }) => {
    await waitLive(page, front.id);
    const requests = [];
    page.on('request', (request) => { if (request.url().endsWith(`/api/v1/devices/${front.id}/video`)) requests.push(request); });
    const answer = async () => (await activePlayer(page, front.id)).answer || null;
    await page.getByTestId('live-quality').selectOption({ label: 'Low' });
    await wait(async () => (await answer())?.quality === 'sub', { what: 'the hub\'s answer to Low' });
    assert.equal(await page.evaluate(() => localStorage.getItem('doorstep.liveQuality')), 'sub');
    await page.getByTestId('live-quality').selectOption({ label: 'High' });
    await wait(async () => (await answer())?.quality === 'main', { what: 'the hub\'s answer to High' });
    assert.equal((await answer()).stream, 'main');
    await page.reload();
    await waitLive(page, front.id);
    assert.equal(await page.getByTestId('live-quality').inputValue(), 'main', 'the choice is kept in this browser');
    await page.getByTestId('live-quality').selectOption({ label: 'Auto' });
    await wait(async () => (await answer())?.quality === 'auto', { what: 'the hub\'s answer to Auto' });
    assert.equal(requests.length, 0, 'no POST /video: the doorbell\'s encoder is not the viewer\'s to change');
    assert.deepEqual(scriptErrors(errors), []);
  });
});

// (b), sound once unmuted, is in live-sound.test.mjs (WebCodecs and the MSE fallback).

test('(c) the live grid plays every doorbell; a tile opens its doorbell', { timeout: patience(90000) }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    await page.getByTestId('nav-live').click();
    const grid = page.getByTestId('live-grid');
    await grid.waitFor();
    for (const device of [front, back]) {
      const tile = grid.locator(`[data-testid="live-tile"][data-device-id="${device.id}"]`);
      await tile.waitFor();
      await waitLive(page, device.id, tile);
      await assertPlays(tile.getByTestId('live-player'), 1, { page, deviceId: device.id });
    }
    assert.equal(await grid.getByTestId('live-tile').count(), 2);
    await grid.locator(`[data-testid="live-tile"][data-device-id="${back.id}"]`).click();
    await page.waitForURL(new RegExp(`#/devices/${back.id}$`));
    await waitLive(page, back.id, page.getByTestId('live-view'));
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(d) the player reconnects by itself when the hub restarts', { timeout: patience(120000) }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page }) => {
    await waitLive(page, front.id);
    const state = page.getByTestId('live-state');
    await hub.stop();
    await wait(async () => ['reconnecting', 'waiting'].includes(await state.getAttribute('data-state')),
      { timeout: 15000, what: 'the player to notice' });
    await hub.launch();
    const restarted = Date.now();
    await wait(async () => (await state.getAttribute('data-state')) === 'live', { timeout: 45000, interval: 200, what: 'live again' });
    const fresh = await wait(async () => {
      const p = await activePlayer(page, front.id);
      const frames = p.frames.filter((f) => f.presentedMs > restarted);
      return frames.length > 30 ? frames : null;
    }, { timeout: 20000, what: 'frames after the restart' });
    const s = summariseFrames(fresh, { fps: FPS });
    assert.equal(s.outOfOrder, 0);
    assert.ok(s.max < LATENCY_SANITY_MS, `latency after the restart ${s.p50} ms (max ${s.max})`);
    const player = await activePlayer(page, front.id);
    assert.ok(player.stats.reconnects >= 1, 'it reconnected');
  });
});

test('(e) a hidden tab closes the stream and resumes when visible', { timeout: patience(60000) }, async () => {
  await withPage(`/devices/${front.id}`, async ({ page, errors }) => {
    await waitLive(page, front.id);
    const state = page.getByTestId('live-state');
    const setVisibility = (value) => page.evaluate((v) => {
      Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, value);
    await setVisibility('hidden');
    await wait(async () => (await state.getAttribute('data-state')) === 'paused', { what: 'paused' });
    await wait(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.live.viewers === 0,
      { what: 'the WebSocket to close' });
    await setVisibility('visible');
    await wait(async () => (await state.getAttribute('data-state')) === 'live', { what: 'live again' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});

// A doorbell that misses captures for a moment (a busy CPU, Wi-Fi) leaves a
// gap in the decode times. MSE takes a gap of more than two frame durations
// for a discontinuity and drops every frame up to the next keyframe; with a
// keyframe every 20 s that would be 20 s of a frozen picture and a jump.
// The player closes such gaps, so only the frames never captured are
// missing. The gap is made by stopping the doorbell (SIGSTOP) for a while:
// its camera pacer then starts its schedule over at the current time.
test('(f) a pause in capture costs only the frames not captured', { timeout: patience(150000) }, async () => {
  const side = hub.addDevice('Side door');
  const doorbell = await Doorbell.start({ hub, ...side, size: '640x360', fps: FPS, bitrate: 600,
    extra: ['--keyframe-interval', String(20 * FPS)] });
  try {
    await withPage(`/devices/${side.id}`, async ({ page, errors }) => {
      await waitLive(page, side.id);
      for (const pauseMs of [150, 400]) {
        const before = await activePlayer(page, side.id);
        const from = before.frames.filter((f) => f.sequence !== null).at(-1).sequence;
        doorbell.proc.child.kill('SIGSTOP');
        await sleep(pauseMs);   // the length of the gap, not a wait for anything
        doorbell.proc.child.kill('SIGCONT');
        // Two seconds of frames captured after the pause on screen (an old
        // player shows them only after the next keyframe, if at all).
        const player = await wait(async () => {
          const p = await activePlayer(page, side.id);
          return p.frames.some((f) => f.sequence !== null && framesAfter(f.sequence, from) >= 3 * FPS && framesAfter(f.sequence, from) < 30000) ? p : null;
        }, { timeout: 60000, what: `frames after a ${pauseMs} ms pause` });
        const judged = judgeWindow(player.frames.filter((f) => f.sequence !== null), from, 3 * FPS);
        assert.equal(judged.backwards, 0, `after a ${pauseMs} ms pause: ${JSON.stringify(judged)}`);
        assert.ok(judged.lost + judged.skippedByJumps < FPS,
          `after a ${pauseMs} ms pause the frames up to the next keyframe were lost: ${JSON.stringify(judged)}; player ${JSON.stringify(player.stats)}`);
      }
      assert.deepEqual(scriptErrors(errors), []);
    });
  } finally {
    await doorbell.stop();
  }
});

// The buffer policy (www/js/live/latency.js, loaded in the page) on a
// simulated steady feed: 60 s of one frame every 33 ms, with a "waiting"
// every 3 s while three frames are in hand (a busy decoder, as on a loaded
// machine) must not raise the target (it crept from 100 to 120-260 ms), and
// leaves the playhead alone; a "waiting" with the buffer empty still does.
test('(g) the buffer target grows on an underflow, not on a stall of the decoder', { timeout: patience(60000) }, async () => {
  await withPage('/devices', async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { LatencyController } = await import('/js/live/latency.js');
      const video = { currentTime: 10, paused: false, seeking: false, playbackRate: 1 };
      const policy = new LatencyController(video);
      const start = policy.target;
      const frame = 1 / 30;
      let now = performance.now() + 5000;
      let end = 10 + policy.target;
      const kinds = [];
      let jumps = 0;
      for (let step = 1; step <= 1800; step++) {   // 60 s in frames
        now += 1000 * frame;
        end += frame;
        video.currentTime += frame * video.playbackRate;
        if (policy.update(end - 10, end, step % 3 === 0, now)) {
          jumps++;
          video.currentTime = policy.jumpTime(end - 10, end);
          policy.jumped(now);
        }
        if (step % 90 === 45) kinds.push(policy.underflow(3 * frame, frame, now));
      }
      const steady = { target: policy.target, kinds, jumps };
      now += 3000;
      const empty = policy.underflow(0, frame, now);
      const after = policy.target;
      // Quiet again: the target is back at its start within a few seconds.
      for (let step = 1; step <= 240; step++) {   // 8 s
        now += 1000 * frame;
        end += frame;
        video.currentTime += frame * video.playbackRate;
        policy.update(end - 10, end, step % 3 === 0, now);
      }
      return { start, steady, empty, after, relaxed: policy.target };
    });
    assert.ok(result.start > 0.05 && result.start <= 0.1, `start target ${result.start}`);
    assert.equal(result.steady.target, result.start, `target after 60 s with stalls: ${JSON.stringify(result)}`);
    assert.ok(result.steady.kinds.length === 20 && result.steady.kinds.every((k) => k === 'stall'), JSON.stringify(result.steady.kinds));
    assert.equal(result.steady.jumps, 0);
    assert.equal(result.empty, 'underflow');
    assert.ok(result.after > result.start, 'an empty buffer raises the target');
    assert.equal(result.relaxed, result.start, `8 s without an underflow: ${JSON.stringify(result)}`);
  });
});
