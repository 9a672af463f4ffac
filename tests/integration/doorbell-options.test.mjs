// doorbelld's options do what `doorbelld --help` says: the real doorbell is
// started against a real hub once per documented option value and checked
// for what the help promises (it connects and streams with that setting, or
// refuses an invalid value with a clear message and exit status 2 for a bad
// command line, 1 for a setting that cannot be opened). The option list is
// read from --help, so an option documented without cases here fails the
// first test, and so does a value the help lists (sim, none, auto, ...)
// that no case uses.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, waitFor, tempDir, BUILD, controlCommands, libwebsocketsLeakEnv } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';

const DOORBELLD = join(BUILD, 'doorbelld');
const data = tempDir('doorstep-options-');
const hubData = tempDir('doorstep-options-hub-');
let hub, admin, pin, clipY4m, clipH264, asoundrc;

const help = execFileSync(DOORBELLD, ['--help'], { encoding: 'utf8' });

// The help text of each option: its line and the indented lines after it.
function documentedOptions() {
  const options = new Map();
  let current = null;
  for (const line of help.split('\n')) {
    const match = /^ {2}(--[a-z0-9-]+)\s+(.*)$/.exec(line);
    if (match) {
      current = match[1];
      options.set(current, match[2]);
    } else if (current && /^ {20,}\S/.test(line)) {
      options.set(current, `${options.get(current)} ${line.trim()}`);
    } else {
      current = null;
    }
  }
  return options;
}

// A doorbelld process whose output is kept.
function startDoorbell(args, env = {}) {
  const child = spawn(DOORBELLD, args, {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { child, output: '' };
  child.stdout.on('data', (chunk) => { proc.output += chunk; });
  child.stderr.on('data', (chunk) => { proc.output += chunk; });
  proc.exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  return proc;
}

// SIGTERM, then the exit must be clean and free of sanitizer reports.
async function stopDoorbell(proc) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), patience(30000));
    await proc.exited;
    clearTimeout(timer);
  }
  const { code, signal } = await proc.exited;
  assert.equal(code, 0, `doorbelld ended with ${code}/${signal}:\n${proc.output.slice(-3000)}`);
  assert.doesNotMatch(proc.output, /AddressSanitizer|LeakSanitizer|runtime error:/);
}

// One request on a control socket; resolves with the reply line.
const control = async (path, command) => (await controlCommands(path, [command]))[0];

const online = async (id) => (await admin.api('GET', `/api/v1/devices/${id}`)).json?.online === true;

// The doorbell arguments every case starts from, less those it replaces.
function baseArgs(device, omit = []) {
  const args = {
    '--hub': [`wss://127.0.0.1:${hub.port}`],
    '--device-id': [device.id],
    '--secret': [device.secret],
    '--size': ['640x360'],
    '--fps': ['15'],
    '--preset': ['ultrafast'],
  };
  return Object.entries(args).filter(([name]) => !omit.includes(name)).flatMap(([name, value]) => [name, ...value]);
}

let deviceCount = 0;
const newDevice = () => hub.addDevice(`Options ${++deviceCount}`);
let controlCount = 0;
const controlPath = () => join(data.dir, `control-${++controlCount}.sock`);

// Start with `args`, wait until the hub has the doorbell online, run
// `check` on it, stop it cleanly.
async function runs(args, check = async () => {}, { device = newDevice(), omit = [], waitOnline = true, env = {} } = {}) {
  const proc = startDoorbell([...baseArgs(device, omit), ...args], env);
  try {
    if (waitOnline) {
      await waitFor(async () => {
        if (proc.child.exitCode !== null) throw new Error(`doorbelld exited ${proc.child.exitCode}: ${proc.output.slice(-2000)}`);
        return online(device.id);
      }, { timeout: patience(30000), what: `the doorbell online with ${args.join(' ')}` });
    }
    await check(proc, device);
  } finally {
    await stopDoorbell(proc);
  }
  return proc;
}

// Start with `args` and expect an exit with `code` and a message matching `message`.
async function refuses(args, code, message, { omit = [] } = {}) {
  const proc = startDoorbell([...baseArgs({ id: 'none-such', secret: '0'.repeat(64) }, omit), ...args]);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), patience(30000));
  const exit = await proc.exited;
  clearTimeout(timer);
  assert.equal(exit.code, code, `${args.join(' ')}: exit ${exit.code}/${exit.signal}:\n${proc.output.slice(-2000)}`);
  assert.match(proc.output, message, args.join(' '));
  assert.doesNotMatch(proc.output, /AddressSanitizer|LeakSanitizer|runtime error:/);
}

// Run a program to its end: { status, stdout }.
const spawnSyncText = (file, args) => spawnSync(file, args, { encoding: 'utf8', timeout: patience(30000) });

const waitOutput = (proc, pattern, what) =>
  waitFor(() => pattern.test(proc.output), { timeout: patience(30000), what });

// For each documented option: the values its help names (each must appear
// in the help and be used by a case) and the cases.
const cases = {
  '--hub': { cases: [
    ['wss://127.0.0.1:PORT connects', () => runs([])],
    ['anything but wss:// is refused', () => refuses(['--hub', 'https://127.0.0.1:1'], 2, /wss:\/\/HOST:PORT/)],
    ['without it, the doorbell looks for a hub on the local network (mDNS); discovery.test.mjs finds one', async () => {
      const device = newDevice();
      const proc = startDoorbell(baseArgs(device, ['--hub']));
      try {
        await waitOutput(proc, /looking for a hub on the local network \(mDNS\)\.\.\./, 'the search');
        assert.equal(await online(device.id), false);
      } finally {
        await stopDoorbell(proc);
      }
    }],
  ] },
  '--no-mdns': { cases: [
    ['with --hub it connects and touches no mDNS', () => runs(['--no-mdns'], async (proc) => {
      assert.doesNotMatch(proc.output, /mdns:|discovery:/);
    })],
    ['without --hub it is refused', () => refuses(['--no-mdns'], 2, /--hub is needed with --no-mdns/, { omit: ['--hub'] })],
  ] },
  '--no-previews': { cases: [
    ['the doorbell sends no timeline previews; without it the hub has one for the footage', async () => {
      // Two doorbells recording side by side, one with the option.
      const preview = async (id) => (await admin.api('GET', `/api/v1/devices/${id}/preview.jpg?at=${Date.now()}`)).status;
      let plain;
      await runs([], async (proc, device) => {
        plain = device;
        await waitFor(async () => (await preview(device.id)) === 200, { timeout: patience(30000), what: 'a preview from the doorbell without the option' });
      });
      await runs(['--no-previews'], async (proc, device) => {
        // Twice the preview interval (2 s) of footage, then still none.
        await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings`)).json?.recordings?.length > 0,
          { timeout: patience(30000), what: 'footage from the doorbell with --no-previews' });
        await new Promise((resolve) => setTimeout(resolve, 4500));
        assert.equal(await preview(device.id), 404, 'no preview with --no-previews');
      });
      assert.ok(plain);
    }],
  ] },
  '--model': { cases: [
    ['TEXT is the model a doorbell not yet paired announces', async () => {
      const state = join(data.dir, 'model-state');
      const proc = startDoorbell(['--state-dir', state, '--model', 'Porch 1', '--size', '640x360'],
        libwebsocketsLeakEnv());
      try {
        await waitOutput(proc, /mDNS: device id [0-9a-f]{12} \(Porch 1\) announces pairing mode/, 'the announcement');
      } finally {
        await stopDoorbell(proc);
      }
    }],
    ['longer than 32 characters or not printable is refused', async () => {
      await refuses(['--model', 'x'.repeat(33)], 2, /--model wants 1 to 32 printable characters/);
      await refuses(['--model', 'a\tb'], 2, /--model wants/);
      await refuses(['--model', ''], 2, /--model wants/);
    }],
  ] },
  '--device-id': { cases: [
    ['the id connects', () => runs([])],
    ['an id the hub does not know is refused by the hub', () => runs([], async (proc) => {
      await waitOutput(proc, /closed the link: auth_failed/, 'the refusal');
    }, { device: { id: 'not-a-device', secret: '0'.repeat(64) }, waitOnline: false })],
  ] },
  '--secret': { cases: [
    ['the secret connects', () => runs([])],
    ['a secret that is not 64 hex digits is refused', () => refuses(['--secret', 'xyz'], 1, /64 hex digits/, { omit: ['--secret'] })],
  ] },
  '--secret-file': { cases: [
    ['read from the file, it connects', async () => {
      const device = newDevice();
      const file = join(data.dir, `secret-${device.id}`);
      writeFileSync(file, `${device.secret}\n`, { mode: 0o600 });
      await runs(['--secret-file', file], undefined, { device, omit: ['--secret'] });
    }],
    ['a missing file is refused', () => refuses(['--secret-file', join(data.dir, 'missing')], 1, /cannot read/, { omit: ['--secret'] })],
  ] },
  '--hub-key-sha256': { cases: [
    ["the hub's key connects", () => runs(['--hub-key-sha256', pin])],
    ['another key is refused', () => runs(['--hub-key-sha256', 'ab'.repeat(32)], async (proc, device) => {
      await waitOutput(proc, /does not match the pinned key/, 'the pin refusal');
      assert.equal(await online(device.id), false);
    }, { waitOnline: false })],
  ] },
  '--camera': { values: ['sim', 'v4l2:', 'file:'], cases: [
    ['sim streams the porch scene', () => runs(['--camera', 'sim'], async (proc) => {
      await waitOutput(proc, /opened sim camera/, 'the sim camera');
    })],
    ['v4l2: opens the V4L2 device (none here: a clear error)', () =>
      refuses(['--camera', 'v4l2:/dev/video-doorstep-missing'], 1, /camera: .*video-doorstep-missing/)],
    ['file: replays a y4m clip', () => runs(['--camera', `file:${clipY4m}`], async (proc) => {
      await waitOutput(proc, /320x180@15 replay/, 'the file camera');
      await waitOutput(proc, /video now 320x180/, 'the encoder on the file size');
    })],
    ['an unknown source is refused', () => refuses(['--camera', 'webcam'], 1, /camera: .*webcam/)],
  ] },
  '--size': { cases: [
    ['WxH sets the picture size', () => runs(['--size', '800x450', '--control', controlPath()], async (proc) => {
      const path = proc.child.spawnargs[proc.child.spawnargs.indexOf('--control') + 1];
      await waitFor(async () => existsSync(path) && JSON.parse(await control(path, 'stats')).frames_encoded > 0, { what: 'frames' });
      const stats = JSON.parse(await control(path, 'stats'));
      assert.deepEqual([stats.width, stats.height], [800, 450]);
    })],
    ['too small, odd or not WxH is refused', async () => {
      await refuses(['--size', '100x100'], 2, /--size wants even WxH/);
      await refuses(['--size', '641x360'], 2, /--size wants even WxH/);
      await refuses(['--size', '640x360p'], 2, /--size wants even WxH/);
    }],
  ] },
  '--fps': { cases: [
    ['N sets the frame rate', () => runs(['--fps', '10', '--control', controlPath()], async (proc) => {
      const path = proc.child.spawnargs[proc.child.spawnargs.indexOf('--control') + 1];
      await waitFor(() => existsSync(path), { what: 'control socket' });
      assert.equal(JSON.parse(await control(path, 'stats')).fps, 10);
      await waitOutput(proc, /640x360@10/, 'the encoder at 10 fps');
    })],
    ['outside 1..60 or not a number is refused', async () => {
      await refuses(['--fps', '0'], 2, /--fps wants a whole number from 1 to 60/);
      await refuses(['--fps', '61'], 2, /--fps wants/);
      await refuses(['--fps', 'abc'], 2, /--fps wants/);
    }],
  ] },
  '--bitrate': { cases: [
    ['KBPS sets the bitrate', () => runs(['--bitrate', '300'], async (proc) => {
      await waitOutput(proc, /x264 640x360@15 300 kbit\/s/, 'the encoder at 300 kbit/s');
    })],
    ['outside 50..20000 is refused', async () => {
      await refuses(['--bitrate', '49'], 2, /--bitrate wants a whole number from 50 to 20000/);
      await refuses(['--bitrate', '2M'], 2, /--bitrate wants/);
    }],
  ] },
  '--keyframe-interval': { cases: [
    ['N frames between keyframes', () => runs(['--keyframe-interval', '15'], async (proc) => {
      await waitOutput(proc, /IDR every 15 frames/, 'the keyframe interval');
    })],
    ['the default is 2 s worth', () => runs([], async (proc) => {
      await waitOutput(proc, /IDR every 30 frames/, '30 frames at 15 fps');
    })],
    ['not a number or out of range is refused', async () => {
      await refuses(['--keyframe-interval', 'often'], 2, /--keyframe-interval wants/);
      await refuses(['--keyframe-interval', '3601'], 2, /--keyframe-interval wants/);
    }],
  ] },
  '--sub-stream': { values: ['off'], cases: [
    ['WxH@FPS is the sub-stream the hub may turn on (sub-stream.test.mjs turns it on)', () => runs(['--size', '1280x720', '--sub-stream', '320x180@10'], async (proc) => {
      await waitOutput(proc, /sub-stream 320x180@10, 400 kbit\/s, on request/, 'the sub-stream');
    }, { omit: ['--size'] })],
    ['the default is 640x360@15; none when the picture is not larger', async () => {
      await runs(['--size', '1280x720'], async (proc) => {
        await waitOutput(proc, /sub-stream 640x360@15, 400 kbit\/s/, 'the default sub-stream');
      }, { omit: ['--size'] });
      await runs([], async (proc) => {
        await waitOutput(proc, /no sub-stream: the 640x360 picture is not larger than 640x360/, 'no sub-stream');
      });
    }],
    ['off: no sub-stream', () => {
      const path = controlPath();
      return runs(['--size', '1280x720', '--sub-stream', 'off', '--control', path], async () => {
        await waitFor(() => existsSync(path), { what: 'control socket' });
        const status = JSON.parse(await control(path, 'status'));
        assert.equal(status.sub_stream, null);
        assert.equal(status.encoders, 1);
      }, { omit: ['--size'] });
    }],
    ['anything else is refused', async () => {
      await refuses(['--sub-stream', '641x360@15'], 2, /--sub-stream wants WxH@FPS/);
      await refuses(['--sub-stream', '640x360'], 2, /--sub-stream wants/);
      await refuses(['--sub-stream', '640x360@0'], 2, /--sub-stream wants/);
    }],
  ] },
  '--sub-bitrate': { cases: [
    ['KBPS is the sub-stream\'s bitrate', () => runs(['--size', '1280x720', '--sub-bitrate', '250'], async (proc) => {
      await waitOutput(proc, /sub-stream 640x360@15, 250 kbit\/s/, 'the sub-stream at 250 kbit/s');
    }, { omit: ['--size'] })],
    ['outside 50..20000 is refused', () => refuses(['--sub-bitrate', '49'], 2, /--sub-bitrate wants a whole number from 50 to 20000/)],
  ] },
  '--still-after': { cases: [
    ['S seconds without motion, PIR or ring make the picture still (still-scene.test.mjs)', () => {
      const path = controlPath();
      return runs(['--still-after', '1', '--control', path], async (proc) => {
        await waitFor(() => existsSync(path), { what: 'control socket' });
        await waitFor(async () => JSON.parse(await control(path, 'status')).still, { timeout: patience(20000), what: 'still' });
        await waitOutput(proc, /still picture: 500 kbit\/s/, 'the still bitrate');
      });
    }],
    ['outside 1..3600 is refused', () => refuses(['--still-after', '0'], 2, /--still-after wants a whole number from 1 to 3600/)],
  ] },
  '--still-bitrate': { values: ['0'], cases: [
    ['PCT of --bitrate while the picture is still', () => runs(['--still-after', '1', '--still-bitrate', '10'], async (proc) => {
      await waitOutput(proc, /still picture: 200 kbit\/s/, 'the still bitrate');
    })],
    ['0 keeps the full bitrate', () => {
      const path = controlPath();
      return runs(['--still-after', '1', '--still-bitrate', '0', '--control', path], async (proc) => {
        await waitFor(() => existsSync(path), { what: 'control socket' });
        await waitFor(async () => JSON.parse(await control(path, 'stats')).frames_encoded > 45, { timeout: patience(20000), what: '3 s of video' });
        const status = JSON.parse(await control(path, 'status'));
        assert.equal(status.still, false);
        assert.equal(status.main_bitrate_kbps, 2000);
        assert.doesNotMatch(proc.output, /still picture/);
      });
    }],
    ['outside 0..100 is refused', () => refuses(['--still-bitrate', '101'], 2, /--still-bitrate wants a whole number from 0 to 100/)],
  ] },
  '--preset': { cases: [
    ['NAME is the x264 preset', () => runs(['--preset', 'superfast'], async (proc) => {
      await waitOutput(proc, /preset superfast/, 'the preset');
    }, { omit: ['--preset'] })],
    ['an unknown preset is refused', () => refuses(['--preset', 'warp'], 1, /preset.*warp/, { omit: ['--preset'] })],
  ] },
  '--scripted': { cases: [
    ["the scripted loop's visitor arrives by itself", () => {
      const path = controlPath();
      return runs(['--scripted', '--control', path, '--fps', '30'], async () => {
        await waitFor(async () => existsSync(path) && /"kind":"visitor"/.test(await control(path, 'scene')),
          { timeout: patience(60000), interval: 500, what: 'the scripted visitor (10 s into the loop)' });
      }, { omit: ['--fps'] });
    }],
  ] },
  '--seed': { cases: [
    ['N seeds the scene', () => runs(['--seed', '7'])],
    ['not a number is refused', () => refuses(['--seed', 'lucky'], 2, /--seed wants/)],
  ] },
  '--capture-jitter-ms': { cases: [
    ['N jitters the sim capture times and still streams', () => runs(['--capture-jitter-ms', '20'])],
    ['out of range is refused', () => refuses(['--capture-jitter-ms', '1001'], 2, /--capture-jitter-ms wants/)],
    ['a camera other than sim is refused', () =>
      refuses(['--capture-jitter-ms', '5', '--camera', `file:${clipY4m}`], 2, /--capture-jitter-ms is for the sim camera/)],
  ] },
  '--control': { cases: [
    ['PATH answers control commands', () => {
      const path = controlPath();
      return runs(['--control', path], async () => {
        await waitFor(() => existsSync(path), { what: 'control socket' });
        assert.match(await control(path, 'help'), /^commands: press/);
        // The same through `doorbelld ctl PATH COMMAND...`, and its exit status.
        const ctl = (...words) => spawnSyncText(join(BUILD, 'doorbelld'), ['ctl', path, ...words]);
        assert.equal(ctl('help').status, 0);
        assert.match(ctl('help').stdout, /^commands: press/);
        assert.equal(ctl('no-such', 'command').status, 1);
        assert.equal(ctl().status, 2);
      });
    }],
  ] },
  '--audio-device': { values: ['none', 'sim'], cases: [
    ['none: no microphone, no speaker', () => runs(['--audio-device', 'none'], async (proc) => {
      await waitOutput(proc, /doorbelld 0\.1\.0: sim/, 'the start');
      assert.doesNotMatch(proc.output, /capturing from|playing to/);
    })],
    ['sim: the synthesised microphone, the speaker to "null"', () => runs(['--audio-device', 'sim'], async (proc) => {
      await waitOutput(proc, /capturing from "sim"/, 'the sim microphone');
      await waitOutput(proc, /playing to "null"/, 'the speaker');
    })],
    ['PCM: an ALSA device', () => runs(['--audio-device', 'doorstep_sim', '--alsa-config', asoundrc], async (proc) => {
      await waitOutput(proc, /capturing from "doorstep_sim"/, 'the ALSA microphone');
      await waitOutput(proc, /playing to "doorstep_sim"/, 'the ALSA speaker');
    })],
    ['an ALSA device that does not exist is refused', () =>
      // The speaker opens first (quick replies need it before the link), so it names the device.
      refuses(['--audio-device', 'doorstep_nope', '--alsa-config', asoundrc], 1, /(microphone: ALSA capture|speaker: ALSA playback) device "doorstep_nope"/)],
  ] },
  '--speaker-device': { values: ['none'], cases: [
    ['PCM: the speaker alone', () => runs(['--speaker-device', 'doorstep_speaker', '--alsa-config', asoundrc], async (proc) => {
      await waitOutput(proc, /playing to "doorstep_speaker"/, 'the speaker');
      assert.doesNotMatch(proc.output, /capturing from/);
    })],
    ['none: a microphone without speaker', () => runs(['--audio-device', 'sim', '--speaker-device', 'none'], async (proc) => {
      await waitOutput(proc, /capturing from "sim"/, 'the microphone');
      assert.doesNotMatch(proc.output, /playing to/);
    })],
  ] },
  '--alsa-config': { cases: [
    ['FILE adds devices', () => runs(['--audio-device', 'doorstep_mic', '--speaker-device', 'none', '--alsa-config', asoundrc], async (proc) => {
      await waitOutput(proc, /capturing from "doorstep_mic"/, 'a device from the file');
    })],
    ['a missing file is refused', () =>
      refuses(['--audio-device', 'doorstep_sim', '--alsa-config', join(data.dir, 'missing.conf')], 1, /ALSA config .*missing\.conf/)],
  ] },
  '--audio-pacing': { values: ['auto', 'device', 'clock'], cases: ['auto', 'device', 'clock'].map((mode) => [
    `${mode}`, () => runs(['--audio-device', 'doorstep_sim', '--alsa-config', asoundrc, '--audio-pacing', mode], async (proc) => {
      await waitOutput(proc, new RegExp(`capturing from "doorstep_sim".*pacing ${mode}`), `pacing ${mode}`);
    })]).concat([
    ['an unknown mode is refused', () => refuses(['--audio-pacing', 'fast'], 2, /--audio-pacing wants auto, device or clock/)],
  ]) },
  '--echo-cancel': { values: ['aec', 'duck', 'off'], cases: ['aec', 'duck', 'off'].map((mode) => [
    `${mode}`, () => runs(['--audio-device', 'doorstep_sim', '--alsa-config', asoundrc, '--echo-cancel', mode], async (proc) => {
      await waitOutput(proc, new RegExp(`capturing from "doorstep_sim".*echo ${mode}`), `echo ${mode}`);
    })]).concat([
    ['an unknown mode is refused', () => refuses(['--echo-cancel', 'on'], 2, /--echo-cancel wants aec, duck or off/)],
  ]) },
  '--sim-room': { cases: [
    ['DELAY_MS,GAIN_DB: the speaker reaches the microphone', () =>
      runs(['--audio-device', 'doorstep_sim', '--alsa-config', asoundrc, '--sim-room', '25,-6'], async (proc) => {
        await waitOutput(proc, /simulated room: the speaker reaches the microphone after 25 ms at -6\.0 dB/, 'the room');
      })],
    ['out of range or malformed is refused', async () => {
      await refuses(['--sim-room', '250,-6'], 2, /--sim-room wants DELAY_MS,GAIN_DB/);
      await refuses(['--sim-room', '25'], 2, /--sim-room wants DELAY_MS,GAIN_DB/);
    }],
  ] },
  '--replay': { cases: [
    ['FILE.h264 is sent instead of a camera', () => runs(['--replay', clipH264]), ],
    ['a file that is not H.264 is refused', () => refuses(['--replay', clipY4m], 1, /\S/)],
  ] },
  '--state-dir': { cases: [
    ['DIR keeps the device id of a doorbell not yet paired', async () => {
      const state = join(data.dir, 'id-state');
      // Two libwebsockets contexts (link and pairing): libwebsocketsLeakEnv.
      const ids = [];
      for (let round = 0; round < 2; round++) {
        const proc = startDoorbell(['--state-dir', state, '--no-mdns', '--hub', `wss://127.0.0.1:${hub.port}`],
          libwebsocketsLeakEnv());
        try {
          await waitOutput(proc, /pairing mode: setup code \d{4}-\d{4}, device id [0-9a-f]{12}/, 'the device id');
          const logged = /device id ([0-9a-f]{12})/.exec(proc.output)[1];
          assert.equal(readFileSync(join(state, 'device-id'), 'utf8').trim(), logged);
          ids.push(logged);
        } finally {
          await stopDoorbell(proc);
        }
      }
      assert.match(ids[0], /^[0-9a-f]{12}$/);
      assert.equal(ids[1], ids[0]);
      assert.equal(statSync(join(state, 'device-id')).mode & 0o777, 0o600);
    }],
    ['DIR: quick replies are kept in DIR/replies', () => runs(['--state-dir', join(data.dir, 'state')], async () => {
      await waitFor(() => existsSync(join(data.dir, 'state', 'replies')), { what: 'the replies folder' });
    })],
    ['DIR without --device-id: the identity and setup code are made there, 0600, and it waits to pair', async () => {
      const dir = join(data.dir, 'pairing-state');
      // Two libwebsockets contexts (link and pairing): libwebsocketsLeakEnv.
      const proc = startDoorbell(['--state-dir', dir, ...baseArgs({}, ['--device-id', '--secret'])],
        libwebsocketsLeakEnv());
      try {
        await waitOutput(proc, /pairing mode: setup code \d{4}-\d{4}, device id [0-9a-f]{12}/, 'the setup code in the log');
        for (const name of ['device-id', 'setup-code', 'pairing-record']) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
        const id = readFileSync(join(dir, 'device-id'), 'utf8').trim();
        await waitFor(async () => (await admin.api('GET', '/api/v1/pairing')).json.waiting.some((item) => item.device_id === id),
          { timeout: patience(30000), what: 'the doorbell waiting to pair' });
      } finally {
        await stopDoorbell(proc);
      }
    }],
    ['neither DIR nor --device-id is refused', () => refuses([], 2, /--state-dir \(to pair\)/, { omit: ['--device-id', '--secret'] })],
  ] },
  '--replay-devices': { cases: [
    ['FILE: more links in this process', async () => {
      const second = newDevice();
      const list = join(data.dir, `devices-${second.id}.txt`);
      writeFileSync(list, `${second.id} ${second.secret}\n`);
      // libwebsockets 4.1 leaks a client SSL_CTX per extra context at exit
      // (replay.test.mjs explains it); only that is suppressed.
      await runs(['--replay', clipH264, '--replay-devices', list], async () => {
        await waitFor(() => online(second.id), { timeout: patience(30000), what: 'the second replay device online' });
      }, { env: libwebsocketsLeakEnv() });
    }],
    ['without --replay it is refused', () => refuses(['--replay-devices', asoundrc], 2, /--replay-devices needs --replay/)],
  ] },
  // The bytes and their order: replay.test.mjs.
  '--replay-tcp': { cases: [
    ['IPV4:PORT[,COUNT]: the file goes to a TCP listener, not to the hub', async () => {
      const net = await import('node:net');
      let bytes = 0;
      const server = net.createServer((socket) => socket.on('data', (chunk) => { bytes += chunk.length; }));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        await runs(['--replay', clipH264, '--replay-tcp', `127.0.0.1:${server.address().port},1`], async () => {
          await waitFor(() => bytes > 0, { timeout: patience(30000), what: 'bytes on the listener' });
        }, { waitOnline: false });
      } finally {
        server.close();
      }
    }],
    ['a malformed address is refused', () => refuses(['--replay', clipH264, '--replay-tcp', 'nowhere'], 1, /--replay-tcp wants/)],
    ['without --replay it is refused', () => refuses(['--replay-tcp', '127.0.0.1:9'], 2, /--replay-tcp needs --replay/)],
  ] },
  // No GPIO chip on this machine (no /dev/gpiochip*, no gpio-sim or
  // gpio-mockup module), so these cases stop at the chip: a value that
  // parses gets as far as opening it (exit 1 naming the chip), a bad value
  // never does (exit 2). /dev/null is a file that is no GPIO chip: the line
  // request itself (GPIO_V2_GET_LINE_IOCTL) is made and refused.
  '--button-gpio': { values: ['active-low', 'active-high', 'pull-up', 'pull-down', 'no-pull'], cases: [
    ['CHIP:LINE (default active-low, pull-up) opens the chip: a missing one is refused with its path', () =>
      refuses(['--button-gpio', 'gpiochip-doorstep-missing:17'], 1,
        /gpio: button: cannot open \/dev\/gpiochip-doorstep-missing: No such file or directory/)],
    ['active-low,pull-up and active-high,pull-down and no-pull parse, and a path is taken as it is', async () => {
      await refuses(['--button-gpio', 'gpiochip-doorstep-missing:17,active-low,pull-up'], 1, /cannot open \/dev\/gpiochip-doorstep-missing/);
      await refuses(['--button-gpio', '/tmp/doorstep-no-chip:4,active-high,pull-down'], 1, /cannot open \/tmp\/doorstep-no-chip/);
      await refuses(['--button-gpio', 'gpiochip-doorstep-missing:0,no-pull'], 1, /cannot open/);
    }],
    ['a device that is no GPIO chip: the line request is refused', () =>
      refuses(['--button-gpio', '/dev/null:17'], 1, /gpio: button: cannot request line 17 of \/dev\/null/)],
    ['a bad value is refused', async () => {
      await refuses(['--button-gpio', 'gpiochip0'], 2, /--button-gpio: wants CHIP:LINE/);
      await refuses(['--button-gpio', 'gpiochip0:seventeen'], 2, /--button-gpio: LINE wants a whole number from 0 to 65535/);
      await refuses(['--button-gpio', 'gpiochip0:65536'], 2, /--button-gpio: LINE wants/);
      await refuses(['--button-gpio', 'gpiochip0:17,pull-sideways'], 2, /--button-gpio: 'pull-sideways' is none of/);
      await refuses(['--button-gpio', 'gpiochip0:17,active-low,active-high'], 2, /--button-gpio: a polarity twice/);
      await refuses(['--button-gpio', '../gpiochip0:17'], 1, /cannot open \.\.\/gpiochip0/);
      await refuses(['--button-gpio', '..:17'], 2, /--button-gpio: CHIP wants a name under \/dev/);
    }],
  ] },
  '--pir-gpio': { values: ['active-high', 'no-pull'], cases: [
    ['CHIP:LINE (default active-high, no-pull) opens the chip: a missing one is refused with its path', () =>
      refuses(['--pir-gpio', 'gpiochip-doorstep-missing:27'], 1,
        /gpio: pir: cannot open \/dev\/gpiochip-doorstep-missing: No such file or directory/)],
    ['with the button, the missing chip is named too', () =>
      refuses(['--button-gpio', '/dev/null:17', '--pir-gpio', 'gpiochip-doorstep-missing:27,active-low,pull-down'], 1,
        /gpio: button: cannot request line 17 of \/dev\/null/)],
    ['a bad value is refused', async () => {
      await refuses(['--pir-gpio', 'gpiochip0:'], 2, /--pir-gpio: LINE wants/);
      await refuses(['--pir-gpio', 'gpiochip0:27,pull-up,no-pull'], 2, /--pir-gpio: a pull \(bias\) twice/);
    }],
    ['with --replay (no doorbell to ring) it is refused', () =>
      refuses(['--replay', clipH264, '--pir-gpio', 'gpiochip0:27'], 2, /--button-gpio and --pir-gpio are for a doorbell, not --replay/)],
  ] },
  '--log-level': { values: ['error', 'warn', 'info', 'debug'], cases: [
    // (Judged on the whole run, its stop included.)
    ['error: errors only', async () => {
      const proc = await runs(['--log-level', 'error']);
      assert.doesNotMatch(proc.output, / (WARN|INFO|DEBUG) /);
    }],
    ['warn: no info', async () => {
      const proc = await runs(['--log-level', 'warn', '--hub-key-sha256', 'ab'.repeat(32)], async (running) => {
        await waitOutput(running, / ERROR .*does not match the pinned key/, 'an error line');
      }, { waitOnline: false });
      assert.doesNotMatch(proc.output, / (INFO|DEBUG) /);
    }],
    ['info: info, no debug', async () => {
      const proc = await runs(['--log-level', 'info']);
      assert.match(proc.output, / INFO /);
      assert.doesNotMatch(proc.output, / DEBUG /);
    }],
    ['debug: debug too', () => runs(['--log-level', 'debug'], async (proc) => {
      await waitOutput(proc, / DEBUG /, 'debug lines');
    })],
    ['an unknown level is refused', () => refuses(['--log-level', 'loud'], 2, /unknown log level 'loud'/)],
  ] },
  '--self-test': { cases: [
    ['every check passes here, one line each, exit 0', () => {
      const run = spawnSyncText(DOORBELLD, ['--self-test']);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      for (const check of ['camera back-ends', 'sim camera', 'x264', 'opus', 'jpeg', 'link']) {
        assert.match(run.stdout, new RegExp(`^self-test: ${check}: ok \\(`, 'm'), `${check}:\n${run.stdout}`);
      }
      assert.match(run.stdout, /^self-test: passed \(0 of 6 checks failed\)$/m);
      assert.doesNotMatch(run.stdout + run.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
    }],
    ['with other arguments it is refused', () => refuses(['--self-test'], 2, /--self-test takes no other argument/)],
  ] },
  '--help': { cases: [
    ['prints the usage and exits 0', async () => {
      const proc = startDoorbell(['--help']);
      const exit = await proc.exited;
      assert.equal(exit.code, 0);
      assert.match(proc.output, /^Usage: /);
    }],
  ] },
};

before(async () => {
  hub = await Hub.start({ dataDir: hubData.dir });
  admin = await hub.admin();
  pin = execFileSync('sh', ['-c', `openssl pkey -in "${join(hubData.dir, 'tls', 'hub.key')}" -pubout -outform DER | sha256sum | cut -d' ' -f1`],
    { encoding: 'utf8' }).trim();
  clipY4m = join(data.dir, 'clip.y4m');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-t', '2', '-pix_fmt', 'yuv420p', clipY4m]);
  clipH264 = join(data.dir, 'clip.h264');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15', '-t', '2', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '15', '-bf', '0', '-x264-params', 'repeat-headers=1', '-f', 'h264', clipH264]);
  const mic = join(data.dir, 'mic.raw');
  writeFileSync(mic, Buffer.alloc(48000 * 2 * 2));
  asoundrc = join(data.dir, 'asoundrc');
  writeFileSync(asoundrc, [
    `pcm.doorstep_mic { type file; slave.pcm "null"; file "/dev/null"; infile "${mic}"; format "raw" }`,
    'pcm.doorstep_speaker { type file; slave.pcm "null"; file "/dev/null"; format "raw" }',
    'pcm.doorstep_sim { type asym; capture.pcm "doorstep_mic"; playback.pcm "doorstep_speaker" }',
    '',
  ].join('\n'));
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
  hubData.cleanup();
});

test('every option and value that --help documents has a case here, and every case a documented option', () => {
  const documented = documentedOptions();
  assert.ok(documented.size >= 20, `parsed ${documented.size} options from --help`);
  for (const [option, text] of documented) {
    assert.ok(cases[option], `${option} is documented ("${text}") but has no test case`);
    for (const value of cases[option].values || []) {
      assert.ok(text.includes(value), `${option}: the help does not name "${value}": ${text}`);
      assert.ok(cases[option].cases.some(([name]) => name.includes(value)), `${option} ${value} has no case`);
    }
  }
  for (const option of Object.keys(cases)) assert.ok(documented.has(option), `${option} is tested but not in --help`);
});

for (const [option, { cases: list }] of Object.entries(cases)) {
  for (const [name, run] of list) test(`${option}: ${name}`, run);
}
