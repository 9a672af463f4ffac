// The "Motion" panel of a doorbell's page: sensitivity, how camera and PIR
// combine, and detection zones, privacy masks and the doorstep area (one
// polygon where the doorbell watches for packages, package_zone) drawn as
// polygons on the doorbell's snapshot (GET/PUT /api/v1/devices/{id}/motion, docs/api.md).
// Drawing: pick "zone" or "privacy mask", click to add points, double-click
// (or Finish, or a click on the first point) to close the polygon; each
// polygon can be deleted from the list. Admins edit; viewers see it
// read-only. Coordinates are normalised to the picture (0..1, top left),
// the form the firmware takes. Below, the motion schedule: a week grid of
// the hours in which motion counts (js/week-grid.js), saved with its own
// button as motion_schedule of /api/v1/devices/{id}/event-settings.

import { h, field, button, busy, toast } from './ui.js';
import * as api from './api.js';
import { createWeekGrid } from './week-grid.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_POLYGONS = 8;
const MAX_POINTS = 16;
const CLOSE_DISTANCE = 0.02; // a click this near the first point closes the polygon
const SAME_POINT = 0.005; // the clicks of a double-click add one point

const SENSITIVITIES = [['low', 'Low'], ['medium', 'Medium'], ['high', 'High']];
const MODES = [
  ['cv', 'Camera only'],
  ['pir', 'Camera, confirmed by the PIR sensor'],
  ['either', 'Camera or PIR sensor'],
];
const KINDS = { zones: { label: 'Zone', stroke: '#22c55e', fill: 'rgba(34,197,94,0.18)' },
  masks: { label: 'Privacy mask', stroke: '#f8fafc', fill: 'rgba(0,0,0,0.75)' },
  package: { label: 'Doorstep area (packages)', stroke: '#f59e0b', fill: 'rgba(245,158,11,0.22)' } };

// The polygons of one kind as a list: the doorstep area is one or none.
function polygonsOf(settings, name) {
  if (name !== 'package') return settings[name];
  return settings.package_zone ? [settings.package_zone] : [];
}

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

const pointsText = (points) => points.map(([x, y]) => `${x},${y}`).join(' ');
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

/**
 * createMotionSettings({ deviceId, editable }) -> { el, load() }.
 * The panel loads its settings and the snapshot by itself once created.
 */
export function createMotionSettings({ deviceId, editable }) {
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/motion`;
  let settings = null; // as the hub sent it; zones/masks edited in place
  let drawing = null; // points of the polygon being drawn

  const sensitivity = h('select', { name: 'sensitivity', 'data-testid': 'motion-sensitivity' },
    SENSITIVITIES.map(([value, label]) => h('option', { value, text: label })));
  const mode = h('select', { name: 'mode', 'data-testid': 'motion-mode' },
    MODES.map(([value, label]) => h('option', { value, text: label })));
  const kind = h('select', { name: 'draw', 'data-testid': 'motion-draw-kind' },
    h('option', { value: 'zones', text: 'Detection zone' }),
    h('option', { value: 'masks', text: 'Privacy mask (blacked out of the video)' }),
    h('option', { value: 'package', text: 'Doorstep area (packages)' }));
  const finish = button('Finish polygon', { variant: 'btn-secondary btn-sm', 'data-testid': 'motion-finish' });
  const save = editable ? button('Save', { variant: 'btn-primary btn-sm', 'data-testid': 'motion-save' }) : null;
  finish.type = 'button';

  const picture = h('img', { alt: 'Latest snapshot', 'data-testid': 'motion-snapshot',
    style: { display: 'block', width: '100%', height: 'auto' } });
  const overlay = svg('svg', { viewBox: '0 0 1 1', preserveAspectRatio: 'none', 'data-testid': 'motion-canvas' });
  Object.assign(overlay.style, { position: 'absolute', inset: '0', width: '100%', height: '100%',
    cursor: editable ? 'crosshair' : 'default' });
  const stage = h('div', { style: { position: 'relative', aspectRatio: '16 / 9', background: '#1f2937',
    borderRadius: '6px', overflow: 'hidden', userSelect: 'none' } }, picture, overlay);
  const list = h('ul', { class: 'motion-polygons', 'data-testid': 'motion-polygons',
    style: { listStyle: 'none', padding: '0', margin: '0', display: 'grid', gap: '4px' } });
  const hint = h('p', { class: 'muted', text: editable
    ? 'Click on the picture to add points; double-click to close the polygon. Without zones the whole picture is watched. '
      + 'Draw the doorstep area around where parcels are left: the doorbell reports a package delivered or taken there.'
    : 'Zones, privacy masks and the doorstep area of this doorbell.' });

  const schedule = createMotionSchedule({ deviceId, editable });
  const form = h('form', { class: 'motion-settings', 'data-testid': 'motion-settings', novalidate: true,
    style: { display: 'grid', gap: '12px' } },
  field('Sensitivity', sensitivity),
  field('Trigger', mode),
  editable ? field('Draw', kind) : null,
  stage, hint,
  editable ? h('div', {}, finish) : null,
  list, save, schedule.el);
  for (const input of [sensitivity, mode, kind]) input.disabled = !editable;
  finish.disabled = true;
  if (save) save.type = 'submit';

  function render() {
    overlay.replaceChildren();
    list.replaceChildren();
    if (!settings) return;
    for (const name of ['zones', 'masks', 'package']) {
      const style = KINDS[name];
      polygonsOf(settings, name).forEach((polygon, index) => {
        overlay.append(svg('polygon', { points: pointsText(polygon), fill: style.fill, stroke: style.stroke,
          'stroke-width': 2, 'vector-effect': 'non-scaling-stroke', 'data-testid': `motion-${name}-${index}` }));
        const remove = editable ? button('', { icon: 'trash', iconOnly: true, variant: 'btn-ghost btn-sm',
          'aria-label': `Delete ${style.label.toLowerCase()} ${index + 1}`, 'data-testid': `motion-delete-${name}-${index}` }) : null;
        if (remove) {
          remove.type = 'button';
          remove.addEventListener('click', () => {
            if (name === 'package') delete settings.package_zone;
            else settings[name].splice(index, 1);
            render();
          });
        }
        list.append(h('li', { style: { display: 'flex', alignItems: 'center', gap: '8px' } },
          h('span', { style: { width: '12px', height: '12px', border: `2px solid ${style.stroke}`, background: style.fill } }),
          h('span', { text: name === 'package' ? `${style.label} (${polygon.length} points)`
            : `${style.label} ${index + 1} (${polygon.length} points)` }), remove));
      });
    }
    if (drawing) {
      overlay.append(svg('polyline', { points: pointsText(drawing), fill: 'none', stroke: '#facc15',
        'stroke-width': 2, 'vector-effect': 'non-scaling-stroke', 'data-testid': 'motion-drawing' }));
      for (const [x, y] of drawing) {
        overlay.append(svg('ellipse', { cx: x, cy: y, rx: 0.006, ry: 0.0107, fill: '#facc15' }));
      }
    }
    finish.disabled = !drawing || drawing.length < 3;
  }

  function close() {
    if (!drawing || drawing.length < 3) return;
    const name = kind.value;
    if (name === 'package') {
      settings.package_zone = drawing; // one doorstep area: a new one replaces it
    } else if (settings[name].length >= MAX_POLYGONS) {
      toast(`At most ${MAX_POLYGONS} ${name === 'zones' ? 'zones' : 'privacy masks'}`, 'error');
    } else {
      settings[name].push(drawing);
    }
    drawing = null;
    render();
  }

  function pointOf(event) {
    const rect = overlay.getBoundingClientRect();
    return [round((event.clientX - rect.left) / rect.width), round((event.clientY - rect.top) / rect.height)];
  }

  overlay.addEventListener('click', (event) => {
    if (!editable || !settings) return;
    const [x, y] = pointOf(event);
    drawing = drawing || [];
    const last = drawing[drawing.length - 1];
    if (last && Math.hypot(last[0] - x, last[1] - y) < SAME_POINT) return;
    const first = drawing[0];
    if (drawing.length >= 3 && Math.hypot(first[0] - x, first[1] - y) < CLOSE_DISTANCE) { close(); return; }
    drawing.push([x, y]);
    if (drawing.length >= MAX_POINTS) close();
    else render();
  });
  overlay.addEventListener('dblclick', (event) => { event.preventDefault(); close(); });
  finish.addEventListener('click', close);
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && drawing) { drawing = null; render(); }
  });

  function fill(next) {
    settings = next;
    sensitivity.value = next.sensitivity;
    mode.value = next.mode;
    drawing = null;
    render();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!editable || !settings) return;
    busy(save, async () => {
      try {
        fill(await api.put(path, { ...settings, sensitivity: sensitivity.value, mode: mode.value }));
        toast('Motion settings saved', 'success');
      } catch (error) {
        if (!error.handled) toast(error.message || 'Could not save the motion settings', 'error');
      }
    });
  });

  async function load() {
    picture.src = `/api/v1/devices/${encodeURIComponent(deviceId)}/snapshot.jpg?t=${Date.now()}`;
    try { fill(await api.get(path)); } catch (error) {
      if (!api.isAbort(error) && !error.handled) toast('Could not load the motion settings', 'error');
    }
  }
  schedule.load();
  picture.addEventListener('error', () => { picture.hidden = true; });
  picture.addEventListener('load', () => { picture.hidden = false; stage.style.aspectRatio = `${picture.naturalWidth} / ${picture.naturalHeight}`; });
  load();

  return { el: form, load };
}

/**
 * The motion schedule: the hours of the week in which motion (camera, PIR)
 * is an event at all; rings always count. null on the hub means always.
 * -> { el, load() }.
 */
function createMotionSchedule({ deviceId, editable }) {
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/event-settings`;
  const status = h('span', { class: 'muted small', 'data-testid': 'motion-schedule-status' });
  const save = editable ? button('Save schedule', { variant: 'btn-primary btn-sm', 'data-testid': 'motion-schedule-save' }) : null;
  const grid = createWeekGrid({ label: 'Hours in which motion counts', editable, testid: 'motion-schedule-grid',
    onChange: () => { status.textContent = 'Not saved yet'; } });
  const describe = (value) => { status.textContent = value === null ? 'Motion counts at all hours.' : 'Motion counts in the hours marked on.'; };
  const el = h('fieldset', { class: 'motion-schedule', 'data-testid': 'motion-schedule', style: { border: '0', padding: '0', margin: '0', display: 'grid', gap: '8px', minWidth: '0' } },
    h('legend', { class: 'section-title', style: { padding: '0', fontSize: '15px' }, text: 'When motion counts' }),
    h('p', { class: 'muted small', text: 'Outside the hours marked on, motion is not an event at all (rings always are). Times are the hub’s local time.' }),
    grid.el,
    h('div', { style: { display: 'flex', gap: '12px', alignItems: 'center', flexWrap: 'wrap' } }, save, status));
  if (save) {
    save.addEventListener('click', () => busy(save, async () => {
      try {
        const saved = await api.put(path, { motion_schedule: grid.value() });
        grid.set(saved ? saved.motion_schedule : grid.value());
        describe(grid.value());
        toast('Motion schedule saved', 'success');
      } catch (error) {
        if (!error.handled) toast(error.message || 'Could not save the motion schedule', 'error');
      }
    }));
  }
  return {
    el,
    async load() {
      try {
        const settings = await api.get(path);
        grid.set(settings.motion_schedule);
        describe(settings.motion_schedule);
      } catch (error) {
        if (!api.isAbort(error) && !error.handled) status.textContent = 'The schedule could not be loaded.';
      }
    },
  };
}
