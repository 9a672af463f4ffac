// Small DOM helpers shared by every page: element builder (text only, never
// innerHTML), icons, toasts, the hub-unreachable banner, modal dialogs,
// clipboard copy and the number/time formatters used in the device views.

/**
 * Build an element. attrs: class, text, data-* / aria-* / other attributes,
 * on<event> handlers (functions), boolean/property values for known props,
 * style as an object (assigned through CSSOM, allowed by the CSP).
 * Children: nodes, strings (inserted as text), arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key in PROPS) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const PROPS = { value: 1, checked: 1, disabled: 1, required: 1, autofocus: 1, hidden: 1, readOnly: 1 };

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace all children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An icon drawn from www/icons/NAME.svg through a CSS mask (takes currentColor). */
export function icon(name, extraClass = '') {
  return h('span', { class: ['icon', `i-${name}`, extraClass], 'aria-hidden': 'true' });
}

/** A <button type="button"> with optional icon; label is always present for screen readers. */
export function button(label, { icon: ic, variant = '', iconOnly = false, class: cls = '', ...attrs } = {}) {
  return h('button', { type: 'button', class: ['btn', variant, iconOnly && 'btn-icon', cls], title: iconOnly ? label : null,
    'aria-label': iconOnly ? label : null, ...attrs },
    ic ? icon(ic) : null, iconOnly ? null : h('span', { class: 'btn-label', text: label }));
}

/** Put a button into a busy state for the duration of an async task. */
export async function busy(btn, task) {
  btn.disabled = true;
  btn.classList.add('is-busy');
  btn.setAttribute('aria-busy', 'true');
  try { return await task(); } finally {
    btn.disabled = false;
    btn.classList.remove('is-busy');
    btn.removeAttribute('aria-busy');
  }
}

/** A labelled form field. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const hintEl = hint ? h('p', { class: 'field-hint', id: `${id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hintEl);
}

/* ---------- toasts ---------- */

export function toast(message, kind = 'info', ms = 4500) {
  const region = document.getElementById('toasts');
  if (!region) return;
  const t = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast' },
    icon(kind === 'error' ? 'alert' : kind === 'success' ? 'check' : 'info'), h('span', { text: message }));
  region.appendChild(t);
  setTimeout(() => { t.classList.add('leaving'); setTimeout(() => t.remove(), 250); }, ms);
}

/* ---------- hub-unreachable banner ---------- */

export function setBanner(text) {
  const el = document.getElementById('banner');
  if (!el) return;
  if (!text) { el.replaceChildren(); return; }
  if (el.textContent === text) return;
  replace(el, h('div', { class: 'banner-inner' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text })));
}

/* ---------- dialogs ---------- */

/** Open a modal <dialog>; returns { dialog, body, close }. onClose runs once. */
export function openDialog({ title, testid, onClose, wide = false }) {
  const body = h('div', { class: 'dialog-body' });
  const titleId = `dlg-${Math.random().toString(36).slice(2, 9)}`;
  const closeBtn = button('Close', { icon: 'close', iconOnly: true, variant: 'btn-ghost', class: 'dialog-x' });
  const dialog = h('dialog', { class: ['dialog', wide && 'dialog-wide'], 'aria-labelledby': titleId, 'data-testid': testid },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId, text: title }), closeBtn), body);
  let closed = false;
  const close = () => { if (!closed) dialog.close(); };
  closeBtn.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    if (closed) return;
    closed = true;
    dialog.remove();
    if (onClose) onClose();
  });
  // click on the backdrop closes
  dialog.addEventListener('mousedown', (e) => { if (e.target === dialog) close(); });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, body, close };
}

/** Ask for confirmation; resolves true/false. */
export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false }) {
  return new Promise((resolve) => {
    let result = false;
    const { body, close } = openDialog({ title, testid: 'confirm-dialog', onClose: () => resolve(result) });
    const cancel = button('Cancel', { variant: 'btn-secondary', 'data-testid': 'confirm-cancel', onclick: close });
    const ok = button(confirmLabel, { variant: danger ? 'btn-danger' : 'btn-primary', 'data-testid': 'confirm-ok',
      onclick: () => { result = true; close(); } });
    body.append(h('p', { class: 'dialog-text', text: message }), h('div', { class: 'dialog-actions' }, cancel, ok));
    cancel.focus();
  });
}

/* ---------- clipboard ---------- */

export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall back below */ }
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

/** A read-only value with a copy button. */
export function copyable(value, { testid, label = 'value', multiline = false } = {}) {
  const code = h('code', { class: ['copy-value', multiline && 'copy-multi'], 'data-testid': testid, text: value });
  const btn = button('Copy', { icon: 'copy', variant: 'btn-secondary btn-sm', 'aria-label': `Copy ${label}`,
    'data-testid': testid ? `${testid}-copy` : null });
  const lbl = btn.querySelector('.btn-label');
  btn.addEventListener('click', async () => {
    const ok = await copyText(value);
    lbl.textContent = ok ? 'Copied' : 'Copy failed';
    btn.classList.toggle('is-done', ok);
    setTimeout(() => { lbl.textContent = 'Copy'; btn.classList.remove('is-done'); }, 1800);
  });
  return h('div', { class: 'copy-row' }, code, btn);
}

/* ---------- formatters ---------- */

export const DASH = '—';

export function fmtAgo(ms, now = Date.now()) {
  if (!ms) return DASH;
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h ago`;
  return `${Math.floor(hrs / 24)} d ago`;
}

export function fmtDuration(totalSeconds) {
  if (totalSeconds === null || totalSeconds === undefined || totalSeconds < 0) return DASH;
  const s = Math.floor(totalSeconds);
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${hr} h`;
  if (hr > 0) return `${hr} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

export function fmtDateTime(ms) {
  if (!ms) return DASH;
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function fmtBitrate(kbps) {
  if (!isNum(kbps) || kbps <= 0) return DASH;
  return kbps >= 1000 ? `${(kbps / 1000).toFixed(2)} Mbps` : `${Math.round(kbps)} kbps`;
}

export function fmtFps(fps) {
  if (!isNum(fps) || fps <= 0) return DASH;
  return `${Number(fps.toFixed(1))} fps`;
}

export function fmtResolution(v) {
  if (!v || !v.width || !v.height) return DASH;
  return `${v.width}×${v.height}`;
}

export function fmtInt(n) {
  return isNum(n) ? Math.round(n).toLocaleString() : DASH;
}

export function isNum(n) {
  return typeof n === 'number' && Number.isFinite(n);
}
