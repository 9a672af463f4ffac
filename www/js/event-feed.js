// The hub's event feed (WebSocket /api/v1/events/live, docs/api.md): while
// someone is signed in, each tab keeps one socket that receives every new
// event of the doorbells its user may see. Events the hub says notify
// (`notify: "sent"`) become a toast: the doorbell's name, what happened and
// when, the event's picture (a placeholder until the doorbell's snapshot
// arrives), "Open live" (the doorbell's page) and a link to that moment of
// its recordings. A ring also chimes in every open tab and, while the tab is
// in the background, shows a system notification (js/browser-alerts.js). A
// ring's toast carries talk-back controls (js/talk/controls.js) when the user
// may talk to that doorbell, and stays while they talk. Pages may listen to
// every event with onEvent().

import { h, icon, button } from './ui.js';
import { playRingSound, notifyInBackground } from './browser-alerts.js';
import * as api from './api.js';
import { createTalkControls, canTalk } from './talk/controls.js';
import { listReplies, replyButtons } from './quick-replies.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
const TOAST_MS = 10000;
const RING_TOAST_MS = 30000;
// The event's picture may come a moment after the event: try again this often.
const PICTURE_RETRY_MS = 700;
const PICTURE_TRIES = 15;
// Events the doorbell takes a picture of (offline, online, low battery: none).
const PICTURED = new Set(['ring', 'motion', 'pir', 'person', 'package', 'package_delivered', 'package_taken', 'tamper']);

const WORDS = {
  ring: 'Someone rang the doorbell',
  motion: 'Motion',
  pir: 'Motion (PIR)',
  person: 'A person',
  package: 'A package',
  package_delivered: 'Package delivered',
  package_taken: 'Package taken',
  tamper: 'Tamper alarm',
  offline: 'The doorbell went offline',
  online: 'The doorbell is back online',
  low_battery: 'The battery is low',
};

let socket = null;
let running = false;
let admin = false;
const toastTalks = new Set();  // talk controls of open ring toasts
let retryMs = RETRY_MIN_MS;
let retryTimer = null;
const listeners = new Set();
const names = new Map(); // device id -> name, for the words of a toast

/** Call fn(event) for every event of the feed. Returns an unsubscribe function. */
export function onEvent(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** What an event says, in words: "Front door: Someone rang the doorbell". */
export function describeEvent(event) {
  const name = names.get(event.device_id) || 'Doorbell';
  return `${name}: ${WORDS[event.event_type] || event.event_type}`;
}

async function refreshNames() {
  try {
    const { devices } = await api.get('/api/v1/devices');
    for (const d of devices) names.set(d.id, d.name || d.id);
  } catch { /* the words fall back to "Doorbell" */ }
}

function eventLink(event) {
  return `#/devices/${encodeURIComponent(event.device_id)}/recordings?t=${encodeURIComponent(event.clip_start_ms)}`;
}

function liveLink(event) {
  return `#/devices/${encodeURIComponent(event.device_id)}`;
}

function eventPath(event) {
  return `/api/v1/devices/${encodeURIComponent(event.device_id)}/events/${encodeURIComponent(event.event_id)}`;
}

/*
 * The event's picture: a placeholder at once, the JPEG when the hub has it.
 * A ring's snapshot is taken as the button is pressed and reaches the hub a
 * moment after the event: until the event says has_snapshot, the event is
 * asked again a few times (not its picture, whose 404s would fill the
 * console). A picture that never comes leaves "No picture".
 */
function eventPicture(event, large) {
  const text = h('span', { text: 'Getting the picture…' });
  const placeholder = h('span', { class: 'toast-pic-ph', 'data-testid': 'toast-snapshot-placeholder' }, icon('doorbell'), text);
  const img = h('img', { class: 'toast-pic-img', alt: `${names.get(event.device_id) || 'Doorbell'} at the moment of the event`,
    'data-testid': 'toast-snapshot', decoding: 'async', hidden: true });
  const el = h('div', { class: ['toast-pic', large && 'toast-pic-large'] }, placeholder, img);
  let tries = 0;
  let timer = null;
  let stopped = false;
  const none = () => { text.textContent = 'No picture'; };
  img.addEventListener('load', () => { img.hidden = false; placeholder.hidden = true; });
  img.addEventListener('error', none);
  async function look() {
    if (stopped) return;
    tries++;
    try {
      const current = await api.get(eventPath(event));
      if (stopped) return;
      if (current && current.has_snapshot && current.thumbnail_url) { img.src = current.thumbnail_url; return; }
    } catch { /* asked again below */ }
    if (tries >= PICTURE_TRIES) none();
    else timer = setTimeout(look, PICTURE_RETRY_MS);
  }
  if (event.has_snapshot && event.thumbnail_url) img.src = event.thumbnail_url;
  else timer = setTimeout(look, PICTURE_RETRY_MS);
  return { el, stop: () => { stopped = true; clearTimeout(timer); } };
}

function fmtEventTime(ms) {
  const when = new Date(ms || Date.now());
  return when.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

async function showToast(event) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const ring = event.event_type === 'ring';
  const name = names.get(event.device_id) || 'Doorbell';
  const picture = PICTURED.has(event.event_type) || event.has_snapshot
    ? eventPicture(event, ring) : { el: h('span', { class: 'toast-icon' }, icon('info')), stop() {} };
  // The link's text reads "Front door: Someone rang the doorbell" (the colon
  // for screen readers); the name and the words show on two lines.
  const link = h('a', { class: 'toast-link', href: eventLink(event), 'data-testid': 'event-toast', 'data-event-id': String(event.event_id),
    title: 'Show this moment in the recordings' },
  h('strong', { class: 'toast-title', 'data-testid': 'toast-device', text: name }),
  h('span', { class: 'sr-only', text: ': ' }),
  h('span', { class: 'toast-what', text: WORDS[event.event_type] || event.event_type }));
  const time = h('time', { class: 'toast-time', 'data-testid': 'toast-time', datetime: new Date(event.start_ms || Date.now()).toISOString(),
    text: fmtEventTime(event.start_ms) });
  const openLive = button('Open live', { icon: 'video', variant: 'btn-primary btn-sm', 'data-testid': 'toast-open-live' });
  const timeline = h('a', { class: 'btn btn-sm toast-btn', href: eventLink(event), 'data-testid': 'toast-timeline' },
    icon('history'), h('span', { class: 'btn-label', text: 'Timeline' }));
  const close = button('Dismiss', { icon: 'close', iconOnly: true, variant: 'btn-sm toast-btn toast-close', 'data-testid': 'toast-close' });
  const item = h('div', { class: ['toast', 'toast-event', `toast-event-${event.event_type}`], role: ring ? 'alert' : 'status',
    'data-testid': ring ? 'ring-toast' : 'alert-toast', 'data-event-id': String(event.event_id) },
  h('div', { class: 'toast-event-head' },
    ring ? null : picture.el,
    h('div', { class: 'toast-text' }, link, time),
    close),
  ring ? picture.el : null,
  h('div', { class: 'toast-actions' }, openLive, timeline));
  let talk = null;
  if (ring && await canTalk({ id: event.device_id }, admin) && running) {
    talk = createTalkControls({ deviceId: event.device_id, name: names.get(event.device_id) || '', isAdmin: admin, variant: 'toast' });
    toastTalks.add(talk);
    item.classList.add('toast-talk');
    item.append(talk.el);
  }
  region.appendChild(item);
  // A ring, to someone who may speak through the doorbell: the quick replies
  // to answer with, in their own box beside the link.
  let replies = null;
  if (ring && talk) {
    replies = h('div', { class: ['toast', 'toast-replies'], 'data-testid': 'ring-toast-replies' });
    region.appendChild(replies);
    listReplies().then((list) => replies.replaceChildren(...replyButtons(event.device_id, list)));
  }
  let gone = false;
  const remove = () => {
    if (gone) return;
    gone = true;
    picture.stop();
    if (talk) { talk.stop(); toastTalks.delete(talk); }
    for (const el of [item, replies]) if (el) { el.classList.add('leaving'); setTimeout(() => el.remove(), 250); }
  };
  const leave = () => {
    if (gone) return;
    if (talk && talk.active && running) { setTimeout(leave, 1000); return; }
    remove();
  };
  openLive.addEventListener('click', () => { window.location.hash = liveLink(event); if (!(talk && talk.active)) remove(); });
  timeline.addEventListener('click', () => { if (!(talk && talk.active)) remove(); });
  close.addEventListener('click', remove);
  setTimeout(leave, ring ? RING_TOAST_MS : TOAST_MS);
}

function showSystemNotification(event) {
  notifyInBackground({
    title: names.get(event.device_id) || 'Doorbell',
    body: `${WORDS[event.event_type] || event.event_type} · ${fmtEventTime(event.start_ms)}`,
    tag: `doorstep-event-${event.event_id}`,
    link: `/${liveLink(event)}`,
    onOpen: () => { window.location.hash = liveLink(event); },
  });
}

async function handle(event) {
  if (!names.has(event.device_id)) await refreshNames();
  if (event.notify === 'sent') {
    showToast(event);
    if (event.event_type === 'ring') playRingSound();
    showSystemNotification(event);
  }
  for (const fn of listeners) {
    try { fn(event); } catch (error) { console.error(error); }
  }
}

function connect() {
  if (!running) return;
  const url = new URL('/api/v1/events/live', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(url);
  socket.addEventListener('open', () => {
    retryMs = RETRY_MIN_MS;
    document.documentElement.dataset.eventFeed = 'open'; // for tests and styling
  });
  socket.addEventListener('message', (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    if (data && data.type === 'event' && data.event) handle(data.event);
  });
  socket.addEventListener('close', () => {
    socket = null;
    delete document.documentElement.dataset.eventFeed;
    if (!running) return;
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  });
}

/** Open the feed (idempotent): call once signed in; isAdmin: the user's role (talk in ring toasts). */
export function startEventFeed({ isAdmin = false } = {}) {
  admin = Boolean(isAdmin);
  if (running) return;
  running = true;
  refreshNames();
  connect();
}

/** Close it: call on sign-out. */
export function stopEventFeed() {
  running = false;
  clearTimeout(retryTimer);
  if (socket) socket.close();
  socket = null;
  names.clear();
  for (const talk of toastTalks) talk.stop();
  toastTalks.clear();
}
