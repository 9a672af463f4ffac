// Hub memory through a day's work in miniature: the real hub (optimised
// build) with simulated doorbells streaming and recording, then phase by
// phase: 50 logins (40 one after another, 10 at once, each from its own
// loopback address), 20 live viewers opened (each gets its first video
// frame) and closed, 10 clip exports, and 100 notifications (rings pressed
// on the doorbells' control sockets, each notifying an ntfy and a Standard
// Webhooks target on a local receiver). After each phase, and a settling
// second, the hub's VmRSS, VmHWM (peak so far) and RssAnon from
// /proc/PID/status. Budget: 32 MB + 2 MB per doorbell, flat after any
// number of logins, viewers, exports and notifications.
//
// A fresh hub per run; BENCH_RUNS runs, then the median of each figure.
// Prints JSON lines; asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/memory.bench.mjs
//   BENCH_RUNS (3), BENCH_DOORBELLS (2), BENCH_LOGINS (50), BENCH_VIEWERS (20),
//   BENCH_EXPORTS (10), BENCH_NOTIFICATIONS (100: half as many presses)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Hub, Doorbell, Client, BUILD, ROOT, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { NotifyReceiver } from '../lib/notify-receiver.mjs';
import { memoryMegabytes } from '../lib/proc.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const DOORBELLS = Number(process.env.BENCH_DOORBELLS || 2);
const LOGINS = Number(process.env.BENCH_LOGINS || 50);
const VIEWERS = Number(process.env.BENCH_VIEWERS || 20);
const EXPORTS = Number(process.env.BENCH_EXPORTS || 10);
const NOTIFICATIONS = Number(process.env.BENCH_NOTIFICATIONS || 100);
const PASSWORD = 'correct horse battery staple';
const SETTLE_MS = 1000;
const PRESS_GAP_MS = 100;
const DOORBELL_SETTINGS = { size: '640x360', fps: 30, bitrate: 600, preset: 'ultrafast' };

const print = (figure) => console.log(JSON.stringify(figure));
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const commit = (() => {
  try {
    return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const settings = { doorbells: DOORBELLS, doorbell: DOORBELL_SETTINGS, logins: LOGINS, viewers: VIEWERS,
  exports: EXPORTS, notifications: NOTIFICATIONS, segment_seconds: 2, build: BUILD, settle_ms: SETTLE_MS,
  press_gap_ms: PRESS_GAP_MS };
const round = (value) => +value.toFixed(1);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

// One run: a fresh hub and doorbells; the readings of every phase.
async function run(index) {
  const data = tempDir('doorstep-bench-memory-');
  const receiver = await NotifyReceiver.start();
  const hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '2'] });
  const pid = hub.proc.child.pid;
  const doorbells = [];
  const readings = [];
  let addresses = 0;
  const reading = async (phase) => {
    await sleep(SETTLE_MS);
    const memory = memoryMegabytes(pid);
    const figure = { figure: 'hub_memory_mib', run: index + 1, phase, rss: round(memory.rss), peak: round(memory.peak),
      anon: round(memory.anon), budget: 32 + 2 * DOORBELLS, loadavg: loadAverage() };
    readings.push(figure);
    print(figure);
  };
  try {
    let admin = await hub.admin('admin', PASSWORD);
    const devices = [];
    for (let i = 0; i < DOORBELLS; i++) {
      const device = hub.addDevice(`Bench ${i + 1}`);
      devices.push(device);
      doorbells.push(await Doorbell.start({ hub, ...device, ...DOORBELL_SETTINGS, extra: [] }));
    }
    const targets = [
      await admin.api('POST', '/api/v1/notifications/targets',
        { json: { name: 'ntfy', kind: 'ntfy', url: receiver.url, topic: 'bench', event_types: ['ring'] } }),
      await admin.api('POST', '/api/v1/notifications/targets',
        { json: { name: 'webhook', kind: 'webhook', url: `${receiver.url}/hook`, event_types: ['ring'] } }),
    ];
    if (targets.some((response) => response.status !== 201)) throw new Error('the notification targets were not created');
    // Streaming, and a few recorded segments to export.
    for (const device of devices) {
      await waitFor(async () => ((await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings || [])
        .filter((row) => row.end_ms > row.start_ms).length >= 3, { timeout: 60000, what: `recordings of ${device.id}` });
    }
    await reading('idle');

    const login = async () => {
      addresses++;
      const client = new Client(hub.url, { localAddress: `127.0.${10 + (addresses >> 8)}.${addresses & 255}` });
      const response = await client.login('admin', PASSWORD);
      if (response.status !== 200) throw new Error(`login: ${response.status}`);
    };
    const parallel = Math.min(10, LOGINS);
    for (let i = 0; i < LOGINS - parallel; i++) await login();
    await Promise.all(Array.from({ length: parallel }, login));
    await reading('logins');
    // A user keeps at most 32 sessions: the first one has been ended.
    admin = await hub.admin('admin', PASSWORD);

    // Each viewer from its own address: one address may hold only a tenth
    // of the workers' connections, and the doorbells use 127.0.0.1 too.
    const viewers = Array.from({ length: VIEWERS }, (_, i) => new LiveViewer(admin, devices[i % devices.length].id,
      { localAddress: `127.0.9.${i + 1}` }));
    await Promise.all(viewers.map((viewer) => viewer.opened));
    await waitFor(() => viewers.every((viewer) => viewer.videoFrames().length > 0), { timeout: 30000, what: 'every viewer\'s first frame' });
    await Promise.all(viewers.map((viewer) => viewer.close()));
    await reading('viewers');

    for (let i = 0; i < EXPORTS; i++) {
      const device = devices[i % devices.length];
      const rows = (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings
        .filter((row) => row.end_ms > row.start_ms);
      const last = rows[rows.length - 1];
      const exported = await admin.api('GET', `/api/v1/devices/${device.id}/export?from=${rows[0].start_ms}&to=${last.end_ms}`);
      if (exported.status !== 200 || exported.body.length === 0) throw new Error(`export: ${exported.status}`);
    }
    await reading('exports');

    // A press within 50 ms of the doorbell's last one is contact bounce.
    const presses = Math.ceil(NOTIFICATIONS / 2);
    for (let i = 0; i < presses; i++) {
      const before = receiver.to('/bench').length + receiver.to('/hook').length;
      await sleep(PRESS_GAP_MS);
      const reply = await doorbells[i % doorbells.length].control('press');
      if (reply !== 'ok') throw new Error(`press: ${reply}`);
      await waitFor(() => receiver.to('/bench').length + receiver.to('/hook').length >= before + 2,
        { timeout: 15000, interval: 10, what: `the notifications of press ${i + 1}` });
    }
    await reading('notifications');
  } finally {
    for (const doorbell of doorbells) await doorbell.stop();
    await hub.stop();
    await receiver.close();
    data.cleanup();
  }
  return readings;
}

print({ figure: 'hub_memory_settings', commit, loadavg_before: loadAverage(), runs: RUNS, ...settings });
const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await run(i));
for (const phase of runs[0].map((figure) => figure.phase)) {
  const of = (key) => round(median(runs.map((readings) => readings.find((figure) => figure.phase === phase)[key])));
  print({ figure: 'hub_memory_mib_median', phase, rss: of('rss'), peak: of('peak'), anon: of('anon'),
    budget: 32 + 2 * DOORBELLS, runs: RUNS, commit, loadavg_end: loadAverage() });
}
