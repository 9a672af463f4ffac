// Invite landing page (#/invite/TOKEN, public): the person an administrator
// invited picks a username and password (POST /auth/invite); the invite's
// role and doorbell rights come with it, and they are signed in. A used,
// expired or withdrawn link says so.

import { h } from '../ui.js';
import * as api from '../api.js';
import { newAccountForm } from '../new-account-form.js';

export function mount(main, ctx) {
  const token = ctx.params.token || '';
  const form = newAccountForm({
    testid: 'invite',
    submitLabel: 'Create my account',
    failed: 'The account could not be created.',
    create: async (username, password) => {
      const r = await api.post('/auth/invite', { token, username, password });
      api.setCsrf(r && r.csrf_token);
      ctx.onAuthenticated(r, '/devices');
    },
    explain: (err, showError) => {
      if (err instanceof api.NetworkError) showError('The hub is unreachable. Check your connection and try again.');
      else if (err instanceof api.ApiError && /^invite_|invalid_invite/.test(err.code || '')) showError(`${err.message}. Ask the person who invited you for a new link.`);
      else return false;
      return true;
    },
  });

  main.append(h('section', { class: 'auth' }, h('div', { class: 'auth-card auth-card-wide', 'data-testid': 'invite-page' },
    h('div', { class: 'auth-brand' },
      h('img', { src: '/icons/logo.svg', alt: '', width: 48, height: 48 }),
      h('span', { class: 'brand-name', text: 'Doorstep' })),
    h('h1', { text: 'You are invited' }),
    h('p', { class: 'muted', text: 'Choose a username and a password for this doorbell hub. There is nothing else to set up.' }),
    form)));
  form.querySelector('input').focus();
}
