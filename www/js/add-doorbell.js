// "Add doorbell" (admins, from #/devices): the doorbells waiting to pair with
// this hub (GET /api/v1/pairing, polled while the dialog is open), the ones
// only seen on the network (GET /api/v1/discovery: announcing pairing mode
// over mDNS but not connected here yet), and pairing one by its 8-digit setup
// code (POST /api/v1/pairing/{id}; the hub runs SPAKE2+ with the doorbell,
// see docs/protocol.md). Doorbells with older firmware can still be added
// with a device secret (POST /api/v1/devices), behind a link at the bottom.

import { h, icon, button, busy, field, replace, openDialog, copyable, toast, fmtAgo } from './ui.js';
import * as api from './api.js';
import { poller } from './device-ui.js';

const CODE_DIGITS = 8;

/** Open the dialog; onAdded() runs after it closes when a doorbell was added. */
export function openAddDoorbell(onAdded) {
  let added = false;
  let poll = null;
  const { body, close } = openDialog({
    title: 'Add doorbell', testid: 'add-device-dialog', wide: true,
    onClose: () => { if (poll) poll.stop(); if (added) onAdded(); },
  });
  const markAdded = () => { added = true; };
  showWaiting();

  // The list of doorbells waiting to pair; the first view of the dialog.
  function showWaiting() {
    const list = h('ul', { class: 'pair-list', 'data-testid': 'pairing-list' });
    const seenList = h('ul', { class: 'pair-list pair-list-seen', 'data-testid': 'discovery-list' });
    const seenSection = h('div', { hidden: true },
      h('h3', { class: 'pair-heading', text: 'Seen on the network, not connected yet' }),
      h('p', { class: 'muted small', text: 'These doorbells announce pairing mode but have not reached this hub. A doorbell finds the hub by itself on the same network; otherwise start it with --hub wss://' + location.host + '.' }),
      seenList);
    const empty = h('div', { class: 'pair-empty', 'data-testid': 'pairing-empty', hidden: true },
      h('p', { text: 'No doorbell is waiting to pair.' }),
      h('p', { class: 'muted small', text: 'Power on a doorbell with the Doorstep firmware: a new one waits in pairing mode for 10 minutes. To pair it again later, hold its button for 10 seconds.' }));
    const legacy = h('button', { type: 'button', class: 'btn-link small', 'data-testid': 'add-device-legacy',
      text: 'Older doorbell firmware? Add it with a device secret instead.' });
    legacy.addEventListener('click', () => { if (poll) poll.stop(); showLegacy(); });
    replace(body,
      h('p', { class: 'dialog-text', text: 'Doorbells waiting to pair with this hub:' }),
      list, empty, seenSection,
      h('div', { class: 'dialog-foot' }, legacy));

    poll = poller(async (signal) => {
      const [waitingData, seenData] = await Promise.all([
        api.get('/api/v1/pairing', { signal }),
        api.get('/api/v1/discovery', { signal }).catch(() => null),
      ]);
      const waiting = (waitingData && waitingData.waiting) || [];
      const now = api.serverNow();
      replace(list, ...waiting.map((w) => waitingRow(w, now)));
      empty.hidden = waiting.length > 0;
      const connected = new Set(waiting.map((w) => w.device_id));
      const seen = ((seenData && seenData.doorbells) || []).filter((d) => !connected.has(d.device_id));
      replace(seenList, ...seen.map((d) => h('li', { class: 'pair-row', 'data-testid': 'discovered-doorbell', 'data-device-id': d.device_id },
        icon('doorbell', 'pair-icon'),
        h('div', { class: 'pair-what' },
          h('strong', { text: d.model || 'Doorbell' }),
          h('span', { class: 'muted small', text: `${d.device_id} · ${d.address || ''}` })))));
      seenSection.hidden = seen.length === 0;
    }, 2000);
  }

  function waitingRow(w, now) {
    const pair = button('Pair', { variant: 'btn-primary btn-sm', 'data-testid': 'pair-start',
      onclick: () => { poll.stop(); showCodeForm(w); } });
    return h('li', { class: 'pair-row', 'data-testid': 'waiting-doorbell', 'data-device-id': w.device_id },
      icon('doorbell', 'pair-icon'),
      h('div', { class: 'pair-what' },
        h('strong', { text: w.model || 'Doorbell' }),
        h('span', { class: 'muted small', text: `${w.device_id} · ${w.address || ''} · waiting since ${fmtAgo(w.since_ms, now)}` })),
      pair);
  }

  // Name and setup code for one waiting doorbell.
  function showCodeForm(w) {
    const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 64, autocomplete: 'off',
      placeholder: 'Front door', 'data-testid': 'pair-name' });
    const code = h('input', { type: 'text', name: 'code', required: true, inputmode: 'numeric', autocomplete: 'one-time-code',
      maxlength: 12, placeholder: '1234-5678', class: 'input-code', 'data-testid': 'pair-code' });
    const error = h('div', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'pair-error' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'pair-submit' },
      h('span', { class: 'btn-label', text: 'Pair' }));
    const back = button('Back', { variant: 'btn-secondary', onclick: showWaiting });
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('p', { class: 'dialog-text' }, 'Pairing ', h('strong', { text: w.model || 'a doorbell' }), ` (${w.device_id}).`),
      field('Name', name, 'Where the doorbell is, e.g. “Front door” or “Garden gate”.'),
      field('Setup code', code, 'The 8 digits on the doorbell’s label, or in its log (journalctl -u doorbelld).'),
      error,
      h('div', { class: 'dialog-actions' }, back, submit));
    const fail = (text) => { error.textContent = text; error.hidden = false; };

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const n = name.value.trim();
      const digits = code.value.replace(/[\s-]/g, '');
      if (!n) { fail('Give the doorbell a name.'); name.focus(); return; }
      if (!new RegExp(`^[0-9]{${CODE_DIGITS}}$`).test(digits)) { fail('The setup code is 8 digits.'); code.focus(); return; }
      error.hidden = true;
      try {
        const r = await busy(submit, () => api.post(`/api/v1/pairing/${encodeURIComponent(w.device_id)}`, { code: digits, name: n }));
        markAdded();
        showPaired(r.device || r);
      } catch (err) {
        if (err.handled) { close(); return; }
        fail(pairingErrorText(err));
        code.select();
      }
    });
    replace(body, form);
    name.focus();
  }

  function showPaired(d) {
    const done = button('Done', { variant: 'btn-primary', 'data-testid': 'pair-done', onclick: close });
    replace(body,
      h('div', { class: 'success-head', 'data-testid': 'pair-success' }, h('span', { class: 'success-badge' }, icon('check')),
        h('p', {}, h('strong', { text: d.name || 'The doorbell' }), ' is paired. It connects with its own key and shows live video in a few seconds.')),
      h('div', { class: 'dialog-actions' }, done));
    done.focus();
    toast(`Paired “${d.name || 'doorbell'}”.`, 'success');
  }

  // The older way: the hub makes a device id and secret to type into the doorbell.
  function showLegacy() {
    const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 64, autocomplete: 'off',
      placeholder: 'Front door', 'data-testid': 'add-device-name' });
    const error = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'add-device-submit' },
      h('span', { class: 'btn-label', text: 'Add doorbell' }));
    const back = button('Back', { variant: 'btn-secondary', onclick: showWaiting });
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('p', { class: 'muted small', text: 'For doorbell firmware without pairing. The hub keeps this doorbell’s secret, so it is marked “legacy secret” until it is re-paired with a setup code.' }),
      field('Name', name, 'Where the doorbell is, e.g. “Front door” or “Garden gate”.'),
      error,
      h('div', { class: 'dialog-actions' }, back, submit));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const n = name.value.trim();
      if (!n) { error.textContent = 'Give the doorbell a name.'; error.hidden = false; name.focus(); return; }
      error.hidden = true;
      try {
        const r = await busy(submit, () => api.post('/api/v1/devices', { name: n }));
        markAdded();
        showSecret(r);
      } catch (err) {
        if (err.handled) { close(); return; }
        error.textContent = err instanceof api.NetworkError ? 'The hub is unreachable. Try again.' : `Could not add the doorbell: ${err.message}`;
        error.hidden = false;
      }
    });
    replace(body, form);
    name.focus();
  }

  function showSecret(result) {
    const d = result.device || {};
    const secret = result.secret || '';
    const cmd = `doorbelld --hub wss://${location.host} --device-id ${d.id} --secret ${secret}`;
    const done = button('Done', { variant: 'btn-primary', 'data-testid': 'add-device-done', onclick: close });
    replace(body,
      h('div', { class: 'success-head' }, h('span', { class: 'success-badge' }, icon('check')),
        h('p', {}, h('strong', { text: d.name || 'Doorbell' }), ' was added. Start the doorbell with these credentials.')),
      h('div', { class: 'kv' },
        h('div', { class: 'kv-label', text: 'Device ID' }),
        copyable(d.id || '', { testid: 'new-device-id', label: 'device ID' }),
        h('div', { class: 'kv-label', text: 'Secret' }),
        copyable(secret, { testid: 'new-device-secret', label: 'secret' }),
        h('div', { class: 'kv-label', text: 'Command on the doorbell' }),
        copyable(cmd, { testid: 'new-device-command', label: 'command', multiline: true })),
      h('div', { class: 'callout callout-warn', role: 'note' }, icon('alert'),
        h('p', { text: 'The secret is shown only this once. Copy it now and keep it private: anyone with it can connect as this doorbell.' })),
      h('div', { class: 'dialog-actions' }, done));
    done.focus();
    toast(`Added “${d.name || 'doorbell'}”.`, 'success');
  }
}

/** What went wrong with a pairing, in words for the person at the hub. */
export function pairingErrorText(err) {
  if (err instanceof api.NetworkError) return 'The hub is unreachable. Try again.';
  switch (err.code) {
    case 'wrong_code':
      return 'That setup code is not right. After 5 wrong codes the doorbell stops pairing until its button is held for 10 seconds.';
    case 'pairing_closed':
      return 'The doorbell has closed pairing (5 wrong codes, or 10 minutes passed). Hold its button for 10 seconds to open it again.';
    case 'busy':
      return 'This doorbell is already pairing. Wait a moment and try again.';
    case 'timeout':
      return 'The doorbell did not answer in time. Check that it is powered and on the network, then try again.';
    default:
      if (err.status === 404) return 'The doorbell is no longer waiting: it disconnected or left pairing mode.';
      return `Could not pair: ${err.message}`;
  }
}
