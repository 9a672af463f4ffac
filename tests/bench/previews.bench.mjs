// Timeline previews: what they cost the doorbell, and how fast the hub
// serves them. A doorbell (sim camera, 1280x720 at 30 fps, the default
// 2000 kbit/s) records 24/7; its CPU time (utime + stime of /proc/PID/stat)
// is measured over PREVIEW_BENCH_SECONDS (default 60) with previews and, in
// a second doorbell process, with --no-previews, alternating
// PREVIEW_BENCH_ROUNDS times (default 1) so a busy machine hits both alike.
// Then 200 sequential GET preview.jpg?at=T at random recorded times T
// (a new connection each, as the harness client does), p50/p95 latency.
// Prints one JSON line; asserts nothing (tests/integration/previews.test.mjs
// asserts the behaviour).
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/previews.bench.mjs

import { readFileSync } from 'node:fs';
import { Hub, Doorbell, waitFor, tempDir, sleep } from '../lib/harness.mjs';

const SECONDS = Number(process.env.PREVIEW_BENCH_SECONDS || 60);
const ROUNDS = Number(process.env.PREVIEW_BENCH_ROUNDS || 1);
const REQUESTS = 200;
const TICKS = 100; // USER_HZ on Linux

const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
};

const data = tempDir('doorstep-previews-bench-');
const hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '10'] });
const admin = await hub.admin();
const device = hub.addDevice('Porch');
const result = { seconds: SECONDS, size: '1280x720', fps: 30, with_previews: [], without_previews: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const previews of [true, false]) {
      const doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: 30, bitrate: 2000,
        extra: ['--preset', 'veryfast', ...(previews ? [] : ['--no-previews'])] });
      await waitFor(async () => (await doorbell.stats()).connected, { timeout: 20000, what: 'connected' });
      await sleep(5000);
      const pid = doorbell.proc.child.pid;
      const before = cpuSeconds(pid);
      const statsBefore = await doorbell.stats();
      await sleep(SECONDS * 1000);
      const used = cpuSeconds(pid) - before;
      const stats = await doorbell.stats();
      const sent = stats.previews_sent - statsBefore.previews_sent;
      (previews ? result.with_previews : result.without_previews).push({
        cpu_percent: Math.round((used / SECONDS) * 1000) / 10,
        previews: sent,
        busy: stats.previews_busy - statsBefore.previews_busy,
        encode_ms_each: sent ? Math.round((stats.preview_encode_us - statsBefore.preview_encode_us) / sent / 100) / 10 : null,
      });
      await doorbell.stop();
    }
  }

  const rows = (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
  const closed = rows.filter((row) => !row.recording);
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const row = closed[Math.floor(Math.random() * closed.length)];
    const at = row.start_ms + Math.floor(Math.random() * (row.end_ms - row.start_ms));
    const started = process.hrtime.bigint();
    const response = await admin.api('GET', `/api/v1/devices/${device.id}/preview.jpg?at=${at}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (response.status !== 200 && response.status !== 404) throw new Error(`status ${response.status}`);
  }
  times.sort((a, b) => a - b);
  result.route_ms = { p50: Math.round(times[REQUESTS / 2] * 10) / 10, p95: Math.round(times[Math.floor(REQUESTS * 0.95)] * 10) / 10, requests: REQUESTS, segments: closed.length };
  // The same, timed inside the hub would exclude TLS: a new TLS connection per request dominates.
  console.log(JSON.stringify(result));
} finally {
  await hub.stop();
  data.cleanup();
}
