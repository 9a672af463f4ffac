// Live grid (#/live): one compact live player per doorbell this user may
// see, in a responsive grid; a click on a tile opens that doorbell's page.
// The list is refreshed every 5 s (tiles come and go with the doorbells);
// every player stops when the page is left. Tiles of doorbells the user
// may talk to carry compact talk-back controls (js/talk/controls.js) and a
// quick-reply menu (js/quick-replies.js).

import { h, icon, replace } from '../ui.js';
import * as api from '../api.js';
import { poller, devicePath } from '../device-ui.js';
import { createLiveView } from '../live/view.js';
import { createTalkControls, canTalk } from '../talk/controls.js';
import { replyMenu } from '../quick-replies.js';

export function mount(main, ctx) {
  const tiles = new Map();   // id -> { el, view, name }
  const grid = h('div', { class: 'live-grid', 'data-testid': 'live-grid' });
  const empty = h('div', { class: 'empty', hidden: true, 'data-testid': 'live-empty' });
  const summary = h('p', { class: 'page-sub muted', 'aria-live': 'polite' });
  const loading = h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: 'Loading doorbells…' }));

  main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Live' }), summary)),
    loading, grid, empty));

  async function load(signal) {
    const data = await api.get('/api/v1/devices', { signal });
    const devices = ((data && data.devices) || []).filter((d) => !d.rights || d.rights.live);
    loading.remove();
    const seen = new Set();
    devices.forEach((d, i) => {
      seen.add(d.id);
      let tile = tiles.get(d.id);
      if (!tile) { tile = liveTile(d, ctx); tiles.set(d.id, tile); }
      if (grid.children[i] !== tile.el) grid.insertBefore(tile.el, grid.children[i] || null);
      tile.update(d);
    });
    for (const [id, tile] of tiles) {
      if (!seen.has(id)) { tile.stop(); tile.el.remove(); tiles.delete(id); }
    }
    const online = devices.filter((d) => d.online).length;
    summary.textContent = devices.length ? `${devices.length} doorbell${devices.length === 1 ? '' : 's'} · ${online} online` : '';
    empty.hidden = devices.length > 0;
    if (!empty.hidden && !empty.childElementCount) {
      replace(empty,
        h('div', { class: 'empty-art' }, icon('video', 'empty-icon')),
        h('h2', { text: 'Nothing to watch yet' }),
        h('p', { class: 'muted', text: ctx.isAdmin ? 'Add a doorbell on the Doorbells page to watch it here.'
          : 'No doorbells are shared with your account yet.' }));
    }
  }

  const poll = poller(load, 5000);
  return () => {
    poll.stop();
    for (const tile of tiles.values()) tile.stop();
    tiles.clear();
  };
}

function liveTile(device, ctx) {
  const view = createLiveView({ deviceId: device.id, compact: true, name: device.name });
  const name = h('span', { class: 'live-tile-name' });
  const href = `#/devices/${encodeURIComponent(device.id)}`;
  const link = h('a', { class: 'live-tile-link', href },
    view.el, h('div', { class: 'live-tile-foot' }, name, icon('chevron-left', 'live-tile-go')));
  const el = h('div', { class: 'live-tile card', 'data-testid': 'live-tile', 'data-device-id': device.id }, link);
  link.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    ctx.navigate(`/devices/${encodeURIComponent(device.id)}`);
  });
  let talk = null;
  let replies = null;
  let stopped = false;
  async function updateTalk(d) {
    const allowed = await canTalk(d, ctx.isAdmin);
    if (stopped) return;
    if (allowed && !talk) {
      talk = createTalkControls({ deviceId: d.id, name: d.name || d.id, isAdmin: ctx.isAdmin, variant: 'compact' });
      replies = replyMenu(d.id);
      el.append(talk.el, replies);
    } else if (!allowed && talk) {
      talk.stop();
      talk.el.remove();
      replies.remove();
      talk = null;
      replies = null;
    }
  }
  return {
    el,
    stop() {
      stopped = true;
      view.stop();
      if (talk) talk.stop();
    },
    update(d) {
      const text = d.name || d.id;
      if (name.textContent !== text) name.textContent = text;
      link.setAttribute('aria-label', `${text}: open the doorbell`);
      el.classList.toggle('is-offline', !d.online);
      view.setOffline(!d.online);
      if (d.snapshot_at) view.setPoster(`${devicePath(d.id)}/snapshot.jpg?t=${encodeURIComponent(d.snapshot_at)}`);
      updateTalk(d);
    },
  };
}
