// Recordings keep both sides of a conversation (docs/architecture.md "Talk
// into recordings"): a real hub and a real doorbell whose simulated
// microphone hears a visitor's 300 Hz tone; the admin talks a 1 kHz tone
// over the talk WebSocket for 3 s. After the segment closed, its audio
// (ffmpeg-decoded) and an export over the talk time hold:
//  - the talk tone while the doorbell played it, and not outside it (the
//    hub mixes what the doorbell's speaker plays into the recorded track;
//    the doorbell's microphone never hears it: its speaker is a file);
//  - the visitor's tone throughout;
//  - one audio stream, no decode error, audio as long as the video.
// A quick reply (an uploaded 1.5 kHz tone) played on the doorbell is in the
// next segment the same way: while it plays, and not outside; so is the
// same reply played by the doorbell's own auto-reply to a ring.
// The doorbell runs with --echo-cancel off: with no acoustic path the echo
// canceller never converges and ducks the microphone while the speaker
// plays, which would hide the visitor; the canceller has its own test
// (echo.test.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor, sleep, decodeErrors, segmentFiles } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { TalkClient, talkPacket, opusTonePackets, CODEC_OPUS } from '../lib/talk-client.mjs';
import { goertzel, toneWav } from '../lib/tone.mjs';

const PASSWORD = 'correct horse battery staple';
const SEGMENT_SECONDS = 15;
const VISITOR_HZ = 300;
const TALK_HZ = 1000;
const REPLY_HZ = 1500;
const WINDOW_MS = 100;
const data = tempDir('doorstep-talk-recording-');
let hub;
let admin;
let device;
let doorbell;
let toneReply;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', String(SEGMENT_SECONDS)] });
  admin = await hub.admin('admin', PASSWORD);
  const created = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } })).json;
  device = { id: created.device.id, secret: created.secret };
  doorbell = await Doorbell.start({
    hub, ...device, fps: 10, audio: { frequency: VISITOR_HZ, amplitude: 4000 }, extra: ['--echo-cancel', 'off'],
  });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

const recordings = async () =>
  (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;

// The amplitude of a sine at frequency in samples[start, start + n): tone.mjs's
// Goertzel gives A^2 n / 4 for a sine of amplitude A.
const amplitude = (samples, start, n, frequency) => Math.sqrt((4 * goertzel(samples, start, n, frequency)) / n);

// The mono 48 kHz audio of a media file and the wall time (ms) of its first
// sample: time zero of the file is startMs; ffmpeg pads the audio to start
// there and fills any gap between packets with silence (aresample async),
// so sample n is always startMs + n / 48.
function audioOf(file, startMs) {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', file], { encoding: 'utf8' }));
  const audio = probe.streams.filter((s) => s.codec_type === 'audio');
  const video = probe.streams.filter((s) => s.codec_type === 'video');
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-af', 'aresample=async=1:first_pts=0',
    '-f', 's16le', '-ac', '1', '-ar', '48000', '-'],
    { maxBuffer: 1 << 28 });
  const copy = Buffer.from(raw);
  return {
    audio,
    video,
    samples: new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2),
    firstMs: startMs,
    // Before its first packet the padding is silence: not judged.
    audioFromMs: startMs + Number(audio[0]?.start_time || 0) * 1000,
  };
}

// Judge one recording's audio against the talk [talkFrom, talkTo) (ms, when
// the packets were sent): per 100 ms window, the talk tone where the
// doorbell played it and not elsewhere, the visitor's tone everywhere.
function judge(what, { samples, firstMs, audioFromMs }, talkFrom, talkTo, frequency = TALK_HZ) {
  const size = (48000 * WINDOW_MS) / 1000;
  const inside = [];
  const outside = [];
  const visitor = [];
  let quietest = { amplitude: Infinity, at: 0 };
  for (let start = 0; start + size <= samples.length; start += size) {
    const middle = firstMs + ((start + size / 2) * 1000) / 48000;
    if (middle - WINDOW_MS / 2 < audioFromMs) continue;
    const talk = amplitude(samples, start, size, frequency);
    visitor.push(amplitude(samples, start, size, VISITOR_HZ));
    if (visitor.at(-1) < quietest.amplitude) quietest = { amplitude: visitor.at(-1), at: Math.round(middle - talkFrom) };
    // The doorbell plays a packet ~LINK_TALK_PLAYOUT_MS after the hub sent
    // it; the margins absorb that, the queue and a loaded machine.
    if (middle >= talkFrom + 400 && middle <= talkTo - 100) inside.push(talk);
    else if (middle < talkFrom - 300 || middle > talkTo + 700) outside.push(talk);
  }
  const round = (values) => values.map((v) => Math.round(v));
  console.log(`# ${what}: talk tone per window inside: ${round(inside)}`);
  console.log(`# ${what}: talk tone inside ${inside.length} windows min ${Math.round(Math.min(...inside))}, ` +
    `outside ${outside.length} windows max ${Math.round(Math.max(...outside))}; visitor min ${Math.round(quietest.amplitude)} ` +
    `(${quietest.at} ms from the talk's start, which lasted ${talkTo - talkFrom} ms)`);
  assert.ok(inside.length >= 10, `${what}: ${inside.length} windows within the talk`);
  assert.ok(outside.length >= 20, `${what}: ${outside.length} windows outside the talk`);
  // The talk tone (amplitude 4096 as sent, the reply's 6000) is there through
  // the talk (a stalled sender on a loaded machine may leave a gap the
  // doorbell also had: 80 % of the windows) ...
  const heard = inside.filter((a) => a > 1500).length;
  assert.ok(heard >= 0.8 * inside.length, `${what}: the talk tone during the talk: ${round(inside)}`);
  // ... and at least 26 dB down (a twentieth) everywhere else.
  assert.ok(outside.every((a) => a < 200), `${what}: no talk tone outside the talk: ${round(outside)}`);
  // The visitor (amplitude 4000) is heard throughout, talk or not; where
  // mixing starts or stops a 100 ms window may lose up to ~4 dB (the
  // re-encoder shifts the sound by its 2.5 ms look-ahead).
  assert.ok(visitor.every((a) => a > 1500), `${what}: the visitor throughout: ${round(visitor)}`);
}

// ffprobe's view: one audio and one video stream of about the same length,
// and ffmpeg decodes it without a word.
function checkFile(what, file, { audio, video }) {
  assert.equal(audio.length, 1, `${what}: one audio stream`);
  assert.equal(video.length, 1, `${what}: one video stream`);
  assert.equal(decodeErrors(file), '', `${what}: ffmpeg decodes it cleanly`);
  const difference = Math.abs(Number(audio[0].duration) - Number(video[0].duration));
  console.log(`# ${what}: audio ${audio[0].duration} s, video ${video[0].duration} s`);
  assert.ok(difference < 0.25, `${what}: audio and video durations agree (${difference} s apart)`);
}

test('talk-back is mixed into the recorded audio while the doorbell plays it, and only then', async () => {
  // A segment is being written, with a few seconds before the talk.
  let segment;
  await waitFor(async () => (segment = (await recordings()).find((r) => r.recording)) !== undefined,
    { timeout: patience(30000), what: 'a segment being recorded' });
  await waitFor(() => Date.now() >= segment.start_ms + 3000, { what: '3 s recorded before the talk' });

  const talk = new TalkClient(admin, device.id);
  await talk.opened;
  talk.start('opus');
  await talk.waitForState((state) => state.you, 'the floor');
  const packets = opusTonePackets(TALK_HZ, 3);
  const talkFrom = Date.now();
  for (let i = 0; i < packets.length; i++) {
    const dueMs = talkFrom + i * 20;
    if (dueMs > Date.now()) await sleep(dueMs - Date.now());
    talk.sendBinary(talkPacket({ codec: CODEC_OPUS, sequence: i + 1, captureUs: dueMs * 1000, samples: 960, payload: packets[i] }));
  }
  const talkTo = Date.now();
  talk.stop();
  await talk.waitForState((state) => state.talker === null, 'the floor free');
  await talk.close();
  assert.ok(talkTo + 3000 < segment.start_ms + SEGMENT_SECONDS * 1000,
    'the talk and its tail fit in the segment (a loaded machine may need a longer one)');

  // The segment closes at its first keyframe after SEGMENT_SECONDS.
  await waitFor(async () => (await recordings()).some((r) => r.start_ms === segment.start_ms && !r.recording),
    { timeout: patience(60000), what: 'the segment closed' });
  const file = segmentFiles(data.dir, device.id).find((f) => f.endsWith(`/${segment.start_ms}.mp4`));
  assert.ok(file, 'the segment file');
  const recorded = audioOf(file, segment.start_ms);
  checkFile('segment', file, recorded);
  judge('segment', recorded, talkFrom, talkTo);

  // An export over the talk, from 2 s before to 3 s after.
  const from = talkFrom - 2000;
  const to = talkTo + 3000;
  const response = await admin.api('GET', `/api/v1/devices/${device.id}/export?from=${from}&to=${to}`);
  assert.equal(response.status, 200, response.body.toString().slice(0, 200));
  const exportFile = join(data.dir, 'talk-export.mp4');
  writeFileSync(exportFile, response.body);
  const exported = audioOf(exportFile, from);
  checkFile('export', exportFile, exported);
  judge('export', exported, talkFrom, talkTo);
});

// The segment being recorded, once it has a second and a half behind it and
// `room` ms ahead of it.
async function segmentWithRoom(room) {
  let segment;
  await waitFor(async () => {
    segment = (await recordings()).find((r) => r.recording);
    return segment !== undefined && Date.now() >= segment.start_ms + 1500 &&
      Date.now() + room < segment.start_ms + SEGMENT_SECONDS * 1000;
  }, { timeout: patience(60000), what: 'a segment with room for the reply' });
  return segment;
}

// The closed segment that started at segment.start_ms: its file and audio.
async function closedSegment(segment) {
  await waitFor(async () => (await recordings()).some((r) => r.start_ms === segment.start_ms && !r.recording),
    { timeout: patience(60000), what: 'the segment closed' });
  const file = segmentFiles(data.dir, device.id).find((f) => f.endsWith(`/${segment.start_ms}.mp4`));
  assert.ok(file, 'the segment file');
  return { file, recorded: audioOf(file, segment.start_ms) };
}

test('a quick reply played on the doorbell is mixed into the recorded audio while it plays', async () => {
  const uploaded = await admin.api('POST', `/api/v1/replies?name=${encodeURIComponent('Tone')}`,
    { body: toneWav(2, { rate: 48000, frequency: REPLY_HZ, amplitude: 6000 }), headers: { 'Content-Type': 'audio/wav' } });
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
  toneReply = uploaded.json.id;
  const segment = await segmentWithRoom(6000);

  const playFrom = Date.now();
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/replies/${uploaded.json.id}/play`)).status, 202);
  const playTo = playFrom + 2000;

  const { file, recorded } = await closedSegment(segment);
  checkFile('reply segment', file, recorded);
  judge('reply segment', recorded, playFrom, playTo, REPLY_HZ);
});

test('a quick reply the doorbell plays by itself (auto-reply) is mixed into the recorded audio', async () => {
  assert.ok(toneReply, 'the tone reply of the test before');
  const set = await admin.api('PUT', `/api/v1/devices/${device.id}/auto-reply`,
    { json: { home: { reply_id: toneReply, delay_s: 1 }, away: null } });
  assert.equal(set.status, 200, set.body.toString());
  await waitFor(() => doorbell.log.some((line) => new RegExp(`auto-reply: reply ${toneReply} after 1 s`).test(line)),
    { what: 'the doorbell has the rule' });
  const segment = await segmentWithRoom(7000);
  const logged = doorbell.log.length;
  assert.equal(await doorbell.control('press'), 'ok');
  // When it played: the time of the doorbell's log line saying so.
  let line;
  await waitFor(() => (line = doorbell.log.slice(logged).find((l) => /nobody answered ring \d+: auto-reply/.test(l))) !== undefined,
    { timeout: patience(20000), what: 'the auto-reply played' });
  const playFrom = Date.parse(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/.exec(line)[0]);
  const { file, recorded } = await closedSegment(segment);
  checkFile('auto-reply segment', file, recorded);
  judge('auto-reply segment', recorded, playFrom, playFrom + 2000, REPLY_HZ);
});
