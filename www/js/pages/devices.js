// Doorbell list (#/devices): a card per doorbell with snapshot, status and
// stream figures and a link to its recordings, polled every 2 s while the tab
// is visible. Admins can add a doorbell (shows its id and one-time secret)
// and remove one.

import { h, icon, button, busy, field, replace, openDialog, copyable, toast,
  fmtFps, fmtBitrate, fmtResolution, DASH } from '../ui.js';
import * as api from '../api.js';
import { poller, snapshotView, statusBadge, statList, lastSeenText, refreshSnapshot, removeDevice } from '../device-ui.js';

export function mount(main, ctx) {
  const cards = new Map();          // id -> card controller
  let loaded = false;

  const summary = h('p', { class: 'page-sub muted', 'aria-live': 'polite' });
  const openAdd = () => addDialog(() => poll.now());
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
    h('p', { class: 'muted', text: 'Add a doorbell to get its device ID and secret, then start the doorbell software with them:' }),
    h('code', { class: 'block', text: `doorbelld --hub wss://${location.host} --device-id ID --secret SECRET` }),
    h('p', { class: 'muted small', text: 'Use “Add doorbell” above to begin.' }),
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
      h('div', { class: 'card-title-row' }, h('h2', { class: 'card-title' }, name), badge.el),
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
    recordingsLink.setAttribute('aria-label', `Recordings of ${d.name || d.id}`);
    if (name.textContent !== d.name) name.textContent = d.name || d.id;
    badge.update(d.online);
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

/* ---------- add doorbell ---------- */

function addDialog(onAdded) {
  let added = false;
  const { body, close } = openDialog({
    title: 'Add doorbell', testid: 'add-device-dialog', wide: true,
    onClose: () => { if (added) onAdded(); },
  });
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 64, autocomplete: 'off',
    placeholder: 'Front door', 'data-testid': 'add-device-name' });
  const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'add-device-submit' },
    h('span', { class: 'btn-label', text: 'Add doorbell' }));
  const cancel = button('Cancel', { variant: 'btn-secondary', onclick: close });
  const form = h('form', { class: 'dialog-form', novalidate: true },
    field('Name', name, 'Where the doorbell is, e.g. “Front door” or “Garden gate”.'),
    error,
    h('div', { class: 'dialog-actions' }, cancel, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = name.value.trim();
    if (!n) { error.textContent = 'Give the doorbell a name.'; error.hidden = false; name.focus(); return; }
    error.hidden = true;
    try {
      const r = await busy(submit, () => api.post('/api/v1/devices', { name: n }));
      added = true;
      showSecret(body, r, close);
    } catch (err) {
      if (err.handled) { close(); return; }
      error.textContent = err instanceof api.NetworkError ? 'The hub is unreachable. Try again.' : `Could not add the doorbell: ${err.message}`;
      error.hidden = false;
    }
  });
  body.append(form);
  name.focus();
}

function showSecret(body, result, close) {
  const d = result.device || {};
  const secret = result.secret || '';
  const cmd = `doorbelld --hub wss://${location.host} --device-id ${d.id} --secret ${secret}`;
  const done = button('Done', { variant: 'btn-primary', 'data-testid': 'add-device-done', onclick: close });
  replace(body,
    h('div', { class: 'success-head' }, h('span', { class: 'success-badge' }, icon('check')),
      h('p', {}, h('strong', { text: d.name || 'Doorbell' }), ' was added. Start the doorbell with these credentials.')),
    h('div', { class: 'kv' },
      h('div', { class: 'kv-label', text: 'Device ID' }),
      copyable(d.id || '', { testid: 'new-device-id', label: 'device ID' }),
      h('div', { class: 'kv-label', text: 'Secret' }),
      copyable(secret, { testid: 'new-device-secret', label: 'secret' }),
      h('div', { class: 'kv-label', text: 'Command on the doorbell' }),
      copyable(cmd, { testid: 'new-device-command', label: 'command', multiline: true })),
    h('div', { class: 'callout callout-warn', role: 'note' }, icon('alert'),
      h('p', { text: 'The secret is shown only this once. Copy it now and keep it private: anyone with it can connect as this doorbell.' })),
    h('p', { class: 'muted small', text: 'Pairing by the 8-digit setup code on the doorbell’s label comes in a later version; until then a doorbell connects with its device ID and secret.' }),
    h('div', { class: 'dialog-actions' }, done));
  done.focus();
  toast(`Added “${d.name || 'doorbell'}”.`, 'success');
}
