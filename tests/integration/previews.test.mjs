// Timeline previews: a real doorbell (sim camera, 1280x720 at a low rate)
// sends a small JPEG every 2 s; the hub keeps them next to the segments and
// serves GET /api/v1/devices/{id}/preview.jpg?at=MS: the preview at or
// before `at` (within the interval plus 1 s), whose frame stamp says when
// it was captured; none where there is no footage, none for a viewer
// without the doorbell, none once retention deleted the segment; a torn
// previews file is read up to the tear; a bad preview is dropped, the link
// stays up.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, existsSync } from 'node:fs';
import { Hub, Client, Doorbell, waitFor, tempDir, segmentFiles } from '../lib/harness.mjs';
import { previewFrameStamp, previewRecords } from '../lib/previews.mjs';
import { LinkPeer, TYPE } from '../lib/link-peer.mjs';

const PREVIEW = 0x13;
const INTERVAL_MS = 2000;
const WINDOW_MS = INTERVAL_MS + 1000;
const FRAME_WIDTH = 1280;

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const previewsFile = (segment) => segment.replace(/\.mp4$/, '.previews');

test('previews: stored with the footage, served by time with their stamp, gone with the segment', async (t) => {
  const data = tempDir('doorstep-previews-');
  let hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '4'] });
  let doorbell = null;
  cleanups.push(async () => {
    if (doorbell) await doorbell.stop();
    await hub.stop();
    data.cleanup();
  });
  const admin = await hub.admin();
  const device = hub.addDevice('Porch');
  const other = hub.addDevice('Garage');
  const before = Date.now();
  doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: 5, bitrate: 400, extra: ['--keyframe-interval', '10'] });

  // About 20 s of footage: several closed segments, each with its previews.
  const list = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
  let rows = [];
  await waitFor(async () => {
    rows = (await list()).filter((row) => !row.recording);
    return rows.length >= 4 && rows[rows.length - 1].end_ms - rows[0].start_ms >= 16000;
  }, { timeout: 90000, interval: 500, what: '~20 s of closed segments' });
  const stats = await doorbell.stats();
  assert.ok(stats.previews_sent >= 5, `the doorbell sent ${stats.previews_sent} previews`);

  const segments = segmentFiles(data.dir, device.id);
  for (const segment of segments.slice(0, rows.length)) {
    assert.ok(existsSync(previewsFile(segment)), `${segment} has its previews`);
    const records = previewRecords(readFileSync(previewsFile(segment)));
    assert.ok(records && records.length >= 1, `${previewsFile(segment)}: ${JSON.stringify(records)}`);
  }

  // Every 700 ms across the closed footage: a preview at or before T,
  // within the interval (+ slack), that shows the frame of its time.
  const first = rows[0].start_ms;
  const last = rows[rows.length - 1].end_ms;
  let served = 0;
  let checked = 0;
  for (let at = first + WINDOW_MS; at <= last; at += 700) {
    const response = await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${at}`);
    checked++;
    if (response.status === 404) continue;
    assert.equal(response.status, 200, response.body.toString());
    served++;
    assert.equal(response.headers['content-type'], 'image/jpeg');
    assert.match(response.headers['cache-control'], /private/);
    assert.match(response.headers['cache-control'], /max-age=\d+/);
    const time = Number(response.headers['x-preview-time']);
    assert.ok(time <= at && time >= at - WINDOW_MS, `preview of ${time} for ${at}`);
    assert.ok(response.body.length < 64 * 1024, `a preview of ${response.body.length} bytes`);
    const stamp = previewFrameStamp(response.body, FRAME_WIDTH);
    assert.ok(stamp, `the preview for ${at} shows a frame stamp`);
    assert.equal(stamp.timeMs, time % 2 ** 48, 'the stamp is the capture time the hub reports');
    assert.ok(stamp.timeMs <= at && stamp.timeMs >= at - WINDOW_MS, `stamp ${stamp.timeMs} for ${at}`);
  }
  // One every 2 s (never skipped on a quiet machine) leaves the window at most a
  // gap at a reconnect; almost every time must have one.
  assert.ok(served >= checked * 0.8, `${served} of ${checked} times had a preview`);
  t.diagnostic(`${served} of ${checked} times had a preview; ${stats.previews_sent} sent, ${stats.previews_busy} skipped while busy, ` +
    `${Math.round(stats.preview_encode_us / Math.max(1, stats.previews_sent))} µs to encode one`);

  // No footage, no preview: before the first segment, far in the future.
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${before - 60000}`)).status, 404);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${Date.now() + 3600000}`)).status, 404);
  assert.equal((await admin.api('GET', `/api/v1/devices/${other.id}/preview.jpg?at=${first + 3000}`)).status, 404);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=x`)).status, 400);

  // A viewer without this doorbell gets nothing; with it, the preview.
  const password = 'correct horse battery staple';
  for (const [username, devices] of [['guest', [other.id]], ['family', [device.id]]]) {
    const created = await admin.api('POST', '/api/v1/users', { json: { username, password, role: 'viewer', devices } });
    assert.equal(created.status, 201, created.body.toString());
  }
  const guest = new Client(hub.url);
  assert.equal((await guest.login('guest', password)).status, 200);
  const family = new Client(hub.url);
  assert.equal((await family.login('family', password)).status, 200);
  const probe = rows[1].start_ms + 2500;
  assert.equal((await guest.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${probe}`)).status, 404);
  assert.equal((await family.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${probe}`)).status, 200);
  assert.equal((await new Client(hub.url).request('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${probe}`)).status, 401);

  // A torn last record (a crash mid-append): read up to the tear, in a
  // closed segment's file with two previews or more (a short segment on a
  // loaded machine may hold only one).
  const torn = segments.slice(1, rows.length).map(previewsFile)
    .find((file) => previewRecords(readFileSync(file)).length >= 2);
  assert.ok(torn, 'a closed segment with two previews or more');
  const records = previewRecords(readFileSync(torn));
  const lastRecord = records[records.length - 1];
  const beforeTear = records[records.length - 2];
  const atLast = lastRecord.timeMs;
  const whole = await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${atLast}`);
  assert.equal(Number(whole.headers['x-preview-time']), atLast);
  truncateSync(torn, lastRecord.offset + 12 + Math.floor(lastRecord.size / 2));
  const afterTear = await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${atLast}`);
  if (atLast - beforeTear.timeMs <= WINDOW_MS) {
    assert.equal(afterTear.status, 200);
    assert.equal(Number(afterTear.headers['x-preview-time']), beforeTear.timeMs, 'the record before the tear');
  } else {
    assert.equal(afterTear.status, 404);
  }
  const early = await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${records[0].timeMs}`);
  assert.equal(early.status, 200);
  assert.equal(Number(early.headers['x-preview-time']), records[0].timeMs);

  // Retention deletes the closed segments (a budget far below the footage):
  // their previews go with them and are never served again.
  await doorbell.stop();
  doorbell = null;
  await hub.stop();
  hub = await Hub.start({ dataDir: data.dir, port: hub.port, extra: ['--segment-seconds', '4', '--storage-budget', '1K'] });
  await waitFor(() => segmentFiles(data.dir, device.id).length === 0, { timeout: 30000, what: 'retention deleted every segment' });
  for (const segment of segments) assert.ok(!existsSync(previewsFile(segment)), `${previewsFile(segment)} is gone with its segment`);
  const again = await hub.admin();
  assert.equal((await again.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${probe}`)).status, 404);
  assert.ok(!hub.log.some((line) => /AddressSanitizer|runtime error/.test(line)));
});

test('previews: WELCOME names the interval; a preview that is not a JPEG is logged and dropped, the link stays up', async () => {
  const data = tempDir('doorstep-previews-peer-');
  const hub = await Hub.start({ dataDir: data.dir });
  const peerDevice = hub.addDevice('Side door');
  const peer = new LinkPeer(hub.port, peerDevice);
  cleanups.push(async () => {
    peer.socket.close();
    await hub.stop();
    data.cleanup();
  });
  const welcome = await peer.welcomed;
  assert.equal(welcome.settings.preview_interval_ms, INTERVAL_MS);
  peer.send(PREVIEW, Buffer.from('not a jpeg at all'), { sequence: 1 });
  peer.send(PREVIEW, Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0, 4, 0x41, 0x42, 0xff, 0xd9]), { sequence: 2 });
  await waitFor(() => hub.log.filter((line) => line.includes(`doorbell ${peerDevice.id} sent a preview that is not usable`)).length === 2,
    { what: 'two log lines for two bad previews' });
  peer.send(TYPE.TELEMETRY, { battery_percent: 77, rssi_dbm: -40, temperature_c: 20, uptime_s: 5, firmware: 'peer' });
  const admin = await hub.admin();
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${peerDevice.id}`)).json?.telemetry?.battery_percent === 77,
    { what: 'the link still up after the bad previews' });
  assert.deepEqual(peer.errors(), []);
});
