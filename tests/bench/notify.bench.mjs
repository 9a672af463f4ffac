// Button press -> notification received (target p99 <= 250 ms):
// the hub, one simulated doorbell (640x360) and a local receiver with an
// ntfy target and a Standard Webhooks target. Each press is timestamped in
// node just before 'press' is written to the doorbell's control socket; the
// receiver timestamps each request when its whole body (the snapshot) has
// arrived. Presses are sequential: the next one waits for both requests of
// the previous one and a short gap. Prints JSON lines; asserts nothing
// except that every notification carried its snapshot.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/notify.bench.mjs
//   BENCH_PRESSES (default 200), BENCH_GAP_MS (default 400)

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { percentile } from '../lib/browser.mjs';
import { NotifyReceiver, readNtfy, verifyStandardWebhook } from '../lib/notify-receiver.mjs';

const PRESSES = Number(process.env.BENCH_PRESSES || 200);
const GAP_MS = Number(process.env.BENCH_GAP_MS || 400);
const print = (figure) => console.log(JSON.stringify(figure));


// Write one command to the control socket; resolves with the time (just
// before the write) and the reply.
function press(path) {
  return new Promise((resolvePress, reject) => {
    const socket = net.createConnection(path);
    let pressedAt = 0;
    let reply = '';
    socket.on('connect', () => {
      pressedAt = performance.now();
      socket.write('press\n');
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\n')) {
        socket.end();
        resolvePress({ pressedAt, reply: reply.trim() });
      }
    });
    socket.on('error', reject);
  });
}

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value) => (value === null ? null : +value.toFixed(1));
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1]) };
};

const data = tempDir('doorstep-bench-');
const hub = await Hub.start({ dataDir: data.dir });
const receiver = await NotifyReceiver.start();
let doorbell = null;
try {
  const admin = await hub.admin();
  const device = hub.addDevice('Bench');
  const ntfy = await admin.api('POST', '/api/v1/notifications/targets',
    { json: { name: 'ntfy', kind: 'ntfy', url: receiver.url, topic: 'bench', event_types: ['ring'] } });
  const hook = await admin.api('POST', '/api/v1/notifications/targets',
    { json: { name: 'webhook', kind: 'webhook', url: `${receiver.url}/hook`, event_types: ['ring'] } });
  if (ntfy.status !== 201 || hook.status !== 201) throw new Error('the targets were not created');
  const secret = hook.json.secret;
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 30, bitrate: 600 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.video.frames > 30,
    { what: 'doorbell streaming' });

  const latencies = { ntfy: [], webhook: [] };
  let missingSnapshot = 0;
  for (let i = 0; i < PRESSES; i++) {
    const before = { ntfy: receiver.to('/bench').length, webhook: receiver.to('/hook').length };
    const { pressedAt, reply } = await press(doorbell.controlPath);
    if (reply !== 'ok') throw new Error(`press: ${reply}`);
    await waitFor(() => receiver.to('/bench').length > before.ntfy && receiver.to('/hook').length > before.webhook,
      { timeout: 10000, interval: 5, what: `the notifications of press ${i + 1}` });
    const message = receiver.to('/bench')[before.ntfy];
    const webhook = receiver.to('/hook')[before.webhook];
    if (!readNtfy(message).attachment) missingSnapshot++;
    if (!verifyStandardWebhook(webhook, secret).data.snapshot_jpeg_base64) missingSnapshot++;
    latencies.ntfy.push(message.t - pressedAt);
    latencies.webhook.push(webhook.t - pressedAt);
    await sleep(GAP_MS);
  }
  for (const [target, values] of Object.entries(latencies)) {
    print({ figure: 'press_to_notification_ms', target, ...summary(values), with_snapshot: missingSnapshot === 0,
      transport: 'http loopback', size: '640x360', gap_ms: GAP_MS });
  }
  // Per press, the later of the two: when both had arrived.
  print({ figure: 'press_to_notification_ms', target: 'both', ...summary(latencies.ntfy.map((value, k) => Math.max(value, latencies.webhook[k]))),
    missing_snapshots: missingSnapshot });
} finally {
  if (doorbell) await doorbell.stop();
  await hub.stop();
  await receiver.close();
  data.cleanup();
}
