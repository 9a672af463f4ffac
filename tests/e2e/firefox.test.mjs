// Browser end-to-end tests in Firefox (Debian's firefox-esr, headless,
// driven over WebDriver BiDi by puppeteer-core: tests/lib/firefox.mjs):
// the same real hub and real simulated doorbell as the Chromium tests, the
// doorbell's speaker an ALSA `file` device (speaker.raw). Firefox's fake
// microphone (media.navigator.streams.fake) plays a steady 1 kHz tone; what
// the doorbell plays is checked by its frequency (Goertzel,
// tests/lib/tone.mjs). The page's hooks say what happened: window.doorstepLive
// (live player, presented frames) and window.doorstepTalk (talk sessions:
// codec, audio context rate, packets, microphone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { requireOrSkip } from '../lib/requirements.mjs';
import { haveFirefox, launchFirefox, withFirefoxPage, FIREFOX_PATH, PULSEAUDIO_PATH } from '../lib/firefox.mjs';
import { samplesOf, toneWindows, dominantFrequency, WINDOW } from '../lib/tone.mjs';

const skip = requireOrSkip(haveFirefox(), `Firefox (${FIREFOX_PATH}) and PulseAudio (${PULSEAUDIO_PATH}): Debian's firefox-esr and pulseaudio, make deps`);
const wait = (fn, options = {}) => waitFor(fn, { interval: 100, ...options, timeout: patience(options.timeout ?? 20000) });
const PASSWORD = 'correct horse battery staple';
// Firefox's fake microphone: a steady sine at this frequency.
const TONE_HZ = 1000;
// From the press to the tone in the speaker file: a generous bound for a
// loaded machine, the one tests/e2e/talk.test.mjs uses for Chromium.
const LATENCY_BOUND_MS = 2000;
const data = tempDir('doorstep-e2e-firefox-');
let hub, admin, browser, front, doorbell;
let slowBrowser;    // Firefox on 44.1 kHz audio hardware

before(async () => {
  if (skip) return;
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin('admin', PASSWORD);
  front = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...front, size: '640x360', fps: 10, bitrate: 300, audio: { frequency: 440 } });
  await wait(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.online, { what: 'the doorbell online' });
  browser = await launchFirefox();
  slowBrowser = await launchFirefox({ sinkRate: 44100 });
});

after(() => stopAll(browser, slowBrowser, doorbell, hub, data));

// Script errors fail a test; refused WebSockets and failed requests do not.
const scriptErrors = (errors) => errors.filter((text) => !/status of (401|403|502|503)|NS_ERROR_|can.t establish a connection/i.test(text));

// What the doorbell's speaker wrote after this point: read() returns the new samples.
function speakerFrom() {
  const path = join(doorbell.dir, 'speaker.raw');
  const start = existsSync(path) ? statSync(path).size : 0;
  return {
    read() {
      if (!existsSync(path)) return new Int16Array(0);
      const length = Math.max(0, statSync(path).size - start);
      const buffer = Buffer.alloc(length);
      const fd = openSync(path, 'r');
      try { readSync(fd, buffer, 0, length, start); } finally { closeSync(fd); }
      return samplesOf(buffer);
    },
  };
}

const talkEntry = (page, deviceId) => page.evaluate((id) => {
  const list = (window.doorstepTalk && window.doorstepTalk.sessions) || [];
  return list.filter((s) => s.deviceId === id).pop() || null;
}, deviceId);

const talkState = (page) => page.evaluate(() => {
  const element = document.querySelector('[data-testid="talk"]');
  return element ? element.getAttribute('data-state') : null;
});
const waitTalkState = (page, state) => wait(async () => (await talkState(page)) === state, { what: `talk state ${state}` });

// Wait until the speaker played at least `windows` 20 ms windows of the tone; returns the samples.
async function waitTone(speaker, windows = 10) {
  let found = 0;
  try {
    return await wait(() => {
      const samples = speaker.read();
      found = toneWindows(samples, TONE_HZ).length;
      return found >= windows ? samples : null;
    }, { what: `${windows} windows of ${TONE_HZ} Hz in speaker.raw` });
  } catch (error) {
    throw new Error(`${error.message}; found ${found}`);
  }
}

// The tone's frequency in the speaker's samples (over the windows that hold it).
function toneFrequency(samples) {
  const windows = toneWindows(samples, TONE_HZ, { share: 0.2 });
  const first = windows[0] * WINDOW;
  return dominantFrequency(samples, first, Math.min(samples.length - first, 8 * WINDOW));
}

// The centre of the element with data-testid `id` (the first), in page pixels.
async function centreOf(page, id) {
  const element = await page.waitForSelector(`[data-testid="${id}"]`);
  await element.scrollIntoView();
  const box = await element.boundingBox();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

// The live player's newest presented frame and the video's clock.
const playhead = (page, deviceId) => page.evaluate((id) => {
  const players = (window.doorstepLive ? window.doorstepLive.players : []).filter((p) => p.deviceId === id && p.state !== 'stopped');
  const player = players.pop();
  const video = document.querySelector('[data-testid="live-player"]');
  if (!player || !video) return null;
  const stamped = player.frames.filter((f) => f.sequence !== null);
  return { state: player.state, mime: player.mime, frames: player.frames.length, sequence: stamped.length ? stamped.at(-1).sequence : null,
    stamped: stamped.length, sequences: stamped.map((f) => f.sequence), currentTime: video.currentTime };
}, deviceId);

test('live view in Firefox: the doorbell page plays the doorbell\'s video, frames and clock moving on', { skip, timeout: patience(90000) }, async () => {
  await withFirefoxPage({ browser, hub, client: admin }, `/devices/${front.id}`, async ({ page, errors }) => {
    await wait(async () => (await page.evaluate(() => document.querySelector('[data-testid="live-state"]')?.getAttribute('data-state'))) === 'live',
      { what: 'the live badge saying live' });
    const start = await wait(async () => {
      const head = await playhead(page, front.id);
      return head && head.stamped > 0 ? head : null;
    }, { what: 'a stamped frame presented' });
    assert.match(start.mime, /avc1\./);
    // The doorbell runs at 10 fps: 20 more stamped frames and 1.5 s more of
    // video, however long a loaded machine takes to show them.
    const end = await wait(async () => {
      const head = await playhead(page, front.id);
      const moved = head && head.sequence !== null && ((head.sequence - start.sequence + 65536) % 65536);
      return head && moved >= 20 && moved < 30000 && head.currentTime - start.currentTime >= 1.5 ? head : null;
    }, { timeout: 30000, what: 'frames and currentTime moving on' });
    assert.equal(end.state, 'live');
    // In order: from the start frame on, each stamped frame is the same
    // one or a later one. Not every one of the 20 need be there: the player
    // skips frames when it jumps to the live edge, and a frame read late
    // gives no stamp; most are.
    const after = end.sequences.slice(end.sequences.lastIndexOf(start.sequence));
    const backwards = after.filter((sequence, i) => i > 0 && ((sequence - after[i - 1] + 65536) % 65536) > 30000);
    assert.ok(after.length >= 10, `stamped frames over 20 sequence steps: ${after.length}: ${after.join(' ')}`);
    assert.deepEqual(backwards, [], `frames presented in order: ${after.join(' ')}`);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('hold to talk in Firefox: Opus from WebCodecs at 48 kHz, the doorbell speaker plays the fake microphone\'s 1 kHz', { skip, timeout: patience(120000) }, async () => {
  await withFirefoxPage({ browser, hub, client: admin }, `/devices/${front.id}`, async ({ page, errors }) => {
    await waitTalkState(page, 'idle');
    const speaker = speakerFrom();
    const point = await centreOf(page, 'talk-hold');
    await page.mouse.move(point.x, point.y);
    await page.mouse.down();
    await waitTalkState(page, 'on-air');
    const onAir = await page.evaluate(() => document.querySelector('[data-testid="talk-onair"]').checkVisibility());
    const samples = await waitTone(speaker);
    const heardAt = Date.now();
    await wait(async () => Number(await page.evaluate(() => document.querySelector('[data-testid="talk-meter"]').getAttribute('aria-valuenow'))) > 0,
      { what: 'the level meter moving' });
    await page.mouse.up();
    await waitTalkState(page, 'idle');

    assert.equal(onAir, true, 'the on-air mark shows while held');
    const entry = await talkEntry(page, front.id);
    assert.equal(entry.codec, 'opus', 'Firefox encodes Opus with WebCodecs');
    assert.equal(entry.contextRate, 48000, 'the audio context runs at the 48 kHz asked for');
    assert.ok(entry.packetsSent >= 10, `packets sent: ${entry.packetsSent}`);
    assert.equal(entry.micOpen, false, 'the microphone is released after talking');
    const frequency = toneFrequency(samples);
    assert.ok(Math.abs(frequency - TONE_HZ) <= 50, `the speaker played ${frequency} Hz`);
    // Bound, as in Chromium's test: the tone reached the speaker file soon
    // after the press (tests/bench/talk.bench.mjs measures the latency).
    const latency = heardAt - entry.startedAt;
    assert.ok(latency < patience(LATENCY_BOUND_MS + 1000), `press to tone in the speaker file: ${latency} ms`);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('latched talk in Firefox on 44.1 kHz audio hardware: PCM and Opus, the context still at 48 kHz', { skip, timeout: patience(120000) }, async () => {
  await withFirefoxPage({ browser: slowBrowser, hub, client: admin }, `/devices/${front.id}`, async ({ page, errors }) => {
    // The hardware's rate is what an audio context gets unasked.
    assert.equal(await page.evaluate(() => { const context = new AudioContext(); const rate = context.sampleRate; context.close(); return rate; }), 44100);
    for (const codec of ['pcm16', 'opus']) {
      await page.evaluate((chosen) => { window.doorstepTalkCodec = chosen; }, codec);
      await waitTalkState(page, 'idle');
      const speaker = speakerFrom();
      await page.click('[data-testid="talk-latch"]');
      await waitTalkState(page, 'on-air');
      assert.equal(await page.evaluate(() => document.querySelector('[data-testid="talk-latch"]').getAttribute('aria-pressed')), 'true');
      const samples = await waitTone(speaker);
      await page.click('[data-testid="talk-latch"]');
      await waitTalkState(page, 'idle');
      const entry = await talkEntry(page, front.id);
      assert.equal(entry.codec, codec);
      assert.equal(entry.contextRate, 48000, `${codec}: Firefox gives the 48 kHz asked for on 44.1 kHz hardware`);
      assert.equal(entry.micOpen, false);
      const frequency = toneFrequency(samples);
      assert.ok(Math.abs(frequency - TONE_HZ) <= 50, `${codec}: the speaker played ${frequency} Hz`);
    }
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('a 44.1 kHz audio context in Firefox: the capture worklet resamples to 48 kHz, Opus', { skip, timeout: patience(120000) }, async () => {
  await withFirefoxPage({ browser: slowBrowser, hub, client: admin }, `/devices/${front.id}`, async ({ page, errors }) => {
    await waitTalkState(page, 'idle');
    const speaker = speakerFrom();
    await page.click('[data-testid="talk-latch"]');
    await waitTalkState(page, 'on-air');
    const samples = await waitTone(speaker);
    await page.click('[data-testid="talk-latch"]');
    await waitTalkState(page, 'idle');
    const entry = await talkEntry(page, front.id);
    assert.equal(entry.codec, 'opus');
    assert.equal(entry.contextRate, 44100, 'the audio context ran at 44.1 kHz');
    const frequency = toneFrequency(samples);
    assert.ok(Math.abs(frequency - TONE_HZ) <= 25, `the speaker played ${frequency} Hz`);
    assert.deepEqual(scriptErrors(errors), []);
  }, { init: () => {
    // Every audio context of the page at 44.1 kHz, whatever it asks for.
    const Native = window.AudioContext;
    window.AudioContext = class extends Native {
      constructor(options = {}) { super({ ...options, sampleRate: 44100 }); }
    };
  } });
});
