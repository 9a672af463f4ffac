// Quick replies (docs/api.md, "Quick replies"): play buttons per reply (the
// doorbell page, the ring toast), a compact "Reply" menu of them (live grid
// tiles, recent rings in the recordings page's event list), and, for
// admins, the settings: upload a WAV or Ogg Opus file, record one with the
// microphone, rename, delete, and the auto-reply rule per mode. A recording
// goes through the talk-back capture path (js/talk/capture.js: the same
// getUserMedia constraints and AudioWorklet, 48 kHz frames) and is uploaded
// as a mono 16-bit WAV, at 48 kHz when that fits the hub's 1 MB limit (up to
// about 10.9 s), else resampled by the browser to the highest of 32, 24 or
// 16 kHz that fits; the hub re-encodes it like any upload. Runs on the
// page's main thread.

import { h, icon, button, busy, field, toast, confirmDialog } from './ui.js';
import * as api from './api.js';
import { MicCapture, talkUnavailable } from './talk/capture.js';
import { SAMPLE_RATE } from './talk/packet.js';

const MODES = [['home', 'Home'], ['away', 'Away'], ['disarmed', 'Disarmed']];
const RECORD_MAX_MS = 30000;
const UPLOAD_MAX_BYTES = 1048576;
const WAV_HEADER_BYTES = 44;
const WAV_RATES = [SAMPLE_RATE, 32000, 24000, 16000]; // 30 s of 16 kHz fit in 1 MB

const devicePath = (id) => `/api/v1/devices/${encodeURIComponent(id)}`;

/** The hub's replies, oldest first; [] when they cannot be read. */
export async function listReplies() {
  try { return (await api.get('/api/v1/replies')).replies || []; } catch { return []; }
}

/** Play reply on doorbell deviceId, with a toast saying how it went. */
export async function playReply(deviceId, reply) {
  try {
    await api.post(`${devicePath(deviceId)}/replies/${reply.id}/play`);
    toast(`Playing “${reply.name}”`, 'success');
  } catch (error) {
    if (!error.handled) toast(error.message || 'Could not play the reply', 'error');
  }
}

/** Play buttons, one per reply, for deviceId (the ring toast uses them too). */
export function replyButtons(deviceId, replies) {
  return replies.map((reply) => {
    const play = button(reply.name, { icon: 'play', variant: 'btn-secondary btn-sm', 'data-testid': 'quick-reply-play', 'data-reply-id': String(reply.id) });
    play.addEventListener('click', (event) => {
      event.preventDefault();
      event.stopPropagation();
      busy(play, () => playReply(deviceId, reply));
    });
    return play;
  });
}

/**
 * replyMenu(deviceId) -> element: a compact "Reply" menu (a <details>) whose
 * play buttons (replyButtons) are fetched each time it opens. Clicks inside
 * do not reach a surrounding link. For users with the talk right only.
 */
export function replyMenu(deviceId) {
  const list = h('div', { class: 'quick-reply-menu-list', 'data-testid': 'quick-reply-menu-list' });
  const summary = h('summary', { class: 'btn btn-secondary btn-sm', 'data-testid': 'quick-reply-menu-open', title: 'Play a quick reply to the visitor' },
    icon('volume'), h('span', { class: 'btn-label', text: 'Reply' }));
  const el = h('details', { class: 'quick-reply-menu', 'data-testid': 'quick-reply-menu' }, summary, list);
  el.addEventListener('click', (event) => event.stopPropagation());
  el.addEventListener('toggle', async () => {
    if (!el.open) return;
    list.replaceChildren(h('p', { class: 'muted small', text: 'Loading…' }));
    const replies = await listReplies();
    if (!el.open) return;
    list.replaceChildren(...(replies.length ? replyButtons(deviceId, replies) : [h('p', { class: 'muted small', text: 'No quick replies yet.' })]));
  });
  return el;
}

/** Upload a file (Blob) as a new reply; resolves with the reply or throws ApiError. */
async function upload(name, blob, type) {
  const headers = { 'Content-Type': type, Accept: 'application/json' };
  const session = await api.get('/auth/session');
  if (session && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
  const response = await fetch(`/api/v1/replies?name=${encodeURIComponent(name)}`, {
    method: 'POST', headers, body: blob, credentials: 'same-origin', cache: 'no-store',
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new api.ApiError(response.status, (data && data.error) || `http_${response.status}`, (data && data.message) || 'Upload refused');
  return data;
}

/**
 * A mono 16-bit WAV (Blob) of float samples at 48 kHz: at 48 kHz when it
 * fits in the hub's upload limit, else resampled by an OfflineAudioContext
 * to the highest rate of WAV_RATES that fits.
 */
async function toWav(samples48) {
  const fits = (rate) => WAV_HEADER_BYTES + 2 * Math.ceil((samples48.length * rate) / SAMPLE_RATE) <= UPLOAD_MAX_BYTES;
  const rate = WAV_RATES.find(fits) || WAV_RATES[WAV_RATES.length - 1];
  let samples = samples48;
  if (rate !== SAMPLE_RATE) {
    const frames = Math.max(1, Math.ceil((samples48.length * rate) / SAMPLE_RATE));
    const offline = new OfflineAudioContext(1, frames, rate);
    const buffer = offline.createBuffer(1, Math.max(1, samples48.length), SAMPLE_RATE);
    buffer.copyToChannel(samples48, 0);
    const source = offline.createBufferSource();
    source.buffer = buffer;
    source.connect(offline.destination);
    source.start();
    samples = (await offline.startRendering()).getChannelData(0);
  }
  const view = new DataView(new ArrayBuffer(WAV_HEADER_BYTES + samples.length * 2));
  const text = (at, value) => { for (let i = 0; i < value.length; i++) view.setUint8(at + i, value.charCodeAt(i)); };
  text(0, 'RIFF'); view.setUint32(4, 36 + samples.length * 2, true); text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, 'data'); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(WAV_HEADER_BYTES + 2 * i, Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), true);
  return new Blob([view.buffer], { type: 'audio/wav' });
}

/**
 * createQuickReplies({ deviceId, isAdmin }) -> { el, load(), stop() }: the
 * "Quick replies" panel of a doorbell's page; call stop() when leaving it.
 */
export function createQuickReplies({ deviceId, isAdmin }) {
  const list = h('div', { class: 'quick-replies', 'data-testid': 'quick-replies' });
  const el = h('div', { class: 'quick-replies-panel' }, list);
  let replies = [];

  const settings = isAdmin ? buildSettings() : null;
  if (settings) el.append(settings.el);

  async function load() {
    replies = await listReplies();
    list.replaceChildren(...(replies.length ? replyButtons(deviceId, replies) : [h('p', { class: 'muted', text: 'No quick replies yet.' })]));
    if (settings) await settings.fill();
  }

  function buildSettings() {
    const name = h('input', { type: 'text', name: 'reply_name', maxlength: '64', placeholder: 'Name', 'data-testid': 'quick-reply-name' });
    const file = h('input', { type: 'file', accept: 'audio/wav,audio/x-wav,audio/ogg,.wav,.ogg,.opus', 'data-testid': 'quick-reply-file' });
    const uploadBtn = button('Upload', { icon: 'plus', variant: 'btn-secondary btn-sm', 'data-testid': 'quick-reply-upload' });
    const recordBtn = button('Record', { icon: 'volume', variant: 'btn-secondary btn-sm', 'data-testid': 'quick-reply-record' });
    const manage = h('ul', { class: 'quick-reply-manage', 'data-testid': 'quick-reply-manage' });
    const rules = h('div', { class: 'auto-reply', 'data-testid': 'auto-reply' });
    let recorder = null;

    const nameOrDefault = (fallback) => (name.value.trim() || fallback).slice(0, 64);

    async function send(blob, type, fallback) {
      try {
        const reply = await upload(nameOrDefault(fallback), blob, type);
        toast(`Added “${reply.name}”`, 'success');
        name.value = '';
        file.value = '';
        await load();
      } catch (error) {
        if (!error.handled) toast(error.message || 'Upload refused', 'error');
      }
    }

    uploadBtn.addEventListener('click', () => busy(uploadBtn, async () => {
      const chosen = file.files && file.files[0];
      if (!chosen) { toast('Choose a WAV or Ogg Opus file first', 'error'); return; }
      const type = /\.wav$/i.test(chosen.name) ? 'audio/wav' : (chosen.type || 'audio/ogg');
      await send(chosen, type, chosen.name.replace(/\.[^.]*$/, ''));
    }));

    // Record with the talk capture path: frames of 48 kHz floats are kept
    // (at most RECORD_MAX_MS) until Stop, then uploaded as a WAV.
    const recordLabel = recordBtn.querySelector('.btn-label');
    recordBtn.dataset.state = 'idle';
    function finishRecording() {
      const current = recorder;
      if (!current) return;
      recorder = null;
      clearTimeout(current.timer);
      recordLabel.textContent = 'Record';
      recordBtn.dataset.state = 'idle';
      current.capture.close().then(async () => {
        const total = current.frames.reduce((sum, frame) => sum + frame.length, 0);
        if (!total) { toast('Nothing was recorded', 'error'); return; }
        const samples = new Float32Array(Math.min(total, (RECORD_MAX_MS / 1000) * SAMPLE_RATE));
        let at = 0;
        for (const frame of current.frames) {
          if (at >= samples.length) break;
          const part = frame.subarray(0, samples.length - at);
          samples.set(part, at);
          at += part.length;
        }
        await send(await toWav(samples), 'audio/wav', 'My reply');
      }).catch(() => toast('The recording could not be read', 'error'));
    }
    recordBtn.addEventListener('click', () => {
      if (recorder) { finishRecording(); return; }
      const unavailable = talkUnavailable();
      if (unavailable) {
        toast(unavailable === 'insecure' ? 'Recording needs a secure connection: open the hub with https://.' : 'This browser cannot record sound here.', 'error');
        return;
      }
      const frames = [];
      let recordedSamples = 0;
      const capture = new MicCapture({
        codec: 'pcm16',
        onPacket: () => {},
        onFrame: (samples) => {
          if (recorder && recorder.capture !== capture) return;
          frames.push(samples);
          recordedSamples += samples.length;
          recordBtn.dataset.recordedMs = String(Math.round((recordedSamples * 1000) / SAMPLE_RATE));
        },
      });
      recorder = { capture, frames, timer: setTimeout(finishRecording, RECORD_MAX_MS) };
      recordBtn.dataset.recordedMs = '0';
      recordBtn.dataset.state = 'recording';
      recordLabel.textContent = 'Stop';
      try {
        capture.prepare();   // in the click: Safari starts audio only in a gesture
      } catch { /* open() reports it */ }
      capture.open().catch(() => {
        if (!recorder || recorder.capture !== capture) return;
        clearTimeout(recorder.timer);
        recorder = null;
        capture.close();
        recordLabel.textContent = 'Record';
        recordBtn.dataset.state = 'idle';
        toast('The browser refused the microphone', 'error');
      });
    });

    function manageRow(reply) {
      const rename = button('Rename', { icon: 'edit', variant: 'btn-secondary btn-sm', iconOnly: true, 'data-testid': 'quick-reply-rename' });
      const remove = button('Delete', { icon: 'trash', variant: 'btn-secondary btn-sm btn-danger-text', iconOnly: true, 'data-testid': 'quick-reply-delete' });
      rename.addEventListener('click', () => busy(rename, async () => {
        const next = window.prompt('New name', reply.name);
        if (!next || next === reply.name) return;
        try { await api.request('PATCH', `/api/v1/replies/${reply.id}`, { body: { name: next.slice(0, 64) } }); await load(); } catch (error) {
          if (!error.handled) toast(error.message, 'error');
        }
      }));
      remove.addEventListener('click', () => busy(remove, async () => {
        if (!(await confirmDialog({ title: 'Delete quick reply', message: `Delete “${reply.name}”?`, confirmLabel: 'Delete', danger: true }))) return;
        try { await api.del(`/api/v1/replies/${reply.id}`); await load(); } catch (error) {
          if (!error.handled) toast(error.message, 'error');
        }
      }));
      return h('li', { 'data-reply-id': String(reply.id) },
        h('span', { text: `${reply.name} (${(reply.duration_ms / 1000).toFixed(1)} s)` }), rename, remove);
    }

    async function fillRules() {
      let current = {};
      try { current = await api.get(`${devicePath(deviceId)}/auto-reply`); } catch { /* shown as off */ }
      rules.replaceChildren(...MODES.map(([mode, label]) => {
        const rule = current[mode];
        const select = h('select', { 'data-testid': `auto-reply-${mode}` },
          h('option', { value: '', text: 'No auto-reply' }),
          replies.map((reply) => h('option', { value: String(reply.id), text: reply.name })));
        select.value = rule ? String(rule.reply_id) : '';
        const delay = h('input', { type: 'number', min: '1', max: '600', step: '1', value: String(rule ? rule.delay_s : 20), 'data-testid': `auto-reply-${mode}-delay` });
        const save = button('Save', { variant: 'btn-secondary btn-sm', 'data-testid': `auto-reply-${mode}-save` });
        save.addEventListener('click', () => busy(save, async () => {
          const body = { [mode]: select.value ? { reply_id: Number(select.value), delay_s: Number(delay.value) } : null };
          try { await api.put(`${devicePath(deviceId)}/auto-reply`, body); toast(`Auto-reply for ${label} saved`, 'success'); } catch (error) {
            if (!error.handled) toast(error.message, 'error');
          }
        }));
        return field(`${label}: if nobody opens live view within N seconds of a ring, play`, h('div', { class: 'auto-reply-row' }, select, delay, save));
      }));
    }

    return {
      el: h('div', { class: 'quick-reply-settings' },
        h('h3', { text: 'Manage' }), manage,
        h('div', { class: 'quick-reply-add' }, name, file, uploadBtn, recordBtn),
        h('h3', { text: 'Auto-reply' }), rules),
      async fill() {
        manage.replaceChildren(...replies.map(manageRow));
        await fillRules();
      },
      // Leaving the page: a recording in progress is dropped, the microphone released.
      stop() {
        if (!recorder) return;
        clearTimeout(recorder.timer);
        recorder.capture.close();
        recorder = null;
      },
    };
  }

  /** Leave: a recording in progress is dropped and its microphone released. */
  function stop() {
    if (settings) settings.stop();
  }

  return { el, load, stop };
}
