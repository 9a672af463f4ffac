// Latency control of the live player: how far behind the newest buffered
// frame playback runs, and what to do about it. Measured on this project's
// 2-core test machine with tests/bench/latency.bench.mjs (Chromium 156,
// 1280x720 @ 30 fps, 2 Mbit/s, per-frame fMP4):
//   fixed buffer 80 ms: p50 76 ms glass-to-glass, 12 underflows / 30 s
//   fixed buffer 90 ms: p50 85 ms, 3 underflows / 30 s
//   fixed buffer 100 ms: p50 103 ms, p95 104 ms, no underflow, no late frame
// Chromium plays an MP4 without duration as a live stream in low-delay mode,
// but its decoder still needs about two frame periods plus jitter in hand;
// 100 ms is the smallest buffer that does not stutter here. So:
//  - target buffer (buffered end - currentTime): Chromium/Firefox 100 ms,
//    WebKit 150 ms (no rate steering there, so more margin);
//  - after an underflow ("waiting" while playing, not right after a seek)
//    the target grows by 20 ms (at most every 2 s, up to 300/400 ms); after
//    10 s without one it shrinks by 10 ms, back to the minimum;
//  - jump (currentTime = end - target) when behind by more than 400 ms, when
//    currentTime is before the newest buffered range (a gap: the hub skipped
//    us forward, or a reconnect), or when playback is stuck with data ahead;
//  - Chromium/Firefox steer small errors with playbackRate in [0.95, 1.1]:
//    outside a 15 ms dead band, 1 % per 10 ms of error of the last second's
//    average. WebKit (Safari and every iOS browser): playbackRate stays 1,
//    only jumps (SPEC §5: no playbackRate games on Safari).

export const WEBKIT = /Apple/.test(navigator.vendor || '');

const DEFAULTS = WEBKIT
  ? { start: 0.15, min: 0.15, max: 0.4, step: 0.02, adapt: true, jump: 0.4, minRate: 1, maxRate: 1 }
  : { start: 0.1, min: 0.1, max: 0.3, step: 0.02, adapt: true, jump: 0.4, minRate: 0.95, maxRate: 1.1 };

export class LatencyController {
  /** overrides: window.doorstepLiveTuning (benchmarks and diagnostics). */
  constructor(video, overrides = null) {
    this.video = video;
    this.tuning = { ...DEFAULTS, ...(overrides && typeof overrides === 'object' ? overrides : {}) };
    this.target = this.tuning.start;
    this.samples = [];
    this.quietSince = performance.now();
    this.lastRaise = 0;
    this.lastJump = 0;
    this.lastT = -1;
    this.lastTAt = 0;
  }

  /** A "waiting" event from the video. Returns true if it counts as an underflow. */
  underflow(now = performance.now()) {
    if (this.video.seeking || now - this.lastJump < 1000) return false;   // a seek's own wait
    this.quietSince = now;
    if (this.tuning.adapt && now - this.lastRaise > 2000) {
      this.lastRaise = now;
      this.target = Math.min(this.tuning.max, this.target + this.tuning.step);
    }
    return true;
  }

  /** Where a jump lands for the newest range [start, end]. */
  jumpTime(start, end) {
    return Math.max(start, end - this.target);
  }

  jumped(now = performance.now()) {
    this.lastJump = now;
    this.samples = [];
    if (this.video.playbackRate !== 1) this.video.playbackRate = 1;
  }

  /**
   * Check the playhead against the newest buffered range; returns true when
   * the player should jump. periodic: called from the 100 ms timer (the rate
   * is steered on those calls only, so samples are evenly spaced).
   */
  update(start, end, periodic, now = performance.now()) {
    const v = this.video;
    const t = v.currentTime;
    const behind = end - t;
    const stuck = !v.paused && !v.seeking && t === this.lastT && now - this.lastTAt > 500 && behind > 0.1;
    if (t !== this.lastT) { this.lastT = t; this.lastTAt = now; }
    if (behind > this.tuning.jump || t < start - 0.02 || stuck) return !v.seeking;
    if (!periodic) return false;
    if (this.tuning.adapt && now - this.quietSince > 10000) {
      this.quietSince = now;
      this.target = Math.max(this.tuning.min, this.target - 0.01);
    }
    this.samples.push(behind);
    if (this.samples.length > 10) this.samples.shift();
    if (this.samples.length >= 5 && this.tuning.maxRate > this.tuning.minRate) {
      const error = this.samples.reduce((sum, x) => sum + x, 0) / this.samples.length - this.target;
      const rate = Math.abs(error) > 0.015
        ? Math.min(this.tuning.maxRate, Math.max(this.tuning.minRate, 1 + Math.round(error * 100) / 100)) : 1;
      if (v.playbackRate !== rate) v.playbackRate = rate;
    }
    return false;
  }
}
