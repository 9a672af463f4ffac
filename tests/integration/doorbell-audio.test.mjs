// The doorbell's microphone never goes quiet and its log never floods:
//  - `make run` itself (scripts/run.sh, state in a temporary directory): the
//    sim microphone hears the street, and the scripted visitor speaking while
//    at the door, in the hub's recordings; neither the doorbell's nor the
//    hub's log repeats a line more than the rate limit allows; the doorbell
//    has the doorstep area make run gives it;
//  - an ALSA `file` microphone whose input runs out every half second (the
//    old `make run` set-up, its two minutes made short): the hub records the
//    file's tone again and again instead of silence, and the log has no
//    alsa-lib complaint and no more "input ended" lines than the limit.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, waitFor, tempDir, freePort, segmentFiles, ROOT, BUILD, controlCommands, libwebsocketsLeakEnv } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';

const temporary = [];
after(() => temporary.forEach((dir) => dir.cleanup()));

// The mono 48 kHz samples of the audio of media files, in order.
function decodeAudio(files) {
  const parts = files.map((file) => execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-ac', '1',
    '-ar', '48000', '-'], { maxBuffer: 1 << 28 }));
  const all = Buffer.concat(parts);
  return new Int16Array(all.buffer, all.byteOffset, all.length / 2);
}

// RMS of each `ms` window of samples.
function levels(samples, ms = 100) {
  const size = (48000 * ms) / 1000;
  const out = [];
  for (let i = 0; i + size <= samples.length; i += size) {
    let sum = 0;
    for (let j = i; j < i + size; j++) sum += samples[j] * samples[j];
    out.push(Math.sqrt(sum / size));
  }
  return out;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Log lines grouped the way the rate limit groups them (level, module and
// text with digit runs as one '#'); the most lines of one group within any
// 10 s. The limit allows 10 per window plus a summary, and a 10 s span can
// cover the end of one window and the start of the next: at most 22.
function worstBurst(lines) {
  const groups = new Map();
  for (const line of lines) {
    const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$/.exec(line);
    if (!match) continue;
    const key = match[2].replace(/\d+/g, '#');
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(Date.parse(match[1]));
  }
  let worst = { count: 0, key: '' };
  for (const [key, times] of groups) {
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[j] < times[i] - 10000) j++;
      if (i - j + 1 > worst.count) worst = { count: i - j + 1, key };
    }
  }
  return worst;
}

// One request on a control socket; resolves with the reply line.
const control = async (path, command) => (await controlCommands(path, [command]))[0];

test('make run: the sim microphone hears the street and the visitor speaking; the logs stay bounded', async () => {
  const state = tempDir('doorstep-make-run-');
  temporary.push(state);
  const port = await freePort();
  const run = spawn(join(ROOT, 'scripts', 'run.sh'), [], {
    // The doorbell pairs: two libwebsockets contexts (libwebsocketsLeakEnv).
    env: { ...process.env, DOORSTEP_VAR: state.dir, DOORSTEP_PORT: String(port), DOORSTEP_BUILD: BUILD,
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
      ...libwebsocketsLeakEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  run.stdout.on('data', (chunk) => { output += chunk; });
  run.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolveExit) => run.on('exit', (code, signal) => resolveExit({ code, signal })));
  const doorbellLog = join(state.dir, 'doorbell.log');
  const hubLog = join(state.dir, 'hub.log');
  const socket = join(state.dir, 'doorbell', 'control.sock');
  const scene = async () => JSON.parse(await control(socket, 'scene'));
  try {
    await waitFor(() => {
      if (run.exitCode !== null) throw new Error(`make run exited: ${output.slice(-2000)}`);
      return existsSync(doorbellLog) && /connected to the hub/.test(readFileSync(doorbellLog, 'utf8'));
    }, { timeout: patience(60000), what: 'the doorbell connected' });
    // The scripted visitor comes 10 s into the scene; it speaks at once and
    // for a phrase of about 2 s: wait for 5 s of scene time with it there.
    const arrived = await waitFor(async () => {
      const truth = await scene();
      return truth.objects.some((object) => object.kind === 'visitor') && truth.scene_time_us;
    }, { timeout: patience(120000), interval: 200, what: 'the scripted visitor' });
    await waitFor(async () => (await scene()).scene_time_us > arrived + 5e6, { timeout: patience(60000), what: '5 s of visitor' });
    // make run gave the doorbell a doorstep area around the mat, for the
    // scripted courier's parcel (docs/packages.md).
    const motion = JSON.parse(await control(socket, 'motion'));
    assert.equal(motion.package_zone?.length, 4, JSON.stringify(motion));
  } finally {
    run.kill('SIGINT');
    const timer = setTimeout(() => run.kill('SIGKILL'), patience(60000));
    await exited;
    clearTimeout(timer);
  }
  const bellLines = readFileSync(doorbellLog, 'utf8').split('\n').filter(Boolean);
  const hubLines = readFileSync(hubLog, 'utf8').split('\n').filter(Boolean);
  assert.doesNotMatch(output, /AddressSanitizer|LeakSanitizer|runtime error:/);
  // make run pairs its doorbell with the setup code (SPAKE2+), not with a secret.
  assert.match(output, /pairing the simulated doorbell [0-9a-f]{12} with its setup code \d{4}-\d{4}/);
  assert.ok(hubLines.some((line) => /doorbell [0-9a-f]{12} paired as "Front door"/.test(line)), 'the hub logged the pairing');

  const samples = decodeAudio(segmentFiles(join(state.dir, 'hub')));
  const windows = levels(samples);
  const street = median(windows);
  const loudest = Math.max(...windows);
  console.log(`# make run: ${(samples.length / 48000).toFixed(1)} s of recorded audio, street rms ${street.toFixed(0)}, ` +
    `loudest 100 ms ${loudest.toFixed(0)}; doorbell log ${bellLines.length} lines, hub log ${hubLines.length}`);
  assert.ok(samples.length > 48000 * 10, 'at least 10 s of audio recorded');
  assert.ok(street > 30, `the street is audible (rms ${street})`);
  assert.ok(loudest > 4 * street, `the visitor's voice stands out (${loudest} against ${street})`);
  assert.ok(bellLines.some((line) => /capturing from "sim"/.test(line)), 'make run uses the sim microphone');

  for (const [name, lines] of [['doorbell', bellLines], ['hub', hubLines]]) {
    const worst = worstBurst(lines);
    assert.ok(worst.count <= 22, `${name}: ${worst.count} lines like "${worst.key}" within 10 s`);
  }
});

test('an ALSA file microphone whose input runs out plays it again; no alsa-lib complaint floods the log', async () => {
  const data = tempDir('doorstep-file-mic-');
  temporary.push(data);
  const hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '2'] });
  let doorbell;
  try {
    const admin = await hub.admin();
    const device = hub.addDevice('Front door');
    doorbell = await Doorbell.start({ hub, ...device, audio: { seconds: 0.5, frequency: 440, amplitude: 8000 } });
    // 7 s connected: 14 ends of the input, more than the limit's burst of 10.
    await waitFor(() => doorbell.log.some((line) => /connected to the hub/.test(line)), { what: 'the link' });
    const connected = Date.now();
    await waitFor(() => Date.now() - connected > 7000, { what: '7 s of audio' });
    await doorbell.stop();
    const lines = doorbell.log;
    doorbell = null;
    const rows = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
    await waitFor(async () => (await rows()).every((row) => !row.recording), { what: 'the last segment closed' });

    const samples = decodeAudio(segmentFiles(data.dir, device.id));
    const windows = levels(samples);
    // The tone (rms ~5660) runs through: no second without it after the first.
    const quiet = windows.slice(10).filter((level) => level < 1000).length;
    console.log(`# file microphone: ${(samples.length / 48000).toFixed(1)} s recorded, ${quiet} quiet 100-ms windows after the first second, ` +
      `${lines.filter((line) => /input ended/.test(line)).length} "input ended" lines`);
    assert.ok(samples.length > 48000 * 5, 'at least 5 s of audio recorded');
    assert.ok(quiet <= 2, `${quiet} of ${windows.length - 10} windows without the tone`);
    assert.equal(lines.filter((line) => /alsa-lib/.test(line)).length, 0, 'no alsa-lib complaint about the end of the input');
    const worst = worstBurst(lines);
    assert.ok(worst.count <= 22, `${worst.count} lines like "${worst.key}" within 10 s`);
  } finally {
    if (doorbell) await doorbell.stop();
    await hub.stop();
  }
});
