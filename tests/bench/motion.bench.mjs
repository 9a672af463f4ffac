// Motion detection cost per frame in the firmware (target: <= 1 ms at the
// 320x180 analysis size) and, for comparison, the CPU Debian's `motion`
// daemon needs on the same input.
//
// The Makefile builds no benchmarks, so motion_bench.c is compiled here with
// one gcc command (-O2, as `make`) from the firmware's motion and camera
// sources. It renders the scripted sim scene at 1280x720, 10 fps (unpaced)
// and times, per frame, the analysis alone and the box-filter downscale plus
// the analysis, as the thread's CPU time (rendering not counted). Then, if
// `motion` is installed (apt-get install motion), the same scene is written
// as a YUV4MPEG2 file (the visitor walking up, BENCH_MOTION_FRAMES frames),
// `motion` reads it in a loop (netcam_url file://) at 10 fps with its
// defaults and no picture, movie or web output, and its CPU time over
// BENCH_MOTION_SECONDS is divided by the frames it was fed. Prints JSON
// lines; asserts nothing.
//
//   cd tests && node bench/motion.bench.mjs
//   BENCH_FRAMES (default 3000), BENCH_MOTION_SECONDS (default 20, 0 = skip),
//   BENCH_MOTION_FRAMES (default 120)

import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, tempDir } from '../lib/harness.mjs';
import { cpuSeconds } from '../lib/proc.mjs';

const FRAMES = Number(process.env.BENCH_FRAMES || 3000);
const MOTION_SECONDS = Number(process.env.BENCH_MOTION_SECONDS ?? 20);
const MOTION_FRAMES = Number(process.env.BENCH_MOTION_FRAMES || 120);
const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 10;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = tempDir('doorstep-bench-motion-');
const print = (figure) => console.log(JSON.stringify(figure));

function sources(folder) {
  const listed = execFileSync('sh', ['-c', `ls ${folder}/*.c`], { cwd: root, encoding: 'utf8' });
  return listed.split('\n').filter(Boolean);
}

let daemon = null;
try {
  const binary = join(work.dir, 'motion_bench');
  // The doorbell's own include paths: its tree and common/ (build/include/common, made by `make`).
  execFileSync('gcc', ['-std=c11', '-O2', '-D_GNU_SOURCE', '-Ifirmware', '-Ibuild/include',
    'tests/bench/motion_bench.c', ...sources('firmware/motion'), ...sources('firmware/camera'),
    'common/log.c', 'common/log_limit.c', 'common/error_text.c', 'common/motion_config.c',
    'common/clock.c', 'common/mutex.c',
    '-lcjson', '-lm', '-lpthread', '-o', binary], { cwd: root, stdio: 'inherit' });

  const lines = execFileSync(binary, [String(FRAMES), String(WIDTH), String(HEIGHT), String(FPS)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  let meanTotalNs = 0;
  for (const line of lines.split('\n').filter(Boolean)) {
    const figure = JSON.parse(line);
    if (figure.figure === 'motion_downscale_and_analyse_ns_per_frame') meanTotalNs = figure.mean;
    print(figure);
  }
  print({ figure: 'motion_cpu_percent_of_core', value: +((meanTotalNs * FPS) / 1e7).toFixed(3),
    camera: `${WIDTH}x${HEIGHT}`, fps: FPS, note: 'downscale + analysis, mean' });

  let haveMotion = false;
  try {
    execFileSync('sh', ['-c', 'command -v motion'], { stdio: 'ignore' });
    haveMotion = true;
  } catch {
    print({ figure: 'debian_motion_cpu_ns_per_frame', value: null, note: '`motion` is not installed (apt-get install motion)' });
  }
  if (haveMotion && MOTION_SECONDS > 0) {
    const y4m = join(work.dir, 'scene.y4m');
    execFileSync(binary, ['--y4m', y4m, '8', String(MOTION_FRAMES), String(WIDTH), String(HEIGHT), String(FPS)],
      { stdio: 'ignore' });
    const output = join(work.dir, 'out');
    mkdirSync(output);
    const config = join(work.dir, 'motion.conf');
    writeFileSync(config, [
      'daemon off', 'setup_mode off', 'log_level 4', `target_dir ${output}`,
      `netcam_url file://${y4m}`, `width ${WIDTH}`, `height ${HEIGHT}`, `framerate ${FPS}`,
      'picture_output off', 'movie_output off', 'webcontrol_port 0', 'stream_port 0', '',
    ].join('\n'));
    daemon = spawn('motion', ['-n', '-c', config], { stdio: 'ignore' });
    await sleep(3000); // opened the file, past start-up
    const before = cpuSeconds(daemon.pid);
    await sleep(MOTION_SECONDS * 1000);
    const used = cpuSeconds(daemon.pid) - before;
    const frames = MOTION_SECONDS * FPS;
    print({ figure: 'debian_motion_cpu_ns_per_frame', value: Math.round((used / frames) * 1e9),
      cpu_percent_of_core: +((used / MOTION_SECONDS) * 100).toFixed(3), seconds: MOTION_SECONDS,
      camera: `${WIDTH}x${HEIGHT}`, fps: FPS,
      note: 'motion 4.x defaults, analyses the full frame; includes reading the raw YUV4MPEG2 file' });
  }
} finally {
  if (daemon !== null && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((done) => { daemon.once('exit', done); setTimeout(done, 5000); });
  }
  work.cleanup();
}
