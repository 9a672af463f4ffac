// People page (#/users, admins only): add someone by a one-time invite link
// (POST /api/v1/invites, shown once with a copy button) or with a password
// (POST /api/v1/users), each with a role and, for a viewer, the doorbells
// and rights to give; the open invites (GET /api/v1/invites, withdraw with
// DELETE); and everyone with their rights matrix and actions
// (js/users-settings.js).

import { h, icon, button, replace, toast, field, copyable, fmtDateTime } from '../ui.js';
import * as api from '../api.js';
import { createUsersSettings, rightsMatrix } from '../users-settings.js';

export function mount(main, ctx) {
  if (!ctx.isAdmin) {
    main.append(h('section', { class: 'page narrow' }, h('div', { class: 'empty' },
      icon('user', 'empty-icon'), h('h1', { text: 'People' }),
      h('p', { class: 'muted', text: 'Only an administrator manages people.' }))));
    return null;
  }
  const ctrl = new AbortController();
  const people = createUsersSettings({ full: true });
  const invites = h('div', { class: 'invites', 'data-testid': 'invites' });
  const addSlot = h('div', { class: 'people-add', 'data-testid': 'add-person' },
    h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading doorbells…' })));

  main.append(h('section', { class: 'page narrow' },
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'People' }),
      h('p', { class: 'page-sub muted', text: 'Who may use this hub, and what each person may do with each doorbell.' }))),
    h('section', { class: 'card panel' },
      h('h2', { class: 'section-title' }, icon('plus'), h('span', { text: 'Add someone' })), addSlot),
    h('section', { class: 'card panel', 'data-testid': 'invites-section' },
      h('h2', { class: 'section-title' }, icon('send'), h('span', { text: 'Open invites' })), invites),
    people.el));

  async function loadInvites() {
    try {
      const data = await api.get('/api/v1/invites', { signal: ctrl.signal });
      const open = ((data && data.invites) || []).filter((i) => i.state === 'open');
      replace(invites, open.length ? open.map(inviteRow) : h('p', { class: 'muted small', text: 'No open invites.' }));
    } catch (e) {
      if (!api.isAbort(e) && !e.handled) replace(invites, h('p', { class: 'muted', text: `Invites are not available: ${e.message}` }));
    }
  }

  function inviteRow(invite) {
    const withdraw = button('Withdraw', { icon: 'close', variant: 'btn-secondary btn-sm', 'data-testid': 'invite-withdraw' });
    withdraw.addEventListener('click', async () => {
      try {
        await api.del(`/api/v1/invites/${encodeURIComponent(invite.id)}`);
        toast('The invite was withdrawn.', 'success', 2500);
        loadInvites();
      } catch (e) { if (!e.handled) toast(`Could not withdraw the invite: ${e.message}`, 'error'); }
    });
    const what = invite.role === 'admin' ? 'Administrator' : `Viewer of ${(invite.grants || []).length} doorbell${(invite.grants || []).length === 1 ? '' : 's'}`;
    return h('div', { class: 'invite-row', 'data-testid': 'invite', 'data-invite-id': invite.id },
      h('div', { class: 'invite-text' },
        h('strong', { text: invite.note || 'Invite' }),
        h('span', { class: 'muted small', text: ` · ${what} · until ${fmtDateTime(invite.expires_at)}` })),
      withdraw);
  }

  async function drawAdd() {
    let devices = [];
    try {
      devices = ((await api.get('/api/v1/devices', { signal: ctrl.signal })) || {}).devices || [];
    } catch (e) {
      if (api.isAbort(e) || e.handled) return;
    }
    const role = h('select', { class: 'people-select', 'data-testid': 'add-role' },
      h('option', { value: 'viewer', text: 'Viewer: the doorbells and rights ticked below' }),
      h('option', { value: 'admin', text: 'Administrator: everything' }));
    const matrix = rightsMatrix({ devices, label: 'new person' });
    const matrixField = h('div', { class: 'people-matrix' }, h('span', { class: 'people-matrix-label', text: 'Doorbells and rights' }),
      devices.length ? matrix.el : h('p', { class: 'muted small', text: 'No doorbells yet.' }));
    role.addEventListener('change', () => { matrixField.hidden = role.value === 'admin'; });
    const note = h('input', { type: 'text', maxlength: 200, placeholder: 'e.g. Grandma’s phone', 'data-testid': 'add-note' });
    const result = h('div', { class: 'invite-result', hidden: true, 'data-testid': 'invite-result' });
    const inviteBtn = button('Create invite link', { icon: 'send', variant: 'btn-primary', 'data-testid': 'add-invite' });
    const username = h('input', { type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: 64, 'data-testid': 'add-username' });
    const password = h('input', { type: 'password', autocomplete: 'new-password', maxlength: 256, 'data-testid': 'add-password' });
    const createBtn = button('Create account', { icon: 'user', variant: 'btn-secondary', 'data-testid': 'add-create' });

    const grants = () => (role.value === 'admin' ? [] : matrix.grants());
    inviteBtn.addEventListener('click', async () => {
      inviteBtn.disabled = true;
      try {
        const made = await api.post('/api/v1/invites', { role: role.value, grants: grants(), note: note.value.trim() });
        replace(result,
          h('p', { class: 'small', text: 'Send this link to the person. It works once, for 7 days; it is shown only now.' }),
          copyable(made.link, { testid: 'invite-link', label: 'invite link' }));
        result.hidden = false;
        loadInvites();
      } catch (e) {
        if (!e.handled) toast(`Could not create the invite: ${e.message}`, 'error');
      } finally {
        inviteBtn.disabled = false;
      }
    });
    createBtn.addEventListener('click', async () => {
      createBtn.disabled = true;
      try {
        await api.post('/api/v1/users', { username: username.value.trim(), password: password.value, role: role.value, grants: grants() });
        toast(`${username.value.trim()} was added.`, 'success', 2500);
        username.value = '';
        password.value = '';
        people.reload();
      } catch (e) {
        if (!e.handled) toast(`Could not add the account: ${e.message}`, 'error');
      } finally {
        createBtn.disabled = false;
      }
    });
    replace(addSlot,
      field('Role', role),
      matrixField,
      field('Note (for you)', note),
      h('div', { class: 'form-actions' }, inviteBtn),
      result,
      h('details', { class: 'add-password' },
        h('summary', { text: 'Or create the account with a password yourself' }),
        field('Username', username, 'Letters, digits and . _ @ - (up to 64).'),
        field('Password', password, 'At least 10 characters.'),
        h('div', { class: 'form-actions' }, createBtn)));
  }

  drawAdd();
  loadInvites();
  return () => { ctrl.abort(); people.stop(); };
}
