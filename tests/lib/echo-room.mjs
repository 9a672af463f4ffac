// echo-room.mjs - one echo session with real parts, shared by the echo
// integration test and the echo bench: a real hub recording a real doorbell
// whose speaker reaches its microphone through the simulated room
// (--sim-room), whose microphone (an ALSA `file` device) also hears a
// "visitor" tone, and whose button is pressed so it plays its own ding-dong
// again and again. The hub's recording is decoded and measured per
// frequency (Goertzel, Hann-windowed 100 ms windows): the chime's two notes
// against the visitor's tone.

import { execFileSync } from 'node:child_process';
import { Hub, Doorbell, waitFor, tempDir, segmentFiles } from './harness.mjs';
import { patience } from './patience.mjs';

export const CHIME_HZ = [659.25, 523.25]; // common/audio_chime.h: ding, dong
export const VISITOR_HZ = 1500;
export const ROOM = '25,-6'; // the speaker reaches the microphone 25 ms later at -6 dB
const RATE = 48000;
const WINDOW = RATE / 10;

// The mono 48 kHz samples of the audio track of media files, in order.
export function decodeAudio(files) {
  const parts = files.map((file) => execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-ac', '1',
    '-ar', String(RATE), '-'], { maxBuffer: 1 << 28 }));
  const all = Buffer.concat(parts);
  return new Int16Array(all.buffer, all.byteOffset, all.length / 2);
}

// Power at `frequency` of samples[start, start + size) through a Hann
// window (a full-scale sine reads about 0.25 * 32768^2 / 4).
export function goertzel(samples, start, size, frequency) {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / RATE);
  let previous = 0;
  let before = 0;
  for (let i = 0; i < size; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1));
    const value = samples[start + i] * hann + coefficient * previous - before;
    before = previous;
    previous = value;
  }
  return (previous * previous + before * before - coefficient * previous * before) / ((size * size) / 4);
}

// Per 100 ms window: the chime's power (both notes) and the visitor's.
export function bandLevels(samples) {
  const out = [];
  for (let start = 0; start + WINDOW <= samples.length; start += WINDOW) {
    out.push({
      chime: CHIME_HZ.reduce((sum, frequency) => sum + goertzel(samples, start, WINDOW, frequency), 0),
      visitor: goertzel(samples, start, WINDOW, VISITOR_HZ),
    });
  }
  return out;
}

export const decibels = (power) => 10 * Math.log10(power + 1e-9);
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Run one session with --echo-cancel `mode`: `presses` presses, 1.5 s of
// microphone time apart (the doorbell's own frame counts). Returns { levels, chimeDb, visitorDb, stats, log }:
// chimeDb is the chime's total power over the whole recording, visitorDb
// the median of the visitor's per-window power (both in dB).
export async function echoSession({ mode, presses = 6, room = ROOM, extra = [] }) {
  const data = tempDir(`doorstep-echo-${mode}-`);
  const hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '2'] });
  let doorbell;
  try {
    const admin = await hub.admin();
    const device = hub.addDevice('Front door');
    doorbell = await Doorbell.start({
      hub, ...device, audio: { frequency: VISITOR_HZ, amplitude: 4000, seconds: 60 },
      extra: ['--echo-cancel', mode, '--sim-room', room, ...extra],
    });
    await waitFor(() => doorbell.log.some((line) => /connected to the hub/.test(line)), { timeout: patience(20000), what: 'the link' });
    const echo = async () => (await doorbell.stats()).echo;
    await waitFor(async () => (await echo()) !== undefined, { timeout: patience(20000), what: 'the echo canceller in stats' });
    // A second of the visitor alone first.
    const quietFrom = (await echo()).frames;
    await waitFor(async () => (await echo()).frames >= quietFrom + 50, { timeout: patience(20000), what: '1 s of microphone' });
    for (let press = 1; press <= presses; press++) {
      const before = await echo();
      assert(/^ok/.test(await doorbell.control('press')), 'press accepted');
      // The ding-dong is 0.8 s (40 frames with the speaker sounding); the
      // next press comes 1.5 s of microphone time later, so each is heard
      // out and the canceller's hang time is over before the next.
      let now = before;
      await waitFor(async () => {
        now = await echo();
        return now.speaker_frames >= before.speaker_frames + 36 && now.frames >= before.frames + 75;
      }, { timeout: patience(20000), what: `chime ${press}` }).catch((error) => {
        throw new Error(`${error.message}; echo before ${JSON.stringify(before)}, last ${JSON.stringify(now)}; ` +
          `doorbell log: ${doorbell.log.slice(-15).join(' | ')}`);
      });
    }
    const frames = (await echo()).frames;
    await waitFor(async () => (await echo()).frames >= frames + 50, { timeout: patience(20000), what: '1 s of microphone after' });
    const stats = await echo();
    await doorbell.stop();
    const log = doorbell.log;
    doorbell = null;
    const rows = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
    await waitFor(async () => (await rows()).every((row) => !row.recording), { timeout: patience(20000), what: 'the last segment closed' });
    const samples = decodeAudio(segmentFiles(data.dir, device.id));
    const levels = bandLevels(samples);
    return {
      levels,
      seconds: samples.length / RATE,
      chimeDb: decibels(levels.reduce((sum, level) => sum + level.chime, 0)),
      visitorDb: decibels(median(levels.map((level) => level.visitor))),
      stats,
      log,
    };
  } finally {
    if (doorbell) await doorbell.stop();
    await hub.stop();
    data.cleanup();
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}
