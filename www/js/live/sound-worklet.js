// AudioWorklet of the live view's sound (loaded by sound.js into the
// page's AudioContext; runs on the browser's audio rendering thread, which
// owns everything here). A bounded queue of decoded mono chunks, each with
// the capture time of its first sample (µs since the epoch, from the
// doorbell's packet). Plays once `target` frames are in hand; silence when
// the queue runs dry (an underflow: buffer again up to the target); when
// the least it held over half a second was more than the target plus a
// slack, drops that excess, oldest first (a skip: jitter that came and went
// within the window is left alone), and at once when it holds 200 ms more
// than the target (a burst after a stall); never holds more than a second
// (overflow: the oldest chunk is dropped). A raised target while playing is met by playing that
// much silence at once. Reports counters, the depth, and the capture time of
// the sample at the head with the context time it is rendered at, every
// 50 ms, plus every onset (a loud sample after 50 ms of quiet data) for the
// glass-to-ear bench.

const CAPACITY_SECONDS = 1;
const SLACK_SECONDS = 0.01;          // the window's least depth over the target by more than this: skip
const WINDOW_SECONDS = 0.5;
const BURST_SECONDS = 0.2;           // over the target by more than this: skip at once
const REPORT_SECONDS = 0.05;
const ONSET_LEVEL = 0.05;            // |sample| above this is "loud"
const ONSET_QUIET_SECONDS = 0.05;    // of quiet data before a loud sample

class LiveSoundProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunks = [];                // [{ samples: Float32Array, captureUs }], oldest first
    this.readAt = 0;                 // frames of chunks[0] already played
    this.depth = 0;                  // frames queued, not yet played
    this.target = Math.round(0.06 * sampleRate);
    this.playing = false;            // false: buffering up to the target
    this.holdFrames = 0;             // silence still to play for a raised target
    this.quietFrames = 0;            // quiet data frames in a row (onset detection)
    this.sinceReport = 0;
    this.windowFrames = 0;
    this.minDepth = Infinity;        // least depth after a block in this window
    this.counters = {
      chunks: 0, framesIn: 0, framesPlayed: 0, silenceFrames: 0, underflows: 0,
      skips: 0, framesSkipped: 0, overflows: 0, framesOverflowed: 0, holds: 0,
    };
    this.port.onmessage = (e) => this.onMessage(e.data);
  }

  onMessage(msg) {
    if (msg.type === 'chunk') {
      this.chunks.push({ samples: msg.samples, captureUs: msg.captureUs });
      this.depth += msg.samples.length;
      this.counters.chunks++;
      this.counters.framesIn += msg.samples.length;
      while (this.depth > CAPACITY_SECONDS * sampleRate && this.chunks.length > 1) {
        const dropped = this.chunks.shift();
        const frames = dropped.samples.length - this.readAt;
        this.readAt = 0;
        this.depth -= frames;
        this.counters.overflows++;
        this.counters.framesOverflowed += frames;
      }
    } else if (msg.type === 'target') {
      const frames = Math.max(0, Math.round(msg.frames));
      if (this.playing && frames > this.target) {
        this.holdFrames += frames - this.target;
        this.counters.holds++;
      }
      this.target = frames;
    } else if (msg.type === 'reset') {
      this.chunks = [];
      this.readAt = 0;
      this.depth = 0;
      this.playing = false;
      this.holdFrames = 0;
    }
  }

  /* Drop the oldest `frames` queued frames. */
  drop(frames) {
    while (frames > 0 && this.chunks.length) {
      const head = this.chunks[0];
      const take = Math.min(frames, head.samples.length - this.readAt);
      this.readAt += take;
      this.depth -= take;
      frames -= take;
      if (this.readAt >= head.samples.length) { this.chunks.shift(); this.readAt = 0; }
    }
  }

  skip(frames) {
    this.drop(frames);
    this.counters.skips++;
    this.counters.framesSkipped += frames;
  }

  process(inputs, outputs) {
    const out = outputs[0];
    const first = out[0];
    const n = first.length;
    let headUs = null;
    let headTime = null;
    if (!this.playing && this.depth >= this.target) this.playing = true;
    if (this.playing && this.depth > this.target + BURST_SECONDS * sampleRate) this.skip(this.depth - this.target);
    for (let i = 0; i < n; i++) {
      if (this.playing && this.holdFrames > 0) {
        this.holdFrames--;
        first[i] = 0;
        this.counters.silenceFrames++;
        continue;
      }
      if (!this.playing || !this.chunks.length) {
        if (this.playing) { this.playing = false; this.counters.underflows++; }
        first[i] = 0;
        this.counters.silenceFrames++;
        continue;
      }
      const head = this.chunks[0];
      const value = head.samples[this.readAt];
      if (headUs === null) {
        headUs = head.captureUs + (this.readAt / sampleRate) * 1e6;
        headTime = currentTime + i / sampleRate;
      }
      first[i] = value;
      if (Math.abs(value) > ONSET_LEVEL) {
        if (this.quietFrames >= ONSET_QUIET_SECONDS * sampleRate) {
          this.port.postMessage({ type: 'onset', contextTime: currentTime + i / sampleRate,
            captureUs: head.captureUs, offsetFrames: this.readAt });
        }
        this.quietFrames = 0;
      } else {
        this.quietFrames++;
      }
      this.counters.framesPlayed++;
      this.readAt++;
      this.depth--;
      if (this.readAt >= head.samples.length) { this.chunks.shift(); this.readAt = 0; }
    }
    for (let c = 1; c < out.length; c++) out[c].set(first);
    this.minDepth = Math.min(this.minDepth, this.playing ? this.depth : 0);
    this.windowFrames += n;
    if (this.windowFrames >= WINDOW_SECONDS * sampleRate) {
      const excess = this.minDepth - this.target - this.holdFrames;
      if (this.playing && excess > SLACK_SECONDS * sampleRate) this.skip(excess);
      this.windowFrames = 0;
      this.minDepth = Infinity;
    }
    this.sinceReport += n;
    if (this.sinceReport >= REPORT_SECONDS * sampleRate) {
      this.sinceReport = 0;
      // headUs: capture time of this block's first played sample; headTime: its context time.
      this.port.postMessage({ type: 'stats', headTime, headUs, depth: this.depth,
        target: this.target, playing: this.playing, counters: { ...this.counters } });
    }
    return true;
  }
}

registerProcessor('doorstep-live-sound', LiveSoundProcessor);
