// Connection flood: 1,000 TCP connections from 127.0.0.2…127.0.0.9 that send
// nothing, or one byte a second, for 25 s (each one reopened 2 s after the
// hub closes it), from a separate process (tests/lib/flood-client.mjs).
// Meanwhile /livez answers within 1 s every time (stretched by the machine's
// load, tests/lib/patience.mjs; a starved hub answers never), the doorbell's link never
// drops, and its recording over that minute has no missing frame (frame
// stamps decoded from the segment files).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Doorbell, ROOT, waitFor, tempDir, videoFrameStamps, segmentFiles } from '../lib/harness.mjs';
import { slowdown } from '../lib/patience.mjs';

const FLOOD_SECONDS = Number(process.env.FLOOD_TEST_SECONDS || 25);
const FLOOD_CONNECTIONS = 1000;
const LIVEZ_LIMIT_MS = 1000;

const data = tempDir('doorstep-flood-');
let hub, admin, doorbell, device;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '20'] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 15, bitrate: 400 });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

async function deviceState() {
  const response = await admin.api('GET', `/api/v1/devices/${device.id}`);
  assert.equal(response.status, 200);
  return response.json;
}

// The flood, in its own process (tests/lib/flood-client.mjs). Resolves
// with its counters when it has run for `seconds`.
function flood(port, count, seconds) {
  const child = fork(join(ROOT, 'tests', 'lib', 'flood-client.mjs'), [String(port), String(count), String(seconds)]);
  return new Promise((resolve, reject) => {
    let counters = null;
    child.on('message', (message) => { counters = message; });
    child.on('exit', (code) => (code === 0 && counters ? resolve(counters) : reject(new Error(`flood client exited with ${code}`))));
  });
}

// One GET /livez on a new TLS connection; resolves with its time in ms
// (Infinity when it failed or took longer than 5 s) and when, within it, the
// TCP connection and the TLS session were up (for the report).
function livez(port) {
  return new Promise((resolve) => {
    const started = performance.now();
    const phases = { connected: null, secured: null };
    const request = https.get({ host: '127.0.0.1', port, path: '/livez', rejectUnauthorized: false, agent: false,
      headers: { Host: `localhost:${port}` }, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve({ ms: response.statusCode === 200 ? performance.now() - started : Infinity, ...phases }));
    });
    request.on('socket', (socket) => {
      socket.on('connect', () => { phases.connected = Math.round(performance.now() - started); });
      socket.on('secureConnect', () => { phases.secured = Math.round(performance.now() - started); });
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve({ ms: Infinity, ...phases }));
  });
}


test(`${FLOOD_CONNECTIONS} idle and byte-a-second connections for ${FLOOD_SECONDS} s: /livez, the doorbell and its recording carry on`, async () => {
  await waitFor(async () => (await deviceState()).video.frames > 0, { what: 'first frame' });
  // Recording has started: a segment is open.
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings.length > 0,
    { what: 'first segment' });
  const before = await deviceState();
  assert.equal(before.online, true);

  const floodStart = Date.now();
  const attack = flood(hub.port, FLOOD_CONNECTIONS, FLOOD_SECONDS);
  const times = [];
  let busiest = 1; // the largest slowdown() seen while probing
  while (Date.now() - floodStart < (FLOOD_SECONDS - 1) * 1000) {
    busiest = Math.max(busiest, slowdown());
    times.push(await livez(hub.port));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const floodEnd = Date.now();
  const during = await deviceState();
  const counters = await attack;

  const limit = Math.round(LIVEZ_LIMIT_MS * busiest);
  const slowProbes = times.filter((probe) => probe.ms > limit);
  const slow = slowProbes.map((probe) => `${probe.ms} ms (TCP up at ${probe.connected} ms, TLS at ${probe.secured} ms)`);
  const worst = Math.max(...times.map((probe) => probe.ms));
  const sorted = times.map((probe) => probe.ms).sort((a, b) => a - b);
  process.stderr.write(`flood: ${counters.opened} connections opened, ${counters.closedByHub} closed by the hub; ` +
    `/livez ${times.length} probes, median ${sorted[times.length >> 1].toFixed(0)} ms, ` +
    `worst ${worst.toFixed(0)} ms, ${slow.length} over ${limit} ms (load slowdown ${busiest.toFixed(1)})\n`);
  assert.ok(counters.opened >= FLOOD_CONNECTIONS, 'the flood ran');
  assert.equal(slow.length, 0, `/livez over ${limit} ms (or failed) ${slow.length} of ${times.length} times: ${slow.join('; ')}`);

  // The link never dropped: same session, online, no frame missing.
  assert.equal(during.online, true, 'the doorbell is online after the flood');
  assert.equal(during.connected_since, before.connected_since, 'the doorbell never reconnected');
  assert.equal(during.video.gaps, 0, 'no frame missing on the link');
  const sent = await doorbell.stats();
  assert.equal(sent.connected, true);

  // The recording of the flood minute has every frame.
  await doorbell.stop();
  doorbell = null;
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings
    .every((r) => !r.recording), { what: 'the last segment closed' });
  const stamps = segmentFiles(data.dir).flatMap((file) => videoFrameStamps(file))
    .filter((s) => s && s.timeMs >= floodStart % 2 ** 48 && s.timeMs <= floodEnd % 2 ** 48);
  assert.ok(stamps.length >= FLOOD_SECONDS * 15 * 0.8, `${stamps.length} frames recorded during the flood`);
  for (let i = 1; i < stamps.length; i++) {
    assert.equal(stamps[i].sequence, (stamps[i - 1].sequence + 1) & 0xffff, `frame ${i} of the flood minute follows its predecessor`);
    assert.ok(stamps[i].timeMs - stamps[i - 1].timeMs < 1000, `no second without a frame at ${stamps[i].timeMs}`);
  }
  assert.ok(stamps[0].timeMs - floodStart % 2 ** 48 < 1000 && floodEnd % 2 ** 48 - stamps.at(-1).timeMs < 1000,
    'the recording covers the whole flood');
});
