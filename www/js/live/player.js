// Low-latency live view player (docs/api.md "Live view"): reads the
// hub's per-frame fMP4 from wss://HOST/api/v1/devices/{id}/live into one MSE
// SourceBuffer ("segments" mode) and plays a small, explicit distance behind
// the newest frame (policy and measurements in latency.js; MSE in sink.js).
// While muted it feeds MSE only the video track (a video-only copy of the
// init segment; audio fragments skipped): with audio the audio renderer
// drives the clock and needs twice the buffer. Sound, when unmuted: where
// WebCodecs AudioDecoder and AudioWorklet exist, the Opus packets are taken
// out of the audio fragments and played by sound.js (a small worklet queue,
// lip-synced to the presented video), and MSE keeps the video alone with
// its low-latency policy; elsewhere (or when that fails to start) unmuting
// reopens the stream with the audio track in MSE.
// Quality (docs/api.md "Live view"): each viewer chooses the doorbell's main
// stream, its sub-stream, or auto (this page says which it prefers for its
// size: setQuality); the hub moves the viewer at the target's next keyframe
// and announces it with a new init segment, which goes into the same
// SourceBuffer (changeType when the codec string differs): no new
// MediaSource, no gap.
// Reconnects by itself with backoff (0.5 s doubling to 10 s), keeping its
// MediaSource: each connection's timeline is mapped (timestampOffset) just
// after what is buffered, so a hub restart that starts its timeline over
// does not matter. Closes while the tab is hidden. Records presented frames
// for the stats overlay (stats.js) and the tests (hook.js).

import { parseInit, parseFragment, supportedMime, videoOnlyInit, videoOnlyMime, hasAudio, fragmentSamples, audioChannelsFromInit } from './media.js';
import { LiveSound, liveSoundSupported } from './sound.js';
import { MediaSink } from './sink.js';
import { FrameMonitor } from './stamp.js';
import { registerPlayer } from './hook.js';
import { LatencyController } from './latency.js';
import { PlayerStats } from './stats.js';

const KIND_INIT = 1;
const KIND_VIDEO = 2;
const KIND_AUDIO = 3;
const KEEP_SECONDS = 10;            // buffer kept behind the playhead
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 10000;
const REMAP_GAP = 0.1;              // s between the old and a remapped timeline
const VIDEO_LATENCY_WINDOW = 30;    // presented frames in the median the sound is synced to
const DISCONTINUITY = 1.8;          // frame durations between two frames' starts that MSE still takes as one run (it allows 2)

export class LivePlayer {
  /**
   * video: the <video>; deviceId; onStats(stats) 4 times a second;
   * onState(state, message?): connecting | live | waiting | reconnecting |
   * paused | stopped | error; onBlocked(): play() needs a click.
   */
  constructor(video, { deviceId, onStats = null, onState = null, onBlocked = null, quality = 'auto', prefer = null, onStream = null } = {}) {
    this.video = video;
    this.deviceId = deviceId;
    this.quality = quality;         // 'auto' | 'main' | 'sub'
    this.prefer = prefer;           // auto: 'main' | 'sub' | null (the hub's default)
    this.onStream = onStream;       // ({ stream, reason, quality, switching }) when the hub says what we get
    this.onStats = onStats;
    this.onStateChange = onState;
    this.onBlocked = onBlocked;
    this.hook = registerPlayer(deviceId);
    this.state = null;
    this.stopped = false;
    this.ws = null;
    this.backoff = BACKOFF_MIN;
    this.retryTimer = null;
    this.media = null;              // the MediaSink, one per MediaSource
    this.withAudio = false;         // feed the audio track to MSE (only when unmuted, on the 'mse' path)
    this.soundPath = liveSoundSupported() ? 'webcodecs' : 'mse';
    this.sound = null;              // the LiveSound while unmuted on the 'webcodecs' path
    this.audioChannels = 0;         // of the stream's sound track (its init segment)
    this.videoLatencies = [];       // the last presented frames' glass-to-glass (ms)
    this.hook.soundPath = this.soundPath;
    this.hook.sound = null;
    this.hook.quality = quality;
    this.hook.stream = null;        // 'main' | 'sub': what the last init segment started
    this.hook.streams = [];         // every init: { stream, reason, width, height, mime, atMs }
    this.hook.mediaSources = 0;     // MediaSources made: a stream switch makes none
    this.hook.changeTypes = 0;
    this.latency = new LatencyController(video, window.doorstepLiveTuning);
    this.stats = new PlayerStats();
    this.counters = this.stats.counters;
    this.captureByTime = new Map(); // media time (ms) -> capture time (ms) from the headers
    this.arrivalByTime = new Map(); // media time (ms) -> when its message arrived (ms, wall clock)
    video.muted = true;
    video.playsInline = true;
    video.disableRemotePlayback = true;   // ManagedMediaSource requires it (or an AirPlay source)
    this.monitor = new FrameMonitor(video, (f) => this.onPresented(f));
    this.onVisibility = () => (document.visibilityState === 'visible' ? this.resume() : this.suspend());
    this.onWaiting = () => {
      if (!this.started || this.settling) return;
      const end = this.bufferedEnd();
      const kind = this.latency.underflow(end === null ? 0 : end - video.currentTime, this.lastVideoDuration || 1 / 30);
      if (kind === 'underflow') this.counters.underflows++;
      else if (kind === 'stall') this.counters.stalls++;
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
    this.stopSound();
    this.monitor.stop();
    this.setState('stopped');
  }

  /**
   * This viewer's quality: 'auto' (prefer: 'main' | 'sub', what suits the
   * picture's size), 'main' or 'sub'. Told to the hub on the open socket
   * (and in the URL of the next one); nobody else's stream changes.
   */
  setQuality(quality, prefer = this.prefer) {
    if (quality === this.quality && prefer === this.prefer) return;
    this.quality = quality;
    this.prefer = prefer;
    this.hook.quality = quality;
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(this.qualityMessage()));
  }

  qualityMessage() {
    return this.quality === 'auto' && this.prefer ? { quality: 'auto', prefer: this.prefer } : { quality: this.quality };
  }

  /** Mute/unmute; the first unmute of a stream with sound reopens it with its audio track. */
  setMuted(muted) {
    this.video.muted = muted;
    if (this.soundPath === 'webcodecs') {
      if (muted) this.stopSound(); else this.startSound();
      this.hook.audio = !muted && !!this.streamHasAudio;
      if (!muted && this.video.paused && this.started) this.play();
      return;
    }
    if (this.withAudio !== !muted) {
      this.withAudio = !muted;
      if (this.streamHasAudio && this.media && !this.stopped && this.state !== 'paused') this.reopen();
    }
    if (!muted && this.video.paused && this.started) this.play();
  }

  /** Unmuted on the 'webcodecs' path: a LiveSound (from the click, so its AudioContext may start). */
  startSound() {
    if (this.sound) return;
    const report = {};
    this.hook.sound = report;
    this.sound = new LiveSound({ channels: this.audioChannels || 1, report, onFail: (why) => this.soundFailed(why) });
  }

  stopSound() {
    const sound = this.sound;
    this.sound = null;
    if (sound) sound.stop();
  }

  /** WebCodecs sound cannot start here: sound through MSE from now on. */
  soundFailed(why) {
    if (this.soundPath !== 'webcodecs') return;
    console.warn(`live view of ${this.deviceId}: sound over WebCodecs: ${why}; using MSE`);
    this.stopSound();
    this.soundPath = 'mse';
    this.hook.soundPath = 'mse';
    this.hook.audio = false;
    this.setMuted(this.video.muted);
  }

  /** Start over at once with a fresh connection (new track set); the last picture stays as poster. */
  reopen() {
    const v = this.video;
    if (v.videoWidth && v.readyState >= 2) {
      try {
        const canvas = document.createElement('canvas');
        canvas.width = v.videoWidth;
        canvas.height = v.videoHeight;
        canvas.getContext('2d').drawImage(v, 0, 0);
        v.poster = canvas.toDataURL('image/jpeg', 0.85);
      } catch { /* keep the old poster */ }
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.closeSocket();
    this.teardownMedia();
    this.backoff = BACKOFF_MIN;
    this.connect();
  }

  /* ---------- connection ---------- */

  connect() {
    if (this.stopped || this.fatal || this.ws) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState(this.counters.reconnects ? 'reconnecting' : 'connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = new URLSearchParams(this.qualityMessage());
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/devices/${encodeURIComponent(this.deviceId)}/live?${query}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.pendingInit = null;
    this.needRemap = true;    // this connection's timeline goes after what we have
    this.settling = true;     // no jumps until the cached GOP is in
    this.socketOpenAt = 0;
    ws.onopen = () => { this.socketOpenAt = performance.now(); };
    ws.onmessage = (e) => this.onMessage(e.data);
    ws.onclose = () => this.onSocketGone(ws);
    ws.onerror = () => this.onSocketGone(ws);
    this.ensureMediaSource();   // attach it now: sourceopen is done before the init segment arrives
  }

  closeSocket() {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
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
    const arrivedMs = Date.now();
    if (typeof data === 'string') {
      let msg;
      try { msg = JSON.parse(data); } catch { return; }
      if (msg.type === 'init') {
        this.pendingInit = msg;
        if (msg.stream) {
          this.hook.stream = msg.stream;
          this.hook.streams.push({ stream: msg.stream, reason: msg.reason || null, width: msg.width, height: msg.height, mime: msg.mime, atMs: Date.now() });
          if (this.hook.streams.length > 50) this.hook.streams.shift();
          if (this.onStream) this.onStream({ stream: msg.stream, reason: msg.reason || null, quality: this.quality, switching: false });
        }
      } else if (msg.type === 'quality') {
        this.hook.answer = msg;
        if (this.onStream) this.onStream({ stream: msg.stream, reason: msg.reason, quality: msg.quality, switching: msg.switching });
      } else if (msg.type === 'stats') this.stats.hub = msg;
      return;
    }
    if (data.byteLength < 9) return;
    const head = new DataView(data, 0, 9);
    const kind = head.getUint8(0);
    const captureUs = head.getUint32(1) * 2 ** 32 + head.getUint32(5);
    const body = new Uint8Array(data, 9);
    if (kind === KIND_INIT) this.onInit(body);
    else if (kind === KIND_VIDEO || kind === KIND_AUDIO) this.onFragment(kind, captureUs, body, arrivedMs);
  }

  onInit(body) {
    const full = (this.pendingInit && this.pendingInit.mime) || this.streamMime;
    this.pendingInit = null;
    if (!full) return;
    this.streamMime = full;
    this.hook.mime = full;
    this.streamHasAudio = hasAudio(full);
    this.audioChannels = audioChannelsFromInit(body);
    if (this.sound) this.sound.setChannels(this.audioChannels);
    const MS = window.MediaSource || window.ManagedMediaSource;
    // Sound only when unmuted and playable here; otherwise the video track alone.
    const av = this.streamHasAudio && this.withAudio && supportedMime(full, MS) !== null;
    const mime = av || !this.streamHasAudio ? full : videoOnlyMime(full);
    const init = av || !this.streamHasAudio ? body : videoOnlyInit(body);
    this.hook.audio = av || (this.soundPath === 'webcodecs' && this.sound !== null && this.streamHasAudio);
    this.hook.mseAudio = av;
    // The same tracks: append the new init segment as is (new resolution),
    // through changeType when the codec string differs (the other stream of
    // the doorbell). Other tracks (audio came or went), or a browser without
    // changeType: a new MediaSource.
    if (this.media && this.media.mime && this.media.mime !== mime) {
      const type = supportedMime(mime, MS);
      if (hasAudio(mime) === hasAudio(this.media.mime) && type && MediaSink.canChangeType() && this.media.ready) {
        this.tracks = parseInit(init);
        this.hook.changeTypes++;
        this.media.appendChangedType(init, mime, type);
        return;
      }
      this.teardownMedia();
    }
    const media = this.ensureMediaSource();
    if (!media.mime) {
      media.mime = mime;
      media.type = supportedMime(mime, MS);
      this.latency.setAudio(av);
      if (!media.type) { this.fail(`This browser cannot play ${mime}.`, true); return; }
    }
    this.tracks = parseInit(init);
    media.append(init);
  }

  onFragment(kind, captureUs, body, arrivedMs) {
    if (kind === KIND_AUDIO && this.soundPath === 'webcodecs') {
      // One Opus packet per fragment (docs/api.md); played by sound.js, never by MSE.
      if (this.sound) for (const packet of fragmentSamples(body)) this.sound.push(packet, captureUs);
      return;
    }
    if (!this.media || !this.tracks) return;
    const frag = parseFragment(body);
    const track = frag && this.tracks.get(frag.trackId);
    if (!track) return;   // e.g. audio while muted
    const raw = frag.baseTime / track.timescale;
    if (kind === KIND_VIDEO) {
      const last = this.lastVideoEnd;
      const t = raw + this.offset;
      // A new connection, or a timeline that went back (hub restart) or far
      // ahead: map this frame just after the newest one we have.
      if (last !== null && (this.needRemap || t < last - 0.5 || t > last + 5)) {
        this.offset = last + REMAP_GAP - raw;
      } else if (last !== null && t - this.lastVideoStart > DISCONTINUITY * this.lastVideoDuration) {
        // A capture gap (the doorbell or the hub missed frames). MSE takes a
        // decode time more than twice the previous frame's duration after it
        // for a discontinuity and drops every frame up to the next keyframe
        // (up to a GOP of stutter): close the gap to half a frame instead.
        this.offset -= t - (last + this.lastVideoDuration / 2);
        this.counters.gapsClosed++;
      }
      this.needRemap = false;
      const start = raw + this.offset;
      this.lastVideoStart = start;
      this.lastVideoDuration = Math.max(0.001, frag.duration / track.timescale);
      this.lastVideoEnd = start + this.lastVideoDuration;
      this.lastVideoCaptureMs = captureUs / 1000;
      this.lastVideoAt = performance.now();
      this.captureByTime.set(Math.round(start * 1000), captureUs / 1000);
      if (this.captureByTime.size > 900) this.captureByTime.delete(this.captureByTime.keys().next().value);
      this.arrivalByTime.set(Math.round(start * 1000), arrivedMs);
      if (this.arrivalByTime.size > 900) this.arrivalByTime.delete(this.arrivalByTime.keys().next().value);
      this.counters.videoBytes += body.byteLength;
      this.counters.videoFrames++;
      if (this.settling) this.noteBurst(captureUs);
    } else if (this.needRemap) {
      return;   // audio before this connection's first video frame: no place for it yet
    } else {
      // Audio never goes back (a closed video gap moved the offset back): a
      // decode time before the previous one is a discontinuity for MSE too.
      const start = frag.baseTime / track.timescale + this.offset;
      if (this.lastAudioEnd !== null && start < this.lastAudioEnd - 0.002) return;
      this.lastAudioEnd = start + frag.duration / track.timescale;
    }
    this.media.append(body, this.offset);
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
    this.hook.mediaSources++;
    this.media = new MediaSink(this.video, {
      onUpdate: () => this.control(false),
      onFail: (reason, fatal) => this.fail(reason, fatal),
    });
    this.offset = 0;
    this.lastVideoEnd = null;
    this.lastAudioEnd = null;
    this.started = false;
    return this.media;
  }

  teardownMedia() {
    const media = this.media;
    this.media = null;
    this.tracks = null;
    this.lastVideoEnd = null;
    this.started = false;
    this.captureByTime.clear();
    this.arrivalByTime.clear();
    if (media) media.close();
  }

  /** The MediaSink gave up: start over through the backoff, or stop for good. */
  fail(reason, fatal) {
    if (fatal) {
      this.fatal = true;    // retrying cannot help
      this.closeSocket();
      this.teardownMedia();
      this.setState('error', reason);
      return;
    }
    this.restart(reason);
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
    if (!media || !media.ready || this.settling) return;
    const b = v.buffered;
    if (!b.length) return;
    const start = b.start(b.length - 1);
    const end = b.end(b.length - 1);
    if (!this.started) {
      if (media.busy) return;
      this.started = true;
      this.jump(start, end);
      this.play();
      return;
    }
    if (this.latency.update(start, end, periodic)) { this.jump(start, end); return; }
    if (periodic && b.start(0) < v.currentTime - KEEP_SECONDS - 2) media.remove(b.start(0), v.currentTime - KEEP_SECONDS);
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
      this.stats.latency(f.presentedMs - captureMs, est);
      this.videoLatencies.push(f.presentedMs - captureMs);
      if (this.videoLatencies.length > VIDEO_LATENCY_WINDOW) this.videoLatencies.shift();
      if (this.sound) {
        const sorted = [...this.videoLatencies].sort((a, b) => a - b);
        this.sound.setVideoLatency(sorted[(sorted.length - 1) >> 1]);
      }
    }
    // With what the browser and the player did so far, so a test can tell a
    // frame lost from frames the compositor showed between two callbacks,
    // frames the browser dropped, and frames a jump skipped.
    const quality = typeof this.video.getVideoPlaybackQuality === 'function' ? this.video.getVideoPlaybackQuality() : null;
    this.hook.addFrame(f.stamp ? f.stamp.sequence : null, captureMs, f.presentedMs, {
      mediaTime: f.mediaTime ?? null,
      arrivedMs: typeof f.mediaTime === 'number' ? this.arrivalByTime.get(Math.round(f.mediaTime * 1000)) ?? null : null,
      presentedFrames: f.presentedFrames ?? null,
      aheadMs: this.bufferedEnd() !== null ? Math.round((this.bufferedEnd() - this.video.currentTime) * 1000) : null,
      targetMs: Math.round(this.latency.target * 1000),
      dropped: quality ? quality.droppedVideoFrames : null,
      jumps: this.counters.jumps,
    });
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
    // No video for 3 s on an open socket: the doorbell is offline or stalled.
    const quiet = performance.now() - Math.max(this.lastVideoAt || 0, this.socketOpenAt || 0);
    if (this.ws && this.socketOpenAt && quiet > 3000 && this.state !== 'waiting') this.setState('waiting');
    const figures = this.stats.figures({ video: this.video, state: this.state, started: this.started,
      target: this.latency.target, bufferedEnd: this.bufferedEnd(), lastCaptureMs: this.lastVideoCaptureMs });
    figures.sound = !this.hook.audio ? null : this.soundPath === 'mse' ? { path: 'mse' } : this.hook.sound;
    this.hook.stats = this.stats.summary(figures);
    if (this.onStats) this.onStats(figures);
  }
}
