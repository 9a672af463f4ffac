// Live view stats overlay (toggled by the "i" button): latency (from the
// frame stamp; otherwise estimated from the hub's capture times, labelled
// "est."), video bitrate received, presented fps, frames dropped by the
// browser and skipped by the hub, buffer ahead of the playhead, resolution,
// and, with sound on, how late the sound is heard and how far from the
// picture (WebCodecs sound) or "through MSE".
// The element always carries data-latency-ms (for tests); its text is only
// refreshed while it is shown.

import { h, DASH } from '../ui.js';

const ROWS = [
  ['latency', 'Latency'],
  ['bitrate', 'Bitrate'],
  ['fps', 'Frame rate'],
  ['dropped', 'Dropped'],
  ['skipped', 'Skipped (hub)'],
  ['buffer', 'Buffer'],
  ['resolution', 'Resolution'],
  ['sound', 'Sound'],
];

const ms = (v) => `${Math.round(v)} ms`;

function soundText(sound) {
  if (!sound) return DASH;
  if (sound.path === 'mse') return 'through MSE';
  if (typeof sound.audioLatencyMs !== 'number') return sound.state || DASH;
  const sync = typeof sound.lipSyncMs === 'number' ? `, ${sound.lipSyncMs >= 0 ? '+' : '−'}${Math.abs(sound.lipSyncMs)} ms from the picture` : '';
  return `${ms(sound.audioLatencyMs)}${sync}`;
}

function texts(s) {
  return {
    latency: s.latencyMs === null ? DASH : `${s.estimated ? 'est. ' : ''}${ms(s.latencyMs)}`,
    bitrate: s.bitrateKbps === null ? DASH
      : s.bitrateKbps >= 1000 ? `${(s.bitrateKbps / 1000).toFixed(2)} Mbit/s` : `${Math.round(s.bitrateKbps)} kbit/s`,
    fps: s.fps === null ? DASH : `${s.fps.toFixed(1)} fps`,
    dropped: s.dropped === null ? DASH : String(s.dropped),
    skipped: s.skipped === null ? DASH : String(s.skipped),
    buffer: s.bufferMs === null ? DASH : `${ms(s.bufferMs)} (target ${ms(s.targetMs)})`,
    resolution: s.width && s.height ? `${s.width}×${s.height}` : DASH,
    sound: soundText(s.sound),
  };
}

/** { el, update(stats), toggle(), visible } */
export function statsOverlay() {
  const cells = {};
  const el = h('dl', { class: 'live-stats', 'data-testid': 'live-stats', hidden: true, 'aria-label': 'Live view statistics' },
    ROWS.map(([key, label]) => {
      cells[key] = h('dd', { 'data-stat': key, text: DASH });
      return h('div', { class: 'live-stat' }, h('dt', { text: label }), cells[key]);
    }));
  let last = null;

  function render() {
    if (!last || el.hidden) return;
    const t = texts(last);
    for (const [key] of ROWS) if (cells[key].textContent !== t[key]) cells[key].textContent = t[key];
  }

  return {
    el,
    get visible() { return !el.hidden; },
    update(stats) {
      last = stats;
      const latency = stats.latencyMs === null ? '' : String(Math.round(stats.latencyMs));
      if (el.dataset.latencyMs !== latency) el.dataset.latencyMs = latency;
      el.dataset.estimated = stats.estimated ? 'true' : 'false';
      render();
    },
    toggle(show = el.hidden) {
      el.hidden = !show;
      render();
      return show;
    },
  };
}
