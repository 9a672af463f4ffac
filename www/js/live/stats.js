// Counters of one live player and the figures its stats overlay shows:
// latency (median of the last second's presented frames: exact from the
// frame stamp, else estimated from the hub's capture times), video bitrate
// received, fps presented (else received), frames dropped by the browser,
// frames skipped by the hub, buffer ahead of the playhead and its target.

export class PlayerStats {
  constructor() {
    this.counters = { videoBytes: 0, videoFrames: 0, presented: 0, jumps: 0, underflows: 0, stalls: 0, gapsClosed: 0, reconnects: 0, rebuilds: 0 };
    this.latencies = [];   // { at, ms, est } of recently presented frames
    this.history = [];     // counter snapshots, 4 a second
    this.hub = null;       // the hub's last {"type":"stats"}
  }

  latency(ms, est) {
    this.latencies.push({ at: performance.now(), ms, est });
    if (this.latencies.length > 120) this.latencies.splice(0, this.latencies.length - 120);
  }

  /** Take a snapshot (call 4 times a second), then compute the figures. */
  figures({ video: v, state, started, target, bufferedEnd, lastCaptureMs }) {
    const now = performance.now();
    this.history.push({ at: now, ...this.counters });
    while (this.history.length > 8) this.history.shift();
    const recent = this.latencies.filter((l) => now - l.at < 1000);
    const median = (list) => { const s = list.map((l) => l.ms).sort((a, b) => a - b); return s.length ? s[s.length >> 1] : null; };
    let latencyMs = median(recent.filter((l) => !l.est));
    let estimated = false;
    if (latencyMs === null) {
      latencyMs = median(recent);
      // Nothing presented lately: how old the newest frame received is.
      if (latencyMs === null && lastCaptureMs && state === 'live') latencyMs = Date.now() - lastCaptureMs;
      estimated = latencyMs !== null;
    }
    const old = this.history.find((s) => now - s.at <= 1100);
    const span = old ? (now - old.at) / 1000 : 0;
    const rate = (key) => (span > 0.2 ? (this.counters[key] - old[key]) / span : null);
    const quality = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : null;
    const bytes = rate('videoBytes');
    return {
      state, latencyMs, estimated,
      bitrateKbps: bytes === null ? null : (bytes * 8) / 1000,
      fps: this.counters.presented ? rate('presented') : rate('videoFrames'),
      dropped: quality ? quality.droppedVideoFrames : (v.webkitDroppedFrameCount ?? null),
      skipped: this.hub ? this.hub.skipped_frames : null,
      bufferMs: bufferedEnd === null || !started ? null : Math.max(0, (bufferedEnd - v.currentTime) * 1000),
      targetMs: target * 1000,
      width: v.videoWidth, height: v.videoHeight,
      jumps: this.counters.jumps, underflows: this.counters.underflows,
    };
  }

  /** The short form kept in the test hook. */
  summary(f) {
    const c = this.counters;
    return { jumps: c.jumps, underflows: c.underflows, stalls: c.stalls, gapsClosed: c.gapsClosed, reconnects: c.reconnects, rebuilds: c.rebuilds,
      targetMs: Math.round(f.targetMs), bufferMs: f.bufferMs === null ? null : Math.round(f.bufferMs),
      dropped: f.dropped, skipped: f.skipped };
  }
}
