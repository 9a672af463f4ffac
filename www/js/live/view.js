// Live view widget used by the doorbell page (full controls) and the live
// grid (compact tiles): the <video> with a LivePlayer, the connection state
// badge, and — unless compact — mute, statistics ("i"), quality and full
// screen. Quality is this viewer's own (docs/api.md "Live view"): High is
// the doorbell's main stream, Low its sub-stream, Auto lets the size of the
// picture choose (Low in the grid and on a phone, High when large or full
// screen; the hub moves a viewer that falls behind to Low). The choice is
// kept in this browser (localStorage) and changes nobody else's picture nor
// the recording.

import { h, icon } from '../ui.js';
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

// The viewer's choices: the hub's quality names, the menu's words.
const QUALITY = [
  { value: 'auto', label: 'Auto' },
  { value: 'main', label: 'High' },
  { value: 'sub', label: 'Low' },
];
const QUALITY_KEY = 'doorstep.liveQuality';
const SMALL_PICTURE = 640;   // CSS px: a picture this wide or narrower does not need more than the sub-stream

function savedQuality() {
  try {
    const value = localStorage.getItem(QUALITY_KEY);
    return QUALITY.some((q) => q.value === value) ? value : 'auto';
  } catch { return 'auto'; }
}

function saveQuality(value) {
  try { localStorage.setItem(QUALITY_KEY, value); } catch { /* private mode: for this page only */ }
}

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
  // Auto's preference: the sub-stream for a small picture (a grid tile, a
  // phone), the main stream for a large one or full screen.
  const isFullscreen = () => Boolean(document.fullscreenElement || document.webkitFullscreenElement);
  const preferFor = () => (!isFullscreen() && (compact || window.innerWidth <= 600 || (box.clientWidth > 0 && box.clientWidth <= SMALL_PICTURE)) ? 'sub' : 'main');
  const initialQuality = compact ? 'auto' : savedQuality();
  const player = new LivePlayer(video, {
    deviceId,
    quality: initialQuality,
    prefer: compact ? 'sub' : (window.innerWidth <= 600 ? 'sub' : 'main'),
    onStream(info) {
      box.dataset.stream = info.stream;
      if (quality) quality.title = `Video quality: ${QUALITY.find((q) => q.value === player.quality)?.label || 'Auto'} (now ${info.stream === 'sub' ? 'Low' : 'High'}${info.reason === 'no_sub_stream' ? ': this doorbell has no low stream' : ''})`;
    },
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
  let quality = null;
  const updatePreference = () => {
    if (player.quality === 'auto') player.setQuality('auto', preferFor());
  };
  const resizeWatch = typeof ResizeObserver === 'function' ? new ResizeObserver(updatePreference) : null;
  if (resizeWatch) resizeWatch.observe(box);
  document.addEventListener('fullscreenchange', updatePreference);
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

    quality = h('select', { class: 'live-select', 'data-testid': 'live-quality', 'aria-label': 'Video quality', title: 'Video quality' },
      QUALITY.map((q) => h('option', { value: q.value, text: q.label })));
    quality.value = initialQuality;
    quality.addEventListener('change', () => {
      const choice = QUALITY.find((q) => q.value === quality.value);
      if (!choice) return;
      saveQuality(choice.value);
      player.setQuality(choice.value, choice.value === 'auto' ? preferFor() : null);
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
    stop() {
      if (resizeWatch) resizeWatch.disconnect();
      document.removeEventListener('fullscreenchange', updatePreference);
      player.stop();
    },
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
