// Low-latency live view player (SPEC §5, docs/api.md "Live view"): reads the
// hub's per-frame fMP4 over wss://HOST/api/v1/devices/{id}/live into one MSE
// SourceBuffer and keeps playback a fixed, small distance behind the newest
// frame. Reconnects by itself, pauses while the tab is hidden, and records
// presented frames for the stats overlay and the browser tests
// (window.doorstepLive, see hook.js).
//
// Latency policy (numbers measured with tests/bench/latency.bench.mjs):
//  - Target buffer = buffered end - currentTime, starting at 100 ms and
//    adapting within [70, 300] ms: +25 ms after every underflow ("waiting"
//    while playing), -5 ms per 5 s without one. Chromium plays MP4 without a
//    duration (mvhd 0, no mehd) as a live stream in low-delay mode (one
//    decoded frame is "enough"), so the buffer only has to cover the spacing
//    of frames (33 ms at 30 fps) plus arrival and decode jitter.
//  - Jump (currentTime = end - target) when behind by more than 400 ms, when
//    currentTime sits before the newest buffered range (the hub skipped this
//    viewer forward and left a gap, or we reconnected), or when playback is
//    stuck although data is buffered.
//  - Chromium/Firefox: trim smaller drift with playbackRate in [1.0, 1.1]
//    (1 + the excess over the target in seconds, capped). WebKit (Safari,
//    every iOS browser): never touch playbackRate, only jump.
//  - Keep about 10 s of buffer; QuotaExceededError evicts and retries.

import { parseInit, parseFragment, supportedMime, concat } from './media.js';
import { FrameMonitor } from './stamp.js';
import { registerPlayer } from './hook.js';

const KIND_INIT = 1;
const KIND_VIDEO = 2;
const KIND_AUDIO = 3;
export const WEBKIT = /Apple/.test(navigator.vendor || '');
// Seconds. Rates: WebKit never changes playbackRate.
const TUNING = WEBKIT
  ? { start: 0.15, min: 0.1, max: 0.4, adapt: true, jump: 0.4, minRate: 1, maxRate: 1 }
  : { start: 0.1, min: 0.07, max: 0.3, adapt: true, jump: 0.4, minRate: 0.95, maxRate: 1.1 };
const KEEP_SECONDS = 10;
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 10000;
const COALESCE_BYTES = 1 << 20;
const REMAP_GAP = 0.1;       // s between the old and new timeline after a reconnect

export class LivePlayer {
  /**
   * video: the <video>; deviceId; onStats(stats) about 4 times a second;
   * onState(state): connecting | live | waiting | reconnecting | paused | stopped | error;
   * onBlocked(): play() was refused (needs a click).
   */
  constructor(video, { deviceId, onStats = null, onState = null, onBlocked = null } = {}) {
    this.video = video;
    this.deviceId = deviceId;
    this.onStats = onStats;
    this.onStateChange = onState;
    this.onBlocked = onBlocked;
    this.hook = registerPlayer(deviceId);
    this.state = null;
    this.stopped = false;
    this.ws = null;
    this.backoff = BACKOFF_MIN;
    this.retryTimer = null;
    this.media = null;           // { ms, sb, url, mime }
    this.queue = [];
    this.removeRange = null;
    // window.doorstepLiveTuning (benchmarks, diagnostics) may override TUNING.
    this.tuning = { ...TUNING, ...(typeof window.doorstepLiveTuning === 'object' ? window.doorstepLiveTuning : {}) };
    this.target = this.tuning.start;
    this.counters = { videoBytes: 0, videoFrames: 0, presented: 0, jumps: 0, underflows: 0, reconnects: 0, rebuilds: 0 };
    this.hubStats = null;
    this.latencies = [];         // [{ at, ms, est }] of presented frames, last ~2 s
    this.lastPresent = null;
    this.captureByTime = new Map();
    this.behind = [];
    this.history = [];           // counter snapshots for rates
    video.muted = true;
    video.playsInline = true;
    video.autoplay = false;
    video.disableRemotePlayback = true;   // ManagedMediaSource requires it (or an AirPlay source)
    this.monitor = new FrameMonitor(video, (f) => this.onPresented(f));
    this.onVisibility = () => (document.visibilityState === 'visible' ? this.resume() : this.suspend());
    this.onWaiting = () => {
      if (this.started && !video.seeking && !this.settling) {
        this.counters.underflows++;
        if (this.tuning.adapt) this.target = Math.min(this.tuning.max, this.target + 0.025);
        this.calmSince = performance.now();
      }
    };
    this.onError = () => { if (this.media) this.restart('media error'); };
    document.addEventListener('visibilitychange', this.onVisibility);
    video.addEventListener('waiting', this.onWaiting);
    video.addEventListener('error', this.onError);
    this.tick = setInterval(() => this.control(true), 100);
    this.statsTick = setInterval(() => this.emitStats(), 250);
    this.monitor.start();
    if (document.visibilityState === 'visible') this.connect(); else this.setState('paused');
  }

  /* ---------- public controls ---------- */

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    clearInterval(this.statsTick);
    clearTimeout(this.retryTimer);
    clearTimeout(this.burstTimer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.video.removeEventListener('waiting', this.onWaiting);
    this.video.removeEventListener('error', this.onError);
    this.closeSocket();
    this.teardownMedia();
    this.monitor.stop();
    this.setState('stopped');
  }

  setMuted(muted) {
    this.video.muted = muted;
    if (!muted && this.video.paused && this.started) this.play();
  }

  /** Statistics for the overlay. */
  getStats() {
    const now = performance.now();
    const v = this.video;
    const recent = this.latencies.filter((l) => now - l.at < 1000);
    const exact = recent.filter((l) => !l.est).map((l) => l.ms).sort((a, b) => a - b);
    let latencyMs = exact.length ? exact[exact.length >> 1] : null;
    let estimated = false;
    if (latencyMs === null) {
      const est = recent.map((l) => l.ms).sort((a, b) => a - b);
      if (est.length) latencyMs = est[est.length >> 1];
      else if (this.lastVideoCaptureMs && this.state === 'live') latencyMs = Date.now() - this.lastVideoCaptureMs;
      estimated = latencyMs !== null;
    }
    const old = this.history.find((h) => now - h.at <= 1100) || this.history[0];
    const span = old ? (now - old.at) / 1000 : 0;
    const rate = (key) => (old && span > 0.2 ? (this.counters[key] - old[key]) / span : null);
    const quality = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : null;
    const end = this.bufferedEnd();
    return {
      state: this.state,
      latencyMs, estimated,
      bitrateKbps: rate('videoBytes') === null ? null : (rate('videoBytes') * 8) / 1000,
      fps: this.counters.presented ? rate('presented') : rate('videoFrames'),
      dropped: quality ? quality.droppedVideoFrames : (v.webkitDroppedFrameCount ?? null),
      skipped: this.hubStats ? this.hubStats.skipped_frames : null,
      bufferMs: end === null ? null : Math.max(0, (end - v.currentTime) * 1000),
      targetMs: this.target * 1000,
      width: v.videoWidth, height: v.videoHeight,
      jumps: this.counters.jumps, underflows: this.counters.underflows,
    };
  }

  /* ---------- connection ---------- */

  connect() {
    if (this.stopped || this.fatal || this.ws) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState(this.counters.reconnects ? 'reconnecting' : 'connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/devices/${encodeURIComponent(this.deviceId)}/live`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.pendingInit = null;
    this.needRemap = true;      // the new connection's timeline goes after what we have
    this.settling = true;       // no jumps until the cached GOP burst is in
    ws.onmessage = (e) => this.onMessage(e.data);
    ws.onclose = () => this.onSocketGone(ws);
    ws.onerror = () => this.onSocketGone(ws);
  }

  closeSocket() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
  }

  onSocketGone(ws) {
    if (ws !== this.ws) return;
    this.closeSocket();
    if (this.stopped || this.state === 'paused') return;
    this.counters.reconnects++;
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(BACKOFF_MAX, this.backoff * 2);
  }

  /** Close the socket while the tab is hidden; start afresh when it is visible again. */
  suspend() {
    if (this.stopped || this.state === 'paused') return;
    clearTimeout(this.retryTimer);
    this.closeSocket();
    this.teardownMedia();
    this.setState('paused');
  }

  resume() {
    if (this.stopped || this.state !== 'paused') return;
    this.backoff = BACKOFF_MIN;
    this.connect();
  }

  /** After a media error: drop everything and start over through the backoff. */
  restart(why) {
    console.warn(`live ${this.deviceId}: ${why}; restarting`);
    this.counters.rebuilds++;
    this.teardownMedia();
    const ws = this.ws;
    if (ws) this.onSocketGone(ws); else if (!this.retryTimer && !this.stopped) this.connect();
  }

  /* ---------- messages ---------- */

  onMessage(data) {
    if (typeof data === 'string') {
      let msg;
      try { msg = JSON.parse(data); } catch { return; }
      if (msg.type === 'init') this.pendingInit = msg;
      else if (msg.type === 'stats') this.hubStats = msg;
      return;
    }
    if (data.byteLength < 9) return;
    const head = new DataView(data, 0, 9);
    const kind = head.getUint8(0);
    const captureUs = head.getUint32(1) * 2 ** 32 + head.getUint32(5);
    const body = new Uint8Array(data, 9);
    if (kind === KIND_INIT) this.onInit(body);
    else if (kind === KIND_VIDEO || kind === KIND_AUDIO) this.onFragment(kind, captureUs, body);
  }

  onInit(body) {
    const info = this.pendingInit || {};
    this.pendingInit = null;
    const mime = info.mime || (this.media && this.media.mime);
    if (!mime) return;
    this.hook.mime = mime;
    // Same track list: append the new init segment as is (a resolution
    // change). Another list (audio came or went): rebuild the MediaSource.
    if (!this.media || this.media.mime !== mime) {
      if (!this.buildMedia(mime)) return;
    }
    this.tracks = parseInit(body);
    this.queue.push({ kind: KIND_INIT, data: body });
    this.pump();
  }

  onFragment(kind, captureUs, body) {
    if (!this.media || !this.tracks) return;
    const frag = parseFragment(body);
    const track = frag && this.tracks.get(frag.trackId);
    if (!track) return;
    const raw = frag.baseTime / track.timescale;
    if (kind === KIND_VIDEO) {
      const t = raw + this.offset;
      const last = this.lastVideoEnd;
      // A new connection, or a timeline that went back (hub restart) or far
      // ahead: map this frame just after the newest one we have.
      if (last !== null && (this.needRemap || t < last - 0.5 || t > last + 5)) this.offset = last + REMAP_GAP - raw;
      this.needRemap = false;
      const start = raw + this.offset;
      this.lastVideoEnd = start + frag.duration / track.timescale;
      this.lastVideoCaptureMs = captureUs / 1000;
      this.lastVideoAt = performance.now();
      this.captureByTime.set(Math.round(start * 1000), captureUs / 1000);
      if (this.captureByTime.size > 900) this.captureByTime.delete(this.captureByTime.keys().next().value);
      this.counters.videoBytes += body.byteLength;
      this.counters.videoFrames++;
      if (this.settling) this.noteBurst(captureUs);
    } else if (this.needRemap) {
      return;   // audio before the connection's first video frame has no place yet
    }
    this.queue.push({ kind, data: body, offset: this.offset });
    this.pump();
  }

  /* The hub sends init + the cached GOP at once, then frames in real time.
   * The burst is over when a frame is fresh by the clock, or when nothing
   * arrived for 20 ms. Only then jump to the live edge (one seek, not many). */
  noteBurst(captureUs) {
    clearTimeout(this.burstTimer);
    const done = () => { this.settling = false; this.control(false); };
    if (Date.now() - captureUs / 1000 < 150) { this.burstTimer = null; done(); return; }
    this.burstTimer = setTimeout(done, 20);
  }

  /* ---------- MediaSource ---------- */

  buildMedia(mime) {
    this.teardownMedia();
    const MS = window.MediaSource || window.ManagedMediaSource;
    const type = supportedMime(mime, MS);
    if (!type) {
      this.fatal = true;   // retrying would not help
      this.closeSocket();
      this.setState('error', `This browser cannot play ${mime}`);
      return false;
    }
    const ms = new MS();
    const url = URL.createObjectURL(ms);
    const media = { ms, sb: null, url, mime, type };
    this.media = media;
    this.offset = 0;
    this.lastVideoEnd = null;
    this.started = false;
    this.quotaErrors = 0;
    ms.addEventListener('sourceopen', () => {
      if (this.media !== media) return;
      URL.revokeObjectURL(url);
      media.url = null;
      try {
        media.sb = ms.addSourceBuffer(type);
        media.sb.mode = 'segments';
      } catch (e) {
        this.setState('error', `Cannot play ${type}: ${e.message}`);
        return;
      }
      media.sb.addEventListener('updateend', () => { this.pump(); this.control(false); });
      media.sb.addEventListener('error', () => this.restart('SourceBuffer error'));
      this.pump();
    }, { once: true });
    this.video.src = url;
    return true;
  }

  teardownMedia() {
    const media = this.media;
    this.media = null;
    this.queue = [];
    this.removeRange = null;
    this.tracks = null;
    this.lastVideoEnd = null;
    this.started = false;
    this.behind = [];
    this.captureByTime.clear();
    if (!media) return;
    if (media.url) URL.revokeObjectURL(media.url);
    this.video.removeAttribute('src');
    this.video.load();   // releases the MediaSource, shows the poster again
  }

  /** Append queued fragments (several at once when they queue up), or run a removal. */
  pump() {
    const media = this.media;
    const sb = media && media.sb;
    if (!sb || sb.updating || media.ms.readyState !== 'open') return;
    if (this.removeRange) {
      const [from, to] = this.removeRange;
      this.removeRange = null;
      if (to > from) { sb.remove(from, to); return; }
    }
    if (!this.queue.length) return;
    const first = this.queue[0];
    let n = 1;
    let size = first.data.byteLength;
    if (first.kind !== KIND_INIT) {
      if (sb.timestampOffset !== first.offset) sb.timestampOffset = first.offset;
      while (n < this.queue.length && this.queue[n].kind !== KIND_INIT && this.queue[n].offset === first.offset &&
             size < COALESCE_BYTES) size += this.queue[n++].data.byteLength;
    }
    const data = n === 1 ? first.data : concat(this.queue.slice(0, n).map((q) => q.data));
    try {
      sb.appendBuffer(data);
      this.queue.splice(0, n);
      this.quotaErrors = 0;
    } catch (e) {
      if (e.name !== 'QuotaExceededError') { this.restart(`appendBuffer: ${e.message}`); return; }
      // Full: evict everything well behind the playhead and retry after it.
      const t = this.video.currentTime;
      const from = sb.buffered.length ? sb.buffered.start(0) : 0;
      if (++this.quotaErrors > 3 || t - 1 <= from) { this.restart('buffer full'); return; }
      this.removeRange = [from, t - 1];
      setTimeout(() => this.pump(), 0);
    }
  }

  bufferedEnd() {
    const b = this.video.buffered;
    return b.length ? b.end(b.length - 1) : null;
  }

  /* ---------- latency control ---------- */

  control(periodic) {
    const media = this.media;
    const v = this.video;
    if (!media || !media.sb || this.settling) return;
    const b = v.buffered;
    if (!b.length) return;
    const start = b.start(b.length - 1);
    const end = b.end(b.length - 1);
    const now = performance.now();
    if (!this.started) {
      if (this.queue.length || media.sb.updating) return;
      this.started = true;
      this.jump(start, end);
      this.play();
      return;
    }
    const t = v.currentTime;
    const behind = end - t;
    const stuck = !v.paused && !v.seeking && this.lastT === t && now - this.lastTAt > 500 && behind > 0.1;
    if (this.lastT !== t) { this.lastT = t; this.lastTAt = now; }
    if (behind > this.tuning.jump || t < start - 0.02 || stuck) {
      if (!v.seeking) this.jump(start, end);
      return;
    }
    if (!periodic) return;
    this.behind.push(behind);
    if (this.behind.length > 10) this.behind.shift();
    if (this.tuning.adapt && now - (this.calmSince || 0) > 5000) {
      this.calmSince = now;
      this.target = Math.max(this.tuning.min, this.target - 0.005);
    }
    if (this.behind.length >= 5 && this.tuning.maxRate > this.tuning.minRate) {
      // Average over the last second (the buffer saw-tooths by a frame
      // period); outside a 15 ms dead band, steer by 1 % per 10 ms of error.
      const error = this.behind.reduce((sum, x) => sum + x, 0) / this.behind.length - this.target;
      const rate = Math.abs(error) > 0.015
        ? Math.min(this.tuning.maxRate, Math.max(this.tuning.minRate, 1 + Math.round(error * 100) / 100)) : 1;
      if (v.playbackRate !== rate) v.playbackRate = rate;
    }
    // Keep ~10 s behind the playhead.
    if (!this.removeRange && b.start(0) < t - KEEP_SECONDS - 2) {
      this.removeRange = [b.start(0), t - KEEP_SECONDS];
      this.pump();
    }
  }

  jump(start, end) {
    const to = Math.max(start, end - this.target);
    if (Math.abs(this.video.currentTime - to) < 0.01) return;
    this.video.currentTime = to;
    this.counters.jumps++;
    this.behind = [];
    if (this.video.playbackRate !== 1) this.video.playbackRate = 1;
  }

  play() {
    const p = this.video.play();
    if (p && typeof p.catch === 'function') {
      p.catch((e) => { if (e.name === 'NotAllowedError' && this.onBlocked) this.onBlocked(); });
    }
  }

  /* ---------- presented frames ---------- */

  onPresented(f) {
    if (!this.media) return;
    this.counters.presented++;
    const now = performance.now();
    let captureMs = null;
    let est = false;
    if (f.stamp) {
      captureMs = f.stamp.captureMs;
    } else if (typeof f.mediaTime === 'number') {
      captureMs = this.captureByTime.get(Math.round(f.mediaTime * 1000)) ?? null;
      est = true;
    }
    if (captureMs !== null) {
      this.latencies.push({ at: now, ms: f.presentedMs - captureMs, est });
      if (this.latencies.length > 120) this.latencies.splice(0, this.latencies.length - 120);
    }
    this.hook.addFrame(f.stamp ? f.stamp.sequence : null, captureMs, f.presentedMs);
    if (this.hook.firstFrameMs === null) this.hook.firstFrameMs = f.presentedMs;
    this.backoff = BACKOFF_MIN;
    if (this.state !== 'live') this.setState('live');
  }

  /* ---------- state and stats ---------- */

  setState(state, message) {
    if (this.state === state && !message) return;
    this.state = state;
    this.hook.state = state;
    if (this.onStateChange) this.onStateChange(state, message);
  }

  emitStats() {
    const now = performance.now();
    this.history.push({ at: now, ...this.counters });
    while (this.history.length > 8) this.history.shift();
    // No video for 3 s on an open socket: the doorbell is away or stalled.
    if (this.state === 'live' && now - (this.lastVideoAt || 0) > 3000) this.setState('waiting');
    const stats = this.getStats();
    const c = this.counters;
    this.hook.stats = { jumps: c.jumps, underflows: c.underflows, reconnects: c.reconnects, rebuilds: c.rebuilds,
      targetMs: Math.round(stats.targetMs), bufferMs: stats.bufferMs === null ? null : Math.round(stats.bufferMs),
      dropped: stats.dropped, skipped: stats.skipped };
    if (this.onStats) this.onStats(stats);
  }
}
