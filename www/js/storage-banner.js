// storage-banner.js - the storage banner: for admins, what is failing now
// on the hub's disks (GET /api/v1/storage "conditions": disk full, database
// full, a doorbell's recording stopped), shown under the header until it
// clears. Polls every 10 s while the shell is shown; stop() ends it.

import * as api from './api.js';
import { h, replace, icon } from './ui.js';

const POLL_MS = 10000;
let timer = null;
let running = false;

function render(conditions) {
  const el = document.getElementById('storage-banner');
  if (!el) return;
  if (!conditions || conditions.length === 0) { el.replaceChildren(); return; }
  replace(el, h('div', { class: 'banner-inner', role: 'alert' },
    icon('alert'),
    h('ul', { class: 'storage-banner-list' },
      conditions.map((c) => h('li', { 'data-code': c.code, text: c.message })))));
}

async function poll() {
  if (!running) return;
  try {
    const storage = await api.get('/api/v1/storage');
    if (running) render(storage.conditions);
  } catch {
    // The hub-unreachable banner covers a hub that does not answer.
  }
  if (running) timer = setTimeout(poll, POLL_MS);
}

/** Start polling (admins only: the storage API is theirs). */
export function startStorageBanner(admin) {
  if (!admin) { stopStorageBanner(); return; }
  if (running) return;
  running = true;
  poll();
}

export function stopStorageBanner() {
  running = false;
  clearTimeout(timer);
  timer = null;
  render(null);
}
