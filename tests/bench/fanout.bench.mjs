// Hub CPU for live fan-out: one doorbell (1280x720, 30 fps, 4 Mbit/s) and
// 0, 1, 10 and 50 WebSocket viewers that read and discard. CPU is the
// doorstepd threads' run time from /proc schedstat (ns) over a fixed window.
// Prints JSON lines; asserts nothing.

import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { cpuSeconds, rssMegabytes } from '../lib/proc.mjs';
import { LiveViewer } from '../lib/live-client.mjs';

const WINDOW = Number(process.env.BENCH_SECONDS || 15);


const data = tempDir('doorstep-bench-');
const hub = await Hub.start({ dataDir: data.dir });
const admin = await hub.admin();
const device = hub.addDevice('Bench');
const doorbell = await Doorbell.start({ hub, ...device, size: '1280x720', fps: 30, bitrate: 4000 });
const viewers = [];
try {
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video.frames > 60,
    { what: 'doorbell streaming' });
  let baseline = null;
  for (const count of [0, 1, 10, 50]) {
    while (viewers.length < count) {
      const viewer = new LiveViewer(admin, device.id);
      viewer.socket.removeAllListeners('message');          // read and discard
      viewer.socket.on('message', () => {});
      viewers.push(viewer);
    }
    await Promise.all(viewers.map((v) => v.opened));
    await sleep(2000);
    const pid = hub.proc.child.pid;
    const before = cpuSeconds(pid);
    const stateBefore = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    await sleep(WINDOW * 1000);
    const percent = ((cpuSeconds(pid) - before) / WINDOW) * 100;
    const state = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    const line = { figure: 'hub_cpu_percent_of_core_live_fanout', viewers: count, value: +percent.toFixed(2),
      bitrate_kbps: Math.round(state.video.bitrate_kbps), ingest_fps: +((state.video.frames - stateBefore.video.frames) / WINDOW).toFixed(1),
      viewer_skips: state.live.viewer_skips, seconds: WINDOW };
    if (count === 0) baseline = percent;
    else line.per_viewer = +((percent - baseline) / count).toFixed(3);
    console.log(JSON.stringify(line));
  }
} finally {
  await Promise.all(viewers.map((v) => v.close()));
  await doorbell.stop();
  await hub.stop();
  data.cleanup();
}
