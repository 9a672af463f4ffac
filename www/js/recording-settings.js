// The "Recording" panel of a doorbell's page: its recording mode (24/7,
// events only, off), how many days continuous footage and events are kept,
// and the pre- and post-roll of event clips (GET/PUT
// /api/v1/devices/{id}/recording-settings, docs/api.md). Admins edit it;
// viewers see it read-only.

import { h, field, button, busy, toast } from './ui.js';
import * as api from './api.js';

const MODES = [
  ['continuous', '24/7, events marked on the timeline'],
  ['events', 'Event clips only (pre-roll + event + post-roll)'],
  ['off', 'Off'],
];

/** A number input with bounds. */
function numberInput(name, min, max) {
  return h('input', { type: 'number', name, min: String(min), max: String(max), step: '1', required: true, inputmode: 'numeric' });
}

/**
 * createRecordingSettings({ deviceId, editable }) -> { el, load() }.
 * load() fetches the doorbell's settings into the form (call once mounted).
 */
export function createRecordingSettings({ deviceId, editable }) {
  const path = `/api/v1/devices/${encodeURIComponent(deviceId)}/recording-settings`;
  const mode = h('select', { name: 'mode', 'data-testid': 'recording-mode' },
    MODES.map(([value, label]) => h('option', { value, text: label })));
  const continuousDays = numberInput('continuous_days', 1, 3650);
  const eventDays = numberInput('event_days', 1, 3650);
  const preRoll = numberInput('pre_roll_seconds', 0, 30);
  const postRoll = numberInput('post_roll_seconds', 0, 300);
  const inputs = [mode, continuousDays, eventDays, preRoll, postRoll];
  const save = editable ? button('Save', { variant: 'btn-primary btn-sm', 'data-testid': 'recording-save' }) : null;

  const form = h('form', { class: 'recording-settings', 'data-testid': 'recording-settings', novalidate: true },
    field('Mode', mode),
    field('Keep 24/7 footage (days)', continuousDays),
    field('Keep events (days)', eventDays, 'Starred events are kept until unstarred.'),
    field('Pre-roll (seconds)', preRoll, 'Footage kept from before each event.'),
    field('Post-roll (seconds)', postRoll, 'Recorded after the event ends.'),
    save);
  for (const input of inputs) input.disabled = !editable;

  function fill(settings) {
    mode.value = settings.mode;
    continuousDays.value = settings.continuous_days;
    eventDays.value = settings.event_days;
    preRoll.value = settings.pre_roll_seconds;
    postRoll.value = settings.post_roll_seconds;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!editable || !form.reportValidity()) return;
    busy(save, async () => {
      try {
        fill(await api.put(path, {
          mode: mode.value,
          continuous_days: Number(continuousDays.value),
          event_days: Number(eventDays.value),
          pre_roll_seconds: Number(preRoll.value),
          post_roll_seconds: Number(postRoll.value),
        }));
        toast('Recording settings saved', 'success');
      } catch (error) {
        if (!error.handled) toast(error.message || 'Could not save the recording settings', 'error');
      }
    });
  });
  if (save) save.type = 'submit';

  return {
    el: form,
    async load() {
      try { fill(await api.get(path)); } catch (error) {
        if (!api.isAbort(error) && !error.handled) toast('Could not load the recording settings', 'error');
      }
    },
  };
}
