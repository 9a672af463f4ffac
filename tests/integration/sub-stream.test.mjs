// The doorbell's sub-stream, against the real doorbelld and a fake hub
// (tests/lib/link-peer.mjs FakeHub) that speaks the link protocol: HELLO
// names the sub-stream; stream_on starts it on a keyframe within the live
// view's first-picture bound, at the sub size, on the main stream's
// sequence numbers and capture times (every other frame of a 30 fps camera,
// evenly); the control socket's status counts the encoders; stream_off stops
// it within a second; a reconnect starts without it; keyframe asks both
// encoders; set_video for "sub" changes only the sub-stream; a doorbell
// without a sub-stream refuses stream_on.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Doorbell, tempDir, waitFor, sleep } from '../lib/harness.mjs';
import { FakeHub, FLAG } from '../lib/link-peer.mjs';
import { patience } from '../lib/patience.mjs';

const ID = 'sub-stream-test';
const SECRET = 'a1'.repeat(32);
const dir = tempDir('doorstep-sub-');
let hub, doorbell;

before(async () => {
  hub = await FakeHub.start({ dir: dir.dir, id: ID, secret: SECRET });
  doorbell = await Doorbell.start({ hub, id: ID, secret: SECRET, size: '1280x720', fps: 30, bitrate: 1500,
    extra: ['--no-mdns', '--no-previews'] });
  await waitFor(() => hub.connected && hub.video({ sub: false }).length > 0, { timeout: patience(30000), what: 'main video' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  dir.cleanup();
});

async function status(bell = doorbell) {
  return JSON.parse(await bell.control('status'));
}

// The picture size in the SPS of an Annex B access unit, read by ffprobe.
function pictureSize(accessUnit) {
  const file = join(dir.dir, `au-${Date.now()}.h264`);
  writeFileSync(file, accessUnit);
  const out = execFileSync('ffprobe', ['-v', 'error', '-f', 'h264', '-select_streams', 'v:0',
    '-show_entries', 'stream=width,height', '-of', 'json', file]).toString();
  const stream = JSON.parse(out).streams[0];
  return { width: stream.width, height: stream.height };
}

test('HELLO names the sub-stream; none runs before stream_on', async () => {
  assert.deepEqual([hub.hellos[0].sub_width, hub.hellos[0].sub_height, hub.hellos[0].sub_fps], [640, 360, 15]);
  await sleep(500);
  assert.equal(hub.video({ sub: true }).length, 0);
  const now = await status();
  assert.equal(now.encoders, 1);
  assert.equal(now.sub_stream.on, false);
});

test('stream_on: a keyframe at once, at the sub size, on the main stream\'s frames; stream_off stops it', async () => {
  const before = hub.messages.length;
  const sentAt = performance.now();
  const result = await hub.command({ cmd: 'stream_on', stream: 'sub' });
  assert.equal(result.ok, true);
  await waitFor(() => hub.messages.slice(before).some((m) => m.flags & FLAG.SUB_STREAM), { timeout: patience(5000), what: 'first sub AU' });
  const first = hub.messages.slice(before).find((m) => m.flags & FLAG.SUB_STREAM);
  const delay = first.at - sentAt;
  assert.ok(first.flags & FLAG.KEYFRAME, 'the first sub-stream AU is a keyframe');
  assert.ok(delay <= patience(300), `first sub-stream picture after ${delay.toFixed(0)} ms`);
  assert.deepEqual(pictureSize(first.payload), { width: 640, height: 360 });

  // About two seconds of both streams.
  await waitFor(() => hub.video({ sub: true }).length >= 30, { timeout: patience(20000), what: '30 sub AUs' });
  const now = await status();
  assert.equal(now.encoders, 2);
  assert.equal(now.sub_stream.on, true);
  assert.deepEqual([now.sub_stream.width, now.sub_stream.height, now.sub_stream.fps, now.sub_stream.bitrate_kbps], [640, 360, 15, 400]);
  assert.ok(now.sub_stream.frames_encoded >= 30);

  // Same sequence and capture time as the main stream's AU of that frame.
  const main = new Map(hub.video({ sub: false }).map((m) => [m.sequence, m.timestampUs]));
  const sub = hub.video({ sub: true });
  const matched = sub.filter((m) => main.get(m.sequence) === m.timestampUs);
  assert.ok(matched.length >= sub.length - 2, `${matched.length} of ${sub.length} sub AUs match a main AU`);
  // Every other frame of the 30 fps camera, evenly by capture time: 15 per
  // second, the median gap 2 frames (66.7 ms); a loaded machine moves
  // capture times, so single gaps may be 1 or 3 frames.
  const gaps = sub.slice(1).map((m, i) => m.sequence - sub[i].sequence);
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  assert.equal(sortedGaps[Math.floor(gaps.length / 2)], 2, `sequence gaps ${gaps.join(',')}`);
  const spanS = Number(sub.at(-1).timestampUs - sub[0].timestampUs) / 1e6;
  const rate = (sub.length - 1) / spanS;
  assert.ok(rate > 12 && rate < 18, `sub-stream at ${rate.toFixed(1)} fps`);
  // The main stream arrives first for each frame.
  const order = hub.messages.filter((m) => m.type === 0x10);
  const late = sub.filter((s) => order.indexOf(s) < order.findIndex((m) => !(m.flags & FLAG.SUB_STREAM) && m.sequence === s.sequence));
  assert.equal(late.length, 0, 'a sub AU came before its frame\'s main AU');

  const off = await hub.command({ cmd: 'stream_off', stream: 'sub' });
  assert.equal(off.ok, true);
  await sleep(1000);
  const count = hub.video({ sub: true }).length;
  const mainCount = hub.video({ sub: false }).length;
  await waitFor(() => hub.video({ sub: false }).length >= mainCount + 15, { timeout: patience(10000), what: 'main goes on' });
  assert.equal(hub.video({ sub: true }).length, count, 'sub-stream AUs after stream_off');
  const stopped = await status();
  assert.equal(stopped.encoders, 1);
  assert.equal(stopped.sub_stream.on, false);
});

test('keyframe asks both encoders; set_video for "sub" leaves the main stream alone', async () => {
  assert.equal((await hub.command({ cmd: 'stream_on', stream: 'sub' })).ok, true);
  await waitFor(async () => (await status()).encoders === 2, { timeout: patience(5000), what: 'two encoders' });
  await sleep(300);
  const before = hub.messages.length;
  assert.equal((await hub.command({ cmd: 'keyframe' })).ok, true);
  await waitFor(() => {
    const after = hub.messages.slice(before).filter((m) => m.type === 0x10 && m.flags & FLAG.KEYFRAME);
    return after.some((m) => m.flags & FLAG.SUB_STREAM) && after.some((m) => !(m.flags & FLAG.SUB_STREAM));
  }, { timeout: patience(5000), what: 'a keyframe on each stream' });

  assert.equal((await hub.command({ cmd: 'set_video', stream: 'sub', bitrate_kbps: 250 })).ok, true);
  await waitFor(async () => (await status()).sub_stream.bitrate_kbps === 250, { timeout: patience(5000), what: 'sub bitrate 250' });
  const now = await status();
  assert.equal(now.bitrate_kbps, 1500, 'the main stream keeps its bitrate');
});

test('a reconnect starts with the sub-stream off', async () => {
  assert.equal((await status()).encoders, 2);
  const hellos = hub.hellos.length;
  hub.disconnect();
  await waitFor(() => hub.hellos.length > hellos && hub.connected && hub.video({ sub: false }).length > 5,
    { timeout: patience(30000), what: 'reconnect' });
  await waitFor(async () => (await status()).encoders === 1, { timeout: patience(5000), what: 'sub off after reconnect' });
  await sleep(500);
  assert.equal(hub.video({ sub: true }).length, 0);
});

test('a doorbell without a sub-stream refuses stream_on', async () => {
  const id = 'no-sub-test';
  const other = await FakeHub.start({ dir: dir.dir, id, secret: SECRET });
  for (const extra of [['--sub-stream', 'off'], ['--sub-stream', '1280x720@15']]) {
    const hellos = other.hellos.length;
    const bell = await Doorbell.start({ hub: other, id, secret: SECRET, size: '1280x720', fps: 30, bitrate: 800,
      extra: ['--no-mdns', '--no-previews', ...extra] });
    try {
      await waitFor(() => other.hellos.length > hellos && other.connected, { timeout: patience(30000), what: 'connected' });
      const hello = other.hellos.at(-1);
      assert.ok(!hello.sub_fps, `HELLO ${JSON.stringify(hello)}`);
      const result = await other.command({ cmd: 'stream_on', stream: 'sub' });
      assert.equal(result.ok, false);
      const now = await status(bell);
      assert.equal(now.encoders, 1);
      assert.equal(now.sub_stream, null);
    } finally {
      await bell.stop();
    }
  }
  await other.stop();
});
