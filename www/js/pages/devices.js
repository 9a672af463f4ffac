// Doorbell list (#/devices): a card per doorbell with snapshot, status and
// stream figures, its battery when it runs on one, and a link to its recordings, polled every 2 s while the tab
// is visible. Admins can add a doorbell (js/add-doorbell.js: pair one that
// waits with its setup code, or, for older firmware, make an id and secret)
// and remove one. A doorbell that still signs in with a secret the hub keeps
// is marked "legacy secret".

import { h, icon, button, busy, replace, fmtFps, fmtBitrate, fmtResolution, DASH } from '../ui.js';
import * as api from '../api.js';
import { openAddDoorbell } from '../add-doorbell.js';
import { poller, snapshotView, statusBadge, statList, lastSeenText, refreshSnapshot, removeDevice, batteryChip } from '../device-ui.js';

export function mount(main, ctx) {
  const cards = new Map();          // id -> card controller
  let loaded = false;

  const summary = h('p', { class: 'page-sub muted', 'aria-live': 'polite' });
  const openAdd = () => openAddDoorbell(() => poll.now());
  const addBtn = ctx.isAdmin
    ? button('Add doorbell', { icon: 'plus', variant: 'btn-primary', 'data-testid': 'add-device', onclick: openAdd })
    : null;
  const grid = h('div', { class: 'grid', 'data-testid': 'device-grid' });
  const empty = h('div', { class: 'empty', 'data-testid': 'devices-empty', hidden: true });
  const loading = h('div', { class: 'grid', 'aria-hidden': 'true' }, [0, 1, 2].map(() => h('div', { class: 'card skeleton' },
    h('div', { class: 'snap' }), h('div', { class: 'card-body' }, h('div', { class: 'sk-line w60' }), h('div', { class: 'sk-line w90' }), h('div', { class: 'sk-line w40' })))));

  main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Doorbells' }), summary),
      addBtn),
    loading, grid, empty));

  const refresh = () => poll.now();

  async function load(signal) {
    const data = await api.get('/api/v1/devices', { signal });
    const devices = (data && data.devices) || [];
    if (!loaded) { loaded = true; loading.remove(); }
    const now = api.serverNow();
    const seen = new Set();
    devices.forEach((d, i) => {
      seen.add(d.id);
      let c = cards.get(d.id);
      if (!c) { c = deviceCard(ctx, refresh); cards.set(d.id, c); }
      if (grid.children[i] !== c.el) grid.insertBefore(c.el, grid.children[i] || null);
      c.update(d, now);
    });
    for (const [id, c] of cards) {
      if (!seen.has(id)) { c.el.remove(); cards.delete(id); }
    }
    const online = devices.filter((d) => d.online).length;
    const text = devices.length
      ? `${devices.length} doorbell${devices.length === 1 ? '' : 's'} · ${online} online`
      : '';
    if (summary.textContent !== text) summary.textContent = text;
    renderEmpty(empty, devices.length === 0, ctx);
  }

  const poll = poller(load, 2000);
  // keep the "12 s ago" texts ticking between polls
  const ticker = setInterval(() => { const now = api.serverNow(); cards.forEach((c) => c.tick(now)); }, 1000);
  return () => { poll.stop(); clearInterval(ticker); };
}

function renderEmpty(empty, show, ctx) {
  empty.hidden = !show;
  if (!show || empty.childElementCount) return;
  const adminText = [
    h('p', { class: 'muted', text: 'Power on a doorbell with the Doorstep firmware on this network; it waits in pairing mode. Then choose “Add doorbell” above and type the 8-digit setup code from its label or its log.' }),
  ];
  const viewerText = [h('p', { class: 'muted', text: 'No doorbells are shared with your account yet. Ask an administrator of this hub for access.' })];
  replace(empty,
    h('div', { class: 'empty-art' }, icon('doorbell', 'empty-icon')),
    h('h2', { text: 'No doorbells yet' }),
    ctx.isAdmin ? adminText : viewerText);
}

function deviceCard(ctx, onChanged) {
  let device = null;
  const snap = snapshotView();
  const badge = statusBadge();
  const battery = batteryChip();
  const legacy = h('span', { class: 'badge badge-warn', 'data-testid': 'device-legacy', hidden: true,
    title: 'This doorbell signs in with a secret the hub keeps. Re-pair it with its setup code so the hub keeps only its public key.',
    text: 'Legacy secret — re-pair' });
  const name = h('a', { class: 'card-title-link', 'data-testid': 'device-name' });
  const media = h('a', { class: 'card-media', tabindex: '-1', 'aria-hidden': 'true' }, snap.el);
  const stats = statList('stats stats-grid');
  const seen = h('span', { class: 'card-seen muted', 'data-testid': 'device-last-seen' });
  const refreshBtn = button('Refresh snapshot', { icon: 'refresh', iconOnly: true, variant: 'btn-ghost', 'data-testid': 'device-refresh' });
  const recordingsLink = h('a', { class: 'btn btn-ghost btn-icon', title: 'Recordings', 'data-testid': 'device-recordings' }, icon('history'));
  const removeBtn = ctx.isAdmin ? button('Remove doorbell', { icon: 'trash', iconOnly: true, variant: 'btn-ghost btn-danger-ghost', 'data-testid': 'device-remove' }) : null;

  refreshBtn.addEventListener('click', () => busy(refreshBtn, () => refreshSnapshot(device, (d) => update(d))));
  if (removeBtn) {
    removeBtn.addEventListener('click', async () => {
      if (await removeDevice(device)) { el.remove(); onChanged(); }
    });
  }

  const el = h('article', { class: 'card device-card', 'data-testid': 'device-card' },
    media,
    h('div', { class: 'card-body' },
      h('div', { class: 'card-title-row' }, h('h2', { class: 'card-title' }, name),
        h('div', { class: 'card-chips' }, battery.el, badge.el)),
      legacy,
      stats.el,
      h('div', { class: 'card-foot' }, seen, h('div', { class: 'card-actions' }, recordingsLink, refreshBtn, removeBtn))));

  function update(d, now = api.serverNow()) {
    device = d;
    const href = `#/devices/${encodeURIComponent(d.id)}`;
    el.dataset.deviceId = d.id;
    el.classList.toggle('is-offline', !d.online);
    name.href = href;
    media.href = href;
    recordingsLink.href = `${href}/recordings`;
    recordingsLink.hidden = Boolean(d.rights && !d.rights.recordings);
    refreshBtn.hidden = Boolean(d.rights && !d.rights.live);
    recordingsLink.setAttribute('aria-label', `Recordings of ${d.name || d.id}`);
    if (name.textContent !== d.name) name.textContent = d.name || d.id;
    badge.update(d.online);
    battery.update(d);
    legacy.hidden = d.auth !== 'secret';
    snap.update(d);
    const v = d.video || {};
    stats.set([
      ['Resolution', d.online ? fmtResolution(v) : DASH, 'device-resolution'],
      ['Frame rate', d.online ? fmtFps(v.fps) : DASH, 'device-fps'],
      ['Bitrate', d.online ? fmtBitrate(v.bitrate_kbps) : DASH, 'device-bitrate'],
      ['Firmware', d.firmware || DASH, 'device-firmware'],
    ]);
    refreshBtn.disabled = !d.online || refreshBtn.classList.contains('is-busy');
    tick(now);
  }
  function tick(now) {
    if (!device) return;
    seen.textContent = lastSeenText(device, now);
    snap.tick(now);
  }
  return { el, update, tick };
}
