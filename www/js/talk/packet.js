// Talk packets of the talk WebSocket (docs/api.md, "Talk"): the 16-byte
// big-endian header the hub parses, followed by one Opus packet or 16-bit
// PCM. Pure functions, run on the page's main thread; nothing is kept.

export const TALK_VERSION = 1;
export const CODEC_OPUS = 1;
export const CODEC_PCM16 = 2;
export const HEADER_BYTES = 16;
export const SAMPLE_RATE = 48000;
export const FRAME_SAMPLES = 960;      // 20 ms at 48 kHz
export const MAX_SAMPLES = 2880;       // 60 ms: the hub refuses longer packets
export const MAX_OPUS_BYTES = 1275;

/**
 * talkPacket(codec, sequence, captureUs, samples, payload) -> ArrayBuffer.
 * codec: CODEC_OPUS or CODEC_PCM16; sequence wraps at 2^16; captureUs:
 * wall-clock microseconds of the first sample; payload: Uint8Array (copied).
 */
export function talkPacket(codec, sequence, captureUs, samples, payload) {
  const buffer = new ArrayBuffer(HEADER_BYTES + payload.byteLength);
  const view = new DataView(buffer);
  view.setUint8(0, TALK_VERSION);
  view.setUint8(1, codec);
  view.setUint16(2, sequence & 0xffff);
  view.setBigUint64(4, BigInt(Math.max(0, Math.round(captureUs))));
  view.setUint16(12, Math.min(MAX_SAMPLES, Math.max(1, Math.round(samples))));
  view.setUint16(14, 0);
  new Uint8Array(buffer, HEADER_BYTES).set(payload);
  return buffer;
}

/** Float samples (-1..1) -> 16-bit little-endian PCM bytes (a new Uint8Array). */
export function pcm16Bytes(samples) {
  const out = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out.setInt16(i * 2, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
  }
  return new Uint8Array(out.buffer);
}

/** Root mean square of float samples, as a 0..1 meter reading (-60 dBFS..0). */
export function meterLevel(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.max(0, Math.min(1, (db + 60) / 60));
}
