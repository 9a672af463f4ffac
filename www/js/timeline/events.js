// Event list of the recordings page: filters (types, starred only), one row
// per event newest first (thumbnail with its detection boxes, type, time,
// length, star toggle, play, download of its clip), 50 at a time with "Load
// more"; a click on the thumbnail opens the event's detail (its snapshot
// with the boxes drawn over it, type, time, score, what the event engine
// decided about notifying, star, play, download). Rings of the last 10
// minutes offer a quick-reply menu (js/quick-replies.js) to users who may
// talk to the doorbell (canReply()). Reads GET
// /api/v1/devices/{id}/events and stars through POST
// .../events/{event_id}/star; rows are kept by event id so a refresh does
// not reload their thumbnails.

import { h, icon, button, replace, toast, openDialog, fmtDateTime, DASH } from '../ui.js';
import * as api from '../api.js';
import { devicePath } from '../device-ui.js';
import { fmtClock, fmtRelativeDay, fmtLength, eventName, exportFileName } from './format.js';
import { replyMenu } from '../quick-replies.js';

const PAGE = 50;
const TYPES = ['ring', 'motion', 'person', 'package', 'pir'];
// A filter chip that stands for several event types.
const TYPE_GROUPS = { package: ['package_delivered', 'package_taken'] };
// A quick reply answers a visitor still at the door: rings this recent only.
export const REPLY_WINDOW_MS = 10 * 60 * 1000;

/** The events query string for filters { types: Set, starred } and a window. */
export function eventsQuery({ types, starred }, { from = 0, to, limit = PAGE, offset = 0 }) {
  const q = new URLSearchParams({ from: String(Math.max(0, Math.floor(from))), to: String(Math.ceil(to)), limit: String(limit), offset: String(offset) });
  if (types.size) q.set('type', [...types].flatMap((type) => TYPE_GROUPS[type] || [type]).join(','));
  if (starred) q.set('starred', '1');
  return q.toString();
}

/** The export link of an event's clip (the hub gives one; built from the clip times otherwise). */
export function clipUrl(deviceId, e) {
  if (e.video_url) return e.video_url;
  const from = e.clip_start_ms ?? e.start_ms;
  const to = e.clip_end_ms ?? e.end_ms ?? from + 30000;
  return `${devicePath(deviceId)}/export?from=${Math.floor(from)}&to=${Math.ceil(to)}`;
}

/**
 * createEventList({ deviceId, deviceName(), onPlay(event), onFilters(filters),
 * onStarred(event), now(), canReply() }) -> { el, filters, refresh(),
 * redraw(), stop() }. canReply(): whether the user may talk to the
 * doorbell (recent rings then get the "Reply" menu); redraw() draws the
 * rows again (after canReply changed).
 */
export function createEventList({ deviceId, deviceName, onPlay, onFilters, onStarred, now = Date.now, canReply = () => false }) {
  const filters = { types: new Set(), starred: false };
  const rows = new Map();           // event_id -> row controller
  let loaded = 0;                   // rows shown (pages fetched * PAGE)
  let ctrl = null;

  const chips = new Map();
  const allChip = chip('All', 'event-filter-all', () => { filters.types.clear(); changed(); });
  for (const type of TYPES) {
    chips.set(type, chip(eventName(type), `event-filter-${type}`, () => {
      if (filters.types.has(type)) filters.types.delete(type); else filters.types.add(type);
      changed();
    }));
  }
  const starredChip = chip('Starred', 'event-filter-starred', () => { filters.starred = !filters.starred; changed(); }, 'star');
  const list = h('ul', { class: 'ev-list', 'data-testid': 'event-list', 'aria-label': 'Events' });
  const status = h('p', { class: 'ev-status muted', role: 'status' });
  const more = button('Load more', { variant: 'btn-secondary btn-sm', 'data-testid': 'event-more', hidden: true });
  more.addEventListener('click', () => load(loaded, PAGE));

  const el = h('section', { class: 'card panel ev-panel', 'aria-labelledby': 'ev-title' },
    h('div', { class: 'ev-head' },
      h('h2', { class: 'section-title', id: 'ev-title' }, icon('alert'), h('span', { text: 'Events' }))),
    h('div', { class: 'chips', role: 'group', 'aria-label': 'Show events of type' }, allChip, [...chips.values()], starredChip),
    list, status, more);

  function chip(label, testid, onclick, iconName = null) {
    return h('button', { type: 'button', class: 'chip', 'aria-pressed': 'false', 'data-testid': testid, onclick },
      iconName ? icon(iconName) : null, h('span', { text: label }));
  }

  function renderChips() {
    allChip.setAttribute('aria-pressed', String(filters.types.size === 0));
    for (const [type, c] of chips) c.setAttribute('aria-pressed', String(filters.types.has(type)));
    starredChip.setAttribute('aria-pressed', String(filters.starred));
  }

  function changed() {
    renderChips();
    for (const row of rows.values()) row.el.remove();
    rows.clear();
    loaded = 0;
    load(0, PAGE);
    if (onFilters) onFilters(filters);
  }

  /* Fetch rows [offset, offset + limit); offset 0 replaces the list. */
  async function load(offset, limit) {
    if (ctrl) ctrl.abort();
    const mine = new AbortController();
    ctrl = mine;
    if (!rows.size) status.textContent = 'Loading events…';
    let data;
    try {
      data = await api.get(`${devicePath(deviceId)}/events?${eventsQuery(filters, { to: now() + 60000, limit, offset })}`, { signal: mine.signal });
    } catch (e) {
      if (api.isAbort(e) || e.handled) return;
      if (ctrl === mine) ctrl = null;
      if (!rows.size) {
        status.textContent = e instanceof api.NetworkError ? 'The hub is unreachable.'
          : e instanceof api.ApiError && e.status === 404 ? 'Events are not available on this hub.' : `Could not load events: ${e.message}`;
      }
      return;
    }
    if (ctrl !== mine) return;
    ctrl = null;
    const events = (data && data.events) || [];
    const page = (data && data.pagination) || {};
    show(events, offset);
    loaded = offset + events.length;
    more.hidden = !page.has_more;
    status.textContent = rows.size ? '' : filters.starred || filters.types.size ? 'No events match these filters.' : 'No events yet.';
  }

  /* Put events at positions offset.. of the list, reusing rows by id. From
   * offset 0 (a refresh fetches all that is shown) rows not in it go. */
  function show(events, offset) {
    if (offset === 0) {
      const keep = new Set(events.map((e) => e.event_id));
      for (const [eventId, row] of rows) if (!keep.has(eventId)) { row.el.remove(); rows.delete(eventId); }
    }
    events.forEach((e, i) => {
      let row = rows.get(e.event_id);
      if (!row) { row = eventRow(e); rows.set(e.event_id, row); }
      row.update(e);
      const at = list.children[offset + i] || null;
      if (at !== row.el) list.insertBefore(row.el, at);
    });
  }

  function eventRow(initial) {
    let ev = initial;
    const img = h('img', { class: 'ev-img', alt: '', loading: 'lazy', decoding: 'async', 'data-testid': 'event-thumbnail' });
    const noImg = h('span', { class: 'ev-noimg' }, icon('camera-off'));
    const boxes = h('span', { class: 'ev-boxes', 'aria-hidden': 'true' });
    const length = h('span', { class: 'ev-length' });
    const thumb = h('button', { type: 'button', class: 'ev-thumb', 'data-testid': 'event-thumb' }, img, noImg, boxes, length);
    let detail = null;               // the open detail dialog of this event
    const type = h('span', { class: 'ev-type', 'data-testid': 'event-type' });
    const time = h('time', { class: 'ev-time', 'data-testid': 'event-time' });
    const day = h('span', { class: 'ev-day muted' });
    const star = h('button', { type: 'button', class: 'btn btn-ghost btn-icon ev-star', 'data-testid': 'event-star' }, icon('star'));
    const play = button('Play', { icon: 'play', iconOnly: true, variant: 'btn-ghost', 'data-testid': 'event-play' });
    const download = h('a', { class: 'btn btn-ghost btn-icon', 'data-testid': 'event-download' }, icon('download'));
    const el = h('li', { class: 'ev', 'data-testid': 'event-item' },
      thumb,
      h('div', { class: 'ev-body' }, time, h('div', { class: 'ev-line' }, type), day),
      h('div', { class: 'ev-actions' }, star, play, download));
    let reply = null;                // the "Reply" menu of a recent ring

    img.addEventListener('error', () => { img.hidden = true; noImg.hidden = false; });
    img.addEventListener('load', () => { noImg.hidden = true; });
    const playIt = () => onPlay(ev);
    thumb.addEventListener('click', () => {
      detail = openEventDetail(ev, {
        deviceId, deviceName, onPlay: playIt, onStar: () => toggleStar(),
        onClose: () => { detail = null; },
      });
    });
    play.addEventListener('click', playIt);
    star.addEventListener('click', () => toggleStar());

    async function toggleStar() {
      const want = !ev.starred;
      update({ ...ev, starred: want });
      star.disabled = true;
      try {
        const result = await api.post(`${devicePath(deviceId)}/events/${encodeURIComponent(ev.event_id)}/star`, { starred: want });
        update(result && result.event_id !== undefined ? result : { ...ev, starred: want });
        if (onStarred) onStarred(ev);
      } catch (e) {
        update({ ...ev, starred: !want });
        if (!e.handled) toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not ${want ? 'star' : 'unstar'} the event: ${e.message}`, 'error');
      } finally {
        star.disabled = false;
      }
    }

    function update(e) {
      ev = e;
      if (detail) detail.update(e);
      const name = eventName(e.event_type);
      const at = e.start_ms ?? Date.parse(e.timestamp);
      el.dataset.eventId = String(e.event_id);
      el.dataset.eventType = e.event_type;
      el.classList.toggle('is-starred', Boolean(e.starred));
      // A person event says so with the detector's confidence: "Person · 87 %".
      const person = e.event_type === 'person' && typeof e.score === 'number';
      type.textContent = person ? `${name} · ${Math.round(e.score * 100)} %` : name;
      el.dataset.trigger = e.trigger || e.event_type;
      type.className = `ev-type ev-type-${/^[a-z_]+$/.test(e.event_type) ? e.event_type : 'other'}`;
      time.textContent = fmtClock(at);
      time.dateTime = new Date(at).toISOString();
      const seconds = e.duration_seconds ?? (e.end_ms > e.start_ms ? (e.end_ms - e.start_ms) / 1000 : null);
      day.textContent = `${fmtRelativeDay(at, now())}${seconds ? ` · ${fmtLength(seconds * 1000)}` : ''}${e.score && e.event_type !== 'ring' && !person ? ` · ${Math.round(e.score * 100)} %` : ''}${e.auto_reply_id ? ' · auto-reply played' : ''}`;
      el.dataset.autoReply = e.auto_reply_id ? String(e.auto_reply_id) : '';
      length.textContent = seconds ? fmtLength(seconds * 1000) : DASH;
      length.hidden = !seconds;
      if (e.has_snapshot && e.thumbnail_url) {
        if (img.getAttribute('src') !== e.thumbnail_url) img.src = e.thumbnail_url;
        img.hidden = false;
      } else {
        img.hidden = true;
        noImg.hidden = false;
      }
      replace(boxes, (e.boxes || []).slice(0, 8).map((b) => h('span', { class: 'ev-box', style: {
        left: `${pct(b.x)}%`, top: `${pct(b.y)}%`, width: `${pct(b.w)}%`, height: `${pct(b.h)}%` } })));
      thumb.setAttribute('aria-label', `Details of ${name.toLowerCase()} at ${fmtClock(at)}`);
      star.setAttribute('aria-pressed', String(Boolean(e.starred)));
      star.title = e.starred ? 'Unstar (recording may be deleted by retention)' : 'Star (keep this recording)';
      star.setAttribute('aria-label', e.starred ? `Unstar ${name.toLowerCase()} at ${fmtClock(at)}` : `Star ${name.toLowerCase()} at ${fmtClock(at)}`);
      replace(star, icon(e.starred ? 'star-filled' : 'star'));
      download.href = clipUrl(deviceId, e);
      download.setAttribute('download', exportFileName(deviceName(), e.clip_start_ms ?? at));
      download.title = 'Download the clip';
      download.setAttribute('aria-label', `Download the clip of ${name.toLowerCase()} at ${fmtClock(at)}`);
      updateReply(e, at);
    }

    // A ring of the last REPLY_WINDOW_MS, for a user who may talk: the
    // quick-reply menu (kept while it is open, even once the ring is older).
    function updateReply(e, at) {
      const recent = e.event_type === 'ring' && canReply() && now() - at < REPLY_WINDOW_MS;
      if (recent && !reply) {
        reply = h('div', { class: 'ev-reply', 'data-testid': 'event-reply' }, replyMenu(deviceId));
        el.append(reply);
      } else if (!recent && reply && !reply.querySelector('details[open]')) {
        reply.remove();
        reply = null;
      }
    }
    return { el, update, redraw: () => update(ev), closeDetail: () => { if (detail) detail.close(); } };
  }

  renderChips();
  load(0, PAGE);
  return {
    el,
    filters,
    /** Fetch again what is shown (new events come in at the top). */
    refresh() { if (!ctrl) load(0, Math.max(PAGE, loaded)); },
    redraw() { for (const row of rows.values()) row.redraw(); },
    stop() {
      if (ctrl) ctrl.abort();
      for (const row of rows.values()) row.closeDetail();
    },
  };
}

const NOTIFY_TEXT = {
  sent: 'Sent',
  cooldown: 'Not sent: within the cooldown',
  mode: 'Not sent: the mode leaves it out',
  '': 'Not decided yet',
};

/**
 * Draw normalised boxes ({x, y, w, h} in 0..1 of the picture) into layer as
 * absolutely positioned elements; label names each box (with the box's
 * confidence when it has one, as person boxes do). Returns how many
 * were drawn (malformed boxes are skipped).
 */
export function drawBoxes(layer, boxes, label = '') {
  // A person box carries the detector's confidence: "Person 87 %".
  const boxLabel = (text, b) => (Number.isFinite(Number(b.confidence)) ? `${text} ${Math.round(Number(b.confidence) * 100)} %` : text);
  const valid = (Array.isArray(boxes) ? boxes : []).filter((b) => b && [b.x, b.y, b.w, b.h].every((v) => Number.isFinite(Number(v))) && b.w > 0 && b.h > 0);
  replace(layer, valid.slice(0, 32).map((b) => h('div', { class: 'evd-box', 'data-testid': 'event-detail-box', style: {
    left: `${pct(b.x)}%`, top: `${pct(b.y)}%`,
    width: `${Math.min(pct(b.w), 100 - pct(b.x))}%`, height: `${Math.min(pct(b.h), 100 - pct(b.y))}%` } },
  // A box at the very top keeps its label inside the picture.
  label ? h('span', { class: ['evd-box-label', Number(b.y) < 0.08 ? 'evd-box-label-in' : ''], 'data-testid': 'event-detail-box-label', text: boxLabel(label, b) }) : null)));
  return Math.min(valid.length, 32);
}

/**
 * The snapshot of event e with its boxes over it: { el, update(e) }. The
 * figure takes the picture's own aspect ratio, so the boxes (fractions of
 * the picture) land where they belong.
 */
export function eventFigure(e) {
  const img = h('img', { class: 'evd-img', alt: '', decoding: 'async', 'data-testid': 'event-detail-image' });
  const noImg = h('div', { class: 'evd-noimg', 'data-testid': 'event-detail-noimage' }, icon('camera-off'), h('span', { text: 'No snapshot of this event' }));
  const layer = h('div', { class: 'evd-boxes', 'aria-hidden': 'true', 'data-testid': 'event-detail-boxes' });
  const el = h('figure', { class: 'evd-figure', 'data-testid': 'event-detail-figure' }, img, noImg, layer);
  img.addEventListener('load', () => {
    if (img.naturalWidth && img.naturalHeight) el.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    noImg.hidden = true;
  });
  img.addEventListener('error', () => { img.hidden = true; noImg.hidden = false; });
  function update(ev) {
    const has = Boolean(ev.has_snapshot && ev.thumbnail_url);
    if (has && img.getAttribute('src') !== ev.thumbnail_url) img.src = ev.thumbnail_url;
    img.hidden = !has;
    noImg.hidden = has;
    img.alt = has ? `Snapshot of the ${eventName(ev.event_type).toLowerCase()} event` : '';
    const count = drawBoxes(layer, ev.boxes, ev.event_type === 'ring' ? '' : eventName(ev.event_type));
    layer.dataset.boxes = String(count);
  }
  update(e);
  return { el, update };
}

/*
 * The detail dialog of an event: its figure, facts, and star / play /
 * download. onStar() toggles the star (the row does the request and calls
 * update() with the result); onPlay() plays it after the dialog closes.
 * Returns { update(e), close() }.
 */
export function openEventDetail(initial, { deviceId, deviceName, onPlay, onStar, onClose }) {
  let ev = initial;
  const { body, close } = openDialog({ title: 'Event', testid: 'event-detail', wide: true, onClose });
  const figure = eventFigure(ev);
  const facts = h('dl', { class: 'evd-facts', 'data-testid': 'event-detail-facts' });
  const star = button('Star', { icon: 'star', variant: 'btn-secondary evd-star', 'data-testid': 'event-detail-star' });
  const play = button('Play', { icon: 'play', variant: 'btn-primary', 'data-testid': 'event-detail-play' });
  const download = h('a', { class: 'btn btn-secondary', 'data-testid': 'event-detail-download' }, icon('download'), h('span', { class: 'btn-label', text: 'Download clip' }));
  star.addEventListener('click', () => onStar());
  play.addEventListener('click', () => { close(); onPlay(); });
  body.append(h('div', { class: 'evd' }, figure.el, facts, h('div', { class: 'evd-actions' }, play, download, star)));
  const title = body.parentElement.querySelector('.dialog-head h2');

  function fact(label, value, testid) {
    return h('div', {}, h('dt', { text: label }), h('dd', { 'data-testid': testid, text: value }));
  }

  function update(e) {
    ev = e;
    const at = e.start_ms ?? Date.parse(e.timestamp);
    const seconds = e.duration_seconds ?? (e.end_ms > e.start_ms ? (e.end_ms - e.start_ms) / 1000 : null);
    const boxes = Array.isArray(e.boxes) ? e.boxes.length : 0;
    title.textContent = `${eventName(e.event_type)} at ${fmtClock(at)}`;
    figure.update(e);
    replace(facts,
      fact('Type', eventName(e.event_type), 'event-detail-type'),
      fact('Time', fmtDateTime(at), 'event-detail-time'),
      fact('Length', seconds ? fmtLength(seconds * 1000) : e.active ? 'Going on' : DASH, 'event-detail-length'),
      fact(e.event_type === 'person' ? 'Confidence' : 'Score', typeof e.score === 'number' ? `${Math.round(e.score * 100)} %` : DASH, 'event-detail-score'),
      e.trigger && e.trigger !== e.event_type ? fact('Seen by', eventName(e.trigger), 'event-detail-trigger') : null,
      fact('Notification', NOTIFY_TEXT[e.notify ?? ''] || e.notify, 'event-detail-notify'),
      fact('Detections', boxes ? `${boxes} ${boxes === 1 ? 'box' : 'boxes'}` : 'none', 'event-detail-detections'));
    star.setAttribute('aria-pressed', String(Boolean(e.starred)));
    replace(star, icon(e.starred ? 'star-filled' : 'star'), h('span', { class: 'btn-label', text: e.starred ? 'Starred' : 'Star' }));
    star.title = e.starred ? 'Unstar (the recording may be deleted by retention)' : 'Star (keep this recording)';
    download.href = clipUrl(deviceId, e);
    download.setAttribute('download', exportFileName(deviceName(), e.clip_start_ms ?? at));
  }
  update(ev);
  return { update, close };
}

const pct = (v) => Math.round(Math.min(1, Math.max(0, Number(v) || 0)) * 1000) / 10;
