// Hub settings made in the web UI: the storage limits and the indoor chime
// (/api/v1/settings/...), checked like the config file, admins only, kept
// across a restart and winning over the flags; the budget set from the API
// is what retention enforces at once; the chime test plays on an ALSA file
// device; a notification target's quiet hours hold back what they should.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, sleep, waitFor, tempDir } from '../lib/harness.mjs';
import { NotifyReceiver, verifyStandardWebhook } from '../lib/notify-receiver.mjs';

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

// A hub (extra flags) with an admin, stopped and removed after the file.
async function startHub(extra = []) {
  const data = tempDir('doorstep-settings-');
  const hub = await Hub.start({ dataDir: join(data.dir, 'hub'), extra });
  const admin = await hub.admin();
  const context = { hub, admin, data, doorbell: null };
  cleanups.push(async () => {
    if (context.doorbell) await context.doorbell.stop();
    await hub.stop();
    data.cleanup();
  });
  return context;
}

// An asoundrc with a PCM that writes what it plays to a raw file.
function fileDevice(dir, name) {
  const output = join(dir, `${name}.raw`);
  const asoundrc = join(dir, 'asoundrc');
  writeFileSync(asoundrc, `pcm.${name} { type file; slave.pcm "null"; file "${output}"; format "raw" }\n`);
  return { output, asoundrc };
}

test('settings API: bad values are 400, viewers get 403, values survive a restart and win over the flags', async () => {
  const { hub, admin } = await startHub(['--storage-budget', '64M', '--min-free', '1M']);
  const storage = (await admin.api('GET', '/api/v1/settings/storage')).json;
  assert.equal(storage.budget_bytes, 64 * 1024 * 1024, 'the flag is the default');
  assert.equal(storage.min_free_bytes, 1024 * 1024);
  assert.equal(storage.set_in_ui.budget, false);
  assert.ok(storage.disk_total_bytes > 0 && storage.disk_free_bytes > 0 && storage.disk_free_bytes <= storage.disk_total_bytes);
  assert.equal(typeof storage.used_bytes, 'number');

  const disk = storage.disk_total_bytes;
  for (const body of [
    { budget_bytes: -1 }, { budget_bytes: 'lots' }, { budget_bytes: 1.5 }, { min_free_bytes: -5 },
    { budget_bytes: disk + 1024 }, { min_free_bytes: disk + 1024 }, { budget_bytes: true },
  ]) {
    const response = await admin.api('PUT', '/api/v1/settings/storage', { json: body });
    assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.status} ${response.body}`);
    assert.match(response.json.message ?? response.body.toString(), /./);
  }
  for (const body of [
    { enabled: 'yes' }, { device: 'a b' }, { device: 'x"}' }, { device: '' }, { device: 'file:out.raw,raw' }, { device: 'x/../y' }, { device: 'd'.repeat(300) },
    { volume: 101 }, { volume: -1 }, { volume: 5.5 }, { device: 7 },
  ]) {
    const response = await admin.api('PUT', '/api/v1/settings/chime', { json: body });
    assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.status} ${response.body}`);
  }

  hub.cli(['user', 'add', 'guest', '--role', 'viewer'], 'a viewer password 123\na viewer password 123\n');
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('guest', 'a viewer password 123')).status, 200);
  for (const [method, path, json] of [
    ['GET', '/api/v1/settings/storage'], ['PUT', '/api/v1/settings/storage', { budget_bytes: 1 }],
    ['GET', '/api/v1/settings/chime'], ['PUT', '/api/v1/settings/chime', { enabled: true }],
    ['POST', '/api/v1/settings/chime/test'],
  ]) {
    assert.equal((await viewer.api(method, path, json ? { json } : {})).status, 403, `${method} ${path}`);
  }

  const budget = 5 * 1024 * 1024 * 1024;
  let response = await admin.api('PUT', '/api/v1/settings/storage', { json: { budget_bytes: Math.min(budget, disk), min_free_bytes: null } });
  assert.equal(response.status, 200, response.body.toString());
  assert.equal(response.json.budget_bytes, Math.min(budget, disk));
  assert.equal(response.json.min_free_bytes, null, 'automatic');
  assert.ok(response.json.min_free_effective_bytes > 0);
  response = await admin.api('PUT', '/api/v1/settings/chime', { json: { enabled: true, device: 'plughw:7,0', volume: 40 } });
  assert.equal(response.status, 200, response.body.toString());
  assert.deepEqual([response.json.enabled, response.json.device, response.json.volume], [true, 'plughw:7,0', 40]);
  const names = response.json.devices.map((device) => device.name);
  assert.ok(names.includes('default') && names.includes('plughw:7,0'), names.join(' '));

  await hub.stop();
  await hub.launch();
  const again = await hub.admin();
  const kept = (await again.api('GET', '/api/v1/settings/storage')).json;
  assert.equal(kept.budget_bytes, Math.min(budget, disk), 'the UI value wins over --storage-budget');
  assert.equal(kept.min_free_bytes, null);
  assert.equal(kept.set_in_ui.budget, true);
  assert.equal(kept.defaults.budget_bytes, 64 * 1024 * 1024);
  const chime = (await again.api('GET', '/api/v1/settings/chime')).json;
  assert.deepEqual([chime.enabled, chime.device, chime.volume, chime.set_in_ui], [true, 'plughw:7,0', 40, true]);
  assert.ok(hub.log.some((line) => /indoor chime on plughw:7,0 at 40 %/.test(line)), 'applied at start');

  // No budget again: null.
  response = await again.api('PUT', '/api/v1/settings/storage', { json: { budget_bytes: null } });
  assert.equal(response.status, 200);
  assert.equal(response.json.budget_bytes, null);
});

test('a storage budget set from the API is what retention enforces, at once: oldest segments go', async () => {
  const context = await startHub(['--segment-seconds', '2']);
  const { hub, admin } = context;
  const device = hub.addDevice('Porch');
  context.doorbell = await Doorbell.start({ hub, ...device, fps: 30, bitrate: 1000, extra: ['--keyframe-interval', '30'] });
  const recordings = async () => (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
  const used = (rows) => rows.reduce((sum, row) => sum + row.bytes, 0);

  // Record well past the budget to come, with no budget yet.
  const budget = 1024 * 1024;
  let before = [];
  await waitFor(async () => {
    before = (await recordings()).filter((row) => !row.recording);
    return used(before) > 2 * budget;
  }, { timeout: 60000, what: `over ${2 * budget} bytes recorded` });
  const oldest = before[0].start_ms;

  const response = await admin.api('PUT', '/api/v1/settings/storage', { json: { budget_bytes: budget } });
  assert.equal(response.status, 200, response.body.toString());
  let rows = [];
  await waitFor(async () => {
    rows = await recordings();
    return used(rows) <= budget;
  }, { timeout: 15000, what: `recordings within the ${budget}-byte budget` }).catch((error) => {
    throw new Error(`${error.message}: ${used(rows)} bytes in ${rows.length} segments`);
  });
  assert.ok(!rows.some((row) => row.start_ms === oldest), 'the oldest segment went');
  const kept = new Set(rows.map((row) => row.start_ms));
  const deleted = before.filter((row) => !kept.has(row.start_ms));
  assert.ok(deleted.length >= 1);
  assert.ok(Math.max(...deleted.map((row) => row.start_ms)) < Math.min(...rows.map((row) => row.start_ms)), 'oldest first');
  assert.equal((await admin.api('GET', '/api/v1/storage')).json.budget_bytes, budget, 'retention reports the new budget');
});

test('the chime: turned on from the API it rings on an ALSA file device; the test plays once, then 429', async () => {
  const dir = tempDir('doorstep-chime-');
  cleanups.push(() => dir.cleanup());
  const { output, asoundrc } = fileDevice(dir.dir, 'doorstep_chime');
  const { admin } = await startHub(['--alsa-config', asoundrc]);
  const initial = (await admin.api('GET', '/api/v1/settings/chime')).json;
  assert.deepEqual([initial.enabled, initial.device, initial.set_in_ui], [false, 'default', false], 'off without --chime-device');

  const set = await admin.api('PUT', '/api/v1/settings/chime', { json: { enabled: true, device: 'doorstep_chime', volume: 50 } });
  assert.equal(set.status, 200, set.body.toString());
  assert.equal(existsSync(output), false, 'silent until asked');
  const played = await admin.api('POST', '/api/v1/settings/chime/test');
  assert.equal(played.status, 202, played.body.toString());
  assert.equal(played.json.device, 'doorstep_chime');
  assert.equal((await admin.api('POST', '/api/v1/settings/chime/test')).status, 429, 'rate-limited');
  const frames = 48000 * 8 / 10;
  await waitFor(() => existsSync(output) && statSync(output).size >= frames * 2, { timeout: 15000, what: 'the test chime written' });
  const pcm = readFileSync(output);
  let peak = 0;
  for (let i = 0; i < frames; i++) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i * 2)));
  assert.ok(peak > 1000 && peak <= 32767 / 2 + 1, `audible at half volume (peak ${peak})`);
});

test('quiet hours: "nothing" holds every notification back, "rings only" lets rings through, outside them all arrive', async () => {
  const context = await startHub();
  const { hub, admin } = context;
  const server = await NotifyReceiver.start();
  cleanups.push(() => server.close());
  const device = hub.addDevice('Front door');
  const add = async (body) => {
    const response = await admin.api('POST', '/api/v1/notifications/targets', { json: body });
    assert.equal(response.status, 201, response.body.toString());
    return { ...response.json.target, secret: response.json.secret };
  };
  const everyDay = [0, 1, 2, 3, 4, 5, 6];
  for (const quiet_hours of [{ mode: 'loud', days: everyDay, from: '22:00', to: '07:00' }, { mode: 'nothing' },
    { mode: 'nothing', days: [9], from: '22:00', to: '07:00' }, { mode: 'off', days: everyDay, from: '22:00', to: '07:00' }, 'always']) {
    const response = await admin.api('POST', '/api/v1/notifications/targets', { json: { name: 'x', kind: 'webhook', url: `${server.url}/x`, quiet_hours } });
    assert.equal(response.status, 400, `${JSON.stringify(quiet_hours)}: ${response.body}`);
  }
  const types = ['ring', 'pir'];
  const control = await add({ name: 'Always', kind: 'webhook', url: `${server.url}/always`, event_types: types });
  // from == to: the whole day, every day.
  const quiet = await add({ name: 'Night', kind: 'webhook', url: `${server.url}/quiet`, event_types: types,
    quiet_hours: { mode: 'nothing', days: everyDay, from: '00:00', to: '00:00' } });
  assert.deepEqual(quiet.quiet_hours, { mode: 'nothing', days: everyDay, from: '00:00', to: '00:00' });
  const listed = (await admin.api('GET', `/api/v1/notifications/targets/${quiet.id}`)).json;
  assert.deepEqual((listed.target ?? listed).quiet_hours, quiet.quiet_hours);
  assert.equal((await admin.api('PUT', '/api/v1/mode', { json: { mode: 'away' } })).status, 200, 'away: motion notifies');

  const typesOf = (path, secret) => server.to(path).map((entry) => verifyStandardWebhook(entry, secret).type);
  context.doorbell = await Doorbell.start({ hub, ...device });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json?.online, { what: 'the doorbell online' });

  // Both targets are queued together: once the control has it, the quiet one never will.
  assert.equal(await context.doorbell.control('press'), 'ok');
  await waitFor(() => typesOf('/always', control.secret).length === 1, { what: 'the ring at the control target' });
  assert.deepEqual(typesOf('/quiet', quiet.secret), [], 'nothing during quiet hours');

  let response = await admin.api('PUT', `/api/v1/notifications/targets/${quiet.id}`,
    { json: { quiet_hours: { mode: 'rings_only', days: everyDay, from: '00:00', to: '00:00' } } });
  assert.equal(response.status, 200, response.body.toString());
  assert.equal(await context.doorbell.control('pir'), 'ok');
  await waitFor(() => typesOf('/always', control.secret).includes('event.pir'), { what: 'the motion at the control target' });
  assert.equal(await context.doorbell.control('press'), 'ok');
  await waitFor(() => typesOf('/quiet', quiet.secret).length === 1, { what: 'the ring during "rings only"' });
  await waitFor(() => typesOf('/always', control.secret).length === 3, { what: 'the second ring at the control target' });
  assert.deepEqual(typesOf('/quiet', quiet.secret), ['event.ring'], 'rings only: no motion');

  // Quiet hours that are not now (two hours from now, hub local time = ours).
  const at = (hours) => {
    const date = new Date(Date.now() + hours * 3600 * 1000);
    return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  };
  response = await admin.api('PUT', `/api/v1/notifications/targets/${quiet.id}`,
    { json: { quiet_hours: { mode: 'nothing', days: everyDay, from: at(2), to: at(3) } } });
  assert.equal(response.status, 200, response.body.toString());
  assert.equal(await context.doorbell.control('press'), 'ok');
  await waitFor(() => typesOf('/quiet', quiet.secret).length === 2, { what: 'the ring outside quiet hours' });

  response = await admin.api('PUT', `/api/v1/notifications/targets/${quiet.id}`, { json: { quiet_hours: null } });
  assert.equal(response.status, 200);
  assert.equal((response.json.target ?? response.json).quiet_hours, null);
});
