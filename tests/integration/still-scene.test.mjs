// The still-scene rule, against the real doorbelld and a fake hub
// (tests/lib/link-peer.mjs FakeHub) that counts the main stream's bytes: a
// picture with no motion, PIR or ring for --still-after seconds is encoded
// at --still-bitrate percent of the bitrate; a ring restores the full
// bitrate at once, its first picture a keyframe. A doorbell started with
// --still-bitrate 0 keeps the full bitrate when nothing moves (so the first
// check would fail without the rule).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { FakeHub, FLAG, TYPE } from '../lib/link-peer.mjs';
import { patience } from '../lib/patience.mjs';

const ID = 'still-scene-test';
const SECRET = 'b2'.repeat(32);
const BITRATE = 1000;
const dir = tempDir('doorstep-still-');
let hub;

before(async () => {
  hub = await FakeHub.start({ dir: dir.dir, id: ID, secret: SECRET });
});

after(async () => {
  if (hub) await hub.stop();
  dir.cleanup();
});

// A doorbell on the quiet sim scene (nothing moves) at BITRATE kbit/s.
async function startDoorbell(stillPercent) {
  const hellos = hub.hellos.length;
  const doorbell = await Doorbell.start({ hub, id: ID, secret: SECRET, size: '640x360', fps: 15, bitrate: BITRATE, still: true,
    extra: ['--no-mdns', '--no-previews', '--sub-stream', 'off', '--still-after', '2', '--still-bitrate', String(stillPercent)] });
  await waitFor(() => hub.hellos.length > hellos && hub.connected && hub.video().length > 0, { timeout: patience(30000), what: 'video' });
  return doorbell;
}

async function status(doorbell) {
  return JSON.parse(await doorbell.control('status'));
}

// kbit/s of the main stream's AUs captured in [fromUs, toUs).
function kbps(fromUs, toUs) {
  const bytes = hub.video({ sub: false })
    .filter((m) => m.timestampUs >= fromUs && m.timestampUs < toUs)
    .reduce((sum, m) => sum + m.payload.length, 0);
  return (bytes * 8) / 1000 / (Number(toUs - fromUs) / 1e6);
}

// Capture time of the newest main AU.
const newest = () => hub.video({ sub: false }).at(-1).timestampUs;

// kbit/s over the next `seconds` of video from now.
async function measure(seconds) {
  const from = newest();
  const to = from + BigInt(seconds * 1e6);
  await waitFor(() => newest() >= to, { timeout: patience(seconds * 1000 + 10000), what: `${seconds} s of video` });
  return kbps(from, to);
}

test('a still picture costs a fraction of the bitrate; a ring restores it at once, on a keyframe', async (t) => {
  const doorbell = await startDoorbell(25);
  try {
    await waitFor(async () => (await status(doorbell)).still, { timeout: patience(20000), what: 'still' });
    const now = await status(doorbell);
    assert.equal(now.main_bitrate_kbps, BITRATE / 4);
    // Let the rate control settle on the lower target, then measure it.
    await measure(1);
    const stillFrom = newest();
    const still = await measure(4);
    const largest = (from) => Math.max(...hub.video({ sub: false }).filter((m) => m.timestampUs >= from && m.flags & FLAG.KEYFRAME).map((m) => m.payload.length));
    t.diagnostic(`still picture: ${still.toFixed(0)} kbit/s, largest keyframe ${largest(stillFrom)} B`);
    assert.ok(still < BITRATE * 0.45, `still picture at ${still.toFixed(0)} kbit/s`);

    assert.equal(await doorbell.control('ring'), 'ok');
    await waitFor(() => hub.messages.some((m) => m.type === TYPE.EVENT && m.json.type === 'ring'), { timeout: patience(5000), what: 'ring event' });
    const ring = hub.messages.find((m) => m.type === TYPE.EVENT && m.json.type === 'ring');
    await waitFor(() => newest() >= ring.timestampUs + 1000000n, { timeout: patience(15000), what: 'a second after the ring' });
    const main = hub.video({ sub: false });
    const first = main.findIndex((m) => m.timestampUs >= ring.timestampUs);
    // The frame the capture thread was on when the ring came may be the one.
    assert.ok(main[first].flags & FLAG.KEYFRAME || main[first - 1].flags & FLAG.KEYFRAME,
      'a keyframe starts the event');
    const active = kbps(main[first - 1].flags & FLAG.KEYFRAME ? main[first - 1].timestampUs : main[first].timestampUs,
      ring.timestampUs + 1000000n);
    t.diagnostic(`first second after the ring: ${active.toFixed(0)} kbit/s, its keyframe ${largest(ring.timestampUs - 200000n)} B`);
    assert.ok(active >= BITRATE * 0.8, `first second after the ring at ${active.toFixed(0)} kbit/s`);
    const after = await status(doorbell);
    assert.equal(after.still, false);
    assert.equal(after.main_bitrate_kbps, BITRATE);
  } finally {
    await doorbell.stop();
  }
});

test('with --still-bitrate 0 a still picture keeps the full bitrate', async (t) => {
  const doorbell = await startDoorbell(0);
  try {
    await waitFor(async () => (await doorbell.stats()).frames_encoded > 60, { timeout: patience(20000), what: '4 s of video' });
    await measure(1);
    const quiet = await measure(4);
    const now = await status(doorbell);
    assert.equal(now.still, false);
    assert.equal(now.main_bitrate_kbps, BITRATE);
    t.diagnostic(`quiet picture without the rule: ${quiet.toFixed(0)} kbit/s`);
    assert.ok(quiet >= BITRATE * 0.7, `quiet picture at ${quiet.toFixed(0)} kbit/s without the rule`);
  } finally {
    await doorbell.stop();
  }
});
