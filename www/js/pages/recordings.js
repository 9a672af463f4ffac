// Recordings of one doorbell (#/devices/ID/recordings, ?t=MS starts there):
// the recording player (js/timeline/playback.js) with play/pause, speed,
// sound, the wall-clock time of the picture and a way back to live view; the
// zoomable timeline (js/timeline/timeline.js) of recorded spans and event
// markers, where a click or a drag of the playhead seeks; downloads of a
// selected range or of the last minutes (GET .../export, a plain link); and
// the event list (js/timeline/events.js; recent rings offer quick replies
// to users with the talk right on the doorbell). Spans and markers are fetched for
// the visible window and refreshed every 10 s.

import { h, icon, button, toast } from '../ui.js';
import * as api from '../api.js';
import { devicePath, poller } from '../device-ui.js';
import { PlaybackPlayer } from '../timeline/playback.js';
import { createTimeline } from '../timeline/timeline.js';
import { createPreviewLoader } from '../timeline/previews.js';
import { createEventList, eventsQuery } from '../timeline/events.js';
import { fmtClock, fmtDay, fmtLength, exportFileName } from '../timeline/format.js';
import { canTalk } from '../talk/controls.js';

const ZOOMS = [
  { id: '24h', label: '24 h', span: 24 * 3600 * 1000 },
  { id: '1h', label: '1 h', span: 3600 * 1000 },
  { id: '10m', label: '10 min', span: 10 * 60 * 1000 },
];
const SPEEDS = [1, 2, 4, 8];
const LAST_MINUTES = [1, 5, 15, 30, 60];
const MARKER_LIMIT = 500;

const STATE_TEXT = {
  idle: 'Pick a time on the timeline',
  loading: 'Loading…',
  playing: 'Playing',
  paused: 'Paused',
  buffering: 'Buffering…',
  ended: 'End of the recording',
  nodata: 'No recording',
  error: 'Cannot play',
  stopped: 'Stopped',
};

export function mount(main, ctx) {
  const id = ctx.params.id;
  const liveHref = `#/devices/${encodeURIComponent(id)}`;
  let device = null;
  let spans = [];
  let loadedWindow = null;        // { from, to } the spans and markers cover
  let markers = [];
  let initialised = false;
  let talkAllowed = false;        // the user may talk to this doorbell (quick replies)

  /* ---------- player ---------- */

  const video = h('video', { class: 'live-video', 'data-testid': 'playback-video', muted: true, playsinline: true, 'aria-label': 'Recorded video' });
  const badge = h('span', { class: 'live-badge pb-badge', 'data-testid': 'playback-state', 'data-state': 'idle', text: STATE_TEXT.idle });
  const message = h('p', { class: 'live-message', hidden: true, 'data-testid': 'playback-message' });
  const box = h('div', { class: 'live-box pb-box' }, video, badge, message);
  let player = null;   // the constructor reports its first state already
  player = new PlaybackPlayer(video, {
    deviceId: id,
    onState(state, text) {
      badge.dataset.state = state;
      badge.textContent = STATE_TEXT[state] || state;
      message.hidden = !text;
      message.textContent = text || '';
      renderPlay();
    },
    onEnded: (wall) => continueAfter(wall),
  });

  const playBtn = button('Play', { icon: 'play', iconOnly: true, variant: 'btn-ghost pb-btn', 'data-testid': 'playback-play' });
  playBtn.addEventListener('click', () => togglePlay());
  const clockTime = h('span', { class: 'pb-time', text: '--:--:--' });
  const clockDay = h('span', { class: 'pb-day', text: '' });
  const clock = h('div', { class: 'pb-clock', 'data-testid': 'playback-clock', 'aria-live': 'off' }, clockTime, clockDay);
  const speedButtons = SPEEDS.map((s) => h('button', {
    type: 'button', class: 'seg-btn', 'aria-pressed': String(s === 1), 'data-testid': `playback-speed-${s}`, text: `×${s}`,
    'aria-label': `Speed ${s}×`, onclick: () => setSpeed(s),
  }));
  const muteBtn = button('Unmute', { icon: 'volume-off', iconOnly: true, variant: 'btn-ghost pb-btn', 'data-testid': 'playback-mute', 'aria-pressed': 'true' });
  muteBtn.addEventListener('click', () => {
    const muted = !video.muted;
    player.setMuted(muted);
    muteBtn.replaceChildren(icon(muted ? 'volume-off' : 'volume'));
    muteBtn.title = muted ? 'Unmute' : 'Mute';
    muteBtn.setAttribute('aria-label', muteBtn.title);
    muteBtn.setAttribute('aria-pressed', String(muted));
  });
  const liveBtn = h('a', { class: 'btn btn-secondary btn-sm pb-live', href: liveHref, 'data-testid': 'playback-live' },
    h('span', { class: 'pb-live-dot', 'aria-hidden': 'true' }), h('span', { class: 'btn-label', text: 'Live' }));
  const controls = h('div', { class: 'pb-controls' },
    playBtn, clock,
    h('div', { class: 'seg', role: 'group', 'aria-label': 'Playback speed' }, speedButtons),
    muteBtn, h('span', { class: 'live-spacer' }), liveBtn);

  /* ---------- timeline ---------- */

  const timeline = createTimeline({
    now: api.serverNow,
    onSeek: (t) => seekTo(t, true),
    onScrub: (t) => { const r = resolve(t); player.scrub(r ?? t); showTime(r ?? t); },
    onScrubEnd: (t) => seekTo(t, true),
    onSelect: (range) => renderSelection(range),
    onView: () => { renderZoom(); viewChanged(); },
    previews: createPreviewLoader(id),
  });
  const zoomButtons = ZOOMS.map((z) => h('button', {
    type: 'button', class: 'seg-btn', 'aria-pressed': 'false', 'data-testid': `zoom-${z.id}`, text: z.label,
    onclick: () => timeline.zoom(z.span),
  }));
  const back = button('Earlier', { icon: 'chevron-left', iconOnly: true, variant: 'btn-ghost', 'data-testid': 'timeline-earlier' });
  const forward = button('Later', { icon: 'chevron-right', iconOnly: true, variant: 'btn-ghost', 'data-testid': 'timeline-later' });
  back.addEventListener('click', () => { const v = timeline.view; timeline.pan(-(v.to - v.from) / 2); });
  forward.addEventListener('click', () => { const v = timeline.view; timeline.pan((v.to - v.from) / 2); });
  const nowBtn = button('Now', { variant: 'btn-ghost btn-sm', 'data-testid': 'timeline-now' });
  nowBtn.addEventListener('click', () => { const v = timeline.view; const n = api.serverNow(); timeline.setView(n - (v.to - v.from) * 0.9, n + (v.to - v.from) * 0.1); });
  const selectBtn = button('Select range', { icon: 'range', variant: 'btn-ghost btn-sm', 'data-testid': 'timeline-select', 'aria-pressed': 'false' });
  selectBtn.addEventListener('click', () => {
    const on = selectBtn.getAttribute('aria-pressed') !== 'true';
    selectBtn.setAttribute('aria-pressed', String(on));
    timeline.setSelectMode(on);
  });
  const viewDay = h('span', { class: 'tl-day muted', 'data-testid': 'timeline-day' });

  // Range download: the selection, or the last N minutes.
  const selText = h('span', { class: 'tl-sel-text', 'data-testid': 'selection-text' });
  const selDownload = h('a', { class: 'btn btn-primary btn-sm', 'data-testid': 'selection-download' }, icon('download'), h('span', { class: 'btn-label', text: 'Download' }));
  const selPlay = button('Play', { icon: 'play', variant: 'btn-secondary btn-sm', 'data-testid': 'selection-play' });
  const selClear = button('Clear', { icon: 'close', iconOnly: true, variant: 'btn-ghost', 'data-testid': 'selection-clear' });
  selPlay.addEventListener('click', () => { const s = timeline.selection; if (s) seekTo(s.from, true); });
  selClear.addEventListener('click', () => { timeline.setSelection(null); renderSelection(null); });
  const selBar = h('div', { class: 'tl-sel', hidden: true, 'data-testid': 'selection' }, icon('range'), selText, h('span', { class: 'live-spacer' }), selPlay, selDownload, selClear);
  const hint = h('p', { class: 'tl-hint muted small', text: 'Click to play from a moment, drag to scroll, Shift-drag or “Select range” to choose a span to download.' });
  const lastMinutes = h('select', { class: 'tl-select', 'data-testid': 'export-minutes', 'aria-label': 'Length of the download' },
    LAST_MINUTES.map((m) => h('option', { value: String(m), text: `Last ${m} min`, selected: m === 5 })));
  const lastDownload = h('a', { class: 'btn btn-secondary btn-sm', 'data-testid': 'export-last' }, icon('download'), h('span', { class: 'btn-label', text: 'Download' }));
  // The link is built when it is used, so "last 5 min" ends now.
  const armLast = () => {
    const to = Math.floor(api.serverNow());
    const from = to - Number(lastMinutes.value) * 60000;
    lastDownload.href = exportHref(from, to);
    lastDownload.setAttribute('download', exportFileName(deviceName(), from));
  };
  for (const type of ['pointerdown', 'focus', 'click', 'keydown']) lastDownload.addEventListener(type, armLast);
  armLast();

  /* ---------- events ---------- */

  const events = createEventList({
    deviceId: id,
    deviceName,
    now: api.serverNow,
    canReply: () => talkAllowed,
    onPlay: (e) => {
      const start = e.clip_start_ms ?? e.start_ms;
      const v = timeline.view;
      if (start < v.from || start > v.to || v.to - v.from > 3600 * 1000) timeline.setView(start - 2 * 60000, start + 8 * 60000);
      seekTo(start, true, { snap: false });
      box.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    },
    onFilters: () => loadMarkers(),
    onStarred: (e) => {
      markers = markers.map((m) => (m.event_id === e.event_id ? { ...m, starred: e.starred } : m));
      timeline.setEvents(markers);
    },
  });

  /* ---------- layout ---------- */

  const title = h('h1', { text: 'Recordings' });
  const sub = h('p', { class: 'page-sub muted', 'data-testid': 'recordings-device' });
  const warning = h('div', { class: 'callout callout-warn', role: 'status', hidden: true, 'data-testid': 'recordings-warning' });
  const exportBar = h('div', { class: 'tl-export', 'data-testid': 'export-bar' }, h('span', { class: 'muted small', text: 'Download' }), lastMinutes, lastDownload);
  const backLink = h('a', { class: 'back-link', href: liveHref }, icon('chevron-left'), h('span', { class: 'back-name', text: 'Doorbell' }));
  const body = h('div', { class: 'rec', 'data-testid': 'recordings' },
    h('div', { class: 'rec-main' },
      h('div', { class: 'card card-flush pb-card' }, box, controls),
      h('section', { class: 'card tl-card', 'aria-label': 'Timeline' },
        h('div', { class: 'tl-toolbar' },
          h('div', { class: 'seg', role: 'group', 'aria-label': 'Zoom' }, zoomButtons),
          h('div', { class: 'tl-nav' }, back, nowBtn, forward),
          viewDay, h('span', { class: 'live-spacer' }), selectBtn),
        timeline.el,
        selBar, hint,
        exportBar)),
    h('div', { class: 'rec-side' }, events.el));
  const missing = h('div', { class: 'empty', hidden: true, 'data-testid': 'recordings-missing' },
    h('div', { class: 'empty-art' }, icon('doorbell', 'empty-icon')),
    h('h2', { text: 'Doorbell not found' }),
    h('p', { class: 'muted', text: 'It may have been removed, or it is not shared with your account.' }),
    h('a', { class: 'btn btn-primary', href: '#/devices' }, h('span', { class: 'btn-label', text: 'Back to doorbells' })));

  main.append(h('section', { class: 'page' },
    backLink,
    h('div', { class: 'page-head' }, h('div', {}, title, sub)),
    warning, body, missing));

  /* ---------- behaviour ---------- */

  function deviceName() {
    return device ? device.name || device.id : id;
  }

  function exportHref(from, to) {
    return `${devicePath(id)}/export?from=${Math.floor(from)}&to=${Math.ceil(to)}`;
  }

  /*
   * Where a seek to t lands: inside a recorded span, t itself; in a hole,
   * the start of the next span; after the last one, null (nothing to show).
   * Unknown (spans not loaded there yet): t, and the hub decides.
   */
  function resolve(t) {
    if (!loadedWindow || t < loadedWindow.from || t > loadedWindow.to) return t;
    let next = null;
    for (const s of spans) {
      if (t >= s.start_ms && t < s.end_ms) return t;
      if (s.start_ms > t && (next === null || s.start_ms < next)) next = s.start_ms;
    }
    return next;
  }

  function seekTo(t, play, { snap = true } = {}) {
    const target = snap ? resolve(t) : t;
    if (target === null) {
      timeline.setPlayhead(t);
      showTime(t);
      toast('Nothing was recorded after this time.', 'info', 2500);
      return;
    }
    timeline.setPlayhead(target);
    showTime(target);
    player.seek(target, { play });
  }

  /* The stream ran out: go on at the next recording, or where it has grown to. */
  async function continueAfter(wall) {
    await loadSpans();
    const next = spans.find((s) => s.start_ms > wall + 500);
    const last = spans.length ? spans[spans.length - 1] : null;
    if (next) seekTo(next.start_ms, true, { snap: false });
    else if (last && last.end_ms > wall + 2000) seekTo(wall, true, { snap: false });
  }

  function togglePlay() {
    if (player.playing) player.pause();
    else if (player.wallMs === null) {
      const last = spans[spans.length - 1];
      if (last) seekTo(Math.max(last.start_ms, last.end_ms - 60000), true, { snap: false });
    } else player.play();
    renderPlay();
  }

  function renderPlay() {
    if (!player) return;
    const playing = player.playing;
    playBtn.replaceChildren(icon(playing ? 'pause' : 'play'));
    playBtn.title = playing ? 'Pause' : 'Play';
    playBtn.setAttribute('aria-label', playBtn.title);
  }

  function setSpeed(s) {
    player.setRate(s);
    speedButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(SPEEDS[i] === s)));
  }

  function showTime(ms) {
    if (ms === null || ms === undefined) return;
    const text = fmtClock(ms);
    if (clockTime.textContent !== text) clockTime.textContent = text;
    const day = fmtDay(ms, api.serverNow());
    if (clockDay.textContent !== day) clockDay.textContent = day;
    clock.dataset.wallMs = String(Math.round(ms));
  }

  function renderZoom() {
    const v = timeline.view;
    const span = v.to - v.from;
    zoomButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(Math.abs(ZOOMS[i].span - span) < 1000)));
    const first = fmtDay(v.from, api.serverNow());
    const last = fmtDay(v.to, api.serverNow());
    viewDay.textContent = first === last ? first : `${first} – ${last}`;
  }

  function renderSelection(range) {
    selBar.hidden = !range;
    hint.hidden = Boolean(range);
    if (!range) { selDownload.removeAttribute('href'); return; }
    selText.textContent = `${fmtClock(range.from)} – ${fmtClock(range.to)} · ${fmtLength(range.to - range.from)}`;
    selDownload.href = exportHref(range.from, range.to);
    selDownload.setAttribute('download', exportFileName(deviceName(), range.from));
  }

  /* ---------- data ---------- */

  // The window fetched around the view: half a view on each side.
  function wanted() {
    const v = timeline.view;
    const span = v.to - v.from;
    return { from: Math.floor(v.from - span / 2), to: Math.ceil(Math.min(v.to + span / 2, api.serverNow() + 60000)) };
  }

  let viewTimer = null;
  function viewChanged() {
    clearTimeout(viewTimer);
    viewTimer = setTimeout(() => {
      const v = timeline.view;
      if (!loadedWindow || v.from < loadedWindow.from || Math.min(v.to, api.serverNow()) > loadedWindow.to) refresh();
    }, 250);
  }

  let spansCtrl = null;
  async function loadSpans() {
    if (spansCtrl) spansCtrl.abort();
    const mine = new AbortController();
    spansCtrl = mine;
    const w = wanted();
    try {
      const data = await api.get(`${devicePath(id)}/recordings?from=${Math.max(0, w.from)}&to=${w.to}`, { signal: mine.signal });
      spans = ((data && data.recordings) || []).sort((a, b) => a.start_ms - b.start_ms);
      loadedWindow = w;
      timeline.setSpans(spans);
      timeline.track.dataset.spans = String(spans.length);
    } finally {
      if (spansCtrl === mine) spansCtrl = null;
    }
  }

  let markersCtrl = null;
  async function loadMarkers() {
    if (markersCtrl) markersCtrl.abort();
    const mine = new AbortController();
    markersCtrl = mine;
    const w = wanted();
    try {
      const q = eventsQuery(events.filters, { from: w.from, to: w.to, limit: MARKER_LIMIT });
      const data = await api.get(`${devicePath(id)}/events?${q}`, { signal: mine.signal });
      markers = (data && data.events) || [];
      timeline.setEvents(markers);
    } catch (e) {
      if (!api.isAbort(e) && !(e instanceof api.ApiError)) throw e;   // no events API: no markers
    } finally {
      if (markersCtrl === mine) markersCtrl = null;
    }
  }

  async function loadDevice(signal) {
    try {
      device = await api.get(devicePath(id), { signal });
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 404) {
        body.hidden = true;
        missing.hidden = false;
        player.stop();
        return false;
      }
      throw e;
    }
    const allowed = await canTalk(device, ctx.isAdmin);
    if (allowed !== talkAllowed) { talkAllowed = allowed; events.redraw(); }
    // Downloads need the export right (docs/security.md "Rights").
    const mayExport = !device.rights || device.rights.export;
    exportBar.hidden = !mayExport;
    selDownload.hidden = !mayExport;
    const name = deviceName();
    sub.textContent = name;
    backLink.querySelector('.back-name').textContent = name;
    ctx.setTitle(`Recordings · ${name}`);
    return true;
  }

  async function loadStorage() {
    if (!ctx.isAdmin) return;
    let data;
    try { data = await api.get('/api/v1/storage'); } catch { return; }
    const mine = ((data && data.devices) || []).find((d) => d.device_id === id);
    if (!mine || !mine.retention_cut_short) return;
    warning.replaceChildren(icon('alert'), h('p', {
      text: `Older recordings of this doorbell were deleted before their retention time to stay within the storage limits${mine.retention_cut_short_at_ms ? ` (last on ${fmtDay(mine.retention_cut_short_at_ms)} ${fmtClock(mine.retention_cut_short_at_ms)})` : ''}.`,
    }), h('a', { href: '#/settings', text: 'Storage settings' }));
    warning.hidden = false;
  }

  function refresh() {
    return Promise.all([loadSpans(), loadMarkers()]).catch((e) => {
      if (!api.isAbort(e) && !(e instanceof api.NetworkError) && !e.handled) console.error(e);
    });
  }

  /* The first time: the device, the last hour, and the position. */
  async function start(signal) {
    if (!(await loadDevice(signal))) return false;
    const n = api.serverNow();
    const t = Number(ctx.query.get('t'));
    if (Number.isFinite(t) && t > 0) timeline.setView(t - 10 * 60000, t + 50 * 60000, { notify: false });
    else timeline.setView(n - 55 * 60000, n + 5 * 60000, { notify: false });
    renderZoom();
    await refresh();
    if (Number.isFinite(t) && t > 0) {
      seekTo(t, true);
    } else if (spans.length) {
      // Show the last minute recorded, paused.
      const last = spans[spans.length - 1];
      seekTo(Math.max(last.start_ms, last.end_ms - 60000), false, { snap: false });
    } else {
      badge.textContent = 'No recordings yet';
    }
    loadStorage();
    return true;
  }

  // Playhead, clock and timeline follow the picture; the view pages along
  // when the playhead walks out of it (not when the user scrolled away).
  let raf = 0;
  let inView = false;
  const follow = () => {
    raf = requestAnimationFrame(follow);
    if (timeline.dragging) return;
    const wall = player.wallMs;
    if (wall === null) return;
    showTime(wall);
    timeline.setPlayhead(wall);
    const v = timeline.view;
    const visible = wall >= v.from && wall <= v.to;
    if (player.playing && inView && !visible) timeline.reveal(wall);
    else inView = visible;
  };
  raf = requestAnimationFrame(follow);

  const onKey = (e) => {
    if (e.key !== ' ' || e.repeat || e.defaultPrevented) return;
    const t = e.target;
    if (t !== document.body && t !== video && t !== timeline.track) return;
    e.preventDefault();
    togglePlay();
  };
  document.addEventListener('keydown', onKey);

  const poll = poller(async (signal) => {
    if (!initialised) { initialised = await start(signal); return; }
    await refresh();
    events.refresh();
  }, 10000);

  return () => {
    poll.stop();
    cancelAnimationFrame(raf);
    clearTimeout(viewTimer);
    document.removeEventListener('keydown', onKey);
    if (spansCtrl) spansCtrl.abort();
    if (markersCtrl) markersCtrl.abort();
    events.stop();
    timeline.destroy();
    player.stop();
  };
}
