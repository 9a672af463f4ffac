// Latency control of the live player: how far behind the newest buffered
// frame playback runs, and what to do about it.
//
// Measured on the project's 2-core test machine with
// tests/bench/latency.bench.mjs (headless Chromium 156, the default doorbell:
// 1280x720 @ 30 fps, 2 Mbit/s, x264 veryfast, per-frame fMP4), three runs of
// 30 s each, medians (docs/performance.md has the tables):
//   100 ms target, +20 ms per underflow, 10 s to relax: glass-to-glass p50
//     113 ms, p95 154 ms, 1 underflow per run, the target at 110-120 ms;
//   100 ms, +10 ms, 5 s: p50 126 ms (runs 117, 135, 126), 1 underflow;
//   85 ms, +10 ms, 5 s (what is used): p50 103 ms, p95 137 ms, 4
//     underflows per run, none presenting a frame more than 2.5 frame
//     periods after the one before.
// Glass-to-glass is not the buffer alone: capture to arrival in the browser
// takes 10-20 ms (x264 veryfast ~10 ms), and from the buffer to the screen
// Chromium's renderer and compositor add 20-45 ms (it changes after a stall:
// the same 90 ms in hand gave 106 ms in one second and 139 ms in another).
// With an audio track the audio renderer drives the clock and needs more:
// 150 ms -> video falls behind the audio clock (p95 490 ms); 200 ms -> p50
// ~225 ms, smooth. So the player feeds audio only when unmuted (player.js), and:
//  - target buffer (buffered end - currentTime): 85 ms video only, 200 ms
//    with sound (WebKit: 150 / 250 ms, as it cannot steer the rate);
//  - after an underflow ("waiting" while playing, not right after a seek,
//    with less than 1.5 frames buffered past the playhead) the target grows
//    by 10 ms (30 with sound; at most every 2 s, up to 300/500 ms); after
//    5 s without one (10 s with sound) it shrinks by 10 ms to the start, so
//    an occasional underflow (a keyframe late from the encoder, a busy
//    moment) does not hold the target above its start for long. A "waiting" with
//    more in hand is a stall: the decoder or compositor of a busy machine
//    was late, more buffer would not have prevented it, the target stays
//    (it used to grow on those too and crept up from 100 to 120-260 ms);
//  - jump (currentTime = end - target) when behind by more than 400 ms
//    (600 with sound), when currentTime is before the newest buffered range
//    (a gap: the hub skipped us forward, or a reconnect), past its end, or
//    stuck for 1.5 s although data is buffered (a seek restarts decoding at
//    the keyframe, so jumping out of a short stall only made it longer);
//  - Chromium/Firefox steer small errors with playbackRate: video only in
//    [0.95, 1.1], 1 % per 10 ms of error of the last second's average
//    (sampled every 100 ms; the buffer saw-tooths by one frame) outside a
//    10 ms dead band; with sound only speeding up, to 1.05, outside 30 ms
//    (time-stretching audio needs data in hand). WebKit (Safari and every
//    iOS browser): playbackRate stays 1, only jumps (no
//    playbackRate games on Safari).

export const WEBKIT = /Apple/.test(navigator.vendor || '');

// A "waiting" with more than this many frames buffered past the playhead is
// a stall of the decoder or compositor (a busy CPU), not a buffer underflow.
const STALL_FRAMES = 1.5;
// Playing, data past the playhead, yet currentTime still for this long: jump.
// A seek restarts decoding at the keyframe, so jumping out of a stall of a
// busy decoder makes it worse; only a long one is worth it.
const STUCK_MS = 1500;

// band: dead band of the rate steering; step: target growth per underflow;
// relaxMs: time without an underflow after which the target shrinks by 10 ms.
const PROFILES = {
  video: WEBKIT
    ? { start: 0.15, min: 0.15, max: 0.4, step: 0.02, relaxMs: 10000, jump: 0.4, minRate: 1, maxRate: 1, band: 0.01, adapt: true }
    : { start: 0.085, min: 0.085, max: 0.3, step: 0.01, relaxMs: 5000, jump: 0.4, minRate: 0.95, maxRate: 1.1, band: 0.01, adapt: true },
  audio: WEBKIT
    ? { start: 0.25, min: 0.25, max: 0.6, step: 0.03, relaxMs: 10000, jump: 0.6, minRate: 1, maxRate: 1, band: 0.03, adapt: true }
    : { start: 0.2, min: 0.2, max: 0.5, step: 0.03, relaxMs: 10000, jump: 0.6, minRate: 1, maxRate: 1.05, band: 0.03, adapt: true },
};

export class LatencyController {
  /**
   * overrides: window.doorstepLiveTuning (benchmarks and diagnostics): keys
   * of a profile, applied to both, and an `audio: {...}` object for sound.
   */
  constructor(video, overrides = null) {
    this.video = video;
    this.overrides = overrides && typeof overrides === 'object' ? overrides : {};
    this.samples = [];
    this.quietSince = performance.now();
    this.lastRaise = 0;
    this.lastJump = 0;
    this.lastT = -1;
    this.lastTAt = 0;
    this.setAudio(false);
  }

  /** Sound on (the audio track is in the SourceBuffer) or off: another profile. */
  setAudio(audio) {
    const { audio: audioOverrides, ...common } = this.overrides;
    this.tuning = { ...PROFILES[audio ? 'audio' : 'video'], ...common, ...(audio ? audioOverrides : {}) };
    this.target = this.tuning.start;
    this.samples = [];
  }

  /**
   * A "waiting" event from the video with `ahead` seconds buffered past the
   * playhead and frames of `frame` seconds. Returns 'underflow' (the data
   * ran out: the target grows), 'stall' (frames were there but not decoded
   * or shown in time: a busy CPU; more buffer would not have helped, so the
   * target stays) or null (a seek's own wait).
   */
  underflow(ahead, frame = 1 / 30, now = performance.now()) {
    if (this.video.seeking || now - this.lastJump < 1000) return null;   // a seek's own wait
    if (ahead > STALL_FRAMES * frame) return 'stall';
    this.quietSince = now;
    if (this.tuning.adapt && now - this.lastRaise > 2000) {
      this.lastRaise = now;
      this.target = Math.min(this.tuning.max, this.target + this.tuning.step);
    }
    return 'underflow';
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
    const stuck = !v.paused && !v.seeking && t === this.lastT && now - this.lastTAt > STUCK_MS && behind > 0.1;
    if (t !== this.lastT) { this.lastT = t; this.lastTAt = now; }
    // Behind, before the newest range (a gap), past its end (evicted), or stuck.
    if (behind > this.tuning.jump || t < start - 0.02 || behind < -0.5 || stuck) return !v.seeking;
    if (!periodic) return false;
    if (this.tuning.adapt && now - this.quietSince > this.tuning.relaxMs) {
      this.quietSince = now;
      this.target = Math.max(this.tuning.min, this.target - 0.01);
    }
    this.samples.push(behind);
    if (this.samples.length > 10) this.samples.shift();
    if (this.samples.length >= 5 && this.tuning.maxRate > this.tuning.minRate) {
      const error = this.samples.reduce((sum, x) => sum + x, 0) / this.samples.length - this.target;
      const rate = Math.abs(error) > this.tuning.band
        ? Math.min(this.tuning.maxRate, Math.max(this.tuning.minRate, 1 + Math.round(error * 100) / 100)) : 1;
      if (v.playbackRate !== rate) v.playbackRate = rate;
    }
    return false;
  }
}
