// Test and diagnostics hook of the players, always on and bounded:
// window.doorstepLive (live view) and window.doorstepPlayback (recordings)
// = { players: [{ deviceId, frames: [{ sequence, captureMs, presentedMs,
// ...extra (live: mediaTime, arrivedMs (its message's arrival), aheadMs (buffered
// past the playhead) and targetMs (the player's) when presented, presentedFrames,
// dropped, jumps so far; recordings: wall
// time and seek number) }], firstFrameMs, openedMs, state, mime (the stream's), audio
// (whether its sound is being played), mseAudio (whether MSE has the audio
// track), soundPath ('webcodecs' | 'mse'), sound (live sound over WebCodecs:
// sound.js's figures, worklet counters and onsets), stats, quality (this
// viewer's choice), stream ('main' | 'sub', the last init's), streams (every
// init: stream, reason, size), answer (the hub's last "quality" message),
// mediaSources (made so far: a stream switch makes none), changeTypes }] }. Each player keeps its last
// 2000 presented frames; the list keeps every running player plus the 10 most
// recently stopped ones.

const MAX_FRAMES = 2000;
const MAX_STOPPED = 10;

function root(name) {
  if (!window[name]) window[name] = { players: [] };
  return window[name];
}

/**
 * A new entry for a player of deviceId in window[hookName]; addFrame() is
 * not enumerable. extra: more fields of that frame (the recording player's
 * wall time and seek number).
 */
export function registerPlayer(deviceId, hookName = 'doorstepLive') {
  const entry = { deviceId, frames: [], firstFrameMs: null, openedMs: Date.now(), state: 'connecting', mime: null, audio: false };
  Object.defineProperties(entry, {
    addFrame: {
      value(sequence, captureMs, presentedMs, extra = null) {
        entry.frames.push(extra ? { sequence, captureMs, presentedMs, ...extra } : { sequence, captureMs, presentedMs });
        if (entry.frames.length > MAX_FRAMES) entry.frames.shift();   // 2000 entries: a cheap move
      },
    },
  });
  const players = root(hookName).players;
  players.push(entry);
  const stopped = players.filter((p) => p.state === 'stopped' || p.state === 'error');
  for (const p of stopped.slice(0, Math.max(0, stopped.length - MAX_STOPPED))) players.splice(players.indexOf(p), 1);
  return entry;
}
