// Events and what notifies: rings and PIR from the real doorbell become
// events, and so do its going offline and coming back; the hub's mode and
// the per-doorbell cooldowns decide which of them notify (events.notify),
// through the mode and event-settings routes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';

const data = tempDir('doorstep-events-');
let hub, admin, device, doorbell;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--offline-event-seconds', '2'] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 15 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'online' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// Trigger one event with a control command; resolves with the new event.
async function trigger(command) {
  const before = (await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=500`)).json.pagination.total;
  assert.equal(await doorbell.control(command), 'ok');
  let newest;
  await waitFor(async () => {
    const list = (await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=1`)).json;
    newest = list.events[0];
    return list.pagination.total === before + 1 && newest.notify !== '';
  }, { what: `the ${command} event` });
  return newest;
}

test('the mode decides which types notify; cooldowns hold back repeats', async () => {
  assert.deepEqual((await admin.api('GET', '/api/v1/mode')).json, { mode: 'home' });
  const ring = await trigger('press');
  assert.equal(ring.event_type, 'ring');
  assert.equal(ring.notify, 'sent');
  assert.equal((await trigger('pir')).notify, 'mode', 'at home, motion does not notify');

  assert.equal((await admin.api('PUT', '/api/v1/mode', { json: { mode: 'away' } })).json.mode, 'away');
  assert.equal((await trigger('pir')).notify, 'sent');
  assert.equal((await trigger('pir')).notify, 'cooldown', 'a second PIR within 60 s is held back');
  assert.equal((await trigger('press')).notify, 'sent', 'rings have no cooldown');

  const settings = await admin.api('PUT', `/api/v1/devices/${device.id}/event-settings`, { json: { cooldowns: { pir: 0 } } });
  assert.equal(settings.status, 200);
  assert.equal(settings.json.cooldowns.pir, 0);
  assert.equal(settings.json.cooldowns.motion, 60);
  assert.equal((await trigger('pir')).notify, 'sent', 'no cooldown once set to 0');

  await admin.api('PUT', '/api/v1/mode', { json: { mode: 'disarmed' } });
  assert.equal((await trigger('press')).notify, 'mode', 'disarmed: even a ring is only recorded');
  await admin.api('PUT', '/api/v1/mode', { json: { mode: 'home' } });
});

test('bad mode and cooldown requests are refused and change nothing', async () => {
  assert.equal((await admin.api('PUT', '/api/v1/mode', { json: { mode: 'party' } })).status, 400);
  assert.equal((await admin.api('PUT', '/api/v1/mode', { json: {} })).status, 400);
  const path = `/api/v1/devices/${device.id}/event-settings`;
  for (const cooldowns of [{ pir: -1 }, { pir: 1.5 }, { pir: '5' }, { nonsense: 5 }, { motion: 5, pir: 99999 }]) {
    assert.equal((await admin.api('PUT', path, { json: { cooldowns } })).status, 400, JSON.stringify(cooldowns));
  }
  assert.equal((await admin.api('GET', path)).json.cooldowns.motion, 60, 'all or nothing');
  assert.equal((await admin.api('PUT', path, { json: { other: 1 } })).status, 400);
  assert.equal((await new Client(hub.url).request('GET', '/api/v1/mode')).status, 401);

  hub.cli(['user', 'add', 'guest', '--role', 'viewer'], 'a viewer password 123\na viewer password 123\n');
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('guest', 'a viewer password 123')).status, 200);
  assert.equal((await viewer.api('GET', '/api/v1/mode')).status, 200);
  assert.equal((await viewer.api('PUT', '/api/v1/mode', { json: { mode: 'away' } })).status, 403);
  assert.equal((await viewer.api('GET', path)).status, 404, 'a doorbell not shared with the viewer');
});

test('a doorbell offline for offline_event_seconds is an event, once; so is its return', async () => {
  const events = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/events?type=offline,online`)).json.events;
  assert.deepEqual(await events(), []);
  await doorbell.stop();
  await waitFor(async () => (await events()).length === 1, { what: 'the offline event' });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const [offline] = await events();
  assert.equal(offline.event_type, 'offline');
  assert.equal(offline.notify, 'sent', 'at home, offline doorbells are reported');
  assert.equal((await events()).length, 1, 'one event per outage');
  doorbell = await Doorbell.start({ hub, ...device, fps: 15 });
  await waitFor(async () => (await events()).length === 2, { what: 'the online event' });
  const [online] = await events();
  assert.equal(online.event_type, 'online');
  assert.equal(online.notify, 'mode', 'at home, coming back is only recorded');
});

// Open the event feed as client (its cookie); resolves when open, rejects when refused.
function openFeed(client, origin = new URL(hub.url).origin) {
  const headers = { Origin: origin, Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  const socket = new WebSocket(`wss://localhost:${hub.port}/api/v1/events/live`, { headers, rejectUnauthorized: false });
  const messages = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('error', reject);
    socket.once('unexpected-response', (request, response) => reject(new Error(`refused: ${response.statusCode}`)));
  });
}

test('the event feed: each new event reaches the open UIs allowed to see it, and no one else', async () => {
  const feed = await openFeed(admin);
  await assert.rejects(openFeed(new Client(hub.url)), 'no session, no feed');
  await assert.rejects(openFeed(admin, 'https://evil.example'), 'another origin, no feed');
  const guest = new Client(hub.url);
  assert.equal((await guest.login('guest', 'a viewer password 123')).status, 200);
  const guestFeed = await openFeed(guest);

  await new Promise((resolve) => setTimeout(resolve, 300));
  const ring = await trigger('press');
  await waitFor(() => feed.messages.some((m) => m.event.event_id === ring.event_id), { what: 'the ring on the feed' });
  const pushed = feed.messages.find((m) => m.event.event_id === ring.event_id);
  assert.equal(pushed.type, 'event');
  assert.equal(pushed.event.event_type, 'ring');
  assert.equal(pushed.event.notify, 'sent');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(guestFeed.messages, [], 'a viewer without this doorbell hears nothing of it');
  feed.socket.close();
  guestFeed.socket.close();
});

test('the indoor chime plays the ding-dong on the hub\'s ALSA output when someone rings', async () => {
  const chimeData = tempDir('doorstep-chime-');
  const output = join(chimeData.dir, 'chime.raw');
  const asoundrc = join(chimeData.dir, 'asoundrc');
  writeFileSync(asoundrc, `pcm.doorstep_chime { type file; slave.pcm "null"; file "${output}"; format "raw" }\n`);
  const chimeHub = await Hub.start({ dataDir: join(chimeData.dir, 'hub'), extra: ['--chime-device', 'doorstep_chime', '--alsa-config', asoundrc] });
  const chimeAdmin = await chimeHub.admin();
  const bell = chimeHub.addDevice('Porch');
  const porch = await Doorbell.start({ hub: chimeHub, ...bell, fps: 15 });
  try {
    await waitFor(async () => (await chimeAdmin.api('GET', `/api/v1/devices/${bell.id}`)).json.online, { what: 'online' });
    assert.equal(existsSync(output), false, 'silent until someone rings');
    assert.equal(await porch.control('press'), 'ok');
    const frames = 48000 * 8 / 10; // the ding-dong: 0.8 s of mono 48 kHz
    await waitFor(() => existsSync(output) && readFileSync(output).length >= frames * 2, { timeout: 10000, what: 'the chime played' });
    const pcm = readFileSync(output);
    let crossings = 0, energy = 0;
    for (let i = 1; i < frames; i++) {
      const value = pcm.readInt16LE(i * 2);
      energy += value * value;
      if ((pcm.readInt16LE((i - 1) * 2) < 0) !== (value < 0)) crossings++;
    }
    const rms = Math.sqrt(energy / frames);
    const hz = crossings / 2 / 0.8;
    assert.ok(rms > 1000, `the chime is audible (rms ${rms.toFixed(0)})`);
    assert.ok(hz > 500 && hz < 700, `a ding-dong between C5 and E5 (${hz.toFixed(0)} Hz)`);
  } finally {
    await porch.stop();
    await chimeHub.stop();
    chimeData.cleanup();
  }
});

test('the motion schedule: outside it a doorbell\'s motion is no event at all; rings are not affected', async () => {
  const path = `/api/v1/devices/${device.id}/event-settings`;
  await admin.api('PUT', '/api/v1/mode', { json: { mode: 'away' } });
  assert.equal((await admin.api('GET', path)).json.motion_schedule, null, 'always, by default');
  // A window that excludes now: every day, starting two hours from now for one hour.
  const now = new Date();
  const hhmm = (date) => `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  const window = { days: [0, 1, 2, 3, 4, 5, 6], from: hhmm(new Date(now.getTime() + 2 * 3600e3)), to: hhmm(new Date(now.getTime() + 3 * 3600e3)) };
  const saved = await admin.api('PUT', path, { json: { motion_schedule: window } });
  assert.equal(saved.status, 200, JSON.stringify(saved.json));
  assert.deepEqual(saved.json.motion_schedule, window);
  const total = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=1`)).json.pagination.total;
  const before = await total();
  assert.equal(await doorbell.control('pir'), 'ok');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await total(), before, 'no motion event outside the schedule');
  assert.equal((await trigger('press')).event_type, 'ring', 'a ring is always an event');

  for (const bad of [{ days: [] }, { days: [7], from: '00:00', to: '01:00' }, { days: [1], from: '25:00', to: '01:00' }, 'always']) {
    assert.equal((await admin.api('PUT', path, { json: { motion_schedule: bad } })).status, 400, JSON.stringify(bad));
  }
  assert.equal((await admin.api('PUT', path, { json: { motion_schedule: null } })).json.motion_schedule, null);
  assert.equal((await trigger('pir')).event_type, 'pir', 'always again');
  await admin.api('PUT', '/api/v1/mode', { json: { mode: 'home' } });
});

test('a low battery is an event once per discharge; charging past 25 % re-arms it', async () => {
  const events = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/events?type=low_battery`)).json.events;
  assert.equal(await doorbell.control('battery 40'), 'ok');
  assert.equal(await doorbell.control('battery 15'), 'ok');
  await waitFor(async () => (await events()).length === 1, { what: 'the low_battery event' });
  assert.equal((await events())[0].notify, 'sent', 'at home, a low battery is reported');
  assert.equal(await doorbell.control('battery 9'), 'ok');
  assert.equal(await doorbell.control('battery 20'), 'ok');
  assert.equal(await doorbell.control('battery 10'), 'ok');
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal((await events()).length, 1, 'one event until it is charged past 25 %');
  assert.equal(await doorbell.control('battery 80'), 'ok');
  assert.equal(await doorbell.control('battery 14'), 'ok');
  await waitFor(async () => (await events()).length === 2, { what: 'the next discharge' });
  assert.match(await doorbell.control('battery 101'), /^error/);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}`)).json.telemetry.battery_percent, 14);
  await doorbell.control('battery -1');
});
