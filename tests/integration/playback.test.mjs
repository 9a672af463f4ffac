// Playback from any instant: GET /api/v1/devices/{id}/playback?from=MS[&to=MS]
// streams the recording as one fMP4 (MSE) from the keyframe at or before the
// instant. Judged by ffmpeg and the frame stamps the simulated doorbell draws
// into every picture: a clean decode, the right first frame, consecutive
// frames across a segment boundary, decode time 0 = X-Playback-Start-Ms,
// follow mode past the live edge, access control and the audit log.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { Hub, Doorbell, Client, sleep, waitFor, tempDir, decodeFrameStamp } from '../lib/harness.mjs';

const SEGMENT_SECONDS = 20;
const RECORD_SECONDS = 40;
const FRAME_MS = 1000 / 30;

const data = tempDir('doorstep-playback-');
let hub, admin, doorbell, device;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', String(SEGMENT_SECONDS)] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 30, bitrate: 800, audio: true });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

const recordings = async () =>
  (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
const playbackPath = (query) => `/api/v1/devices/${device.id}/playback?${query}`;

// Frame stamps and video packets (pts in 90 kHz ticks, keyframe flag) of an MP4 file.
function judge(file) {
  assert.equal(execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), '', 'ffmpeg decodes cleanly');
  const packets = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
    'packet=pts,flags', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').map((line) => {
    const [pts, flags] = line.split(',');
    return { pts: Number(pts), key: flags.startsWith('K') };
  });
  const band = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-fps_mode', 'passthrough',
    '-vf', 'crop=528:24:0:0', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
  { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const stamps = [];
  for (let offset = 0; offset + 528 * 24 <= band.length; offset += 528 * 24) {
    stamps.push(decodeFrameStamp(band.subarray(offset, offset + 528 * 24), 528));
  }
  assert.equal(stamps.length, packets.length, 'every packet decodes to a picture');
  return { packets, stamps };
}

// Fetch a playback, calling onData(chunk, request) for each piece of the body.
function stream(client, path, onData = () => {}) {
  return new Promise((resolve, reject) => {
    const request = https.request(new URL(path, client.baseUrl), {
      headers: { Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      rejectUnauthorized: false, agent: false,
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => { chunks.push(chunk); onData(chunk, request); });
      response.on('end', () => resolve({ response, body: Buffer.concat(chunks), complete: response.complete }));
      response.on('error', () => resolve({ response, body: Buffer.concat(chunks), complete: false }));
    });
    request.on('error', reject);
    request.end();
  });
}

test(`play from 17.3 s into a ${RECORD_SECONDS} s recording, across a segment boundary`, async () => {
  const first = await waitFor(async () => (await recordings())[0], { what: 'the first segment' });
  await waitFor(async () => {
    const rows = await recordings();
    return rows.length >= 2 && rows[rows.length - 1].end_ms - first.start_ms >= RECORD_SECONDS * 1000;
  }, { timeout: (RECORD_SECONDS + 30) * 1000, interval: 500, what: `${RECORD_SECONDS} s recorded` });
  const rows = await recordings();
  const boundary = rows[1].start_ms;

  const instant = first.start_ms + 17300;
  const to = boundary + 5000;
  const { response, body, complete } = await stream(admin, playbackPath(`from=${instant}&to=${to}`));
  assert.equal(response.statusCode, 200);
  assert.ok(complete, 'the stream ends by itself at to');
  assert.match(response.headers['content-type'], /^video\/mp4; codecs="avc1\.[0-9A-F]{6}, opus"$/);
  assert.equal(response.headers['cache-control'], 'no-store');
  assert.equal(response.headers['content-length'], undefined);
  const startMs = Number(response.headers['x-playback-start-ms']);
  assert.ok(startMs <= instant && startMs > instant - 5000, `start ${startMs} for ${instant}`);

  const file = join(data.dir, 'playback.mp4');
  writeFileSync(file, body);
  const { packets, stamps } = judge(file);
  assert.ok(stamps.every((s) => s !== null), 'every picture has a frame stamp');

  // The first frame is the keyframe at or before the instant: a keyframe at
  // or before it, and the stream's next keyframe comes after it.
  assert.ok(packets[0].key, 'the stream starts on a keyframe');
  assert.ok(stamps[0].timeMs <= instant % 2 ** 48, `first frame ${stamps[0].timeMs} <= ${instant}`);
  const nextKey = packets.findIndex((p, i) => i > 0 && p.key);
  assert.ok(nextKey > 0 && stamps[nextKey].timeMs > instant % 2 ** 48, 'no later keyframe at or before the instant');
  assert.ok(Math.abs(startMs % 2 ** 48 - stamps[0].timeMs) <= FRAME_MS,
    `X-Playback-Start-Ms ${startMs} vs first stamp ${stamps[0].timeMs}`);

  // Consecutive frames across the boundary, on the wall clock all along.
  for (let i = 1; i < stamps.length; i++) {
    assert.equal(stamps[i].sequence, (stamps[i - 1].sequence + 1) & 0xffff, `frame ${i}: no gap or duplicate`);
  }
  assert.ok(stamps.some((s) => s.timeMs >= boundary % 2 ** 48), 'the stream crossed into the next segment');
  // Whole fragments (at most 1 s each) are sent: it ends with the one holding to.
  const last = stamps[stamps.length - 1].timeMs;
  assert.ok(last >= to % 2 ** 48 - 2 * FRAME_MS && last < to % 2 ** 48 + 1000, `last frame ${last} for to ${to}`);
  for (let i = 0; i < stamps.length; i++) {
    const wall = startMs + (packets[i].pts / 90000) * 1000;
    assert.ok(Math.abs(wall % 2 ** 48 - stamps[i].timeMs) <= FRAME_MS, `frame ${i}: pts maps to its capture time`);
  }

  const audit = execFileSync('sqlite3', [join(data.dir, 'doorstep.db'),
    "SELECT action || ' ' || target || ' ' || detail FROM audit_log WHERE action = 'recording_play'"],
  { encoding: 'utf8' });
  assert.ok(audit.includes(`recording_play ${device.id} from=${instant}`), audit);
});

test('follow mode: from 3 s before the live edge, new frames keep coming', async () => {
  const rows = await recordings();
  const liveEdge = rows[rows.length - 1].end_ms;   // the durable end of the segment being written
  const requestedAt = Date.now();
  const to = requestedAt + 6000;                   // footage that does not exist yet when asked for
  const { response, body, complete } = await stream(admin, playbackPath(`from=${liveEdge - 3000}&to=${to}`));
  assert.equal(response.statusCode, 200);
  assert.ok(complete);
  const file = join(data.dir, 'follow.mp4');
  writeFileSync(file, body);
  const { stamps } = judge(file);
  for (let i = 1; i < stamps.length; i++) {
    assert.equal(stamps[i].sequence, (stamps[i - 1].sequence + 1) & 0xffff, `frame ${i}: no gap or duplicate`);
  }
  const last = stamps[stamps.length - 1].timeMs;
  assert.ok(last > (requestedAt + 4000) % 2 ** 48, `frames recorded after the request arrived (last ${last - requestedAt % 2 ** 48} ms after)`);
});

test('a client that goes away ends its stream', async () => {
  const rows = await recordings();
  let destroyed = false;
  await stream(admin, playbackPath(`from=${rows[rows.length - 1].end_ms - 3000}`), (chunk, request) => {
    if (!destroyed) { destroyed = true; request.destroy(); }
  }).catch(() => {});
  await waitFor(() => hub.log.some((line) => /playback of \S+ from \d+ ended \(client gone\)/.test(line)),
    { timeout: 30000, what: 'the stream to end' });
});

test('errors: anonymous 401, a viewer without the doorbell 404, bad parameters 400, no footage 404', async () => {
  const path = playbackPath(`from=${Date.now() - 10000}`);
  assert.equal((await new Client(hub.url).request('GET', path)).status, 401);

  const response = await admin.api('POST', '/api/v1/users', {
    json: { username: 'neighbour', password: 'correct horse battery staple', role: 'viewer', devices: [] },
  });
  assert.equal(response.status, 201);
  const neighbour = new Client(hub.url);
  assert.equal((await neighbour.login('neighbour', 'correct horse battery staple')).status, 200);
  assert.equal((await neighbour.request('GET', path)).status, 404);

  for (const query of ['', 'from=', 'from=abc', 'from=-5', `from=${Date.now()}&to=${Date.now() - 1000}`]) {
    const answer = await admin.request('GET', playbackPath(query));
    assert.equal(answer.status, 400, query);
    assert.equal(answer.json.error, 'invalid');
  }
  const future = await admin.request('GET', playbackPath(`from=${Date.now() + 3600000}`));
  assert.equal(future.status, 404);
  assert.equal(future.json.error, 'not_found');
  await sleep(100);
});
