// talk-client.mjs - a talk WebSocket client for tests (the browser's side
// of wss://HUB/api/v1/devices/{id}/talk, docs/api.md "Talk"): opens the
// socket with the session cookie, keeps the JSON messages it receives,
// builds talk packets, and makes Opus packets of a tone with ffmpeg's
// libopus encoder (an Ogg stream split into its packets).

import WebSocket from 'ws';
import { execFileSync } from 'node:child_process';
import { waitFor } from './harness.mjs';

export const CODEC_OPUS = 1;
export const CODEC_PCM16 = 2;

export class TalkClient {
  // client: a logged-in harness Client; id: the doorbell.
  constructor(client, id, { origin } = {}) {
    const url = new URL(`/api/v1/devices/${id}/talk`, client.baseUrl);
    url.protocol = 'wss:';
    this.texts = [];
    this.code = null;
    this.refusedStatus = null;
    this.socket = new WebSocket(url, {
      rejectUnauthorized: false,
      ...(client.localAddress ? { localAddress: client.localAddress, family: 4 } : {}),
      headers: {
        Origin: origin || new URL(client.baseUrl).origin,
        Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', resolve);
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_, response) => {
        this.refusedStatus = response.statusCode;
        reject(new Error(`HTTP ${response.statusCode}`));
      });
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => {
      this.code = code;
      resolve(code);
    }));
    this.socket.on('message', (data, isBinary) => {
      if (!isBinary) this.texts.push(JSON.parse(data.toString()));
    });
  }

  send(json) { this.socket.send(JSON.stringify(json)); }
  start(codec = 'opus', takeover = false) { this.send({ type: 'start', codec, takeover }); }
  stop() { this.send({ type: 'stop' }); }
  sendBinary(buffer) { this.socket.send(buffer, { binary: true }); }

  states() { return this.texts.filter((t) => t.type === 'state'); }
  lastState() { return this.states().at(-1); }
  errors() { return this.texts.filter((t) => t.type === 'error'); }

  // Wait for a received message that matches; returns it.
  async waitFor(predicate, what) {
    let found;
    await waitFor(() => (found = this.texts.find(predicate)) !== undefined, { what });
    return found;
  }

  // Wait until the latest state message matches.
  async waitForState(predicate, what) {
    await waitFor(() => this.lastState() && predicate(this.lastState()), { what });
    return this.lastState();
  }

  close() {
    this.socket.close();
    return this.closed;
  }
}

// One talk packet: the 16-byte header and the payload.
export function talkPacket({ codec = CODEC_OPUS, sequence, captureUs, samples = 960, payload, version = 1, reserved = 0 }) {
  const header = Buffer.alloc(16);
  header[0] = version;
  header[1] = codec;
  header.writeUInt16BE(sequence & 0xffff, 2);
  header.writeBigUInt64BE(BigInt(captureUs), 4);
  header.writeUInt16BE(samples, 12);
  header.writeUInt16BE(reserved, 14);
  return Buffer.concat([header, payload]);
}

// The Opus packets (20 ms each) of `seconds` of a sine at frequency Hz,
// encoded by ffmpeg's libopus into Ogg and split back into packets (the
// first two, OpusHead and OpusTags, left out).
export function opusTonePackets(frequency, seconds) {
  const ogg = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i',
    `sine=frequency=${frequency}:sample_rate=48000:duration=${seconds}`, '-ac', '1', '-c:a', 'libopus',
    '-application', 'voip', '-frame_duration', '20', '-b:a', '48k', '-f', 'ogg', '-'], { maxBuffer: 1 << 26 });
  const packets = [];
  let current = [];
  for (let at = 0; at + 27 <= ogg.length;) {
    if (ogg.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no Ogg page at ${at}`);
    const segments = ogg[at + 26];
    const lacing = ogg.subarray(at + 27, at + 27 + segments);
    let body = at + 27 + segments;
    for (const size of lacing) {
      current.push(ogg.subarray(body, body + size));
      body += size;
      if (size < 255) {
        packets.push(Buffer.concat(current));
        current = [];
      }
    }
    at = body;
  }
  return packets.slice(2);
}

// 16-bit little-endian PCM of a sine, count samples from sample `from`.
export function pcmTone(frequency, from, count, amplitude = 12000) {
  const buffer = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    buffer.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (from + i)) / 48000)), i * 2);
  }
  return buffer;
}

// Goertzel power of frequency in samples (48 kHz).
function goertzel(samples, frequency) {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / 48000);
  let previous = 0;
  let before = 0;
  for (const sample of samples) {
    const value = sample + coefficient * previous - before;
    before = previous;
    previous = value;
  }
  return previous * previous + before * before - coefficient * previous * before;
}

// The strongest frequency (100..4000 Hz in 25 Hz steps) of samples, and the
// share of its power in the sum over all steps.
export function dominantFrequency(samples) {
  let best = { frequency: 0, power: -1 };
  let total = 0;
  for (let frequency = 100; frequency <= 4000; frequency += 25) {
    const power = goertzel(samples, frequency);
    total += power;
    if (power > best.power) best = { frequency, power };
  }
  return { frequency: best.frequency, share: best.power / total };
}

// The samples of a s16le mono buffer from byte offset on.
export function samplesOf(buffer, offset = 0) {
  const part = buffer.subarray(offset - (offset % 2));
  return new Int16Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.length - (part.length % 2)));
}

// The windows (20 ms) of samples louder than rms, as one array: what the
// speaker played, without its silence.
export function loudPart(samples, rms = 1000) {
  const size = 960;
  const out = [];
  for (let i = 0; i + size <= samples.length; i += size) {
    let sum = 0;
    for (let j = i; j < i + size; j++) sum += samples[j] * samples[j];
    if (Math.sqrt(sum / size) >= rms) out.push(samples.subarray(i, i + size));
  }
  const all = new Int16Array(out.length * size);
  out.forEach((part, index) => all.set(part, index * size));
  return all;
}
