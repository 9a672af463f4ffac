// Live view latency in Chromium over MSE: the hub, one simulated
// doorbell with `make run`'s settings (scripts/run.sh starts doorbelld with
// its defaults: 1280x720, 30 fps, 2000 kbit/s, x264 veryfast, a keyframe
// every 2 s) and headless Chromium on the doorbell's page. Measures
// (i) time from opening live view (the player's openedMs) to its first
// presented frame over repeated openings, and (ii) glass-to-glass latency —
// presentation time of each frame minus the capture time in its frame
// stamp — over a steady window, with frames missing, frames presented late
// (> 2.5 frame periods after the previous one), player underflows (the
// buffer ran dry) and stalls (frames in hand, the decoder late).
// BENCH_RUNS times over, each run with a fresh hub, doorbell and browser;
// before each run it prints the load average (/proc/loadavg), and at the end
// the median of the runs' figures. Prints JSON lines; asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/latency.bench.mjs
//   BENCH_RUNS (default 3), BENCH_SECONDS (default 30), BENCH_OPENINGS
//   (default 12), BENCH_PRESET (default veryfast), BENCH_SIZE (default
//   1280x720), BENCH_AUDIO=1 (the doorbell also sends Opus audio from a test
//   tone; the page unmutes before (ii), so the player plays sound too: through
//   WebCodecs and an AudioWorklet in Chromium, the video alone in MSE; see
//   sound.bench.mjs for glass-to-ear), BENCH_TUNING='{"start":0.08,"min":0.08,"adapt":false}' (override
//   the player's buffer policy, see www/js/live/latency.js), BENCH_DUMP=FILE
//   (write the last run's presented frames, as the player's hook reports
//   them, to FILE as JSON)

import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, activePlayer, summariseFrames, percentile } from '../lib/browser.mjs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const OPENINGS = Number(process.env.BENCH_OPENINGS || 12);
const PRESET = process.env.BENCH_PRESET || 'veryfast';
const SIZE = process.env.BENCH_SIZE || '1280x720';
const AUDIO = process.env.BENCH_AUDIO === '1';
const FPS = 30;
const BITRATE = 2000;

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
let commit = null;
try {
  commit = execFileSync('git', ['describe', '--always', '--dirty'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout */ }
const settings = { commit, preset: PRESET, size: SIZE, fps: FPS, bitrate_kbps: BITRATE, audio: AUDIO };

// One run with a fresh hub, doorbell and browser: { first, glass } figures.
async function measure(run) {
  const load = loadAverage();
  console.log(JSON.stringify({ figure: 'run', run, loadavg: load, ...settings }));
  const data = tempDir('doorstep-bench-');
  const hub = await Hub.start({ dataDir: data.dir });
  let doorbell = null;
  let browser = null;
  const print = (figure) => { const out = { ...figure, run, loadavg_before: load, ...settings }; console.log(JSON.stringify(out)); return out; };
  try {
    const admin = await hub.admin();
    const device = hub.addDevice('Bench');
    doorbell = await Doorbell.start({ hub, ...device, size: SIZE, fps: FPS, bitrate: BITRATE, audio: AUDIO, extra: ['--preset', PRESET] });
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
  // Diagnostics: override the player's buffer tuning, e.g. BENCH_TUNING='{"start":0.08,"adapt":false}'.
  if (process.env.BENCH_TUNING) await context.addInitScript(`window.doorstepLiveTuning = ${process.env.BENCH_TUNING};`);
  const page = await context.newPage();
  const devicePage = `${hub.url}/#/devices/${device.id}`;

  // (i) opening live view -> first picture, over repeated openings.
  await page.goto(`${hub.url}/#/devices`);
  await page.getByTestId('nav-devices').waitFor();
  const firsts = [];
  for (let i = 0; i < OPENINGS + 1; i++) {
    await page.evaluate((url) => { location.href = url; }, devicePage);
    const player = await waitFor(async () => {
      const p = await activePlayer(page, device.id);
      return p && p.firstFrameMs !== null ? p : null;
    }, { timeout: 15000, what: 'the first frame' });
    if (i > 0) firsts.push(Math.round(player.firstFrameMs - player.openedMs));   // the first opening warms caches
    await sleep(300 + Math.random() * 700);                        // land anywhere in the GOP
    await page.evaluate(() => { location.hash = '#/devices'; });
    await page.getByTestId('device-grid').waitFor();
    await sleep(200);
  }
  firsts.sort((a, b) => a - b);
  const first = print({ figure: 'live_first_picture_ms', openings: firsts.length, p50: percentile(firsts, 50),
    p95: percentile(firsts, 95), max: firsts[firsts.length - 1], target_ms: 300 });

  // (ii) glass-to-glass over a steady window.
  await page.evaluate((url) => { location.href = url; }, devicePage);
  await waitFor(async () => {
    const p = await activePlayer(page, device.id);
    return p && p.firstFrameMs !== null;
  }, { timeout: 15000, what: 'live view' });
  if (AUDIO) {   // sound plays only when unmuted (the player then reopens with the audio track)
    await page.getByTestId('live-mute').click();
    await waitFor(async () => {
      const p = await activePlayer(page, device.id);
      return p && p.audio && p.state === 'live';
    }, { timeout: 15000, what: 'live view with sound' });
  }
  await sleep(3000);                                                // settle (target adapts)
  const startMs = Date.now();
  const statsBefore = (await activePlayer(page, device.id)).stats;
  const before = await page.evaluate(() => {
    const v = document.querySelector('[data-testid="live-player"]');
    return { dropped: v.getVideoPlaybackQuality().droppedVideoFrames };
  });
  const frames = [];
  let lastPresented = 0;
  // The hook keeps 2000 frames (66 s at 30 fps); read it every 10 s anyway.
  while (Date.now() - startMs < SECONDS * 1000) {
    await sleep(Math.min(10000, SECONDS * 1000 - (Date.now() - startMs)));
    const p = await activePlayer(page, device.id);
    for (const f of p.frames) if (f.presentedMs > lastPresented && f.presentedMs >= startMs) { frames.push(f); lastPresented = f.presentedMs; }
  }
  const after = await page.evaluate(() => {
    const v = document.querySelector('[data-testid="live-player"]');
    const s = document.querySelector('[data-testid="live-stats"]');
    return { dropped: v.getVideoPlaybackQuality().droppedVideoFrames, buffer: s && s.dataset };
  });
  const stats = (await activePlayer(page, device.id)).stats;
  for (const key of ['jumps', 'underflows', 'reconnects', 'rebuilds']) stats[key] -= statsBefore[key];
  if (process.env.BENCH_DUMP) (await import("node:fs")).writeFileSync(process.env.BENCH_DUMP, JSON.stringify(frames));
  const summary = summariseFrames(frames, { fps: FPS });
  const state = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
  const glass = print({ figure: 'live_glass_to_glass_ms', seconds: SECONDS, ...summary,
    dropped_by_browser: after.dropped - before.dropped, viewer_skips: state.live ? state.live.viewer_skips : null,
    player: stats, tuning: process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : undefined, target_p50_ms: 120, target_p95_ms: 200 });
  await context.close();
  return { first, glass };
}

const runs = [];
for (let run = 1; run <= RUNS; run++) runs.push(await measure(run));
const median = (values) => {
  const sorted = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return sorted.length ? sorted[(sorted.length - 1) >> 1] : null;
};
const pick = (part, key) => median(runs.map((r) => r[part][key]));
console.log(JSON.stringify({
  figure: 'median_of_runs', runs: RUNS, ...settings,
  loadavg_before: runs.map((r) => r.first.loadavg_before[0]),
  first_picture_ms: { p50: pick('first', 'p50'), p95: pick('first', 'p95'), max: pick('first', 'max') },
  glass_to_glass_ms: { p50: pick('glass', 'p50'), p95: pick('glass', 'p95'), p99: pick('glass', 'p99') },
  missing: pick('glass', 'missing'), late: pick('glass', 'late'),
  underflows: median(runs.map((r) => r.glass.player.underflows)),
  stalls: median(runs.map((r) => r.glass.player.stalls)),
  jumps: median(runs.map((r) => r.glass.player.jumps)),
  target_ms_at_end: median(runs.map((r) => r.glass.player.targetMs)),
}));
