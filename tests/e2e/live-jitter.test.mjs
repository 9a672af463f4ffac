// Browser end-to-end test of live view with jittered capture times: the
// real hub, a real simulated doorbell at 1280x720 30 fps whose capture times
// (and the frame stamps drawn from them) are moved by up to +-20 ms
// (doorbelld --capture-jitter-ms), and Debian's Chromium playing it through
// the UI's player. A live fragment's duration is a promise about where the
// next frame starts; when the hub broke it, Chromium's Media Source dropped
// frames up to the next keyframe and the picture froze
// (appliance/live/live_timeline.c). Judged by what Chromium presented: the
// distinct frame stamps the player's test hook decoded from the pictures on
// screen, against the frames the doorbell sent over the same stretch of its
// own sequence numbers, never against the wall clock. Then again with two
// processes spinning on the CPUs.
//
// Two figures are judged (and `lost`, frames that vanished between two
// presented ones without Chromium counting them, is reported). `frozen`: frames in runs of a second or more that never
// reached the screen. Media Source dropping everything up to the next
// keyframe after an overlap or a discontinuity makes runs of up to a GOP
// (54-59 frames each, over 80 % of the window, before the fix); a busy
// machine makes short runs (at most 16 frames at a load of 6.5 per CPU).
// At most 5 % of the frames sent. `share`: frames Chromium presented
// over frames sent, at least 95 % (75 % with the two hogs). A machine
// already busier than one runnable process per CPU before the test (other
// builds, a CI machine under load) drops frames as late whatever the hub
// does: there (a) is held to the loaded bound, 75 %, and (b), which would then
// run beyond two hogs' worth of load, reports its share without judging it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, activePlayer, withPage as openPage } from '../lib/browser.mjs';

const FPS = 30;
const JITTER_MS = 20;
const WINDOW = 12 * FPS;          // frames judged: 12 s of the doorbell's frames
const FREEZE = FPS;               // a second or more of frames never on screen
const wait = (fn, options = {}) => waitFor(fn, { ...options, timeout: patience(options.timeout ?? 20000) });
const data = tempDir('doorstep-e2e-live-jitter-');
let hub;
let admin;
let browser;
let device;
let doorbell;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: FPS, bitrate: 2000,
    extra: ['--capture-jitter-ms', String(JITTER_MS)] });
  await wait(async () => {
    const state = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    return state.online && state.video && state.video.frames > 30;
  }, { timeout: 30000, what: 'the doorbell streaming' });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

// How many frames sequence is after first (16-bit stamp sequence numbers).
const framesAfter = (sequence, first) => (sequence - first + 65536) % 65536;

// Open live view and judge WINDOW of the doorbell's frames: how many of the
// frames it sent did Chromium present (distinct decoded stamps)?
async function presentedShare(t) {
  const loadPerCpu = os.loadavg()[0] / os.cpus().length;
  let result;
  await openPage({ browser, hub, client: admin }, `/devices/${device.id}`, async ({ page }) => {
    await wait(async () => {
      const player = await activePlayer(page, device.id);
      return player && player.frames.filter((f) => f.sequence !== null).length > FPS;
    }, { timeout: 30000, what: 'live view presenting frames' });
    const first = await doorbell.stats();
    const playerBefore = (await activePlayer(page, device.id)).stats;
    const hubBefore = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.live;
    // The doorbell's next WINDOW frames, however long they take on this machine.
    const last = await wait(async () => {
      const now = await doorbell.stats();
      return framesAfter(now.last_sequence & 0xffff, first.last_sequence & 0xffff) >= WINDOW ? now : null;
    }, { timeout: 60000, interval: 250, what: `the doorbell's next ${WINDOW} frames` });
    const span = framesAfter(last.last_sequence & 0xffff, first.last_sequence & 0xffff);
    // The player has had its chance at all of them once it presents a later one.
    const inWindow = (f) => f.sequence !== null && framesAfter(f.sequence, first.last_sequence & 0xffff) > 0 &&
      framesAfter(f.sequence, first.last_sequence & 0xffff) <= span;
    const frames = await wait(async () => {
      const player = await activePlayer(page, device.id);
      const later = player.frames.some((f) => f.sequence !== null && framesAfter(f.sequence, first.last_sequence & 0xffff) > span &&
        framesAfter(f.sequence, first.last_sequence & 0xffff) < 30000);
      return later ? player.frames : null;
    }, { timeout: 30000, interval: 250, what: 'a frame after the window on screen' });
    const seen = new Set(frames.filter(inWindow).map((f) => f.sequence));
    const presented = seen.size;
    // Runs of frames never presented, by length: single frames a busy
    // compositor skipped, or a freeze (dozens, up to a keyframe).
    const missingRuns = {};
    let frozen = 0;
    for (let i = 1, run = 0; i <= span + 1; i++) {
      if (i <= span && !seen.has((first.last_sequence + i) & 0xffff)) { run++; continue; }
      if (run > 0) missingRuns[run] = (missingRuns[run] || 0) + 1;
      if (run >= FREEZE) frozen += run;
      run = 0;
    }
    const sent = last.video_sent - first.video_sent;
    // Where the others went, from consecutive presented frames: the
    // compositor showed several between two callbacks (presentedFrames),
    // Chromium dropped them as too late to show (dropped), or the player
    // jumped to the live edge over them (jumps). The rest were lost before
    // decoding: Media Source dropping frames after an overlap or a
    // discontinuity, which is what jittered capture times caused.
    const onScreen = frames.filter(inWindow);
    let steps = 0, accounted = 0, skippedByJumps = 0, betweenCallbacks = 0;
    for (let i = 1; i < onScreen.length; i++) {
      const [a, b] = [onScreen[i - 1], onScreen[i]];
      const step = framesAfter(b.sequence, a.sequence);
      if (step === 0 || step >= 30000) continue;
      if (b.jumps !== a.jumps) { skippedByJumps += step - 1; continue; }
      steps += step;
      accounted += (b.presentedFrames - a.presentedFrames) + (b.dropped - a.dropped);
      betweenCallbacks += Math.max(0, Math.min(step, b.presentedFrames - a.presentedFrames) - 1);
    }
    const player = (await activePlayer(page, device.id)).stats;
    const hubAfter = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.live;
    result = {
      loadPerCpu,
      produced: span, sent, stamps: presented, presented: presented + betweenCallbacks,
      share: (presented + betweenCallbacks) / Math.max(1, sent),
      frozen, lost: Math.max(0, steps - accounted), skippedByJumps, missingRuns,
      doorbell_dropped: last.video_dropped - first.video_dropped,
      viewer_skips: hubAfter && hubBefore ? hubAfter.viewer_skips - hubBefore.viewer_skips : null,
      player: Object.fromEntries(Object.entries(player).filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => [k, v - (playerBefore[k] ?? 0)])),
    };
    t.diagnostic(JSON.stringify(result));
  });
  return result;
}

// Judge a window: no freezes, and at least `least` of the
// frames sent presented where the machine had the CPU for it.
// quiet: the share expected on a machine not already busy; loaded: on a
// busy one, or null where the share is only reported.
function judge(t, result, quiet, loaded) {
  const how = JSON.stringify(result);
  assert.ok(result.frozen <= 0.05 * result.sent, `at most 5 % of the frames in freezes of a second or more (${how})`);
  const least = result.loadPerCpu > 1 ? loaded : quiet;
  if (least === null) {
    t.diagnostic(`share ${result.share.toFixed(3)} not judged: load ${result.loadPerCpu.toFixed(1)} per CPU before the window`);
    return;
  }
  assert.ok(result.share >= least, `presented ${result.presented} of ${result.sent} frames sent, at least ${least * 100} % (${how})`);
}

// Run fn with count processes spinning on the CPUs; they are killed after.
async function withCpuHogs(count, fn) {
  const hogs = [];
  try {
    for (let i = 0; i < count; i++) {
      hogs.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    }
    return await fn();
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
  }
}

test(`(a) with +-${JITTER_MS} ms capture jitter no freeze and Chromium presents >= 95 %`, { timeout: patience(180000) }, async (t) => {
  judge(t, await presentedShare(t), 0.95, 0.75);
});

test(`(b) with +-${JITTER_MS} ms jitter and two CPU hogs no freeze and Chromium presents >= 75 %`, { timeout: patience(180000) }, async (t) => {
  const loadPerCpu = os.loadavg()[0] / os.cpus().length;   // before the hogs
  judge(t, { ...(await withCpuHogs(2, () => presentedShare(t))), loadPerCpu }, 0.75, null);
});
