// Invite landing page (#/invite/TOKEN, public): the person an administrator
// invited picks a username and password (POST /auth/invite); the invite's
// role and doorbell rights come with it, and they are signed in. A used,
// expired or withdrawn link says so.

import { h, field, replace } from '../ui.js';
import * as api from '../api.js';

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

export function mount(main, ctx) {
  const token = ctx.params.token || '';
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', maxlength: 64, 'data-testid': 'invite-username' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
    minlength: 10, maxlength: 256, 'data-testid': 'invite-password' });
  const confirm = h('input', { type: 'password', name: 'confirm', autocomplete: 'new-password', required: true,
    minlength: 10, maxlength: 256, 'data-testid': 'invite-confirm' });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'invite-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'invite-submit' },
    h('span', { class: 'btn-label', text: 'Create my account' }));
  const showError = (...parts) => {
    if (!parts.length) { error.hidden = true; error.replaceChildren(); return; }
    replace(error, ...parts);
    error.hidden = false;
  };
  const form = h('form', { class: 'auth-form', novalidate: true },
    field('Username', username, 'Letters, digits and . _ @ - (up to 64).'),
    field('Password', password, 'At least 10 characters.'),
    field('Confirm password', confirm),
    error, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const u = username.value.trim();
    if (!USERNAME_RE.test(u)) { showError('Choose a username of 1–64 letters, digits or . _ @ -'); username.focus(); return; }
    if (password.value.length < 10 || password.value.length > 256) { showError('The password needs 10 to 256 characters.'); password.focus(); return; }
    if (password.value !== confirm.value) { showError('The two passwords do not match.'); confirm.focus(); return; }
    showError();
    submit.disabled = true;
    submit.classList.add('is-busy');
    try {
      const r = await api.post('/auth/invite', { token, username: u, password: password.value });
      api.setCsrf(r && r.csrf_token);
      ctx.onAuthenticated(r, '/devices');
    } catch (err) {
      if (err instanceof api.NetworkError) showError('The hub is unreachable. Check your connection and try again.');
      else if (err instanceof api.ApiError && /^invite_|invalid_invite/.test(err.code || '')) showError(`${err.message}. Ask the person who invited you for a new link.`);
      else showError(err.message || 'The account could not be created.');
    } finally {
      submit.disabled = false;
      submit.classList.remove('is-busy');
    }
  });

  main.append(h('section', { class: 'auth' }, h('div', { class: 'auth-card auth-card-wide', 'data-testid': 'invite-page' },
    h('div', { class: 'auth-brand' },
      h('img', { src: '/icons/logo.svg', alt: '', width: 48, height: 48 }),
      h('span', { class: 'brand-name', text: 'Doorstep' })),
    h('h1', { text: 'You are invited' }),
    h('p', { class: 'muted', text: 'Choose a username and a password for this doorbell hub. There is nothing else to set up.' }),
    form)));
  username.focus();
}
