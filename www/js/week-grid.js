// A week grid: 7 days × 24 hours, each cell an hour that is on or off.
// Click or tap a cell to toggle it; press and drag (mouse, pen or finger)
// to paint every cell passed over with the first cell's new state; arrow
// keys move between cells and Space toggles. The schedule is kept as the
// hub's weekly schedule JSON writes it (events/weekly_schedule.h): null
// (always), a window {days, from, to}, or {hours: [7 masks of 24 bits,
// Sunday first]}; value() gives null when every hour is on, else the
// hours form. No state outside the element.

import { h } from './ui.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ORDER = [1, 2, 3, 4, 5, 6, 0]; // rows Monday first
const ALL = 0xffffff;

const minutes = (text) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

/** Masks (Sunday first) of a schedule in any of its forms; an hour is on if it starts inside the window. */
export function scheduleToMasks(schedule) {
  if (!schedule) return Array(7).fill(ALL);
  if (Array.isArray(schedule.hours)) return schedule.hours.map((mask) => mask & ALL);
  const masks = Array(7).fill(0);
  const from = minutes(schedule.from);
  const to = minutes(schedule.to);
  for (const day of schedule.days || []) {
    for (let hour = 0; hour < 24; hour++) {
      const start = hour * 60;
      if (from === to) masks[day] |= 1 << hour;
      else if (from < to) { if (start >= from && start < to) masks[day] |= 1 << hour; }
      else {
        if (start >= from) masks[day] |= 1 << hour;
        if (start < to) masks[(day + 1) % 7] |= 1 << hour;
      }
    }
  }
  return masks;
}

/**
 * createWeekGrid({ label, editable, onChange }) -> { el, set(schedule), value() }.
 * onChange() is called after each change made by the user.
 */
export function createWeekGrid({ label = 'Week schedule', editable = true, onChange = () => {}, testid = 'week-grid' } = {}) {
  let masks = Array(7).fill(ALL);
  const cells = []; // [day][hour] -> button
  const table = h('div', { class: 'week-grid-table', role: 'grid', 'aria-label': label, 'data-testid': `${testid}-table` });
  table.append(h('span', { class: 'week-grid-hour', 'aria-hidden': 'true' }));
  for (let hour = 0; hour < 24; hour++) table.append(h('span', { class: 'week-grid-hour', 'aria-hidden': 'true', text: String(hour) }));
  for (const day of ORDER) {
    cells[day] = [];
    table.append(h('span', { class: 'week-grid-day', text: DAYS[day] }));
    for (let hour = 0; hour < 24; hour++) {
      const cell = h('button', { type: 'button', class: 'week-grid-cell', role: 'gridcell', tabindex: day === 1 && hour === 0 ? '0' : '-1',
        'aria-label': `${DAYS[day]} ${hour}:00 to ${hour + 1}:00`, 'data-day': String(day), 'data-hour': String(hour), disabled: !editable });
      cells[day][hour] = cell;
      table.append(cell);
    }
  }
  const el = h('div', { class: 'week-grid', 'data-testid': testid }, table,
    h('p', { class: 'week-grid-legend' },
      h('span', {}, h('span', { class: 'week-grid-swatch' }), 'On'),
      h('span', {}, h('span', { class: 'week-grid-swatch is-off' }), 'Off'),
      editable ? h('span', { text: 'Click or drag across the hours to switch them.' }) : null));

  function draw() {
    for (const day of ORDER) {
      for (let hour = 0; hour < 24; hour++) cells[day][hour].setAttribute('aria-checked', String(Boolean(masks[day] & (1 << hour))));
    }
  }

  function setCell(day, hour, on) {
    const before = masks[day];
    masks[day] = on ? masks[day] | (1 << hour) : masks[day] & ~(1 << hour);
    if (before !== masks[day]) cells[day][hour].setAttribute('aria-checked', String(on));
    return before !== masks[day];
  }

  // Dragging: pointer capture would keep every move on the first cell, so
  // the cell under the pointer is looked up by position.
  let painting = null; // the state being painted, while a pointer is down
  const cellAt = (x, y) => {
    const target = document.elementFromPoint(x, y);
    return target && target.classList && target.classList.contains('week-grid-cell') && table.contains(target) ? target : null;
  };
  table.addEventListener('pointerdown', (event) => {
    const cell = event.target.closest && event.target.closest('.week-grid-cell');
    if (!editable || !cell || event.button > 0) return;
    event.preventDefault();
    const day = Number(cell.dataset.day);
    const hour = Number(cell.dataset.hour);
    painting = !(masks[day] & (1 << hour));
    setCell(day, hour, painting);
    cell.focus({ preventScroll: true });
    onChange();
  });
  table.addEventListener('pointermove', (event) => {
    if (painting === null) return;
    const cell = cellAt(event.clientX, event.clientY);
    if (cell && setCell(Number(cell.dataset.day), Number(cell.dataset.hour), painting)) onChange();
  });
  const stop = () => { painting = null; };
  table.addEventListener('pointerup', stop);
  table.addEventListener('pointercancel', stop);
  table.addEventListener('lostpointercapture', stop);
  // The pointerdown already toggled: a click (also from the keyboard) only toggles when no pointer did.
  table.addEventListener('click', (event) => {
    const cell = event.target.closest && event.target.closest('.week-grid-cell');
    if (!editable || !cell || event.detail !== 0) return;
    const day = Number(cell.dataset.day);
    const hour = Number(cell.dataset.hour);
    setCell(day, hour, !(masks[day] & (1 << hour)));
    onChange();
  });
  table.addEventListener('keydown', (event) => {
    const cell = event.target.closest && event.target.closest('.week-grid-cell');
    if (!cell) return;
    const row = ORDER.indexOf(Number(cell.dataset.day));
    const hour = Number(cell.dataset.hour);
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    if (!moves[event.key]) return;
    event.preventDefault();
    const [dr, dh] = moves[event.key];
    const next = cells[ORDER[(row + dr + 7) % 7]][(hour + dh + 24) % 24];
    cell.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });

  draw();
  return {
    el,
    set(schedule) { masks = scheduleToMasks(schedule); draw(); },
    value() { return masks.every((mask) => mask === ALL) ? null : { hours: [...masks] }; },
  };
}
