// Low-latency live view player (SPEC §5, docs/api.md "Live view"): reads the
// hub's per-frame fMP4 from wss://HOST/api/v1/devices/{id}/live into one MSE
// SourceBuffer ("segments" mode) and plays a small, explicit distance behind
// the newest frame (policy and measurements in latency.js). Reconnects by
// itself with backoff (0.5 s doubling to 10 s), keeping its MediaSource:
// each new connection's timeline is mapped (timestampOffset) just after what
// is buffered, so a hub restart that starts its timeline over does not
// matter. Closes while the tab is hidden. Records presented frames for the
// stats overlay and the tests (hook.js).

import { parseInit, parseFragment, supportedMime, concat } from './media.js';
import { FrameMonitor } from './stamp.js';
import { registerPlayer } from './hook.js';
import { LatencyController } from './latency.js';

const KIND_INIT = 1;
const KIND_VIDEO = 2;
const KIND_AUDIO = 3;
const KEEP_SECONDS = 10;            // buffer kept behind the playhead
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 10000;
const COALESCE_BYTES = 1 << 20;     // queued fragments are appended together up to this
const REMAP_GAP = 0.1;              // s between the old and a remapped timeline

export class LivePlayer {
  /**
   * video: the <video>; deviceId; onStats(stats) 4 times a second;
   * onState(state, message?): connecting | live | waiting | reconnecting |
   * paused | stopped | error; onBlocked(): play() needs a click.
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
    this.media = null;              // { ms, url, sb, mime, type }
    this.queue = [];                // { kind, data, offset }
    this.removeRange = null;
    this.latency = new LatencyController(video, window.doorstepLiveTuning);
    this.counters = { videoBytes: 0, videoFrames: 0, presented: 0, jumps: 0, underflows: 0, reconnects: 0, rebuilds: 0 };
    this.hubStats = null;
    this.latencies = [];            // { at, ms, est } of recently presented frames
    this.captureByTime = new Map(); // media time (ms) -> capture time (ms) from the headers
    this.history = [];              // counter snapshots, for rates
    video.muted = true;
    video.playsInline = true;
    video.disableRemotePlayback = true;   // ManagedMediaSource requires it (or an AirPlay source)
    this.monitor = new FrameMonitor(video, (f) => this.onPresented(f));
    this.onVisibility = () => (document.visibilityState === 'visible' ? this.resume() : this.suspend());
    this.onWaiting = () => {
      if (this.started && !this.settling && this.latency.underflow()) this.counters.underflows++;
    };
    this.onError = () => { if (this.media) this.restart(`media error ${video.error && video.error.message}`); };
    document.addEventListener('visibilitychange', this.onVisibility);
    video.addEventListener('waiting', this.onWaiting);
    video.addEventListener('error', this.onError);
    this.tick = setInterval(() => this.control(true), 100);
    this.statsTick = setInterval(() => this.emitStats(), 250);
    this.monitor.start();
    if (document.visibilityState === 'visible') this.connect(); else this.setState('paused');
  }

  /* ---------- public ---------- */

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

  /** Figures for the stats overlay. */
  getStats() {
    const now = performance.now();
    const v = this.video;
    const recent = this.latencies.filter((l) => now - l.at < 1000);
    const median = (list) => { const s = list.map((l) => l.ms).sort((a, b) => a - b); return s.length ? s[s.length >> 1] : null; };
    let latencyMs = median(recent.filter((l) => !l.est));
    let estimated = false;
    if (latencyMs === null) {
      latencyMs = median(recent);
      if (latencyMs === null && this.lastVideoCaptureMs && this.state === 'live') latencyMs = Date.now() - this.lastVideoCaptureMs;
      estimated = latencyMs !== null;
    }
    const old = this.history.find((s) => now - s.at <= 1100);
    const span = old ? (now - old.at) / 1000 : 0;
    const rate = (key) => (span > 0.2 ? (this.counters[key] - old[key]) / span : null);
    const quality = typeof v.getVideoPlaybackQuality === 'function' ? v.getVideoPlaybackQuality() : null;
    const end = this.bufferedEnd();
    const bitrate = rate('videoBytes');
    return {
      state: this.state, latencyMs, estimated,
      bitrateKbps: bitrate === null ? null : (bitrate * 8) / 1000,
      fps: this.counters.presented ? rate('presented') : rate('videoFrames'),
      dropped: quality ? quality.droppedVideoFrames : (v.webkitDroppedFrameCount ?? null),
      skipped: this.hubStats ? this.hubStats.skipped_frames : null,
      bufferMs: end === null || !this.started ? null : Math.max(0, (end - v.currentTime) * 1000),
      targetMs: this.latency.target * 1000,
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
    this.needRemap = true;    // this connection's timeline goes after what we have
    this.settling = true;     // no jumps until the cached GOP is in
    ws.onmessage = (e) => this.onMessage(e.data);
    ws.onclose = () => this.onSocketGone(ws);
    ws.onerror = () => this.onSocketGone(ws);
    this.ensureMediaSource();   // attach it now: sourceopen is done before the init segment arrives
  }

  closeSocket() {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(1000); } catch { /* already closed */ }
  }

  onSocketGone(ws) {
    if (ws !== this.ws) return;
    this.closeSocket();
    if (this.stopped || this.fatal || this.state === 'paused') return;
    this.counters.reconnects++;
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(BACKOFF_MAX, this.backoff * 2);
  }

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

  /** After a media error: drop the MediaSource and reconnect through the backoff. */
  restart(why) {
    console.warn(`live view of ${this.deviceId}: ${why}; starting over`);
    this.counters.rebuilds++;
    this.teardownMedia();
    if (this.ws) this.onSocketGone(this.ws);
    else if (!this.retryTimer) this.connect();
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
    const mime = (this.pendingInit && this.pendingInit.mime) || (this.media && this.media.mime);
    this.pendingInit = null;
    if (!mime) return;
    this.hook.mime = mime;
    // The same tracks: append the new init segment as is (new resolution).
    // Other tracks (audio came or went): a new MediaSource.
    if (this.media && this.media.mime && this.media.mime !== mime) this.teardownMedia();
    const media = this.ensureMediaSource();
    if (!media.mime) {
      media.mime = mime;
      media.type = supportedMime(mime, window.MediaSource || window.ManagedMediaSource);
      if (!media.type) {
        this.fatal = true;    // retrying cannot help
        this.closeSocket();
        this.setState('error', `This browser cannot play ${mime}.`);
        return;
      }
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
      const last = this.lastVideoEnd;
      const t = raw + this.offset;
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
      return;   // audio before this connection's first video frame: no place for it yet
    }
    this.queue.push({ kind, data: body, offset: this.offset });
    this.pump();
  }

  /* The hub sends init + the cached GOP at once, then frames as they come.
   * The burst is over when a frame is fresh by the clock (< 150 ms old), or
   * when nothing arrived for 20 ms; then one jump to the live edge. */
  noteBurst(captureUs) {
    clearTimeout(this.burstTimer);
    const done = () => { this.burstTimer = null; this.settling = false; this.control(false); };
    if (Date.now() - captureUs / 1000 < 150) done();
    else this.burstTimer = setTimeout(done, 20);
  }

  /* ---------- MediaSource ---------- */

  ensureMediaSource() {
    if (this.media) return this.media;
    const MS = window.MediaSource || window.ManagedMediaSource;   // iOS Safari: Managed only
    const ms = new MS();
    const media = { ms, url: URL.createObjectURL(ms), sb: null, mime: null, type: null };
    this.media = media;
    this.offset = 0;
    this.lastVideoEnd = null;
    this.started = false;
    this.quotaErrors = 0;
    ms.addEventListener('sourceopen', () => {
      if (media.url) { URL.revokeObjectURL(media.url); media.url = null; }
      if (this.media === media) this.pump();
    }, { once: true });
    this.video.src = media.url;
    return media;
  }

  teardownMedia() {
    const media = this.media;
    this.media = null;
    this.queue = [];
    this.removeRange = null;
    this.tracks = null;
    this.lastVideoEnd = null;
    this.started = false;
    this.captureByTime.clear();
    if (!media) return;
    if (media.url) URL.revokeObjectURL(media.url);
    this.video.removeAttribute('src');
    this.video.load();   // detaches the MediaSource; the poster shows again
  }

  /** Append what is queued (consecutive fragments in one call), or run a pending removal. */
  pump() {
    const media = this.media;
    if (!media || media.ms.readyState !== 'open') return;
    if (!media.sb) {
      if (!media.type) return;
      try {
        media.sb = media.ms.addSourceBuffer(media.type);
        media.sb.mode = 'segments';
      } catch (e) {
        this.fatal = true;
        this.closeSocket();
        this.setState('error', `Cannot play ${media.type}: ${e.message}`);
        return;
      }
      media.sb.addEventListener('updateend', () => { this.pump(); this.control(false); });
      media.sb.addEventListener('error', () => this.restart('SourceBuffer error'));
    }
    const sb = media.sb;
    if (sb.updating) return;
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
    try {
      sb.appendBuffer(n === 1 ? first.data : concat(this.queue.slice(0, n).map((q) => q.data)));
      this.queue.splice(0, n);
      this.quotaErrors = 0;
    } catch (e) {
      if (e.name !== 'QuotaExceededError') { this.restart(`appendBuffer: ${e.message}`); return; }
      // Full: evict all but the last second before the playhead, then retry.
      const t = this.video.currentTime;
      const from = sb.buffered.length ? sb.buffered.start(0) : 0;
      if (++this.quotaErrors > 3 || t - 1 <= from) { this.restart('the buffer is full'); return; }
      this.removeRange = [from, t - 1];
      setTimeout(() => this.pump(), 0);
    }
  }

  bufferedEnd() {
    const b = this.video.buffered;
    return b.length ? b.end(b.length - 1) : null;
  }

  /* ---------- playback position ---------- */

  /** After every append and every 100 ms (periodic): start, jump, steer, evict. */
  control(periodic) {
    const media = this.media;
    const v = this.video;
    if (!media || !media.sb || this.settling) return;
    const b = v.buffered;
    if (!b.length) return;
    const start = b.start(b.length - 1);
    const end = b.end(b.length - 1);
    if (!this.started) {
      if (this.queue.length || media.sb.updating) return;
      this.started = true;
      this.jump(start, end);
      this.play();
      return;
    }
    if (this.latency.update(start, end, periodic)) { this.jump(start, end); return; }
    if (periodic && !this.removeRange && b.start(0) < v.currentTime - KEEP_SECONDS - 2) {
      this.removeRange = [b.start(0), v.currentTime - KEEP_SECONDS];
      this.pump();
    }
  }

  jump(start, end) {
    const to = this.latency.jumpTime(start, end);
    if (Math.abs(this.video.currentTime - to) < 0.01) return;
    this.video.currentTime = to;
    this.counters.jumps++;
    this.latency.jumped();
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
    let captureMs = null;
    let est = false;
    if (f.stamp) {
      captureMs = f.stamp.captureMs;
    } else if (typeof f.mediaTime === 'number') {
      // No stamp (a real camera): the hub's capture time of this frame.
      captureMs = this.captureByTime.get(Math.round(f.mediaTime * 1000)) ?? null;
      est = true;
    }
    if (captureMs !== null) {
      this.latencies.push({ at: performance.now(), ms: f.presentedMs - captureMs, est });
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
