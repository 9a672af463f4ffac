// Talk sessions (docs/api.md, "Talk"): one per doorbell and tab, shared by
// every talk control of that doorbell on the page (doorbell page, live
// grid tile, ring toast). A session keeps the talk WebSocket open while a
// control holds it (reconnecting with backoff), follows the hub's state
// messages (who has the floor, whether the doorbell is online), asks for
// the floor and gives it back, and sends the microphone's packets while it
// holds the floor. It owns its socket and its MicCapture (capture.js); the
// microphone is open only between talk() and stopTalking(). Runs on the
// page's main thread. window.doorstepTalk is its test and diagnostics hook;
// with window.doorstepTalkBursts set it also notes each tone burst's capture
// time and each packet's capture and send times (the talk benchmark).

import { talkPacket } from './packet.js';
import { MicCapture, chooseCodec, talkUnavailable, meterLevel } from './capture.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
const MAX_BURSTS = 200;
const MAX_SENT = 3000;            // [capture us, sent ms] of the last 60 s of packets
const BURST_THRESHOLD = 0.05;     // |sample| above this after a quiet frame starts a burst

const sessions = new Map();       // device id -> TalkSession

function hook() {
  if (!window.doorstepTalk) window.doorstepTalk = { sessions: [] };
  return window.doorstepTalk;
}

/** The shared session of deviceId (created on first use); call release() when done with it. */
export function acquireTalk(deviceId) {
  let session = sessions.get(deviceId);
  if (!session) {
    session = new TalkSession(deviceId);
    sessions.set(deviceId, session);
  }
  session.holders++;
  session.connect();
  return session;
}

/** Close every session at once (sign-out). */
export function closeAllTalk() {
  for (const session of [...sessions.values()]) session.close();
}

/** Why the microphone could not be opened, in words, from a getUserMedia error. */
function micErrorText(error) {
  const name = error && error.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'The browser refused the microphone. Allow it in the site settings to talk.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found.';
  if (name === 'NotReadableError') return 'The microphone is in use by another program.';
  return `The microphone could not be opened${error && error.message ? `: ${error.message}` : '.'}`;
}

export class TalkSession {
  constructor(deviceId) {
    this.deviceId = deviceId;
    this.holders = 0;
    this.socket = null;
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = null;
    this.closed = false;
    this.sequence = 0;
    this.capture = null;
    this.listeners = new Set();
    // What the controls draw.
    this.view = {
      connection: 'connecting',  // connecting | open | closed
      talker: null,              // { user_id, username } or null
      you: false,
      online: true,
      phase: 'idle',             // idle | starting | on-air
      level: 0,
      error: null,               // { code, message }
    };
    this.entry = { deviceId, connection: 'connecting', attempts: 0, opens: 0, closeCode: null, state: null, phase: 'idle',
      codec: null, contextRate: null, micOpen: false, packetsSent: 0, packetsDropped: 0, errors: [], bursts: [], sent: [], startedAt: null };
    const list = hook().sessions;
    list.push(this.entry);
    if (list.length > 50) list.splice(0, list.length - 50);
  }

  /** Call fn(view) now and on every change; returns an unsubscribe function. */
  subscribe(fn) {
    this.listeners.add(fn);
    fn(this.view);
    return () => this.listeners.delete(fn);
  }

  update(changes) {
    Object.assign(this.view, changes);
    this.entry.phase = this.view.phase;
    for (const fn of [...this.listeners]) {
      try { fn(this.view); } catch (error) { console.error(error); }
    }
  }

  /** A control lets go of the session: the last one closes it. */
  release() {
    this.holders = Math.max(0, this.holders - 1);
    if (this.holders === 0) this.close();
  }

  close() {
    this.closed = true;
    sessions.delete(this.deviceId);
    clearTimeout(this.retryTimer);
    this.endCapture();
    if (this.socket) this.socket.close(1000);
    this.socket = null;
    this.listeners.clear();
    this.entry.connection = 'closed';
  }

  connect() {
    if (this.closed || this.socket) return;
    const url = new URL(`/api/v1/devices/${encodeURIComponent(this.deviceId)}/talk`, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.entry.connection = 'connecting';
    this.entry.attempts++;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.retryMs = RETRY_MIN_MS;
      this.entry.connection = 'open';
      this.entry.opens++;
      this.update({ connection: 'open' });
    });
    socket.addEventListener('message', (message) => {
      if (this.socket !== socket || typeof message.data !== 'string') return;
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (data && data.type === 'state') this.onState(data);
      else if (data && data.type === 'error') this.onError(data);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.entry.connection = 'closed';
      this.entry.closeCode = event.code;
      const wasTalking = this.view.phase !== 'idle';
      this.endCapture();
      const refused = event.code === 1008;    // signed out, or the right was withdrawn
      this.update({
        connection: 'closed', talker: null, you: false, phase: 'idle',
        error: refused ? { code: 'refused', message: 'Talking to this doorbell is no longer allowed.' }
          : wasTalking ? { code: 'connection', message: 'The connection to the hub was lost.' } : this.view.error,
      });
      if (this.closed || refused) return;
      this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect(); }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    });
  }

  send(value) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(value);
      return true;
    }
    return false;
  }

  onState(state) {
    this.entry.state = state;
    const you = Boolean(state.you);
    const changes = { talker: state.talker || null, you, online: state.doorbell_online !== false };
    if (you && this.view.phase === 'starting') changes.phase = 'on-air';
    if (!you && this.view.phase === 'on-air') {
      // The hub took the floor back (another admin, or the doorbell left).
      this.endCapture();
      changes.phase = 'idle';
    }
    if (you || !changes.talker) {
      if (this.view.error && this.view.error.code === 'busy') changes.error = null;
    }
    this.update(changes);
  }

  onError(error) {
    this.entry.errors.push(error.code);
    const texts = {
      busy: null,
      taken_over: 'An administrator took over the conversation.',
      offline: 'The doorbell is offline.',
      bad_request: 'The hub refused the talk request.',
    };
    const message = error.code in texts ? texts[error.code] : error.message;
    if (error.code === 'busy' || error.code === 'taken_over' || error.code === 'offline') {
      this.endCapture();
      this.update({ phase: 'idle', you: false, error: { code: error.code, message: message || error.message || '' } });
    } else {
      this.update({ error: { code: error.code, message: message || error.message || 'Talk error.' } });
    }
  }

  /**
   * Ask for the floor and open the microphone (call from the user's
   * gesture). takeover: an admin takes the floor from the current talker.
   */
  talk({ takeover = false } = {}) {
    if (this.view.phase !== 'idle') return;
    const unavailable = talkUnavailable();
    if (unavailable) {
      this.update({ error: { code: unavailable, message: unavailable === 'insecure'
        ? 'Talking needs a secure connection: open the hub with https://.'
        : 'This browser cannot capture sound for talking.' } });
      return;
    }
    if (this.view.connection !== 'open') {
      this.update({ error: { code: 'connection', message: 'Not connected to the hub yet; try again in a moment.' } });
      return;
    }
    if (!this.view.online) {
      this.update({ error: { code: 'offline', message: 'The doorbell is offline.' } });
      return;
    }
    this.update({ phase: 'starting', error: null, level: 0 });
    this.entry.startedAt = Date.now();
    const capture = new MicCapture({
      codec: 'pcm16',
      onPacket: (codecId, captureUs, samples, payload) => this.packet(capture, codecId, captureUs, samples, payload),
      onFrame: (samples, captureUs) => this.frame(capture, samples, captureUs),
    });
    this.capture = capture;
    // The AudioContext is created inside the gesture; the codec check is
    // cached after the first time, so it rarely waits.
    try {
      capture.prepare();
    } catch (error) {
      this.capture = null;
      this.update({ phase: 'idle', error: { code: 'microphone', message: micErrorText(error) } });
      return;
    }
    const opening = chooseCodec().then((codec) => {
      capture.codec = codec;
      this.entry.codec = codec;
      if (this.capture !== capture) return null;
      this.send(JSON.stringify({ type: 'start', codec, takeover: Boolean(takeover) }));
      return capture.open();
    });
    opening.then(() => {
      if (this.capture !== capture) return;
      this.entry.micOpen = capture.live;
      this.entry.contextRate = capture.contextRate;
    }, (error) => {
      if (this.capture !== capture) return;
      this.endCapture();
      this.update({ phase: 'idle', error: { code: 'microphone', message: micErrorText(error) } });
    });
  }

  /** Give the floor back and release the microphone. */
  stopTalking() {
    if (this.view.phase === 'idle') return;
    this.endCapture();
    this.update({ phase: 'idle', level: 0 });
  }

  // Close the capture (its last packets still go out) and say stop.
  endCapture() {
    const capture = this.capture;
    if (!capture) return;
    this.capture = null;
    this.entry.micOpen = false;
    const wasStarted = this.view.phase !== 'idle';
    capture.close().finally(() => {
      if (wasStarted) this.send(JSON.stringify({ type: 'stop' }));
    });
  }

  // One encoded frame: sent while this tab holds the floor, else counted.
  packet(capture, codecId, captureUs, samples, payload) {
    if ((this.capture !== capture && !capture.closed) || !this.view.you) {
      this.entry.packetsDropped++;
      return;
    }
    if (this.send(talkPacket(codecId, this.sequence, captureUs, samples, payload))) {
      this.sequence = (this.sequence + 1) & 0xffff;
      this.entry.packetsSent++;
      if (window.doorstepTalkBursts) {
        this.entry.sent.push([captureUs, performance.timeOrigin + performance.now()]);
        if (this.entry.sent.length > MAX_SENT) this.entry.sent.shift();
      }
    } else {
      this.entry.packetsDropped++;
    }
  }

  // One raw frame: the meter, and the test hook's burst onsets.
  frame(capture, samples, captureUs) {
    if (this.capture !== capture) return;
    this.entry.micOpen = true;
    this.update({ level: meterLevel(samples) });
    if (!window.doorstepTalkBursts) return;
    let onset = -1;
    for (let i = 0; i < samples.length; i++) {
      if (Math.abs(samples[i]) > BURST_THRESHOLD) { onset = i; break; }
    }
    if (onset >= 0 && this.quiet) {
      this.entry.bursts.push(captureUs + Math.round((onset * 1e6) / 48000));
      if (this.entry.bursts.length > MAX_BURSTS) this.entry.bursts.shift();
    }
    this.quiet = onset < 0;
  }
}
