// Sign-in page (#/login): username + password -> POST /auth/login, with clear
// errors for wrong credentials, rate limiting (Retry-After countdown) and an
// unreachable hub. Returns to the route in ?next= afterwards.

import { h, field, replace } from '../ui.js';
import * as api from '../api.js';

export function mount(main, ctx) {
  let countdown = null;

  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', maxlength: 64, 'data-testid': 'login-username' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true,
    maxlength: 256, 'data-testid': 'login-password' });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'login-error', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-submit' },
    h('span', { class: 'btn-label', text: 'Sign in' }));

  const notice = ctx.query.get('expired')
    ? h('p', { class: 'form-note', role: 'status', text: 'Your session has ended. Sign in again to continue.' })
    : null;

  const form = h('form', { class: 'auth-form', novalidate: true },
    notice,
    field('Username', username),
    field('Password', password),
    error,
    submit);

  function showError(text) {
    if (!text) { error.hidden = true; error.replaceChildren(); return; }
    replace(error, text);
    error.hidden = false;
  }

  // The error is announced once; the countdown runs on the (disabled) button.
  const label = submit.querySelector('.btn-label');
  function startCountdown(seconds) {
    stopCountdown();
    let left = Math.max(1, seconds);
    showError(`Too many sign-in attempts. Try again in ${left} s.`);
    const tick = () => {
      if (left <= 0) {
        stopCountdown();
        showError('');
        return;
      }
      label.textContent = `Try again in ${left} s`;
      left -= 1;
    };
    submit.disabled = true;
    tick();
    countdown = setInterval(tick, 1000);
  }

  function stopCountdown() {
    if (countdown) { clearInterval(countdown); countdown = null; }
    label.textContent = 'Sign in';
    submit.disabled = false;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    const u = username.value.trim();
    if (!u || !password.value) {
      showError('Enter your username and password.');
      (u ? password : username).focus();
      return;
    }
    showError('');
    submit.disabled = true;
    submit.classList.add('is-busy');
    let keepDisabled = false;
    try {
      const r = await api.login(u, password.value);
      ctx.onAuthenticated(r, ctx.query.get('next'));
      return;
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'invalid_credentials') {
        showError('Wrong username or password.');
        password.value = '';
        password.focus();
      } else if (err instanceof api.ApiError && (err.status === 429 || err.code === 'rate_limited')) {
        keepDisabled = true;
        startCountdown(err.retryAfter || 30);
      } else if (err instanceof api.NetworkError) {
        showError('The hub is unreachable. Check that it is running and try again.');
      } else {
        showError(err.message || 'Sign-in failed.');
      }
    } finally {
      submit.classList.remove('is-busy');
      if (!keepDisabled) submit.disabled = false;
    }
  });

  main.append(h('section', { class: 'auth' },
    h('div', { class: 'auth-card' },
      h('div', { class: 'auth-brand' },
        h('img', { src: '/icons/logo.svg', alt: '', width: 48, height: 48 }),
        h('span', { class: 'brand-name', text: 'Doorstep' })),
      h('h1', { text: 'Sign in' }),
      h('p', { class: 'muted', text: 'Your doorbells, on your own hub.' }),
      form)));

  username.focus();
  return stopCountdown;
}
