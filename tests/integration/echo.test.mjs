// The doorbell keeps its own speaker out of what it sends: a real hub
// records a real doorbell whose speaker reaches its microphone through the
// simulated room (25 ms, -6 dB, dulled), while the microphone (an ALSA
// `file` device) also hears a visitor's 1500 Hz tone. The button is pressed
// six times; each press plays the doorbell's own ding-dong (659/523 Hz).
// The hub's recording is decoded and measured per frequency (Goertzel):
//  - --echo-cancel off: the ding-dong is loud in the recording (the room
//    works, so the comparison means something);
//  - aec (the default): the ding-dong's total power is >= 20 dB below off
//    (the canceller, plus a 200 ms duck at each note's onset, where the
//    filter left most of its residual), the visitor's median level within
//    3 dB of off; the canceller says it converged and never had to start
//    again;
//  - duck: the ding-dong >= 20 dB below off too (the microphone is turned
//    down while the speaker plays: half duplex).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echoSession, decibels, median } from '../lib/echo-room.mjs';

const sessions = {};
const session = async (mode) => {
  sessions[mode] ??= await echoSession({ mode });
  return sessions[mode];
};

test('echo off: the simulated room carries the ding-dong into the recording', async () => {
  const off = await session('off');
  const loudest = Math.max(...off.levels.map((level) => decibels(level.chime)));
  console.log(`# off: ${off.seconds.toFixed(1)} s recorded, ding-dong total ${off.chimeDb.toFixed(1)} dB, ` +
    `loudest window ${loudest.toFixed(1)} dB, visitor median ${off.visitorDb.toFixed(1)} dB`);
  assert.ok(off.seconds > 8, 'at least 8 s of audio recorded');
  assert.ok(off.stats.speaker_frames >= 6 * 36, `six ding-dongs played (${off.stats.speaker_frames} speaker frames)`);
  assert.equal(off.stats.ducked_frames, 0);
  // The ding-dong stands well above the visitor's tone in its windows.
  assert.ok(loudest > off.visitorDb, `ding-dong ${loudest.toFixed(1)} dB over the visitor ${off.visitorDb.toFixed(1)} dB`);
});

test('echo aec: the ding-dong is at least 20 dB down, the visitor passes', async () => {
  const off = await session('off');
  const aec = await session('aec');
  const attenuation = off.chimeDb - aec.chimeDb;
  console.log(`# aec: ding-dong ${attenuation.toFixed(1)} dB below off, visitor ${(aec.visitorDb - off.visitorDb).toFixed(1)} dB ` +
    `against off; ${JSON.stringify(aec.stats)}`);
  assert.equal(aec.stats.mode, 'aec');
  assert.ok(aec.stats.converged, 'the canceller converged');
  assert.equal(aec.stats.resets, 0, 'the filter never diverged');
  assert.ok(aec.stats.speaker_frames >= 6 * 36, 'six ding-dongs played');
  assert.ok(aec.stats.onsets >= 12, `both notes of each ding-dong had their onset ducked (${aec.stats.onsets} onsets)`);
  assert.ok(attenuation >= 20, `the ding-dong is ${attenuation.toFixed(1)} dB down (>= 20)`);
  assert.ok(Math.abs(aec.visitorDb - off.visitorDb) <= 3, `the visitor's tone moved ${(aec.visitorDb - off.visitorDb).toFixed(1)} dB`);
  // After convergence the visitor is not ducked: in the second half of the
  // recording (four ding-dongs; its last second aside, where the doorbell
  // stopped) the visitor's median stays within 3 dB of off.
  const late = aec.levels.slice(Math.floor(aec.levels.length / 2), -10).map((level) => decibels(level.visitor));
  const dips = late.map((level, index) => [index + Math.floor(aec.levels.length / 2), level.toFixed(1)]).filter(([, level]) => level < off.visitorDb - 6);
  console.log(`# aec: visitor windows more than 6 dB down in the second half: ${JSON.stringify(dips)}`);
  assert.ok(Math.abs(median(late) - off.visitorDb) <= 3, `visitor in the second half: median ${median(late).toFixed(1)} dB, off ${off.visitorDb.toFixed(1)} dB`);
});

test('echo duck: half duplex takes the ding-dong 20 dB down', async () => {
  const off = await session('off');
  const duck = await session('duck');
  const attenuation = off.chimeDb - duck.chimeDb;
  console.log(`# duck: ding-dong ${attenuation.toFixed(1)} dB below off; ${JSON.stringify(duck.stats)}`);
  assert.equal(duck.stats.mode, 'duck');
  assert.ok(duck.stats.ducked_frames >= 6 * 36, 'ducked while the speaker played');
  assert.ok(attenuation >= 20, `the ding-dong is ${attenuation.toFixed(1)} dB down (>= 20)`);
});
