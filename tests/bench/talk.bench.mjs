// Talk-back latency, mouth -> doorbell speaker: the real hub, one simulated
// doorbell whose speaker is an ALSA `file` device (speaker.raw), and
// headless Chromium on the doorbell's page with a fake microphone playing a
// WAV (made with ffmpeg) of 100 ms 1 kHz bursts, one a second. The page
// talks (latched) for BENCH_SECONDS. For each burst: from its capture time
// in the browser (the page's talk hook notes the first sample above a
// threshold after a quiet frame, timed like the packets' header: the
// packet's capture time plus the sample's offset) to the moment the
// doorbell wrote the burst's first sample to ALSA (a worker thread watches
// speaker.raw grow every millisecond). ALSA's file plugin keeps the last
// buffer's worth of written frames (the device's buffer size, from the
// doorbell's "playing to" log line) and writes a frame to the file only once
// a buffer more has been written after it; so a sample at byte X was
// written to ALSA when the file grew past X minus the buffer's bytes. Both
// clocks are this machine's wall clock. Also
// from the capture to the moment the packet holding it left the browser
// (capture_to_sent), the browser's share.
// BENCH_RUNS times over, each with a fresh hub, doorbell and browser.
// Prints JSON lines; asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/talk.bench.mjs
//   BENCH_RUNS (default 3), BENCH_SECONDS (default 30), BENCH_CODEC
//   (opus | pcm16: force the browser's codec; default: what it chooses)

import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, percentile } from '../lib/browser.mjs';
import { samplesOf, toneWindows, WINDOW, RATE } from '../lib/tone.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const CODEC = process.env.BENCH_CODEC || null;
const BURST_MS = 100;

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
let commit = null;
try {
  commit = execFileSync('git', ['describe', '--always', '--dirty'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout */ }
const settings = { commit, seconds: SECONDS, codec_forced: CODEC };

// A worker that notes (wall ms, size) each time `path` grows, polling every
// millisecond, until stopped: stop() resolves with the list.
function watchGrowth(path) {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const { statSync } = require('node:fs');
    const flag = workerData.flag;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const marks = [];
    let last = -1;
    while (Atomics.load(flag, 0) === 0) {
      let size = -1;
      try { size = statSync(workerData.path).size; } catch {}
      if (size !== last) { marks.push([performance.timeOrigin + performance.now(), size]); last = size; }
      Atomics.wait(sleeper, 0, 0, 1);
    }
    parentPort.postMessage(marks);
  `, { eval: true, workerData: { path, flag } });
  const done = new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  return { stop() { Atomics.store(flag, 0, 1); return done; } };
}

// Burst onsets in the speaker's samples: the first sample above a quarter of
// the burst's peak, for each run of tone windows after at least 300 ms without.
function speakerOnsets(samples) {
  const windows = toneWindows(samples, 1000, { share: 0.3, minRms: 200 });
  const onsets = [];
  let previous = -1000;
  for (const w of windows) {
    if (w - previous > 15) {
      let peak = 0;
      for (let i = w * WINDOW; i < Math.min(samples.length, (w + 3) * WINDOW); i++) peak = Math.max(peak, Math.abs(samples[i]));
      let onset = Math.max(0, (w - 1) * WINDOW);
      while (onset < samples.length && Math.abs(samples[onset]) <= peak / 4) onset++;
      onsets.push(onset);
    }
    previous = w;
  }
  return onsets;
}

// When the doorbell wrote the sample at byte `offset` to ALSA (wall ms):
// when the file grew past offset - heldBytes (see above).
function writtenAt(marks, offset, heldBytes) {
  const mark = marks.find(([, size]) => size > offset - heldBytes);
  return mark ? mark[0] : null;
}

async function measure(run) {
  const load = loadAverage();
  console.log(JSON.stringify({ figure: 'run', run, loadavg: load, ...settings }));
  const data = tempDir('doorstep-bench-talk-');
  const wav = join(data.dir, 'bursts.wav');
  // 100 ms of 1 kHz, then 900 ms of silence, 60 times.
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi',
    '-i', `aevalsrc=0.5*sin(2*PI*1000*t)*lt(mod(t\\,1)\\,${BURST_MS / 1000}):s=48000:d=60`, '-ac', '1', '-c:a', 'pcm_s16le', wav]);
  const hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  let doorbell = null;
  let browser = null;
  try {
    const admin = await hub.admin();
    const device = hub.addDevice('Bench');
    doorbell = await Doorbell.start({ hub, ...device, audio: { frequency: 440 } });
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'doorbell online' });
    browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`]);
    const context = await loggedInContext(browser, hub, admin);
    await context.addInitScript(`window.doorstepTalkBursts = true; ${CODEC ? `window.doorstepTalkCodec = ${JSON.stringify(CODEC)};` : ''}`);
    const page = await context.newPage();
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    await waitFor(async () => (await page.getByTestId('talk').getAttribute('data-state')) === 'idle', { what: 'talk ready' });
    const speakerPath = join(doorbell.dir, 'speaker.raw');
    await waitFor(() => existsSync(speakerPath), { what: 'speaker.raw' });
    const watch = watchGrowth(speakerPath);
    const startSize = readFileSync(speakerPath).length;
    await page.getByTestId('talk-latch').click();
    await waitFor(async () => (await page.getByTestId('talk').getAttribute('data-state')) === 'on-air', { what: 'on air' });
    await sleep(SECONDS * 1000);
    await page.getByTestId('talk-latch').click();
    await sleep(1000);
    const marks = await watch.stop();
    const entry = await page.evaluate((id) => window.doorstepTalk.sessions.filter((s) => s.deviceId === id).pop(), device.id);
    const hubState = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    await context.close();

    const setup = doorbell.log.map((line) => /playing to .* buffer (\d+)/.exec(line)).find(Boolean);
    if (!setup) throw new Error('the doorbell did not log its speaker buffer size');
    const heldBytes = Number(setup[1]) * 2;
    const all = readFileSync(speakerPath);
    const samples = samplesOf(all.subarray(startSize - (startSize % 2)));
    const base = startSize - (startSize % 2);
    const captures = entry.bursts.map((us) => us / 1000).sort((a, b) => a - b);
    // When the packet holding each burst's first sample left the browser.
    const sent = entry.sent.map(([us, ms]) => [us / 1000, ms]);
    const sentAfter = (capture) => {
      const packet = sent.filter(([c]) => c <= capture && capture - c < 60).pop();
      return packet ? packet[1] - capture : null;
    };
    const toSend = captures.map(sentAfter).filter((x) => x !== null).sort((a, b) => a - b);
    const latencies = [];
    const matched = new Set();
    let unmatched = 0;
    for (const onset of speakerOnsets(samples)) {
      const at = writtenAt(marks, base + onset * 2, heldBytes);
      // The burst it belongs to: the newest captured before it was written,
      // within 900 ms, and not already heard (a burst split by a gap counts once).
      const capture = at === null ? undefined : captures.filter((c) => c <= at && at - c < 900).pop();
      if (capture === undefined || matched.has(capture)) { unmatched++; continue; }
      matched.add(capture);
      latencies.push(at - capture);
    }
    latencies.sort((a, b) => a - b);
    const round = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
    const figure = {
      figure: 'talk_mouth_to_speaker_ms', run, loadavg_before: load, ...settings, codec: entry.codec,
      bursts_captured: captures.length, bursts_heard: latencies.length, unmatched,
      p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)),
      min: round(latencies[0]), max: round(latencies[latencies.length - 1]),
      capture_to_sent_p50: round(percentile(toSend, 50)), capture_to_sent_p95: round(percentile(toSend, 95)),
      alsa_buffer_frames: heldBytes / 2, packets_sent: entry.packetsSent, hub_talk: hubState.talk || null,
      speaker_samples: samples.length, speaker_seconds: round(samples.length / RATE),
      target_p50_ms: 150, target_p95_ms: 250,
    };
    console.log(JSON.stringify(figure));
    return figure;
  } finally {
    if (browser) await browser.close();
    if (doorbell) await doorbell.stop();
    await hub.stop();
    data.cleanup();
  }
}

const runs = [];
for (let run = 1; run <= RUNS; run++) runs.push(await measure(run));
const median = (values) => {
  const sorted = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return sorted.length ? sorted[(sorted.length - 1) >> 1] : null;
};
console.log(JSON.stringify({
  figure: 'median_of_runs', runs: RUNS, ...settings,
  loadavg_before: runs.map((r) => r.loadavg_before[0]),
  talk_mouth_to_speaker_ms: { p50: median(runs.map((r) => r.p50)), p95: median(runs.map((r) => r.p95)) },
}));
