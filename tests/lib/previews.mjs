// Timeline previews in tests: reading the frame stamp of a preview JPEG
// (the doorbell scales the frame down by an integer factor, so the stamp's
// 8x8 cells become (8/scale)x(8/scale)), and walking a previews file
// (docs/storage.md, "Timeline previews").

import { execFileSync } from 'node:child_process';

// Decode the frame stamp from a luma buffer of a picture scaled down by
// `scale` (1, 2 or 4): cell i covers x in [(8+8i)/s, (16+8i)/s), y in
// [8/s, 16/s); its centre is thresholded at 126; the dark margin is checked.
export function decodeScaledFrameStamp(luma, stride, scale = 1) {
  const at = (x, y) => luma[y * stride + x];
  const cell = 8 / scale;
  for (let x = 0; x < 528 / scale; x += 2) if (at(x, Math.floor(2 / scale)) > 60 || at(x, Math.floor(21 / scale)) > 60) return null;
  const inset = cell >= 4 ? cell / 4 : 0;
  const span = cell >= 4 ? cell / 2 : cell;
  let value = 0n;
  for (let i = 0; i < 64; i++) {
    let sum = 0;
    let count = 0;
    const x0 = cell + cell * i + inset;
    for (let dy = 0; dy < span; dy++) {
      for (let dx = 0; dx < span; dx++) {
        sum += at(x0 + dx, cell + inset + dy);
        count++;
      }
    }
    value = (value << 1n) | (sum / count > 126 ? 1n : 0n);
  }
  return { timeMs: Number(value >> 16n), sequence: Number(value & 0xffffn) };
}

// The size and luma of a JPEG, decoded by ffmpeg.
export function jpegLuma(jpeg) {
  const probe = execFileSync('ffprobe', ['-v', 'error', '-f', 'jpeg_pipe', '-i', '-', '-select_streams', 'v:0',
    '-show_entries', 'stream=width,height', '-of', 'csv=p=0'], { input: jpeg }).toString().trim();
  const [width, height] = probe.split(',').map(Number);
  const luma = execFileSync('ffmpeg', ['-v', 'error', '-f', 'jpeg_pipe', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    { input: jpeg, maxBuffer: 1 << 26 });
  return { width, height, luma };
}

// The frame stamp of a preview JPEG taken from frames `frameWidth` wide.
export function previewFrameStamp(jpeg, frameWidth) {
  const { width, luma } = jpegLuma(jpeg);
  return decodeScaledFrameStamp(luma, width, Math.round(frameWidth / width));
}

// The whole records of a previews file buffer: [{ timeMs, offset, size }]
// (offset of the record header), stopping at the first torn one.
export function previewRecords(buffer) {
  const records = [];
  if (buffer.length < 8 || buffer.toString('latin1', 0, 4) !== 'DSPV' || buffer[4] !== 1) return null;
  let offset = 8;
  while (offset + 12 <= buffer.length) {
    const timeMs = Number(buffer.readBigInt64BE(offset));
    const size = buffer.readUInt32BE(offset + 8);
    if (size === 0 || size > 256 * 1024 || offset + 12 + size > buffer.length) break;
    if (records.length && timeMs < records[records.length - 1].timeMs) break;
    records.push({ timeMs, offset, size });
    offset += 12 + size;
  }
  return records;
}
