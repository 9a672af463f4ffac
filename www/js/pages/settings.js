// Settings page (#/settings): the signed-in account (username, role, log out),
// for admins the storage of recordings (GET /api/v1/storage: use against the
// budget, per doorbell, and a warning when retention was cut short), the
// hub's own settings (js/hub-settings.js: storage limits, indoor chime), and
// the browser's own alerts (system notifications for events while the tab is
// hidden; open tabs always show a toast), for admins the people and their
// rights (js/users-settings.js: which doorbells each viewer sees and talks
// to), and a few facts about this hub and browser session.

import { h, icon, button, replace, DASH } from '../ui.js';
import * as api from '../api.js';
import { fmtBytes, fmtDay, fmtClock } from '../timeline/format.js';
import { createUsersSettings } from '../users-settings.js';
import { createStorageLimits, createChimeSettings } from '../hub-settings.js';

const ROLE_TEXT = {
  admin: 'Administrator: manages doorbells, users and settings.',
  viewer: 'Viewer: sees the doorbells shared with this account.',
};

export function mount(main, ctx) {
  const user = ctx.user || {};
  const logoutBtn = button('Log out', { icon: 'logout', variant: 'btn-secondary', 'data-testid': 'settings-logout' });
  logoutBtn.addEventListener('click', () => ctx.logout(logoutBtn));

  const storage = ctx.isAdmin ? storageSection() : null;
  const rights = ctx.isAdmin ? createUsersSettings() : null;
  const limits = ctx.isAdmin ? createStorageLimits() : null;
  const chime = ctx.isAdmin ? createChimeSettings() : null;

  main.append(h('section', { class: 'page narrow' },
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Settings' }))),
    storage && storage.warning,
    h('section', { class: 'card panel' },
      h('h2', { class: 'section-title' }, icon('user'), h('span', { text: 'Account' })),
      h('div', { class: 'account' },
        h('span', { class: 'avatar avatar-lg', 'aria-hidden': 'true', text: (user.username || '?').slice(0, 1).toUpperCase() }),
        h('div', { class: 'account-text' },
          h('p', { class: 'account-name', 'data-testid': 'settings-username', text: user.username || '' }),
          h('p', { class: 'muted' },
            h('span', { class: ['badge', user.role === 'admin' ? 'badge-accent' : 'badge-neutral'], 'data-testid': 'settings-role', text: user.role || '' }),
            ' ', ROLE_TEXT[user.role] || '')),
        logoutBtn),
      h('div', { class: 'page-actions settings-links' },
        h('a', { class: 'btn btn-secondary', href: '#/account', 'data-testid': 'settings-account' }, icon('user'), h('span', { class: 'btn-label', text: 'Password and sessions' })),
        ctx.isAdmin && h('a', { class: 'btn btn-secondary', href: '#/audit', 'data-testid': 'settings-audit' }, icon('history'), h('span', { class: 'btn-label', text: 'Audit log' })))),
    storage && storage.el,
    limits && limits.el,
    chime && chime.el,
    rights && rights.el,
    h('section', { class: 'card panel' },
      h('h2', { class: 'section-title' }, icon('info'), h('span', { text: 'This hub' })),
      h('dl', { class: 'stats stats-rows' },
        row('Address', location.host),
        row('Connection', location.protocol === 'https:' ? 'Encrypted (HTTPS)' : 'Not encrypted'),
        row('Appearance', 'Follows the system’s light or dark mode')))));
  return () => {
    if (storage) storage.stop();
    if (rights) rights.stop();
    if (limits) limits.stop();
    if (chime) chime.stop();
  };
}

/* Storage of recordings (admins only: viewers get 403 from /api/v1/storage). */
function storageSection() {
  const warning = h('div', { class: 'callout callout-warn storage-warning', role: 'alert', hidden: true, 'data-testid': 'storage-warning' });
  const content = h('div', { class: 'storage', 'data-testid': 'storage' },
    h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading storage…' })));
  const el = h('section', { class: 'card panel', 'data-testid': 'storage-section' },
    h('h2', { class: 'section-title' }, icon('history'), h('span', { text: 'Recordings storage' })),
    content);
  const ctrl = new AbortController();

  function render(data) {
    const devices = data.devices || [];
    const problems = [...(data.warnings || [])];
    for (const d of devices) {
      if (!d.retention_cut_short) continue;
      const when = d.retention_cut_short_at_ms ? ` (last on ${fmtDay(d.retention_cut_short_at_ms)} at ${fmtClock(d.retention_cut_short_at_ms)})` : '';
      problems.push(`Recordings of ${d.name || d.device_id} were deleted before their retention time to stay within the storage limits${when}.`);
    }
    warning.hidden = problems.length === 0;
    replace(warning, icon('alert'), h('div', { class: 'storage-problems' },
      h('strong', { text: 'Recordings storage needs attention' }),
      h('ul', {}, problems.map((text) => h('li', { text })))));

    const used = data.used_bytes || 0;
    const budget = data.budget_bytes > 0 ? data.budget_bytes : used + (data.free_bytes || 0);
    const share = budget > 0 ? Math.min(1, used / budget) : 0;
    const bar = h('div', { class: 'meter', role: 'meter', 'aria-label': 'Storage used', 'aria-valuemin': '0',
      'aria-valuemax': String(budget), 'aria-valuenow': String(used), 'aria-valuetext': `${fmtBytes(used)} of ${fmtBytes(budget)}` },
    h('span', { class: ['meter-fill', share > 0.9 && 'is-high'], style: { width: `${(share * 100).toFixed(1)}%` } }));
    replace(content,
      h('p', { class: 'storage-total' },
        h('strong', { 'data-testid': 'storage-used', text: fmtBytes(used) }),
        h('span', { class: 'muted', text: data.budget_bytes > 0 ? ` of the ${fmtBytes(data.budget_bytes)} budget` : ' used, no budget set' })),
      bar,
      h('p', { class: 'muted small', text: `${fmtBytes(data.free_bytes)} free on the disk; at least ${fmtBytes(data.min_free_bytes)} is always kept free. When space runs short the oldest recordings go first; starred events are kept.` }),
      devices.length ? h('dl', { class: 'stats stats-rows storage-devices' }, devices.map((d) => h('div', { class: 'stat', 'data-testid': 'storage-device', 'data-device-id': d.device_id },
        h('dt', {},
          h('span', { text: d.name || d.device_id }),
          d.retention_cut_short ? h('span', { class: 'badge badge-warn', text: 'cut short' }) : null),
        h('dd', { title: typeof d.event_bytes === 'number' ? `${fmtBytes(d.bytes - d.event_bytes)} continuous, ${fmtBytes(d.event_bytes)} events` : null },
          h('span', { text: fmtBytes(d.bytes) }),
          h('span', { class: 'muted small storage-oldest', text: d.oldest_ms ? ` · since ${fmtDay(d.oldest_ms)}` : ` · ${DASH}` }))))) : h('p', { class: 'muted', text: 'Nothing recorded yet.' }));
  }

  api.get('/api/v1/storage', { signal: ctrl.signal }).then(render, (e) => {
    if (api.isAbort(e) || e.handled) return;
    replace(content, h('p', { class: 'muted', text: e instanceof api.NetworkError ? 'The hub is unreachable.' : `Storage figures are not available: ${e.message}` }));
  });
  return { el, warning, stop: () => ctrl.abort() };
}

function row(label, value) {
  return h('div', { class: 'stat' }, h('dt', { text: label }), h('dd', { text: value }));
}
