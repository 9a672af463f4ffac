// Audit log page (#/audit, admins; linked from Settings): who did what and
// when (GET /api/v1/audit), newest first, with filters (user, kind of
// action, doorbell, date range), "Load more" through the id cursor, and
// "Export CSV" of the same filters (GET /api/v1/audit.csv). Each entry is a
// row on a wide screen and a card on a phone (css/account.css), never
// wider than the screen.

import { h, icon, button, busy, replace, fmtDateTime } from '../ui.js';
import * as api from '../api.js';

const PAGE = 50;

// The kinds of action the filter offers; each is a list for ?action=.
const KINDS = [
  { id: 'signin', label: 'Sign-ins', actions: ['login', 'login_failed', 'login_blocked', 'logout', 'setup_admin'] },
  { id: 'live', label: 'Live views and talk', actions: ['live_view', 'talk', 'quick_reply'] },
  { id: 'footage', label: 'Playback and exports', actions: ['recording_play', 'recording_export', 'event_star'] },
  { id: 'settings', label: 'Settings and modes', actions: ['mode_change', 'recording_settings', 'event_settings', 'motion_settings',
    'video_quality', 'auto_reply', 'notify_target_add', 'notify_target_change', 'notify_target_rotate', 'notify_target_delete',
    'notify_target_test', 'reply_add', 'reply_rename', 'reply_delete', 'storage_settings', 'chime_settings'] },
  { id: 'people', label: 'People and sessions', actions: ['user_add', 'user_delete', 'user_update', 'user_password', 'password_change',
    'talk_grant', 'user_grants', 'user_grant', 'user_revoke', 'invite_create', 'invite_withdraw', 'invite_accept',
    'invite_refused', 'invite_blocked', 'session_end',
    'sessions_end_others', 'user_sessions_end'] },
  { id: 'doorbells', label: 'Doorbells', actions: ['device_add', 'device_delete', 'pair_attempt', 'pair_ok', 'pair_fail'] },
  { id: 'log', label: 'The audit log itself', actions: ['audit_export', 'audit_purge'] },
];

// Each action in words (docs/security.md lists them).
const WORDS = {
  login: 'Signed in', login_failed: 'Failed sign-in', login_blocked: 'Sign-in blocked (too many failures)', logout: 'Signed out',
  setup_admin: 'Set up the hub', live_view: 'Watched live', talk: 'Talked through the doorbell', quick_reply: 'Played a quick reply',
  recording_play: 'Played footage', recording_export: 'Exported footage', event_star: 'Starred an event',
  mode_change: 'Changed the mode', recording_settings: 'Changed recording settings', event_settings: 'Changed event settings',
  motion_settings: 'Changed motion settings', video_quality: 'Changed video quality', auto_reply: 'Changed the auto-reply',
  notify_target_add: 'Added a notification target', notify_target_change: 'Changed a notification target',
  notify_target_rotate: 'Renewed a webhook secret', notify_target_delete: 'Removed a notification target',
  notify_target_test: 'Sent a test notification', reply_add: 'Added a quick reply', reply_rename: 'Renamed a quick reply',
  reply_delete: 'Removed a quick reply', user_add: 'Added a user', user_delete: 'Removed a user', user_update: 'Changed a user',
  user_password: "Set a user's password", password_change: 'Changed own password', talk_grant: 'Changed talk rights',
  user_grant: 'Shared a doorbell', user_revoke: 'Unshared a doorbell', invite_create: 'Invited someone',
  user_grants: 'Changed doorbell rights', invite_withdraw: 'Withdrew an invitation', invite_accept: 'Accepted an invitation',
  invite_refused: 'Invitation refused', invite_blocked: 'Invitation blocked (too many tries)',
  storage_settings: 'Changed storage limits', chime_settings: 'Changed the chime',
  session_end: 'Signed a session out', sessions_end_others: 'Signed out everywhere else',
  user_sessions_end: "Signed a user out everywhere", device_add: 'Added a doorbell', device_delete: 'Removed a doorbell',
  pair_attempt: 'Tried to pair a doorbell', pair_ok: 'Paired a doorbell', pair_fail: 'Pairing failed',
  audit_export: 'Exported the audit log', audit_purge: 'Old audit entries deleted',
};

export function mount(main, ctx) {
  const ctrl = new AbortController();
  let devices = [];
  let cursor = null;
  let query = '';

  const userSelect = h('select', { name: 'user', 'data-testid': 'audit-user' }, h('option', { value: '', text: 'Everyone' }));
  const kindSelect = h('select', { name: 'kind', 'data-testid': 'audit-kind' }, h('option', { value: '', text: 'Everything' }),
    KINDS.map((k) => h('option', { value: k.id, text: k.label })));
  const deviceSelect = h('select', { name: 'device', 'data-testid': 'audit-device' }, h('option', { value: '', text: 'Any doorbell' }));
  const fromInput = h('input', { type: 'date', name: 'from', 'data-testid': 'audit-from' });
  const toInput = h('input', { type: 'date', name: 'to', 'data-testid': 'audit-to' });
  const list = h('ul', { class: 'audit-list', 'data-testid': 'audit-list', 'aria-label': 'Audit log entries' });
  const status = h('p', { class: 'muted small', role: 'status', 'data-testid': 'audit-status' });
  const more = button('Load more', { variant: 'btn-secondary', 'data-testid': 'audit-more' });
  more.hidden = true;
  more.addEventListener('click', () => busy(more, () => load(false)));
  const exportLink = h('a', { class: 'btn btn-secondary', href: '/api/v1/audit.csv', download: '', 'data-testid': 'audit-export' },
    icon('download'), h('span', { class: 'btn-label', text: 'Export CSV' }));

  const filters = h('form', { class: 'audit-filters', 'data-testid': 'audit-filters' },
    filter('Who', userSelect), filter('What', kindSelect), filter('Doorbell', deviceSelect),
    filter('From', fromInput), filter('To', toInput));
  filters.addEventListener('change', () => load(true));
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(true); });

  main.append(h('section', { class: 'page audit-page', 'data-testid': 'audit-page' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Audit log' }),
        h('p', { class: 'page-sub muted', text: 'Who signed in, watched, played or exported footage, and changed what. Entries are kept for a year unless the hub is set otherwise.' })),
      h('div', { class: 'page-actions' }, exportLink)),
    h('section', { class: 'card panel' }, filters),
    h('section', { class: 'card panel audit-entries' }, list, status, h('div', { class: 'audit-more' }, more))));

  function filter(label, input) {
    const id = `audit-${input.name}`;
    input.id = id;
    return h('div', { class: 'field' }, h('label', { for: id, text: label }), input);
  }

  /* The query string of the filters (without paging). */
  function filterQuery() {
    const params = new URLSearchParams();
    if (userSelect.value) params.set('user', userSelect.value);
    const kind = KINDS.find((k) => k.id === kindSelect.value);
    if (kind) params.set('action', kind.actions.join(','));
    if (deviceSelect.value) params.set('device', deviceSelect.value);
    if (fromInput.value) params.set('from', String(new Date(`${fromInput.value}T00:00:00`).getTime()));
    if (toInput.value) params.set('to', String(new Date(`${toInput.value}T23:59:59.999`).getTime()));
    return params.toString();
  }

  async function load(fresh) {
    if (fresh) {
      query = filterQuery();
      cursor = null;
      exportLink.href = `/api/v1/audit.csv${query ? `?${query}` : ''}`;
    }
    const params = new URLSearchParams(query);
    params.set('limit', String(PAGE));
    if (cursor) params.set('before', String(cursor));
    try {
      const data = await api.get(`/api/v1/audit?${params}`, { signal: ctrl.signal });
      const rows = (data.entries || []).map(entryRow);
      if (fresh) replace(list, rows); else list.append(...rows);
      cursor = data.next;
      more.hidden = data.next === null || data.next === undefined;
      const shown = list.children.length;
      status.textContent = data.total === 0 ? 'No entries match.' : `${shown} of ${data.total} ${data.total === 1 ? 'entry' : 'entries'}`;
    } catch (e) {
      if (api.isAbort(e) || e.handled) return;
      status.textContent = e instanceof api.NetworkError ? 'The hub is unreachable.' : `The audit log is not available: ${e.message}`;
    }
  }

  function deviceName(id) {
    const d = devices.find((x) => x.id === id);
    return d ? d.name : null;
  }

  function entryRow(e) {
    const name = deviceName(e.target);
    const target = e.target ? (name ? `${name} (${e.target})` : e.target) : '';
    return h('li', { class: ['audit-row', /failed|blocked|fail$/.test(e.action) && 'is-bad'], 'data-testid': 'audit-row',
      'data-action': e.action, 'data-user': e.username, 'data-id': String(e.id) },
    h('time', { class: 'audit-time small', dateTime: new Date(e.at).toISOString(), text: fmtDateTime(e.at) }),
    h('span', { class: 'audit-who' }, h('strong', { text: e.username || 'the hub' })),
    h('span', { class: 'audit-what', title: e.action, text: WORDS[e.action] || e.action }),
    h('span', { class: 'audit-target small', text: target }),
    h('span', { class: 'audit-detail small muted', text: e.detail || '' }),
    h('span', { class: 'audit-address small muted', text: e.address || '' }));
  }

  Promise.all([
    api.get('/api/v1/users', { signal: ctrl.signal }).then((d) => {
      for (const u of d.users || []) userSelect.append(h('option', { value: u.username, text: u.username }));
    }, () => {}),
    api.get('/api/v1/devices', { signal: ctrl.signal }).then((d) => {
      devices = d.devices || [];
      for (const x of devices) deviceSelect.append(h('option', { value: x.id, text: x.name || x.id }));
    }, () => {}),
  ]).then(() => load(true));
  return () => ctrl.abort();
}
