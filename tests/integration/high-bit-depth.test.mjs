// A doorbell whose H.264 is High 4:2:2 at 10 bits (a replay doorbell playing
// an x264 clip): live view and recording describe it the same way. Both take
// their avcC from the one function that turns an SPS into the video sample
// entry, so its chroma_format and bit depths (14496-15 5.3.3.1) must be those
// of the SPS, 4:2:2 and 10 bits, in the live init segment and in the
// recorded segment file alike.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, waitFor, tempDir, segmentFiles } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';

const data = tempDir('doorstep-high-bit-depth-');
const hubData = tempDir('doorstep-high-bit-depth-hub-');
let hub, admin, doorbell, device;

before(async () => {
  const clip = join(data.dir, 'high422-10bit.h264');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv422p10le',
    '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0',
    '-x264-params', 'repeat-headers=1', '-f', 'h264', clip]);
  hub = await Hub.start({ dataDir: hubData.dir, extra: ['--segment-seconds', '2'] });
  admin = await hub.admin();
  device = hub.addDevice('High 4:2:2');
  doorbell = await Doorbell.start({ hub, ...device, extra: ['--replay', clip] });
});

after(async () => {
  try {
    if (doorbell) await doorbell.stop();
  } finally {
    if (hub) await hub.stop();
    data.cleanup();
    hubData.cleanup();
  }
});

// The fields after the parameter sets of the first avcC in bytes:
// chroma_format, bit_depth_luma and bit_depth_chroma (high profiles only).
function avccFormat(bytes, where) {
  const at = bytes.indexOf(Buffer.from('avcC'));
  assert.ok(at >= 4, `${where}: no avcC box`);
  const box = bytes.subarray(at - 4, at - 4 + bytes.readUInt32BE(at - 4));
  assert.equal(box[9], 122, `${where}: AVCProfileIndication is High 4:2:2`);
  const tail = box.subarray(box.length - 4);
  assert.equal(tail[3], 0, `${where}: numOfSequenceParameterSetExt`);
  return { chromaFormat: tail[0] & 3, bitDepthLuma: (tail[1] & 7) + 8, bitDepthChroma: (tail[2] & 7) + 8 };
}

const expected = { chromaFormat: 2, bitDepthLuma: 10, bitDepthChroma: 10 };

test('live view: the init segment says 4:2:2, 10 bits', async () => {
  const viewer = new LiveViewer(admin, device.id);
  await viewer.opened;
  await waitFor(() => viewer.messages.some((m) => m.kind === 1), { what: 'the live init segment' });
  await viewer.close();
  const init = viewer.messages.find((m) => m.kind === 1);
  assert.deepEqual(avccFormat(init.bytes, 'live'), expected);
});

test('recording: the segment file says 4:2:2, 10 bits', async () => {
  // A segment is indexed once its init segment is durable.
  const recordings = async () =>
    (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
  await waitFor(async () => (await recordings()).length > 0, { what: 'a recorded segment' });
  const file = segmentFiles(hubData.dir, device.id)[0];
  assert.deepEqual(avccFormat(readFileSync(file), 'recording'), expected);
});
