// The "choose a username and password" form shared by the first-run setup
// page and the invite landing page: fields, the checks the hub also makes,
// errors in words, and a busy button while the account is made.

import { h, field, replace } from './ui.js';
import * as api from './api.js';

const USERNAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

// testid: the data-testid prefix ("setup", "invite"); submitLabel: the
// button's text; create(username, password): makes the account and signs in
// (rejects with api.ApiError/NetworkError); explain(err, showError): shows a
// page-specific message for err and returns true, or false for the generic one.
export function newAccountForm({ testid, submitLabel, create, explain, failed }) {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', maxlength: 64, pattern: '[A-Za-z0-9._@\\-]{1,64}', 'data-testid': `${testid}-username` });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true,
    minlength: 10, maxlength: 256, 'data-testid': `${testid}-password` });
  const confirm = h('input', { type: 'password', name: 'confirm', autocomplete: 'new-password', required: true,
    minlength: 10, maxlength: 256, 'data-testid': `${testid}-confirm` });
  const error = h('div', { class: 'form-error', role: 'alert', 'data-testid': `${testid}-error`, hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': `${testid}-submit` },
    h('span', { class: 'btn-label', text: submitLabel }));

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
      await create(u, password.value);
    } catch (err) {
      if (explain && explain(err, showError)) return;
      showError(err.message || failed);
    } finally {
      submit.disabled = false;
      submit.classList.remove('is-busy');
    }
  });
  return form;
}
