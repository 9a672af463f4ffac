// tone.mjs - find a sine tone in 16-bit mono PCM (the doorbell's speaker
// file, speaker.raw): Goertzel power at one frequency, the dominant
// frequency of a stretch, and the 20 ms windows in which a tone stands out;
// and a WAV file of a tone, to upload as a quick reply.
// Used by the talk-back and quick-reply tests and benchmark.

export const RATE = 48000;
export const WINDOW = 960;   // 20 ms

// Samples of a raw s16le buffer as an Int16Array (a copy, aligned).
export function samplesOf(buffer) {
  const even = buffer.length - (buffer.length % 2);
  const copy = Buffer.alloc(even);
  buffer.copy(copy, 0, 0, even);
  return new Int16Array(copy.buffer, copy.byteOffset, even / 2);
}

// Power of `frequency` in samples[start, start + n) (Goertzel), normalised
// so that a full-scale-relative sine of amplitude A gives about A^2 / 4 * n.
export function goertzel(samples, start, n, frequency, rate = RATE) {
  const k = (2 * Math.PI * frequency) / rate;
  const coefficient = 2 * Math.cos(k);
  let s1 = 0, s2 = 0;
  for (let i = start; i < start + n; i++) {
    const s0 = samples[i] + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / n;
}

function energy(samples, start, n) {
  let sum = 0;
  for (let i = start; i < start + n; i++) sum += samples[i] * samples[i];
  return sum;
}

// The frequency (100..4000 Hz, 25 Hz steps) with the most power in samples[start, start + n).
export function dominantFrequency(samples, start = 0, n = samples.length - start) {
  let best = 0, bestPower = -1;
  for (let f = 100; f <= 4000; f += 25) {
    const power = goertzel(samples, start, n, f);
    if (power > bestPower) { bestPower = power; best = f; }
  }
  return best;
}

// Indexes of the 20 ms windows where `frequency` carries most of the
// energy (share above `share`) and the sound is not faint (RMS above minRms).
export function toneWindows(samples, frequency, { share = 0.5, minRms = 300 } = {}) {
  const found = [];
  for (let w = 0; (w + 1) * WINDOW <= samples.length; w++) {
    const start = w * WINDOW;
    const total = energy(samples, start, WINDOW);
    if (Math.sqrt(total / WINDOW) < minRms) continue;
    // A sine of amplitude A: total = A^2 n / 2, goertzel = A^2 n / 4.
    if ((2 * goertzel(samples, start, WINDOW, frequency)) / total >= share) found.push(w);
  }
  return found;
}

// The first sample (from `from`) whose magnitude exceeds threshold, or -1.
export function onsetAfter(samples, from, threshold) {
  for (let i = Math.max(0, from); i < samples.length; i++) if (Math.abs(samples[i]) > threshold) return i;
  return -1;
}

// A mono 16-bit WAV file of `seconds` of a sine at `frequency` Hz, sampled at `rate`.
export function toneWav(seconds, { rate = 44100, frequency = 1000, amplitude = 12000 } = {}) {
  const count = Math.round(seconds * rate);
  const buffer = Buffer.alloc(44 + count * 2);
  buffer.write('RIFF', 0);
  buffer.writeUInt32LE(36 + count * 2, 4);
  buffer.write('WAVEfmt ', 8);
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);       // PCM
  buffer.writeUInt16LE(1, 22);       // mono
  buffer.writeUInt32LE(rate, 24);
  buffer.writeUInt32LE(rate * 2, 28);
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36);
  buffer.writeUInt32LE(count * 2, 40);
  for (let i = 0; i < count; i++) buffer.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate)), 44 + 2 * i);
  return buffer;
}
