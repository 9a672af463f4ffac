// Pieces shared by the doorbell list and the doorbell detail page: the
// visibility-aware poller, snapshot view with placeholder, status badge,
// telemetry wording and battery chip, and the refresh-snapshot and
// remove-doorbell actions.

import { h, icon, replace, toast, confirmDialog, fmtAgo, DASH, isNum } from './ui.js';
import * as api from './api.js';

export const devicePath = (id) => `/api/v1/devices/${encodeURIComponent(id)}`;

/**
 * Run `fn(signal)` now and then every `interval` ms while the page is visible.
 * Polls again at once when the tab becomes visible or the hub is reachable again.
 */
export function poller(fn, interval = 2000) {
  let timer = null;
  let ctrl = null;
  let stopped = false;
  let running = false;

  async function run() {
    clearTimeout(timer);
    timer = null;
    if (stopped || running || document.visibilityState !== 'visible') return;
    running = true;
    ctrl = new AbortController();
    try { await fn(ctrl.signal); } catch (e) {
      if (!api.isAbort(e) && !(e instanceof api.NetworkError) && !(e && e.handled)) console.error(e);
    }
    running = false;
    ctrl = null;
    schedule();
  }
  function schedule() {
    if (stopped || document.visibilityState !== 'visible') return;
    // back off while the hub is unreachable (the banner says we are retrying)
    timer = setTimeout(run, api.isOffline() ? Math.max(interval, 4000) : interval);
  }
  const onVisibility = () => {
    if (document.visibilityState === 'visible') run();
    else { clearTimeout(timer); timer = null; }
  };
  document.addEventListener('visibilitychange', onVisibility);
  const unReconnect = api.onReconnect(() => run());
  run();
  return {
    now: () => { if (!running) run(); },
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (ctrl) ctrl.abort();
      document.removeEventListener('visibilitychange', onVisibility);
      unReconnect();
    },
  };
}

/* ---------- snapshot ---------- */

/** A 16:9 snapshot frame: the <img> when there is a picture, a placeholder otherwise. */
export function snapshotView({ large = false } = {}) {
  const img = h('img', { class: 'snap-img', alt: '', 'data-testid': 'device-snapshot', decoding: 'async', hidden: true });
  const phIcon = icon('camera-off');
  const phText = h('span', { class: 'snap-ph-text' });
  const placeholder = h('div', { class: 'snap-ph', 'data-testid': 'device-snapshot-placeholder' }, phIcon, phText);
  const stamp = h('span', { class: 'snap-stamp', hidden: true });
  const el = h('div', { class: ['snap', large && 'snap-large'] }, img, placeholder, stamp);
  let src = null;
  let device = null;
  let failed = false;

  function showPlaceholder(text, offline) {
    img.hidden = true;
    stamp.hidden = true;
    placeholder.hidden = false;
    placeholder.classList.toggle('is-offline', offline);
    phIcon.className = `icon i-${offline ? 'offline' : 'camera-off'}`;
    phText.textContent = text;
  }
  img.addEventListener('load', () => {
    failed = false;
    if (device && device.online) {
      img.hidden = false;
      placeholder.hidden = true;
      updateStamp();
    }
  });
  img.addEventListener('error', () => {
    failed = true;
    if (device && device.online) showPlaceholder('No snapshot yet', false);
  });

  function updateStamp(now = api.serverNow()) {
    if (!device || !device.snapshot_at || img.hidden) { stamp.hidden = true; return; }
    stamp.textContent = fmtAgo(device.snapshot_at, now);
    stamp.hidden = false;
  }

  function update(d) {
    device = d;
    img.alt = `Latest snapshot from ${d.name}`;
    if (!d.online) { showPlaceholder('Offline', true); return; }
    // a snapshot shows now: without the live right the hub refuses it (403)
    if (d.rights && !d.rights.live) { src = null; img.removeAttribute('src'); showPlaceholder('Recordings only', false); return; }
    // no snapshot yet: do not ask for one (the hub would answer 404)
    if (!d.snapshot_at) { src = null; img.removeAttribute('src'); showPlaceholder('No snapshot yet', false); return; }
    const next = `${devicePath(d.id)}/snapshot.jpg?t=${encodeURIComponent(d.snapshot_at)}`;
    if (next !== src) {
      src = next;
      failed = false;
      img.src = next;
      if (img.hidden) showPlaceholder('Loading snapshot…', false);
    } else if (failed) {
      showPlaceholder('No snapshot yet', false);
    } else if (img.complete && img.naturalWidth > 0) {
      img.hidden = false;
      placeholder.hidden = true;
    }
    updateStamp();
  }
  return { el, update, tick: updateStamp };
}

/* ---------- status and telemetry wording ---------- */

export function statusBadge() {
  const el = h('span', { class: 'badge', 'data-testid': 'device-status' });
  return {
    el,
    update(online) {
      el.textContent = online ? 'online' : 'offline';
      el.classList.toggle('badge-online', Boolean(online));
      el.classList.toggle('badge-offline', !online);
    },
  };
}

export function lastSeenText(d, now = api.serverNow()) {
  if (d.online) return d.last_seen_at ? `Seen ${fmtAgo(d.last_seen_at, now)}` : 'Connected';
  return d.last_seen_at ? `Last seen ${fmtAgo(d.last_seen_at, now)}` : 'Never connected';
}

/*
 * Telemetry wording. The link protocol gives battery and signal a value
 * when a doorbell leaves them out (battery -1: mains, rssi 0: wired), and
 * the hub leaves the temperature out when the doorbell has no sensor: each
 * text is null when the value says nothing a household can use, and the
 * pages leave that row out rather than show "Wired" for a doorbell that
 * never said how it is connected.
 */
export function powerText(t) {
  if (!t || !isNum(t.battery_percent) || t.battery_percent < 0) return null;
  return `Battery ${Math.round(t.battery_percent)} %`;
}

export function signalText(t) {
  if (!t || !isNum(t.rssi_dbm) || t.rssi_dbm >= 0) return null;
  const r = t.rssi_dbm;
  const q = r >= -55 ? 'excellent' : r >= -67 ? 'good' : r >= -75 ? 'fair' : 'weak';
  return `Wi-Fi ${r} dBm (${q})`;
}

export function temperatureText(t) {
  return t && isNum(t.temperature_c) ? `${t.temperature_c.toFixed(1)} °C` : null;
}

/** The battery of a doorbell on batteries: icon and percentage (hidden otherwise); { el, update(device) }. */
export function batteryChip() {
  const text = h('span', { class: 'battery-text' });
  const el = h('span', { class: 'battery', 'data-testid': 'device-battery', hidden: true }, icon('battery'), text);
  return {
    el,
    update(d) {
      const t = d && d.telemetry;
      const known = Boolean(t) && isNum(t.battery_percent) && t.battery_percent >= 0;
      el.hidden = !known;
      if (!known) return;
      const percent = Math.round(t.battery_percent);
      const label = `${percent} %`;
      if (text.textContent !== label) text.textContent = label;
      el.title = `Battery ${label}`;
      el.setAttribute('aria-label', `Battery ${label}`);
      el.classList.toggle('is-low', percent <= 20);
    },
  };
}

/* ---------- actions ---------- */

/**
 * Ask the doorbell for a fresh snapshot, then poll the device until its
 * snapshot_at changes (or give up after ~8 s). onDevice gets each answer.
 */
export async function refreshSnapshot(device, onDevice) {
  const before = device.snapshot_at || 0;
  try {
    await api.post(`${devicePath(device.id)}/snapshot`);
  } catch (e) {
    if (e.handled) return;
    toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not request a snapshot: ${e.message}`, 'error');
    return;
  }
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      const d = await api.get(devicePath(device.id));
      onDevice(d);
      if ((d.snapshot_at || 0) !== before) return;
      if (!d.online) break;
    } catch (e) {
      if (e.handled) return;
      if (e instanceof api.ApiError && e.status === 404) return;
    }
  }
  toast('The doorbell has not sent a new snapshot yet.', 'info');
}

/** Confirm, then DELETE the doorbell. Resolves true when it was removed. */
export async function removeDevice(device) {
  const ok = await confirmDialog({
    title: 'Remove doorbell?',
    message: `“${device.name}” will be disconnected at once and its secret stops working. You can add it again later with a new secret.`,
    confirmLabel: 'Remove',
    danger: true,
  });
  if (!ok) return false;
  try {
    await api.del(devicePath(device.id));
  } catch (e) {
    if (e.handled) return false;
    if (!(e instanceof api.ApiError && e.status === 404)) {
      toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not remove the doorbell: ${e.message}`, 'error');
      return false;
    }
  }
  toast(`Removed “${device.name}”.`, 'success');
  return true;
}

/** A definition list of [label, value, testid?] rows, updated in place; returns { el, set(rows) }. */
export function statList(className = 'stats') {
  const el = h('dl', { class: className });
  let key = '';
  let cells = [];
  return {
    el,
    set(rows) {
      const k = rows.map((r) => r[0]).join('\n');
      if (k !== key) {
        key = k;
        cells = rows.map(([label, , testid]) => h('dd', { 'data-testid': testid || null }));
        replace(el, rows.map(([label], i) => h('div', { class: 'stat' }, h('dt', { text: label }), cells[i])));
      }
      rows.forEach(([, value], i) => {
        const text = String(value);
        if (cells[i].textContent !== text) cells[i].textContent = text;
        cells[i].title = text;
      });
    },
  };
}
