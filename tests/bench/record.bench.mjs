// Recording cost measured with replay doorbells (`doorbelld
// --replay`, firmware/replay/): a 1920x1080, 30 fps, 4 Mbit/s clip is encoded
// once by ffmpeg's libx264 (GOP 1 s, no B-frames, SPS/PPS on every IDR) and
// sent by device links that have no camera and no encoder, so the sender
// costs little more than TLS. Every doorbell is recorded 24/7 by the hub.
//
//   1. hub CPU for one recorded doorbell, with 0 and 1 live viewer;
//   2. doorbells per core: for N = 10, 25, 50, ... replay doorbells (one
//      sender process, a fresh hub per step) the hub's CPU, the frame rate
//      it received, and every kind of drop: sequence gaps seen by the hub,
//      frames the sender could not queue (link congested), frames the
//      recorder dropped (its stats in GET /api/v1/devices), and frames the
//      hub received but that are not in the recordings index;
//   3. container overhead: bytes of the recorded segments vs the H.264
//      Annex B bytes of the same frames as sent;
//   4. the hub against ffmpeg: for N = 1, 10, 50 the hub recording N replay
//      doorbells, then N ffmpeg processes recording the same clip by copy
//      into 10 s MP4 segments (`-c copy -f segment`, Frigate's recording
//      path), fed bare H.264 over plain TCP on the same schedule by
//      `doorbelld --replay FILE --replay-tcp` (lib/bench-ffmpeg.mjs). CPU per
//      stream of each, from /proc/PID/stat utime+stime over the window (the
//      ffmpegs summed), their ratio, and memory per stream;
//   5. hub memory per doorbell: (RSS with N doorbells - RSS idle) / N, at
//      every step of 2.
//
// Hub CPU is the doorstepd threads' run time (/proc schedstat), in % of one
// core; the sender's and the whole machine's are printed next to it, since
// all share the same cores. Prints JSON lines (and a table on stderr);
// asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/record.bench.mjs
//   BENCH_SECONDS (each window, default 30), BENCH_STEPS (doorbells per
//   core, default 10,25,50,100,150,200,250; stops after the first step with
//   drops, a hub over one core or a sender that could not keep 30 fps; "" for
//   none), BENCH_FFMPEG_STEPS (the comparison, default 1,10,50; "" for none),
//   BENCH_DATA_DIR (where the hubs and the ffmpegs record; default the OS
//   temp dir; /dev/shm for tmpfs)

import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hub, Doorbell, sleep, tempDir, waitFor, segmentFiles, controlCommands } from '../lib/harness.mjs';
import { cpuSeconds, cpuSecondsTicks, rssMegabytes } from '../lib/proc.mjs';
import { startFfmpegRecorders, stopFfmpegRecorders, ffmpegCpuSeconds, ffmpegRssMegabytes, ffmpegSegmentCount } from '../lib/bench-ffmpeg.mjs';
import { LiveViewer } from '../lib/live-client.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const steps = (text) => text.split(',').filter(Boolean).map(Number);
const STEPS = steps(process.env.BENCH_STEPS ?? '10,25,50,100,150,200,250');
const FFMPEG_STEPS = steps(process.env.BENCH_FFMPEG_STEPS ?? '1,10,50');
const DATA_ROOT = process.env.BENCH_DATA_DIR || tmpdir();
const SIZE = '1920x1080';
const FPS = 30;
const KBPS = 4000;

const print = (figure) => console.log(JSON.stringify(figure));
const percent = (seconds, window) => +((seconds / window) * 100).toFixed(2);

// The replay clip: 10 s of moving test pattern with noise, so that x264
// really needs 4 Mbit/s. Returns its path and its access unit sizes.
function encodeClip(dir) {
  const path = join(dir, 'clip-1080p30-4M.h264');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i',
    `testsrc2=size=${SIZE}:rate=${FPS},noise=alls=12:allf=t`, '-t', '10',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-b:v', `${KBPS}k`, '-maxrate', `${KBPS}k`, '-bufsize', `${KBPS}k`,
    '-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0', '-bf', '0',
    '-x264-params', 'repeat-headers=1', '-f', 'h264', path]);
  const sizes = execFileSync('ffprobe', ['-v', 'error', '-show_packets', '-show_entries', 'packet=size',
    '-of', 'csv=p=0', path], { encoding: 'utf8' }).trim().split('\n').map(Number);
  return { path, sizes, bytes: statSync(path).size };
}

// Busy and total jiffies of the whole machine (/proc/stat), all cores.
function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function filesystemType(dir) {
  return execFileSync('df', ['--output=fstype', dir], { encoding: 'utf8' }).trim().split('\n').pop();
}


// A hub recording into a fresh directory under DATA_ROOT. Every replay
// doorbell connects from 127.0.0.1, so the per-address bound (a tenth of the
// workers, meant for LAN hosts that each hold a few connections) is raised,
// and the pool holds the largest step's links plus the bench's own requests.
async function startHub() {
  const dataDir = mkdtempSync(join(DATA_ROOT, 'doorstep-record-bench-'));
  const threads = Math.max(256, Math.max(0, ...STEPS, ...FFMPEG_STEPS) + 64);
  const hub = await Hub.start({ dataDir, extra: ['--log-level', 'info', '--http-threads', String(threads),
    '--connections-per-address', String(threads)] });
  return { hub, dataDir, admin: await hub.admin() };
}

// A hub that does not stop cleanly is reported, not fatal to the benchmark.
async function stopHub({ hub, dataDir }) {
  try {
    await hub.stop();
  } catch (error) {
    print({ figure: 'warning', message: error.message.split('\n')[0] });
  }
  rmSync(dataDir, { recursive: true, force: true });
}

// One process of `count` replay doorbells: the first from the command line,
// the others from a --replay-devices file.
async function startSender(hub, devices, clip, dir) {
  const extra = ['--replay', clip.path];
  if (devices.length > 1) {
    const list = join(dir, `devices-${devices.length}.txt`);
    writeFileSync(list, devices.slice(1).map((d) => `${d.id} ${d.secret}\n`).join(''), { mode: 0o600 });
    extra.push('--replay-devices', list);
  }
  return Doorbell.start({ hub, ...devices[0], size: SIZE, fps: FPS, bitrate: KBPS, extra });
}

// The hub's view of the given doorbells, by id.
async function deviceStates(admin, ids) {
  const all = (await admin.api('GET', '/api/v1/devices')).json.devices;
  const wanted = new Set(ids);
  return new Map(all.filter((d) => wanted.has(d.id)).map((d) => [d.id, d]));
}

// Everything needed to compare two moments of a run.
async function sample(context, sender, ids) {
  return {
    at: process.hrtime.bigint(),
    hubCpu: cpuSeconds(context.hub.proc.child.pid),
    hubCpuTicks: cpuSecondsTicks(context.hub.proc.child.pid),
    senderCpu: cpuSeconds(sender.proc.child.pid),
    machine: machineTicks(),
    devices: await deviceStates(context.admin, ids),
    sender: await sender.stats(),
  };
}

// Figures for the window between two samples.
function windowFigures(before, after) {
  const seconds = Number(after.at - before.at) / 1e9;
  let frames = 0, gaps = 0, recorderDropped = 0, writeErrors = 0;
  for (const [id, state] of after.devices) {
    const old = before.devices.get(id);
    frames += state.video.frames - old.video.frames;
    gaps += state.video.gaps - old.video.gaps;
    recorderDropped += state.recorder.dropped_frames - old.recorder.dropped_frames;
    writeErrors += state.recorder.write_errors - old.recorder.write_errors;
  }
  const machine = (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
  return {
    seconds: +seconds.toFixed(1),
    hub_cpu_percent_of_core: percent(after.hubCpu - before.hubCpu, seconds),
    hub_cpu_ticks_percent_of_core: percent(after.hubCpuTicks - before.hubCpuTicks, seconds),
    sender_cpu_percent_of_core: percent(after.senderCpu - before.senderCpu, seconds),
    machine_busy_percent_of_all_cores: +(machine * 100).toFixed(1),
    ingest_fps_per_doorbell: +(frames / seconds / after.devices.size).toFixed(2),
    hub_gaps: gaps,
    sender_congested: after.sender.frames_congested - before.sender.frames_congested,
    sender_late_frames: after.sender.frames_late - before.sender.frames_late,
    sender_max_late_ms: after.sender.max_late_ms,
    recorder_dropped: recorderDropped,
    recorder_write_errors: writeErrors,
  };
}

// After the sender stopped: wait until every segment is closed, then compare
// the frames each doorbell's recordings hold with the frames the hub received.
async function recordedVsReceived(admin, ids) {
  const rowsOf = async (id) => (await admin.api('GET', `/api/v1/devices/${id}/recordings?from=0`)).json.recordings;
  await waitFor(async () => {
    for (const id of ids) if ((await rowsOf(id)).some((r) => r.recording)) return false;
    return true;
  }, { timeout: 60000, interval: 500, what: 'every segment closed' });
  const states = await deviceStates(admin, ids);
  let received = 0, recorded = 0, bytes = 0;
  const rows = new Map();
  for (const id of ids) {
    const list = await rowsOf(id);
    rows.set(id, list);
    received += states.get(id).video.frames;
    recorded += list.reduce((n, r) => n + r.video_frames, 0);
    bytes += list.reduce((n, r) => n + r.bytes, 0);
  }
  return { received, recorded, unrecorded: received - recorded, bytes, rows, states };
}

// Wait for the doorbells to stream, let them settle, then measure a window.
async function measure(context, sender, ids, settleMs = 3000) {
  await waitFor(async () => {
    const states = await deviceStates(context.admin, ids);
    return [...states.values()].every((d) => d.online && d.video.frames > FPS);
  }, { timeout: 60000 + ids.length * 500, interval: 500, what: `${ids.length} doorbells streaming` });
  await sleep(settleMs);
  const before = await sample(context, sender, ids);
  await sleep(SECONDS * 1000);
  return windowFigures(before, await sample(context, sender, ids));
}

// ---- 1 and 3: one doorbell, 0 and 1 viewer; then its container overhead ----

async function oneDoorbell(clip, workDir) {
  const context = await startHub();
  const device = context.hub.addDevice('Bench 1080p');
  let sender = await startSender(context.hub, [device], clip, workDir);
  let viewer = null;
  const results = {};
  try {
    results.viewers0 = await measure(context, sender, [device.id]);
    print({ figure: 'hub_cpu_percent_of_core_recorded_doorbell', viewers: 0, value: results.viewers0.hub_cpu_percent_of_core, ...results.viewers0 });
    viewer = new LiveViewer(context.admin, device.id);
    viewer.socket.removeAllListeners('message'); // read and discard
    viewer.socket.on('message', () => {});
    await viewer.opened;
    results.viewers1 = await measure(context, sender, [device.id], 2000);
    print({ figure: 'hub_cpu_percent_of_core_recorded_doorbell', viewers: 1, value: results.viewers1.hub_cpu_percent_of_core, ...results.viewers1 });
    await viewer.close();
    viewer = null;
    const senderStats = await sender.stats();
    const stopping = sender;
    sender = null;
    await stopping.stop();

    // Container overhead. The sender starts the clip at its first IDR on
    // connecting and never skips a frame, so recorded frame k is clip unit
    // k mod n, provided nothing was dropped on the one connection.
    const counts = await recordedVsReceived(context.admin, [device.id]);
    const rows = counts.rows.get(device.id);
    const state = counts.states.get(device.id);
    const files = segmentFiles(context.dataDir, device.id);
    const fileBytes = files.reduce((n, f) => n + statSync(f).size, 0);
    let sentBytes = 0;
    for (let k = 0; k < counts.recorded; k++) sentBytes += clip.sizes[k % clip.sizes.length];
    const remuxed = files.reduce((n, f) => n + execFileSync('ffmpeg', ['-v', 'error', '-i', f, '-c', 'copy', '-f', 'h264', '-'],
      { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).length, 0);
    results.overhead = {
      segments: rows.length,
      frames: counts.recorded,
      frames_received: counts.received,
      exact_mapping: counts.unrecorded === 0 && state.video.gaps === 0 && senderStats.connects === 1 && senderStats.frames_congested === 0,
      recorded_bytes: fileBytes,
      index_bytes: counts.bytes,
      sent_annexb_bytes: sentBytes,
      ffmpeg_annexb_bytes: remuxed,
      overhead_bytes_per_frame: +((fileBytes - sentBytes) / counts.recorded).toFixed(1),
    };
    results.overhead.value = +(((fileBytes - sentBytes) / sentBytes) * 100).toFixed(3);
    results.overhead.vs_ffmpeg_percent = +(((fileBytes - remuxed) / remuxed) * 100).toFixed(3);
    print({ figure: 'recording_container_overhead_percent', ...results.overhead });
  } finally {
    if (viewer) await viewer.close();
    if (sender) await sender.stop();
    await stopHub(context);
  }
  return results;
}

// ---- 2: doorbells per core -------------------------------------------------

const rampResults = new Map(); // doorbells -> step: a step runs once per run

async function rampStep(count, clip, workDir) {
  if (rampResults.has(count)) return rampResults.get(count);
  const context = await startHub();
  const idleRss = rssMegabytes(context.hub.proc.child.pid);
  const devices = [];
  for (let i = 0; i < count; i++) devices.push(context.hub.addDevice(`Bench ${i}`));
  const ids = devices.map((d) => d.id);
  let sender = await startSender(context.hub, devices, clip, workDir);
  try {
    const figures = await measure(context, sender, ids);
    const rss = rssMegabytes(context.hub.proc.child.pid);
    const stopping = sender;
    sender = null;
    await stopping.stop();
    const counts = await recordedVsReceived(context.admin, ids);
    const step = { doorbells: count, ...figures, hub_cpu_percent_per_doorbell: +(figures.hub_cpu_percent_of_core / count).toFixed(3),
      frames_received: counts.received, frames_unrecorded: counts.unrecorded,
      hub_rss_idle_mb: +idleRss.toFixed(1), hub_rss_mb: +rss.toFixed(1), hub_rss_per_doorbell_mb: +((rss - idleRss) / count).toFixed(3) };
    step.drops = step.hub_gaps + step.sender_congested + Math.max(0, step.frames_unrecorded) + step.recorder_dropped;
    // A sender that cannot keep its schedule shows as late frames and a
    // lower ingest rate, not as drops: then the hub was not really offered N.
    step.sender_limited = step.ingest_fps_per_doorbell < FPS * 0.98;
    print({ figure: 'hub_record_step', ...step });
    rampResults.set(count, step);
    return step;
  } finally {
    if (sender) await sender.stop();
    await stopHub(context);
  }
}

// ---- 4: the hub against ffmpeg ---------------------------------------------

// N ffmpeg recorders fed the clip over TCP; their CPU over one window.
async function ffmpegStep(count, clip, workDir) {
  const dir = mkdtempSync(join(DATA_ROOT, 'doorstep-record-bench-ffmpeg-'));
  let group = null;
  try {
    group = await startFfmpegRecorders({ count, clip: clip.path, dir, fps: FPS, size: SIZE });
    await sleep(3000);
    const senderStats = async () => JSON.parse((await controlCommands(group.control, ['stats']))[0]);
    const before = { at: process.hrtime.bigint(), cpu: ffmpegCpuSeconds(group), sender: await senderStats() };
    await sleep(SECONDS * 1000);
    const after = { at: process.hrtime.bigint(), cpu: ffmpegCpuSeconds(group), sender: await senderStats() };
    const seconds = Number(after.at - before.at) / 1e9;
    const frames = after.sender.frames_queued - before.sender.frames_queued;
    return {
      seconds: +seconds.toFixed(1),
      ffmpeg_cpu_percent_of_core: percent(after.cpu.recorders - before.cpu.recorders, seconds),
      ffmpeg_sender_cpu_percent_of_core: percent(after.cpu.sender - before.cpu.sender, seconds),
      ffmpeg_fps_per_stream: +(frames / seconds / count).toFixed(2),
      ffmpeg_sender_late_frames: after.sender.frames_late - before.sender.frames_late,
      ffmpeg_sender_failed_outputs: after.sender.frames_offline,
      ffmpeg_rss_per_stream_mb: +(ffmpegRssMegabytes(group) / count).toFixed(2),
      ffmpeg_segments: ffmpegSegmentCount(group),
    };
  } finally {
    if (group) await stopFfmpegRecorders(group);
    rmSync(dir, { recursive: true, force: true });
  }
}

// The hub with N doorbells (a ramp step), then N ffmpegs; one figure line.
async function compareStep(count, clip, workDir) {
  const hub = await rampStep(count, clip, workDir);
  const ffmpeg = await ffmpegStep(count, clip, workDir);
  const hubPerStream = hub.hub_cpu_ticks_percent_of_core / count;
  const ffmpegPerStream = ffmpeg.ffmpeg_cpu_percent_of_core / count;
  const figure = {
    figure: 'hub_vs_ffmpeg_cpu_per_stream', doorbells: count,
    value: +(hubPerStream / ffmpegPerStream).toFixed(3),
    hub_cpu_percent_per_stream: +hubPerStream.toFixed(3),
    ffmpeg_cpu_percent_per_stream: +ffmpegPerStream.toFixed(3),
    hub_drops: hub.drops, hub_fps_per_stream: hub.ingest_fps_per_doorbell,
    hub_rss_per_stream_mb: hub.hub_rss_per_doorbell_mb,
    ...ffmpeg,
  };
  print(figure);
  return figure;
}

// ---- main ------------------------------------------------------------------

const work = tempDir('doorstep-record-bench-work-');
try {
  const clip = encodeClip(work.dir);
  const clipKbps = (clip.bytes * 8) / (clip.sizes.length / FPS) / 1000;
  print({ figure: 'replay_clip', size: SIZE, fps: FPS, frames: clip.sizes.length, bytes: clip.bytes,
    bitrate_kbps: Math.round(clipKbps), unit_bytes_match_file: clip.sizes.reduce((a, b) => a + b, 0) === clip.bytes,
    data_dir: DATA_ROOT, data_dir_fs: filesystemType(DATA_ROOT) });

  const one = await oneDoorbell(clip, work.dir);
  const comparisons = [];
  for (const count of FFMPEG_STEPS) comparisons.push(await compareStep(count, clip, work.dir));
  const steps = [];
  for (const count of STEPS) {
    const step = await rampStep(count, clip, work.dir);
    steps.push(step);
    if (step.drops > 0 || step.hub_cpu_percent_of_core > 100 || step.sender_limited) break;
  }
  const good = steps.filter((s) => s.drops === 0 && s.hub_cpu_percent_of_core <= 100 && !s.sender_limited);
  const last = steps[steps.length - 1] ?? { drops: 0, hub_cpu_percent_of_core: 0 };
  const stoppedBy = last.drops > 0 ? 'drops' : last.hub_cpu_percent_of_core > 100 ? 'hub over one core'
    : last.sender_limited ? 'the sender could not keep 30 fps (machine saturated)' : 'no more steps';
  print({ figure: 'doorbells_per_core_without_drops', value: good.length ? good[good.length - 1].doorbells : 0,
    steps: steps.map((s) => s.doorbells), stopped_by: stoppedBy });

  // The table, for people, on stderr: stdout stays JSON lines (`make bench`).
  const rows = [
    ['doorbells', 'hub % core', 'sender % core', 'machine busy %', 'fps/doorbell', 'gaps', 'congested', 'recorder dropped', 'unrecorded', 'late (sender)'],
    ...steps.map((s) => [s.doorbells, s.hub_cpu_percent_of_core, s.sender_cpu_percent_of_core, s.machine_busy_percent_of_all_cores,
      s.ingest_fps_per_doorbell, s.hub_gaps, s.sender_congested, s.recorder_dropped, s.frames_unrecorded, s.sender_late_frames]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => `| ${r.map((v, c) => String(v).padStart(widths[c])).join(' | ')} |`;
  console.error(`\n1 recorded 1080p30 ${KBPS} kbit/s doorbell: hub ${one.viewers0.hub_cpu_percent_of_core} % of a core, `
    + `${one.viewers1.hub_cpu_percent_of_core} % with 1 viewer; container overhead ${one.overhead.value} % `
    + `(${one.overhead.overhead_bytes_per_frame} B/frame over ${one.overhead.frames} frames)`);
  console.error(`recordings on ${DATA_ROOT} (${filesystemType(DATA_ROOT)}), ${SECONDS} s windows\n`);
  console.error([line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n'));
  console.error('\nper stream, % of a core (utime+stime): hub recording vs ffmpeg -c copy -f segment');
  for (const c of comparisons) {
    console.error(`  N=${c.doorbells}: hub ${c.hub_cpu_percent_per_stream}, ffmpeg ${c.ffmpeg_cpu_percent_per_stream}, `
      + `ratio ${c.value}; memory per stream hub ${c.hub_rss_per_stream_mb} MiB, ffmpeg ${c.ffmpeg_rss_per_stream_mb} MiB`);
  }
} finally {
  work.cleanup();
}
