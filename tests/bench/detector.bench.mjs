// The hub's person detector (appliance/detection/): cost per frame and
// precision/recall on real footage against hand-checked labels.
//
// The Makefile builds no benchmarks, so detector_bench.c is compiled here
// (-O2, as `make`) with the detector's sources (its one C++ file with g++).
// The frames the labels name (tests/data/labels/vtest.json: every 20th
// frame of OpenCV's vtest.avi, people walking; tree.json: every 20th of
// tree.avi, a tree in the wind, nobody) are cut from the videos of the
// opencv-doc package with ffmpeg into a temporary directory as JPEGs of
// quality about 85 (what a doorbell sends). Prints, as JSON lines: the
// decode and detector CPU time per frame (median, max) for the whole frame,
// one motion box and all motion boxes, the frames per second one worker
// sustains, and precision/recall per frame and in all (see detector_bench.c
// for the matching rule). Asserts nothing.
//
//   cd tests && node bench/detector.bench.mjs
//   BENCH_EVAL_FRAMES=0 hides the per-frame lines.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../lib/harness.mjs';

const FOOTAGE = '/usr/share/doc/opencv-doc/examples/data';
const SHOW_FRAMES = process.env.BENCH_EVAL_FRAMES !== '0';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = tempDir('doorstep-bench-detector-');
const print = (figure) => console.log(JSON.stringify(figure));

try {
  const binary = join(work.dir, 'detector_bench');
  const flags = ['-O2', '-D_GNU_SOURCE', '-Iappliance', '-Ibuild/include'];
  const objects = [];
  for (const source of ['tests/bench/detector_bench.c', 'appliance/detection/detection_image.c',
    'appliance/detection/person_detector.c', 'common/error_text.c']) {
    const object = join(work.dir, `${objects.length}.o`);
    execFileSync('gcc', ['-std=c11', ...flags, '-c', source, '-o', object], { cwd: root, stdio: 'inherit' });
    objects.push(object);
  }
  const hog = join(work.dir, 'hog.o');
  execFileSync('g++', ['-std=c++17', ...flags, '-I/usr/include/opencv4', '-c',
    'appliance/detection/person_detector_hog.cpp', '-o', hog], { cwd: root, stdio: 'inherit' });
  execFileSync('gcc', [...objects, hog, '-o', binary, '-lcjson', '-ljpeg', '-lopencv_objdetect',
    '-lopencv_imgproc', '-lopencv_core', '-lstdc++', '-lm'], { cwd: root, stdio: 'inherit' });

  const args = [];
  for (const name of ['vtest', 'tree']) {
    const labelsPath = join(root, 'tests/data/labels', `${name}.json`);
    const labels = JSON.parse(readFileSync(labelsPath, 'utf8'));
    const video = join(FOOTAGE, labels.video);
    if (!existsSync(video)) throw new Error(`${video} is missing: install opencv-doc`);
    const frames = join(work.dir, name);
    mkdirSync(frames);
    // The labels' frames are every `step`th from 0, in order: one ffmpeg pass.
    execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', video,
      '-vf', `select=not(mod(n\\,${labels.step}))`, '-vsync', '0',
      '-frames:v', String(labels.frames.length), '-q:v', '3', '-start_number', '0',
      join(frames, 'f%04d.jpg')], { stdio: 'inherit' });
    args.push(labelsPath, frames);
  }
  const lines = execFileSync(binary, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const line of lines.split('\n').filter(Boolean)) {
    const figure = JSON.parse(line);
    if (figure.figure === 'detector_eval_frame' && !SHOW_FRAMES) continue;
    print(figure);
  }
} finally {
  work.cleanup();
}
