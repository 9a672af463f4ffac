// AudioWorklet processor "doorstep-talk-capture" (loaded by capture.js):
// runs on the browser's audio rendering thread. It gathers the microphone's
// mono samples into 20 ms frames (960 at 48 kHz) and posts each to the page
// as { frame, samples }: frame is the audio context's sample index of the
// first sample, samples a Float32Array whose buffer is handed over. It owns
// only the frame it is filling. It outputs nothing.

const FRAME = 960;

class TalkCaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buffer = new Float32Array(FRAME);
    this.filled = 0;
    this.start = 0;
    this.port.onmessage = (event) => { if (event.data === 'stop') this.stopped = true; };
  }

  process(inputs) {
    if (this.stopped) return false;
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;       // no input yet: the track is not delivering
    // A frame holds consecutive samples only: after a gap, start afresh.
    if (this.filled > 0 && this.start + this.filled !== currentFrame) this.filled = 0;
    let offset = 0;
    while (offset < channel.length) {
      if (this.filled === 0) this.start = currentFrame + offset;
      const take = Math.min(FRAME - this.filled, channel.length - offset);
      this.buffer.set(channel.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === FRAME) {
        this.port.postMessage({ frame: this.start, samples: this.buffer }, [this.buffer.buffer]);
        this.buffer = new Float32Array(FRAME);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('doorstep-talk-capture', TalkCaptureProcessor);
