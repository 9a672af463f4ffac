// Recording player of the timeline page: reads
// GET /api/v1/devices/{id}/playback?from=MS — fMP4, init segment then
// moof+mdat fragments from the keyframe at or before `from`; header
// X-Playback-Start-Ms is the wall time of media time 0 — with fetch() and a
// ReadableStream into one MSE SourceBuffer (live/sink.js).
// Every stream of a page lands on one media timeline, media time = (wall -
// base) / 1000, each stream placed by its own timestampOffset; so a seek into
// what the current stream already delivered needs no request, and the wall
// time of any frame is base + mediaTime * 1000.
// Reading pauses while more than 20 s is buffered ahead of the playhead (the
// hub then waits on a full TCP window; after 30 s of that it drops the
// connection, and the player opens a new stream where the old one stopped
// once it needs more); a seek elsewhere aborts the fetch; while scrubbing,
// new requests go out at most every 250 ms. The stream has real gaps (the
// doorbell was offline): the player jumps them. Muted, only
// the video track goes to MSE, as in the live player. Presented frames, with
// their frame stamp when the picture has one, go to window.doorstepPlayback
// (live/hook.js), tagged with the number of the seek they follow.

import { BoxSplitter, concat, parseInit, parseFragment, mimeFromInit, supportedMime,
  videoOnlyInit, videoOnlyMime, hasAudio } from '../live/media.js';
import { MediaSink } from '../live/sink.js';
import { FrameMonitor } from '../live/stamp.js';
import { registerPlayer } from '../live/hook.js';

const AHEAD_PAUSE = 20;                   // s buffered ahead of the playhead: stop reading
const AHEAD_RESUME = 15;                  // ... and read again below this
const QUEUE_PAUSE = 40;                   // fragments waiting for appendBuffer: stop reading
const KEEP_BEHIND = 30;                   // s kept behind the playhead
const BASE_MARGIN_MS = 24 * 3600 * 1000;  // media time 0 lies a day before the first stream
const GAP_NEAR = 0.25;                    // s to the end of a buffered range: jump the hole after it
const SCRUB_INTERVAL_MS = 250;            // new requests while scrubbing, at most this often
const TICK_MS = 200;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class PlaybackPlayer {
  /**
   * video: the <video>; deviceId; onState(state, message?): idle | loading |
   * playing | paused | buffering | ended | nodata | error; onEnded(wallMs):
   * the stream ran out at wallMs (the page may continue at a later recording).
   */
  constructor(video, { deviceId, onState = null, onEnded = null } = {}) {
    this.video = video;
    this.deviceId = deviceId;
    this.onStateChange = onState;
    this.onEnded = onEnded;
    this.hook = registerPlayer(deviceId, 'doorstepPlayback');
    this.hook.seek = 0;
    this.hook.target = null;
    this.state = null;
    this.stopped = false;
    this.sink = null;
    this.base = null;             // wall ms of media time 0
    this.stream = null;           // the current fetch, see open()
    this.tracks = null;           // of the init segment fed to MSE
    this.pending = null;          // { wall }: a seek to apply once the media can take it
    this.wantPlay = false;        // the user's intent: play or stay paused
    this.withAudio = false;       // feed the sound track (only when unmuted)
    this.rate = 1;
    this.generation = 0;          // number of the latest seek
    this.shown = 0;               // the seek whose picture is on screen
    this.endedAt = null;          // wall ms where onEnded was last reported
    this.scrubTimer = null;
    this.lastOpenAt = 0;
    video.muted = true;
    video.playsInline = true;
    video.disableRemotePlayback = true;
    this.monitor = new FrameMonitor(video, (f) => this.onPresented(f));
    this.onMediaEvent = () => this.control();
    this.onSeeked = () => { if (!this.pending) this.shown = this.generation; this.control(); };
    this.onError = () => { if (this.sink) this.fail(`media error ${video.error && video.error.message}`); };
    for (const type of ['waiting', 'playing', 'pause', 'canplay']) video.addEventListener(type, this.onMediaEvent);
    video.addEventListener('seeked', this.onSeeked);
    video.addEventListener('error', this.onError);
    Object.defineProperty(this.hook, 'readStamp', { value: () => this.monitor.readStamp() });
    this.tick = setInterval(() => this.control(true), TICK_MS);
    this.monitor.start();
    this.setState('idle');
  }

  /* ---------- public ---------- */

  /** Wall time (ms) of the picture on screen, or of the pending seek; null before the first. */
  get wallMs() {
    if (this.pending) return this.pending.wall;
    if (this.base === null || !this.sink || this.video.readyState < 1) return this.hook.target;
    // Media time 0 lies a day before any footage: a video that has its
    // metadata but was not yet moved to the stream's start shows no instant
    // (read as wall time, it put the playhead, and a zoom, a day back).
    if (!(this.video.currentTime > 0)) return this.hook.target;
    return this.base + this.video.currentTime * 1000;
  }

  get playing() {
    return this.wantPlay;
  }

  /** Show the picture at wallMs, then play (play: true) or stay paused. */
  seek(wallMs, { play = this.wantPlay } = {}) {
    if (this.stopped) return;
    clearTimeout(this.scrubTimer);
    this.scrubTimer = null;
    this.beginSeek(wallMs, play);
    if (this.delivered(wallMs)) this.control();
    else this.open(wallMs);
  }

  /*
   * While the playhead is dragged: paused, the picture follows at once when
   * it is already here; otherwise at most one request per 250 ms, the last
   * position always being fetched.
   */
  scrub(wallMs) {
    if (this.stopped) return;
    this.beginSeek(wallMs, false);
    if (this.delivered(wallMs)) { this.control(); return; }
    clearTimeout(this.scrubTimer);
    const wait = Math.max(0, this.lastOpenAt + SCRUB_INTERVAL_MS - performance.now());
    this.scrubTimer = setTimeout(() => {
      this.scrubTimer = null;
      if (this.pending && !this.delivered(this.pending.wall)) this.open(this.pending.wall);
    }, wait);
  }

  play() {
    this.wantPlay = true;
    if (this.state === 'ended' && this.endedAt !== null) { this.seek(this.endedAt, { play: true }); return; }
    this.control();
  }

  pause() {
    this.wantPlay = false;
    this.video.pause();
    this.control();
  }

  setRate(rate) {
    this.rate = rate;
    this.video.defaultPlaybackRate = rate;   // survives a new MediaSource
    this.video.playbackRate = rate;
  }

  /** Mute or unmute; a change of track set starts the stream over at the same instant. */
  setMuted(muted) {
    this.video.muted = muted;
    if (this.withAudio === !muted) return;
    this.withAudio = !muted;
    if (this.streamHasAudio && this.sink && this.wallMs !== null) {
      const wall = this.wallMs;
      this.closeStream();
      this.teardownMedia();
      this.seek(wall, { play: this.wantPlay });
    }
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    clearTimeout(this.scrubTimer);
    for (const type of ['waiting', 'playing', 'pause', 'canplay']) this.video.removeEventListener(type, this.onMediaEvent);
    this.video.removeEventListener('seeked', this.onSeeked);
    this.video.removeEventListener('error', this.onError);
    this.closeStream();
    this.teardownMedia();
    this.monitor.stop();
    this.setState('stopped');
  }

  /* ---------- streams ---------- */

  beginSeek(wallMs, play) {
    this.generation++;
    this.hook.seek = this.generation;
    this.hook.target = wallMs;
    this.pending = { wall: wallMs };
    this.wantPlay = play;
    this.endedAt = null;
    if (this.state === 'ended') this.setState('loading');
    if (!play) this.video.pause();
  }

  /** Whether the current stream has already put wallMs into the buffer. */
  delivered(wallMs) {
    const s = this.stream;
    if (!s || s.failed || s.startWall === null || !this.sink || this.base === null) return false;
    if (wallMs < s.startWall || wallMs > this.base + s.appendedEnd * 1000) return false;
    const t = (wallMs - this.base) / 1000;
    const b = this.video.buffered;
    for (let i = 0; i < b.length; i++) if (t >= b.start(i) && t < b.end(i)) return true;
    return false;
  }

  /*
   * A new stream from wallMs. continuation: it goes on where a cut stream
   * stopped, under the playhead, without a seek.
   */
  open(wallMs, continuation = false) {
    this.closeStream();
    this.lastOpenAt = performance.now();
    const stream = {
      ctrl: new AbortController(), from: Math.floor(wallMs), startWall: null, offset: 0,
      appendedEnd: -Infinity, done: false, failed: false, cut: false, continuation,
    };
    this.stream = stream;
    if (!continuation) this.setState('loading');
    this.read(stream).catch((e) => {
      if (stream !== this.stream || (e && e.name === 'AbortError')) return;
      if (stream.appendedEnd > -Infinity) {
        // Cut after some footage (the hub gave up on a paused reader, or the
        // network): control() continues from there when it is needed.
        stream.cut = true;
        this.control();
        return;
      }
      stream.failed = true;
      console.warn(`playback of ${this.deviceId}: ${e && e.message}`);
      this.setState('error', e && e.status === 503 ? 'Too many recordings are playing at once. Try again shortly.'
        : 'The recording could not be loaded.');
    });
  }

  closeStream() {
    const s = this.stream;
    this.stream = null;
    if (s) s.ctrl.abort();
  }

  async read(stream) {
    const url = `/api/v1/devices/${encodeURIComponent(this.deviceId)}/playback?from=${stream.from}`;
    const res = await fetch(url, { signal: stream.ctrl.signal, credentials: 'same-origin', cache: 'no-store' });
    if (stream !== this.stream) return;
    if (res.status === 404 && stream.continuation) {
      stream.done = true;   // nothing after the cut: the end of the footage
      stream.startWall = stream.from;
      this.control();
      return;
    }
    if (res.status === 404) {
      stream.failed = true;
      this.pending = null;
      this.setState('nodata', 'Nothing was recorded at or after this time.');
      return;
    }
    if (!res.ok || !res.body) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
    const start = Number(res.headers.get('X-Playback-Start-Ms'));
    stream.startWall = Number.isFinite(start) && start > 0 ? start : stream.from;
    if (this.sink === null || this.base === null || stream.startWall < this.base) {
      // A new media timeline; a MediaSource holds only one.
      this.teardownMedia();
      this.base = stream.startWall - BASE_MARGIN_MS;
      this.hook.base = this.base;
    }
    stream.offset = (stream.startWall - this.base) / 1000;
    this.hook.streamStartMs = stream.startWall;

    const reader = res.body.getReader();
    const splitter = new BoxSplitter();
    let init = [];
    let moof = null;
    try {
      for (;;) {
        await this.room(stream);
        if (stream !== this.stream) return;
        const { value, done } = await reader.read();
        if (stream !== this.stream) return;
        if (done) break;
        for (const box of splitter.push(value)) {
          if (box.type === 'ftyp') init = [box.bytes];
          else if (box.type === 'moov') { this.onInit(concat([...init, box.bytes])); init = []; }
          else if (box.type === 'moof') moof = box.bytes;
          else if (box.type === 'mdat' && moof) { this.onFragment(stream, moof, box.bytes); moof = null; }
          if (this.stopped || stream !== this.stream) return;
        }
      }
    } finally {
      if (stream !== this.stream) reader.cancel().catch(() => {});
    }
    stream.done = true;
    this.control();
  }

  /* Backpressure: wait while the stream is far enough ahead of the playhead,
   * or while MSE has not taken what it got. */
  async room(stream) {
    let limit = AHEAD_PAUSE;
    while (stream === this.stream && !this.stopped) {
      const at = this.pending ? (this.pending.wall - this.base) / 1000 : this.video.currentTime;
      const queued = this.sink ? this.sink.queue.length : 0;
      if (stream.appendedEnd - at <= limit && queued < QUEUE_PAUSE) return;
      limit = AHEAD_RESUME;
      await sleep(TICK_MS);
    }
  }

  onInit(init) {
    const full = mimeFromInit(init);
    if (!full) throw new Error('no track in the init segment');
    this.streamHasAudio = hasAudio(full);
    const MS = window.MediaSource || window.ManagedMediaSource;
    const av = this.streamHasAudio && this.withAudio && supportedMime(full, MS) !== null;
    const mime = av || !this.streamHasAudio ? full : videoOnlyMime(full);
    const bytes = av || !this.streamHasAudio ? init : videoOnlyInit(init);
    this.hook.mime = full;
    this.hook.audio = av;
    if (this.sink && this.sink.mime && this.sink.mime !== mime) {
      // Other tracks: a new MediaSource on the same media timeline, same place.
      const wall = this.wallMs;
      this.teardownMedia();
      if (!this.pending && wall !== null) this.pending = { wall };
    }
    const sink = this.ensureSink();
    if (!sink.mime) {
      sink.mime = mime;
      sink.type = supportedMime(mime, MS);
      if (!sink.type) { this.fail(`This browser cannot play ${mime}.`, true); return; }
    }
    this.tracks = parseInit(bytes);
    sink.append(bytes);
  }

  onFragment(stream, moof, mdat) {
    if (!this.sink || !this.tracks) return;
    const frag = parseFragment(moof);
    const track = frag && this.tracks.get(frag.trackId);
    if (!track) return;   // e.g. sound while muted
    if (track.handler === 'vide') {
      const end = stream.offset + (frag.baseTime + frag.duration) / track.timescale;
      stream.appendedEnd = Math.max(stream.appendedEnd, end);
    }
    this.sink.append(concat([moof, mdat]), stream.offset);
  }

  /* ---------- MediaSource ---------- */

  ensureSink() {
    if (this.sink) return this.sink;
    this.sink = new MediaSink(this.video, {
      onUpdate: () => this.control(),
      onFail: (reason, fatal) => this.fail(reason, fatal),
    });
    this.video.playbackRate = this.rate;
    return this.sink;
  }

  /** Drop the MediaSource; the next stream starts a new media timeline (base). */
  teardownMedia() {
    const sink = this.sink;
    this.sink = null;
    this.tracks = null;
    if (sink) sink.close();
  }

  fail(reason, fatal = false) {
    console.warn(`playback of ${this.deviceId}: ${reason}`);
    const wall = this.wallMs;
    this.closeStream();
    this.teardownMedia();
    this.pending = wall === null ? null : { wall };
    this.setState('error', fatal ? reason : 'Playback failed. Pick a time to try again.');
  }

  /* ---------- position ---------- */

  /** After every append, media event and 200 ms: apply a seek, jump gaps, evict, report the state. */
  control(periodic = false) {
    const sink = this.sink;
    const v = this.video;
    const stream = this.stream;
    if (this.stopped || !sink || !sink.ready || this.base === null || (stream && stream.failed)) return;
    if (this.pending && v.readyState >= 1 && stream && stream.startWall !== null) {
      // A target in a hole before the stream's first keyframe lands on it.
      const wall = Math.max(this.pending.wall, stream.startWall);
      this.pending = null;
      v.currentTime = (wall - this.base) / 1000;
    }
    if (this.pending) return;
    if (this.wantPlay && v.paused && !v.seeking && this.state !== 'ended') this.playVideo();
    const b = v.buffered;
    const t = v.currentTime;
    if (stream && stream.cut && stream.appendedEnd - t < AHEAD_RESUME) {
      this.open(this.base + stream.appendedEnd * 1000, true);
      return;
    }
    let range = -1;
    for (let i = 0; i < b.length; i++) if (t >= b.start(i) - 0.01 && t < b.end(i)) { range = i; break; }
    const appendedEnd = stream ? stream.appendedEnd : -Infinity;
    if (!v.seeking) {
      // A hole ahead (the doorbell was offline): continue at the next range
      // this stream delivered.
      const next = [...Array(b.length).keys()].find((i) => b.start(i) > t + 0.01 && b.start(i) <= appendedEnd);
      const nearEnd = range < 0 || b.end(range) - t < GAP_NEAR;
      if (nearEnd && next !== undefined && (this.wantPlay || range < 0)) {
        v.currentTime = b.start(next) + 0.001;
        return;
      }
      // The stream ran out and nothing follows: the end of what was recorded.
      if (stream && stream.done && nearEnd && next === undefined && this.wantPlay && (range < 0 || b.end(range) >= appendedEnd - 0.05)) {
        const wall = this.base + Math.max(t, range >= 0 ? b.end(range) : t) * 1000;
        if (this.state !== 'ended') {
          this.endedAt = wall;
          this.setState('ended');
          if (this.onEnded) this.onEnded(wall);
        }
        return;
      }
    }
    if (periodic && !v.seeking && !sink.busy) this.evict(b, t, appendedEnd);
    if (v.seeking || (stream && !stream.done && range < 0)) this.setState('loading');
    else if (!this.wantPlay) this.setState('paused');
    else if (v.readyState < 3) this.setState('buffering');
    else this.setState('playing');
  }

  /* Keep ~30 s behind the playhead, and drop ranges ahead that an older
   * stream left beyond what the current one has delivered. */
  evict(b, t, appendedEnd) {
    if (!b.length) return;
    if (b.start(0) < t - KEEP_BEHIND - 5) { this.sink.remove(b.start(0), t - KEEP_BEHIND); return; }
    const last = b.end(b.length - 1);
    const keep = Math.max(t, appendedEnd) + 1;
    if (last > keep + 1) this.sink.remove(keep, last + 1);
  }

  playVideo() {
    const p = this.video.play();
    if (p && typeof p.catch === 'function') p.catch(() => {});
  }

  /* ---------- presented frames and state ---------- */

  onPresented(f) {
    if (!this.sink || this.base === null) return;
    const wallMs = typeof f.mediaTime === 'number' ? Math.round(this.base + f.mediaTime * 1000) : null;
    // Frames presented while a seek is under way belong to no seek.
    const seek = this.pending || this.video.seeking ? null : this.shown;
    this.hook.addFrame(f.stamp ? f.stamp.sequence : null, f.stamp ? f.stamp.captureMs : null, f.presentedMs, { wallMs, seek });
    if (this.hook.firstFrameMs === null) this.hook.firstFrameMs = f.presentedMs;
  }

  setState(state, message) {
    if (this.state === state && !message) return;
    this.state = state;
    this.hook.state = state;
    if (this.onStateChange) this.onStateChange(state, message);
  }
}
