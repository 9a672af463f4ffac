// The hub's own settings on the settings page (admins only): how much disk
// recordings may use and how much must stay free (GET/PUT
// /api/v1/settings/storage, with the disk's size, free space and what
// recordings use now), and the indoor chime: on/off, the ALSA output the
// hub plays it on, its volume, and a test chime (GET/PUT
// /api/v1/settings/chime, POST /api/v1/settings/chime/test). A value saved
// here wins over the hub's config file and flags, restarts included
// (docs/storage.md). Each section owns one AbortController; stop() aborts.

import { h, icon, button, busy, field, replace, toast } from './ui.js';
import * as api from './api.js';
import { fmtBytes } from './timeline/format.js';

const GB = 1e9; // as fmtBytes counts
const PRECEDENCE = 'Saved here, a value wins over the hub’s config file and command line, also after a restart.';

function loading(text) {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text }));
}

function failure(e, what) {
  return h('p', { class: 'muted', text: e instanceof api.NetworkError ? 'The hub is unreachable.' : `${what} not available: ${e.message}` });
}

/** Gigabytes (decimal) for an input, '' for none. */
const toGb = (bytes) => (bytes > 0 ? String(Math.round((bytes / GB) * 100) / 100) : '');

/** createStorageLimits() -> { el, stop() }: budget and minimum free space. */
export function createStorageLimits() {
  const content = h('div', {}, loading('Loading the storage limits…'));
  const el = h('section', { class: 'card panel hs-section', 'data-testid': 'storage-limits-section' },
    h('h2', { class: 'section-title' }, icon('history'), h('span', { text: 'Storage limits' })),
    content);
  const ctrl = new AbortController();

  const limitOn = h('input', { type: 'checkbox', 'data-testid': 'storage-budget-on' });
  const budget = h('input', { type: 'number', min: '0.01', step: '0.01', inputmode: 'decimal', 'data-testid': 'storage-budget', 'aria-label': 'Storage budget in GB' });
  const freeMode = h('select', { 'data-testid': 'storage-min-free-mode' },
    h('option', { value: 'auto', text: 'Automatic: 5 % of the disk, at most 2 GB' }),
    h('option', { value: 'custom', text: 'This much:' }));
  const minFree = h('input', { type: 'number', min: '0', step: '0.01', inputmode: 'decimal', 'data-testid': 'storage-min-free', 'aria-label': 'Minimum free space in GB' });
  const disk = h('dl', { class: 'stats stats-rows hs-disk', 'data-testid': 'storage-disk' });
  const save = button('Save storage limits', { variant: 'btn-primary btn-sm', 'data-testid': 'storage-limits-save' });
  save.type = 'submit';
  const form = h('form', { class: 'hs-form', novalidate: true },
    disk,
    h('div', { class: 'field' },
      h('label', { class: 'hs-check' }, limitOn, h('span', { text: 'Limit what recordings may use' })),
      h('div', { class: 'hs-unit' }, budget, h('span', { class: 'muted', text: 'GB' })),
      h('p', { class: 'field-hint', text: 'Over the limit, the oldest recordings go first; starred events are kept.' })),
    field('Always keep free on the disk', freeMode),
    h('div', { class: 'hs-unit' }, minFree, h('span', { class: 'muted', text: 'GB' })),
    h('p', { class: 'field-hint hs-precedence', text: PRECEDENCE }),
    save);
  let disk_total = 0;

  function sync() {
    budget.disabled = !limitOn.checked;
    minFree.disabled = freeMode.value !== 'custom';
    minFree.parentElement.hidden = freeMode.value !== 'custom';
  }
  limitOn.addEventListener('change', () => { sync(); if (limitOn.checked && !budget.value) budget.focus(); });
  freeMode.addEventListener('change', sync);

  function stat(label, value, testid) {
    return h('div', { class: 'stat' }, h('dt', { text: label }), h('dd', { 'data-testid': testid, text: value }));
  }

  function fill(data) {
    disk_total = data.disk_total_bytes || 0;
    replace(disk,
      stat('Recordings disk', fmtBytes(data.disk_total_bytes), 'storage-disk-total'),
      stat('Free now', fmtBytes(data.disk_free_bytes), 'storage-disk-free'),
      stat('Recordings use', fmtBytes(data.used_bytes), 'storage-disk-used'),
      stat('Kept free', fmtBytes(data.min_free_effective_bytes), 'storage-disk-floor'));
    limitOn.checked = data.budget_bytes > 0;
    budget.value = toGb(data.budget_bytes);
    freeMode.value = data.min_free_bytes === null ? 'auto' : 'custom';
    minFree.value = data.min_free_bytes === null ? '' : String(Math.round((data.min_free_bytes / GB) * 100) / 100);
    budget.max = minFree.max = disk_total > 0 ? String(Math.floor((disk_total / GB) * 100) / 100) : '';
    sync();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      budget_bytes: limitOn.checked ? Math.round(Number(budget.value) * GB) : null,
      min_free_bytes: freeMode.value === 'custom' ? Math.round(Number(minFree.value) * GB) : null,
    };
    if (limitOn.checked && !(Number(budget.value) > 0)) { toast('Enter how many GB recordings may use.', 'error'); budget.focus(); return; }
    if (freeMode.value === 'custom' && (minFree.value === '' || !(Number(minFree.value) >= 0))) { toast('Enter how many GB to keep free.', 'error'); minFree.focus(); return; }
    busy(save, async () => {
      try {
        fill(await api.put('/api/v1/settings/storage', body));
        toast('Storage limits saved', 'success');
      } catch (e) {
        if (!e.handled) toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not save: ${e.message}`, 'error');
      }
    });
  });

  api.get('/api/v1/settings/storage', { signal: ctrl.signal }).then((data) => { fill(data); replace(content, form); }, (e) => {
    if (!api.isAbort(e) && !e.handled) replace(content, failure(e, 'The storage limits are'));
  });
  return { el, stop: () => ctrl.abort() };
}

/** createChimeSettings() -> { el, stop() }: the indoor chime. */
export function createChimeSettings() {
  const content = h('div', {}, loading('Loading the chime…'));
  const el = h('section', { class: 'card panel hs-section', 'data-testid': 'chime-section' },
    h('h2', { class: 'section-title' }, icon('doorbell'), h('span', { text: 'Indoor chime' })),
    content);
  const ctrl = new AbortController();

  const enabled = h('input', { type: 'checkbox', 'data-testid': 'chime-enabled' });
  const device = h('select', { 'data-testid': 'chime-device' });
  const volume = h('input', { type: 'range', min: '0', max: '100', step: '5', 'data-testid': 'chime-volume' });
  const volumeText = h('output', { class: 'hs-volume-text', 'data-testid': 'chime-volume-text' });
  const save = button('Save chime', { variant: 'btn-primary btn-sm', 'data-testid': 'chime-save' });
  save.type = 'submit';
  const test = button('Play test chime', { icon: 'doorbell', variant: 'btn-secondary btn-sm', 'data-testid': 'chime-test' });
  const form = h('form', { class: 'hs-form', novalidate: true },
    h('label', { class: 'hs-check' }, enabled, h('span', { text: 'Play the chime on the hub when someone rings' })),
    field('Output', device, 'An ALSA output of the hub: “default”, or a sound card. Rings that do not notify (away mode, cooldown) do not chime.'),
    h('div', { class: 'field' },
      h('label', { for: 'chime-volume', text: 'Volume' }),
      h('div', { class: 'hs-volume' }, volume, volumeText)),
    h('p', { class: 'field-hint hs-precedence', text: PRECEDENCE }),
    h('div', { class: 'hs-actions' }, save, test));
  volume.id = 'chime-volume';
  volume.addEventListener('input', () => { volumeText.textContent = `${volume.value} %`; });

  function fill(data) {
    enabled.checked = Boolean(data.enabled);
    replace(device, (data.devices || []).map((d) => h('option', { value: d.name, text: d.description ? `${d.name} — ${d.description}` : d.name })));
    device.value = data.device;
    volume.value = String(data.volume);
    volumeText.textContent = `${data.volume} %`;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(save, async () => {
      try {
        fill(await api.put('/api/v1/settings/chime', { enabled: enabled.checked, device: device.value, volume: Number(volume.value) }));
        toast('Chime saved', 'success');
      } catch (e) {
        if (!e.handled) toast(e instanceof api.NetworkError ? 'The hub is unreachable.' : `Could not save: ${e.message}`, 'error');
      }
    });
  });
  test.addEventListener('click', () => busy(test, async () => {
    try {
      const played = await api.post('/api/v1/settings/chime/test');
      toast(`Chiming on ${played.device}`, 'success', 2500);
    } catch (e) {
      if (!e.handled) toast(e.status === 429 ? 'The chime was just tested; wait a few seconds.' : `Could not play the chime: ${e.message}`, 'error');
    }
  }));

  api.get('/api/v1/settings/chime', { signal: ctrl.signal }).then((data) => { fill(data); replace(content, form); }, (e) => {
    if (!api.isAbort(e) && !e.handled) replace(content, failure(e, 'The chime settings are'));
  });
  return { el, stop: () => ctrl.abort() };
}
