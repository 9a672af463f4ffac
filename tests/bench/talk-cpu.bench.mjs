// Hub CPU per active talk session: the real hub, one simulated doorbell
// (640x360, 15 fps, with its ALSA `file` speaker) and a talk client (the
// browser's side of the talk WebSocket, tests/lib/talk-client.mjs) sending
// 20 ms packets of a 1 kHz tone at the pace of a microphone. The hub's CPU
// time (all threads, /proc/PID/task/*/schedstat) is read over windows of
// BENCH_SECONDS each, in turn: nobody talking, talking Opus (the browser
// encoded: the hub forwards), talking PCM16 (the hub encodes with libopus).
// A session's cost is its window minus the quiet window next to it, in % of
// one core. Prints JSON lines; asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=../build node bench/talk-cpu.bench.mjs
//   BENCH_RUNS (default 3), BENCH_SECONDS (default 20)

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Hub, Doorbell, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { cpuSeconds } from '../lib/proc.mjs';
import { TalkClient, talkPacket, opusTonePackets, pcmTone, CODEC_OPUS, CODEC_PCM16 } from '../lib/talk-client.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const SECONDS = Number(process.env.BENCH_SECONDS || 20);
const FRAME = 960; // 20 ms at 48 kHz

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
let commit = null;
try {
  commit = execFileSync('git', ['describe', '--always', '--dirty'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch { /* not a git checkout */ }

// The hub's CPU in % of one core while fn() runs.
async function cpuPercentDuring(pid, fn) {
  const cpuBefore = cpuSeconds(pid);
  const wallBefore = performance.now();
  await fn();
  return (100 * (cpuSeconds(pid) - cpuBefore)) / ((performance.now() - wallBefore) / 1000);
}

// Talk for SECONDS: packets from payloadOf(i), paced at 20 ms each.
async function talkFor(talk, codec, payloadOf) {
  talk.start(codec === CODEC_OPUS ? 'opus' : 'pcm16');
  await talk.waitForState((state) => state.you, 'the floor');
  const count = (SECONDS * 1000) / 20;
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const due = start + i * 20;
    if (due > Date.now()) await sleep(due - Date.now());
    talk.sendBinary(talkPacket({ codec, sequence: (i + 1) & 0xffff, captureUs: due * 1000, samples: FRAME, payload: payloadOf(i) }));
  }
  talk.stop();
  await talk.waitForState((state) => !state.you && state.talker === null, 'the floor given back');
}

async function runOnce(run) {
  const data = tempDir('doorstep-bench-talk-cpu-');
  const hub = await Hub.start({ dataDir: data.dir });
  let doorbell = null;
  let talk = null;
  try {
    const admin = await hub.admin();
    const device = hub.addDevice('Front door');
    doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 15, bitrate: 500, audio: { frequency: 300, amplitude: 2000 } });
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'the doorbell online' });
    talk = new TalkClient(admin, device.id);
    await talk.opened;
    await talk.waitForState(() => true, 'the first state');
    const opus = opusTonePackets(1000, 2);
    const pid = hub.proc.child.pid;
    await sleep(5000); // past start-up

    const quiet = () => cpuPercentDuring(pid, () => sleep(SECONDS * 1000));
    const quietBefore = await quiet();
    const opusCpu = await cpuPercentDuring(pid, () => talkFor(talk, CODEC_OPUS, (i) => opus[i % opus.length]));
    const quietMiddle = await quiet();
    const pcmCpu = await cpuPercentDuring(pid, () => talkFor(talk, CODEC_PCM16, (i) => pcmTone(1000, i * FRAME, FRAME)));
    const quietAfter = await quiet();
    const stats = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.talk;
    const round = (value) => Math.round(value * 100) / 100;
    const common = { bench: 'talk-cpu', unit: '% of one core', seconds: SECONDS, commit, run, loadavg: loadAverage() };
    console.log(JSON.stringify({ ...common, figure: 'hub CPU, nobody talking', value: round([quietBefore, quietMiddle, quietAfter].sort((a, b) => a - b)[1]), runs_quiet: [quietBefore, quietMiddle, quietAfter].map(round) }));
    console.log(JSON.stringify({ ...common, figure: 'hub CPU per talk session, Opus from the browser (forwarded)', value: round(opusCpu - (quietBefore + quietMiddle) / 2), total: round(opusCpu) }));
    console.log(JSON.stringify({ ...common, figure: 'hub CPU per talk session, PCM16 from the browser (encoded by the hub)', value: round(pcmCpu - (quietMiddle + quietAfter) / 2), total: round(pcmCpu) }));
    console.log(JSON.stringify({ ...common, figure: 'talk packets', forwarded: stats.packets_forwarded, dropped_queue_full: stats.dropped_queue_full, dropped_invalid: stats.dropped_invalid }));
  } finally {
    if (talk) await talk.close();
    if (doorbell) await doorbell.stop();
    await hub.stop();
    data.cleanup();
  }
}

for (let run = 1; run <= RUNS; run++) await runOnce(run);
