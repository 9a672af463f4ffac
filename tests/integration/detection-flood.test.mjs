// A flood of detect frames does not disturb live view or recording: 19
// doorbells replay real footage of people walking (OpenCV's vtest.avi, made
// into a small y4m clip here), so each is in a motion event all the time and
// sends the hub 4 JPEGs a second for its person detector, far more than the
// detector's worker pool can look at. A 20th, simulated doorbell is watched
// live and recorded meanwhile, with its own events. Every frame it captured
// in that time is in the live view and in the recording, in order (the
// frame stamps drawn into its pictures say so), and the pool shows it
// dropped the frames it could not take instead of queueing them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor, sleep, stopAll, segmentFiles, videoFrameStamps } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { requireOrSkip } from '../lib/requirements.mjs';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const FLOODERS = 19;
const FLOOD_SECONDS = 25;
const missing = requireOrSkip(existsSync(VTEST), `${VTEST} (package opencv-doc)`);
const data = tempDir('doorstep-flood-');
let hub, admin, watched, watchedId;
const flooders = [];

before(async () => {
  if (missing) return;
  // Full size (768x576, whose walkers cost the detector ~65 ms a frame: 19
  // doorbells at 4 detect frames a second are several times what one
  // worker takes, on any machine), at 5 fps so that 19 encoders fit beside
  // the hub on two cores.
  const clip = join(data.dir, 'people.y4m');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', VTEST, '-t', '20', '-vf', 'fps=5',
    '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', clip]);
  hub = await Hub.start({ dataDir: join(data.dir, 'hub'), extra: ['--segment-seconds', '10'] });
  admin = await hub.admin();
  const device = hub.addDevice('Front door');
  watchedId = device.id;
  watched = await Doorbell.start({ hub, ...device, size: '640x360', fps: 10, bitrate: 300 });
  for (let i = 0; i < FLOODERS; i++) {
    const flooder = hub.addDevice(`Walkway ${i + 1}`);
    flooders.push(await Doorbell.start({ hub, ...flooder, size: '768x576', fps: 5, bitrate: 200,
      extra: ['--camera', `file:${clip}`] }));
  }
});

after(async () => {
  await stopAll(watched, ...flooders, hub);
  data.cleanup();
});

const status = async (doorbell) => JSON.parse(await doorbell.control('status'));

async function detection() {
  const response = await admin.api('GET', '/api/v1/detection');
  assert.equal(response.status, 200, response.body.toString());
  return response.json;
}

test(`${FLOODERS} doorbells flooding the person detector leave another's live view and recording whole`, { skip: missing, timeout: 420000 }, async () => {
  // Every flooder is in its motion event and sending detect frames.
  await waitFor(async () => {
    for (const flooder of flooders) if ((await status(flooder)).detect_frames_sent < 1) return false;
    return true;
  }, { timeout: 120000, interval: 1000, what: 'detect frames from every flooder' });
  const before = await detection();

  const viewer = new LiveViewer(await hub.admin(), watchedId);
  await viewer.opened;
  // The watched doorbell has events of its own meanwhile.
  for (let second = 0; second < FLOOD_SECONDS; second += 8) {
    assert.equal(await watched.control('visitor'), 'ok');
    await sleep(8000);
  }
  const sentInFlood = (await status(watched)).detect_frames_sent;
  await viewer.close();
  const after = await detection();
  await stopAll(...flooders);
  flooders.length = 0;

  console.log(`pool in the flood: ${after.submitted - before.submitted} frames offered, ${after.done - before.done} analysed, ${after.dropped - before.dropped} dropped unseen`);
  // The pool was flooded: it took frames and dropped what it could not take.
  assert.ok(after.submitted - before.submitted >= FLOODERS * 2 * FLOOD_SECONDS,
    `${after.submitted - before.submitted} frames offered to the pool`);
  assert.ok(after.dropped > before.dropped, `the pool dropped ${after.dropped - before.dropped} frames`);
  assert.ok(sentInFlood >= 1, 'the watched doorbell sent detect frames too');

  // Live: every frame since the viewer's first keyframe, in order.
  const liveFile = join(data.dir, 'live.mp4');
  writeFileSync(liveFile, viewer.mp4());
  const live = videoFrameStamps(liveFile).filter(Boolean);
  assert.ok(live.length >= FLOOD_SECONDS * 10 * 0.8, `${live.length} live frames in ${FLOOD_SECONDS} s at 10 fps`);
  for (let i = 1; i < live.length; i++) {
    assert.equal(live[i].sequence, (live[i - 1].sequence + 1) & 0xffff, `live frame ${i}: no gap`);
  }

  // Recording: the same frames are in the segments, in order.
  await watched.stop();
  watched = null;
  await waitFor(async () => {
    const response = await admin.api('GET', `/api/v1/devices/${watchedId}/recordings?from=0`);
    return response.status === 200 && response.json.recordings.every((r) => !r.recording);
  }, { timeout: 60000, what: 'the last segment closed' });
  const recorded = segmentFiles(join(data.dir, 'hub'), watchedId).flatMap((file) => videoFrameStamps(file)).filter(Boolean);
  for (let i = 1; i < recorded.length; i++) {
    assert.equal(recorded[i].sequence, (recorded[i - 1].sequence + 1) & 0xffff, `recorded frame ${i}: no gap or duplicate`);
  }
  const first = recorded.findIndex((stamp) => stamp.sequence === live[0].sequence);
  assert.ok(first >= 0, 'the live frames are in the recording');
  assert.ok(recorded.length - first >= live.length, 'the recording holds every live frame');
});
