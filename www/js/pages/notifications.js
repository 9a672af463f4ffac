// Notifications page (#/notifications, admins only; the API answers viewers
// 403): the hub's notification targets (ntfy topics and signed webhooks)
// with their filters and last delivery, add / edit / delete / "Send test",
// the recent deliveries of the outbox with their failures, and the
// per-doorbell cooldowns between two notifications of a type. Each target
// may have quiet hours (nothing, or rings only, in a weekly window of the
// hub's local time). Reads and
// writes /api/v1/notifications/* and /api/v1/devices/{id}/event-settings
// (docs/api.md "Notifications"); polls while the page is open. Everyone,
// viewers too, gets the "This browser" section (js/browser-alerts.js): the
// button that asks for system notifications and the ring chime toggle.

import { h, icon, button, busy, field, toast, replace, openDialog, confirmDialog, copyable, fmtAgo, fmtDateTime, DASH } from '../ui.js';
import * as api from '../api.js';
import { poller, devicePath } from '../device-ui.js';
import { eventName, fmtClock } from '../timeline/format.js';
import { browserAlertsSection } from '../browser-alerts.js';

const BASE = '/api/v1/notifications';
const POLL_MS = 5000;
const TEST_POLL_MS = 1000;
const TEST_FAST_POLLS = 30;    // then the page's normal poll keeps the result current
const EVENT_TYPES = ['ring', 'motion', 'person', 'pir', 'package', 'tamper', 'offline', 'online', 'low_battery'];
const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_ORDER = [1, 2, 3, 4, 5, 6, 0];
const FINAL = new Set(['delivered', 'failed', 'unknown']);

export function mount(main, ctx) {
  if (!ctx.isAdmin) {
    main.append(h('section', { class: 'page narrow' },
      h('div', { class: 'empty', 'data-testid': 'notifications-forbidden' },
        icon('bell', 'empty-icon'),
        h('h1', { text: 'Notifications' }),
        h('p', { class: 'muted', text: 'Alerts in this browser are yours to set below; an administrator manages where the hub sends notifications.' })),
      browserAlertsSection()));
    return null;
  }

  let devices = [];
  let targets = [];
  let deliveries = [];
  let showFailedOnly = false;
  let stopped = false;
  const cards = new Map();          // target id -> card controller
  const tests = new Map();          // target id -> delivery id of its latest test

  const addBtn = button('Add target', { icon: 'plus', variant: 'btn-primary', 'data-testid': 'target-add' });
  addBtn.addEventListener('click', () => editTarget(null));
  const targetList = h('div', { class: 'nt-targets', 'data-testid': 'target-list' });
  const targetStatus = h('p', { class: 'muted nt-status', role: 'status', text: 'Loading targets…' });
  const deliveryList = h('ul', { class: 'nt-deliveries', 'data-testid': 'delivery-list', 'aria-label': 'Recent deliveries' });
  const deliveryStatus = h('p', { class: 'muted nt-status', role: 'status' });
  const allChip = h('button', { type: 'button', class: 'chip', 'aria-pressed': 'true', 'data-testid': 'delivery-filter-all', text: 'All',
    onclick: () => { showFailedOnly = false; renderDeliveries(); } });
  const failedChip = h('button', { type: 'button', class: 'chip', 'aria-pressed': 'false', 'data-testid': 'delivery-filter-problems', text: 'Problems',
    onclick: () => { showFailedOnly = true; renderDeliveries(); } });
  const cooldownList = h('div', { class: 'nt-cooldowns', 'data-testid': 'cooldown-list' },
    h('p', { class: 'muted', text: 'Loading doorbells…' }));

  main.append(h('section', { class: 'page nt-page', 'data-testid': 'notifications' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Notifications' }),
        h('p', { class: 'page-sub muted', text: 'Where the hub tells you about events: ntfy topics and signed webhooks. The mode in the header decides which events notify.' })),
      h('div', { class: 'page-actions' }, addBtn)),
    browserAlertsSection(),
    h('section', { class: 'nt-section', 'aria-labelledby': 'nt-targets-title' },
      h('h2', { class: 'section-title', id: 'nt-targets-title' }, icon('send'), h('span', { text: 'Targets' })),
      targetStatus, targetList),
    h('section', { class: 'card panel nt-section', 'aria-labelledby': 'nt-deliveries-title' },
      h('div', { class: 'nt-head' },
        h('h2', { class: 'section-title', id: 'nt-deliveries-title' }, icon('history'), h('span', { text: 'Recent deliveries' })),
        h('div', { class: 'chips', role: 'group', 'aria-label': 'Show deliveries' }, allChip, failedChip)),
      deliveryList, deliveryStatus),
    h('section', { class: 'card panel nt-section', 'aria-labelledby': 'nt-cooldowns-title' },
      h('h2', { class: 'section-title', id: 'nt-cooldowns-title' }, icon('doorbell'), h('span', { text: 'Cooldowns per doorbell' })),
      h('p', { class: 'muted small', text: 'Seconds between two notifications of the same type from one doorbell; events inside the cooldown are still recorded. 0 notifies every time.' }),
      cooldownList)));

  /* ---------- data ---------- */

  async function loadTargets(signal) {
    const data = await api.get(`${BASE}/targets`, { signal });
    targets = (data && data.targets) || [];
    renderTargets();
  }

  async function loadDeliveries(signal) {
    const data = await api.get(`${BASE}/deliveries?limit=50`, { signal });
    deliveries = (data && data.deliveries) || [];
    renderDeliveries();
    for (const [targetId, deliveryId] of tests) {
      const found = deliveries.find((d) => d.id === deliveryId);
      if (found && cards.has(targetId)) cards.get(targetId).showTest(found);
    }
  }

  async function loadDevices(signal) {
    const data = await api.get('/api/v1/devices', { signal });
    devices = (data && data.devices) || [];
  }

  function failed(e, what) {
    if (api.isAbort(e) || e.handled) return null;
    if (e instanceof api.NetworkError) return 'The hub is unreachable.';
    if (e instanceof api.ApiError && e.status === 403) return 'Only administrators manage notifications.';
    return `Could not load ${what}: ${e.message}`;
  }

  let first = true;
  const poll = poller(async (signal) => {
    try {
      if (first) {
        await loadDevices(signal);
        renderCooldowns();
        first = false;
      }
      await loadTargets(signal);
    } catch (e) {
      const text = failed(e, 'the targets');
      if (text && !targets.length) { targetStatus.textContent = text; targetStatus.hidden = false; }
      if (text && first) replace(cooldownList, h('p', { class: 'muted', text: failed(e, 'the doorbells') }));
      return;
    }
    try { await loadDeliveries(signal); } catch (e) {
      const text = failed(e, 'the deliveries');
      if (text) deliveryStatus.textContent = text;
    }
  }, POLL_MS);

  /* ---------- targets ---------- */

  function renderTargets() {
    targetStatus.hidden = targets.length > 0;
    targetStatus.textContent = 'No targets yet. Add an ntfy topic to get push notifications on your phone, or a webhook for home automation.';
    const keep = new Set(targets.map((t) => t.id));
    for (const [id, card] of cards) if (!keep.has(id)) { card.el.remove(); cards.delete(id); tests.delete(id); }
    targets.forEach((t, i) => {
      let card = cards.get(t.id);
      if (!card) { card = targetCard(t.id); cards.set(t.id, card); }
      card.update(t);
      const at = targetList.children[i] || null;
      if (at !== card.el) targetList.insertBefore(card.el, at);
    });
  }

  function targetCard(id) {
    let target = null;
    const name = h('h3', { class: 'nt-name', 'data-testid': 'target-name' });
    const kind = h('span', { class: 'badge badge-accent', 'data-testid': 'target-kind' });
    const enabled = h('span', { class: 'badge', 'data-testid': 'target-enabled' });
    const tls = h('span', { class: 'badge badge-warn', text: 'Certificate not checked', title: 'insecure TLS: the receiver’s certificate is not verified' });
    const url = h('p', { class: 'nt-url', 'data-testid': 'target-url' });
    const filters = h('dl', { class: 'nt-filters' });
    const last = h('p', { class: 'nt-last small', 'data-testid': 'target-last' });
    const testResult = h('p', { class: 'nt-test small', role: 'status', 'data-testid': 'target-test-result', hidden: true });
    const testBtn = button('Send test', { icon: 'send', variant: 'btn-secondary btn-sm', 'data-testid': 'target-test' });
    const editBtn = button('Edit', { icon: 'edit', variant: 'btn-ghost btn-sm', 'data-testid': 'target-edit' });
    const deleteBtn = button('Delete', { icon: 'trash', iconOnly: true, variant: 'btn-ghost btn-danger-text', 'data-testid': 'target-delete' });
    const el = h('article', { class: 'card nt-target', 'data-testid': 'target-card', 'data-target-id': String(id) },
      h('div', { class: 'nt-target-head' }, name, kind, enabled, tls),
      url, filters, last, testResult,
      h('div', { class: 'nt-target-actions' }, testBtn, editBtn, h('span', { class: 'live-spacer' }), deleteBtn));

    testBtn.addEventListener('click', () => busy(testBtn, () => sendTest()));
    editBtn.addEventListener('click', () => editTarget(target));
    deleteBtn.addEventListener('click', () => remove());

    async function sendTest() {
      let result;
      try {
        result = await api.post(`${BASE}/targets/${id}/test`);
      } catch (e) {
        if (!e.handled) toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not send a test: ${e.message}`, 'error');
        return;
      }
      const deliveryId = result.delivery_id ?? (result.delivery && result.delivery.id);
      tests.set(id, deliveryId);
      showTest(result.delivery || { id: deliveryId, state: 'pending', attempts: 0 });
      // Follow it closely for a while; the page's poll takes over after.
      for (let i = 0; i < TEST_FAST_POLLS && !stopped && tests.get(id) === deliveryId; i++) {
        await new Promise((resolve) => setTimeout(resolve, TEST_POLL_MS));
        let data;
        try { data = await api.get(`${BASE}/deliveries?target=${id}&limit=20`); } catch { continue; }
        const found = ((data && data.deliveries) || []).find((d) => d.id === deliveryId);
        if (!found || stopped) continue;
        showTest(found);
        if (FINAL.has(found.state)) { poll.now(); break; }
      }
    }

    function showTest(d) {
      testResult.hidden = false;
      testResult.dataset.state = d.state;
      const bad = d.state === 'failed' || d.state === 'unknown' || (d.state !== 'delivered' && d.attempts > 0 && d.last_error);
      testResult.classList.toggle('is-bad', Boolean(bad));
      testResult.classList.toggle('is-good', d.state === 'delivered');
      let text;
      if (d.state === 'delivered') text = `Test delivered${d.last_status ? ` (HTTP ${d.last_status})` : ''}.`;
      else if (d.state === 'failed') text = `Test failed: ${d.last_error || 'no reason given'}.`;
      else if (d.state === 'unknown') text = `Test sent, but no answer came: ${d.last_error || 'not resent'}.`;
      else if (d.attempts > 0 && d.last_error) text = `Attempt ${d.attempts} failed: ${d.last_error}. Retrying${d.next_attempt_ms ? ` at ${fmtClock(d.next_attempt_ms)}` : ''}…`;
      else text = 'Sending a test…';
      replace(testResult, icon(d.state === 'delivered' ? 'check' : bad ? 'alert' : 'send'), h('span', { text }));
    }

    async function remove() {
      const ok = await confirmDialog({
        title: `Delete “${target.name}”?`,
        message: 'The hub stops sending to it, and its delivery history goes too.',
        confirmLabel: 'Delete', danger: true,
      });
      if (!ok) return;
      try {
        await api.del(`${BASE}/targets/${id}`);
        toast(`Deleted “${target.name}”.`, 'success', 3000);
      } catch (e) {
        if (!e.handled) toast(`Could not delete the target: ${e.message}`, 'error');
      }
      poll.now();
    }

    function update(t) {
      target = t;
      name.textContent = t.name;
      kind.textContent = t.kind === 'ntfy' ? 'ntfy' : 'Webhook';
      enabled.textContent = t.enabled ? 'Enabled' : 'Disabled';
      enabled.className = `badge ${t.enabled ? 'badge-online' : 'badge-neutral'}`;
      el.classList.toggle('is-disabled', !t.enabled);
      tls.hidden = !t.insecure_tls;
      url.textContent = t.kind === 'ntfy' ? `${t.url.replace(/\/+$/, '')}/${t.topic}` : t.url;
      const auth = t.kind === 'ntfy'
        ? (t.token_set ? 'access token' : t.username ? `user ${t.username}` : 'none')
        : (t.secret_set ? 'signed (Standard Webhooks)' : 'not signed');
      replace(filters,
        pair('Events', t.event_types && t.event_types.length ? t.event_types.map(eventName).join(', ') : 'All types'),
        pair('Doorbells', t.device_ids && t.device_ids.length ? t.device_ids.map(deviceName).join(', ') : 'All doorbells'),
        pair('When', scheduleText(t.schedule)),
        t.quiet_hours ? pair('Quiet hours', `${scheduleText(t.quiet_hours)}: ${t.quiet_hours.mode === 'rings_only' ? 'rings only' : 'nothing'}`) : null,
        pair(t.kind === 'ntfy' ? 'Login' : 'Signature', auth),
        t.kind === 'ntfy' ? pair('Buttons', t.actions ? 'View live, View clip' : 'none') : null);
      const d = t.last_delivery;
      if (!d) {
        replace(last, h('span', { class: 'muted', text: 'Nothing sent yet.' }));
        last.dataset.state = '';
      } else {
        last.dataset.state = d.state;
        replace(last, stateBadge(d), h('span', { class: 'muted', text: ` ${d.test ? 'Test' : eventName(d.event_type)} · ${fmtAgo(d.created_ms, api.serverNow())}` }),
          d.last_error && d.state !== 'delivered' ? h('span', { class: 'nt-error', text: ` · ${d.last_error}` }) : null);
      }
      editBtn.setAttribute('aria-label', `Edit ${t.name}`);
      testBtn.setAttribute('aria-label', `Send a test to ${t.name}`);
      deleteBtn.setAttribute('aria-label', `Delete ${t.name}`);
      deleteBtn.title = `Delete ${t.name}`;
    }
    return { el, update, showTest };
  }

  function pair(label, value) {
    return h('div', { class: 'nt-pair' }, h('dt', { text: label }), h('dd', { text: value }));
  }

  function deviceName(id) {
    const d = devices.find((x) => x.id === id);
    return d ? d.name || d.id : id;
  }

  /* ---------- deliveries ---------- */

  function renderDeliveries() {
    allChip.setAttribute('aria-pressed', String(!showFailedOnly));
    failedChip.setAttribute('aria-pressed', String(showFailedOnly));
    const shown = showFailedOnly ? deliveries.filter(isProblem) : deliveries;
    replace(deliveryList, shown.map(deliveryRow));
    deliveryStatus.textContent = shown.length ? '' : showFailedOnly ? 'No failed deliveries.' : 'Nothing sent yet.';
  }

  function deliveryRow(d) {
    const what = d.test ? 'Test message' : `${eventName(d.event_type)}${d.device_id ? ` · ${deviceName(d.device_id)}` : ''}`;
    const result = d.state === 'delivered'
      ? `Delivered${d.last_status ? ` (HTTP ${d.last_status})` : ''}${d.delivered_ms ? ` at ${fmtClock(d.delivered_ms)}` : ''}`
      : d.last_error || (d.state === 'pending' ? 'Waiting to be sent' : d.state === 'sending' ? 'Sending…' : DASH);
    const retry = d.state === 'pending' && d.next_attempt_ms && d.attempts > 0 ? ` · next try ${fmtClock(d.next_attempt_ms)}` : '';
    return h('li', { class: ['nt-delivery', isProblem(d) && 'is-bad'], 'data-testid': 'delivery-row',
      'data-state': d.state, 'data-target-id': String(d.target_id), 'data-delivery-id': String(d.id) },
    stateBadge(d),
    h('div', { class: 'nt-delivery-main' },
      h('p', { class: 'nt-delivery-what' }, h('strong', { text: d.target_name || `Target ${d.target_id}` }), h('span', { class: 'muted', text: ` · ${what}` })),
      h('p', { class: ['small', isProblem(d) ? 'nt-error' : 'muted'], 'data-testid': 'delivery-result', text: `${result}${retry}` })),
    h('div', { class: 'nt-delivery-meta small muted' },
      h('time', { dateTime: new Date(d.created_ms).toISOString(), title: fmtDateTime(d.created_ms), text: fmtAgo(d.created_ms, api.serverNow()) }),
      h('span', { 'data-testid': 'delivery-attempts', text: `${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'}` })));
  }

  /* ---------- cooldowns ---------- */

  function renderCooldowns() {
    if (!devices.length) { replace(cooldownList, h('p', { class: 'muted', text: 'No doorbells yet.' })); return; }
    replace(cooldownList, devices.map(cooldownForm));
  }

  function cooldownForm(device) {
    const path = `${devicePath(device.id)}/event-settings`;
    const grid = h('div', { class: 'nt-cooldown-grid' }, h('p', { class: 'muted small', text: 'Loading…' }));
    const save = button('Save', { variant: 'btn-secondary btn-sm', 'data-testid': 'cooldown-save', type: 'submit', disabled: true });
    save.type = 'submit';
    const form = h('form', { class: 'nt-cooldown', 'data-testid': 'cooldowns', 'data-device-id': device.id, novalidate: true },
      h('h3', { class: 'nt-cooldown-name', text: device.name || device.id }), grid, save);
    const inputs = new Map();

    function fill(settings) {
      const cooldowns = (settings && settings.cooldowns) || {};
      inputs.clear();
      replace(grid, Object.keys(cooldowns).map((type) => {
        const input = h('input', { type: 'number', name: type, min: '0', max: '86400', step: '1', required: true, inputmode: 'numeric', value: String(cooldowns[type]) });
        inputs.set(type, input);
        return field(`${eventName(type)} (s)`, input);
      }));
      save.disabled = inputs.size === 0;
    }

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      busy(save, async () => {
        const cooldowns = {};
        for (const [type, input] of inputs) cooldowns[type] = Number(input.value);
        try {
          fill(await api.put(path, { cooldowns }));
          toast(`Cooldowns of ${device.name || device.id} saved`, 'success', 3000);
        } catch (err) {
          if (!err.handled) toast(`Could not save the cooldowns: ${err.message}`, 'error');
        }
      });
    });
    api.get(path).then(fill, (e) => {
      if (!stopped && !e.handled) replace(grid, h('p', { class: 'muted small', text: failed(e, 'the cooldowns') || '' }));
    });
    return form;
  }

  /* ---------- add / edit dialog ---------- */

  function editTarget(existing) {
    const creating = !existing;
    const t = existing || { kind: 'ntfy', enabled: true, actions: true, insecure_tls: false, event_types: [], device_ids: [], schedule: null };
    let kind = t.kind;
    const { body, close } = openDialog({ title: creating ? 'Add a notification target' : `Edit “${t.name}”`, testid: 'target-dialog', wide: true });

    const kindButtons = ['ntfy', 'webhook'].map((k) => h('button', { type: 'button', class: 'seg-btn', 'data-testid': `target-kind-${k}`,
      'aria-pressed': String(k === kind), text: k === 'ntfy' ? 'ntfy' : 'Webhook', disabled: !creating,
      onclick: () => { kind = k; showKind(); } }));
    const nameInput = h('input', { type: 'text', name: 'name', required: true, maxlength: '64', value: t.name || '', 'data-testid': 'target-name-input', autocomplete: 'off' });
    const urlInput = h('input', { type: 'url', name: 'url', required: true, maxlength: '512', value: t.url || '', 'data-testid': 'target-url-input', autocomplete: 'off', spellcheck: 'false' });
    const urlHint = h('p', { class: 'field-hint' });
    const topicInput = h('input', { type: 'text', name: 'topic', maxlength: '64', pattern: '[A-Za-z0-9_\\-]{1,64}', value: t.topic || '', 'data-testid': 'target-topic-input', autocomplete: 'off', spellcheck: 'false' });
    const authSelect = h('select', { name: 'auth', 'data-testid': 'target-auth' },
      h('option', { value: 'none', text: 'No login' }),
      h('option', { value: 'token', text: 'Access token' }),
      h('option', { value: 'basic', text: 'Username and password' }));
    authSelect.value = t.token_set ? 'token' : t.username ? 'basic' : 'none';
    const tokenInput = h('input', { type: 'password', name: 'token', maxlength: '256', autocomplete: 'off', 'data-testid': 'target-token-input',
      placeholder: t.token_set ? 'Stored; leave empty to keep it' : 'tk_…' });
    const userInput = h('input', { type: 'text', name: 'username', maxlength: '128', value: t.username || '', autocomplete: 'off', 'data-testid': 'target-username-input' });
    const passInput = h('input', { type: 'password', name: 'password', maxlength: '256', autocomplete: 'new-password', 'data-testid': 'target-password-input',
      placeholder: t.password_set ? 'Stored; leave empty to keep it' : '' });
    const actionsBox = checkbox('actions', t.actions, 'target-actions');
    const rotateBox = checkbox('rotate_secret', false, 'target-rotate');
    const enabledBox = checkbox('enabled', t.enabled, 'target-enabled-input');
    const tlsBox = checkbox('insecure_tls', t.insecure_tls, 'target-insecure');
    const tlsWarning = h('div', { class: 'callout callout-warn', role: 'note', 'data-testid': 'target-insecure-warning' }, icon('alert'),
      h('p', { text: 'The receiver’s certificate will not be checked at all: anyone on the network path could read or change what is sent. Use it only for a receiver on your own network with a self-signed certificate.' }));
    const typeBoxes = EVENT_TYPES.map((type) => ({ type, input: checkbox(`type-${type}`, (t.event_types || []).includes(type), `target-type-${type}`) }));
    const deviceBoxes = devices.map((d) => ({ id: d.id, input: checkbox(`device-${d.id}`, (t.device_ids || []).includes(d.id), 'target-device') }));
    const schedule = t.schedule && Array.isArray(t.schedule.days) ? t.schedule : null;
    const scheduleBox = checkbox('scheduled', Boolean(schedule), 'target-scheduled');
    const dayBoxes = DAY_ORDER.map((day) => ({ day, input: checkbox(`day-${day}`, schedule ? schedule.days.includes(day) : day >= 1 && day <= 5, `target-day-${day}`) }));
    const fromInput = h('input', { type: 'time', name: 'from', value: schedule ? schedule.from : '22:00', 'data-testid': 'target-from' });
    const toInput = h('input', { type: 'time', name: 'to', value: schedule ? schedule.to : '07:00', 'data-testid': 'target-to' });
    const quiet = t.quiet_hours && Array.isArray(t.quiet_hours.days) ? t.quiet_hours : null;
    const quietMode = h('select', { name: 'quiet_mode', 'data-testid': 'target-quiet-mode' },
      h('option', { value: 'off', text: 'No quiet hours' }),
      h('option', { value: 'nothing', text: 'Nothing at all' }),
      h('option', { value: 'rings_only', text: 'Only rings' }));
    quietMode.value = quiet ? quiet.mode : 'off';
    // Quiet hours set by the hour through the API have no days and times to
    // show: they are only replaced when this part of the form is changed.
    const quietByHour = Boolean(t.quiet_hours && !quiet);
    if (quietByHour) quietMode.value = t.quiet_hours.mode;
    let quietTouched = false;
    const quietDays = DAY_ORDER.map((day) => ({ day, input: checkbox(`quiet-day-${day}`, quiet ? quiet.days.includes(day) : true, `target-quiet-day-${day}`) }));
    const quietFrom = h('input', { type: 'time', name: 'quiet_from', value: quiet ? quiet.from : '22:00', 'data-testid': 'target-quiet-from' });
    const quietTo = h('input', { type: 'time', name: 'quiet_to', value: quiet ? quiet.to : '07:00', 'data-testid': 'target-quiet-to' });
    const quietPart = h('div', { class: 'quiet-hours-detail nt-form-part' },
      h('div', { class: 'chips nt-days', role: 'group', 'aria-label': 'Quiet days' }, quietDays.map(({ day, input }) => h('label', { class: 'nt-day' }, input, h('span', { text: DAY_NAMES[day] })))),
      h('div', { class: 'nt-form-row' }, field('Quiet from', quietFrom), field('Until', quietTo)),
      h('p', { class: 'field-hint', text: quietByHour
        ? 'Set hour by hour through the API; kept as it is unless you change it here.'
        : 'In the hub’s local time; a night that passes midnight belongs to the day it starts on.' }));
    quietPart.addEventListener('change', () => { quietTouched = true; });
    quietMode.addEventListener('change', () => { quietTouched = true; });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'target-error' });
    const save = button(creating ? 'Add target' : 'Save', { variant: 'btn-primary', 'data-testid': 'target-save' });
    save.type = 'submit';
    const cancel = button('Cancel', { variant: 'btn-secondary', onclick: () => close() });

    const ntfyPart = h('div', { class: 'nt-form-part' },
      field('Topic', topicInput, 'Letters, digits, _ and -; subscribe to it in the ntfy app. Priority follows the event: rings and tamper alarms are urgent, motion is normal.'),
      field('Login', authSelect),
      h('div', { class: 'nt-form-part', 'data-auth': 'token' }, field('Access token', tokenInput)),
      h('div', { class: 'nt-form-row', 'data-auth': 'basic' }, field('Username', userInput), field('Password', passInput)),
      labelled(actionsBox, 'Action buttons “View live” and “View clip”'));
    const webhookPart = h('div', { class: 'nt-form-part' },
      creating
        ? h('p', { class: 'form-note', text: 'Each request is signed the Standard Webhooks way. A signing secret is made when you add the target and shown once.' })
        : labelled(rotateBox, 'Make a new signing secret (the old one stops working; the new one is shown once)'));
    const schedulePart = h('div', { class: 'nt-form-part' },
      h('div', { class: 'chips nt-days', role: 'group', 'aria-label': 'Days' }, dayBoxes.map(({ day, input }) => h('label', { class: 'nt-day' }, input, h('span', { text: DAY_NAMES[day] })))),
      h('div', { class: 'nt-form-row' }, field('From', fromInput), field('To', toInput)),
      h('p', { class: 'field-hint', text: 'In the hub’s local time. A window that ends before it starts runs past midnight; the same time twice is the whole day.' }));

    const form = h('form', { class: 'dialog-form nt-form', novalidate: true },
      h('div', { class: 'seg nt-kind', role: 'group', 'aria-label': 'Kind' }, kindButtons),
      field('Name', nameInput),
      h('div', { class: 'field' }, h('label', { for: 'nt-url', text: 'URL' }), urlInput, urlHint),
      ntfyPart, webhookPart,
      h('fieldset', { class: 'nt-fieldset' }, h('legend', { text: 'Events' }),
        h('div', { class: 'nt-checks' }, typeBoxes.map(({ type, input }) => labelled(input, eventName(type)))),
        h('p', { class: 'field-hint', 'data-testid': 'target-types-hint', text: 'None ticked: every type. Motion is every motion, people included, as soon as it starts; Person is only motion the hub saw a person in, a moment later, with that person’s picture. The mode still decides what notifies.' })),
      deviceBoxes.length ? h('fieldset', { class: 'nt-fieldset' }, h('legend', { text: 'Doorbells' }),
        h('div', { class: 'nt-checks' }, deviceBoxes.map(({ id, input }) => labelled(input, deviceName(id)))),
        h('p', { class: 'field-hint', text: 'None ticked: every doorbell.' })) : null,
      h('fieldset', { class: 'nt-fieldset' }, h('legend', { text: 'Schedule' }),
        labelled(scheduleBox, 'Only on certain days and times'), schedulePart),
      h('fieldset', { class: 'nt-fieldset', 'data-testid': 'target-quiet-hours' }, h('legend', { text: 'Quiet hours' }),
        field('During quiet hours, send', quietMode), quietPart),
      labelled(enabledBox, 'Enabled'),
      labelled(tlsBox, 'Do not check the HTTPS certificate (self-signed receiver)'),
      tlsWarning, error,
      h('div', { class: 'dialog-actions' }, cancel, save));
    urlInput.id = 'nt-url';
    body.append(form);

    function showKind() {
      kindButtons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.testid === `target-kind-${kind}`)));
      ntfyPart.hidden = kind !== 'ntfy';
      webhookPart.hidden = kind !== 'webhook';
      topicInput.required = kind === 'ntfy';
      urlInput.placeholder = kind === 'ntfy' ? 'https://ntfy.sh' : 'https://example.org/hooks/doorbell';
      urlHint.textContent = kind === 'ntfy' ? 'The ntfy server’s address; the topic is added to it.' : 'Receives a signed JSON POST for each event, with the snapshot.';
      for (const part of ntfyPart.querySelectorAll('[data-auth]')) part.hidden = part.dataset.auth !== authSelect.value;
      schedulePart.hidden = !scheduleBox.checked;
      quietPart.hidden = quietMode.value === 'off';
      tlsWarning.hidden = !tlsBox.checked;
    }
    for (const input of [authSelect, scheduleBox, tlsBox, quietMode]) input.addEventListener('change', showKind);
    showKind();
    nameInput.focus();

    /* The request body; throws Error with a sentence for the form. */
    function collect() {
      const out = {
        name: nameInput.value.trim(), url: urlInput.value.trim(), enabled: enabledBox.checked, insecure_tls: tlsBox.checked,
        event_types: typeBoxes.filter((b) => b.input.checked).map((b) => b.type),
        device_ids: deviceBoxes.filter((b) => b.input.checked).map((b) => b.id),
        schedule: null,
      };
      if (creating) out.kind = kind;
      if (scheduleBox.checked) {
        const days = dayBoxes.filter((b) => b.input.checked).map((b) => b.day).sort();
        if (!days.length) throw new Error('Choose at least one day for the schedule, or untick it.');
        if (!fromInput.value || !toInput.value) throw new Error('Give the schedule a start and an end time.');
        out.schedule = { days, from: fromInput.value.slice(0, 5), to: toInput.value.slice(0, 5) };
      }
      out.quiet_hours = null;
      if (quietByHour && !quietTouched) delete out.quiet_hours;
      else if (quietMode.value !== 'off') {
        const days = quietDays.filter((b) => b.input.checked).map((b) => b.day).sort();
        if (!days.length) throw new Error('Choose at least one day for the quiet hours, or choose “No quiet hours”.');
        if (!quietFrom.value || !quietTo.value) throw new Error('Give the quiet hours a start and an end time.');
        out.quiet_hours = { mode: quietMode.value, days, from: quietFrom.value.slice(0, 5), to: quietTo.value.slice(0, 5) };
      }
      if (kind === 'webhook') {
        if (!creating && rotateBox.checked) out.rotate_secret = true;
        return out;
      }
      out.topic = topicInput.value.trim();
      out.actions = actionsBox.checked;
      const token = tokenInput.value.trim();
      const auth = authSelect.value;
      if (auth === 'token') {
        if (token) out.token = token;
        else if (!t.token_set) throw new Error('Enter the access token, or choose “No login”.');
        if (!creating) { out.username = ''; out.password = null; }
      } else if (auth === 'basic') {
        out.username = userInput.value.trim();
        if (!out.username) throw new Error('Enter the username, or choose another login.');
        if (passInput.value) out.password = passInput.value;
        else if (!t.password_set) throw new Error('Enter the password.');
        if (!creating) out.token = null;
      } else if (!creating) {
        out.token = null; out.username = ''; out.password = null;
      }
      return out;
    }

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      error.hidden = true;
      if (!form.reportValidity()) return;
      let request;
      try { request = collect(); } catch (err) { error.textContent = err.message; error.hidden = false; return; }
      busy(save, async () => {
        let result;
        try {
          result = creating ? await api.post(`${BASE}/targets`, request) : await api.put(`${BASE}/targets/${t.id}`, request);
        } catch (err) {
          if (err.handled) return;
          error.textContent = err instanceof api.NetworkError ? 'The hub is unreachable.' : err.message;
          error.hidden = false;
          return;
        }
        poll.now();
        if (result && result.secret) showSecret(result.target || request, result.secret);
        else { toast(creating ? `Added “${request.name}”.` : 'Target saved.', 'success', 3000); close(); }
      });
    });

    function showSecret(target, secret) {
      replace(body,
        h('div', { class: 'success-head' }, h('span', { class: 'success-badge' }, icon('check')),
          h('p', { text: `“${target.name}” ${creating ? 'is added' : 'has a new signing secret'}.` })),
        h('div', { class: 'kv' },
          h('p', { class: 'kv-label', text: 'Signing secret' }),
          copyable(secret, { testid: 'target-secret', label: 'signing secret' })),
        h('div', { class: 'callout callout-warn' }, icon('alert'),
          h('p', { text: 'Copy it now into the receiver’s Standard Webhooks verifier: the hub does not show it again. You can make a new one later.' })),
        h('div', { class: 'dialog-actions' }, button('Done', { variant: 'btn-primary', 'data-testid': 'target-secret-done', onclick: () => close() })));
    }
  }

  return () => {
    stopped = true;
    poll.stop();
  };
}

/* ---------- helpers ---------- */

function checkbox(name, checked, testid) {
  return h('input', { type: 'checkbox', name, checked: Boolean(checked), 'data-testid': testid });
}

function labelled(input, text) {
  return h('label', { class: 'nt-check' }, input, h('span', { text }));
}

function isProblem(d) {
  return d.state === 'failed' || d.state === 'unknown' || (d.state !== 'delivered' && d.attempts > 0 && Boolean(d.last_error));
}

const STATE_TEXT = { pending: 'Waiting', sending: 'Sending', delivered: 'Delivered', failed: 'Failed', unknown: 'Unknown' };

function stateBadge(d) {
  const retrying = d.state === 'pending' && d.attempts > 0;
  const cls = d.state === 'delivered' ? 'badge-online' : isProblem(d) ? 'badge-danger' : 'badge-neutral';
  return h('span', { class: ['badge', cls, 'nt-state'], 'data-testid': 'delivery-state',
    title: d.state === 'unknown' ? 'The request went out but no answer came; it is not sent again (it may have arrived).' : null,
    text: retrying ? 'Retrying' : STATE_TEXT[d.state] || d.state });
}

/** "Always", or "Mon–Fri 22:00–07:00" style. */
export function scheduleText(schedule) {
  if (schedule && Array.isArray(schedule.hours)) return 'Hour by hour';
  if (!schedule || !Array.isArray(schedule.days)) return 'Always';
  const days = DAY_ORDER.filter((d) => schedule.days.includes(d));
  let dayText;
  if (days.length === 7) dayText = 'Every day';
  else if (days.join() === '1,2,3,4,5') dayText = 'Mon–Fri';
  else if (days.join() === '6,0') dayText = 'Weekends';
  else dayText = days.map((d) => DAY_NAMES[d]).join(', ');
  const hours = schedule.from === schedule.to ? 'all day' : `${schedule.from}–${schedule.to}`;
  return `${dayText}, ${hours}`;
}
