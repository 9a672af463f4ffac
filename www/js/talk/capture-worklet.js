// AudioWorklet processor "doorstep-talk-capture" (loaded by capture.js):
// runs on the browser's audio rendering thread. It gathers the microphone's
// mono samples into 20 ms frames of 48 kHz (960 samples) and posts each to
// the page as { frame, samples }: frame is the position of the first sample
// in 48 kHz samples since the audio context started (context seconds times
// 48000), samples a Float32Array whose buffer is handed over. When the
// context runs at another rate (Safari and Firefox often give the
// hardware's 44.1 kHz), the samples are first resampled to 48 kHz here with
// a windowed-sinc interpolator, so the talk packets and the hub always see
// 48 kHz. It owns the frame it is filling and the resampler's history. It
// outputs nothing.

const OUT_RATE = 48000;
const FRAME = 960;
const PHASES = 256;         // fractional positions of the interpolation table
const ZERO_CROSSINGS = 8;   // of the sinc, each side, at the cutoff

/*
 * Windowed-sinc resampler from inRate to 48 kHz over a stream of blocks.
 * The kernel (Blackman-windowed, cutoff 0.9 of the lower Nyquist) is
 * tabulated at PHASES fractional positions. write(block, emit) calls
 * emit(sample, index48) for each output sample it can compute so far;
 * index48 is the output's position in 48 kHz samples since the context
 * started. restart(startFrame) begins a new run at context frame
 * startFrame (after a gap), with silence before it.
 */
class Resampler {
  constructor(inRate) {
    this.step = inRate / OUT_RATE;                    // input samples per output sample
    const cutoff = 0.9 * Math.min(1, 1 / this.step);  // fraction of the input Nyquist
    this.half = Math.ceil(ZERO_CROSSINGS / cutoff);
    this.taps = 2 * this.half;
    this.table = new Float32Array((PHASES + 1) * this.taps);
    for (let p = 0; p <= PHASES; p++) {
      for (let k = 0; k < this.taps; k++) {
        const x = k - this.half + 1 - p / PHASES;     // distance from the output time, in input samples
        const arg = Math.PI * cutoff * x;
        const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
        const window = 0.42 + 0.5 * Math.cos((Math.PI * x) / this.half) + 0.08 * Math.cos((2 * Math.PI * x) / this.half);
        this.table[p * this.taps + k] = Math.abs(x) >= this.half ? 0 : cutoff * sinc * window;
      }
    }
    this.history = new Float32Array(4096);
    this.restart(0);
  }

  restart(startFrame) {
    this.startFrame = startFrame;
    this.outCount = 0;
    // The history begins half a kernel before the run, in silence.
    this.historyStart = startFrame - this.half;
    this.history.fill(0, 0, this.half);
    this.historyLength = this.half;
  }

  write(block, emit) {
    if (this.historyLength + block.length > this.history.length) {
      const bigger = new Float32Array(2 * (this.historyLength + block.length));
      bigger.set(this.history.subarray(0, this.historyLength));
      this.history = bigger;
    }
    this.history.set(block, this.historyLength);
    this.historyLength += block.length;
    const end = this.historyStart + this.historyLength;      // first input frame not held
    const firstOut = this.startFrame / this.step;             // the run's start in 48 kHz samples
    for (;;) {
      const t = this.startFrame + this.outCount * this.step; // the output's time in input frames
      const whole = Math.floor(t);
      if (whole + this.half >= end) break;
      const phase = Math.round((t - whole) * PHASES);
      const row = phase * this.taps;
      const base = whole - this.half + 1 - this.historyStart;
      let sum = 0;
      for (let k = 0; k < this.taps; k++) sum += this.history[base + k] * this.table[row + k];
      emit(sum, firstOut + this.outCount);
      this.outCount++;
    }
    // Keep what the next output still needs.
    const next = Math.floor(this.startFrame + this.outCount * this.step) - this.half + 1;
    const drop = Math.max(0, Math.min(this.historyLength, next - this.historyStart));
    if (drop > 0) {
      this.history.copyWithin(0, drop, this.historyLength);
      this.historyLength -= drop;
      this.historyStart += drop;
    }
  }
}

class TalkCaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buffer = new Float32Array(FRAME);
    this.filled = 0;
    this.start = 0;
    this.expected = null;      // the context frame the next block should start at
    this.resampler = sampleRate === OUT_RATE ? null : new Resampler(sampleRate);
    this.port.onmessage = (event) => { if (event.data === 'stop') this.stopped = true; };
  }

  // One 48 kHz sample at position index48 into the frame being filled.
  add(sample, index48) {
    if (this.filled === 0) this.start = index48;
    this.buffer[this.filled++] = sample;
    if (this.filled === FRAME) {
      this.port.postMessage({ frame: this.start, samples: this.buffer }, [this.buffer.buffer]);
      this.buffer = new Float32Array(FRAME);
      this.filled = 0;
    }
  }

  process(inputs) {
    if (this.stopped) return false;
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;       // no input yet: the track is not delivering
    // A frame holds consecutive samples only: after a gap, start afresh.
    if (this.expected !== currentFrame) {
      this.filled = 0;
      if (this.resampler) this.resampler.restart(currentFrame);
    }
    this.expected = currentFrame + channel.length;
    if (this.resampler) {
      this.resampler.write(channel, (sample, index48) => this.add(sample, index48));
    } else {
      for (let i = 0; i < channel.length; i++) this.add(channel[i], currentFrame + i);
    }
    return true;
  }
}

registerProcessor('doorstep-talk-capture', TalkCaptureProcessor);
