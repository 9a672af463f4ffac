// People and their rights (admins only), shown on the People page
// (#/users, js/pages/users.js) and, in short, on the Settings page: every
// account with its role and, for each viewer, a matrix of doorbells × the
// four rights of a grant (live, recordings, export, talk; PATCH
// /api/v1/users/{id} with "grants", docs/api.md). Administrators hold every
// right on every doorbell. On the People page each person also has a role
// switch, a password reset, "sign out everywhere" and removal. A change is
// saved at once; a failure puts the boxes back and says why. Owns one
// AbortController; stop() aborts loads.

import { h, icon, button, replace, toast, openDialog, confirmDialog, field } from './ui.js';
import * as api from './api.js';

export const RIGHTS = [
  { id: 'live', label: 'Live', title: 'Live view and snapshots of now' },
  { id: 'recordings', label: 'Recordings', title: 'Timeline, recordings, playback and event history' },
  { id: 'export', label: 'Export', title: 'Download clips' },
  { id: 'talk', label: 'Talk', title: 'Talk-back and quick replies' },
];

/** A grant {device_id, live, recordings, export, talk} from a device id and a set of right ids. */
export function grantOf(deviceId, rights) {
  return { device_id: deviceId, ...Object.fromEntries(RIGHTS.map((r) => [r.id, rights.has(r.id)])) };
}

/*
 * rightsMatrix({ devices, grants, label, onChange }) -> { el, grants(), set(grants), setDisabled(bool) }:
 * a table of doorbells × rights with one checkbox each (data-testid
 * rights-RIGHT in a tr[data-device-id]). onChange() runs after a click.
 */
export function rightsMatrix({ devices, grants = [], label = '', onChange }) {
  const boxes = new Map();   // device id -> Map(right id -> checkbox)
  const table = h('table', { class: 'rights-table' },
    h('thead', {}, h('tr', {}, h('th', { text: 'Doorbell' }), RIGHTS.map((r) => h('th', { title: r.title, text: r.label })))),
    h('tbody', {}, devices.map((d) => {
      const row = new Map();
      boxes.set(d.id, row);
      return h('tr', { 'data-device-id': d.id },
        h('td', { class: 'rights-device', text: d.name || d.id }),
        RIGHTS.map((r) => {
          const box = h('input', { type: 'checkbox', 'data-testid': `rights-${r.id}`, title: r.title,
            'aria-label': `${label ? `${label}: ` : ''}${r.label} on ${d.name || d.id}` });
          if (onChange) box.addEventListener('change', () => onChange());
          row.set(r.id, box);
          return h('td', {}, box);
        }));
    })));
  function set(list) {
    const byDevice = new Map((list || []).map((g) => [g.device_id, g]));
    for (const [id, row] of boxes) {
      const g = byDevice.get(id) || {};
      for (const [right, box] of row) box.checked = Boolean(g[right]);
    }
  }
  set(grants);
  return {
    el: h('div', { class: 'rights-scroll' }, table),
    grants: () => [...boxes].map(([id, row]) => grantOf(id, new Set([...row].filter(([, b]) => b.checked).map(([r]) => r))))
      .filter((g) => RIGHTS.some((r) => g[r.id])),
    set,
    setDisabled: (disabled) => { for (const row of boxes.values()) for (const box of row.values()) box.disabled = disabled; },
  };
}

/** createUsersSettings({ full }) -> { el, reload(), stop() }: the section, loading at once. */
export function createUsersSettings({ full = false } = {}) {
  const content = h('div', { class: 'rights', 'data-testid': 'rights' },
    h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading people…' })));
  const el = h('section', { class: 'card panel', 'data-testid': 'rights-section' },
    h('h2', { class: 'section-title' }, icon('user'), h('span', { text: 'People and rights' })),
    h('p', { class: 'muted small', text: 'Each doorbell a viewer may use carries its own rights: live view, recordings, downloads and talk-back. Administrators may do everything.' }),
    full ? null : h('p', { class: 'small' }, h('a', { href: '#/users', 'data-testid': 'people-link', text: 'Invite someone or manage people on the People page' })),
    content);
  const ctrl = new AbortController();
  let me = null;

  async function load() {
    try {
      const [users, devices, self] = await Promise.all([
        api.get('/api/v1/users', { signal: ctrl.signal }),
        api.get('/api/v1/devices', { signal: ctrl.signal }),
        me ? Promise.resolve(me) : api.get('/api/v1/me', { signal: ctrl.signal }),
      ]);
      me = self;
      replace(content, ((users && users.users) || []).map((user) => userRow(user, (devices && devices.devices) || [])));
    } catch (e) {
      if (api.isAbort(e) || e.handled) return;
      replace(content, h('p', { class: 'muted', text: e instanceof api.NetworkError ? 'The hub is unreachable.' : `People are not available: ${e.message}` }));
    }
  }

  function problem(e, what) {
    if (e.handled) return;
    toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `${what}: ${e.message}`, 'error');
  }

  function userRow(user, devices) {
    const isMe = me && me.id === user.id;
    const head = h('div', { class: 'rights-user' },
      h('span', { class: 'avatar', 'aria-hidden': 'true', text: (user.username || '?').slice(0, 1).toUpperCase() }),
      h('strong', { class: 'rights-name', text: user.username }),
      h('span', { class: ['badge', user.role === 'admin' ? 'badge-accent' : 'badge-neutral'], 'data-testid': 'rights-role', text: user.role }),
      isMe ? h('span', { class: 'muted small', text: '(you)' }) : null);
    const row = h('div', { class: 'rights-row', 'data-testid': 'rights-user', 'data-username': user.username }, head);
    if (user.role === 'admin') {
      row.append(h('p', { class: 'muted small', text: 'Every right on every doorbell.' }));
    } else if (!devices.length) {
      row.append(h('p', { class: 'muted small', text: 'No doorbells yet.' }));
    } else {
      let saved = user.grants || [];
      const matrix = rightsMatrix({ devices, grants: saved, label: user.username, onChange: () => save() });
      row.append(matrix.el);
      async function save() {
        const grants = matrix.grants();
        matrix.setDisabled(true);
        try {
          const answer = await api.request('PATCH', `/api/v1/users/${encodeURIComponent(user.id)}`, { body: { grants } });
          saved = (answer && answer.grants) || grants;
          toast(`Rights of ${user.username} saved.`, 'success', 2500);
        } catch (e) {
          problem(e, `Could not change the rights of ${user.username}`);
        } finally {
          matrix.set(saved);
          matrix.setDisabled(false);
        }
      }
    }
    if (full) row.append(actions(user, isMe));
    return row;
  }

  // Role, password reset, sign out everywhere, removal (People page).
  function actions(user, isMe) {
    const role = h('select', { class: 'people-select rights-role-select', 'data-testid': 'user-role', 'aria-label': `Role of ${user.username}` },
      h('option', { value: 'viewer', text: 'Viewer', selected: user.role === 'viewer' }),
      h('option', { value: 'admin', text: 'Administrator', selected: user.role === 'admin' }));
    role.addEventListener('change', async () => {
      role.disabled = true;
      try {
        await api.request('PATCH', `/api/v1/users/${encodeURIComponent(user.id)}`, { body: { role: role.value } });
        toast(`${user.username} is now ${role.value === 'admin' ? 'an administrator' : 'a viewer'}.`, 'success', 2500);
        load();
      } catch (e) {
        role.value = user.role;
        problem(e, `Could not change the role of ${user.username}`);
      } finally {
        role.disabled = false;
      }
    });
    const reset = button('Reset password', { icon: 'edit', variant: 'btn-secondary btn-sm', 'data-testid': 'user-password' });
    reset.addEventListener('click', () => resetPassword(user));
    const signOut = button('Sign out everywhere', { icon: 'logout', variant: 'btn-secondary btn-sm', 'data-testid': 'user-signout' });
    signOut.addEventListener('click', async () => {
      if (!await confirmDialog({ title: `Sign ${user.username} out everywhere?`, message: 'Every browser signed in to this account is signed out, and open live views close.', confirmLabel: 'Sign out' })) return;
      try {
        await api.post(`/api/v1/users/${encodeURIComponent(user.id)}/sessions/revoke`);
        toast(`${user.username} is signed out everywhere.`, 'success', 2500);
      } catch (e) { problem(e, 'Could not sign out'); }
    });
    const remove = button('Remove', { icon: 'trash', variant: 'btn-secondary btn-sm btn-danger-text', 'data-testid': 'user-remove' });
    remove.addEventListener('click', async () => {
      if (!await confirmDialog({ title: `Remove ${user.username}?`, message: 'The account, its sessions and its rights are deleted.', confirmLabel: 'Remove', danger: true })) return;
      try {
        await api.del(`/api/v1/users/${encodeURIComponent(user.id)}`);
        toast(`${user.username} was removed.`, 'success', 2500);
        load();
      } catch (e) { problem(e, `Could not remove ${user.username}`); }
    });
    if (isMe) { signOut.hidden = true; remove.hidden = true; }
    return h('div', { class: 'rights-actions' }, role, reset, signOut, remove);
  }

  function resetPassword(user) {
    const { body, close } = openDialog({ title: `New password for ${user.username}`, testid: 'password-dialog' });
    const input = h('input', { type: 'password', autocomplete: 'new-password', minlength: 10, maxlength: 256, 'data-testid': 'password-new' });
    const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'password-save' }, h('span', { class: 'btn-label', text: 'Set password' }));
    const form = h('form', { class: 'auth-form', novalidate: true },
      field('New password', input, 'At least 10 characters. Their sessions end.'), error, h('div', { class: 'dialog-actions' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        await api.put(`/api/v1/users/${encodeURIComponent(user.id)}/password`, { password: input.value });
        toast(`The password of ${user.username} was changed.`, 'success', 2500);
        close();
      } catch (err) {
        if (err.handled) return;
        error.textContent = err instanceof api.NetworkError ? 'The hub is unreachable.' : err.message;
        error.hidden = false;
      } finally {
        save.disabled = false;
      }
    });
    body.append(form);
    input.focus();
  }

  load();
  return { el, reload: load, stop: () => ctrl.abort() };
}
