// Talk controls (doorbell page, live grid tile, ring toast): a hold-to-talk
// button (mouse, pen and touch: press and hold), a latched talk toggle, the
// space bar on the doorbell page (when no field has focus), a microphone
// level meter, the "on air" state, who else is talking (admins may take
// over), and the reasons talking cannot work (microphone refused, page not
// secure, doorbell offline). The controls draw a shared TalkSession
// (session.js) of their doorbell; stop() lets go of it and of the keyboard.
// Only for users with the talk right: callers check canTalk() first.

import { h, icon } from '../ui.js';
import * as api from '../api.js';
import { acquireTalk } from './session.js';
import { talkUnavailable } from './capture.js';

let meCache = null;

/**
 * Whether the signed-in user may talk to device (a device JSON, or just
 * { id }): admins always; others when the device JSON says can_talk, or
 * else when GET /api/v1/me lists the doorbell in talk_devices.
 */
export async function canTalk(device, isAdmin) {
  if (isAdmin) return true;
  if (device && typeof device.can_talk === 'boolean') return device.can_talk;
  try {
    if (!meCache) {
      meCache = api.get('/api/v1/me');
      setTimeout(() => { meCache = null; }, 5000);
    }
    const me = await meCache;
    const user = (me && me.user) || me || {};
    const list = Array.isArray(user.talk_devices) ? user.talk_devices : Array.isArray(user.can_talk) ? user.can_talk : null;
    return Boolean(list && list.includes(device.id));
  } catch {
    meCache = null;
    return false;
  }
}

// Whether the keyboard is typing into something (space belongs to it then).
function typing(element) {
  if (!element) return false;
  const tag = element.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || element.isContentEditable;
}

/**
 * createTalkControls({ deviceId, name, isAdmin, variant, keyboard }) ->
 * { el, stop() }. variant: 'full' (doorbell page), 'compact' (grid tile),
 * 'toast'; keyboard: the space bar talks (one control per page).
 */
export function createTalkControls({ deviceId, name = '', isAdmin = false, variant = 'full', keyboard = false }) {
  const session = acquireTalk(deviceId);
  const holdLabel = h('span', { class: 'btn-label', text: 'Hold to talk' });
  const hold = h('button', { type: 'button', class: 'btn talk-hold', 'data-testid': 'talk-hold',
    title: keyboard ? 'Hold to talk (or hold the space bar)' : 'Hold to talk', 'aria-label': name ? `Hold to talk to ${name}` : 'Hold to talk' },
  icon('mic'), holdLabel);
  const latch = h('button', { type: 'button', class: 'btn btn-secondary talk-latch', 'data-testid': 'talk-latch', 'aria-pressed': 'false',
    title: 'Talk until pressed again', 'aria-label': 'Keep talking' },
  icon('mic'), h('span', { class: 'btn-label', text: variant === 'full' ? 'Keep talking' : 'Latch' }));
  const fill = h('span', { class: 'talk-meter-fill' });
  const meter = h('span', { class: 'talk-meter', role: 'meter', 'aria-label': 'Microphone level', 'aria-valuemin': '0', 'aria-valuemax': '100',
    'aria-valuenow': '0', 'data-testid': 'talk-meter' }, fill);
  const onAir = h('span', { class: 'talk-onair', 'data-testid': 'talk-onair', hidden: true, text: 'On air' });
  const status = h('span', { class: 'talk-status', 'data-testid': 'talk-status', 'aria-live': 'polite' });
  const takeover = isAdmin ? h('button', { type: 'button', class: 'btn btn-secondary btn-sm talk-takeover', 'data-testid': 'talk-takeover', hidden: true,
    text: 'Take over' }) : null;
  const error = h('p', { class: 'talk-error', role: 'alert', 'data-testid': 'talk-error', hidden: true });
  const el = h('div', { class: ['talk', `talk-${variant}`], 'data-testid': 'talk', 'data-device-id': deviceId, 'data-state': 'connecting' },
    h('div', { class: 'talk-row' }, hold, latch, meter, onAir),
    h('div', { class: 'talk-row talk-info' }, status, takeover),
    error);

  let latched = false;
  let holding = false;
  let pointerId = null;

  function press(options = {}) {
    holding = true;
    session.talk(options);
  }
  function letGo() {
    if (!holding) return;
    holding = false;
    if (!latched) session.stopTalking();
  }

  // Press and hold, with any pointer. The pointer is captured so a finger
  // sliding off the button keeps talking until it lifts.
  hold.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || hold.disabled) return;
    event.preventDefault();
    event.stopPropagation();
    pointerId = event.pointerId;
    try { hold.setPointerCapture(pointerId); } catch { /* not capturable */ }
    if (latched) { latched = false; latch.setAttribute('aria-pressed', 'false'); }
    press();
  });
  const up = (event) => {
    if (pointerId !== event.pointerId) return;
    pointerId = null;
    event.preventDefault();
    letGo();
  };
  hold.addEventListener('pointerup', up);
  hold.addEventListener('pointercancel', up);
  hold.addEventListener('lostpointercapture', up);
  // A long press on a phone must not open the context menu or select text,
  // and the click after a hold must not follow a surrounding link.
  hold.addEventListener('contextmenu', (event) => event.preventDefault());
  for (const target of [hold, latch, takeover].filter(Boolean)) {
    target.addEventListener('click', (event) => { event.preventDefault(); event.stopPropagation(); });
  }
  // Keyboard users: Enter toggles like the latch.
  hold.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.repeat) { event.preventDefault(); toggleLatch(); }
  });

  function toggleLatch() {
    if (latched || session.view.phase !== 'idle') {
      latched = false;
      holding = false;
      session.stopTalking();
    } else {
      latched = true;
      session.talk();
    }
    latch.setAttribute('aria-pressed', String(latched));
  }
  latch.addEventListener('click', toggleLatch);
  if (takeover) takeover.addEventListener('click', () => { latched = true; latch.setAttribute('aria-pressed', 'true'); session.talk({ takeover: true }); });

  // The space bar, on the doorbell page.
  const keydown = (event) => {
    if (event.code !== 'Space' || typing(document.activeElement) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    if (!event.repeat && !holding && !hold.disabled) press();
  };
  const keyup = (event) => {
    if (event.code !== 'Space' || typing(document.activeElement)) return;
    event.preventDefault();
    letGo();
  };
  const blur = () => letGo();
  if (keyboard) {
    document.addEventListener('keydown', keydown);
    document.addEventListener('keyup', keyup);
    window.addEventListener('blur', blur);
  }

  function draw(view) {
    const unavailable = talkUnavailable();
    const other = view.talker && !view.you ? view.talker : null;
    let state = 'idle';
    if (view.connection !== 'open') state = 'connecting';
    else if (!view.online) state = 'offline';
    else if (view.phase === 'on-air' && view.you) state = 'on-air';
    else if (view.phase !== 'idle') state = 'starting';
    else if (other) state = 'busy';
    el.dataset.state = state;
    el.classList.toggle('is-on-air', state === 'on-air');
    if (view.phase === 'idle' && latched) { latched = false; latch.setAttribute('aria-pressed', 'false'); }
    const blocked = state === 'offline' || state === 'connecting' || state === 'busy' || Boolean(unavailable);
    hold.disabled = blocked && view.phase === 'idle';
    latch.disabled = hold.disabled;
    holdLabel.textContent = state === 'on-air' ? (latched ? 'On air' : 'Release to stop') : state === 'starting' ? 'Starting…' : 'Hold to talk';
    onAir.hidden = state !== 'on-air';
    const level = state === 'on-air' || state === 'starting' ? view.level : 0;
    fill.style.transform = `scaleX(${level.toFixed(3)})`;
    meter.setAttribute('aria-valuenow', String(Math.round(level * 100)));
    const name = other ? other.username || `user ${other.user_id}` : '';
    status.textContent = state === 'offline' ? 'The doorbell is offline.'
      : state === 'connecting' ? (view.connection === 'closed' ? 'Reconnecting to the hub…' : 'Connecting…')
        : state === 'busy' ? `${name} is talking.`
          : state === 'on-air' ? 'The visitor hears you.'
            : state === 'starting' ? 'Opening the microphone…' : '';
    if (takeover) takeover.hidden = state !== 'busy';
    const message = unavailable === 'insecure' ? 'Talking needs a secure connection: open the hub with https://.'
      : unavailable ? 'This browser cannot capture sound for talking.'
        : view.error && view.error.message ? view.error.message : '';
    error.hidden = !message;
    error.textContent = message;
    error.dataset.code = unavailable || (view.error && view.error.code) || '';
  }
  const unsubscribe = session.subscribe(draw);

  return {
    el,
    /** Whether this doorbell's talk is on air or latched (a toast stays while it is). */
    get active() { return session.view.phase !== 'idle' || latched; },
    stop() {
      unsubscribe();
      if (keyboard) {
        document.removeEventListener('keydown', keydown);
        document.removeEventListener('keyup', keyup);
        window.removeEventListener('blur', blur);
      }
      if (holding || latched) session.stopTalking();
      session.release();
    },
  };
}
