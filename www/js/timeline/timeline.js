// The zoomable timeline of the recordings page, drawn on a <canvas>: a time
// ruler in local time, the recorded spans, event markers (thumbnail on
// hover), the playhead and a selected range. Pointer: a click seeks; dragging
// the playhead scrubs; dragging elsewhere pans (or selects a range in select
// mode, or with Shift); wheel and pinch zoom around the pointer. Keyboard
// (the track is a focusable slider): arrows move the playhead, +/- zoom,
// PageUp/PageDown pan. Colours come from CSS custom properties of
// css/timeline.css, read again when the colour scheme changes.
// The track carries data-view-from/-to and data-playhead-ms for tests.
// Hovering over recorded footage with a mouse, or dragging the playhead with
// a finger, shows the doorbell's preview picture of that instant above the
// pointer (previews.js);
// its box has a fixed size, so nothing moves while pictures load.

import { h } from '../ui.js';
import { fmtClock, fmtHourMinute, fmtDay, eventName } from './format.js';

const MIN_SPAN = 60 * 1000;
const MAX_SPAN = 7 * 24 * 3600 * 1000;
const HEIGHT = 92;
const RULER = { labelY: 13, tickTop: 18, tickBottom: 24 };
const TRACK = { top: 28, height: 30 };
const EVENTS = { y: 74, hit: 12 };
const GRAB_PX = 12;               // distance at which the playhead or a selection edge is grabbed
const CLICK_PX = 4;               // movement still counted as a click
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
  .map((s) => s * 1000);

/**
 * createTimeline({ onSeek(ms), onScrub(ms), onScrubEnd(ms), onSelect(range|null), onView(view),
 * now(), previews (a createPreviewLoader(), optional) }) -> { el, setView, zoom, pan, setSpans, setEvents, setPlayhead, reveal, setSelectMode,
 * setSelection, view, selection, destroy }.
 */
export function createTimeline({ onSeek, onScrub, onScrubEnd, onSelect, onView, now = Date.now, previews = null }) {
  const canvas = h('canvas', { class: 'tl-canvas', 'aria-hidden': 'true' });
  const tipImg = h('img', { class: 'tl-tip-img', alt: '', decoding: 'async', hidden: true });
  const previewImg = h('img', { class: 'tl-preview-img', alt: '', decoding: 'async', hidden: true, 'data-testid': 'timeline-preview' });
  const previewBox = h('div', { class: 'tl-preview', hidden: true }, previewImg);
  const tipText = h('span', { class: 'tl-tip-text' });
  const tip = h('div', { class: 'tl-tip', hidden: true, 'data-testid': 'timeline-tip' }, tipImg, previewBox, tipText);
  const track = h('div', {
    class: 'tl-track', role: 'slider', tabindex: '0', 'data-testid': 'timeline',
    'aria-label': 'Timeline: arrows move the playhead, plus and minus zoom, Page Up and Page Down scroll',
  }, canvas, tip);
  const el = h('div', { class: 'tl' }, track);

  const state = {
    view: { from: 0, to: 1 }, spans: [], events: [], playhead: null, selection: null,
    hover: null, hoverEvent: null, selectMode: false, width: 0,
  };
  let colors = null;              // read on the first drawing: the track must be in the document
  let frame = 0;
  const pointers = new Map();     // pointerId -> { x, y }
  let gesture = null;             // the current drag, see onPointerDown

  const x = (ms) => ((ms - state.view.from) / (state.view.to - state.view.from)) * state.width;
  const timeAt = (px) => state.view.from + (px / state.width) * (state.view.to - state.view.from);
  const localX = (e) => e.clientX - track.getBoundingClientRect().left;

  function readColors() {
    const style = getComputedStyle(track);
    const get = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    return {
      bg: get('--tl-bg', '#eef1f5'), grid: get('--tl-grid', '#d5dae2'), text: get('--tl-text', '#5a6474'),
      span: get('--tl-span', '#2563eb'), future: get('--tl-future', 'rgba(0,0,0,.04)'),
      playhead: get('--tl-playhead', '#dc2626'), select: get('--tl-select', 'rgba(37,99,235,.18)'),
      selectEdge: get('--tl-select-edge', '#2563eb'), hover: get('--tl-hover', 'rgba(0,0,0,.35)'),
      ring: get('--tl-ring', '#f59e0b'), motion: get('--tl-motion', '#8b94a3'), other: get('--tl-other', '#0ea5a4'),
      star: get('--tl-star', '#eab308'), markerEdge: get('--tl-marker-edge', '#ffffff'),
      font: `600 11px ${style.fontFamily || 'system-ui, sans-serif'}`,
    };
  }

  /* ---------- drawing ---------- */

  function redraw() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    const width = track.clientWidth;
    if (!width) return;
    const dpr = window.devicePixelRatio || 1;
    if (state.width !== width || canvas.width !== Math.round(width * dpr)) {
      state.width = width;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(HEIGHT * dpr);
      canvas.style.height = `${HEIGHT}px`;
    }
    if (!colors) colors = readColors();
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    ctx.fillStyle = colors.bg;
    roundRect(ctx, 0, TRACK.top, width, TRACK.height, 6);
    ctx.fill();
    drawRuler(ctx, width);
    const nowX = x(now());
    if (nowX < width) {
      ctx.fillStyle = colors.future;
      ctx.fillRect(Math.max(0, nowX), TRACK.top, width - Math.max(0, nowX), HEIGHT - TRACK.top);
    }
    drawSpans(ctx, width);
    drawSelection(ctx, width);
    drawEvents(ctx, width);
    if (state.hover !== null && !gesture && !state.hoverEvent) {
      ctx.fillStyle = colors.hover;
      ctx.fillRect(Math.round(state.hover) - 0.5, TRACK.top, 1, TRACK.height);
    }
    drawPlayhead(ctx, width);
    updateAria();
  }

  function drawRuler(ctx, width) {
    const span = state.view.to - state.view.from;
    const msPerPx = span / width;
    const major = STEPS.find((s) => s / msPerPx >= 84) || STEPS[STEPS.length - 1];
    const minorIndex = STEPS.indexOf(major) - 2;
    const minor = minorIndex >= 0 && STEPS[minorIndex] / msPerPx >= 8 ? STEPS[minorIndex] : null;
    ctx.font = colors.font;
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'center';
    if (minor) {
      ctx.fillStyle = colors.grid;
      for (const t of ticks(minor)) ctx.fillRect(Math.round(x(t)) - 0.5, RULER.tickTop + 3, 1, RULER.tickBottom - RULER.tickTop - 3);
    }
    for (const t of ticks(major)) {
      const px = Math.round(x(t)) - 0.5;
      ctx.fillStyle = colors.grid;
      ctx.fillRect(px, RULER.tickTop, 1, TRACK.top + TRACK.height - RULER.tickTop);
      const d = new Date(t);
      const midnight = d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0;
      const label = midnight && major >= 60000 ? fmtDay(t) : major < 60000 ? fmtClock(t) : fmtHourMinute(t);
      const w = ctx.measureText(label).width;
      if (px - w / 2 < 0 || px + w / 2 > width) continue;
      ctx.fillStyle = colors.text;
      ctx.fillText(label, px, RULER.labelY);
    }
  }

  /* Tick times of one step in [from, to], aligned to the local clock. */
  function ticks(step) {
    const out = [];
    const { from, to } = state.view;
    const zone = new Date(from).getTimezoneOffset() * 60000;
    let t = Math.ceil((from - zone) / step) * step + zone;
    for (let i = 0; t <= to && i < 400; i++, t += step) out.push(t);
    return out;
  }

  function drawSpans(ctx, width) {
    ctx.fillStyle = colors.span;
    const msPerPx = (state.view.to - state.view.from) / width;
    let run = null;
    const flush = () => {
      if (!run) return;
      const x0 = Math.max(0, x(run.start));
      const x1 = Math.min(width, x(run.end));
      if (x1 > 0 && x0 < width) ctx.fillRect(x0, TRACK.top + 4, Math.max(1, x1 - x0), TRACK.height - 8);
    };
    for (const s of state.spans) {
      if (s.end_ms < state.view.from || s.start_ms > state.view.to) continue;
      // Segments closer than a pixel are one bar.
      if (run && s.start_ms - run.end <= msPerPx) { run.end = Math.max(run.end, s.end_ms); continue; }
      flush();
      run = { start: s.start_ms, end: s.end_ms };
    }
    flush();
  }

  function drawSelection(ctx, width) {
    const sel = state.selection;
    if (!sel) return;
    const x0 = Math.max(-2, x(sel.from));
    const x1 = Math.min(width + 2, x(sel.to));
    if (x1 < 0 || x0 > width) return;
    ctx.fillStyle = colors.select;
    ctx.fillRect(x0, TRACK.top - 4, x1 - x0, HEIGHT - TRACK.top + 4);
    ctx.fillStyle = colors.selectEdge;
    ctx.fillRect(Math.round(x0) - 1, TRACK.top - 4, 2, HEIGHT - TRACK.top + 4);
    ctx.fillRect(Math.round(x1) - 1, TRACK.top - 4, 2, HEIGHT - TRACK.top + 4);
  }

  function markerColor(e) {
    if (e.event_type === 'ring') return colors.ring;
    if (e.event_type === 'motion' || e.event_type === 'pir') return colors.motion;
    return colors.other;
  }

  function drawEvents(ctx, width) {
    for (const e of state.events) {
      const px = x(e.start_ms);
      if (px < -8 || px > width + 8) continue;
      const hovered = state.hoverEvent === e;
      const r = hovered ? 7 : 5;
      ctx.beginPath();
      ctx.arc(px, EVENTS.y, r, 0, Math.PI * 2);
      ctx.fillStyle = markerColor(e);
      ctx.fill();
      ctx.lineWidth = e.starred ? 2.5 : 1.5;
      ctx.strokeStyle = e.starred ? colors.star : colors.markerEdge;
      ctx.stroke();
      if (e.end_ms > e.start_ms) {
        const x1 = Math.min(width, x(e.end_ms));
        if (x1 - px > r + 2) {
          ctx.fillStyle = markerColor(e);
          ctx.globalAlpha = 0.35;
          ctx.fillRect(px + r, EVENTS.y - 1.5, x1 - px - r, 3);
          ctx.globalAlpha = 1;
        }
      }
    }
  }

  function drawPlayhead(ctx, width) {
    if (state.playhead === null) return;
    const px = Math.round(x(state.playhead));
    if (px < -6 || px > width + 6) return;
    ctx.fillStyle = colors.playhead;
    ctx.fillRect(px - 1, RULER.tickTop, 2, HEIGHT - RULER.tickTop);
    ctx.beginPath();
    ctx.moveTo(px - 6, RULER.tickTop - 4);
    ctx.lineTo(px + 6, RULER.tickTop - 4);
    ctx.lineTo(px, RULER.tickTop + 4);
    ctx.closePath();
    ctx.fill();
  }

  function roundRect(ctx, left, top, w, hgt, r) {
    ctx.beginPath();
    if (typeof ctx.roundRect === 'function') ctx.roundRect(left, top, w, hgt, r);
    else ctx.rect(left, top, w, hgt);
  }

  function updateAria() {
    const { from, to } = state.view;
    track.dataset.viewFrom = String(Math.round(from));
    track.dataset.viewTo = String(Math.round(to));
    if (state.playhead === null) {
      track.removeAttribute('aria-valuenow');
      track.setAttribute('aria-valuetext', 'No position');
      delete track.dataset.playheadMs;
    } else {
      const p = Math.round(state.playhead);
      track.dataset.playheadMs = String(p);
      track.setAttribute('aria-valuenow', String(p));
      track.setAttribute('aria-valuetext', `${fmtDay(p)} ${fmtClock(p)}`);
    }
    track.setAttribute('aria-valuemin', String(Math.round(from)));
    track.setAttribute('aria-valuemax', String(Math.round(to)));
  }

  /* ---------- view ---------- */

  function setView(from, to, { notify = true } = {}) {
    let span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, to - from));
    const mid = (from + to) / 2;
    from = mid - span / 2;
    // Never scroll entirely into the future.
    const limit = now() + span * 0.5;
    if (from + span > limit) from = limit - span;
    span = Math.round(span);
    const view = { from: Math.round(from), to: Math.round(from) + span };
    if (view.from === state.view.from && view.to === state.view.to) return;
    state.view = view;
    redraw();
    if (notify && onView) onView({ ...view });
  }

  /** Zoom to `span` ms around `anchor` (which stays where it is on screen). */
  function zoom(span, anchor = state.playhead ?? (state.view.from + state.view.to) / 2) {
    const { from, to } = state.view;
    span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, span));
    const ratio = anchor >= from && anchor <= to ? (anchor - from) / (to - from) : 0.5;
    setView(anchor - ratio * span, anchor - ratio * span + span);
  }

  function pan(ms) {
    setView(state.view.from + ms, state.view.to + ms);
  }

  /** Bring ms into view: page forward/back so it sits near the left edge. */
  function reveal(ms) {
    const { from, to } = state.view;
    const span = to - from;
    if (ms >= from + span * 0.02 && ms <= to - span * 0.02) return;
    setView(ms - span * 0.1, ms + span * 0.9);
  }

  /* ---------- pointer ---------- */

  function onPointerDown(e) {
    if (e.button !== 0 && e.pointerType === 'mouse') return;
    track.focus({ preventScroll: true });
    pointers.set(e.pointerId, { x: localX(e), y: e.clientY });
    track.setPointerCapture(e.pointerId);
    if (pointers.size === 2) {
      // Two fingers: pinch zoom around their middle (cancels a started drag).
      if (gesture && gesture.kind === 'scrub' && onScrubEnd) onScrubEnd(state.playhead);
      const [a, b] = [...pointers.values()];
      gesture = { kind: 'pinch', distance: Math.max(10, Math.abs(a.x - b.x)), view: { ...state.view }, anchor: timeAt((a.x + b.x) / 2) };
      return;
    }
    if (pointers.size > 2) return;
    const px = localX(e);
    const sel = state.selection;
    hideTip();
    const selecting = state.selectMode || e.shiftKey;
    const grab = e.pointerType === 'touch' ? GRAB_PX * 2 : GRAB_PX;   // a finger is less precise
    if (sel && Math.abs(px - x(sel.from)) <= GRAB_PX / 2) {
      gesture = { kind: 'select', fixed: sel.to, startX: px, moved: true };
    } else if (sel && Math.abs(px - x(sel.to)) <= GRAB_PX / 2) {
      gesture = { kind: 'select', fixed: sel.from, startX: px, moved: true };
    } else if (selecting) {
      gesture = { kind: 'select', fixed: timeAt(px), startX: px, moved: false };
    } else if (state.playhead !== null && Math.abs(px - x(state.playhead)) <= grab && e.clientY - track.getBoundingClientRect().top < TRACK.top + TRACK.height) {
      gesture = { kind: 'scrub', startX: px, touch: e.pointerType !== 'mouse' };
      scrubTo(px);
    } else {
      gesture = { kind: 'press', startX: px, view: { ...state.view }, moved: false };
    }
    e.preventDefault();
  }

  function onPointerMove(e) {
    const px = localX(e);
    if (pointers.has(e.pointerId)) pointers.set(e.pointerId, { x: px, y: e.clientY });
    if (!gesture) { hoverAt(px, e.clientY - track.getBoundingClientRect().top); return; }
    if (gesture.kind === 'pinch') {
      const [a, b] = [...pointers.values()];
      if (!b) return;
      const distance = Math.max(10, Math.abs(a.x - b.x));
      const span = (gesture.view.to - gesture.view.from) * (gesture.distance / distance);
      const ratio = ((a.x + b.x) / 2) / state.width;
      const clamped = Math.min(MAX_SPAN, Math.max(MIN_SPAN, span));
      setView(gesture.anchor - ratio * clamped, gesture.anchor - ratio * clamped + clamped);
    } else if (gesture.kind === 'scrub') {
      scrubTo(px);
    } else if (gesture.kind === 'select') {
      if (Math.abs(px - gesture.startX) > CLICK_PX) gesture.moved = true;
      if (!gesture.moved) return;
      const t = timeAt(Math.min(state.width, Math.max(0, px)));
      state.selection = { from: Math.min(t, gesture.fixed), to: Math.max(t, gesture.fixed) };
      redraw();
    } else if (gesture.kind === 'press') {
      if (Math.abs(px - gesture.startX) > CLICK_PX) gesture.moved = true;
      if (!gesture.moved) return;
      const msPerPx = (gesture.view.to - gesture.view.from) / state.width;
      const shift = (gesture.startX - px) * msPerPx;
      setView(gesture.view.from + shift, gesture.view.to + shift);
    }
  }

  function onPointerUp(e) {
    pointers.delete(e.pointerId);
    const g = gesture;
    if (!g) return;
    if (g.kind === 'pinch') {
      if (pointers.size === 0) gesture = null;
      else gesture = { kind: 'press', startX: [...pointers.values()][0].x, view: { ...state.view }, moved: true };
      return;
    }
    gesture = null;
    if (e.type === 'pointercancel') {
      if (g.kind === 'scrub' && onScrubEnd) onScrubEnd(state.playhead);
      return;
    }
    const px = localX(e);
    if (g.kind === 'scrub') {
      scrubTo(px);
      if (e.pointerType !== 'mouse') hideTip();   // a finger lifted: no hover to follow
      if (onScrubEnd) onScrubEnd(state.playhead);
    } else if (g.kind === 'select') {
      if (!g.moved || !state.selection || x(state.selection.to) - x(state.selection.from) < 3) {
        state.selection = null;
        if (!g.moved && onSeek) onSeek(seekTime(px, e.clientY));
      }
      redraw();
      if (onSelect) onSelect(state.selection ? { from: Math.round(state.selection.from), to: Math.round(state.selection.to) } : null);
    } else if (g.kind === 'press' && !g.moved) {
      const t = seekTime(px, e.clientY);
      state.playhead = t;
      redraw();
      if (onSeek) onSeek(t);
    }
  }

  /* Where a click seeks: the start of the clip of a marker under it, else its time. */
  function seekTime(px, clientY) {
    const hit = hitEvent(px, clientY);
    return hit ? (hit.clip_start_ms ?? hit.start_ms) : timeAt(px);
  }

  function scrubTo(px) {
    const t = timeAt(Math.min(state.width, Math.max(0, px)));
    state.playhead = t;
    // A finger hides what it drags: the preview shows above it. A mouse
    // sees the player follow (and hovers for previews when not dragging).
    if (!gesture || !gesture.touch || !showPreview(x(t), t)) hideTip();
    redraw();
    if (onScrub) onScrub(t);
  }

  function onWheel(e) {
    e.preventDefault();
    const scale = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? state.width : 1;
    const dx = e.deltaX * scale;
    const dy = e.deltaY * scale;
    const span = state.view.to - state.view.from;
    if (Math.abs(dx) > Math.abs(dy)) {
      pan((dx / state.width) * span);
    } else {
      zoom(span * Math.exp(dy * 0.0015), timeAt(localX(e)));
    }
  }

  /* ---------- hover ---------- */

  function hitEvent(px, clientY) {
    const y = clientY - track.getBoundingClientRect().top;
    if (Math.abs(y - EVENTS.y) > EVENTS.hit) return null;
    let best = null;
    let bestDistance = EVENTS.hit;
    for (const e of state.events) {
      const distance = Math.abs(x(e.start_ms) - px);
      if (distance <= bestDistance) { best = e; bestDistance = distance; }
    }
    return best;
  }

  function hoverAt(px, y) {
    const hit = Math.abs(y - EVENTS.y) <= EVENTS.hit ? hitEvent(px, y + track.getBoundingClientRect().top) : null;
    state.hover = px;
    if (hit !== state.hoverEvent) { state.hoverEvent = hit; redraw(); }
    const nearPlayhead = state.playhead !== null && Math.abs(px - x(state.playhead)) <= GRAB_PX;
    track.classList.toggle('is-grab', nearPlayhead && y < TRACK.top + TRACK.height);
    if (hit) {
      showTip(x(hit.start_ms), `${eventName(hit.event_type)} · ${fmtClock(hit.start_ms)}`, hit.has_snapshot ? hit.thumbnail_url : null);
    } else if (y >= TRACK.top - 4 && y <= TRACK.top + TRACK.height + 4) {
      if (!showPreview(px, timeAt(px))) showTip(px, fmtClock(timeAt(px)), null);
    } else {
      hideTip();
    }
    redraw();
  }

  function recorded(t) {
    return state.spans.some((s) => s.start_ms <= t && s.end_ms >= t);
  }

  /* The tip with the preview of instant t (over recorded footage only):
   * the box shows at once at its fixed size, the picture when it comes,
   * the last one meanwhile. False when there is nothing to preview. */
  function showPreview(px, t) {
    if (!previews || !recorded(t)) return false;
    const wanted = String(Math.round(t));
    previewBox.hidden = false;
    previewBox.dataset.wantMs = wanted;
    showTip(px, fmtClock(t), null, true);
    previews.want(t, (preview) => {
      if (tip.hidden || previewBox.hidden || previewBox.dataset.wantMs !== wanted) return;
      previewBox.classList.toggle('is-empty', !preview);
      if (preview) {
        if (previewImg.getAttribute('src') !== preview.url) previewImg.src = preview.url;
        previewImg.dataset.previewMs = String(preview.timeMs);
        previewImg.dataset.forMs = wanted;
        previewImg.hidden = false;
      } else {
        previewImg.hidden = true;
        previewImg.removeAttribute('src');
        delete previewImg.dataset.previewMs;
        delete previewImg.dataset.forMs;
      }
    });
    return true;
  }

  function showTip(px, text, img, preview = false) {
    if (!preview) previewBox.hidden = true;
    tipText.textContent = text;
    if (img) {
      if (tipImg.getAttribute('src') !== img) tipImg.src = img;
      tipImg.hidden = false;
    } else {
      tipImg.hidden = true;
    }
    tip.hidden = false;
    // Keep it inside the track: its width is known once shown.
    const w = tip.offsetWidth;
    tip.style.left = `${Math.round(Math.min(state.width - w, Math.max(0, px - w / 2)))}px`;
    tip.classList.toggle('has-img', Boolean(img) || preview);
  }

  function hideTip() {
    tip.hidden = true;
    previewBox.hidden = true;
    if (previews) previews.cancel();
  }

  function onLeave() {
    state.hover = null;
    state.hoverEvent = null;
    track.classList.remove('is-grab');
    hideTip();
    redraw();
  }

  /* ---------- keyboard ---------- */

  function onKey(e) {
    const span = state.view.to - state.view.from;
    const step = e.shiftKey ? 60000 : Math.max(1000, Math.round(span / 120 / 1000) * 1000);
    const at = state.playhead ?? (state.view.from + state.view.to) / 2;
    let handled = true;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const t = at + (e.key === 'ArrowLeft' ? -step : step);
      state.playhead = t;
      reveal(t);
      redraw();
      if (onSeek) onSeek(t);
    } else if (e.key === '+' || e.key === '=') zoom(span / 2);
    else if (e.key === '-' || e.key === '_') zoom(span * 2);
    else if (e.key === 'PageUp') pan(-span / 2);
    else if (e.key === 'PageDown') pan(span / 2);
    else if (e.key === 'Escape' && state.selection) {
      state.selection = null;
      redraw();
      if (onSelect) onSelect(null);
    } else handled = false;
    if (handled) e.preventDefault();
  }

  track.addEventListener('pointerdown', onPointerDown);
  track.addEventListener('pointermove', onPointerMove);
  track.addEventListener('pointerup', onPointerUp);
  track.addEventListener('pointercancel', onPointerUp);
  track.addEventListener('pointerleave', onLeave);
  track.addEventListener('wheel', onWheel, { passive: false });
  track.addEventListener('keydown', onKey);
  const resize = new ResizeObserver(() => redraw());
  resize.observe(track);
  const scheme = window.matchMedia('(prefers-color-scheme: dark)');
  const onScheme = () => { colors = readColors(); redraw(); };
  scheme.addEventListener('change', onScheme);
  // The "now" edge moves: redraw now and then even when nothing else changes.
  const clock = setInterval(redraw, 5000);

  return {
    el,
    track,
    get view() { return { ...state.view }; },
    get selection() { return state.selection ? { from: Math.round(state.selection.from), to: Math.round(state.selection.to) } : null; },
    get dragging() { return Boolean(gesture); },
    setView,
    zoom,
    pan,
    reveal,
    setSpans(spans) { state.spans = [...spans].sort((a, b) => a.start_ms - b.start_ms); redraw(); },
    setEvents(events) { state.events = [...events].sort((a, b) => a.start_ms - b.start_ms); redraw(); },
    setPlayhead(ms) {
      if (gesture && gesture.kind === 'scrub') return;   // the finger decides
      if (ms === state.playhead) return;
      const moved = ms === null || state.playhead === null || Math.abs(x(ms) - x(state.playhead)) >= 0.5;
      state.playhead = ms;
      if (moved) redraw();
    },
    setSelectMode(on) { state.selectMode = Boolean(on); track.classList.toggle('is-select', state.selectMode); },
    setSelection(range) { state.selection = range ? { ...range } : null; redraw(); },
    redraw() { colors = readColors(); redraw(); },
    destroy() {
      clearInterval(clock);
      resize.disconnect();
      scheme.removeEventListener('change', onScheme);
      if (frame) cancelAnimationFrame(frame);
      if (previews) previews.destroy();
    },
  };
}
