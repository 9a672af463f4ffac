// tone.mjs - find a sine tone in 16-bit mono PCM (the doorbell's speaker
// file, speaker.raw): Goertzel power at one frequency, the dominant
// frequency of a stretch, and the 20 ms windows in which a tone stands out.
// Used by the talk-back browser test and benchmark.

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
