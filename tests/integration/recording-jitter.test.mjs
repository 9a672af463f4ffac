// Recordings, exports and playbacks of a doorbell whose capture times jitter
// by up to +-20 ms (doorbelld --capture-jitter-ms): every video sample lasts
// exactly until the next one starts. Unlike live view, the recorder knows the
// next frame before it writes a sample, so no sample may overlap the next
// (a player drops overlapped frames) and none may leave a gap (a player
// waiting for the gap's end shows a frozen picture). Judged with ffprobe's
// packet decode times and durations for the exported MP4 (its stts), and
// for the fragmented segments and playback from the fragments' own tfdt and
// trun boxes (ffprobe 5.1 guesses packet durations of fragmented files from
// the frame rate), within and across fragments.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, waitFor, tempDir, segmentFiles } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';

const SEGMENT_SECONDS = 10;
const data = tempDir('doorstep-recording-jitter-');
let hub, admin, doorbell, device;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', String(SEGMENT_SECONDS)] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 30, bitrate: 800, audio: true,
    extra: ['--capture-jitter-ms', '20'] });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

const recordings = async () =>
  (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;

// The video samples of an MP4 file: decode time and duration in its time
// base. A progressive file from ffprobe; a fragmented one (moof boxes) from
// each fragment's tfdt and its trun's sample durations.
function videoPackets(file) {
  const bytes = readFileSync(file);
  const fragmented = bytes.includes(Buffer.from('moof'));
  if (!fragmented) {
    return execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
      'packet=dts,duration', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').map((line) => {
      const [dts, duration] = line.split(',').map(Number);
      return { dts, duration };
    });
  }
  const samples = [];
  const boxes = (start, end, fn) => {
    for (let at = start; at + 8 <= end;) {
      const size = bytes.readUInt32BE(at);
      const type = bytes.toString('latin1', at + 4, at + 8);
      if (size < 8 || at + size > end) break;
      fn(type, at + 8, at + size);
      at += size;
    }
  };
  boxes(0, bytes.length, (type, start, end) => {
    if (type !== 'moof') return;
    boxes(start, end, (trafType, trafStart, trafEnd) => {
      if (trafType !== 'traf') return;
      let track = 0, defaultDuration = 0, dts = 0;
      boxes(trafStart, trafEnd, (box, at, boxEnd) => {
        const version = bytes[at], flags = bytes.readUIntBE(at + 1, 3);
        if (box === 'tfhd') {
          track = bytes.readUInt32BE(at + 4);
          let field = at + 8 + (flags & 1 ? 8 : 0) + (flags & 2 ? 4 : 0);
          if (flags & 8) defaultDuration = bytes.readUInt32BE(field);
        } else if (box === 'tfdt') {
          dts = version === 1 ? Number(bytes.readBigUInt64BE(at + 4)) : bytes.readUInt32BE(at + 4);
        } else if (box === 'trun' && track === 1) {
          const count = bytes.readUInt32BE(at + 4);
          let field = at + 8 + (flags & 1 ? 4 : 0) + (flags & 4 ? 4 : 0);
          for (let i = 0; i < count && field <= boxEnd; i++) {
            const duration = flags & 0x100 ? bytes.readUInt32BE(field) : defaultDuration;
            field += ((flags & 0x100 ? 1 : 0) + (flags & 0x200 ? 1 : 0) + (flags & 0x400 ? 1 : 0) + (flags & 0x800 ? 1 : 0)) * 4;
            samples.push({ dts, duration });
            dts += duration;
          }
        }
      });
    });
  });
  return samples;
}

// Every sample but the last lasts until the next starts: decode times
// strictly increase, with no overlap and no gap.
function assertContinuous(file, what) {
  const packets = videoPackets(file);
  assert.ok(packets.length > 30, `${what}: ${packets.length} video packets`);
  const faults = [];
  for (let i = 1; i < packets.length; i++) {
    const [a, b] = [packets[i - 1], packets[i]];
    if (!(b.dts > a.dts) || a.duration !== b.dts - a.dts) faults.push({ i, dts: a.dts, duration: a.duration, next: b.dts });
  }
  assert.deepEqual(faults.slice(0, 5), [], `${what}: ${faults.length} of ${packets.length} samples overlap the next or leave a gap`);
}

test('segments, an export across a boundary and a playback: samples last until the next', { timeout: patience(120000) }, async () => {
  // Two closed segments, however long the doorbell takes to fill them.
  const rows = await waitFor(async () => {
    const all = await recordings();
    return all.filter((r) => !r.recording).length >= 2 ? all : null;
  }, { timeout: patience(60000), what: 'two closed segments' });
  const files = segmentFiles(data.dir);
  for (const file of files.slice(0, 2)) assertContinuous(file, file);

  const from = rows[0].start_ms + 3000;
  const to = rows[1].end_ms - 2000;
  const exported = await admin.api('GET', `/api/v1/devices/${device.id}/export?from=${from}&to=${to}`);
  assert.equal(exported.status, 200, exported.body.toString().slice(0, 200));
  const exportFile = join(data.dir, 'export.mp4');
  writeFileSync(exportFile, exported.body);
  assertContinuous(exportFile, 'the export');

  const played = await admin.api('GET', `/api/v1/devices/${device.id}/playback?from=${from}&to=${to}`);
  assert.equal(played.status, 200, played.body.toString().slice(0, 200));
  const playbackFile = join(data.dir, 'playback.mp4');
  writeFileSync(playbackFile, played.body);
  assertContinuous(playbackFile, 'the playback');
});
