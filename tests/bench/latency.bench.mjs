// Live view latency in Chromium over MSE: the hub, one simulated
// doorbell (1280x720, 30 fps, 2000 kbit/s) and headless Chromium on the
// doorbell's page. Measures (i) time from opening live view (the player's
// openedMs) to its first presented frame over repeated openings, and
// (ii) glass-to-glass latency — presentation time of each frame minus the
// capture time in its frame stamp — over a steady window, with frames
// missing, frames presented late (> 2.5 frame periods after the previous
// one) and player underflows. Prints JSON lines; asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/latency.bench.mjs
//   BENCH_SECONDS (default 30), BENCH_OPENINGS (default 12),
//   BENCH_PRESET (x264 preset of the doorbell, default ultrafast),
//   BENCH_AUDIO=1 (the doorbell also sends Opus audio from a test tone; the
//   page unmutes before (ii), so the player plays the audio track too),
//   BENCH_TUNING='{"start":0.08,"min":0.08,"adapt":false}' (override the
//   player's buffer policy, see www/js/live/latency.js)

import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, activePlayer, summariseFrames, percentile } from '../lib/browser.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const OPENINGS = Number(process.env.BENCH_OPENINGS || 12);
const PRESET = process.env.BENCH_PRESET || 'ultrafast';
const AUDIO = process.env.BENCH_AUDIO === '1';
const FPS = 30;

const data = tempDir('doorstep-bench-');
const hub = await Hub.start({ dataDir: data.dir });
const admin = await hub.admin();
const device = hub.addDevice('Bench');
const doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: FPS, bitrate: 2000, audio: AUDIO, extra: ['--preset', PRESET] });
const browser = await launchChromium();
const print = (figure) => console.log(JSON.stringify({ ...figure, preset: PRESET, audio: AUDIO, size: '1280x720', fps: FPS, bitrate_kbps: 2000 }));

try {
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
  print({ figure: 'live_first_picture_ms', openings: firsts.length, p50: percentile(firsts, 50),
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
  const summary = summariseFrames(frames, { fps: FPS });
  const state = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
  print({ figure: 'live_glass_to_glass_ms', seconds: SECONDS, ...summary,
    dropped_by_browser: after.dropped - before.dropped, viewer_skips: state.live ? state.live.viewer_skips : null,
    player: stats, tuning: process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : undefined, target_p50_ms: 150, target_p95_ms: 250 });
  await context.close();
} finally {
  await browser.close();
  await doorbell.stop();
  await hub.stop();
  data.cleanup();
}
