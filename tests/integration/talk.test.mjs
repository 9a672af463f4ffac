// Talk-back through the hub (the talk WebSocket, docs/api.md "Talk"): a
// real hub and a real doorbell whose speaker is an ALSA file device.
//  - the talk right: a viewer without it is refused (403), talk_devices
//    must be a subset of devices (400), the grant shows in the user, in
//    /api/v1/me and in the doorbell's can_talk;
//  - Opus packets of a 1 kHz tone (libopus through ffmpeg) and PCM of a
//    600 Hz tone (encoded by the hub) come out of the doorbell's speaker at
//    the frequency sent;
//  - one talker per doorbell: the second gets busy, an admin takes over
//    and the first gets taken_over; each session is audited;
//  - logout and a withdrawn talk right close the talk socket with 1008,
//    and the talker's floor is free at once;
//  - malformed, oversized, out-of-order, duplicate and wrong-codec packets
//    are dropped with a logged reason while talk and the live view go on;
//  - a silent talker that does not even read its socket never stalls the
//    link: the live view keeps receiving video.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Client, Doorbell, tempDir, waitFor, sleep } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import {
  TalkClient, talkPacket, opusTonePackets, pcmTone, dominantFrequency, samplesOf, loudPart,
  CODEC_OPUS, CODEC_PCM16,
} from '../lib/talk-client.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-talk-');
let hub;
let admin;
let device;
let doorbell;
let viewerId;
let serial = 0;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  const created = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } })).json;
  device = { id: created.device.id, secret: created.secret };
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, audio: { frequency: 300, amplitude: 2000 } });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online,
    { what: 'the doorbell online' });
});

// Every talk socket a test opened is closed after it, pass or fail, so a
// failing test never leaves the floor taken for the next one.
const opened = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((talk) => (talk.code === null && talk.refusedStatus === null ? talk.close() : null)));
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// A new viewer of the doorbell (talk: with the talk right), logged in.
async function newViewer(talk) {
  const username = `viewer${++serial}`;
  const created = await admin.api('POST', '/api/v1/users',
    { json: { username, password: PASSWORD, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201);
  if (talk) {
    const granted = await admin.api('PATCH', `/api/v1/users/${created.json.id}`, { json: { talk_devices: [device.id] } });
    assert.equal(granted.status, 200);
  }
  const client = new Client(hub.url);
  assert.equal((await client.login(username, PASSWORD)).status, 200);
  return { client, id: created.json.id, username };
}

// A talk socket, open, with its first state.
async function openTalk(client) {
  const talk = new TalkClient(client, device.id);
  opened.push(talk);
  await talk.opened;
  await talk.waitForState(() => true, 'the first state');
  return talk;
}

// The doorbell's talk figures.
async function talkStats() {
  return (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.talk;
}

const speakerPath = () => join(doorbell.dir, 'speaker.raw');
const speakerSize = () => (existsSync(speakerPath()) ? statSync(speakerPath()).size : 0);

// Send packets paced at their own duration (as a microphone would), each
// with its capture time; returns the sequence after the last.
async function sendPaced(talk, payloads, { codec = CODEC_OPUS, samples = 960, sequence = 1 } = {}) {
  const startMs = Date.now();
  for (let i = 0; i < payloads.length; i++) {
    const dueMs = startMs + (i * samples) / 48;
    if (dueMs > Date.now()) await sleep(dueMs - Date.now());
    talk.sendBinary(talkPacket({ codec, sequence: sequence + i, captureUs: dueMs * 1000, samples, payload: payloads[i] }));
  }
  return sequence + payloads.length;
}

// Wait until the speaker wrote at least `seconds` of loud audio after
// byte offset `from`; returns that audio.
async function heardAfter(from, seconds, what) {
  let loud = new Int16Array(0);
  await waitFor(() => {
    if (speakerSize() <= from) return false;
    loud = loudPart(samplesOf(readFileSync(speakerPath()), from));
    return loud.length >= seconds * 48000;
  }, { what });
  return loud;
}

function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

test('the talk right: refused without it, granted per doorbell, shown in the user, /me and the doorbell', async () => {
  const plain = await newViewer(false);
  const refused = new TalkClient(plain.client, device.id);
  await assert.rejects(refused.opened);
  assert.equal(refused.refusedStatus, 403);
  const anonymous = new TalkClient(new Client(hub.url), device.id);
  await assert.rejects(anonymous.opened);
  assert.equal(anonymous.refusedStatus, 401);
  assert.equal((await plain.client.api('GET', '/api/v1/me')).json.can_talk, false);
  assert.equal((await plain.client.api('GET', `/api/v1/devices/${device.id}`)).json.can_talk, false);

  const outside = await admin.api('PATCH', `/api/v1/users/${plain.id}`, { json: { talk_devices: ['no-such-doorbell'] } });
  assert.equal(outside.status, 400);
  const bad = await admin.api('PATCH', `/api/v1/users/${plain.id}`, { json: { talk_devices: [7] } });
  assert.equal(bad.status, 400);
  // Both lists at once: a talk doorbell outside the new grants changes nothing.
  const mixed = await admin.api('PATCH', `/api/v1/users/${plain.id}`, { json: { devices: [], talk_devices: [device.id] } });
  assert.equal(mixed.status, 400);
  assert.deepEqual((await admin.api('GET', '/api/v1/users')).json.users.find((u) => u.id === plain.id).devices, [device.id]);

  const granted = await admin.api('PATCH', `/api/v1/users/${plain.id}`, { json: { talk_devices: [device.id] } });
  assert.equal(granted.status, 200);
  assert.deepEqual(granted.json.talk_devices, [device.id]);
  assert.deepEqual(granted.json.devices, [device.id]);
  const me = (await plain.client.api('GET', '/api/v1/me')).json;
  assert.equal(me.can_talk, true);
  assert.deepEqual(me.talk_devices, [device.id]);
  assert.equal((await plain.client.api('GET', `/api/v1/devices/${device.id}`)).json.can_talk, true);
  const listed = (await admin.api('GET', '/api/v1/users')).json.users.find((u) => u.id === plain.id);
  assert.deepEqual(listed.talk_devices, [device.id]);
  // Replacing the doorbell grants with the same doorbell keeps the talk right.
  const regranted = await admin.api('PUT', `/api/v1/users/${plain.id}`, { json: { devices: [device.id] } });
  assert.deepEqual(regranted.json.talk_devices, [device.id]);

  const talk = await openTalk(plain.client);
  assert.deepEqual(talk.lastState(), { type: 'state', talker: null, you: false, doorbell_online: true });
  await talk.close();
  assert.match(sql(`SELECT detail FROM audit_log WHERE action = 'talk_grant' AND target = '${plain.username}'`), /Front|\[/);
});

test('Opus packets of a 1 kHz tone come out of the doorbell\'s speaker at 1 kHz', async () => {
  const talk = await openTalk(admin);
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor');
  const before = await talkStats();
  const from = speakerSize();
  await sendPaced(talk, opusTonePackets(1000, 2));
  const loud = await heardAfter(from, 1, 'a second of talk-back on the speaker');
  const { frequency, share } = dominantFrequency(loud);
  console.log(`# Opus talk-back: ${loud.length} loud samples on the speaker, dominant ${frequency} Hz (${(share * 100).toFixed(0)}% of the power)`);
  assert.ok(Math.abs(frequency - 1000) <= 25, `the speaker plays ${frequency} Hz`);
  const after = await talkStats();
  assert.ok(after.packets_forwarded - before.packets_forwarded >= 90, JSON.stringify(after));
  assert.equal(after.dropped_invalid, before.dropped_invalid);
  assert.equal(after.talker.username, 'admin');
  talk.stop();
  await talk.waitForState((state) => state.talker === null, 'the floor free');
  await talk.close();
  await waitFor(() => /^admin talk .*duration_ms=\d+ end=stop$/m.test(
    sql("SELECT username || ' ' || action || ' ' || target || ' ' || detail FROM audit_log WHERE action = 'talk'")),
  { what: 'the audited talk session' });
});

test('PCM of a 600 Hz tone is encoded by the hub and comes out of the speaker at 600 Hz', async () => {
  const viewer = await newViewer(true);
  const talk = await openTalk(viewer.client);
  talk.start('pcm16');
  await talk.waitForState((state) => state.you, 'the floor');
  const from = speakerSize();
  // 10 ms packets (480 samples), as an AudioWorklet might send them.
  const payloads = [];
  for (let i = 0; i < 200; i++) payloads.push(pcmTone(600, i * 480, 480));
  await sendPaced(talk, payloads, { codec: CODEC_PCM16, samples: 480 });
  const loud = await heardAfter(from, 1, 'a second of PCM talk-back on the speaker');
  const { frequency } = dominantFrequency(loud);
  console.log(`# PCM talk-back: dominant ${frequency} Hz on the speaker`);
  assert.ok(Math.abs(frequency - 600) <= 25, `the speaker plays ${frequency} Hz`);
  await talk.close();
});

test('one talker per doorbell: the second is busy, an admin takes over', async () => {
  const viewer = await newViewer(true);
  const first = await openTalk(viewer.client);
  const second = await openTalk(admin);
  first.start('opus');
  await first.waitForState((state) => state.you, 'the viewer holds the floor');
  await second.waitForState((state) => state.talker && state.talker.username === viewer.username && !state.you,
    'the admin sees who talks');

  second.start('opus', false);
  const busy = await second.waitFor((t) => t.type === 'error' && t.code === 'busy', 'busy');
  assert.equal(typeof busy.message, 'string');

  // A viewer cannot take over.
  const other = await newViewer(true);
  const third = await openTalk(other.client);
  third.start('opus', true);
  await third.waitFor((t) => t.type === 'error' && t.code === 'busy', 'busy for a viewer\'s takeover');

  second.start('opus', true);
  await first.waitFor((t) => t.type === 'error' && t.code === 'taken_over', 'taken_over');
  await first.waitForState((state) => !state.you && state.talker.username === 'admin', 'the viewer lost the floor');
  await second.waitForState((state) => state.you, 'the admin holds the floor');
  // The one taken over cannot send any more.
  const stats = await talkStats();
  first.sendBinary(talkPacket({ sequence: 1, captureUs: Date.now() * 1000, payload: opusTonePackets(1000, 0.1)[0] }));
  await waitFor(async () => (await talkStats()).dropped_invalid > stats.dropped_invalid, { what: 'the packet dropped' });
  await waitFor(() => hub.log.some((line) => /does not hold the floor/.test(line)), { what: 'the reason logged' });
  await Promise.all([first.close(), second.close(), third.close()]);
  await waitFor(() => /end=taken_over/.test(sql(`SELECT detail FROM audit_log WHERE action = 'talk' AND username = '${viewer.username}'`)),
    { what: 'the session taken over, audited' });
});

test('logout closes the talk socket with 1008 and frees the floor', async () => {
  const viewer = await newViewer(true);
  const talk = await openTalk(viewer.client);
  const watcher = await openTalk(admin);
  talk.start('opus');
  await watcher.waitForState((state) => state.talker && state.talker.username === viewer.username, 'the viewer talks');
  assert.equal((await viewer.client.api('POST', '/auth/logout')).status, 204);
  await waitFor(() => talk.code !== null, { what: 'the talk socket closed after logout' });
  assert.equal(talk.code, 1008);
  await watcher.waitForState((state) => state.talker === null, 'the floor free after logout');
  await watcher.close();
});

test('withdrawing the talk right closes the talk socket with 1008; the live view stays', async () => {
  const viewer = await newViewer(true);
  const live = new LiveViewer(viewer.client, device.id);
  await live.opened;
  let liveCode = null;
  live.socket.once('close', (code) => { liveCode = code; });
  const talk = await openTalk(viewer.client);
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor');
  const withdrawn = await admin.api('PATCH', `/api/v1/users/${viewer.id}`, { json: { talk_devices: [] } });
  assert.equal(withdrawn.status, 200);
  assert.deepEqual(withdrawn.json.talk_devices, []);
  await waitFor(() => talk.code !== null, { what: 'the talk socket closed after the withdrawal' });
  assert.equal(talk.code, 1008);
  const frames = live.videoFrames().length;
  await waitFor(() => live.videoFrames().length > frames + 5, { what: 'live video after the withdrawal' });
  assert.equal(liveCode, null);
  await live.close();
  await waitFor(() => /end=revoked/.test(sql(`SELECT detail FROM audit_log WHERE action = 'talk' AND username = '${viewer.username}'`)),
    { what: 'the revoked session, audited' });
});

test('bad packets are dropped with a logged reason; talk and the live view go on', async () => {
  const live = new LiveViewer(admin, device.id);
  await live.opened;
  await waitFor(() => live.videoFrames().length > 0, { what: 'live video' });
  const talk = await openTalk(admin);
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor');
  const tone = opusTonePackets(1000, 1);
  const now = () => Date.now() * 1000;
  let sequence = await sendPaced(talk, tone.slice(0, 5), { sequence: 65530 }); // wraps past 65535
  const before = await talkStats();
  const bad = [
    [Buffer.from([1, 1, 0]), 'shorter than the 16-byte header'],
    [talkPacket({ sequence, captureUs: now(), payload: Buffer.alloc(6000) }), 'oversized'],
    [talkPacket({ sequence, captureUs: now(), payload: Buffer.alloc(1300) }), 'Opus payload not 1..1275 bytes'],
    [talkPacket({ sequence, captureUs: now(), payload: tone[5], version: 2 }), 'unknown version'],
    [talkPacket({ sequence, captureUs: now(), payload: tone[5], samples: 0 }), 'sample count not 1..2880'],
    [talkPacket({ sequence, captureUs: now(), payload: tone[5], reserved: 1 }), 'reserved bytes not zero'],
    [talkPacket({ sequence, captureUs: now(), codec: CODEC_PCM16, samples: 960, payload: Buffer.alloc(1920) }), 'of a codec other than the one started'],
    [talkPacket({ sequence: sequence - 1, captureUs: now(), payload: tone[5] }), 'a duplicate'],
    [talkPacket({ sequence: sequence - 3, captureUs: now(), payload: tone[5] }), 'out of order'],
    [talkPacket({ sequence: sequence + 2000, captureUs: now(), payload: tone[5] }), 'out of order'],
  ];
  for (const [packet] of bad) talk.sendBinary(packet);
  talk.send({ type: 'dance' });
  await talk.waitFor((t) => t.type === 'error' && t.code === 'bad_request', 'bad_request for an unknown type');
  await waitFor(async () => (await talkStats()).dropped_invalid - before.dropped_invalid === bad.length,
    { what: `${bad.length} packets dropped` });
  for (const [, reason] of bad) {
    assert.ok(hub.log.some((line) => line.includes('dropped a packet') && line.includes(reason)), `logged: ${reason}`);
  }
  // The socket is open, the floor still ours, and good packets still go.
  sequence = await sendPaced(talk, tone.slice(5, 30), { sequence });
  await waitFor(async () => (await talkStats()).packets_forwarded >= before.packets_forwarded + 25,
    { what: 'good packets forwarded after the bad ones' });
  assert.equal(talk.code, null);
  const frames = live.videoFrames().length;
  await waitFor(() => live.videoFrames().length > frames + 5, { what: 'live video after the bad packets' });
  await talk.close();
  await live.close();
});

test('a silent talker that does not read its socket never stalls the link', async () => {
  const live = new LiveViewer(admin, device.id);
  await live.opened;
  const talk = await openTalk(admin);
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor');
  talk.socket.pause();
  const frames = live.videoFrames().length;
  // Two seconds of video at 10 fps while the talker holds the floor silently.
  await waitFor(() => live.videoFrames().length >= frames + 20, { what: 'live video while a silent talker holds the floor' });
  const device1 = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
  assert.equal(device1.online, true);
  assert.equal(device1.talk.talker.username, 'admin');
  talk.socket.resume();
  await talk.close();
  await live.close();
});

test('more than 500 ms of audio at once, to a doorbell that stopped reading its link: the oldest packets are dropped, the talker\'s socket stays responsive', async () => {
  const talk = await openTalk(admin);
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor');
  const before = await talkStats();
  const tone = opusTonePackets(1000, 1);
  // The doorbell stops reading its link: once the socket buffers are full,
  // the queue's sender waits on the link and the queue overflows.
  process.kill(doorbell.proc.child.pid, 'SIGSTOP');
  try {
    let sequence = 1;
    const startUs = Date.now() * 1000;
    let sent = 0;
    await waitFor(async () => {
      for (let i = 0; i < 2000; i++, sequence++, sent++) {
        talk.sendBinary(talkPacket({ sequence, captureUs: startUs + sent * 20000, payload: tone[sent % tone.length] }));
      }
      return (await talkStats()).dropped_queue_full > before.dropped_queue_full;
    }, { what: 'the talk queue overflowing while the link is stalled' });
    // The connection thread is not held up by the link: a request is answered.
    talk.stop();
    await talk.waitForState((state) => state.talker === null, 'the floor given back while the link is stalled');
    const stats = await talkStats();
    console.log(`# stalled link: ${sent} packets sent, ${stats.packets_forwarded - before.packets_forwarded} forwarded, ${stats.dropped_queue_full - before.dropped_queue_full} dropped (queue full)`);
    assert.ok(hub.log.some((line) => /the link is behind, dropped the oldest/.test(line)));
  } finally {
    process.kill(doorbell.proc.child.pid, 'SIGCONT');
  }
  await talk.close();
  // The doorbell catches up and its video flows again.
  const live = new LiveViewer(admin, device.id);
  await live.opened;
  await waitFor(() => live.videoFrames().length > 5, { what: 'live video after the link recovered' });
  await live.close();
});

test('the state follows the doorbell\'s link; start while it is offline answers offline', async () => {
  const talk = await openTalk(admin);
  assert.equal(talk.lastState().doorbell_online, true);
  await doorbell.stop();
  doorbell = null;
  await talk.waitForState((state) => state.doorbell_online === false, 'doorbell_online false after the doorbell stopped');
  talk.start('opus');
  await talk.waitFor((t) => t.type === 'error' && t.code === 'offline', 'offline for a start');
  assert.equal(talk.lastState().talker, null);
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, audio: { frequency: 300, amplitude: 2000 } });
  await talk.waitForState((state) => state.doorbell_online === true, 'doorbell_online true after it reconnected');
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor once the doorbell is back');
});
