// Fetch wrapper for the hub's HTTP API (docs/api.md): same-origin cookies,
// JSON bodies, the X-CSRF-Token header on unsafe methods, a 401 from /api/*
// sends the user to the login page, and network failures raise the
// "hub unreachable" banner while a probe retries until the hub answers.

import { setBanner } from './ui.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const PROBE_MS = 3000;

let csrfToken = null;
let unauthorizedHandler = null;
let clockOffset = 0;          // hub clock minus browser clock, ms (from the Date header)
let clockReading = null;      // the previous answer's offset, ms
let offline = false;
let probeTimer = null;
const reconnectListeners = new Set();

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.handled = false;     // true when the wrapper already acted (401 redirect)
  }
}

export class NetworkError extends Error {
  constructor() {
    super('The hub is unreachable.');
    this.name = 'NetworkError';
  }
}

export function setCsrf(token) { csrfToken = token || null; }
export function onUnauthorized(fn) { unauthorizedHandler = fn; }
/** Hub time estimate, so "12 s ago" is right even if the browser clock is off. */
export function serverNow() { return Date.now() + clockOffset; }
export function isOffline() { return offline; }

/** Call fn when the hub answers again after being unreachable. Returns an unsubscribe function. */
export function onReconnect(fn) {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

export function isAbort(err) {
  return Boolean(err && err.name === 'AbortError');
}

/**
 * request('GET', '/api/v1/devices') -> parsed JSON (or null for empty bodies).
 * Throws ApiError for HTTP errors, NetworkError when the hub cannot be reached,
 * and the AbortError of `signal` when the caller aborts.
 */
export async function request(method, path, { body, signal, timeout = 15000, retried = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  const forward = () => ctrl.abort();
  if (signal) {
    if (signal.aborted) ctrl.abort();
    signal.addEventListener('abort', forward, { once: true });
  }
  let res;
  let text;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store', signal: ctrl.signal,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    text = await res.text();
  } catch (err) {
    if (signal && signal.aborted) throw abortError();
    markOffline();
    throw new NetworkError();
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', forward);
  }
  markOnline();
  noteClock(res);

  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;

  const code = (data && data.error) || `http_${res.status}`;
  // The CSRF token can change (new session on another tab): fetch it again and retry once.
  if (res.status === 403 && code === 'csrf' && !retried) {
    try {
      const s = await request('GET', '/auth/session', { signal });
      if (s && s.authenticated && s.csrf_token) {
        setCsrf(s.csrf_token);
        return request(method, path, { body, signal, timeout, retried: true });
      }
    } catch { /* fall through to the original error */ }
  }
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
  const err = new ApiError(res.status, code, (data && data.message) || defaultMessage(res.status), retryAfter);
  if (res.status === 401 && path.startsWith('/api/')) {
    csrfToken = null;
    err.handled = true;
    if (unauthorizedHandler) unauthorizedHandler();
  }
  throw err;
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, { ...opts, body });
export const put = (path, body, opts) => request('PUT', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

/* ---------- session (/auth/*) ---------- */

export async function getSession(opts) {
  const s = await get('/auth/session', opts);
  setCsrf(s && s.csrf_token);
  return s;
}

export async function login(username, password) {
  const r = await post('/auth/login', { username, password });
  setCsrf(r && r.csrf_token);
  return r;
}

export async function setup(token, username, password) {
  const r = await post('/auth/setup', { token, username, password });
  setCsrf(r && r.csrf_token);
  return r;
}

export async function logout() {
  try { await post('/auth/logout'); } finally { setCsrf(null); }
}

/* ---------- helpers ---------- */

function abortError() {
  return new DOMException('The request was aborted.', 'AbortError');
}

function noteClock(res) {
  const d = Date.parse(res.headers.get('Date') || '');
  if (!Number.isNaN(d)) {
    // The header has one-second resolution: only correct real skew, and only
    // when two answers in a row agree, so one odd header cannot move the clock.
    const offset = Math.abs(d - Date.now()) > 2000 ? d - Date.now() : 0;
    if (clockReading !== null && Math.abs(offset - clockReading) <= 2000) clockOffset = offset;
    clockReading = offset;
  }
}

function parseRetryAfter(v) {
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

function defaultMessage(status) {
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Try again shortly.';
  if (status >= 500) return 'The hub ran into a problem. Try again.';
  return `Request failed (HTTP ${status}).`;
}

function markOffline() {
  if (!offline) {
    offline = true;
    setBanner('Hub unreachable, retrying…');
  }
  if (!probeTimer) probeTimer = setTimeout(probe, PROBE_MS);
}

function markOnline() {
  if (!offline) return;
  offline = false;
  setBanner(null);
  if (probeTimer) { clearTimeout(probeTimer); probeTimer = null; }
  for (const fn of [...reconnectListeners]) {
    try { fn(); } catch (e) { console.error(e); }
  }
}

async function probe() {
  probeTimer = null;
  try {
    const res = await fetch('/livez', { cache: 'no-store', credentials: 'same-origin' });
    if (res.ok) { markOnline(); return; }
  } catch { /* still down */ }
  if (offline && !probeTimer) probeTimer = setTimeout(probe, PROBE_MS);
}
