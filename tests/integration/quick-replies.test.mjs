// Quick replies: the stock replies (espeak-ng at build time) and uploads
// play on the real doorbell's speaker (an ALSA file device), with the sound
// of what was stored; uploads that are not audio, too long or too large are
// refused; auto-reply plays after N s of a ring when nobody opens live view
// and not when someone does; and the doorbell plays a cached reply by
// itself while the hub is stopped.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, BUILD, tempDir, waitFor, sleep } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { patience } from '../lib/patience.mjs';
import { toneWav } from '../lib/tone.mjs';

const RATE = 48000;
const WINDOW = 480; // 10 ms
const data = tempDir('doorstep-replies-');
let hub, admin, device, doorbell, speakerPath;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, audio: {}, extra: ['--state-dir', join(data.dir, 'doorbell-state')] });
  speakerPath = join(doorbell.dir, 'speaker.raw');
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'online' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// Mono s16le samples of the speaker file from byte offset `from`.
function speakerSamples(from) {
  const bytes = readFileSync(speakerPath);
  const start = Math.min(from - (from % 2), bytes.length);
  const samples = new Int16Array(Math.floor((bytes.length - start) / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(start + 2 * i);
  return samples;
}

function speakerSize() {
  return existsSync(speakerPath) ? statSync(speakerPath).size : 0;
}

// RMS of each 10 ms window.
function envelope(samples) {
  const out = [];
  for (let at = 0; at + WINDOW <= samples.length; at += WINDOW) {
    let sum = 0;
    for (let i = at; i < at + WINDOW; i++) sum += samples[i] * samples[i];
    out.push(Math.sqrt(sum / WINDOW));
  }
  return out;
}

// Windows (10 ms) louder than `level`.
const loudWindows = (samples, level = 300) => envelope(samples).filter((rms) => rms > level).length;

// The best normalised cross-correlation of the reference envelope over the
// speaker's, at any lag: 1 is the same shape of loudness in time.
function bestCorrelation(reference, heard) {
  const normalise = (values) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const centred = values.map((v) => v - mean);
    const norm = Math.sqrt(centred.reduce((a, b) => a + b * b, 0)) || 1;
    return centred.map((v) => v / norm);
  };
  const ref = normalise(reference);
  let best = -1;
  for (let lag = 0; lag + ref.length <= heard.length; lag++) {
    const slice = normalise(heard.slice(lag, lag + ref.length));
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += ref[i] * slice[i];
    if (sum > best) best = sum;
  }
  return best;
}

// Power at `frequency` (Goertzel) relative to the total power of samples.
function toneShare(samples, frequency) {
  const k = (2 * Math.PI * frequency) / RATE;
  let s1 = 0, s2 = 0, total = 0;
  for (const x of samples) {
    const s0 = x + 2 * Math.cos(k) * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += x * x;
  }
  const power = s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2;
  return total > 0 ? (2 * power) / (samples.length * total) : 0;
}

// A file decoded by ffmpeg to mono 48 kHz s16le samples.
function decodeWithFfmpeg(file) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(RATE), '-'], { maxBuffer: 1 << 28 });
  return new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
}

const upload = (name, body, type = 'audio/wav') =>
  admin.api('POST', `/api/v1/replies?name=${encodeURIComponent(name)}`, { body, headers: { 'Content-Type': type } });

async function replies() {
  const response = await admin.api('GET', '/api/v1/replies');
  assert.equal(response.status, 200);
  return response.json.replies;
}

// Wait until the speaker has had `windows` loud 10 ms windows since byte `from`.
async function waitForSound(from, windows, what) {
  await waitFor(() => loudWindows(speakerSamples(from)) >= windows, { timeout: patience(20000), what });
}

test('the stock replies are there, spoken and encoded', async () => {
  const list = await replies();
  const names = list.filter((r) => r.stock).map((r) => r.name);
  assert.deepEqual(names, ["We'll be right there", 'Please leave the package at the door', 'No soliciting, thank you']);
  for (const reply of list) {
    assert.ok(reply.duration_ms >= 800 && reply.duration_ms <= 5000, `${reply.name}: ${reply.duration_ms} ms`);
    assert.equal(reply.created_by, null);
    assert.ok(existsSync(join(hub.dataDir, 'replies', `${reply.id}.reply`)));
  }
});

test('a stock reply plays on the doorbell with the sound of the spoken words', async () => {
  const reply = (await replies()).find((r) => r.name === 'Please leave the package at the door');
  const from = speakerSize();
  const response = await admin.api('POST', `/api/v1/devices/${device.id}/replies/${reply.id}/play`);
  assert.equal(response.status, 202, response.body.toString());
  const reference = decodeWithFfmpeg(join(BUILD, 'replies', 'leave-package.wav'));
  const referenceLoud = loudWindows(reference);
  // The whole reply has been played once as much sound has come out.
  await waitForSound(from, Math.floor(referenceLoud * 0.9), 'the reply on the speaker');
  await waitFor(() => speakerSamples(from).length > reference.length + RATE / 2, { what: 'the rest of the reply' });
  const heard = speakerSamples(from);
  const correlation = bestCorrelation(envelope(reference), envelope(heard));
  assert.ok(correlation > 0.85, `loudness envelope correlation ${correlation.toFixed(3)}`);
  const audit = execFileSync('sqlite3', [join(hub.dataDir, 'doorstep.db'), "SELECT action || ' ' || target || ' ' || detail FROM audit_log WHERE action = 'quick_reply'"]).toString();
  assert.match(audit, new RegExp(`quick_reply ${device.id} Please leave the package at the door`));
});

test('an uploaded WAV is re-encoded and plays at its own pitch', async () => {
  const response = await upload('Tone', toneWav(1.5, { rate: 44100, frequency: 1000 }));
  assert.equal(response.status, 201, response.body.toString());
  assert.equal(response.json.stock, false);
  assert.ok(Math.abs(response.json.duration_ms - 1500) <= 40, `duration ${response.json.duration_ms}`);
  const from = speakerSize();
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/replies/${response.json.id}/play`)).status, 202);
  await waitForSound(from, 130, 'the tone on the speaker');
  const heard = speakerSamples(from);
  const loud = [];
  for (let at = 0; at + WINDOW <= heard.length; at += WINDOW) {
    const slice = heard.subarray(at, at + WINDOW);
    if (envelope(slice)[0] > 3000) loud.push(...slice);
  }
  const samples = Int16Array.from(loud);
  assert.ok(toneShare(samples, 1000) > 0.8, `1 kHz share ${toneShare(samples, 1000).toFixed(3)}`);
  assert.ok(toneShare(samples, 1500) < 0.05);
});

test('an Ogg Opus upload is accepted; what is not audio, too long, too large or of another type is refused', async () => {
  const ogg = join(data.dir, 'tone.ogg');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=600:duration=2', '-c:a', 'libopus', '-y', ogg]);
  const good = await upload('Ogg tone', readFileSync(ogg), 'audio/ogg');
  assert.equal(good.status, 201, good.body.toString());
  assert.ok(Math.abs(good.json.duration_ms - 2000) <= 60, `duration ${good.json.duration_ms}`);

  const text = await upload('Text', Buffer.from('this is not a sound file at all, just words\n'.repeat(20)));
  assert.equal(text.status, 400);
  assert.equal(text.json.error, 'not_audio');
  assert.match(text.json.message, /not a WAV or Ogg Opus file/);

  const fakeWav = Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk'), Buffer.alloc(200, 7)]);
  const broken = await upload('Broken', fakeWav);
  assert.equal(broken.status, 400);
  assert.equal(broken.json.error, 'not_audio');

  const long = await upload('Long', toneWav(31, { rate: 8000 }));
  assert.equal(long.status, 400);
  assert.equal(long.json.error, 'too_long');
  assert.match(long.json.message, /longer than 30 seconds/);

  const large = await upload('Large', Buffer.concat([toneWav(11, { rate: 48000 }), Buffer.alloc(100)]));
  assert.equal(large.status, 413);

  const type = await upload('Type', toneWav(1), 'text/plain');
  assert.equal(type.status, 415);

  const names = (await replies()).map((r) => r.name);
  for (const refused of ['Text', 'Broken', 'Long', 'Large', 'Type']) assert.ok(!names.includes(refused));
});

test('rename and delete are for admins; play needs the talk right on the doorbell', async () => {
  const reply = (await replies()).find((r) => r.name === 'Tone');
  const renamed = await admin.api('PATCH', `/api/v1/replies/${reply.id}`, { json: { name: 'Beep' } });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.json.name, 'Beep');
  assert.equal((await admin.api('PATCH', `/api/v1/replies/${reply.id}`, { json: { name: '' } })).status, 400);

  assert.equal((await admin.api('POST', '/api/v1/users', { json: { username: 'viewer', password: 'viewer password 123', role: 'viewer' } })).status, 201);
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('viewer', 'viewer password 123')).status, 200);
  assert.equal((await viewer.api('DELETE', `/api/v1/replies/${reply.id}`)).status, 403);
  assert.equal((await viewer.api('PATCH', `/api/v1/replies/${reply.id}`, { json: { name: 'X' } })).status, 403);
  assert.equal((await viewer.api('POST', `/api/v1/devices/${device.id}/replies/${reply.id}/play`)).status, 404);
  // Seeing the doorbell is not enough: a reply speaks through it, as talk-back does.
  const viewerId = (await viewer.api('GET', '/api/v1/me')).json.id;
  assert.equal((await admin.api('PATCH', `/api/v1/users/${viewerId}`, { json: { devices: [device.id] } })).status, 200);
  const refused = await viewer.api('POST', `/api/v1/devices/${device.id}/replies/${reply.id}/play`);
  assert.equal(refused.status, 403, JSON.stringify(refused.json));
  assert.equal((await admin.api('PATCH', `/api/v1/users/${viewerId}`, { json: { talk_devices: [device.id] } })).status, 200);
  assert.equal((await viewer.api('POST', `/api/v1/devices/${device.id}/replies/${reply.id}/play`)).status, 202);

  assert.equal((await admin.api('DELETE', `/api/v1/replies/${reply.id}`)).status, 204);
  assert.ok(!existsSync(join(hub.dataDir, 'replies', `${reply.id}.reply`)));
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/replies/${reply.id}/play`)).status, 404);
});

// Ring the doorbell; resolves with the hub's ring event.
async function ring() {
  const before = (await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=500`)).json.pagination.total;
  assert.equal(await doorbell.control('press'), 'ok');
  let event;
  await waitFor(async () => {
    const list = (await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=1`)).json;
    event = list.events[0];
    return list.pagination.total === before + 1 && event.event_type === 'ring';
  }, { what: 'the ring event' });
  return event;
}

const fetchEvent = async (id) => (await admin.api('GET', `/api/v1/devices/${device.id}/events/${id}`)).json;

test('auto-reply plays after N s when nobody opens live view', async () => {
  const reply = (await replies()).find((r) => r.name === "We'll be right there");
  const set = await admin.api('PUT', `/api/v1/devices/${device.id}/auto-reply`, { json: { home: { reply_id: reply.id, delay_s: 2 }, away: null } });
  assert.equal(set.status, 200, set.body.toString());
  assert.deepEqual(set.json.home, { reply_id: reply.id, delay_s: 2 });
  assert.equal(set.json.away, null);
  await waitFor(() => doorbell.log.some((line) => new RegExp(`auto-reply: reply ${reply.id} after 2 s`).test(line)), { what: 'the doorbell has the rule' });

  const event = await ring();
  await waitFor(async () => (await fetchEvent(event.event_id)).auto_reply_id === reply.id, { timeout: patience(20000), what: 'the event records the auto-reply' });
  assert.ok(doorbell.log.some((line) => /nobody answered ring \d+: auto-reply/.test(line)));
});

test('auto-reply does not play when someone opens live view', async () => {
  const reply = (await replies()).find((r) => r.name === "We'll be right there");
  await admin.api('PUT', `/api/v1/devices/${device.id}/auto-reply`, { json: { home: { reply_id: reply.id, delay_s: 4 } } });
  await waitFor(() => doorbell.log.some((line) => /auto-reply: reply \d+ after 4 s/.test(line)), { what: 'the doorbell has the rule' });
  const played = doorbell.log.filter((line) => /nobody answered ring/.test(line)).length;

  const event = await ring();
  const viewer = new LiveViewer(admin, device.id);
  await viewer.opened;
  await waitFor(() => doorbell.log.some((line) => /ring \d+ answered: no auto-reply/.test(line)), { what: 'the doorbell hears the ring was answered' });
  // Past the 4 s deadline (and the margin a loaded machine needs), nothing was played.
  await sleep(patience(6000));
  viewer.socket.close();
  assert.equal(doorbell.log.filter((line) => /nobody answered ring/.test(line)).length, played);
  assert.equal((await fetchEvent(event.event_id)).auto_reply_id, null);
});

test('the doorbell plays its cached auto-reply while the hub is stopped', async () => {
  const reply = (await replies()).find((r) => r.name === 'No soliciting, thank you');
  await admin.api('PUT', `/api/v1/devices/${device.id}/auto-reply`, { json: { home: { reply_id: reply.id, delay_s: 1 } } });
  await waitFor(() => doorbell.log.some((line) => new RegExp(`auto-reply: reply ${reply.id} after 1 s`).test(line)), { what: 'the doorbell has the rule' });
  assert.ok(existsSync(join(data.dir, 'doorbell-state', 'replies', `${reply.id}-${reply.version}.clip`)), 'cached on disk');

  await hub.stop();
  hub = null;
  await waitFor(() => doorbell.log.some((line) => /link to the hub closed|reconnecting to the hub/.test(line)), { what: 'the doorbell notices the hub went' });
  const played = doorbell.log.filter((line) => /nobody answered ring/.test(line)).length;
  const from = speakerSize();
  assert.equal(await doorbell.control('press'), 'ok');
  await waitFor(() => doorbell.log.filter((line) => /nobody answered ring/.test(line)).length === played + 1, { what: 'the auto-reply without the hub' });
  const reference = decodeWithFfmpeg(join(BUILD, 'replies', 'no-soliciting.wav'));
  await waitForSound(from, Math.floor(loudWindows(reference) * 0.9), 'the reply on the speaker');
  await waitFor(() => speakerSamples(from).length > RATE * 1.2 + reference.length + RATE / 2, { what: 'the rest of the reply' });
  const correlation = bestCorrelation(envelope(reference), envelope(speakerSamples(from)));
  assert.ok(correlation > 0.7, `loudness envelope correlation ${correlation.toFixed(3)}`);
});
