// Browser end-to-end test of quick replies (www/js/quick-replies.js):
// Debian's Chromium on the real hub and a simulated doorbell with an ALSA
// file speaker. The doorbell page lists the stock replies; clicking one plays
// it on the doorbell (sound in speaker.raw); an upload through the file
// input adds a reply; the auto-reply rule saved in the page reaches the API;
// a ring shows the toast's reply buttons, and one of them plays. A reply
// recorded in the page (Chromium's fake microphone plays a tone) goes
// through the talk capture path, is uploaded as a 48 kHz WAV and plays on
// the doorbell at its frequency. The live grid's tiles and the recent rings
// of the recordings page offer the reply menu to users with the talk right
// only.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, Client, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, loggedInContext, watchErrors, withPage } from '../lib/browser.mjs';
import { samplesOf, toneWindows, dominantFrequency, toneWav, WINDOW } from '../lib/tone.mjs';

const data = tempDir('doorstep-e2e-replies-');
let hub, admin, device, doorbell, browser, speaker, viewer, toneReply;
const PASSWORD = 'correct horse battery staple';
const MIC_HZ = 700;      // what the fake microphone plays
const REPLY_HZ = 600;    // the "Tone" reply uploaded through the API

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 400, audio: {} });
  speaker = join(doorbell.dir, 'speaker.raw');
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'online' });
  // The fake microphone plays a 700 Hz tone (looped).
  const micWav = join(data.dir, 'mic-700hz.wav');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${MIC_HZ}:sample_rate=48000:duration=20`,
    '-af', 'volume=0.5', '-ac', '1', '-c:a', 'pcm_s16le', micWav]);
  browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${micWav}`]);
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'guest', password: PASSWORD, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201, created.body.toString());
  viewer = { id: created.json.id };
});

// The "Tone" reply (600 Hz, 3 s), uploaded through the API on first use.
async function ensureToneReply() {
  if (toneReply) return toneReply;
  const uploaded = await admin.api('POST', '/api/v1/replies?name=Tone', { body: toneWav(3, { rate: 16000, frequency: REPLY_HZ, amplitude: 9000 }), headers: { 'Content-Type': 'audio/wav' } });
  assert.equal(uploaded.status, 201, uploaded.body.toString());
  toneReply = uploaded.json;
  return toneReply;
}

after(() => stopAll(browser, doorbell, hub, data));

const size = () => (existsSync(speaker) ? statSync(speaker).size : 0);

// 10 ms windows louder than RMS 300 in speaker.raw since byte `from`.
function loudWindows(from) {
  const bytes = readFileSync(speaker).subarray(from - (from % 2));
  let loud = 0;
  for (let at = 0; at + 960 <= bytes.length; at += 960) {
    let sum = 0;
    for (let i = 0; i < 960; i += 2) { const v = bytes.readInt16LE(at + i); sum += v * v; }
    if (Math.sqrt(sum / 480) > 300) loud++;
  }
  return loud;
}

test('play, upload and auto-reply from the doorbell page; play from the ring toast', async () => {
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    const panel = page.getByTestId('quick-replies');
    await panel.getByText("We'll be right there").waitFor();
    assert.equal(await panel.getByTestId('quick-reply-play').count(), 3);

    let from = size();
    await panel.getByText('Please leave the package at the door').click();
    await page.getByText('Playing “Please leave the package at the door”').waitFor();
    await waitFor(() => loudWindows(from) >= 50, { what: 'the reply on the doorbell speaker' });

    const wav = join(data.dir, 'beep.wav');
    const rate = 16000, count = rate;
    const buffer = Buffer.alloc(44 + count * 2);
    buffer.write('RIFF', 0); buffer.writeUInt32LE(36 + count * 2, 4); buffer.write('WAVEfmt ', 8);
    buffer.writeUInt32LE(16, 16); buffer.writeUInt16LE(1, 20); buffer.writeUInt16LE(1, 22);
    buffer.writeUInt32LE(rate, 24); buffer.writeUInt32LE(rate * 2, 28); buffer.writeUInt16LE(2, 32);
    buffer.writeUInt16LE(16, 34); buffer.write('data', 36); buffer.writeUInt32LE(count * 2, 40);
    for (let i = 0; i < count; i++) buffer.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * 800 * i) / rate)), 44 + 2 * i);
    writeFileSync(wav, buffer);
    await page.getByTestId('quick-reply-name').fill('Beep');
    await page.getByTestId('quick-reply-file').setInputFiles(wav);
    await page.getByTestId('quick-reply-upload').click();
    await page.getByText('Added “Beep”').waitFor();
    await panel.getByText('Beep').waitFor();
    const beep = (await admin.api('GET', '/api/v1/replies')).json.replies.find((r) => r.name === 'Beep');
    assert.ok(beep && Math.abs(beep.duration_ms - 1000) <= 40);

    await page.getByTestId('auto-reply-away').selectOption(String(beep.id));
    await page.getByTestId('auto-reply-away-delay').fill('15');
    await page.getByTestId('auto-reply-away-save').click();
    await page.getByText('Auto-reply for Away saved').waitFor();
    assert.deepEqual((await admin.api('GET', `/api/v1/devices/${device.id}/auto-reply`)).json.away, { reply_id: beep.id, delay_s: 15 });

    const pressed = size();
    assert.equal(await doorbell.control('press'), 'ok');
    // The ding-dong first: wait until it has played and the speaker is quiet again.
    await waitFor(() => size() - pressed > 96000 * 1.2 && loudWindows(size() - 9600) === 0, { what: 'the chime to end' });
    const toastReplies = page.getByTestId('ring-toast-replies');
    await toastReplies.getByText('Beep').waitFor();
    from = size();
    await toastReplies.getByText('Beep').click();
    await page.getByText('Playing “Beep”').waitFor();
    await waitFor(() => loudWindows(from) >= 60, { what: 'the reply from the toast on the speaker' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

// The speaker's samples written after byte `from`.
function speakerSince(from) {
  if (!existsSync(speaker)) return new Int16Array(0);
  return samplesOf(readFileSync(speaker).subarray(from - (from % 2)));
}

// Wait until the speaker played `windows` 20 ms windows of frequency since
// byte `from`; returns the samples; checks the dominant frequency there.
async function waitToneSince(from, frequency, what, windows = 20) {
  let found = 0;
  let samples;
  try {
    samples = await waitFor(() => {
      const s = speakerSince(from);
      found = toneWindows(s, frequency).length;
      return found >= windows ? s : null;
    }, { timeout: patience(30000), interval: 100, what });
  } catch (error) {
    throw new Error(`${error.message}; found ${found} windows of ${frequency} Hz`);
  }
  const first = toneWindows(samples, frequency)[0] * WINDOW;
  const heard = dominantFrequency(samples, first, Math.min(samples.length - first, 10 * WINDOW));
  assert.ok(Math.abs(heard - frequency) <= 25, `${what}: ${heard} Hz, not ${frequency} Hz`);
  return samples;
}

test('a reply recorded in the browser (talk capture path, 48 kHz WAV) is uploaded, listed and played on the doorbell', { timeout: patience(120000) }, async () => {
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    // Keep the bodies the page uploads as replies (to read the WAV header).
    await page.addInitScript(() => {
      const original = window.fetch;
      window.testUploads = [];
      window.fetch = function fetchKeepingUploads(input, init) {
        if (init && init.method === 'POST' && String(input).startsWith('/api/v1/replies') && init.body instanceof Blob) window.testUploads.push(init.body);
        return original.call(this, input, init);
      };
    });
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    const panel = page.getByTestId('quick-replies');
    await panel.getByText("We'll be right there").waitFor({ timeout: patience(15000) });
    await page.getByTestId('quick-reply-name').fill('Mine');
    const record = page.getByTestId('quick-reply-record');
    await record.click();
    await waitFor(async () => (await record.getAttribute('data-state')) === 'recording' && Number(await record.getAttribute('data-recorded-ms')) >= 2000,
      { timeout: patience(20000), what: '2 s recorded' });
    await record.click();
    await page.getByText('Added “Mine”').waitFor({ timeout: patience(20000) });
    await panel.getByText('Mine').waitFor();
    assert.equal(await record.getAttribute('data-state'), 'idle');

    // What went up: a mono 16-bit WAV at 48 kHz (not a MediaRecorder file).
    const uploads = await page.evaluate(() => Promise.all(window.testUploads.map(async (blob) => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    })));
    assert.equal(uploads.length, 1, 'one recording uploaded');
    const uploadBody = Buffer.from(uploads[0], 'base64');
    assert.equal(uploadBody.toString('latin1', 0, 4), 'RIFF');
    assert.equal(uploadBody.readUInt16LE(22), 1, 'mono');
    assert.equal(uploadBody.readUInt32LE(24), 48000, 'recorded at 48 kHz');
    assert.equal(uploadBody.readUInt16LE(34), 16);
    const recorded = samplesOf(uploadBody.subarray(44));
    assert.ok(toneWindows(recorded, MIC_HZ).length >= 50, 'the upload holds the microphone\'s tone');
    const mine = (await admin.api('GET', '/api/v1/replies')).json.replies.find((r) => r.name === 'Mine');
    assert.ok(mine && mine.duration_ms >= 1900 && mine.duration_ms <= 30000, `duration ${mine && mine.duration_ms} ms`);

    // Played on the doorbell: its speaker holds the tone.
    const from = size();
    await panel.locator(`[data-testid="quick-reply-play"][data-reply-id="${mine.id}"]`).click();
    await page.getByText('Playing “Mine”').waitFor();
    await waitToneSince(from, MIC_HZ, 'the recorded reply on the doorbell speaker');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('a recording too large for 1 MB at 48 kHz (over 10.9 s) is uploaded at 32 kHz and accepted', { timeout: patience(120000) }, async () => {
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.addInitScript(() => {
      const original = window.fetch;
      window.testUploadHeaders = [];
      window.fetch = function fetchKeepingUploads(input, init) {
        if (init && init.method === 'POST' && String(input).startsWith('/api/v1/replies') && init.body instanceof Blob) {
          init.body.slice(0, 44).arrayBuffer().then((head) => window.testUploadHeaders.push({ size: init.body.size, rate: new DataView(head).getUint32(24, true) }));
        }
        return original.call(this, input, init);
      };
    });
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    const panel = page.getByTestId('quick-replies');
    await panel.getByText("We'll be right there").waitFor({ timeout: patience(15000) });
    await page.getByTestId('quick-reply-name').fill('Long');
    const record = page.getByTestId('quick-reply-record');
    await record.click();
    await waitFor(async () => Number(await record.getAttribute('data-recorded-ms')) >= 12000,
      { timeout: patience(40000), what: '12 s recorded' });
    await record.click();
    await page.getByText('Added “Long”').waitFor({ timeout: patience(20000) });
    const [head] = await page.evaluate(() => window.testUploadHeaders);
    assert.equal(head.rate, 32000);
    assert.ok(head.size <= 1048576, `uploaded ${head.size} bytes`);
    const long = (await admin.api('GET', '/api/v1/replies')).json.replies.find((r) => r.name === 'Long');
    assert.ok(long && long.duration_ms >= 11900, `duration ${long && long.duration_ms} ms`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('the live grid tile has a reply menu for users with the talk right only; it plays without leaving the grid', { timeout: patience(120000) }, async () => {
  await ensureToneReply();
  const guest = new Client(hub.url);
  assert.equal((await guest.login('guest', PASSWORD)).status, 200);
  const tileOf = (page) => page.locator(`[data-testid="live-tile"][data-device-id="${device.id}"]`);

  await withPage({ browser, hub, client: admin }, '/live', async ({ page, errors }) => {
    const tile = tileOf(page);
    const menu = tile.getByTestId('quick-reply-menu');
    await menu.waitFor({ timeout: patience(15000) });
    await menu.getByTestId('quick-reply-menu-open').click();
    const play = menu.locator(`[data-testid="quick-reply-play"][data-reply-id="${toneReply.id}"]`);
    await play.waitFor();
    const from = size();
    await play.click();
    await page.getByText('Playing “Tone”').waitFor();
    await waitToneSince(from, REPLY_HZ, 'the reply from the live grid on the doorbell speaker');
    assert.match(page.url(), /#\/live$/, 'the click stayed on the grid');
    assert.deepEqual(errors, []);
  });

  await withPage({ browser, hub, client: guest }, '/live', async ({ page }) => {
    const tile = tileOf(page);
    await waitFor(async () => (await tile.locator('.live-tile-name').textContent()) === 'Front door', { timeout: patience(15000), what: 'the tile drawn' });
    assert.equal(await tile.getByTestId('quick-reply-menu').count(), 0, 'no reply menu without the talk right');
    assert.equal(await tile.getByTestId('talk-hold').count(), 0);
    // Granted: the menu comes with the talk controls (the grid polls every 5 s).
    const granted = await admin.api('PATCH', `/api/v1/users/${viewer.id}`, { json: { talk_devices: [device.id] } });
    assert.equal(granted.status, 200);
    await tile.getByTestId('quick-reply-menu').waitFor({ timeout: patience(20000) });
    assert.equal(await tile.getByTestId('talk-hold').count(), 1);
  });
  const revoked = await admin.api('PATCH', `/api/v1/users/${viewer.id}`, { json: { talk_devices: [] } });
  assert.equal(revoked.status, 200);
});

test('a recent ring in the event list offers the reply menu (talk right only); an old ring does not', { timeout: patience(180000) }, async () => {
  await ensureToneReply();
  const guest = new Client(hub.url);
  assert.equal((await guest.login('guest', PASSWORD)).status, 200);
  const before = Date.now() - 1000;
  assert.equal(await doorbell.control('ring'), 'ok');
  await waitFor(async () => {
    const events = (await admin.api('GET', `/api/v1/devices/${device.id}/events?from=${before}&to=${Date.now() + 60000}`)).json;
    return events && events.events.some((e) => e.event_type === 'ring');
  }, { timeout: patience(20000), what: 'the ring event' });
  const ringRow = (page) => page.locator('[data-testid="event-item"][data-event-type="ring"]').first();

  await withPage({ browser, hub, client: admin }, `/devices/${device.id}/recordings`, async ({ page, errors }) => {
    const row = ringRow(page);
    await row.getByTestId('event-reply').waitFor({ timeout: patience(20000) });
    await row.getByTestId('quick-reply-menu-open').click();
    const play = row.locator(`[data-testid="quick-reply-play"][data-reply-id="${toneReply.id}"]`);
    await play.waitFor();
    const from = size();
    await play.click();
    await page.getByText('Playing “Tone”').waitFor();
    await waitToneSince(from, REPLY_HZ, 'the reply from the event list on the doorbell speaker');
    assert.deepEqual(errors.filter((text) => !/status of 40[34]|net::ERR_/.test(text)), []);
  });

  // A viewer without the talk right: the ring, but no menu.
  await withPage({ browser, hub, client: guest }, `/devices/${device.id}/recordings`, async ({ page }) => {
    const row = ringRow(page);
    await row.waitFor({ timeout: patience(20000) });
    await page.getByTestId('recordings-device').getByText('Front door').waitFor();
    assert.equal(await row.getByTestId('event-reply').count(), 0);
  });

  // The same ring seen 11 minutes later (every answer's Date 11 min ahead:
  // the page's hub clock follows): too old to answer, no menu.
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    // Only the JSON answers (not the playback stream, pictures or exports).
    await page.route((url) => /^\/(api|auth)\//.test(url.pathname) && !/\/(playback|export|snapshot|thumbnail|clip)/.test(url.pathname), async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), date: new Date(Date.now() + 11 * 60000).toUTCString() } });
    });
    await page.goto(`${hub.url}/#/devices/${device.id}/recordings`);
    const row = ringRow(page);
    await row.waitFor({ timeout: patience(20000) });
    await waitFor(async () => (await page.evaluate(async () => (await import('/js/api.js')).serverNow() - Date.now())) > 10 * 60000,
      { timeout: patience(20000), what: 'the page clock 11 min ahead' });
    // Rows are drawn again on the next refresh (every 10 s) with the new clock.
    await waitFor(async () => (await row.getByTestId('event-reply').count()) === 0, { timeout: patience(30000), what: 'no reply menu on the old ring' });
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  } finally {
    await context.close();
  }
});
