// Browser end-to-end tests of talk-back: Debian's Chromium (headless,
// through playwright-core) with a fake microphone playing a 1 kHz tone
// (a WAV made with ffmpeg) talks through the real hub to a real simulated
// doorbell, whose speaker is an ALSA `file` device (speaker.raw). What the
// doorbell plays is checked by its frequency (Goertzel), not only its
// energy. The page's talk hook (window.doorstepTalk) says what each talk
// session did (codec, packets, socket, microphone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, Client, tempDir, waitFor, sleep, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, loggedInContext, watchErrors } from '../lib/browser.mjs';
import { samplesOf, toneWindows, dominantFrequency, WINDOW } from '../lib/tone.mjs';

const wait = (fn, options = {}) => waitFor(fn, { interval: 50, ...options, timeout: patience(options.timeout ?? 20000) });
const PASSWORD = 'correct horse battery staple';
const TONE_HZ = 1000;
// From the capture of the first packet to the tone in the speaker file: a
// generous bound for a loaded machine (tests/bench/talk.bench.mjs measures it).
const LATENCY_BOUND_MS = 2000;
const data = tempDir('doorstep-e2e-talk-');
let hub, admin, viewer, browser, front, garage, doorbell;

// Chromium's fake microphone plays this file (looped).
const wav = join(data.dir, 'tone-1khz.wav');

before(async () => {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${TONE_HZ}:sample_rate=48000:duration=20`,
    '-af', 'volume=0.5', '-ac', '1', '-c:a', 'pcm_s16le', wav]);
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin('admin', PASSWORD);
  front = hub.addDevice('Front door');
  garage = hub.addDevice('Garage');      // never connects: offline
  doorbell = await Doorbell.start({ hub, ...front, size: '640x360', fps: 10, bitrate: 300, audio: { frequency: 440 } });
  await wait(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.online, { what: 'the doorbell online' });
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'guest', password: PASSWORD, role: 'viewer', devices: [front.id, garage.id] } });
  assert.equal(created.status, 201, created.body.toString());
  viewer = { id: created.json.id };
  browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`]);
});

after(() => stopAll(browser, doorbell, hub, data));

// A fresh login (its own session, so logging it out leaves the others be).
async function login(username) {
  const client = new Client(hub.url);
  const response = await client.login(username, PASSWORD);
  assert.equal(response.status, 200);
  return client;
}

// Run fn({ page, errors }) at #path, logged in as client; options.init: a
// script run before the page's own (test settings); options.browser.
async function withPage(client, path, fn, { init = null, browser: chosen = browser, context: contextOptions = {} } = {}) {
  const context = await loggedInContext(chosen, hub, client, contextOptions);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    if (init) await page.addInitScript(init);
    await page.goto(`${hub.url}/#${path}`);
    await fn({ page, errors });
  } finally {
    await context.close();
  }
}

// Script errors fail a test; refused WebSockets and failed requests do not.
const scriptErrors = (errors) => errors.filter((text) => !/status of (401|403|502|503)|net::ERR_|WebSocket connection/.test(text));

// The talk hook's entry for deviceId (the newest).
const talkEntry = (page, deviceId) => page.evaluate((id) => {
  const list = (window.doorstepTalk && window.doorstepTalk.sessions) || [];
  return list.filter((s) => s.deviceId === id).pop() || null;
}, deviceId);

const talkState = (root) => root.getByTestId('talk').first().getAttribute('data-state');
const waitTalkState = (root, state, what = `talk state ${state}`) => wait(async () => (await talkState(root)) === state, { what });

// What the doorbell's speaker wrote after this point: read() returns the new samples.
function speakerFrom() {
  const path = join(doorbell.dir, 'speaker.raw');
  const start = existsSync(path) ? statSync(path).size : 0;
  return {
    read() {
      if (!existsSync(path)) return new Int16Array(0);
      const size = statSync(path).size;
      const length = Math.max(0, size - start);
      const buffer = Buffer.alloc(length);
      const fd = openSync(path, 'r');
      try { readSync(fd, buffer, 0, length, start); } finally { closeSync(fd); }
      return samplesOf(buffer);
    },
  };
}

// Wait until the speaker played at least `windows` 20 ms windows of the tone; returns the samples.
async function waitTone(speaker, windows = 10, timeout = 20000) {
  let found = 0;
  try {
    return await wait(() => {
      const samples = speaker.read();
      found = toneWindows(samples, TONE_HZ).length;
      return found >= windows ? samples : null;
    }, { timeout, what: `${windows} windows of ${TONE_HZ} Hz in speaker.raw` });
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

test('hold to talk: the doorbell speaker plays the microphone (1 kHz, Opus from WebCodecs), on air while held', { timeout: patience(120000) }, async () => {
  await withPage(admin, `/devices/${front.id}`, async ({ page, errors }) => {
    const talk = page.getByTestId('talk');
    await waitTalkState(page, 'idle');
    const hold = talk.getByTestId('talk-hold');
    assert.equal(await talk.getByTestId('talk-onair').isVisible(), false);
    const speaker = speakerFrom();
    await hold.hover();
    await page.mouse.down();
    await waitTalkState(page, 'on-air');
    assert.equal(await talk.getByTestId('talk-onair').isVisible(), true);
    const samples = await waitTone(speaker);
    const heardAt = Date.now();
    await wait(async () => Number(await talk.getByTestId('talk-meter').getAttribute('aria-valuenow')) > 0, { what: 'the level meter moving' });
    await page.mouse.up();
    await waitTalkState(page, 'idle');

    const entry = await talkEntry(page, front.id);
    assert.equal(entry.codec, 'opus');
    assert.ok(entry.packetsSent >= 10, `packets sent: ${entry.packetsSent}`);
    assert.equal(entry.micOpen, false, 'the microphone is released after talking');
    const frequency = toneFrequency(samples);
    assert.ok(Math.abs(frequency - TONE_HZ) <= 50, `the speaker played ${frequency} Hz`);
    // Bound: the tone reached the speaker file soon after the press.
    const latency = heardAt - entry.startedAt;
    assert.ok(latency < patience(LATENCY_BOUND_MS + 1000), `press to tone in the speaker file: ${latency} ms`);

    // Released: the speaker falls silent (no tone in the newest 200 ms).
    const after = speakerFrom();
    await wait(() => {
      const s = after.read();
      return s.length >= 20 * WINDOW && toneWindows(s.subarray(s.length - 10 * WINDOW), TONE_HZ).length === 0;
    }, { what: 'the speaker silent after release' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('space bar and latch; PCM from the AudioWorklet when WebCodecs cannot encode (the hub encodes it)', { timeout: patience(120000) }, async () => {
  await withPage(admin, `/devices/${front.id}`, async ({ page, errors }) => {
    await waitTalkState(page, 'idle');
    let speaker = speakerFrom();
    await page.keyboard.down('Space');
    await waitTalkState(page, 'on-air');
    const samples = await waitTone(speaker);
    await page.keyboard.up('Space');
    await waitTalkState(page, 'idle');
    assert.ok(Math.abs(toneFrequency(samples) - TONE_HZ) <= 50);
    const entry = await talkEntry(page, front.id);
    assert.equal(entry.codec, 'pcm16');
    assert.equal(entry.micOpen, false);

    // The latch keeps talking without holding anything.
    const latch = page.getByTestId('talk-latch');
    speaker = speakerFrom();
    await latch.click();
    await waitTalkState(page, 'on-air');
    assert.equal(await latch.getAttribute('aria-pressed'), 'true');
    await waitTone(speaker);
    await latch.click();
    await waitTalkState(page, 'idle');
    assert.equal(await latch.getAttribute('aria-pressed'), 'false');
    assert.equal((await talkEntry(page, front.id)).micOpen, false);
    assert.deepEqual(scriptErrors(errors), []);
  }, { init: () => { window.doorstepTalkCodec = 'pcm16'; } });
});

test('a 44.1 kHz audio context (Safari, Firefox): the capture resamples to 48 kHz and the speaker plays 1 kHz, PCM and Opus', { timeout: patience(120000) }, async () => {
  await withPage(admin, `/devices/${front.id}`, async ({ page, errors }) => {
    const latch = page.getByTestId('talk-latch');
    for (const codec of ['pcm16', 'opus']) {
      await page.evaluate((chosen) => { window.doorstepTalkCodec = chosen; }, codec);
      await waitTalkState(page, 'idle');
      const speaker = speakerFrom();
      await latch.click();
      await waitTalkState(page, 'on-air');
      const samples = await waitTone(speaker);
      await latch.click();
      await waitTalkState(page, 'idle');
      const entry = await talkEntry(page, front.id);
      assert.equal(entry.codec, codec);
      assert.equal(entry.contextRate, 44100, 'the audio context ran at 44.1 kHz');
      const frequency = toneFrequency(samples);
      assert.ok(Math.abs(frequency - TONE_HZ) <= 25, `${codec}: the speaker played ${frequency} Hz`);
    }
    assert.deepEqual(scriptErrors(errors), []);
  }, { init: () => {
    // Every audio context of the page at 44.1 kHz, whatever it asks for.
    const Native = window.AudioContext;
    window.AudioContext = class extends Native {
      constructor(options = {}) { super({ ...options, sampleRate: 44100 }); }
    };
  } });
});

test('a viewer without the talk right has no talk controls and the hub refuses the socket; granting it shows them', { timeout: patience(120000) }, async () => {
  const guest = await login('guest');
  await withPage(guest, `/devices/${front.id}`, async ({ page, errors }) => {
    await page.getByTestId('device-detail').waitFor();
    await wait(async () => (await page.getByTestId('detail-state').textContent()) === 'Online', { what: 'the doorbell page drawn' });
    assert.equal(await page.getByTestId('talk-hold').count(), 0);
    // The hub refuses the upgrade (403): the socket never opens.
    const outcome = await page.evaluate((id) => new Promise((resolve) => {
      const socket = new WebSocket(`wss://${location.host}/api/v1/devices/${id}/talk`);
      socket.onopen = () => { resolve('open'); socket.close(); };
      socket.onclose = () => resolve('refused');
    }), front.id);
    assert.equal(outcome, 'refused');

    // The admin grants it in the settings: people and rights.
    await withPage(admin, '/settings', async ({ page: settings }) => {
      const row = settings.locator('[data-testid="rights-user"][data-username="guest"]');
      const talkBox = row.locator(`tr[data-device-id="${front.id}"]`).getByTestId('rights-talk');
      await talkBox.waitFor();
      assert.equal(await talkBox.isChecked(), false);
      assert.equal(await row.locator(`tr[data-device-id="${front.id}"]`).getByTestId('rights-live').isChecked(), true);
      await talkBox.check();
      await wait(async () => (await admin.api('GET', '/api/v1/users')).json.users.find((u) => u.username === 'guest').talk_devices.includes(front.id),
        { what: 'the talk right saved' });
    });
    await wait(async () => (await page.getByTestId('talk-hold').count()) === 1, { what: 'talk controls after the grant' });
    await waitTalkState(page, 'idle');
    assert.deepEqual(scriptErrors(errors), []);
  });
  await withPage(guest, '/live', async ({ page }) => {
    const tile = (id) => page.locator(`[data-testid="live-tile"][data-device-id="${id}"]`);
    await tile(garage.id).waitFor();
    await wait(async () => (await tile(front.id).getByTestId('talk-hold').count()) === 1, { what: 'talk on the granted tile' });
    assert.equal(await tile(garage.id).getByTestId('talk-hold').count(), 0);
  });
});

test('two talkers: the second sees who is talking and is refused; an admin takes over', { timeout: patience(120000) }, async () => {
  const granted = await admin.api('PATCH', `/api/v1/users/${viewer.id}`, { json: { talk_devices: [front.id] } });
  assert.equal(granted.status, 200);
  const guest = await login('guest');
  await withPage(guest, `/devices/${front.id}`, async ({ page: guestPage }) => {
    await waitTalkState(guestPage, 'idle');
    await guestPage.getByTestId('talk-latch').click();
    await waitTalkState(guestPage, 'on-air');
    await withPage(admin, `/devices/${front.id}`, async ({ page, errors }) => {
      await waitTalkState(page, 'busy');
      await wait(async () => (await page.getByTestId('talk-status').textContent()) === 'guest is talking.', { what: 'who is talking' });
      assert.equal(await page.getByTestId('talk-hold').isDisabled(), true);
      // The hub refuses a second talker outright.
      const refusal = await page.evaluate((id) => new Promise((resolve) => {
        const socket = new WebSocket(`wss://${location.host}/api/v1/devices/${id}/talk`);
        socket.onopen = () => socket.send(JSON.stringify({ type: 'start', codec: 'opus', takeover: false }));
        socket.onmessage = (m) => {
          const message = JSON.parse(m.data);
          if (message.type === 'error') { resolve(message.code); socket.close(); }
        };
        socket.onclose = () => resolve('closed');
      }), front.id);
      assert.equal(refusal, 'busy');

      // Take over: the admin is on air, the guest is told and sees who talks.
      await page.getByTestId('talk-takeover').click();
      await waitTalkState(page, 'on-air');
      await waitTalkState(guestPage, 'busy');
      await wait(async () => (await guestPage.getByTestId('talk-error').getAttribute('data-code')) === 'taken_over', { what: 'the guest told of the takeover' });
      assert.equal(await guestPage.getByTestId('talk-status').textContent(), 'admin is talking.');
      assert.equal((await talkEntry(guestPage, front.id)).micOpen, false, "the guest's microphone is released");
      assert.equal(await guestPage.getByTestId('talk-takeover').count(), 0, 'viewers cannot take over');
      await page.getByTestId('talk-latch').click();
      await waitTalkState(page, 'idle');
      await waitTalkState(guestPage, 'idle');
      assert.deepEqual(scriptErrors(errors), []);
    });
  });
});

test('logging out closes the talk socket (and it stays closed)', { timeout: patience(60000) }, async () => {
  const session = await login('admin');
  await withPage(session, `/devices/${front.id}`, async ({ page }) => {
    await waitTalkState(page, 'idle');
    const opened = await talkEntry(page, front.id);
    assert.equal(opened.connection, 'open');
    await page.getByTestId('logout').click();
    await page.waitForURL(/#\/login/);
    await wait(async () => (await talkEntry(page, front.id)).connection === 'closed', { what: 'the talk socket closed' });
    // Signed out: nothing tries to open it again (watched for longer than
    // the sessions' first retry delay, 1 s).
    await page.getByTestId('login-username').waitFor();
    const attempts = () => page.evaluate(() => window.doorstepTalk.sessions.map((s) => `${s.connection}/${s.attempts}`).join());
    const closed = await attempts();
    await sleep(patience(2500));
    assert.equal(await attempts(), closed);
    assert.doesNotMatch(closed, /open|connecting/);
  });
});

test('errors: doorbell offline, page not secure, microphone refused', { timeout: patience(120000) }, async () => {
  await withPage(admin, `/devices/${garage.id}`, async ({ page }) => {
    await waitTalkState(page, 'offline');
    assert.equal(await page.getByTestId('talk-status').textContent(), 'The doorbell is offline.');
    assert.equal(await page.getByTestId('talk-hold').isDisabled(), true);
  });

  // An http:// page (emulated: the hub itself serves only https).
  await withPage(admin, `/devices/${front.id}`, async ({ page }) => {
    const error = page.getByTestId('talk-error');
    await wait(async () => (await error.getAttribute('data-code')) === 'insecure', { what: 'the insecure-page error' });
    assert.match(await error.textContent(), /secure connection/);
    assert.equal(await error.isVisible(), true);
    assert.equal(await page.getByTestId('talk-hold').isDisabled(), true);
  }, { init: () => { Object.defineProperty(window, 'isSecureContext', { get: () => false }); } });

  // A browser that refuses the microphone (no fake permission prompt: denied).
  const refusing = await launchChromium(['--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`]);
  try {
    await withPage(admin, `/devices/${front.id}`, async ({ page }) => {
      await waitTalkState(page, 'idle');
      await page.getByTestId('talk-hold').hover();
      await page.mouse.down();
      const error = page.getByTestId('talk-error');
      await wait(async () => (await error.getAttribute('data-code')) === 'microphone', { what: 'the microphone error' });
      await page.mouse.up();
      assert.match(await error.textContent(), /refused the microphone/);
      await waitTalkState(page, 'idle');
      assert.equal((await talkEntry(page, front.id)).micOpen, false);
    }, { browser: refusing });
  } finally {
    await refusing.close();
  }
});

test('the ring toast talks; a phone talks with touch and hold on the live grid', { timeout: patience(120000) }, async () => {
  await withPage(admin, '/devices', async ({ page, errors }) => {
    await page.waitForFunction(() => document.documentElement.dataset.eventFeed === 'open');
    await doorbell.control('ring');
    const toast = page.getByTestId('ring-toast');
    await toast.waitFor({ timeout: patience(20000) });
    const speaker = speakerFrom();
    await toast.getByTestId('talk-hold').hover();
    await page.mouse.down();
    await waitTalkState(toast, 'on-air');
    await waitTone(speaker);
    await page.mouse.up();
    await waitTalkState(toast, 'idle');
    assert.deepEqual(scriptErrors(errors), []);
  });

  const phone = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true };
  await withPage(admin, '/live', async ({ page }) => {
    const tile = page.locator(`[data-testid="live-tile"][data-device-id="${front.id}"]`);
    const hold = tile.getByTestId('talk-hold');
    await wait(async () => (await hold.count()) === 1 && (await talkState(tile)) === 'idle', { what: 'talk on the tile' });
    await hold.scrollIntoViewIfNeeded();
    const box = await hold.boundingBox();
    const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const cdp = await page.context().newCDPSession(page);
    const speaker = speakerFrom();
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
    await waitTalkState(tile, 'on-air');
    await waitTone(speaker);
    assert.match(page.url(), /#\/live$/, 'holding does not open the doorbell page');
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await waitTalkState(tile, 'idle');
    assert.match(page.url(), /#\/live$/, 'lifting the finger does not open the doorbell page');
  }, { context: phone });
});
