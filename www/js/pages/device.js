// Doorbell detail page (#/devices/ID): one picture, the live view
// (js/live/view.js) with the latest snapshot as its poster; connection
// status, the telemetry the doorbell reports (unknown values left out) and
// video-stream statistics (both streams: main, recorded, and the small
// sub-stream live view uses), polled every 2 s while visible, for admins
// the encoders' bitrates (POST /api/v1/devices/ID/video), its recording
// settings (js/recording-settings.js), and the way to its
// recordings (#/devices/ID/recordings). Users with the talk right get the
// talk-back controls (js/talk/controls.js) under the live view, with the
// space bar as push-to-talk.

import { h, icon, button, field, busy, toast, fmtAgo, fmtDuration, fmtFps, fmtBitrate,
  fmtResolution, fmtInt, DASH } from '../ui.js';
import * as api from '../api.js';
import { createLiveView } from '../live/view.js';
import { createRecordingSettings } from '../recording-settings.js';
import { createMotionSettings } from '../motion-settings.js';
import { createTalkControls, canTalk } from '../talk/controls.js';
import { createQuickReplies } from '../quick-replies.js';
import { poller, devicePath, statusBadge, statList, lastSeenText, powerText, signalText,
  temperatureText, removeDevice, batteryChip } from '../device-ui.js';

const TALK_AFTER_MS = 1500;

export function mount(main, ctx) {
  const id = ctx.params.id;
  let device = null;
  let talk = null;
  let stopped = false;
  const talkSlot = h('div', { class: 'card card-flush talk-card', hidden: true, 'data-testid': 'talk-card' });

  const title = h('h1', { class: 'detail-title', 'data-testid': 'device-name', text: 'Doorbell' });
  const badge = statusBadge();
  const battery = batteryChip();
  const seen = h('p', { class: 'page-sub muted', 'data-testid': 'device-last-seen' });
  const live = createLiveView({ deviceId: id });
  const liveCard = h('div', { class: 'card card-flush live-card-player', 'data-testid': 'live-view' }, live.el);
  const recordingsLink = h('a', { class: 'btn btn-secondary', href: `#/devices/${encodeURIComponent(id)}/recordings`, 'data-testid': 'device-recordings' },
    icon('history'), h('span', { class: 'btn-label', text: 'Recordings' }));
  const removeBtn = ctx.isAdmin ? button('Remove', { icon: 'trash', variant: 'btn-secondary btn-danger-text', 'data-testid': 'device-remove' }) : null;
  const status = statList('stats stats-rows');
  const telemetry = statList('stats stats-rows');
  const video = statList('stats stats-rows');
  const recording = createRecordingSettings({ deviceId: id, editable: ctx.isAdmin });
  const encoders = ctx.isAdmin ? encoderSettings(id) : null;
  const quickReplies = createQuickReplies({ deviceId: id, isAdmin: ctx.isAdmin });
  // A reply speaks through the doorbell: shown, like the talk controls, only
  // to those with the talk right on it.
  const repliesSection = section('Quick replies', 'volume', quickReplies.el);
  repliesSection.hidden = true;

  if (removeBtn) {
    removeBtn.addEventListener('click', async () => {
      if (await removeDevice(device)) ctx.navigate('/devices', { replace: true });
    });
  }

  const body = h('div', { class: 'detail', hidden: true, 'data-testid': 'device-detail' },
    h('div', { class: 'detail-main' },
      liveCard,
      talkSlot,
      repliesSection,
      motionSection(createMotionSettings({ deviceId: id, editable: ctx.isAdmin }).el)),
    h('div', { class: 'detail-side' },
      section('Status', 'info', status.el),
      section('Telemetry', 'thermometer', telemetry.el),
      section('Video stream', 'video', video.el),
      encoders && section('Encoders', 'video', encoders.el),
      section('Recording', 'history', recording.el)));

  const missing = h('div', { class: 'empty', hidden: true, 'data-testid': 'device-missing' },
    h('div', { class: 'empty-art' }, icon('doorbell', 'empty-icon')),
    h('h2', { text: 'Doorbell not found' }),
    h('p', { class: 'muted', text: 'It may have been removed, or it is not shared with your account.' }),
    h('a', { class: 'btn btn-primary', href: '#/devices' }, h('span', { class: 'btn-label', text: 'Back to doorbells' })));

  const loading = h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading doorbell…' }));

  main.append(h('section', { class: 'page' },
    h('a', { class: 'back-link', href: '#/devices' }, icon('chevron-left'), h('span', { text: 'Doorbells' })),
    h('div', { class: 'page-head' },
      h('div', { class: 'detail-head' }, h('div', { class: 'title-row' }, title, badge.el, battery.el), seen),
      h('div', { class: 'page-actions' }, recordingsLink, removeBtn)),
    loading, body, missing));
  badge.el.hidden = true;
  recordingsLink.hidden = true;
  if (removeBtn) removeBtn.hidden = true;

  function render(d, now = api.serverNow()) {
    device = d;
    loading.remove();
    body.hidden = false;
    missing.hidden = true;
    badge.el.hidden = false;
    // What the user's rights on this doorbell allow (docs/security.md "Rights").
    const rights = d.rights || { live: true, recordings: true };
    recordingsLink.hidden = !rights.recordings;
    liveCard.hidden = !rights.live;
    if (!rights.live) live.stop();
    if (removeBtn) removeBtn.hidden = false;
    const name = d.name || d.id;
    if (title.textContent !== name) { title.textContent = name; ctx.setTitle(name); }
    badge.update(d.online);
    battery.update(d);
    live.setOffline(!d.online);
    updateTalk(d);
    if (d.snapshot_at && rights.live) live.setPoster(`${devicePath(d.id)}/snapshot.jpg?t=${encodeURIComponent(d.snapshot_at)}`);
    const t = d.telemetry || {};
    const v = d.video || {};
    status.set([
      ['State', d.online ? 'Online' : 'Offline', 'detail-state'],
      ['Connected for', d.online && d.connected_since ? fmtDuration((now - d.connected_since) / 1000) : DASH, 'detail-connected'],
      ['Last seen', d.last_seen_at ? fmtAgo(d.last_seen_at, now) : DASH, 'detail-last-seen'],
      ['Address', d.remote_address || DASH],
      ['Firmware', d.firmware || DASH, 'detail-firmware'],
      ['Device ID', d.id, 'detail-id'],
    ]);
    telemetry.set([
      ['Temperature', temperatureText(t), 'detail-temperature'],
      ['Uptime', typeof t.uptime_s === 'number' ? fmtDuration(t.uptime_s) : null, 'detail-uptime'],
      ['Power', powerText(t), 'detail-power'],
      ['Network', signalText(t), 'detail-signal'],
    ].filter((row) => row[1] !== null).concat(t.uptime_s === undefined ? [['Reported', 'Nothing yet', 'detail-telemetry-none']] : []));
    video.set([
      ['Resolution', fmtResolution(v), 'detail-resolution'],
      ['Frame rate', d.online ? fmtFps(v.fps) : DASH, 'detail-fps'],
      ['Bitrate', d.online ? fmtBitrate(v.bitrate_kbps) : DASH, 'detail-bitrate'],
      ['Frames', fmtInt(v.frames), 'detail-frames'],
      ['Keyframes', fmtInt(v.keyframes), 'detail-keyframes'],
      ['Last keyframe', v.last_keyframe_at ? fmtAgo(v.last_keyframe_at, now) : DASH],
      ['Gaps', fmtInt(v.gaps), 'detail-gaps'],
      ['Duplicates', fmtInt(v.duplicates)],
      ['Reordered', fmtInt(v.reordered)],
      ['Low stream', subStreamText(d), 'detail-sub-stream'],
    ]);
    if (encoders) encoders.update(d);
    tick(now);
  }

  // Talk controls while the user may talk to this doorbell (the right can
  // be granted or withdrawn while the page is open). Their socket opens
  // after the first picture (or TALK_AFTER_MS): opening live view comes
  // first, and on a busy hub a second TLS handshake beside it delays it.
  const pictureOrTimeout = Promise.race([live.firstPicture, new Promise((resolve) => setTimeout(resolve, TALK_AFTER_MS))]);
  async function updateTalk(d) {
    const allowed = await canTalk(d, ctx.isAdmin);
    if (allowed && !talk) await pictureOrTimeout;
    if (stopped) return;
    if (allowed && !talk) {
      talk = createTalkControls({ deviceId: id, name: d.name || d.id, isAdmin: ctx.isAdmin, variant: 'full', keyboard: true });
      talkSlot.replaceChildren(talk.el);
    } else if (!allowed && talk) {
      talk.stop();
      talk = null;
      talkSlot.replaceChildren();
    }
    talkSlot.hidden = !talk;
    repliesSection.hidden = !allowed;
  }

  function tick(now) {
    if (device) seen.textContent = lastSeenText(device, now);
  }

  function showMissing() {
    loading.remove();
    device = null;
    body.hidden = true;
    badge.el.hidden = true;
      if (removeBtn) removeBtn.hidden = true;
    seen.textContent = '';
    title.textContent = 'Doorbell';
    missing.hidden = false;
    live.stop();
    if (talk) { talk.stop(); talk = null; talkSlot.replaceChildren(); talkSlot.hidden = true; }
  }

  const poll = poller(async (signal) => {
    try {
      render(await api.get(devicePath(id), { signal }));
    } catch (e) {
      if (e instanceof api.ApiError && e.status === 404) showMissing();
      else throw e;
    }
  }, 2000);
  recording.load();
  quickReplies.load();
  const ticker = setInterval(() => tick(api.serverNow()), 1000);
  return () => {
    stopped = true;
    poll.stop();
    clearInterval(ticker);
    live.stop();
    if (talk) talk.stop();
    quickReplies.stop();
  };
}

// The sub-stream in one line: its format, whether it runs, its viewers.
function subStreamText(d) {
  const sub = d.streams && d.streams.sub;
  if (!sub || !sub.available) return 'None';
  const viewers = sub.viewers === 1 ? '1 viewer' : `${sub.viewers} viewers`;
  return `${sub.width}×${sub.height} at ${sub.fps} fps, ${sub.on ? `on, ${viewers}` : 'off (no viewer)'}`;
}

// Admins: the bitrate of each encoder of the doorbell. The main stream is
// the recording (and the live view's High); the sub-stream is Low.
function encoderSettings(deviceId) {
  const row = (stream, label, hint) => {
    const input = h('input', { type: 'number', name: `${stream}_bitrate`, min: '300', max: '20000', step: '50', required: true,
      inputmode: 'numeric', 'data-testid': `encoder-${stream}-bitrate` });
    const apply = button('Apply', { variant: 'btn-secondary btn-sm', 'data-testid': `encoder-${stream}-apply` });
    apply.type = 'submit';
    const form = h('form', { class: 'encoder-row', novalidate: true }, field(label, input, hint), apply);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      busy(apply, async () => {
        try {
          await api.post(`${devicePath(deviceId)}/video`, { stream, bitrate_kbps: Number(input.value) });
          toast(`${label}: ${input.value} kbit/s requested`, 'success', 2500);
        } catch (error) {
          if (!error.handled) {
            toast(error instanceof api.ApiError && error.status === 409 ? 'The doorbell is offline.'
              : `Could not change the encoder: ${error.message}`, 'error');
          }
        }
      });
    });
    return { form, input };
  };
  const main = row('main', 'Main stream (kbit/s)', 'Recorded 24/7 and shown as High.');
  const sub = row('sub', 'Low stream (kbit/s)', 'Shown as Low, in the grid and on phones.');
  const el = h('div', { class: 'encoder-settings', 'data-testid': 'encoder-settings' }, main.form, sub.form);
  return {
    el,
    update(d) {
      const s = d.streams || {};
      if (s.main && s.main.bitrate_kbps) main.input.placeholder = `now ${Math.round(s.main.bitrate_kbps)}`;
      sub.form.hidden = !(s.sub && s.sub.available);
    },
  };
}

// Motion settings, folded: their zone editor shows the snapshot, and the page
// shows one picture (the live view) until someone opens them to edit zones.
function motionSection(content) {
  return h('section', { class: 'card panel' },
    h('details', { class: 'fold', 'data-testid': 'motion-fold' },
      h('summary', { class: 'section-title fold-summary' }, icon('video'), h('span', { text: 'Motion detection and zones' }),
        h('span', { class: 'fold-hint muted small', text: 'Sensitivity, zones, privacy masks' })),
      content));
}

function section(title, iconName, content) {
  return h('section', { class: 'card panel' },
    h('h2', { class: 'section-title' }, icon(iconName), h('span', { text: title })),
    content);
}
