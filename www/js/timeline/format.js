// Wording of times, durations, sizes and event types on the recordings page,
// the timeline and the storage section of the settings page. Times are shown
// in the browser's time zone and locale.

import { DASH, isNum } from '../ui.js';

const pad = (n) => String(n).padStart(2, '0');

/** "14:03:07" (24-hour, the timeline's clock). */
export function fmtClock(ms) {
  if (!isNum(ms)) return '--:--:--';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "14:03" */
export function fmtHourMinute(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "Tue 21 Nov" (the year too when it is not this year's). */
export function fmtDay(ms, now = Date.now()) {
  if (!isNum(ms)) return DASH;
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: sameYear ? undefined : 'numeric' });
}

/** "Today", "Yesterday" or fmtDay(). */
export function fmtRelativeDay(ms, now = Date.now()) {
  const day = (t) => { const d = new Date(t); return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime(); };
  const diff = Math.round((day(now) - day(ms)) / 86400000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return fmtDay(ms, now);
}

/** A length of time in ms, short: "45 s", "3 min 5 s", "2 h 10 min". */
export function fmtLength(ms) {
  if (!isNum(ms) || ms < 0) return DASH;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** "1.4 GB" (decimal units, as disks are sold). */
export function fmtBytes(n) {
  if (!isNum(n) || n < 0) return DASH;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

const EVENT_NAMES = {
  ring: 'Ring', motion: 'Motion', person: 'Person', package: 'Package', pir: 'PIR',
  package_delivered: 'Package delivered', package_taken: 'Package taken',
  tamper: 'Tamper', offline: 'Offline', online: 'Online', low_battery: 'Low battery',
};

/** "Ring", "Low battery", or the type itself when unknown. */
export function eventName(type) {
  return EVENT_NAMES[type] || String(type || 'Event').replace(/_/g, ' ');
}

/** A file name for an export: "front-door-2025-11-21-1403.mp4". */
export function exportFileName(deviceName, fromMs) {
  const d = new Date(fromMs);
  const slug = String(deviceName || 'doorbell').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'doorbell';
  return `${slug}-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.mp4`;
}
