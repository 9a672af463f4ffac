// The "People and rights" section of the settings page (admins only):
// every account with its role, and for each viewer the doorbells it may see
// and, of those, the ones it may talk through (PATCH /api/v1/users/{id}
// with "devices" and "talk_devices", docs/api.md). Administrators see and
// talk to every doorbell. Each change is saved at once; a failure puts the
// boxes back and says why. Owns one AbortController; stop() aborts loads.

import { h, icon, replace, toast } from './ui.js';
import * as api from './api.js';

/** createUsersSettings() -> { el, stop() }: the section, loading at once. */
export function createUsersSettings() {
  const content = h('div', { class: 'rights', 'data-testid': 'rights' },
    h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading people…' })));
  const el = h('section', { class: 'card panel', 'data-testid': 'rights-section' },
    h('h2', { class: 'section-title' }, icon('user'), h('span', { text: 'People and rights' })),
    h('p', { class: 'muted small', text: 'Viewers see the doorbells ticked under “Sees” and may speak through those ticked under “Talks”. Administrators see and talk to every doorbell.' }),
    content);
  const ctrl = new AbortController();

  async function load() {
    try {
      const [users, devices] = await Promise.all([
        api.get('/api/v1/users', { signal: ctrl.signal }),
        api.get('/api/v1/devices', { signal: ctrl.signal }),
      ]);
      render((users && users.users) || [], (devices && devices.devices) || []);
    } catch (e) {
      if (api.isAbort(e) || e.handled) return;
      replace(content, h('p', { class: 'muted', text: e instanceof api.NetworkError ? 'The hub is unreachable.' : `People are not available: ${e.message}` }));
    }
  }

  function render(users, devices) {
    replace(content, users.map((user) => userRow(user, devices)));
  }

  function userRow(user, devices) {
    const head = h('div', { class: 'rights-user' },
      h('span', { class: 'avatar', 'aria-hidden': 'true', text: (user.username || '?').slice(0, 1).toUpperCase() }),
      h('strong', { text: user.username }),
      h('span', { class: ['badge', user.role === 'admin' ? 'badge-accent' : 'badge-neutral'], text: user.role }));
    const row = h('div', { class: 'rights-row', 'data-testid': 'rights-user', 'data-username': user.username }, head);
    if (user.role === 'admin') {
      row.append(h('p', { class: 'muted small', text: 'Sees and talks to every doorbell.' }));
      return row;
    }
    if (!devices.length) {
      row.append(h('p', { class: 'muted small', text: 'No doorbells yet.' }));
      return row;
    }
    const talkKnown = Array.isArray(user.talk_devices);
    let sees = new Set(user.devices || []);
    let talks = new Set(user.talk_devices || []);
    const boxes = new Map();   // device id -> { see, talk }
    const list = h('table', { class: 'rights-table' },
      h('thead', {}, h('tr', {}, h('th', { text: 'Doorbell' }), h('th', { text: 'Sees' }), talkKnown ? h('th', { text: 'Talks' }) : null)),
      h('tbody', {}, devices.map((d) => {
        const see = h('input', { type: 'checkbox', checked: sees.has(d.id), 'data-testid': 'rights-see', 'aria-label': `${user.username} sees ${d.name || d.id}` });
        const talk = talkKnown ? h('input', { type: 'checkbox', checked: talks.has(d.id), disabled: !sees.has(d.id), 'data-testid': 'rights-talk',
          'aria-label': `${user.username} talks to ${d.name || d.id}` }) : null;
        boxes.set(d.id, { see, talk });
        see.addEventListener('change', () => save());
        if (talk) talk.addEventListener('change', () => save());
        return h('tr', { 'data-device-id': d.id }, h('td', { text: d.name || d.id }), h('td', {}, see), talk ? h('td', {}, talk) : null);
      })));
    row.append(list);

    function draw() {
      for (const [id, { see, talk }] of boxes) {
        see.checked = sees.has(id);
        if (talk) { talk.checked = talks.has(id); talk.disabled = !sees.has(id); }
      }
    }

    async function save() {
      const nextSees = [...boxes].filter(([, b]) => b.see.checked).map(([id]) => id);
      const nextTalks = talkKnown ? [...boxes].filter(([id, b]) => b.see.checked && b.talk.checked).map(([id]) => id) : null;
      for (const b of boxes.values()) { b.see.disabled = true; if (b.talk) b.talk.disabled = true; }
      try {
        const body = nextTalks ? { devices: nextSees, talk_devices: nextTalks } : { devices: nextSees };
        const saved = await api.request('PATCH', `/api/v1/users/${encodeURIComponent(user.id)}`, { body });
        sees = new Set((saved && saved.devices) || nextSees);
        talks = new Set((saved && saved.talk_devices) || nextTalks || []);
        toast(`Rights of ${user.username} saved.`, 'success', 2500);
      } catch (e) {
        if (!e.handled) toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not change the rights of ${user.username}: ${e.message}`, 'error');
      } finally {
        for (const b of boxes.values()) b.see.disabled = false;
        draw();
      }
    }
    return row;
  }

  load();
  return { el, stop: () => ctrl.abort() };
}
