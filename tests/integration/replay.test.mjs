// Replay doorbells (`doorbelld --replay FILE.h264`, firmware/replay/): one
// process plays a pre-encoded H.264 file as two doorbells. The hub gets
// every frame of both, in order and without gaps, and records all of them:
// decoded, the recorded pictures are the file's pictures, looped from its
// first frame. Files the hub could not record are refused at start-up.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, waitFor, tempDir, BUILD, segmentFiles, libwebsocketsLeakEnv } from '../lib/harness.mjs';

const FRAMES = 300; // 10 s at 30 fps: the 4-s clip loops twice
const data = tempDir('doorstep-replay-');
const hubData = tempDir('doorstep-replay-hub-');
let hub, admin, doorbell, devices, clip;

// An H.264 Annex B clip from ffmpeg's libx264: GOP 1 s, no B-frames.
function encodeClip(path, { seconds = 4 } = {}) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '600k',
    '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0',
    '-x264-params', 'repeat-headers=1', '-f', 'h264', path]);
  return path;
}

// MD5 of every decoded picture of a file, in decode order.
function pictureHashes(file) {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-fps_mode', 'passthrough', '-f', 'framemd5', '-'],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  return out.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split(',').pop().trim());
}


const device = async (id) => (await admin.api('GET', `/api/v1/devices/${id}`)).json;
const recordings = async (id) => (await admin.api('GET', `/api/v1/devices/${id}/recordings?from=0`)).json.recordings;

before(async () => {
  clip = encodeClip(join(data.dir, 'clip.h264'));
  hub = await Hub.start({ dataDir: hubData.dir, extra: ['--segment-seconds', '4'] });
  admin = await hub.admin();
  devices = [hub.addDevice('Replay A'), hub.addDevice('Replay B')];
  const list = join(data.dir, 'devices.txt');
  writeFileSync(list, `# more doorbells of this process\n${devices[1].id} ${devices[1].secret}\n`);
  // One libwebsockets context per link (tests/lsan-libwebsockets.supp).
  process.env.LSAN_OPTIONS = libwebsocketsLeakEnv().LSAN_OPTIONS;
  try {
    doorbell = await Doorbell.start({ hub, ...devices[0], extra: ['--replay', clip, '--replay-devices', list] });
  } finally {
    delete process.env.LSAN_OPTIONS;
  }
});

after(async () => {
  const stopping = doorbell;
  doorbell = null;
  try {
    if (stopping) await stopping.stop();
  } finally {
    if (hub) await hub.stop();
    data.cleanup();
    hubData.cleanup();
  }
});

test('two replay links of one process: every frame arrives, in order, and is recorded', async () => {
  for (const { id } of devices) {
    await waitFor(async () => (await device(id)).video.frames >= FRAMES, { timeout: 60000, what: `${FRAMES} frames from ${id}` });
  }
  const stats = await doorbell.stats();
  assert.equal(stats.mode, 'replay');
  assert.equal(stats.links, 2);
  assert.equal(stats.connected, 2);
  assert.equal(stats.auth_failures, 0);
  const stopping = doorbell;
  doorbell = null;
  await stopping.stop();

  const clipHashes = pictureHashes(clip);
  assert.equal(clipHashes.length, 120, 'the clip decodes to 4 s of frames');
  for (const { id } of devices) {
    const state = await device(id);
    assert.match(state.firmware, / \(replay\)$/);
    assert.equal(state.video.width, 640);
    assert.equal(state.video.gaps, 0, 'no frame missing');
    assert.equal(state.video.duplicates, 0);
    assert.equal(state.video.reordered, 0);
    assert.equal(state.video.frames, state.video.last_sequence - state.video.first_sequence + 1);

    await waitFor(async () => (await recordings(id)).every((r) => !r.recording), { what: `${id}: last segment closed` });
    const rows = await recordings(id);
    assert.ok(rows.length >= 2, `${rows.length} segments`);
    assert.equal(rows.reduce((n, r) => n + r.video_frames, 0), state.video.frames, 'every received frame is recorded');

    // The recorded pictures are the clip's, from its first frame on, looped.
    const recorded = segmentFiles(hubData.dir, id).flatMap(pictureHashes);
    assert.equal(recorded.length, state.video.frames);
    const mismatch = recorded.findIndex((hash, i) => hash !== clipHashes[i % clipHashes.length]);
    assert.equal(mismatch, -1, `recorded picture ${mismatch} is not clip frame ${mismatch % clipHashes.length}`);
  }
});

test('a file the hub could not record is refused at start-up with the reason', () => {
  const run = (file) => spawnSync(join(BUILD, 'doorbelld'), ['--hub', 'wss://127.0.0.1:1', '--device-id', devices[0].id,
    '--secret', devices[0].secret, '--replay', file], { encoding: 'utf8', timeout: 30000 });

  // The second IDR without its SPS and PPS: the hub refuses such keyframes.
  const bytes = readFileSync(encodeClip(join(data.dir, 'two-gops.h264'), { seconds: 2 }));
  const nalStart = (from) => {
    const at = bytes.indexOf(Buffer.from([0, 0, 1]), from);
    return at > 0 && bytes[at - 1] === 0 ? at - 1 : at;
  };
  const sps = Buffer.from([0, 0, 0, 1, 0x67]);
  const secondSps = bytes.indexOf(sps, bytes.indexOf(sps) + 1);
  const idr = nalStart(nalStart(secondSps + 5) + 5); // after the SPS, then after the PPS
  assert.ok(secondSps > 0 && (bytes[bytes.indexOf(Buffer.from([0, 0, 1]), idr) + 3] & 0x1f) === 5, 'found the second IDR');
  const bareFile = join(data.dir, 'bare.h264');
  writeFileSync(bareFile, Buffer.concat([bytes.subarray(0, secondSps), bytes.subarray(idr)]));
  const bare = run(bareFile);
  assert.equal(bare.status, 1, bare.stderr);
  assert.match(bare.stderr, /has no SPS\/PPS \(encode with x264's repeat-headers=1\)/);

  const junk = join(data.dir, 'junk.h264');
  writeFileSync(junk, Buffer.from('not a video at all'));
  const notVideo = run(junk);
  assert.equal(notVideo.status, 1, notVideo.stderr);
  assert.match(notVideo.stderr, /not an H\.264 Annex B stream/);
  assert.doesNotMatch(bare.stderr + notVideo.stderr, /Sanitizer|runtime error/);
});

// `--replay-tcp HOST:PORT,COUNT` (the recording bench's feed for ffmpeg):
// no hub; each of COUNT listeners on consecutive ports gets the file's bytes
// as they are, in order and looped, on the fps schedule.
test('--replay-tcp writes the bare file to each TCP listener, looped and paced', async () => {
  const net = await import('node:net');
  const file = readFileSync(clip);
  const servers = [];
  const received = [Buffer.alloc(0), Buffer.alloc(0)];
  const listenOn = (port, index) => new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.on('data', (chunk) => { received[index] = Buffer.concat([received[index], chunk]); }));
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
  let base = 0;
  for (let attempt = 0; attempt < 20 && servers.length < 2; attempt++) {
    base = 30000 + Math.floor(Math.random() * 20000);
    try {
      servers.push(await listenOn(base, 0));
      servers.push(await listenOn(base + 1, 1));
    } catch {
      for (const server of servers.splice(0)) server.close();
    }
  }
  assert.equal(servers.length, 2, 'two consecutive free ports');
  const { spawn } = await import('node:child_process');
  const child = spawn(join(BUILD, 'doorbelld'), ['--replay', clip, '--replay-tcp', `127.0.0.1:${base},2`,
    '--size', '640x360', '--fps', '30'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => received.every((bytes) => bytes.length > 0), { timeout: 20000, what: 'bytes on both listeners' });
  const started = Date.now();
  await waitFor(() => Date.now() - started > 6000, { timeout: 10000, what: '6 s' });
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr.slice(-500)); // a clean exit on SIGTERM
  await waitFor(() => received.every((bytes) => bytes.length > file.length), { timeout: 5000, what: 'the rest' });
  for (const server of servers) server.close();
  for (const bytes of received) {
    // Over 6 s at 30 fps of a 4 s file: more than the file once, and on
    // schedule, not as fast as the socket takes it (a few seconds' worth).
    assert.ok(bytes.length > file.length && bytes.length < 10 * file.length, `${bytes.length} bytes of a ${file.length}-byte file`);
    for (let offset = 0; offset < bytes.length; offset += file.length) {
      const part = bytes.subarray(offset, Math.min(bytes.length, offset + file.length));
      assert.ok(part.equals(file.subarray(0, part.length)), `the file again from its start at byte ${offset}`);
    }
  }
  const refused = spawnSync(join(BUILD, 'doorbelld'), ['--replay', clip, '--replay-tcp', 'nowhere'], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--replay-tcp wants/);
});
