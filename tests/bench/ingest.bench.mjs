// Hub cost of ingesting doorbell streams over the device link: CPU time of
// the doorstepd process (/proc schedstat, ns) and its resident memory
// while N simulated doorbells stream for a fixed time. Prints JSON lines.
// Not a test: it asserts nothing, it measures.

import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { cpuSeconds, rssMegabytes } from '../lib/proc.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 20);
const DOORBELLS = Number(process.env.BENCH_DOORBELLS || 2);



const data = tempDir('doorstep-bench-');
const hub = await Hub.start({ dataDir: data.dir });
const admin = await hub.admin();
const doorbells = [];
try {
  const idleRss = rssMegabytes(hub.proc.child.pid);
  for (let i = 0; i < DOORBELLS; i++) {
    const device = hub.addDevice(`Bench ${i}`);
    doorbells.push(await Doorbell.start({ hub, ...device, size: '640x360', fps: 30, bitrate: 2000 }));
  }
  await waitFor(async () => (await admin.api('GET', '/api/v1/devices')).json.devices.every((d) => d.online && d.video.frames > 30),
    { what: 'all doorbells streaming' });
  const pid = hub.proc.child.pid;
  const cpuBefore = cpuSeconds(pid);
  const framesBefore = (await admin.api('GET', '/api/v1/devices')).json.devices.reduce((n, d) => n + d.video.frames, 0);
  await sleep(SECONDS * 1000);
  const cpuAfter = cpuSeconds(pid);
  const devices = (await admin.api('GET', '/api/v1/devices')).json.devices;
  const frames = devices.reduce((n, d) => n + d.video.frames, 0) - framesBefore;
  const kbps = devices.reduce((n, d) => n + d.video.bitrate_kbps, 0) / devices.length;
  const corePercent = ((cpuAfter - cpuBefore) / SECONDS) * 100;
  const print = (figure) => console.log(JSON.stringify({ ...figure, doorbells: DOORBELLS, seconds: SECONDS }));
  print({ figure: 'hub_ingest_cpu_percent_of_core_per_doorbell', value: +(corePercent / DOORBELLS).toFixed(3), bitrate_kbps: +kbps.toFixed(0), frames });
  print({ figure: 'hub_rss_mb_idle', value: +idleRss.toFixed(1) });
  print({ figure: 'hub_rss_mb_with_doorbells', value: +rssMegabytes(pid).toFixed(1) });
} finally {
  for (const doorbell of doorbells) await doorbell.stop();
  await hub.stop();
  data.cleanup();
}
