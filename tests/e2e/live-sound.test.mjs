// Browser end-to-end tests of live sound: Debian's Chromium (headless,
// through playwright-core) plays a simulated doorbell whose ALSA file
// microphone reads a 440 Hz tone. With WebCodecs (Chromium), unmuting plays
// the Opus packets through AudioDecoder and the AudioWorklet of
// www/js/live/sound.js (its counters in the player's test hook advance),
// MSE keeps the video track alone (no audio decoded by the <video>) with
// the video-only buffer target, and the sound follows the video within the
// lip-sync bound, also when the video runs 300 ms behind (a forced buffer
// target); muting stops it and unmuting starts it again. Without
// AudioDecoder (deleted from window by an init script, as in browsers
// without WebCodecs audio), or when it says it cannot decode Opus, unmuting
// plays the sound through MSE instead.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, loggedInContext, activePlayer, watchErrors } from '../lib/browser.mjs';

const FPS = 15;
const wait = (fn, options = {}) => waitFor(fn, { ...options, timeout: patience(options.timeout ?? 20000) });
// The video-only buffer target starts at 85 ms and grows by 10 ms per
// underflow; with the audio track in MSE it starts at 200 ms.
const VIDEO_ONLY_TARGET_MS = 180;
const LIP_SYNC_MS = 45;
const data = tempDir('doorstep-e2e-live-sound-');
let hub;
let admin;
let browser;
let device;
let doorbell;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: FPS, bitrate: 500, audio: true });
  await wait(async () => {
    const d = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    return d.online && d.video && d.video.frames > 30;
  }, { timeout: 30000, what: 'the doorbell streaming' });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

// The doorbell's page in a fresh context (initScript runs before the page's own).
async function withDevicePage(fn, initScript = null) {
  const context = await loggedInContext(browser, hub, admin);
  try {
    if (initScript) await context.addInitScript(initScript);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    await wait(async () => (await page.getByTestId('live-state').getAttribute('data-state')) === 'live',
      { what: 'live view' });
    await fn(page, errors);
  } finally {
    await context.close();
  }
}

const player = (page) => activePlayer(page, device.id);

// wait() for fn(player); on a timeout the error carries the player's sound figures.
async function waitPlayer(page, fn, what) {
  try {
    return await wait(async () => { const p = await player(page); return fn(p) ? p : null; }, { what });
  } catch (error) {
    const p = await player(page);
    throw new Error(`${error.message}; sound ${JSON.stringify(p && p.sound)}; stats ${JSON.stringify(p && p.stats)}`);
  }
}
const decodedByVideo = (page) => page.getByTestId('live-player').evaluate((v) => v.webkitAudioDecodedByteCount);
const played = (p) => (p && p.sound && p.sound.worklet ? p.sound.worklet.framesPlayed : 0);

// The worklet plays more of the doorbell's sound: frames played advance by `frames`.
async function assertSoundAdvances(page, frames = 48000) {
  const from = played(await player(page));
  await waitPlayer(page, (p) => played(p) >= from + frames, `the worklet to play ${frames} more frames`);
}

test('(a) unmuted, the sound plays through WebCodecs and the worklet; the video keeps its low-latency target', { timeout: patience(120000) }, async (t) => {
  await withDevicePage(async (page, errors) => {
    let p = await player(page);
    assert.equal(p.soundPath, 'webcodecs', 'Chromium has AudioDecoder');
    assert.equal(p.sound, null, 'no sound while muted');
    await page.getByTestId('live-mute').click();
    p = await waitPlayer(page, (q) => q.audio && q.sound && q.sound.state === 'playing', 'sound playing');
    await assertSoundAdvances(page);
    p = await player(page);
    assert.equal(p.soundPath, 'webcodecs');
    assert.equal(p.mseAudio, false, 'MSE has no audio track');
    assert.equal(await decodedByVideo(page), 0, 'the <video> decodes no audio');
    assert.ok(p.sound.counters.decoded > 0 && p.sound.counters.decodeErrors === 0, JSON.stringify(p.sound.counters));
    // The video keeps playing, with the video-only target.
    const frames = p.frames.length;
    await wait(async () => (await player(page)).frames.length >= frames + 2 * FPS, { what: '2 s more video' });
    p = await player(page);
    const target = p.frames.at(-1).targetMs;
    assert.ok(target <= VIDEO_ONLY_TARGET_MS, `video buffer target ${target} ms with sound on`);
    // Lip sync: the sound's glass-to-ear comes to the video's glass-to-glass.
    p = await waitPlayer(page, (q) => q.sound.lipSyncMs !== null && Math.abs(q.sound.lipSyncMs) <= LIP_SYNC_MS,
      `lip sync within ${LIP_SYNC_MS} ms`);
    const { onsets, ...figures } = p.sound;
    t.diagnostic(`sound ${JSON.stringify(figures)}`);
    // The statistics overlay says how late the sound is and how far from the picture.
    await page.getByTestId('live-stats-toggle').click();
    const row = page.locator('[data-testid="live-stats"] [data-stat="sound"]');
    await wait(async () => /^\d+ ms, [+−]\d+ ms from the picture$/.test(await row.textContent()), { what: 'the sound row of the overlay' });

    // Mute: the sound stops; unmute: it plays again.
    await page.getByTestId('live-mute').click();
    p = await player(page);
    assert.equal(p.audio, false);
    await waitPlayer(page, (q) => q.sound.state === 'stopped', 'sound stopped');
    await page.getByTestId('live-mute').click();
    await waitPlayer(page, (q) => q.sound && q.sound.state === 'playing', 'sound playing again');
    await assertSoundAdvances(page);
    assert.equal(await decodedByVideo(page), 0, 'still no audio through the <video>');
    assert.deepEqual(errors, []);
  });
});

test('(c) the sound waits for a video that runs late', { timeout: patience(120000) }, async (t) => {
  // A 300 ms video buffer: left to itself the sound would be heard about
  // 200 ms before the picture shows it.
  await withDevicePage(async (page, errors) => {
    await page.getByTestId('live-mute').click();
    await waitPlayer(page, (q) => q.sound && q.sound.state === 'playing', 'sound playing');
    const p = await waitPlayer(page, (q) => q.sound.lipSyncMs !== null && q.sound.videoLatencyMs >= 250 &&
      Math.abs(q.sound.lipSyncMs) <= LIP_SYNC_MS, `lip sync within ${LIP_SYNC_MS} ms of a late video`);
    const { onsets, ...figures } = p.sound;
    t.diagnostic(`sound ${JSON.stringify(figures)}`);
    // The wait above is the check: the sound is heard with the late picture
    // (glass-to-ear within LIP_SYNC_MS of glass-to-glass, 250 ms or more),
    // not 200 ms before it. Whether the queue's target or its depth took up
    // the difference depends on the machine's timing (a busy one filled the
    // queue to 259 ms with the target at 139 ms), so neither is asserted.
    assert.deepEqual(errors, []);
  }, 'window.doorstepLiveTuning = { start: 0.3, min: 0.3, max: 0.5, adapt: false };');
});

test('(b) without AudioDecoder, unmuting plays the sound through MSE', { timeout: patience(120000) }, async () => {
  await withDevicePage(async (page, errors) => {
    let p = await player(page);
    assert.equal(p.soundPath, 'mse');
    await page.getByTestId('live-mute').click();
    p = await waitPlayer(page, (q) => q.audio && q.mseAudio && q.state === 'live', 'live view with sound through MSE');
    await wait(async () => (await decodedByVideo(page)) > 0, { what: 'audio decoded by the <video>' });
    const before = await decodedByVideo(page);
    await wait(async () => (await decodedByVideo(page)) > before, { what: 'audio to keep being decoded' });
    assert.equal(p.sound, null, 'no WebCodecs sound');
    await page.getByTestId('live-stats-toggle').click();
    assert.equal(await page.locator('[data-testid="live-stats"] [data-stat="sound"]').textContent(), 'through MSE');
    assert.deepEqual(errors, []);
  }, 'delete window.AudioDecoder;');
});

test('(d) when AudioDecoder cannot decode Opus, unmuting falls back to MSE', { timeout: patience(120000) }, async () => {
  await withDevicePage(async (page, errors) => {
    assert.equal((await player(page)).soundPath, 'webcodecs');
    await page.getByTestId('live-mute').click();
    const p = await waitPlayer(page, (q) => q.soundPath === 'mse' && q.audio && q.mseAudio && q.state === 'live',
      'live view with sound through MSE');
    assert.equal(p.sound.state, 'failed');
    await wait(async () => (await decodedByVideo(page)) > 0, { what: 'audio decoded by the <video>' });
    assert.deepEqual(errors, []);
  }, 'AudioDecoder.isConfigSupported = async () => ({ supported: false });');
});
