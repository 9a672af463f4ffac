// Seek in a recording -> first picture (target <= 200 ms), in
// headless Chromium over MSE. The hub records a simulated doorbell (1280x720,
// 30 fps, 2000 kbit/s, a keyframe every 2 s, Opus audio) for
// BENCH_RECORD_SECONDS, the doorbell stops (its encoder would otherwise share
// the CPU), then a page on the hub's origin seeks to random instants of the
// recording, one at a time, as a player would: fetch
// /api/v1/devices/{id}/playback?from=<instant>, append the body to a fresh
// MediaSource SourceBuffer as it arrives (duration Infinity and a live
// seekable range, since the stream has no known end), set currentTime to
// (instant - X-Playback-Start-Ms) / 1000 once the init segment is in, and
// stop the clock when requestVideoFrameCallback reports the first frame
// presented at that time (p50/p95; any_picture_* is the first frame
// presented at all, which Chromium may take from the keyframe before). The
// fetch is then aborted (the hub ends the stream at its next write). Each
// frame is also read back from a canvas: its frame stamp must be the frame
// captured at the instant (frame_at_instant). Prints JSON lines; asserts
// nothing.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/seek.bench.mjs
//   BENCH_SEEKS (default 25), BENCH_RECORD_SECONDS (default 70: two 60 s
//   segments), BENCH_SEED (instants are drawn from a seeded generator)

import { Hub, Doorbell, sleep, tempDir, waitFor, decodeFrameStamp } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, percentile } from '../lib/browser.mjs';

const SEEKS = Number(process.env.BENCH_SEEKS || 25);
const RECORD_SECONDS = Number(process.env.BENCH_RECORD_SECONDS || 70);
let seed = Number(process.env.BENCH_SEED || 1);
const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

const data = tempDir('doorstep-bench-');
const hub = await Hub.start({ dataDir: data.dir });
const admin = await hub.admin();
const device = hub.addDevice('Bench');
let doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: 30, bitrate: 2000, audio: true });
const browser = await launchChromium();
const recordings = async () =>
  (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;

// In the page: one seek, timed from the start of the fetch to the first
// frame presented at the instant. Returns the timings and the frame's
// luma band (the frame stamp) for checking outside.
async function seekInPage([deviceId, from]) {
  const t0 = performance.now();
  const controller = new AbortController();
  const video = document.createElement('video');
  video.muted = true;
  video.width = 640;
  document.body.appendChild(video);
  const source = new MediaSource();
  video.src = URL.createObjectURL(source);
  const opened = new Promise((resolve) => source.addEventListener('sourceopen', resolve, { once: true }));
  const result = {};
  try {
    const response = await fetch(`/api/v1/devices/${deviceId}/playback?from=${from}`, { signal: controller.signal });
    result.headersMs = performance.now() - t0;
    if (response.status !== 200) throw new Error(`playback answered ${response.status}`);
    const startMs = Number(response.headers.get('X-Playback-Start-Ms'));
    const target = (from - startMs) / 1000;
    await opened;
    const buffer = source.addSourceBuffer(response.headers.get('Content-Type'));
    // The stream has no end (it follows the recording): seeking past what is
    // buffered yet must wait for the data, not stop at the buffered end.
    source.duration = Infinity;
    source.setLiveSeekableRange(0, 1e7);
    const presented = new Promise((resolve) => {
      const onFrame = (now, metadata) => {
        if (result.anyFrameMs === undefined) result.anyFrameMs = performance.now() - t0;
        if (metadata.mediaTime >= target - 0.04) resolve({ at: performance.now(), mediaTime: metadata.mediaTime });
        else video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    });
    video.addEventListener('loadedmetadata', () => { video.currentTime = target; }, { once: true });
    const reader = response.body.getReader();
    let done = false;
    const pump = (async () => {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end || done) break;
        if (result.firstByteMs === undefined) result.firstByteMs = performance.now() - t0;
        buffer.appendBuffer(value);
        await new Promise((resolve) => buffer.addEventListener('updateend', resolve, { once: true }));
        if (result.firstAppendMs === undefined) result.firstAppendMs = performance.now() - t0;
        // Read ahead at most 3 s past the instant, as a paced player would.
        if (buffer.buffered.length && buffer.buffered.end(buffer.buffered.length - 1) > target + 3) break;
      }
    })().catch(() => {});
    const frame = await Promise.race([presented, new Promise((resolve) => setTimeout(() => resolve(null), 10000))]);
    done = true;
    if (frame === null) {
      const ranges = [];
      for (let r = 0; r < video.buffered.length; r++) ranges.push([video.buffered.start(r), video.buffered.end(r)]);
      throw new Error(`no frame presented within 10 s: readyState ${video.readyState}, currentTime ${video.currentTime}, ` +
        `target ${target}, buffered ${JSON.stringify(ranges)}, seeking ${video.seeking}, error ${video.error && video.error.message}`);
    }
    result.firstFrameMs = frame.at - t0;
    result.mediaTime = frame.mediaTime;
    result.target = target;
    result.startMs = startMs;
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = 24;
    const context = canvas.getContext('2d');
    context.drawImage(video, 0, 0, video.videoWidth, video.videoHeight, 0, 0, video.videoWidth, video.videoHeight);
    const rgba = context.getImageData(0, 0, 528, 24).data;
    const luma = [];
    for (let i = 0; i < rgba.length; i += 4) luma.push(Math.round(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]));
    result.luma = luma;
    controller.abort();
    await pump;
  } finally {
    controller.abort();
    video.removeAttribute('src');
    video.load();
    video.remove();
  }
  return result;
}

const print = (figure) => console.log(JSON.stringify({ ...figure, size: '1280x720', fps: 30, bitrate_kbps: 2000, audio: true }));

try {
  const first = await waitFor(async () => (await recordings())[0], { what: 'recording' });
  await waitFor(async () => {
    const rows = await recordings();
    return rows[rows.length - 1].end_ms - first.start_ms >= RECORD_SECONDS * 1000;
  }, { timeout: (RECORD_SECONDS + 60) * 1000, interval: 1000, what: `${RECORD_SECONDS} s recorded` });
  await doorbell.stop();
  doorbell = null;
  await waitFor(async () => (await recordings()).every((r) => !r.recording), { what: 'the last segment closed' });
  const rows = await recordings();
  const begin = rows[0].start_ms + 500;
  const end = rows[rows.length - 1].end_ms - 2000;

  const context = await loggedInContext(browser, hub, admin);
  const page = await context.newPage();
  await page.goto(`${hub.url}/livez`);
  const times = [];
  const headers = [];
  const firstBytes = [];
  const anyFrames = [];
  let matched = 0;
  for (let i = 0; i < SEEKS + 1; i++) {
    const from = Math.round(begin + random() * (end - begin));
    const result = await page.evaluate(seekInPage, [device.id, from]);
    if (i === 0) continue;   // the first seek warms up Chromium's decoder and the page
    times.push(result.firstFrameMs);
    headers.push(result.headersMs);
    firstBytes.push(result.firstByteMs);
    anyFrames.push(result.anyFrameMs);
    const stamp = decodeFrameStamp(Uint8Array.from(result.luma), 528);
    // The frame shown at the instant was captured at most one frame period
    // before it (plus the millisecond rounding of segment starts).
    const instant = from % 2 ** 48;
    if (stamp && stamp.timeMs <= instant + 1 && stamp.timeMs > instant - 1000 / 30 - 2) matched++;
    await sleep(100);
  }
  const sorted = (values) => values.map((v) => Math.round(v * 10) / 10).sort((a, b) => a - b);
  const t = sorted(times);
  print({
    figure: 'seek_first_picture_ms', seeks: t.length, segments: rows.length,
    p50: percentile(t, 50), p95: percentile(t, 95), min: t[0], max: t[t.length - 1],
    headers_p50: percentile(sorted(headers), 50), first_byte_p50: percentile(sorted(firstBytes), 50),
    any_picture_p50: percentile(sorted(anyFrames), 50), any_picture_p95: percentile(sorted(anyFrames), 95),
    frame_at_instant: `${matched}/${t.length}`, target_ms: 200,
  });
  await context.close();
} finally {
  await browser.close();
  if (doorbell) await doorbell.stop();
  await hub.stop();
  data.cleanup();
}
