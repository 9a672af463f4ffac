// Each live viewer its own quality: a doorbell's main stream (recorded) and
// its sub-stream (640x360, encoded only while a viewer needs it). Two
// viewers choosing differently each get what they chose while the recording
// keeps the main stream's size and bitrate; a viewer switching streams sees
// one continuous clock; the sub-stream stops a few seconds after its last
// viewer; POST /video is for admins; a doorbell without a sub-stream serves
// its main stream to everyone and says so.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, waitFor, tempDir, segmentFiles, decodeFrameStamp } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { patience } from '../lib/patience.mjs';

const MAIN = { width: 1280, height: 720 };
const SUB = { width: 640, height: 360 };
const FPS = 30;
const MAIN_KBPS = 1500;
const VIEWER_PASSWORD = 'viewer password 1234';
const data = tempDir('doorstep-live-quality-');
let hub, admin, viewerClient, doorbell, device, plain, plainDevice;

const deviceJson = async (id) => (await admin.api('GET', `/api/v1/devices/${id}`)).json;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '2'] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  plainDevice = hub.addDevice('Back door');
  doorbell = await Doorbell.start({ hub, ...device, size: `${MAIN.width}x${MAIN.height}`, fps: FPS, bitrate: MAIN_KBPS,
    extra: ['--still-bitrate', '0'] });   // the full bitrate throughout: the recording's is judged
  plain = await Doorbell.start({ hub, ...plainDevice, fps: 15, bitrate: 400, extra: ['--sub-stream', 'off'] });
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer', devices: [device.id, plainDevice.id] } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  viewerClient = new Client(hub.url);
  assert.equal((await viewerClient.login('vera', VIEWER_PASSWORD)).status, 200);
  for (const id of [device.id, plainDevice.id]) {
    await waitFor(async () => (await deviceJson(id)).video.frames > 15, { what: `doorbell ${id} streaming`, timeout: patience(30000) });
  }
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (plain) await plain.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// The decode time (tfdt) of a media fragment, in its track's ticks.
function decodeTime(bytes) {
  const at = bytes.indexOf(Buffer.from('tfdt'));
  return bytes[at + 4] === 1 ? Number(bytes.readBigUInt64BE(at + 8)) : bytes.readUInt32BE(at + 8);
}

// The frame stamps of every video frame of a file whose picture is the
// camera's scaled by 1/scale (the sub-stream: 2), decoded by ffmpeg: the
// stamp's band, scaled back to its drawn size.
function frameStamps(file, scale) {
  const band = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-fps_mode', 'passthrough',
    '-vf', `crop=${528 / scale}:${24 / scale}:0:0,scale=528:24:flags=neighbor`, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
  { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const out = [];
  for (let offset = 0; offset + 528 * 24 <= band.length; offset += 528 * 24) out.push(decodeFrameStamp(band.subarray(offset, offset + 528 * 24), 528));
  return out;
}

// The frame stamps of what a viewer received under each of its init
// segments, decoded by ffmpeg (one file per init: a file has one moov).
function stampsByInit(viewer, name) {
  return viewer.inits.map((init, index) => {
    const file = join(data.dir, `${name}-${index}.mp4`);
    writeFileSync(file, Buffer.concat(viewer.messagesOf(index).map((m) => m.bytes)));
    return frameStamps(file, MAIN.width / init.width).filter(Boolean);
  });
}

test('two viewers choose different qualities: each gets its own, the recording stays the main stream', { timeout: patience(120000) }, async () => {
  const high = new LiveViewer(admin, device.id, { quality: 'main' });
  const openedAt = Date.now();
  const low = new LiveViewer(viewerClient, device.id, { quality: 'sub' });
  await Promise.all([high.opened, low.opened]);
  // The low viewer asked while the sub-stream was off: a picture at once
  // (the main stream's cached GOP), then the sub-stream from its first keyframe.
  await waitFor(() => low.videoFrames().length > 0, { what: 'the low viewer\'s first picture' });
  const firstPictureMs = Date.now() - openedAt;
  await waitFor(() => low.stream === 'sub' && low.messagesOf(low.inits.length - 1).filter((m) => m.kind === 2).length >= 30,
    { what: 'the low viewer on the sub-stream', timeout: patience(30000) });
  const firstSubMs = low.inits.at(-1).text && low.messages[low.inits.at(-1).at].receivedAt - openedAt;
  console.log(`low viewer: first picture after ${firstPictureMs} ms, first sub-stream picture after ${firstSubMs} ms`);
  assert.equal(low.size, `${SUB.width}x${SUB.height}`);
  assert.equal(low.inits.at(-1).text.reason, 'chosen');
  const api = await deviceJson(device.id);
  assert.equal(api.streams.sub.available, true);
  assert.equal(api.streams.sub.on, true);
  assert.equal(api.streams.sub.viewers, 1);
  assert.equal(api.streams.main.viewers, 1);
  assert.equal(api.live.viewers, 2, 'live.viewers: everyone watching the doorbell');
  assert.equal(api.streams.main.width, MAIN.width);

  // Recording meanwhile: a segment that starts after the sub-stream came on.
  const subSince = Date.now();
  await waitFor(() => high.videoFrames().length >= 30, { what: 'the high viewer\'s frames' });
  const framesBefore = high.videoFrames().length;
  await waitFor(() => segmentFiles(data.dir, device.id).some((f) => Number(/(\d+)\.mp4$/.exec(f)[1]) > subSince && statSync(f).size > 0 &&
    segmentFiles(data.dir, device.id).indexOf(f) < segmentFiles(data.dir, device.id).length - 1),
  { what: 'a finished segment recorded while the sub-stream ran', timeout: patience(30000) });
  const segment = segmentFiles(data.dir, device.id).find((f) => Number(/(\d+)\.mp4$/.exec(f)[1]) > subSince);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', '-show_format', segment], { encoding: 'utf8' }));
  const video = probe.streams.find((s) => s.codec_type === 'video');
  assert.equal(`${video.width}x${video.height}`, `${MAIN.width}x${MAIN.height}`, 'the recording keeps the main size');
  const kbps = (Number(video.bit_rate || probe.format.bit_rate) / 1000);
  assert.ok(kbps > MAIN_KBPS * 0.5, `the recording keeps the main bitrate: ${kbps.toFixed(0)} kbit/s of ${MAIN_KBPS}`);

  // The high viewer never saw the sub-stream, and its picture went on.
  await waitFor(() => high.videoFrames().length > framesBefore + 30, { what: 'the high viewer going on' });
  assert.ok(high.inits.length >= 1);
  for (const init of high.inits) assert.equal(`${init.width}x${init.height}`, `${MAIN.width}x${MAIN.height}`);
  assert.ok(high.inits.every((i) => i.text.stream === 'main'));
  await Promise.all([high.close(), low.close()]);
});

test('a viewer switching sub -> main mid-stream sees one clock, no gap over a GOP', { timeout: patience(120000) }, async () => {
  const viewer = new LiveViewer(admin, device.id, { quality: 'sub' });
  await viewer.opened;
  await waitFor(() => viewer.stream === 'sub' && viewer.messagesOf(viewer.inits.length - 1).filter((m) => m.kind === 2).length >= 20,
    { what: 'sub-stream frames', timeout: patience(30000) });
  const other = new LiveViewer(viewerClient, device.id, { quality: 'sub' });
  await other.opened;
  viewer.send({ quality: 'main' });
  await waitFor(() => viewer.texts.some((t) => t.type === 'quality' && t.stream === 'main'), { what: 'the hub\'s answer' });
  await waitFor(() => viewer.stream === 'main' && viewer.messagesOf(viewer.inits.length - 1).filter((m) => m.kind === 2).length >= 30,
    { what: 'main-stream frames after the switch', timeout: patience(30000) });
  await viewer.close();

  const switchAt = viewer.inits.length - 1;
  const before = viewer.messagesOf(switchAt - 1).filter((m) => m.kind === 2);
  const after = viewer.messagesOf(switchAt).filter((m) => m.kind === 2);
  assert.equal(viewer.inits[switchAt - 1].text.stream, 'sub');
  assert.equal(`${viewer.inits[switchAt].width}x${viewer.inits[switchAt].height}`, `${MAIN.width}x${MAIN.height}`);
  // One timeline: the first main frame's decode time follows the last sub
  // frame's (90 kHz), as their capture times do.
  const lastSub = before.at(-1);
  const firstMain = after[0];
  const dtsStep = (decodeTime(firstMain.bytes) - decodeTime(lastSub.bytes)) / 90;
  const captureStep = (firstMain.captureUs - lastSub.captureUs) / 1000;
  assert.ok(captureStep > 0 && captureStep <= 2000, `capture step ${captureStep} ms`);
  assert.ok(Math.abs(dtsStep - captureStep) < 100, `decode time step ${dtsStep.toFixed(1)} ms for a capture step of ${captureStep} ms`);

  // The pictures: frame stamps increase across the switch, the gap within a GOP.
  const [subStamps, mainStamps] = stampsByInit(viewer, 'switch').slice(switchAt - 1);
  assert.ok(subStamps.length >= 10 && mainStamps.length >= 20, `${subStamps.length} sub, ${mainStamps.length} main stamps`);
  const all = [...subStamps, ...mainStamps];
  for (let i = 1; i < all.length; i++) assert.ok(all[i].timeMs > all[i - 1].timeMs, `stamp ${i} goes back: ${all[i - 1].timeMs} -> ${all[i].timeMs}`);
  const gap = mainStamps[0].timeMs - subStamps.at(-1).timeMs;
  assert.ok(gap > 0 && gap <= 2000, `the switch skipped ${gap} ms of pictures`);

  // The other sub viewer was not moved.
  assert.ok(other.inits.length > 0);
  assert.equal(other.stream, 'sub');
  assert.ok(!other.texts.some((t) => t.type === 'quality'));
  await other.close();
});

test('the sub-stream stops a few seconds after its last viewer left', { timeout: patience(60000) }, async () => {
  const viewer = new LiveViewer(admin, device.id, { quality: 'sub' });
  await viewer.opened;
  await waitFor(async () => (await deviceJson(device.id)).streams.sub.on, { what: 'the sub-stream on' });
  await waitFor(() => viewer.stream === 'sub', { what: 'the viewer on the sub-stream', timeout: patience(20000) });
  const onStatus = JSON.parse(await doorbell.control('status'));
  assert.equal(onStatus.encoders, 2, JSON.stringify(onStatus));
  assert.equal(onStatus.sub_stream.on, true);
  await viewer.close();
  const leftAt = Date.now();
  await waitFor(async () => !(await deviceJson(device.id)).streams.sub.on, { what: 'the hub turning the sub-stream off', timeout: patience(15000) });
  await waitFor(async () => JSON.parse(await doorbell.control('status')).encoders === 1,
    { what: 'the doorbell\'s sub encoder off', timeout: patience(15000) });
  const offAfter = Date.now() - leftAt;
  console.log(`sub-stream off ${offAfter} ms after its last viewer left`);
  assert.ok(offAfter >= 4000, `off after ${offAfter} ms: not before 5 s of no viewer`);
});

test('an automatic viewer that falls behind moves to the sub-stream, and back to main after keeping up for 30 s; the main stream keeps its bitrate', { timeout: patience(180000) }, async () => {
  const before = await deviceJson(device.id);
  const viewer = new LiveViewer(admin, device.id);   // auto, no preference: main
  await viewer.opened;
  await waitFor(() => viewer.videoFrames().length > 0, { what: 'the first frame' });
  assert.equal(viewer.stream, 'main');
  viewer.pause();
  await waitFor(async () => (await deviceJson(device.id)).live.viewer_skips > before.live.viewer_skips,
    { what: 'the stalled viewer skipped', timeout: patience(60000) });
  viewer.resume();
  await waitFor(() => viewer.stream === 'sub', { what: 'the viewer moved to the sub-stream', timeout: patience(20000) });
  assert.equal(viewer.inits.at(-1).text.reason, 'behind');
  assert.equal(viewer.size, `${SUB.width}x${SUB.height}`);
  await waitFor(() => viewer.messagesOf(viewer.inits.length - 1).filter((m) => m.kind === 2).length >= 15, { what: 'sub-stream frames' });
  const onSub = Date.now();
  await waitFor(() => viewer.stream === 'main', { what: 'the viewer back on main', timeout: patience(90000), interval: 500 });
  const back = Date.now() - onSub;
  console.log(`back on main ${back} ms after its sub-stream frames flowed`);
  assert.equal(viewer.inits.at(-1).text.reason, 'recovered');
  assert.ok(back >= 20000, `back after ${back} ms: it keeps up for 30 s on sub first`);
  const streams = (await deviceJson(device.id)).streams;
  assert.ok(streams.fall_backs >= 1 && streams.recoveries >= 1, JSON.stringify(streams));
  await viewer.close();
  const status = JSON.parse(await doorbell.control('status'));
  assert.equal(status.main_bitrate_kbps, MAIN_KBPS, 'nobody lowered the main stream');
});

test('POST /video is for admins, and names its stream', async () => {
  const denied = await viewerClient.api('POST', `/api/v1/devices/${device.id}/video`, { json: { bitrate_kbps: 800 } });
  assert.equal(denied.status, 403);
  const bad = await admin.api('POST', `/api/v1/devices/${device.id}/video`, { json: { stream: 'side', bitrate_kbps: 800 } });
  assert.equal(bad.status, 400);
  const ok = await admin.api('POST', `/api/v1/devices/${device.id}/video`, { json: { stream: 'sub', bitrate_kbps: 500 } });
  assert.equal(ok.status, 202);
  const audit = await admin.api('GET', '/api/v1/audit?action=video_quality');
  const rows = audit.json.entries || audit.json.items || audit.json;
  assert.ok(JSON.stringify(rows).includes('sub stream'), JSON.stringify(rows).slice(0, 500));
});

test('a doorbell without a sub-stream serves its main stream to a viewer asking for low, and says so', { timeout: patience(60000) }, async () => {
  const api = await deviceJson(plainDevice.id);
  assert.equal(api.streams.sub.available, false);
  const viewer = new LiveViewer(viewerClient, plainDevice.id, { quality: 'sub' });
  await viewer.opened;
  await waitFor(() => viewer.videoFrames().length >= 10, { what: 'frames', timeout: patience(20000) });
  assert.equal(viewer.stream, 'main');
  assert.equal(viewer.inits[0].text.reason, 'no_sub_stream');
  assert.equal(viewer.size, '640x360');
  viewer.send({ quality: 'sub' });
  await waitFor(() => viewer.texts.some((t) => t.type === 'quality'), { what: 'the answer' });
  const answer = viewer.texts.find((t) => t.type === 'quality');
  assert.deepEqual([answer.stream, answer.reason, answer.switching], ['main', 'no_sub_stream', false]);
  await viewer.close();
  assert.equal((await deviceJson(plainDevice.id)).streams.sub.on, false);
});
