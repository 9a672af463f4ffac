// Live view widget used by the doorbell page (full controls) and the live
// grid (compact tiles): the <video> with a LivePlayer, the connection state
// badge, and — unless compact — mute, statistics ("i"), quality
// (Auto / High / Low, POST /api/v1/devices/{id}/video) and full screen.

import { h, icon, toast } from '../ui.js';
import * as api from '../api.js';
import { LivePlayer } from './player.js';
import { statsOverlay } from './overlay.js';

const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  waiting: 'No video',
  reconnecting: 'Reconnecting…',
  paused: 'Paused',
  stopped: 'Stopped',
  error: 'Cannot play',
};

// Quality presets: the doorbell's H.264 bitrate. Auto leaves the choice to
// the hub (it lowers the bitrate by itself when viewers fall behind).
const QUALITY = [
  { value: '', label: 'Auto' },
  { value: '2000', label: 'High' },
  { value: '600', label: 'Low' },
];

function iconButton(label, name, testid) {
  return h('button', { type: 'button', class: 'live-btn', title: label, 'aria-label': label, 'data-testid': testid }, icon(name));
}

/**
 * createLiveView({ deviceId, compact, name }) -> { el, video, player, firstPicture, setPoster(url), setOffline(bool), stop() }.
 * The player starts at once; stop() closes its WebSocket and releases the media.
 * firstPicture resolves when the first frame shows (or the player stops).
 */
export function createLiveView({ deviceId, compact = false, name = '' }) {
  const video = h('video', { class: 'live-video', 'data-testid': 'live-player', muted: true, playsinline: true,
    'aria-label': name ? `Live video from ${name}` : 'Live video' });
  video.muted = true;
  const badge = h('span', { class: 'live-badge', 'data-testid': 'live-state', 'data-state': 'connecting', text: STATE_TEXT.connecting });
  const message = h('p', { class: 'live-message', hidden: true });
  const playBtn = h('button', { type: 'button', class: 'live-play', hidden: true, 'aria-label': 'Play live video' }, icon('play'));
  const overlay = compact ? null : statsOverlay();
  const box = h('div', { class: ['live-box', compact && 'live-box-compact'] }, video, badge, message, playBtn, overlay && overlay.el);

  let offline = false;
  let pictureShown = null;
  // Resolves at the first picture (or when the player stops first).
  const firstPicture = new Promise((resolve) => { pictureShown = resolve; });
  const label = (state) => (state !== 'live' && offline ? 'Offline' : STATE_TEXT[state] || state);
  const player = new LivePlayer(video, {
    deviceId,
    onState(state, text) {
      badge.dataset.state = state;
      badge.textContent = label(state);
      message.hidden = !text;
      message.textContent = text || '';
      if (state === 'live') { playBtn.hidden = true; pictureShown(); }
      if (state === 'stopped') pictureShown();
    },
    onStats: overlay ? (s) => overlay.update(s) : null,
    onBlocked() { playBtn.hidden = false; },
  });
  playBtn.addEventListener('click', (e) => {
    e.preventDefault();
    playBtn.hidden = true;
    video.play().catch(() => { playBtn.hidden = false; });
  });

  let controls = null;
  if (!compact) {
    const muteBtn = iconButton('Unmute', 'volume-off', 'live-mute');
    muteBtn.setAttribute('aria-pressed', 'true');
    muteBtn.addEventListener('click', () => {
      const muted = !video.muted;
      player.setMuted(muted);
      muteBtn.replaceChildren(icon(muted ? 'volume-off' : 'volume'));
      muteBtn.title = muted ? 'Unmute' : 'Mute';
      muteBtn.setAttribute('aria-label', muteBtn.title);
      muteBtn.setAttribute('aria-pressed', String(muted));
    });

    const statsBtn = iconButton('Show statistics', 'info', 'live-stats-toggle');
    statsBtn.setAttribute('aria-pressed', 'false');
    statsBtn.addEventListener('click', () => {
      const shown = overlay.toggle();
      statsBtn.setAttribute('aria-pressed', String(shown));
      statsBtn.title = shown ? 'Hide statistics' : 'Show statistics';
      statsBtn.setAttribute('aria-label', statsBtn.title);
    });

    const quality = h('select', { class: 'live-select', 'data-testid': 'live-quality', 'aria-label': 'Video quality', title: 'Video quality' },
      QUALITY.map((q) => h('option', { value: q.value, text: q.label })));
    quality.addEventListener('change', async () => {
      const choice = QUALITY.find((q) => q.value === quality.value);
      if (!choice || !choice.value) return;   // Auto: the hub decides
      quality.disabled = true;
      try {
        await api.post(`/api/v1/devices/${encodeURIComponent(deviceId)}/video`, { bitrate_kbps: Number(choice.value) });
        toast(`${choice.label} quality requested.`, 'success', 2500);
      } catch (e) {
        if (!e.handled) {
          toast(e instanceof api.ApiError && e.status === 409 ? 'The doorbell is offline.'
            : e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not change the quality: ${e.message}`, 'error');
        }
      } finally {
        quality.disabled = false;
      }
    });

    const fullBtn = iconButton('Full screen', 'maximize', 'live-fullscreen');
    fullBtn.addEventListener('click', () => toggleFullscreen(box, video));

    controls = h('div', { class: 'live-controls' },
      muteBtn, statsBtn, h('span', { class: 'live-spacer' }), quality, fullBtn);
    box.append(controls);
    video.addEventListener('dblclick', () => toggleFullscreen(box, video));
    // A touch screen without the media query's help (a laptop with one):
    // once touched, the controls stay shown, there is no hover to reveal them.
    box.addEventListener('touchstart', () => box.classList.add('is-touched'), { passive: true });
  }

  return {
    el: box,
    video,
    player,
    firstPicture,
    setPoster(url) {
      // Only until the first frame: afterwards the video shows pictures itself.
      if (url && player.state !== 'live' && video.getAttribute('poster') !== url) video.poster = url;
    },
    /** The hub says the doorbell is offline: say so instead of "Connecting…". */
    setOffline(value) {
      offline = Boolean(value);
      badge.textContent = label(player.state);
    },
    stop() { player.stop(); },
  };
}

function toggleFullscreen(container, video) {
  const doc = document;
  const current = doc.fullscreenElement || doc.webkitFullscreenElement;
  if (current) {
    (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
    return;
  }
  const request = container.requestFullscreen || container.webkitRequestFullscreen;
  if (request) {
    Promise.resolve(request.call(container)).catch(() => {
      if (video.webkitEnterFullscreen) video.webkitEnterFullscreen();
    });
  } else if (video.webkitEnterFullscreen) {
    video.webkitEnterFullscreen();   // iPhone: only the <video> can go full screen
  }
}
