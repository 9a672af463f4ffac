// Quick replies (docs/api.md, "Quick replies"): the list with a play button
// per reply for a doorbell's page and the ring toast, and, for admins, the
// settings: upload a WAV or Ogg Opus file, record one with the microphone
// (MediaRecorder; the recording is decoded in the browser and uploaded as a
// 16 kHz mono WAV, which the hub re-encodes like any upload), rename, delete,
// and the auto-reply rule per mode.

import { h, button, busy, field, toast, confirmDialog } from './ui.js';
import * as api from './api.js';

const MODES = [['home', 'Home'], ['away', 'Away'], ['disarmed', 'Disarmed']];
const RECORD_MAX_MS = 30000;
const WAV_RATE = 16000; // 30 s of 16-bit mono fit in the hub's 1 MB limit

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

/** Mono 16-bit WAV of an AudioBuffer resampled to WAV_RATE. */
async function toWav(audioBuffer) {
  const frames = Math.ceil(audioBuffer.duration * WAV_RATE);
  const offline = new OfflineAudioContext(1, Math.max(frames, 1), WAV_RATE);
  const source = offline.createBufferSource();
  source.buffer = audioBuffer;
  source.connect(offline.destination);
  source.start();
  const samples = (await offline.startRendering()).getChannelData(0);
  const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
  const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, 'RIFF'); view.setUint32(4, 36 + samples.length * 2, true); text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, WAV_RATE, true); view.setUint32(28, WAV_RATE * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, 'data'); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) view.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, samples[i])) * 32767, true);
  return new Blob([view.buffer], { type: 'audio/wav' });
}

/**
 * createQuickReplies({ deviceId, isAdmin }) -> { el, load() }: the "Quick
 * replies" panel of a doorbell's page.
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

    recordBtn.addEventListener('click', async () => {
      if (recorder) { recorder.stop(); return; }
      if (!navigator.mediaDevices || !window.MediaRecorder) { toast('This browser cannot record here (a secure context is needed)', 'error'); return; }
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
      } catch {
        toast('The browser refused the microphone', 'error');
        return;
      }
      const chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
      recorder.addEventListener('stop', async () => {
        stream.getTracks().forEach((track) => track.stop());
        recorder = null;
        recordBtn.querySelector('.btn-label').textContent = 'Record';
        try {
          const context = new AudioContext();
          const decoded = await context.decodeAudioData(await new Blob(chunks).arrayBuffer());
          context.close();
          await send(await toWav(decoded), 'audio/wav', 'My reply');
        } catch {
          toast('The recording could not be read', 'error');
        }
      });
      recorder.start();
      recordBtn.querySelector('.btn-label').textContent = 'Stop';
      setTimeout(() => { if (recorder && recorder.state === 'recording') recorder.stop(); }, RECORD_MAX_MS);
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
    };
  }

  return { el, load };
}
