// Footage lost to kill -9 of the hub while it records, under CPU load.
//
// Two `yes > /dev/null` CPU hogs run for the whole measurement (on a 2-core
// machine they take both cores from everything else). A doorbell records
// 24/7 at 30 fps; the hub is killed with SIGKILL at a random moment 0.5 to
// 3 s after a segment is seen recording, restarted, and the loss is the
// footage the hub had received (what it had forwarded to a live viewer,
// tests/lib/crash.mjs) after the end of the last frame in the index after
// start-up reconciliation (which indexes what the file really holds). The
// figure counted from the moment of the kill, which also holds the
// doorbell's encoder and link delay, is printed beside it. Prints one JSON
// line with the distributions;
// asserts nothing (tests/integration/recording.test.mjs asserts the bound).
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/crash.bench.mjs
//   CRASH_BENCH_KILLS (default 25), CRASH_BENCH_HOGS (default 2)

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Doorbell, waitFor, tempDir, BUILD } from '../lib/harness.mjs';
import { killWhileWatched, footageLost } from '../lib/crash.mjs';

const KILLS = Number(process.env.CRASH_BENCH_KILLS || 25);
const HOGS = Number(process.env.CRASH_BENCH_HOGS || 2);

const hogs = [];
for (let i = 0; i < HOGS; i++) hogs.push(spawn('sh', ['-c', 'exec yes > /dev/null'], { stdio: 'ignore' }));
process.on('exit', () => { for (const hog of hogs) hog.kill('SIGKILL'); });
const data = tempDir('doorstep-crash-bench-');
let hub, doorbell;
try {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '30'] });
  let admin = await hub.admin();
  const device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 30, bitrate: 800, audio: true });
  const recordings = async (from) =>
    (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=${from}`)).json.recordings;
  const losses = [];
  const sinceKill = [];
  let unclean = 0;
  for (let i = 0; i < KILLS; i++) {
    await waitFor(async () => (await recordings(Date.now() - 60000)).some((r) => r.recording && r.video_frames > 0),
      { timeout: 60000, what: 'recording in progress' });
    const kill = await killWhileWatched(hub, admin, device.id, 500 + Math.random() * 2500);
    await hub.launch();
    const check = spawnSync(join(BUILD, 'doorstep'), ['--data-dir', data.dir, 'check'], { encoding: 'utf8' });
    if (check.status !== 0) unclean++;
    admin = await hub.admin();
    const lost = footageLost(await recordings(kill.killedAt - 120000), kill);
    losses.push(lost.lost);
    sinceKill.push(lost.sinceKill);
    process.stderr.write(`kill ${i + 1}: ${losses.at(-1)} ms\n`);
  }
  const distribution = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    return { min: sorted[0], median: at(0.5), p95: at(0.95), max: sorted.at(-1), all: values };
  };
  console.log(JSON.stringify({
    figure: 'footage the hub had received and lost per kill -9 (ms)', kills: KILLS, cpu_hogs: HOGS,
    build: BUILD, check_unclean: unclean, ...distribution(losses),
    counted_from_the_kill: distribution(sinceKill),
  }));
} finally {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  for (const hog of hogs) hog.kill('SIGKILL');
  data.cleanup();
}
