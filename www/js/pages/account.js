// My account page (#/account, every user): change one's password
// (POST /api/v1/me/password ends every session of the account, this one
// too, so the page signs in again with the new password and the other
// devices stay signed out), and the account's active sessions
// (GET /api/v1/me/sessions): browser and system, address, when signed in
// and last seen, "This browser" for the current one, "Sign out" for each
// other one (DELETE /api/v1/me/sessions/{id}) and "Sign out everywhere
// else" (POST /api/v1/me/sessions/revoke-others). Open live views and event
// feeds of a signed-out session close at once.

import { h, icon, button, busy, field, replace, toast, confirmDialog, fmtAgo, fmtDateTime } from '../ui.js';
import * as api from '../api.js';

export function mount(main, ctx) {
  const user = ctx.user || {};
  const ctrl = new AbortController();
  const list = h('ul', { class: 'session-list', 'data-testid': 'session-list', 'aria-label': 'Active sessions' },
    h('li', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading sessions…' })));
  const othersBtn = button('Sign out everywhere else', { icon: 'logout', variant: 'btn-secondary', 'data-testid': 'sessions-revoke-others' });
  othersBtn.addEventListener('click', signOutOthers);
  const status = h('p', { class: 'muted small', role: 'status', 'data-testid': 'sessions-status' });

  main.append(h('section', { class: 'page narrow', 'data-testid': 'account-page' },
    h('div', { class: 'page-head' }, h('div', {},
      h('h1', { text: 'My account' }),
      h('p', { class: 'page-sub muted' },
        h('span', { 'data-testid': 'account-username', text: user.username || '' }),
        ' · ', h('span', { class: ['badge', user.role === 'admin' ? 'badge-accent' : 'badge-neutral'], text: user.role || '' })))),
    passwordSection(),
    h('section', { class: 'card panel', 'aria-labelledby': 'sessions-title' },
      h('div', { class: 'section-head' },
        h('h2', { class: 'section-title', id: 'sessions-title' }, icon('user'), h('span', { text: 'Where you are signed in' })),
        othersBtn),
      h('p', { class: 'muted small', text: 'Signing a session out ends it at once: that browser goes back to the sign-in page and its live views close.' }),
      list, status)));

  /* ---------- sessions ---------- */

  async function load() {
    try {
      const data = await api.get('/api/v1/me/sessions', { signal: ctrl.signal });
      render(data.sessions || []);
    } catch (e) {
      if (api.isAbort(e) || e.handled) return;
      replace(list, h('li', { class: 'muted', text: e instanceof api.NetworkError ? 'The hub is unreachable.' : `Sessions are not available: ${e.message}` }));
    }
  }

  function render(sessions) {
    othersBtn.hidden = !sessions.some((s) => !s.current);
    status.textContent = sessions.length === 1 ? 'This is the only browser signed in to your account.' : '';
    replace(list, [...sessions].sort((a, b) => Number(b.current) - Number(a.current)).map(sessionRow));
  }

  function sessionRow(s) {
    const out = s.current ? null : button('Sign out', { variant: 'btn-secondary btn-sm', 'data-testid': 'session-revoke',
      'aria-label': `Sign out ${s.device} at ${s.address}` });
    if (out) out.addEventListener('click', () => busy(out, () => signOut(s)));
    return h('li', { class: ['session-row', s.current && 'is-current'], 'data-testid': 'session-row', 'data-session-id': s.id,
      'data-current': String(Boolean(s.current)) },
    h('div', { class: 'session-main' },
      h('p', { class: 'session-device' },
        h('strong', { text: s.device || 'Unknown device' }),
        s.current ? h('span', { class: 'badge badge-accent', 'data-testid': 'session-current', text: 'This browser' }) : null),
      h('p', { class: 'muted small session-meta' },
        h('span', { text: s.address || 'unknown address' }),
        ' · ', h('span', { title: fmtDateTime(s.created_at), text: `signed in ${fmtDateTime(s.created_at)}` }),
        ' · ', h('span', { title: fmtDateTime(s.last_seen_at), text: `last seen ${fmtAgo(s.last_seen_at, api.serverNow())}` }))),
    out);
  }

  async function signOut(s) {
    try {
      await api.del(`/api/v1/me/sessions/${encodeURIComponent(s.id)}`);
      toast(`${s.device} is signed out.`, 'success', 3000);
    } catch (e) {
      if (!e.handled && !(e instanceof api.ApiError && e.status === 404)) toast(`Could not sign it out: ${e.message}`, 'error');
    }
    await load();
  }

  async function signOutOthers() {
    const ok = await confirmDialog({ title: 'Sign out everywhere else?', message: 'Every other browser and device signed in to your account is signed out at once. This browser stays signed in.',
      confirmLabel: 'Sign out the others', danger: true });
    if (!ok) return;
    await busy(othersBtn, async () => {
      try {
        const r = await api.post('/api/v1/me/sessions/revoke-others');
        toast(r && r.ended === 1 ? 'One other session is signed out.' : `${(r && r.ended) || 0} other sessions are signed out.`, 'success', 3000);
      } catch (e) {
        if (!e.handled) toast(`Could not sign the others out: ${e.message}`, 'error');
      }
    });
    await load();
  }

  /* ---------- password ---------- */

  function passwordSection() {
    const current = h('input', { type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'password-current' });
    const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 10, 'data-testid': 'password-new' });
    const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, 'data-testid': 'password-again' });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'password-error' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'password-save' }, h('span', { class: 'btn-label', text: 'Change password' }));
    const form = h('form', { class: 'form account-password', novalidate: true },
      field('Current password', current),
      field('New password', next, 'At least 10 characters. Every other browser signed in to your account is signed out.'),
      field('New password again', again),
      error, h('div', { class: 'form-actions' }, save));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      if (next.value !== again.value) { showError('The two new passwords differ.'); return; }
      if (!current.value || !next.value) { showError('Fill in the current and the new password.'); return; }
      await busy(save, async () => {
        try {
          await api.post('/api/v1/me/password', { current_password: current.value, password: next.value });
        } catch (e) {
          if (!e.handled) showError(e instanceof api.ApiError && e.code === 'wrong_password' ? 'The current password is wrong.' : e.message);
          return;
        }
        // The change ended every session, this one too: sign in again here.
        try {
          const r = await api.login(user.username, next.value);
          toast('Your password is changed; other browsers are signed out.', 'success', 4000);
          ctx.onAuthenticated(r, '/account');
        } catch {
          toast('Your password is changed. Sign in with the new one.', 'info', 4000);
          ctx.navigate('/login?next=%2Faccount', { replace: true });
        }
      });
    });
    function showError(text) {
      error.textContent = text;
      error.hidden = false;
    }
    return h('section', { class: 'card panel', 'aria-labelledby': 'password-title' },
      h('h2', { class: 'section-title', id: 'password-title' }, icon('settings'), h('span', { text: 'Password' })),
      form);
  }

  load();
  const timer = setInterval(load, 30000);
  return () => { ctrl.abort(); clearInterval(timer); };
}
