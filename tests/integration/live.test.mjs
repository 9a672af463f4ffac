// Live view over WebSocket: the muxed fMP4 is judged by ffprobe/ffmpeg and
// its frame stamps must run in order without gaps; a stalled viewer is
// skipped forward without slowing the doorbell or another viewer; corrupt or
// oversized input from a doorbell is refused without disturbing others.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, sleep, waitFor, tempDir, decodeErrors, videoFrameStamps } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { patience } from '../lib/patience.mjs';
import { LinkPeer, TYPE } from '../lib/link-peer.mjs';

const LIVE_SECONDS = Number(process.env.LIVE_TEST_SECONDS || 30);
const data = tempDir('doorstep-live-');
let hub, admin, doorbell, device;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  // The full bitrate throughout (no still-scene saving): a stalled viewer's
  // buffers fill at a known pace, and the bitrate is judged.
  doorbell = await Doorbell.start({ hub, ...device, fps: 30, bitrate: 1500, audio: true, extra: ['--still-bitrate', '0'] });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video.frames > 30,
    { what: 'the doorbell streaming' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// Frame stamps of every frame of an MP4, decoded from ffmpeg's output.
test(`${LIVE_SECONDS} s of live output: valid fMP4, every frame in order, no gaps`, async () => {
  // Watch for LIVE_SECONDS, then judge what arrived against what the
  // doorbell sent meanwhile: on a loaded machine it may capture fewer than
  // 30 frames a second, which is not the live path's doing.
  const viewer = new LiveViewer(admin, device.id);
  await viewer.opened;
  // A new viewer starts at a keyframe (the cached one, or a fresh one the hub
  // asks for): count what the doorbell sends from its first frame on.
  await waitFor(() => viewer.videoFrames().length > 0, { what: 'the first frame' });
  const sentBefore = (await doorbell.stats()).video_sent;
  await sleep(LIVE_SECONDS * 1000);
  const sent = (await doorbell.stats()).video_sent - sentBefore;
  // What was sent before the close has arrived (the viewer is a reader
  // the hub never skips: its frames run without a gap, checked below).
  await waitFor(() => viewer.videoFrames().length >= sent, { what: `the ${sent} frames the doorbell sent` });
  await viewer.close();

  assert.match(viewer.initText.mime, /^video\/mp4; codecs="avc1\.[0-9A-F]{6}, opus"$/);
  assert.equal(viewer.messages[0].kind, 1, 'the init segment comes first');
  assert.equal(viewer.messages[1].kind, 2);
  const file = join(data.dir, 'live.mp4');
  writeFileSync(file, viewer.mp4());

  // The independent judge: no complaint from ffprobe or a full decode.
  const probe = execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', '-show_format', file],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const streams = JSON.parse(probe).streams;
  assert.equal(streams[0].codec_name, 'h264');
  assert.equal(streams[0].width, 640);
  assert.equal(streams[1].codec_name, 'opus');
  assert.equal(streams[1].sample_rate, '48000');
  // 50 Opus packets a second of what the camera captured, interleaved with
  // the video in capture order.
  const audio = viewer.audioPackets();
  const videoSeconds = (viewer.videoFrames().at(-1).captureUs - viewer.videoFrames()[0].captureUs) / 1e6;
  assert.ok(audio.length >= videoSeconds * 50 * 0.9, `${audio.length} audio packets over ${videoSeconds.toFixed(1)} s of video`);
  for (let i = 1; i < audio.length; i++) assert.ok(audio[i].captureUs > audio[i - 1].captureUs);
  // And it is the tone the microphone heard (440 Hz): zero crossings in
  // each 100 ms of the decoded audio after the first second, each window
  // taking the pair of samples across its start (so the windows tile the
  // signal: 44 whole periods give 88 crossings whatever the tone's phase;
  // without it a crossing on a window edge was lost in every window and the
  // tone read 435 Hz). The median window is judged: a loaded machine may
  // hold the doorbell's capture thread back so long that it pads a few
  // periods with silence, which says nothing about what the live path
  // carries.
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-ac', '1', '-ar', '48000', '-'],
    { maxBuffer: 1 << 30 });
  const windows = [];
  for (let from = 48000; from + 4800 <= pcm.length / 2; from += 4800) {
    let crossings = 0;
    for (let i = from; i < from + 4800; i++) {
      if ((pcm.readInt16LE((i - 1) * 2) < 0) !== (pcm.readInt16LE(i * 2) < 0)) crossings++;
    }
    windows.push(crossings / 2 / 0.1);
  }
  windows.sort((a, b) => a - b);
  const frequency = windows[windows.length >> 1];
  const off = windows.filter((hz) => Math.abs(hz - 440) > 20).length;
  assert.ok(Math.abs(frequency - 440) < 5, `the audio is ${frequency.toFixed(1)} Hz (${off} of ${windows.length} windows off)`);
  assert.equal(decodeErrors(file), '', 'ffmpeg decodes the live stream without a complaint');

  // Presentation times strictly increase.
  const packets = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts',
    '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').map(Number);
  for (let i = 1; i < packets.length; i++) assert.ok(packets[i] > packets[i - 1], `pts ${packets[i]} after ${packets[i - 1]}`);

  // Frame stamps: consecutive sequence numbers, capture times moving forward.
  const stamps = videoFrameStamps(file);
  const frames = viewer.videoFrames();
  assert.equal(stamps.length, frames.length, 'ffmpeg decoded every frame received');
  assert.ok(sent > 0 && stamps.length >= sent, `${stamps.length} frames received, ${sent} sent while watching`);
  for (let i = 1; i < stamps.length; i++) {
    assert.ok(stamps[i] && stamps[i - 1], `frame ${i} has a readable stamp`);
    assert.equal(stamps[i].sequence, (stamps[i - 1].sequence + 1) & 0xffff, `frame ${i} follows frame ${i - 1}`);
    assert.ok(stamps[i].timeMs > stamps[i - 1].timeMs);
  }
  // The header's capture time is the stamp's capture time.
  assert.equal(Math.floor(frames[5].captureUs / 1000) % 2 ** 48, stamps[5].timeMs);
});

test('a stalled viewer is skipped forward; the doorbell and another viewer keep full rate', async () => {
  // "Full rate" is what the doorbell really sent, not 30 fps of wall clock:
  // on a loaded machine the doorbell may capture fewer frames, and that is
  // not the hub's doing. Counters are read viewer, hub, doorbell in that
  // order, so each later party has sent at least what the earlier one got.
  const videoOf = async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
  const healthy = new LiveViewer(admin, device.id);
  const stalled = new LiveViewer(admin, device.id);
  await Promise.all([healthy.opened, stalled.opened]);
  await waitFor(() => healthy.videoFrames().length > 0, { what: 'the healthy viewer playing' });
  const healthyStart = healthy.videoFrames().length;
  const before = await videoOf();
  const doorbellBefore = await doorbell.stats();
  stalled.pause();
  await waitFor(async () => (await videoOf()).live.viewer_skips > before.live.viewer_skips,
    // How soon depends on how fast the doorbell fills the stalled socket's
    // buffers: fewer frames a second on a busy machine, so a longer wait.
    { timeout: patience(60000), what: 'the stalled viewer to be skipped' });
  // Another 90 frames (3 s at 30 fps) from the doorbell with the viewer still stalled.
  const skipped = await doorbell.stats();
  const doorbellAfter = await waitFor(async () => {
    const stats = await doorbell.stats();
    return stats.video_sent >= skipped.video_sent + 90 ? stats : null;
  }, { timeout: 60000, what: '90 more frames from the doorbell' });
  const sent = doorbellAfter.video_sent - doorbellBefore.video_sent;
  // The hub takes every frame the doorbell sent, and the healthy viewer
  // gets every frame the hub took (a skip would cost it a GOP of frames).
  const after = await waitFor(async () => {
    const device_ = await videoOf();
    return device_.video.frames - before.video.frames >= sent ? device_ : null;
  }, { timeout: 30000, what: `the hub to receive the ${sent} frames the doorbell sent` });
  const ingested = after.video.frames - before.video.frames;
  await waitFor(() => healthy.videoFrames().length - healthyStart >= ingested - 5,
    { timeout: 30000, what: `the healthy viewer to receive the ${ingested} frames the hub received (has ${healthy.videoFrames().length - healthyStart})` });
  assert.equal(doorbellAfter.video_dropped, doorbellBefore.video_dropped, 'the doorbell dropped nothing');
  assert.equal(after.video.gaps, 0, 'the doorbell lost nothing');
  assert.ok(after.live.skipped_frames > before.live.skipped_frames);

  // One viewer's lag changes nobody else's picture nor the recording: the
  // doorbell's main encoder keeps its bitrate (a viewer that falls behind
  // moves to the sub-stream by itself, see live-quality.test.mjs).
  assert.equal((await doorbell.stats()).connects, doorbellBefore.connects, 'no reconnection');
  assert.equal((await doorbell.stats()).bitrate_kbps, 1500);
  assert.ok(!doorbell.log.some((line) => /video now 640x360 at \d+ kbit\/s/.test(line) && !/at 1500 kbit/.test(line)),
    'the doorbell was not asked for a lower bitrate');

  // It recovers when it reads again: frames flow, starting on a keyframe.
  const stalledBefore = stalled.videoFrames().length;
  stalled.resume();
  await waitFor(() => stalled.videoFrames().length > stalledBefore + 60, { timeout: 30000, what: 'the stalled viewer to recover' });
  await Promise.all([healthy.close(), stalled.close()]);
});

test('asking for another resolution re-configures the doorbell live: a new init segment, no reconnection', async () => {
  const viewer = new LiveViewer(admin, device.id);
  await viewer.opened;
  await waitFor(() => viewer.videoFrames().length > 10, { what: 'frames before the change' });
  const connects = (await doorbell.stats()).connects;
  const response = await admin.api('POST', `/api/v1/devices/${device.id}/video`, { json: { width: 800, height: 450, bitrate_kbps: 1500 } });
  assert.equal(response.status, 202);
  await waitFor(() => viewer.texts.some((t) => t.type === 'init' && t.width === 800 && t.height === 450),
    { what: 'a new init segment for 800x450' });
  const inits = viewer.messages.filter((m) => m.kind === 1).length;
  assert.equal(inits, 2);
  // Right after the new init segment comes a keyframe, and frames keep flowing.
  const index = viewer.messages.findLastIndex((m) => m.kind === 1);
  await waitFor(() => viewer.messages.slice(index + 1).filter((m) => m.kind === 2).length > 30, { what: 'frames after the change' });
  const after = viewer.messages.slice(index + 1);
  const file = join(data.dir, 'resized.mp4');
  writeFileSync(file, Buffer.concat([viewer.messages[index].bytes, ...after.map((m) => m.bytes)]));
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', file], { encoding: 'utf8' }));
  assert.equal(probe.streams[0].width, 800);
  assert.equal((await doorbell.stats()).connects, connects, 'the doorbell did not reconnect');
  await viewer.close();
  // Back to the test size for the other tests.
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/video`, { json: { width: 640, height: 360 } })).status, 202);
  await waitFor(() => doorbell.log.some((line) => /video now 640x360/.test(line)), { what: 'back to 640x360' });
});

test('corrupt H.264 is dropped with a reason; an oversized message closes only that link', async () => {
  const peerDevice = hub.addDevice('Broken doorbell');
  const peer = new LinkPeer(hub.port, peerDevice);
  await peer.welcomed;
  const before = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video;

  // Garbage without a start code, a truncated NAL, a start code with nothing after it.
  peer.send(TYPE.VIDEO, Buffer.from('not h264 at all'), { sequence: 1, flags: 1 });
  peer.send(TYPE.VIDEO, Buffer.from([0, 0, 0, 1, 0x67, 0x64]), { sequence: 2, flags: 1 });
  peer.send(TYPE.VIDEO, Buffer.from([0, 0, 0, 1]), { sequence: 3 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${peerDevice.id}`)).json.live.bad_frames >= 3,
    { what: 'three bad frames counted' });
  await waitFor(() => hub.log.some((line) => line.includes(`doorbell ${peerDevice.id}: dropped video`)),
    { what: 'the reason to be logged' });
  assert.equal((await admin.api('GET', `/api/v1/devices/${peerDevice.id}`)).json.online, true, 'the link stays up');

  // Larger than any link message may be (4 MiB): refused, link closed.
  peer.send(TYPE.VIDEO, Buffer.alloc(5 * 1024 * 1024, 7), { sequence: 4 });
  await peer.closed;
  assert.ok(peer.errors().some((error) => error.code === 'protocol_error'));
  // The peer sees the close before the hub's log line is written (or read
  // from its stderr): wait for the line.
  await waitFor(() => hub.log.some((line) => line.includes(`closing link`) && line.includes('protocol_error')),
    { what: 'the hub to log why it closed the link' });

  // The real doorbell never noticed: it goes on streaming without a gap.
  const after = await waitFor(async () => {
    const video = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video;
    return video.frames > before.frames + 20 ? video : null;
  }, { what: 'more frames from the real doorbell' });
  assert.equal(after.gaps, before.gaps);
  assert.equal((await admin.api('GET', '/livez')).status, 200);
});

test('a live WebSocket without a session, from another origin, or for a hidden doorbell is refused', async () => {
  const anonymous = new LiveViewer({ baseUrl: hub.url, cookies: new Map() }, device.id);
  await assert.rejects(anonymous.opened);
  const foreign = new LiveViewer(admin, device.id, { origin: 'https://evil.example' });
  await assert.rejects(foreign.opened);
  const response = await admin.api('POST', '/api/v1/users', {
    json: { username: 'neighbour', password: 'correct horse battery staple', role: 'viewer', devices: [] },
  });
  assert.equal(response.status, 201);
  const neighbour = new Client(hub.url);
  await neighbour.login('neighbour', 'correct horse battery staple');
  const hidden = new LiveViewer(neighbour, device.id);
  await assert.rejects(hidden.opened, /HTTP 404/, 'a doorbell not granted is not there, as for the routes');
  await assert.rejects(new LiveViewer({ baseUrl: hub.url, cookies: new Map() }, device.id).opened, /HTTP 401/);
});

// The sample flags of the first sample of a live fragment (moof/traf/trun): a keyframe?
function isKeyframe(bytes) {
  const at = bytes.indexOf('trun');
  if (at < 0) return false;
  const flags = bytes.readUInt32BE(at + 4) & 0xffffff;
  let p = at + 12;            // after version/flags and sample_count
  if (flags & 0x001) p += 4;  // data_offset
  const sampleFlags = flags & 0x004 ? bytes.readUInt32BE(p)
    : flags & 0x400 ? bytes.readUInt32BE(p + (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0)) : null;
  return sampleFlags !== null && (sampleFlags & 0x10000) === 0;
}

// Decoding a long cached GOP up to its newest frame delays a new viewer's
// first picture by as much as the GOP is long; the hub asks the doorbell for
// a keyframe instead. With a keyframe every 60 s, the old way gives a
// viewer no keyframe captured after it connected for up to a minute.
test('a new viewer of a long GOP gets a fresh keyframe soon', async () => {
  const side = hub.addDevice('Long GOP');
  const bell = await Doorbell.start({ hub, ...side, fps: 30, bitrate: 600, extra: ['--keyframe-interval', '1800'] });
  try {
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${side.id}`)).json.video.frames > 60,
      { what: 'two seconds of the doorbell streaming' });
    for (let i = 0; i < 3; i++) {
      const connectUs = Date.now() * 1000;
      const viewer = new LiveViewer(admin, side.id);
      await viewer.opened;
      const fresh = await waitFor(() => viewer.videoFrames().find((m) => m.captureUs >= connectUs && isKeyframe(m.bytes)),
        { timeout: patience(20000), what: 'a keyframe captured after the viewer connected' });
      // Not the doorbell's own next keyframe, a minute after its start.
      assert.ok(fresh.captureUs - connectUs < 30e6, `the first fresh keyframe came ${(fresh.captureUs - connectUs) / 1e6} s later`);
      assert.ok(isKeyframe(viewer.videoFrames()[0].bytes), 'the first frame is a keyframe');
      await viewer.close();
      await sleep(300);   // the hub asks for a keyframe at most every 250 ms
    }
  } finally {
    await bell.stop();
  }
});
