// Person detection, per event and in cost, with the real doorbell and hub:
//
//   1. per-event precision and recall: clips of real footage replayed through
//      doorbells (`--camera file:`) and the sim scene's car and cat. Every
//      motion event a doorbell makes is one sample. Positives: events of the
//      vtest.avi clips (people walk through every frame of it). Negatives:
//      events of the tree.avi clips (a tree in the wind) and of the sim's
//      cars and cats. An event counts as "person" when the hub labelled it
//      `person`. The clips are made here from Debian's opencv-doc
//      (/usr/share/doc/opencv-doc/examples/data), never stored in the repo.
//      Six 12 s vtest clips, three 14 s tree clips, five cars and five cats.
//      Doorbells run one at a time, so that no frame is dropped for want of
//      a worker and the figure is the detector's and the voting's alone;
//   2. hub CPU during a 30 s event (a vtest doorbell in one long motion
//      event) against the same hub recording a still picture, and the
//      detector pool's own busy time;
//   3. detect frames the hub analyses per second across N doorbells that are
//      all in events (N = 5, 10, 20), how many it drops, and whether the
//      watched doorbell lost live frames (it must not).
//
// Prints JSON lines (and a table on stderr); asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/person.bench.mjs
//   BENCH_PERSON_CLIPS (vtest clips, default 6), BENCH_FLOOD_STEPS (5,10,20)

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, sleep, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { cpuSeconds } from '../lib/proc.mjs';

const DATA = '/usr/share/doc/opencv-doc/examples/data';
const CLIPS = Number(process.env.BENCH_PERSON_CLIPS || 6);
const FLOOD_STEPS = (process.env.BENCH_FLOOD_STEPS ?? '5,10,20').split(',').filter(Boolean).map(Number);
const CLIP_SECONDS = 12;

const print = (figure) => console.log(JSON.stringify(figure));
const round = (value, digits = 3) => +value.toFixed(digits);

// A y4m clip of `seconds` from `start` of an opencv-doc video.
function clip(dir, name, start, seconds, filter = null) {
  const path = join(dir, `${name}-${start}.y4m`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-ss', String(start), '-i', join(DATA, `${name}.avi`), '-t', String(seconds),
    ...(filter ? ['-vf', filter] : []), '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', path]);
  return path;
}

async function events(admin, id) {
  const response = await admin.api('GET', `/api/v1/devices/${id}/events?limit=500`);
  return response.json.events;
}

async function detection(admin) {
  return (await admin.api('GET', '/api/v1/detection')).json;
}

// Wait until the pool has looked at everything it was given.
async function drained(admin) {
  await waitFor(async () => {
    const stats = await detection(admin);
    return stats.submitted === stats.done + stats.dropped + stats.refused;
  }, { timeout: 120000, interval: 250, what: 'the detector pool idle' });
}

// Play one clip through a fresh doorbell for `seconds`; its events.
async function replay(hub, admin, name, path, size, fps, seconds) {
  const device = hub.addDevice(name);
  const doorbell = await Doorbell.start({ hub, ...device, size, fps, bitrate: 400, extra: ['--camera', `file:${path}`] });
  await sleep(seconds * 1000);
  await doorbell.stop();
  await drained(admin);
  return events(admin, device.id);
}

async function sampleEvents(dir, hub, admin) {
  const samples = [];
  const add = (source, positive, list) => {
    for (const event of list) samples.push({ source, positive, person: event.event_type === 'person', score: event.score });
  };
  for (let i = 0; i < CLIPS; i++) {
    const start = i * 13;
    add(`vtest@${start}s`, true, await replay(hub, admin, `vtest ${i}`, clip(dir, 'vtest', start, CLIP_SECONDS), '768x576', 10, CLIP_SECONDS + 2));
  }
  for (const start of [0, 8, 15]) {
    add(`tree@${start}s`, false, await replay(hub, admin, `tree ${start}`, clip(dir, 'tree', start, 14), '320x240', 15, 16));
  }
  const street = hub.addDevice('Street');
  const doorbell = await Doorbell.start({ hub, ...street, size: '640x360', fps: 15, bitrate: 400 });
  for (const kind of ['car', 'cat', 'car', 'cat', 'car', 'cat', 'car', 'cat', 'car', 'cat']) {
    await waitFor(async () => (await events(admin, street.id)).every((event) => !event.active), { timeout: 60000, what: 'the street quiet' });
    await doorbell.control(kind);
    await waitFor(async () => (await events(admin, street.id)).some((event) => event.active), { timeout: 30000, what: `an event for the ${kind}` });
  }
  await waitFor(async () => (await events(admin, street.id)).every((event) => !event.active), { timeout: 60000, what: 'the street quiet' });
  await doorbell.stop();
  await drained(admin);
  add('sim car/cat', false, await events(admin, street.id));
  return samples;
}

function precisionRecall(samples) {
  const tp = samples.filter((s) => s.positive && s.person).length;
  const fp = samples.filter((s) => !s.positive && s.person).length;
  const fn = samples.filter((s) => s.positive && !s.person).length;
  const negatives = samples.filter((s) => !s.positive).length;
  return { tp, fp, fn, positives: tp + fn, negatives, precision: tp + fp ? round(tp / (tp + fp)) : null, recall: tp + fn ? round(tp / (tp + fn)) : null };
}

// Hub CPU over `seconds` while `doorbell` runs, and the pool's busy time.
async function cpuWindow(hub, admin, seconds) {
  const pid = hub.proc.child.pid;
  const cpu0 = cpuSeconds(pid);
  const pool0 = await detection(admin);
  await sleep(seconds * 1000);
  const cpu1 = cpuSeconds(pid);
  const pool1 = await detection(admin);
  return {
    hub_cpu_percent_of_core: round(((cpu1 - cpu0) / seconds) * 100, 2),
    detector_busy_percent_of_core: round(((pool1.busy_ms - pool0.busy_ms) / 1000 / seconds) * 100, 2),
    frames_analysed: pool1.done - pool0.done,
    frames_dropped: pool1.dropped - pool0.dropped,
  };
}

async function eventCost(dir) {
  const data = tempDir('doorstep-person-cost-');
  const hub = await Hub.start({ dataDir: data.dir });
  const admin = await hub.admin();
  try {
    // A still picture: the first frame of vtest, looped (no motion, no event).
    const still = join(dir, 'still.y4m');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', join(DATA, 'vtest.avi'), '-frames:v', '1', '-vf', 'loop=300:1:0,fps=10',
      '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', still]);
    const quiet = hub.addDevice('Still');
    let doorbell = await Doorbell.start({ hub, ...quiet, size: '768x576', fps: 10, bitrate: 400, extra: ['--camera', `file:${still}`] });
    await sleep(5000);
    const idle = await cpuWindow(hub, admin, 30);
    await doorbell.stop();
    const busy = hub.addDevice('Walkway');
    doorbell = await Doorbell.start({ hub, ...busy, size: '768x576', fps: 10, bitrate: 400, extra: ['--camera', `file:${clip(dir, 'vtest', 0, 40)}`] });
    await waitFor(async () => (await events(admin, busy.id)).some((event) => event.active), { timeout: 30000, what: 'the event' });
    const during = await cpuWindow(hub, admin, 30);
    await doorbell.stop();
    print({ figure: 'hub_cpu_during_30s_person_event', value: during.hub_cpu_percent_of_core, unit: '% of a core', recording_still_picture: idle.hub_cpu_percent_of_core, ...during });
  } finally {
    await hub.stop();
    data.cleanup();
  }
}

async function flood(dir, doorbells) {
  const data = tempDir('doorstep-person-flood-');
  const hub = await Hub.start({ dataDir: data.dir });
  const admin = await hub.admin();
  const path = clip(dir, 'vtest', 0, 20, 'scale=384:288,fps=5');
  const started = [];
  try {
    for (let i = 0; i < doorbells; i++) {
      const device = hub.addDevice(`Walkway ${i + 1}`);
      started.push(await Doorbell.start({ hub, ...device, size: '384x288', fps: 5, bitrate: 150, extra: ['--camera', `file:${path}`] }));
    }
    await sleep(10000);
    const pool0 = await detection(admin);
    const window = 30;
    const cpu = await cpuWindow(hub, admin, window);
    const pool1 = await detection(admin);
    const offered = (pool1.submitted - pool0.submitted) / window;
    const analysed = (pool1.done - pool0.done) / window;
    print({ figure: 'detect_frames_per_second', doorbells, value: round(analysed, 1), offered_per_s: round(offered, 1),
      dropped_per_s: round((pool1.dropped - pool0.dropped) / window, 1), threads: pool1.threads, ...cpu });
  } finally {
    await stopAll(...started, hub);
    data.cleanup();
  }
}

async function main() {
  if (!existsSync(join(DATA, 'vtest.avi'))) throw new Error(`${DATA} is missing (package opencv-doc)`);
  const work = tempDir('doorstep-person-clips-');
  try {
    const data = tempDir('doorstep-person-events-');
    const hub = await Hub.start({ dataDir: data.dir });
    let samples;
    try {
      samples = await sampleEvents(work.dir, hub, await hub.admin());
    } finally {
      await hub.stop();
      data.cleanup();
    }
    const all = precisionRecall(samples);
    print({ figure: 'person_event_precision', value: all.precision, ...all });
    print({ figure: 'person_event_recall', value: all.recall, ...all });
    const bySource = {};
    for (const s of samples) {
      bySource[s.source] ??= { source: s.source, positive: s.positive, events: 0, person: 0 };
      bySource[s.source].events++;
      bySource[s.source].person += s.person ? 1 : 0;
    }
    for (const row of Object.values(bySource)) print({ figure: 'person_events_by_source', ...row });
    await eventCost(work.dir);
    for (const n of FLOOD_STEPS) await flood(work.dir, n);
    process.stderr.write(`person events: precision ${all.precision} (${all.tp} of ${all.tp + all.fp}), recall ${all.recall} (${all.tp} of ${all.positives}); ${all.negatives} negative events\n`);
  } finally {
    work.cleanup();
  }
}

await main();
