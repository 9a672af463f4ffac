// First-run page (#/setup?token=...): creates the first administrator with the
// one-time token from the hub's log (POST /auth/setup). Without a token it
// explains where the setup link comes from.

import { h, field, replace } from '../ui.js';
import * as api from '../api.js';

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

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
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', maxlength: 64, pattern: '[A-Za-z0-9._@\\-]{1,64}', 'data-testid': 'setup-username' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
    minlength: 10, maxlength: 256, 'data-testid': 'setup-password' });
  const confirm = h('input', { type: 'password', name: 'confirm', autocomplete: 'new-password', required: true,
    minlength: 10, maxlength: 256, 'data-testid': 'setup-confirm' });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'setup-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'setup-submit' },
    h('span', { class: 'btn-label', text: 'Create administrator' }));

  const showError = (...parts) => {
    if (!parts.length) { error.hidden = true; error.replaceChildren(); return; }
    replace(error, ...parts);
    error.hidden = false;
  };

  const form = h('form', { class: 'auth-form', novalidate: true },
    field('Username', username, 'Letters, digits and . _ @ - (up to 64).'),
    field('Password', password, 'At least 10 characters.'),
    field('Confirm password', confirm),
    error,
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const u = username.value.trim();
    if (!USERNAME_RE.test(u)) { showError('Choose a username of 1–64 letters, digits or . _ @ -'); username.focus(); return; }
    if (password.value.length < 10 || password.value.length > 256) {
      showError('The password needs 10 to 256 characters.'); password.focus(); return;
    }
    if (password.value !== confirm.value) { showError('The two passwords do not match.'); confirm.focus(); return; }
    showError();
    submit.disabled = true;
    submit.classList.add('is-busy');
    try {
      const r = await api.setup(token, u, password.value);
      ctx.onAuthenticated(r, '/devices');
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'invalid_token') {
        showError('This setup link is not valid. Use the latest link from the hub’s log, or run ',
          h('code', { text: 'doorstep user add --admin' }), ' on the hub.');
      } else if (err instanceof api.ApiError && err.code === 'already_set_up') {
        showError('An administrator already exists. ', h('a', { href: '#/login', text: 'Sign in instead' }), '.');
      } else if (err instanceof api.NetworkError) {
        showError('The hub is unreachable. Check that it is running and try again.');
      } else {
        showError(err.message || 'Setup failed.');
      }
    } finally {
      submit.disabled = false;
      submit.classList.remove('is-busy');
    }
  });

  return [
    h('h1', { text: 'Create the administrator' }),
    h('p', { class: 'muted', text: 'This account manages doorbells, users and settings. There is no default password.' }),
    form,
  ];
}
