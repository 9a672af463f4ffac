// Live sound in Chromium: glass-to-ear and lip sync. The hub, one simulated
// doorbell (640x360 at 30 fps, 800 kbit/s, x264 veryfast) whose ALSA file
// microphone plays 1 kHz tone bursts of 100 ms once a second (each burst
// starts a 20 ms Opus packet, so the packet's capture time is the burst's),
// and headless Chromium on the doorbell's page, unmuted: the sound goes
// through WebCodecs AudioDecoder and the AudioWorklet of
// www/js/live/sound.js (BENCH_SOUND_PATH=mse deletes AudioDecoder from the
// page, so the player's MSE fallback plays it: then only glass-to-glass is
// measured, as the <video>'s audio cannot be timed from the page).
// Figures over BENCH_SECONDS of steady play:
//  - glass-to-ear: for each burst, when the worklet renders its first loud
//    sample (the render's context time mapped to the page's clock with
//    AudioContext.getOutputTimestamp, which includes the output latency)
//    minus the capture time of the doorbell packet it came in;
//  - lip sync: the sound's glass-to-ear minus the video's glass-to-glass,
//    as the player computes it (median of the last 9 worklet reports, each
//    the head sample's output time minus its capture time, against the
//    median of the last 30 presented frames' stamp latency), sampled every
//    250 ms; and the bursts' glass-to-ear against the video's median
//    glass-to-glass over the same window;
//  - the video's glass-to-glass with sound on (frame stamps);
//  - the worklet's counters over the window (underflows, skips, holds).
// BENCH_RUNS times over, each run with a fresh hub, doorbell and browser;
// prints JSON lines, the medians of the runs last; asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/sound.bench.mjs
//   BENCH_RUNS (default 3), BENCH_SECONDS (default 30), BENCH_SOUND_PATH
//   (webcodecs, default, or mse)

import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, activePlayer, summariseFrames, percentile } from '../lib/browser.mjs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const PATH = process.env.BENCH_SOUND_PATH || 'webcodecs';
const FPS = 30;
const SIZE = '640x360';
const BITRATE = 800;
const BURSTS = { period: 1, length: 0.1 };

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
let commit = null;
try {
  commit = execFileSync('git', ['describe', '--always', '--dirty'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout */ }
const settings = { commit, size: SIZE, fps: FPS, bitrate_kbps: BITRATE, path: PATH };
const sorted = (values) => values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
const median = (values) => { const s = sorted(values); return s.length ? s[(s.length - 1) >> 1] : null; };

async function measure(run) {
  const load = loadAverage();
  console.log(JSON.stringify({ figure: 'run', run, loadavg: load, ...settings }));
  const data = tempDir('doorstep-bench-sound-');
  const hub = await Hub.start({ dataDir: data.dir });
  let doorbell = null;
  let browser = null;
  const print = (figure) => { const out = { ...figure, run, loadavg_before: load, ...settings }; console.log(JSON.stringify(out)); return out; };
  try {
    const admin = await hub.admin();
    const device = hub.addDevice('Bench');
    doorbell = await Doorbell.start({ hub, ...device, size: SIZE, fps: FPS, bitrate: BITRATE,
      audio: { frequency: 1000, amplitude: 12000, seconds: 60 + 2 * SECONDS, bursts: BURSTS }, extra: ['--preset', 'veryfast'] });
    browser = await launchChromium();
    return await measureWith({ hub, admin, device, browser, print });
  } finally {
    if (browser) await browser.close();
    if (doorbell) await doorbell.stop();
    await hub.stop();
    data.cleanup();
  }
}

async function measureWith({ hub, admin, device, browser, print }) {
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video.frames > 60,
    { what: 'doorbell streaming' });
  const context = await loggedInContext(browser, hub, admin);
  if (PATH === 'mse') await context.addInitScript('delete window.AudioDecoder;');
  const page = await context.newPage();
  await page.goto(`${hub.url}/#/devices/${device.id}`);
  await waitFor(async () => {
    const p = await activePlayer(page, device.id);
    return p && p.firstFrameMs !== null;
  }, { timeout: 15000, what: 'live view' });
  await page.getByTestId('live-mute').click();
  await waitFor(async () => {
    const p = await activePlayer(page, device.id);
    return p && p.audio && p.state === 'live' && (PATH === 'mse' || (p.sound && p.sound.state === 'playing'));
  }, { timeout: 15000, what: 'live view with sound' });
  await sleep(5000);                                                // settle (targets adapt)
  const startMs = Date.now();
  const before = (await activePlayer(page, device.id)).sound;
  const frames = [];
  const lipSync = [];
  let lastPresented = 0;
  while (Date.now() - startMs < SECONDS * 1000) {
    await sleep(250);
    const p = await activePlayer(page, device.id);
    if (p.sound && typeof p.sound.lipSyncMs === 'number') lipSync.push(p.sound.lipSyncMs);
    for (const f of p.frames) if (f.presentedMs > lastPresented && f.presentedMs >= startMs) { frames.push(f); lastPresented = f.presentedMs; }
  }
  const p = await activePlayer(page, device.id);
  const video = summariseFrames(frames, { fps: FPS });
  const glass = print({ figure: 'sound_on_glass_to_glass_ms', seconds: SECONDS, ...video, video_target_ms: frames.at(-1)?.targetMs });
  let ear = null;
  if (PATH !== 'mse') {
    const onsets = p.sound.onsets.filter((o) => o.earMs >= startMs);
    const latencies = sorted(onsets.map((o) => o.earMs - o.captureMs));
    const offsets = sorted(onsets.map((o) => o.offsetFrames));
    const counters = {};
    for (const [key, value] of Object.entries(p.sound.worklet)) counters[key] = value - (before.worklet[key] || 0);
    const lips = sorted(lipSync);
    const absLips = sorted(lipSync.map(Math.abs));
    ear = print({ figure: 'glass_to_ear_ms', seconds: SECONDS, bursts: onsets.length,
      p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1),
      onset_offset_frames_p50: percentile(offsets, 50),
      lip_sync_ms: { p50: percentile(lips, 50), p5: percentile(lips, 5), p95: percentile(lips, 95),
        abs_p95: percentile(absLips, 95), within_45_pct: Math.round((100 * lipSync.filter((x) => Math.abs(x) <= 45).length) / Math.max(1, lipSync.length)) },
      bursts_minus_video_p50_ms: latencies.length && video.p50 !== null ? percentile(latencies, 50) - video.p50 : null,
      worklet: counters, target_ms: p.sound.targetMs, floor_ms: p.sound.floorMs, output_latency_ms: p.sound.outputLatencyMs,
      target_p50_ms: 150 });
  }
  await context.close();
  return { glass, ear };
}

const runs = [];
for (let run = 1; run <= RUNS; run++) runs.push(await measure(run));
const pick = (part, fn) => median(runs.map((r) => (r[part] ? fn(r[part]) : null)));
console.log(JSON.stringify({
  figure: 'median_of_runs', runs: RUNS, ...settings,
  loadavg_before: runs.map((r) => r.glass.loadavg_before[0]),
  glass_to_ear_ms: { p50: pick('ear', (e) => e.p50), p95: pick('ear', (e) => e.p95) },
  lip_sync_ms: { p50: pick('ear', (e) => e.lip_sync_ms.p50), abs_p95: pick('ear', (e) => e.lip_sync_ms.abs_p95),
    within_45_pct: pick('ear', (e) => e.lip_sync_ms.within_45_pct) },
  bursts_minus_video_p50_ms: pick('ear', (e) => e.bursts_minus_video_p50_ms),
  glass_to_glass_ms: { p50: pick('glass', (g) => g.p50), p95: pick('glass', (g) => g.p95) },
  underflows: pick('ear', (e) => e.worklet.underflows), skips: pick('ear', (e) => e.worklet.skips),
}));
