// The hub's event feed (WebSocket /api/v1/events/live, docs/api.md): while
// someone is signed in, each tab keeps one socket that receives every new
// event of the doorbells its user may see. Events the hub says notify
// (`notify: "sent"`) become a toast linking to that moment of the doorbell's
// recordings, and a system notification when the tab is hidden and the user
// allowed them. A ring's toast carries talk-back controls
// (js/talk/controls.js) when the user may talk to that doorbell, and stays
// while they talk. Pages may listen to every event with onEvent().

import { h, icon } from './ui.js';
import * as api from './api.js';
import { createTalkControls, canTalk } from './talk/controls.js';
import { listReplies, replyButtons } from './quick-replies.js';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;
const TOAST_MS = 10000;

const WORDS = {
  ring: 'Someone rang the doorbell',
  motion: 'Motion',
  pir: 'Motion (PIR)',
  person: 'A person',
  package: 'A package',
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

/** Ask for permission to show system notifications (from a user gesture). */
export async function enableSystemNotifications() {
  if (!('Notification' in window)) return 'unsupported';
  return Notification.requestPermission();
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

async function showToast(event) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const thumb = event.has_snapshot && event.thumbnail_url
    ? h('img', { class: 'event-toast-thumb', src: event.thumbnail_url, alt: '', width: 64, height: 36 }) : null;
  const link = h('a', { class: ['toast', 'toast-event', `toast-event-${event.event_type}`], href: eventLink(event),
    role: 'status', 'data-testid': 'event-toast', 'data-event-id': String(event.event_id) },
  icon(event.event_type === 'ring' ? 'doorbell' : 'info'), thumb,
  h('span', { text: describeEvent(event) }));
  let item = link;
  let talk = null;
  if (event.event_type === 'ring' && await canTalk({ id: event.device_id }, admin) && running) {
    talk = createTalkControls({ deviceId: event.device_id, name: names.get(event.device_id) || '', isAdmin: admin, variant: 'toast' });
    toastTalks.add(talk);
    item = h('div', { class: 'toast toast-talk', 'data-testid': 'ring-toast' }, link, talk.el);
  }
  region.appendChild(item);
  // A ring, to someone who may speak through the doorbell: the quick replies
  // to answer with, in their own box beside the link.
  let replies = null;
  if (event.event_type === 'ring' && talk) {
    replies = h('div', { class: ['toast', 'toast-replies'], 'data-testid': 'ring-toast-replies' });
    region.appendChild(replies);
    listReplies().then((list) => replies.replaceChildren(...replyButtons(event.device_id, list)));
  }
  const leave = () => {
    if (talk && talk.active && running) { setTimeout(leave, 1000); return; }
    if (talk) { talk.stop(); toastTalks.delete(talk); }
    for (const el of [item, replies]) if (el) { el.classList.add('leaving'); setTimeout(() => el.remove(), 250); }
  };
  setTimeout(leave, TOAST_MS);
}

function showSystemNotification(event) {
  if (!('Notification' in window) || Notification.permission !== 'granted' || !document.hidden) return;
  const notification = new Notification(describeEvent(event), {
    tag: `doorstep-event-${event.event_id}`,
    icon: '/icons/logo.svg',
  });
  notification.onclick = () => { window.focus(); window.location.hash = eventLink(event); notification.close(); };
}

async function handle(event) {
  if (!names.has(event.device_id)) await refreshNames();
  if (event.notify === 'sent') {
    showToast(event);
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
