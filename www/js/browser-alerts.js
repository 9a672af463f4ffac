// What this browser does when a doorbell rings, beside the toast
// (js/event-feed.js): a short chime played with Web Audio in every open tab
// (the user may turn it off; the choice is kept in localStorage), and a
// system notification through the Notifications API while the tab is in the
// background. Permission for notifications is asked only from the button of
// browserAlertsSection() (the Notifications page), never on load. Browsers
// keep audio silent until the page had a user gesture: the chime then stays
// quiet, and says so only in document.documentElement.dataset.ringSound.

import { h, icon, button } from './ui.js';

const SOUND_KEY = 'doorstep.ringSound';
// A two-note chime ("ding-dong"): frequency in Hz, start and length in s.
const CHIME = [
  { hz: 659.25, at: 0, length: 0.9 },
  { hz: 523.25, at: 0.45, length: 1.2 },
];

let audio = null;  // the AudioContext, made on the first gesture or ring

/** Whether the ring chime is on in this browser (on unless turned off). */
export function ringSoundEnabled() {
  try { return localStorage.getItem(SOUND_KEY) !== 'off'; } catch { return true; }
}

/** Turn the ring chime on or off in this browser. */
export function setRingSoundEnabled(on) {
  try { localStorage.setItem(SOUND_KEY, on ? 'on' : 'off'); } catch { /* private mode: not kept */ }
}

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!audio) {
    try { audio = new Context(); } catch { audio = null; }
  }
  return audio;
}

// The first gesture in the page may start audio: make the context then, so a
// ring that comes later can sound.
function unlockOnGesture() {
  const unlock = () => {
    const ctx = audioContext();
    if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
    window.removeEventListener('pointerdown', unlock, true);
    window.removeEventListener('keydown', unlock, true);
  };
  window.addEventListener('pointerdown', unlock, true);
  window.addEventListener('keydown', unlock, true);
}
unlockOnGesture();

/**
 * Play the ring chime unless it is turned off. Never throws and never asks
 * for anything: a browser that blocks audio leaves it silent. Sets
 * dataset.ringSound on <html> to "played", "blocked" or "off".
 */
export async function playRingSound() {
  const root = document.documentElement;
  if (!ringSoundEnabled()) { root.dataset.ringSound = 'off'; return; }
  const ctx = audioContext();
  if (!ctx) { root.dataset.ringSound = 'blocked'; return; }
  if (ctx.state !== 'running') {
    // Resolves at once where audio is allowed; otherwise it would wait for a
    // gesture: give up after a moment rather than chime late.
    await Promise.race([ctx.resume().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 300))]);
  }
  if (ctx.state !== 'running') { root.dataset.ringSound = 'blocked'; return; }
  const start = ctx.currentTime + 0.02;
  const master = ctx.createGain();
  master.gain.value = 0.25;
  master.connect(ctx.destination);
  for (const note of CHIME) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = note.hz;
    gain.gain.setValueAtTime(0.0001, start + note.at);
    gain.gain.exponentialRampToValueAtTime(1, start + note.at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + note.at + note.length);
    osc.connect(gain).connect(master);
    osc.start(start + note.at);
    osc.stop(start + note.at + note.length + 0.05);
  }
  root.dataset.ringSound = 'played';
}

/* ---------- system notifications ---------- */

/** 'granted', 'denied', 'default' or 'unsupported'. */
export function notificationPermission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

/**
 * A system notification for an event while the tab is in the background
 * (and the user allowed them). Clicking it focuses the tab and runs onOpen.
 * Where pages may not make one (Chrome on Android), the service worker
 * (sw.js) shows it, and a click there opens link.
 */
export function notifyInBackground({ title, body, tag, link, onOpen }) {
  if (notificationPermission() !== 'granted' || document.visibilityState === 'visible') return null;
  const options = { body, tag, icon: '/icons/icon-192.png', badge: '/icons/icon-192.png' };
  let notification;
  try {
    notification = new Notification(title, options);
  } catch {
    if ('serviceWorker' in navigator && navigator.serviceWorker.controller) {
      navigator.serviceWorker.ready
        .then((registration) => registration.showNotification(title, { ...options, data: { link } }))
        .catch(() => {});
    }
    return null;
  }
  notification.onclick = () => {
    window.focus();
    if (onOpen) onOpen();
    notification.close();
  };
  return notification;
}

/* ---------- the "This browser" section of the Notifications page ---------- */

const PERMISSION_TEXT = {
  granted: 'On: this browser shows a notification when a doorbell rings while Doorstep is in the background.',
  denied: 'Blocked in this browser’s site settings. Allow notifications for this site there to turn them on.',
  default: 'Off. Turn them on to be told about a ring while Doorstep is in a background tab.',
  unsupported: 'This browser cannot show notifications.',
};

/** The section: a button asking for notification permission, and the sound toggle. */
export function browserAlertsSection() {
  const state = h('p', { class: 'muted small', 'data-testid': 'browser-notify-state' });
  const allow = button('Turn on notifications', { icon: 'bell', variant: 'btn-secondary', 'data-testid': 'browser-notify-enable' });
  const sound = h('input', { type: 'checkbox', checked: ringSoundEnabled(), 'data-testid': 'ring-sound-toggle', id: 'ring-sound-toggle' });
  const test = button('Play', { icon: 'volume', variant: 'btn-ghost btn-sm', 'data-testid': 'ring-sound-test' });

  function show() {
    const permission = notificationPermission();
    state.textContent = PERMISSION_TEXT[permission] || PERMISSION_TEXT.default;
    state.dataset.permission = permission;
    allow.hidden = permission !== 'default';
  }
  allow.addEventListener('click', async () => {
    if (!('Notification' in window)) return;
    try { await Notification.requestPermission(); } catch { /* old callback-only API */ }
    show();
  });
  sound.addEventListener('change', () => setRingSoundEnabled(sound.checked));
  test.addEventListener('click', () => playRingSound());
  show();

  return h('section', { class: 'card panel nt-section browser-alerts', 'aria-labelledby': 'browser-alerts-title', 'data-testid': 'browser-alerts' },
    h('h2', { class: 'section-title', id: 'browser-alerts-title' }, icon('bell'), h('span', { text: 'This browser' })),
    h('div', { class: 'browser-alerts-row' }, state, allow),
    h('div', { class: 'browser-alerts-row' },
      h('label', { class: 'check', for: 'ring-sound-toggle' }, sound, h('span', { text: 'Play a chime when a doorbell rings' })),
      test));
}
