// Timeline previews: what they cost the doorbell, and how fast the hub
// serves them. A doorbell (sim camera, 1280x720 at 30 fps, the default
// 2000 kbit/s) records 24/7; its CPU time (utime + stime of /proc/PID/stat)
// is measured over PREVIEW_BENCH_SECONDS (default 60) with previews and, in
// a second doorbell process, with --no-previews, alternating
// PREVIEW_BENCH_ROUNDS times (default 1) so a busy machine hits both alike;
// and the preview thread's own CPU time (/proc/PID/task/TID/stat of the
// thread named "preview"), which a busy machine does not blur.
// Then 200 sequential GET preview.jpg?at=T at random recorded times T,
// p50/p95 latency: on one kept-alive TLS connection (what a browser does),
// and with a new TLS connection each (the harness client).
// PREVIEW_BENCH_CPU=0 skips the CPU part (it records 20 s for the route).
// Prints one JSON line; asserts nothing (tests/integration/previews.test.mjs
// asserts the behaviour).
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/previews.bench.mjs

import { readFileSync, readdirSync } from 'node:fs';
import https from 'node:https';
import { Hub, Doorbell, waitFor, tempDir, sleep } from '../lib/harness.mjs';

const SECONDS = Number(process.env.PREVIEW_BENCH_SECONDS || 60);
const ROUNDS = process.env.PREVIEW_BENCH_CPU === '0' ? 0 : Number(process.env.PREVIEW_BENCH_ROUNDS || 1);
const REQUESTS = 200;
const TICKS = 100; // USER_HZ on Linux

const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
};

// CPU seconds of the process's thread named `name` (the preview thread), 0 if none.
const threadCpuSeconds = (pid, name) => {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === name) return cpuSeconds(`${pid}/task/${tid}`);
    } catch { /* the thread ended */ }
  }
  return 0;
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
      const threadBefore = threadCpuSeconds(pid, 'preview');
      const statsBefore = await doorbell.stats();
      await sleep(SECONDS * 1000);
      const used = cpuSeconds(pid) - before;
      const threadUsed = threadCpuSeconds(pid, 'preview') - threadBefore;
      const stats = await doorbell.stats();
      const sent = stats.previews_sent - statsBefore.previews_sent;
      (previews ? result.with_previews : result.without_previews).push({
        cpu_percent: Math.round((used / SECONDS) * 1000) / 10,
        preview_thread_cpu_percent: Math.round((threadUsed / SECONDS) * 10000) / 100,
        copy_ms_each: sent ? Math.round((stats.preview_copy_us - statsBefore.preview_copy_us) / sent / 10) / 100 : null,
        previews: sent,
        busy: stats.previews_busy - statsBefore.previews_busy,
        encode_ms_each: sent ? Math.round((stats.preview_encode_us - statsBefore.preview_encode_us) / sent / 100) / 10 : null,
      });
      await doorbell.stop();
    }
  }

  if (ROUNDS === 0) {
    const doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: 30, bitrate: 2000, extra: ['--preset', 'veryfast'] });
    await sleep(25000);
    await doorbell.stop();
  }
  const rows = (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
  const closed = rows.filter((row) => !row.recording);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const keptAlive = (path) => new Promise((resolveStatus, reject) => {
    const request = https.request(new URL(path, hub.url), { agent, rejectUnauthorized: false, headers: { Cookie: cookie } }, (response) => {
      response.resume();
      response.on('end', () => resolveStatus(response.statusCode));
    });
    request.on('error', reject);
    request.end();
  });
  const measure = async (get) => {
    const times = [];
    let found = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const row = closed[Math.floor(Math.random() * closed.length)];
      const at = row.start_ms + 3000 + Math.floor(Math.random() * (row.end_ms - row.start_ms - 3000));
      const started = process.hrtime.bigint();
      const status = await get(`/api/v1/devices/${device.id}/preview.jpg?at=${at}`);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (status !== 200 && status !== 404) throw new Error(`status ${status}`);
      if (status === 200) found++;
    }
    times.sort((a, b) => a - b);
    const round = (v) => Math.round(v * 10) / 10;
    return { p50: round(times[REQUESTS / 2]), p95: round(times[Math.floor(REQUESTS * 0.95)]), found, requests: REQUESTS };
  };
  result.segments = closed.length;
  result.route_ms_keep_alive = await measure(keptAlive);
  result.route_ms_new_connection = await measure(async (path) => (await admin.api('GET', path)).status);
  agent.destroy();
  console.log(JSON.stringify(result));
} finally {
  await hub.stop();
  data.cleanup();
}
