// First-run page (#/setup?token=...): creates the first administrator with the
// one-time token from the hub's log (POST /auth/setup). Without a token it
// explains where the setup link comes from.

import { h } from '../ui.js';
import * as api from '../api.js';
import { newAccountForm } from '../new-account-form.js';

export function mount(main, ctx) {
  const token = (ctx.query.get('token') || '').trim();
  let content;
  if (!ctx.session.setup_required) content = alreadySetUp();
  else if (!token) content = needLink();
  else content = setupForm(token, ctx);
  main.append(h('section', { class: 'auth' }, h('div', { class: 'auth-card auth-card-wide' },
    h('div', { class: 'auth-brand' },
      h('img', { src: '/icons/logo.svg', alt: '', width: 48, height: 48 }),
      h('span', { class: 'brand-name', text: 'Doorstep' })),
    content)));
  const first = main.querySelector('input');
  if (first) first.focus();
}

function alreadySetUp() {
  return [
    h('h1', { text: 'Already set up' }),
    h('p', { class: 'muted', text: 'This hub already has an administrator. Sign in with your account.' }),
    h('a', { class: 'btn btn-primary btn-block', href: '#/login' }, h('span', { class: 'btn-label', text: 'Go to sign in' })),
  ];
}

function needLink() {
  const host = location.host;
  return [
    h('h1', { text: 'Welcome to Doorstep' }),
    h('p', { class: 'muted', text: 'This hub has no administrator yet. Create the first one with the one-time setup link the hub printed when it started.' }),
    h('ol', { class: 'steps' },
      h('li', {},
        h('strong', { text: 'Open the link from the hub’s log. ' }),
        'It looks like this:',
        h('code', { class: 'block', text: `https://${host}/#/setup?token=…` }),
        'The same link is saved in the file ', h('code', { text: 'setup-token' }), ' in the hub’s data directory.'),
      h('li', {},
        h('strong', { text: 'Or use the command line ' }),
        'on the hub:',
        h('code', { class: 'block', text: 'doorstep user add --admin' }),
        'and then sign in here.')),
    h('a', { class: 'btn btn-secondary btn-block', href: '#/login' }, h('span', { class: 'btn-label', text: 'I already have an account' })),
  ];
}

function setupForm(token, ctx) {
  const form = newAccountForm({
    testid: 'setup',
    submitLabel: 'Create administrator',
    failed: 'Setup failed.',
    create: async (username, password) => ctx.onAuthenticated(await api.setup(token, username, password), '/devices'),
    explain: (err, showError) => {
      if (err instanceof api.ApiError && err.code === 'invalid_token') {
        showError('This setup link is not valid. Use the latest link from the hub’s log, or run ',
          h('code', { text: 'doorstep user add --admin' }), ' on the hub.');
      } else if (err instanceof api.ApiError && err.code === 'already_set_up') {
        showError('An administrator already exists. ', h('a', { href: '#/login', text: 'Sign in instead' }), '.');
      } else if (err instanceof api.NetworkError) {
        showError('The hub is unreachable. Check that it is running and try again.');
      } else {
        return false;
      }
      return true;
    },
  });

  return [
    h('h1', { text: 'Create the administrator' }),
    h('p', { class: 'muted', text: 'This account manages doorbells, users and settings. There is no default password.' }),
    form,
  ];
}
