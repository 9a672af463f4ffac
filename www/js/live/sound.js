// Low-latency live sound of the live player (main thread; the player owns
// one LiveSound while unmuted). The hub's live socket carries each Opus
// packet of the doorbell in its own fragment with the packet's capture time
// (docs/api.md "Live view", kind 3); player.js takes the packet out of the
// fragment and hands it here. WebCodecs AudioDecoder decodes it (the chunk
// timestamp is the capture time in µs, so the decoded AudioData carries it),
// the samples go, mixed to mono, to an AudioWorklet (sound-worklet.js) with
// a small queue. That skips Chromium's MSE audio renderer, which holds about
// 200 ms, and lets the video keep its video-only buffer policy with sound on.
//
// Buffer target, recomputed every 50 ms from the worklet's reports:
//  - lip sync, while the video's latency is known: the sound's glass-to-ear
//    (the median over the last 9 reports of when the head sample reaches
//    the output, its context time mapped through getOutputTimestamp, minus
//    that sample's capture time) should equal the video's glass-to-glass
//    (the player's median of presented frame minus capture over 30 frames,
//    setVideoLatency). When they differ by more than 20 ms the target moves
//    by the difference (40-400 ms), at most once a second and only after a
//    full window of reports since the last move (each move plays silence or
//    skips). Closed on the measured glass-to-ear, it also takes in what
//    the queue holds above its target when packets come in bursts;
//  - otherwise a jitter floor of 40 ms, +10 ms after each underflow (at most
//    120 ms), -5 ms after 5 s without one.
// Where AudioDecoder, AudioWorklet or the Opus configuration is missing,
// start fails and the player falls back to sound through MSE.

const SAMPLE_RATE = 48000;
const FLOOR_MIN_MS = 40;
const FLOOR_MAX_MS = 120;
const FLOOR_STEP_MS = 10;
const FLOOR_RELAX_MS = 5000;
const TARGET_MAX_MS = 400;
const TARGET_DEADBAND_MS = 5;        // a floor change moves the target by more
const SYNC_DEADBAND_MS = 20;         // lip sync moves it only when off by more than this,
const SYNC_INTERVAL_MS = 1000;       // and at most this often (each move is a gap or a skip)
const LATENCY_WINDOW = 9;            // reports in the median of the audio latency
const GAP_RESET_US = 100000;         // capture times jump by more: a new decoder timeline
const MAX_ONSETS = 200;

/** Whether this browser has what live sound over WebCodecs needs. */
export function liveSoundSupported() {
  return typeof window.AudioDecoder === 'function' && typeof window.AudioWorkletNode === 'function' &&
    typeof window.AudioContext === 'function' && typeof window.EncodedAudioChunk === 'function';
}

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}

export class LiveSound {
  /**
   * channels: of the stream; onFail(reason) when it cannot play (called at
   * most once; the caller then stops it); report: the object it keeps its
   * figures in (the player's hook.sound).
   * Call from a user gesture (a click on unmute): it creates the AudioContext.
   */
  constructor({ channels = 1, onFail = null, report = {} } = {}) {
    this.channels = channels;
    this.onFail = onFail;
    this.report = report;
    this.failed = false;
    this.closed = false;
    this.ready = false;
    this.decoder = null;
    this.node = null;
    this.nextUs = null;              // capture time the next packet should have
    this.latencies = [];             // recent audio glass-to-ear figures (ms)
    this.fixed = [];                 // recent glass-to-ear minus what was queued (ms)
    this.arrivals = [];              // recent packets' capture-to-arrival (ms)
    this.videoLatencyMs = null;
    this.floorMs = FLOOR_MIN_MS;
    this.targetMs = FLOOR_MIN_MS;
    this.lastUnderflows = 0;
    this.lastUnderflowAt = performance.now();
    this.lastSyncAt = 0;
    this.syncTargetMs = null;        // the lip-sync target, once the video's latency is known
    this.reportsSinceSync = 0;
    this.counters = { packets: 0, packetsEarly: 0, decoded: 0, decodeErrors: 0, resets: 0 };
    Object.assign(report, { path: 'webcodecs', state: 'starting', onsets: [], counters: this.counters, worklet: null });
    try {
      this.context = new AudioContext({ latencyHint: 'interactive', sampleRate: SAMPLE_RATE });
    } catch (e) {
      this.context = null;
      this.fail(`AudioContext: ${e.message}`);
      return;
    }
    this.context.resume().catch(() => {});
    this.started = this.open();
  }

  async open() {
    try {
      const config = { codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: this.channels };
      const support = await AudioDecoder.isConfigSupported(config);
      if (!support.supported) throw new Error('Opus is not supported by AudioDecoder');
      await this.context.audioWorklet.addModule(new URL('./sound-worklet.js', import.meta.url));
      if (this.closed) return;
      this.node = new AudioWorkletNode(this.context, 'doorstep-live-sound',
        { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
      this.node.port.onmessage = (e) => this.onWorklet(e.data);
      this.node.connect(this.context.destination);
      this.configure();
      this.sendTarget();
      this.ready = true;
      this.report.state = 'playing';
    } catch (e) {
      this.fail(e.message || String(e));
    }
  }

  configure() {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = new AudioDecoder({
      output: (data) => this.onDecoded(data),
      error: (e) => { this.counters.decodeErrors++; this.decoder = null; console.warn(`live sound: ${e.message}`); },
    });
    this.decoder.configure({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: this.channels });
    this.nextUs = null;
  }

  fail(reason) {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.report.state = 'failed';
    this.report.error = reason;
    // Later, never from inside the constructor: the caller holds this object by then.
    if (this.onFail) queueMicrotask(() => this.onFail(reason));
  }

  stop() {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    if (!this.failed) this.report.state = 'stopped';
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = null;
    if (this.node) { this.node.port.onmessage = null; this.node.disconnect(); }
    if (this.context) this.context.close().catch(() => {});
  }

  /** The stream's channel count (from a new init segment): a new decoder when it changed. */
  setChannels(channels) {
    if (!channels || channels === this.channels) return;
    this.channels = channels;
    if (this.ready) this.configure();
  }

  /** The video's current glass-to-glass (ms), for lip sync; null when unknown. */
  setVideoLatency(ms) {
    this.videoLatencyMs = ms;
  }

  /** One Opus packet (Uint8Array) captured at captureUs (µs since the epoch). */
  push(packet, captureUs, durationUs = 20000) {
    this.counters.packets++;
    this.arrivals.push(Date.now() - captureUs / 1000);
    if (this.arrivals.length > 50) this.arrivals.shift();
    if (!this.ready) { this.counters.packetsEarly++; return; }
    if (!this.decoder || this.decoder.state === 'closed') this.configure();
    // The decoder counts its output timestamps on from the first input: a
    // gap or a step in the capture times starts a new decoder timeline.
    if (this.nextUs !== null && Math.abs(captureUs - this.nextUs) > GAP_RESET_US) {
      this.counters.resets++;
      this.configure();
    }
    this.nextUs = captureUs + durationUs;
    try {
      this.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: captureUs, data: packet }));
    } catch (e) {
      this.counters.decodeErrors++;
      this.configure();
    }
  }

  onDecoded(data) {
    try {
      if (!this.node || this.closed) return;
      const frames = data.numberOfFrames;
      const mono = new Float32Array(frames);
      const plane = new Float32Array(frames);
      for (let c = 0; c < data.numberOfChannels; c++) {
        data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
        for (let i = 0; i < frames; i++) mono[i] += plane[i] / data.numberOfChannels;
      }
      this.counters.decoded++;
      this.node.port.postMessage({ type: 'chunk', samples: mono, captureUs: data.timestamp }, [mono.buffer]);
    } finally {
      data.close();
    }
  }

  /** Wall-clock ms (performance.timeOrigin based, as the video's presentation times) a context time is heard. */
  contextToWallMs(contextTime) {
    const ctx = this.context;
    const stamp = typeof ctx.getOutputTimestamp === 'function' ? ctx.getOutputTimestamp() : null;
    if (stamp && stamp.performanceTime > 0) {
      return performance.timeOrigin + stamp.performanceTime + (contextTime - stamp.contextTime) * 1000;
    }
    return performance.timeOrigin + performance.now() + (contextTime - ctx.currentTime) * 1000 +
      ((ctx.outputLatency || 0) + (ctx.baseLatency || 0)) * 1000;
  }

  onWorklet(msg) {
    if (this.closed) return;
    if (msg.type === 'onset') {
      const onsets = this.report.onsets;
      onsets.push({ earMs: this.contextToWallMs(msg.contextTime), captureMs: msg.captureUs / 1000, offsetFrames: msg.offsetFrames });
      if (onsets.length > MAX_ONSETS) onsets.shift();
      return;
    }
    if (msg.type !== 'stats') return;
    const depthMs = (msg.depth / SAMPLE_RATE) * 1000;
    if (msg.headUs !== null && msg.headTime !== null) {
      const latency = this.contextToWallMs(msg.headTime) - msg.headUs / 1000;
      this.latencies.push(latency);
      if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
      this.fixed.push(latency - depthMs);
      if (this.fixed.length > LATENCY_WINDOW) this.fixed.shift();
    }
    // A report without a sample played (an underflow) keeps the last figures.
    const fixedMs = median(this.fixed);
    const now = performance.now();
    if (msg.counters.underflows > this.lastUnderflows) {
      this.lastUnderflows = msg.counters.underflows;
      this.lastUnderflowAt = now;
      this.floorMs = Math.min(FLOOR_MAX_MS, this.floorMs + FLOOR_STEP_MS);
    } else if (now - this.lastUnderflowAt > FLOOR_RELAX_MS && this.floorMs > FLOOR_MIN_MS) {
      this.lastUnderflowAt = now;
      this.floorMs = Math.max(FLOOR_MIN_MS, this.floorMs - 5);
    }
    const audioLatency = median(this.latencies);
    this.reportsSinceSync++;
    let want = this.floorMs;
    if (audioLatency !== null && this.videoLatencyMs !== null) {
      if (this.syncTargetMs === null) this.syncTargetMs = this.targetMs;
      const off = this.videoLatencyMs - audioLatency;
      if (Math.abs(off) > SYNC_DEADBAND_MS && now - this.lastSyncAt >= SYNC_INTERVAL_MS &&
          this.reportsSinceSync >= LATENCY_WINDOW) {
        this.syncTargetMs = Math.min(TARGET_MAX_MS, Math.max(FLOOR_MIN_MS, this.syncTargetMs + off));
        this.lastSyncAt = now;
        this.reportsSinceSync = 0;
      }
      want = this.syncTargetMs;
    }
    want = Math.min(TARGET_MAX_MS, want);
    if (Math.abs(want - this.targetMs) > TARGET_DEADBAND_MS) {
      this.targetMs = want;
      this.sendTarget();
    }
    Object.assign(this.report, {
      worklet: msg.counters,
      depthMs: Math.round(depthMs),
      arrivalMs: { p50: Math.round(median(this.arrivals)), max: Math.round(Math.max(...this.arrivals, 0)) },
      fixedMs: fixedMs === null ? null : Math.round(fixedMs),
      targetMs: Math.round(this.targetMs),
      floorMs: this.floorMs,
      audioLatencyMs: audioLatency === null ? null : Math.round(audioLatency),
      videoLatencyMs: this.videoLatencyMs === null ? null : Math.round(this.videoLatencyMs),
      lipSyncMs: audioLatency === null || this.videoLatencyMs === null ? null : Math.round(audioLatency - this.videoLatencyMs),
      contextState: this.context.state,
      outputLatencyMs: Math.round(((this.context.outputLatency || 0) + (this.context.baseLatency || 0)) * 1000),
    });
  }

  sendTarget() {
    if (this.node) this.node.port.postMessage({ type: 'target', frames: (this.targetMs / 1000) * SAMPLE_RATE });
  }
}
