// What the still-scene rule saves: two real doorbells play the scripted sim
// scene (firmware/camera/sim_scene.c: a visitor who rings at about 10-26 s
// of each 120 s loop, a car at 45-48 s, a cat at 70-75 s, night, porch light
// and day after that) side by side into one real hub, which records both
// 24/7. One runs the still-scene rule (--still-bitrate, default 25 %, after
// --still-after 10 s), the other has it off (--still-bitrate 0). Both start
// together, so they see the same scene at the same time. After
// BENCH_SECONDS the recorded segments are read with ffprobe -show_packets:
// the bits each stored per second of video, as kbit/s and MB per hour, and
// the ratio. Prints JSON lines (and a table on stderr); asserts nothing.
//
//   cd tests && DOORSTEP_BUILD=$PWD/../build node bench/still-scene.bench.mjs
//   BENCH_SECONDS (default 240: two loops of the scene), BENCH_SIZE
//   (1280x720), BENCH_FPS (30), BENCH_KBPS (2000), BENCH_PRESET (veryfast),
//   BENCH_STILL_PERCENT (25)

import { execFileSync } from 'node:child_process';
import { Hub, Doorbell, sleep, tempDir, waitFor, segmentFiles } from '../lib/harness.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS || 240);
const SIZE = process.env.BENCH_SIZE || '1280x720';
const FPS = Number(process.env.BENCH_FPS || 30);
const KBPS = Number(process.env.BENCH_KBPS || 2000);
const PRESET = process.env.BENCH_PRESET || 'veryfast';
const STILL_PERCENT = Number(process.env.BENCH_STILL_PERCENT || 25);

const print = (figure) => console.log(JSON.stringify(figure));

// Bytes and seconds of video in a doorbell's recorded segments.
function recorded(dataDir, id) {
  let bytes = 0;
  let seconds = 0;
  let frames = 0;
  for (const file of segmentFiles(dataDir, id)) {
    const lines = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_packets',
      '-show_entries', 'packet=pts_time,size', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    const packets = lines.map((line) => line.split(',').map(Number)).filter(([pts]) => Number.isFinite(pts));
    if (packets.length < 2) continue;
    const times = packets.map(([pts]) => pts);
    bytes += packets.reduce((sum, [, size]) => sum + size, 0);
    seconds += Math.max(...times) - Math.min(...times) + 1 / FPS;
    frames += packets.length;
  }
  return { bytes, seconds, frames };
}

const data = tempDir('doorstep-still-bench-');
const hub = await Hub.start({ dataDir: data.dir });
const doorbells = [];
try {
  await hub.admin();
  const ways = [
    { name: 'still_rule', percent: STILL_PERCENT },
    { name: 'no_rule', percent: 0 },
  ];
  for (const way of ways) way.device = hub.addDevice(`Still bench ${way.name}`);
  const started = await Promise.all(ways.map((way) => Doorbell.start({
    hub, ...way.device, size: SIZE, fps: FPS, bitrate: KBPS, scripted: true, still: true,
    extra: ['--preset', PRESET, '--no-previews', '--sub-stream', 'off', '--still-bitrate', String(way.percent)],
  })));
  doorbells.push(...started);
  await Promise.all(started.map((doorbell) => waitFor(async () => (await doorbell.stats()).connected, { what: 'connected' })));
  console.error(`recording ${SECONDS} s of the scripted scene, ${SIZE}@${FPS} ${KBPS} kbit/s ${PRESET}, with and without the still rule`);
  await sleep(SECONDS * 1000);
  const stats = await Promise.all(started.map((doorbell) => doorbell.stats()));
  await Promise.all(started.map((doorbell) => doorbell.stop()));
  doorbells.length = 0;
  await sleep(2000); // the hub closes the last segments
  const results = {};
  ways.forEach((way, i) => {
    const video = recorded(data.dir, way.device.id);
    const kbps = (video.bytes * 8) / 1000 / video.seconds;
    results[way.name] = kbps;
    print({ figure: `still_scene_${way.name}_kbps`, value: +kbps.toFixed(1),
      mb_per_hour: +((kbps * 1000 / 8) * 3600 / 1e6).toFixed(1), recorded_seconds: +video.seconds.toFixed(1),
      frames: video.frames, frames_captured: stats[i].frames_captured, still_bitrate_percent: way.percent,
      size: SIZE, fps: FPS, bitrate_kbps: KBPS, preset: PRESET, seconds: SECONDS });
  });
  const ratio = results.still_rule / results.no_rule;
  print({ figure: 'still_scene_ratio', value: +ratio.toFixed(3), note: 'bits with the still rule / without' });
  console.error(`with the rule ${results.still_rule.toFixed(0)} kbit/s (${(results.still_rule * 0.45).toFixed(0)} MB/h), ` +
    `without ${results.no_rule.toFixed(0)} kbit/s (${(results.no_rule * 0.45).toFixed(0)} MB/h), ratio ${ratio.toFixed(2)}`);
} finally {
  for (const doorbell of doorbells) await doorbell.stop();
  await hub.stop();
  data.cleanup();
}
