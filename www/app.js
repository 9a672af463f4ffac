// Doorstep browser UI entry point: loads the session from the hub, draws the
// app shell (header, navigation, the hub's mode switch) and routes #/...
// hashes to the page modules.

import * as api from './js/api.js';
import { h, replace, icon, toast } from './js/ui.js';
import { startEventFeed, stopEventFeed } from './js/event-feed.js';
import { startStorageBanner, stopStorageBanner } from './js/storage-banner.js';
import { closeAllTalk } from './js/talk/session.js';
import * as setupPage from './js/pages/setup.js';
import * as loginPage from './js/pages/login.js';
import * as devicesPage from './js/pages/devices.js';
import * as devicePage from './js/pages/device.js';
import * as settingsPage from './js/pages/settings.js';
import * as livePage from './js/pages/live.js';
import * as recordingsPage from './js/pages/recordings.js';
import * as notificationsPage from './js/pages/notifications.js';
import * as accountPage from './js/pages/account.js';
import * as auditPage from './js/pages/audit.js';
import * as usersPage from './js/pages/users.js';
import * as invitePage from './js/pages/invite.js';

const ROUTES = [
  { pattern: /^\/setup$/, page: setupPage, public: true, title: 'Set up' },
  { pattern: /^\/login$/, page: loginPage, public: true, title: 'Sign in' },
  { pattern: /^\/invite\/([A-Za-z0-9_-]+)$/, keys: ['token'], page: invitePage, public: true, title: 'Invitation' },
  { pattern: /^\/users$/, page: usersPage, title: 'People', nav: 'users' },
  { pattern: /^\/devices$/, page: devicesPage, title: 'Doorbells', nav: 'devices' },
  { pattern: /^\/devices\/([^/?#]+)$/, keys: ['id'], page: devicePage, title: 'Doorbell', nav: 'devices' },
  { pattern: /^\/devices\/([^/?#]+)\/recordings$/, keys: ['id'], page: recordingsPage, title: 'Recordings', nav: 'devices' },
  { pattern: /^\/live$/, page: livePage, title: 'Live', nav: 'live' },
  { pattern: /^\/notifications$/, page: notificationsPage, title: 'Notifications', nav: 'notifications' },
  { pattern: /^\/settings$/, page: settingsPage, title: 'Settings', nav: 'settings' },
  { pattern: /^\/account$/, page: accountPage, title: 'My account', nav: 'account' },
  { pattern: /^\/audit$/, page: auditPage, title: 'Audit log', nav: 'settings', admin: true },
];

const NAV = [
  { id: 'devices', href: '#/devices', label: 'Doorbells', icon: 'grid' },
  { id: 'live', href: '#/live', label: 'Live', icon: 'video' },
  { id: 'notifications', href: '#/notifications', label: 'Notifications', icon: 'bell' },
  { id: 'users', href: '#/users', label: 'People', icon: 'user', admin: true },
  { id: 'settings', href: '#/settings', label: 'Settings', icon: 'settings', admin: true },
];

// The hub's mode decides what notifies (docs/api.md, PUT /api/v1/mode).
const MODES = [
  { id: 'home', label: 'Home', title: 'Home: rings, tamper alarms, offline and low battery notify' },
  { id: 'away', label: 'Away', title: 'Away: every event notifies' },
  { id: 'disarmed', label: 'Disarmed', title: 'Disarmed: nothing notifies (events are still recorded)' },
];

const state = { session: null, unmount: null, first: true, mode: null };

/* ---------- routing ---------- */

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = (q >= 0 ? raw.slice(0, q) : raw) || '/';
  return { raw, path, query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '') };
}

export function navigate(to, { replace: replaceEntry = false } = {}) {
  if (replaceEntry) {
    history.replaceState(history.state, '', `#${to}`);
    route();
  } else if (location.hash === `#${to}`) {
    route();
  } else {
    location.hash = to;
  }
}

/** Only same-app routes may be returned to after login. */
function safeNext(next) {
  if (!next || !next.startsWith('/') || next.startsWith('//')) return null;
  if (/^\/(login|setup|invite)\b/.test(next)) return null;
  return next;
}

function route() {
  const s = state.session;
  if (!s) return;
  const { raw, path, query } = parseHash();
  if (path === '/') {
    navigate(s.authenticated ? '/devices' : s.setup_required ? '/setup' : '/login', { replace: true });
    return;
  }
  let match = null;
  let params = {};
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m) {
      match = r;
      (r.keys || []).forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
      break;
    }
  }
  if (match && match.public) {
    if (s.authenticated) { navigate(safeNext(query.get('next')) || '/devices', { replace: true }); return; }
    if (match.page === loginPage && s.setup_required) { navigate('/setup', { replace: true }); return; }
  } else if (!s.authenticated) {
    navigate(s.setup_required ? '/setup' : `/login?next=${encodeURIComponent(raw)}`, { replace: true });
    return;
  }
  if (!match) { match = { page: { mount: mountNotFound }, title: 'Not found' }; params = {}; }
  mount(match, params, query);
}

function mount(r, params, query) {
  if (state.unmount) {
    try { state.unmount(); } catch (e) { console.error(e); }
    state.unmount = null;
  }
  renderShell(r);
  const main = document.getElementById('main');
  main.replaceChildren();
  setTitle(r.title);
  const ctx = {
    params, query, navigate, setTitle, logout: doLogout, onAuthenticated,
    session: state.session,
    user: state.session && state.session.user,
    isAdmin: Boolean(state.session && state.session.user && state.session.user.role === 'admin'),
  };
  const un = r.page.mount(main, ctx);
  state.unmount = typeof un === 'function' ? un : null;
  if (!state.first && !r.public) {
    const heading = main.querySelector('h1');
    if (heading) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  }
  state.first = false;
  window.scrollTo(0, 0);
}

function setTitle(title) {
  document.title = title ? `${title} · Doorstep` : 'Doorstep';
}

function mountNotFound(main, ctx) {
  main.append(h('section', { class: 'page narrow' },
    h('div', { class: 'empty' },
      icon('alert', 'empty-icon'),
      h('h1', { text: 'Page not found' }),
      h('p', { class: 'muted', text: 'There is nothing at this address.' }),
      h('a', { class: 'btn btn-primary', href: '#/devices' }, h('span', { class: 'btn-label', text: 'Go to doorbells' })))));
}

/* ---------- shell ---------- */

function renderShell(r) {
  const header = document.getElementById('app-header');
  document.body.classList.toggle('is-public', Boolean(r.public));
  if (r.public) { header.hidden = true; header.replaceChildren(); return; }
  header.hidden = false;
  const user = state.session.user || {};
  const admin = user.role === 'admin';
  startEventFeed({ isAdmin: admin });
  startStorageBanner(admin);
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' },
    NAV.filter((n) => admin || !n.admin).map((n) => h('a', {
      class: 'nav-link', href: n.href, 'data-testid': `nav-${n.id}`, title: n.label, 'aria-label': n.label,
      'aria-current': r.nav === n.id ? 'page' : null,
    }, icon(n.icon), h('span', { class: 'nav-label', text: n.label }))));
  const logoutBtn = h('button', { type: 'button', class: 'btn btn-ghost header-logout', 'data-testid': 'logout', title: 'Log out', 'aria-label': 'Log out' },
    icon('logout'), h('span', { class: 'btn-label', text: 'Log out' }));
  logoutBtn.addEventListener('click', () => doLogout(logoutBtn));
  replace(header,
    h('div', { class: 'header-inner' },
      h('a', { class: 'brand', href: '#/devices', 'aria-label': 'Doorstep home' },
        h('img', { class: 'brand-logo', src: '/icons/logo.svg', alt: '', width: 28, height: 28 }),
        h('span', { class: 'brand-name', text: 'Doorstep' })),
      nav,
      modeControl(admin),
      h('div', { class: 'header-user' },
        h('a', { class: 'user-chip', href: '#/account', 'data-testid': 'nav-account', title: `My account: ${user.username || ''} (${user.role || ''})`,
          'aria-label': `My account (${user.username || ''})`, 'aria-current': r.nav === 'account' ? 'page' : null },
        h('span', { class: 'avatar', 'aria-hidden': 'true', text: (user.username || '?').slice(0, 1).toUpperCase() }),
        h('span', { class: 'user-name', text: user.username || '' })),
        logoutBtn)));
}

/*
 * The mode in the header: a segmented switch for admins, a badge for
 * viewers. Drawn from the last known mode at once, then refreshed from the
 * hub (another tab or user may have changed it).
 */
function modeControl(admin) {
  const wrap = h('div', { class: 'mode', 'data-testid': 'mode' });
  const buttons = new Map();
  const badge = h('span', { class: 'badge badge-neutral mode-badge', 'data-testid': 'mode-badge' });
  if (admin) {
    const seg = h('div', { class: 'seg mode-switch', role: 'group', 'aria-label': 'Mode', 'data-testid': 'mode-switch' });
    for (const m of MODES) {
      const b = h('button', { type: 'button', class: 'seg-btn', 'data-testid': `mode-${m.id}`, 'aria-pressed': 'false',
        title: m.title, text: m.label, onclick: () => choose(m.id) });
      buttons.set(m.id, b);
      seg.append(b);
    }
    wrap.append(seg);
  } else {
    wrap.append(badge);
  }

  function show(mode) {
    const known = MODES.find((m) => m.id === mode);
    wrap.hidden = !known;
    wrap.dataset.mode = mode || '';
    for (const [id, b] of buttons) b.setAttribute('aria-pressed', String(id === mode));
    if (known) {
      badge.textContent = known.label;
      badge.title = known.title;
    }
  }

  async function choose(mode) {
    if (mode === state.mode) return;
    const before = state.mode;
    show(mode);
    for (const b of buttons.values()) b.disabled = true;
    try {
      const result = await api.put('/api/v1/mode', { mode });
      state.mode = (result && result.mode) || mode;
      show(state.mode);
      toast(MODES.find((m) => m.id === state.mode).title, 'success', 3000);
    } catch (e) {
      show(before);
      if (!e.handled) toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not change the mode: ${e.message}`, 'error');
    } finally {
      for (const b of buttons.values()) b.disabled = false;
    }
  }

  show(state.mode);
  api.get('/api/v1/mode').then((result) => {
    if (!result || !result.mode || !wrap.isConnected) return;
    state.mode = result.mode;
    show(state.mode);
  }, () => { /* an old hub without modes, or offline: keep what is shown */ });
  return wrap;
}

/* ---------- session changes ---------- */

function onAuthenticated(result, next) {
  state.session = {
    authenticated: true, setup_required: false,
    user: result && result.user, csrf_token: result && result.csrf_token,
  };
  navigate(safeNext(next) || '/devices', { replace: true });
}

async function doLogout(btn) {
  if (btn) btn.disabled = true;
  try {
    await api.logout();
  } catch (e) {
    if (e instanceof api.NetworkError) {
      toast('The hub is unreachable; you are signed out in this browser only.', 'error');
    }
  }
  state.session = { authenticated: false, setup_required: false };
  stopEventFeed();
  stopStorageBanner();
  closeAllTalk();
  navigate('/login', { replace: true });
  toast('You are signed out.', 'info', 3000);
}

function onUnauthorized() {
  if (!state.session || !state.session.authenticated) return;
  state.session = { authenticated: false, setup_required: false };
  stopEventFeed();
  stopStorageBanner();
  closeAllTalk();
  const { raw, path } = parseHash();
  if (path === '/login') return;
  navigate(`/login?next=${encodeURIComponent(raw)}&expired=1`, { replace: true });
}

/* ---------- boot ---------- */

/*
 * The service worker (sw.js): the installable app and its "hub unreachable"
 * page. A browser that refuses it (a certificate it does not trust, a
 * private window) runs the UI the same without it.
 */
function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch((e) => {
    console.info(`Doorstep works without its service worker here: ${e.message}`);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function boot() {
  registerServiceWorker();
  api.onUnauthorized(onUnauthorized);
  window.addEventListener('hashchange', route);
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    const main = document.getElementById('main');
    (main.querySelector('h1') || main).focus();
  });
  let delay = 1000;
  for (;;) {
    try {
      state.session = await api.getSession();
      break;
    } catch (e) {
      if (e instanceof api.ApiError) toast(`The hub answered with an error: ${e.message}`, 'error');
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
    }
  }
  route();
}

boot();
