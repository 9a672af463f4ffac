// Microphone capture for talk-back, on the page's main thread: getUserMedia
// with echo cancellation, noise suppression and automatic gain on, an
// AudioContext (48 kHz asked; browsers that give another rate are resampled
// to 48 kHz by the worklet) whose AudioWorklet (capture-worklet.js) cuts the
// microphone into 20 ms mono frames of 48 kHz, and the encoding of each frame: WebCodecs
// AudioEncoder (Opus, 20 ms) where the browser has it, otherwise 16-bit PCM
// that the hub encodes. A MicCapture owns its stream, context, worklet node
// and encoder; close() releases them all (the browser's microphone
// indicator goes off). Each frame carries the wall-clock time of its first
// sample: performance.timeOrigin + the time the audio context rendered it,
// less the input latency the track reports.

import { CODEC_OPUS, CODEC_PCM16, SAMPLE_RATE, FRAME_SAMPLES, pcm16Bytes, meterLevel } from './packet.js';

const WORKLET_URL = '/js/talk/capture-worklet.js';
const OPUS_CONFIG = {
  codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1, bitrate: 32000,
  opus: { frameDuration: 20000, complexity: 5, application: 'voip', signal: 'voice' },
};
// How far the clock mapping may move later per frame (ms): the minimum over
// frames filters out message delays, this follows slow drift.
const CLOCK_CREEP_MS = 0.05;
// Capture times of frames given to the encoder and not yet out of it (a
// few; more means the encoder stalled, and the oldest are forgotten).
const MAX_PENDING = 50;

let codecChoice = null;

/**
 * Why talk-back cannot work in this page, or null when it can:
 * 'insecure' (not https: browsers only open microphones in secure
 * contexts) or 'unsupported' (no getUserMedia or AudioWorklet).
 */
export function talkUnavailable() {
  if (!window.isSecureContext) return 'insecure';
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return 'unsupported';
  if (typeof AudioWorkletNode === 'undefined') return 'unsupported';
  return null;
}

/**
 * The codec this browser sends: 'opus' when WebCodecs can encode 48 kHz
 * mono Opus, else 'pcm16'. window.doorstepTalkCodec ('opus' | 'pcm16'),
 * when set, decides instead (tests and diagnostics). Cached.
 */
export async function chooseCodec() {
  const forced = window.doorstepTalkCodec;
  if (forced === 'opus' || forced === 'pcm16') return forced;
  if (codecChoice) return codecChoice;
  codecChoice = 'pcm16';
  if (typeof AudioEncoder !== 'undefined' && typeof AudioData !== 'undefined') {
    try {
      const support = await AudioEncoder.isConfigSupported(OPUS_CONFIG);
      if (support && support.supported) codecChoice = 'opus';
    } catch { /* keep PCM */ }
  }
  return codecChoice;
}

export class MicCapture {
  /**
   * codec: 'opus' | 'pcm16'. onPacket(codecId, captureUs, samples, payload)
   * for each encoded frame; onFrame(floatSamples, captureUs) for each raw
   * frame (meter, test hook). Call prepare() in the user's gesture, then
   * open().
   */
  constructor({ codec, onPacket, onFrame }) {
    this.codec = codec;
    this.onPacket = onPacket;
    this.onFrame = onFrame;
    this.stream = null;
    this.context = null;
    this.node = null;
    this.source = null;
    this.encoder = null;
    this.closed = false;
    this.resumed = null;
    this.baseMs = null;
    this.inputLatencyMs = 0;
    this.pendingUs = [];
    this.lastOpusUs = null;
  }

  /**
   * Create and resume the audio context: call synchronously in the user's
   * gesture (Safari starts audio only there). open() calls it if needed.
   */
  prepare() {
    if (this.context) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    this.context = new Context({ sampleRate: SAMPLE_RATE, latencyHint: 'interactive' });
    this.resumed = this.context.resume();
  }

  /** Open the microphone and start delivering frames. Rejects with the getUserMedia error (name: NotAllowedError, ...). */
  async open() {
    this.prepare();
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1, sampleRate: SAMPLE_RATE },
      video: false,
    });
    if (this.closed) { this.release(); return; }
    const track = this.stream.getAudioTracks()[0];
    const settings = track && track.getSettings ? track.getSettings() : {};
    if (typeof settings.latency === 'number' && settings.latency > 0 && settings.latency < 1) this.inputLatencyMs = settings.latency * 1000;
    try {
      this.source = this.context.createMediaStreamSource(this.stream);
    } catch (error) {
      if (error.name !== 'NotSupportedError') throw error;
      // Firefox cannot join a microphone to a context of another rate: take
      // the microphone's rate (the worklet resamples to 48 kHz).
      this.context.close().catch(() => {});
      const Context = window.AudioContext || window.webkitAudioContext;
      this.context = new Context(settings.sampleRate ? { sampleRate: settings.sampleRate, latencyHint: 'interactive' } : { latencyHint: 'interactive' });
      this.resumed = this.context.resume();
      this.source = this.context.createMediaStreamSource(this.stream);
    }
    await this.context.audioWorklet.addModule(WORKLET_URL);
    await this.resumed;
    if (this.closed) { this.release(); return; }
    if (this.codec === 'opus') {
      this.encoder = new AudioEncoder({
        output: (chunk) => this.emitOpus(chunk),
        error: (error) => console.error('talk encoder', error),
      });
      this.encoder.configure(OPUS_CONFIG);
    }
    this.node = new AudioWorkletNode(this.context, 'doorstep-talk-capture', { numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit' });
    this.node.port.onmessage = (event) => this.frame(event.data);
    this.source.connect(this.node);
  }

  /** The audio context's sample rate (Hz), or null before prepare(). */
  get contextRate() {
    return this.context ? this.context.sampleRate : null;
  }

  /** Whether the microphone is open (its track live). */
  get live() {
    return Boolean(this.stream && this.stream.getAudioTracks().some((t) => t.readyState === 'live'));
  }

  // One 20 ms frame from the worklet: time it, meter it, encode or pack it.
  frame({ frame, samples }) {
    if (this.closed) return;
    const nowMs = performance.timeOrigin + performance.now();
    const base = nowMs - this.context.currentTime * 1000;
    this.baseMs = this.baseMs === null ? base : Math.min(base, this.baseMs + CLOCK_CREEP_MS);
    const captureUs = Math.round((this.baseMs + (frame / SAMPLE_RATE) * 1000 - this.inputLatencyMs) * 1000);
    if (this.onFrame) this.onFrame(samples, captureUs);
    if (this.encoder) {
      if (this.encoder.state !== 'configured') return;
      const data = new AudioData({ format: 'f32-planar', sampleRate: SAMPLE_RATE, numberOfFrames: samples.length,
        numberOfChannels: 1, timestamp: captureUs, data: samples });
      this.encoder.encode(data);
      data.close();
      this.pendingUs.push(captureUs);
      if (this.pendingUs.length > MAX_PENDING) this.pendingUs.shift();
    } else {
      this.onPacket(CODEC_PCM16, captureUs, samples.length, pcm16Bytes(samples));
    }
  }

  // An Opus packet out of the encoder, timed by the capture time we gave its
  // frame. Chromium's chunks carry that time; Firefox (153 ESR) stamps every
  // chunk with its first frame's time, so a chunk whose time does not move
  // on takes the next pending frame's time (or follows the previous packet
  // by its duration when none is pending: the encoder's last, flushed one).
  emitOpus(chunk) {
    const payload = new Uint8Array(chunk.byteLength);
    chunk.copyTo(payload);
    const samples = chunk.duration ? Math.round((chunk.duration * SAMPLE_RATE) / 1e6) : FRAME_SAMPLES;
    let captureUs = chunk.timestamp;
    if (this.lastOpusUs !== null && captureUs <= this.lastOpusUs) {
      captureUs = this.pendingUs.length ? this.pendingUs.shift() : this.lastOpusUs + Math.round((samples * 1e6) / SAMPLE_RATE);
    } else {
      while (this.pendingUs.length && this.pendingUs[0] <= captureUs) this.pendingUs.shift();
    }
    if (this.lastOpusUs !== null && captureUs <= this.lastOpusUs) captureUs = this.lastOpusUs + 1;
    this.lastOpusUs = captureUs;
    this.onPacket(CODEC_OPUS, captureUs, samples, payload);
  }

  /** Stop: the microphone is released at once; the encoder's last packets still go out. Resolves when done. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    const encoder = this.encoder;
    this.release();
    if (encoder && encoder.state === 'configured') {
      try { await encoder.flush(); } catch { /* closed under us */ }
    }
    if (encoder && encoder.state !== 'closed') encoder.close();
  }

  // Stop the tracks, disconnect the graph and close the context.
  release() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    if (this.node) { this.node.port.postMessage('stop'); this.node.port.onmessage = null; }
    if (this.source) this.source.disconnect();
    if (this.context && this.context.state !== 'closed') this.context.close().catch(() => {});
  }
}

export { meterLevel };
