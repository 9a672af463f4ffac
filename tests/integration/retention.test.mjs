// Events and retention: event-mode clips with pre-roll (from compressed
// packets) and post-roll; events with snapshots, starring; a small disk
// budget deletes oldest first and never starred footage; the free-space
// floor purges before the disk fills; ENOSPC on a small filesystem is
// survived and recording resumes when space returns.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, sleep, waitFor, tempDir, BUILD, decodeErrors, videoFrameStamps } from '../lib/harness.mjs';
import { requireOrSkip } from '../lib/requirements.mjs';

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

// A hub with one doorbell added (not started), stopped and removed after the file.
async function startHub(extra = [], dataDir = null) {
  const data = dataDir ? { dir: dataDir, cleanup() {} } : tempDir('doorstep-retention-');
  const hub = await Hub.start({ dataDir: data.dir, extra });
  const admin = await hub.admin();
  const device = hub.addDevice('Porch');
  const context = { hub, admin, device, data, doorbell: null };
  cleanups.push(async () => {
    if (context.doorbell) await context.doorbell.stop();
    await hub.stop();
    data.cleanup();
  });
  return context;
}

const recordings = async ({ admin, device }) =>
  (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;

function check(dataDir) {
  const result = spawnSync(join(BUILD, 'doorstep'), ['--data-dir', dataDir, 'check'], { encoding: 'utf8' });
  return { ok: result.status === 0, output: result.stdout + result.stderr };
}

test('events mode: a ring records its pre-roll and post-roll and nothing else; the event has its snapshot', async () => {
  // A clip runs 9-11 s (pre-roll back to a keyframe, post-roll up to the next
  // one): 30 s segments keep it in one file, so "one clip" is what is checked.
  const context = await startHub(['--segment-seconds', '30']);
  const { admin, device, data } = context;
  const settings = await admin.api('PUT', `/api/v1/devices/${device.id}/recording-settings`,
    { json: { mode: 'events', pre_roll_seconds: 5, post_roll_seconds: 4 } });
  assert.equal(settings.status, 200, JSON.stringify(settings.json));
  assert.equal(settings.json.mode, 'events');
  const bad = await admin.api('PUT', `/api/v1/devices/${device.id}/recording-settings`, { json: { pre_roll_seconds: 99 } });
  assert.equal(bad.status, 400);

  // GOP 1 s: the clip must start on the keyframe at or before press - 5 s.
  context.doorbell = await Doorbell.start({ hub: context.hub, ...device, fps: 30, bitrate: 500, extra: ['--keyframe-interval', '30'] });
  await sleep(9000);
  assert.deepEqual(await recordings(context), [], 'nothing is recorded between events');
  const pressedAt = Date.now();
  assert.equal(await context.doorbell.control('press'), 'ok');
  let seen = [];
  await waitFor(async () => {
    seen = await recordings(context);
    return seen.length === 1 && !seen[0].recording;
  }, { timeout: 20000, what: 'the clip closed' }).catch((error) => {
    throw new Error(`${error.message}; recordings: ${JSON.stringify(seen)}`);
  });
  await sleep(3000);
  const rows = await recordings(context);
  assert.equal(rows.length, 1, 'one clip, and nothing after it');
  const [clip] = rows;
  assert.equal(clip.class, 'event');
  assert.ok(clip.start_ms <= pressedAt - 5000 + 100 && clip.start_ms >= pressedAt - 6100 - 100,
    `the clip starts ${pressedAt - clip.start_ms} ms before the press`);
  assert.ok(clip.end_ms >= pressedAt + 4000 - 100, `the clip ends ${clip.end_ms - pressedAt} ms after the press`);

  const files = execFileSync('find', [join(data.dir, 'recordings'), '-name', '*.mp4'], { encoding: 'utf8' }).trim().split('\n');
  assert.equal(files.length, 1, files.join(' '));
  assert.equal(decodeErrors(files[0]), '');
  const stamps = videoFrameStamps(files[0]);
  assert.equal(stamps.length, clip.video_frames);
  for (let i = 1; i < stamps.length; i++) assert.equal(stamps[i].sequence, (stamps[i - 1].sequence + 1) & 0xffff, `frame ${i}`);
  assert.equal(stamps[0].timeMs, clip.start_ms % 2 ** 48, 'the pre-roll starts with the index start');

  // The event: ring, with the snapshot taken at the press, and its clip.
  const events = (await admin.api('GET', `/api/v1/devices/${device.id}/events?from=${pressedAt - 60000}`)).json;
  assert.equal(events.events.length, 1, JSON.stringify(events));
  const [event] = events.events;
  assert.equal(event.event_type, 'ring');
  assert.equal(event.clip_start_ms, event.start_ms - 5000);
  assert.equal(event.clip_end_ms, event.end_ms + 4000);
  assert.ok(Math.abs(event.start_ms - pressedAt) < 1000);
  assert.equal(event.has_snapshot, true);
  const snapshot = await admin.request('GET', event.thumbnail_url);
  assert.equal(snapshot.status, 200);
  assert.equal(snapshot.headers['content-type'], 'image/jpeg');
  const snapshotFile = join(data.dir, 'snapshot.jpg');
  writeFileSync(snapshotFile, snapshot.body);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', snapshotFile], { encoding: 'utf8' }));
  assert.equal(`${probe.streams[0].width}x${probe.streams[0].height}`, '640x360');

  // Starring, filtering, and what a bad request gets.
  const starred = await admin.api('POST', `/api/v1/devices/${device.id}/events/${event.event_id}/star`, { json: { starred: true } });
  assert.equal(starred.status, 200);
  assert.equal(starred.json.starred, true);
  const onlyStarred = (await admin.api('GET', `/api/v1/devices/${device.id}/events?starred=1&type=ring,motion`)).json;
  assert.deepEqual(onlyStarred.events.map((e) => e.event_id), [event.event_id]);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/events?type=pir`)).json.events.length, 0);
  // The seed design's parameter names work too.
  const iso = (ms) => new Date(ms).toISOString();
  const seedShape = (await admin.api('GET', `/api/v1/devices/${device.id}/events?start_time=${iso(pressedAt - 60000)}` +
    `&end_time=${iso(pressedAt + 60000)}&event_type=ring&limit=50&offset=0`)).json;
  assert.deepEqual(seedShape.events.map((e) => e.event_id), [event.event_id]);
  assert.deepEqual(seedShape.pagination, { total: 1, limit: 50, offset: 0, has_more: false });
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/events?end_time=${iso(pressedAt - 60000)}`)).json.events.length, 0);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/events?start_time=yesterday`)).status, 400);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/events?type=x;drop`)).status, 400);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=0`)).status, 400);
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}/events/999999`)).status, 404);
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/events/${event.event_id}/star`, { json: { starred: 'yes' } })).status, 400);
  assert.equal((await admin.api('GET', `/api/v1/devices/nobody/events`)).status, 404);
  assert.equal((await new Client(context.hub.url).request('GET', event.thumbnail_url)).status, 401);
  assert.ok(check(data.dir).ok);
});

test('a small disk budget: oldest first, starred footage kept, usage within the budget, the cut reported', async () => {
  const budget = 3 * 1024 * 1024;
  const context = await startHub(['--segment-seconds', '2', '--storage-budget', String(budget)]);
  const { admin, device, data } = context;
  context.doorbell = await Doorbell.start({ hub: context.hub, ...device, fps: 30, bitrate: 1000, extra: ['--keyframe-interval', '30'] });

  await sleep(6000);
  assert.equal(await context.doorbell.control('press'), 'ok');
  let event;
  await waitFor(async () => {
    [event] = (await admin.api('GET', `/api/v1/devices/${device.id}/events`)).json.events;
    return event !== undefined;
  }, { what: 'the ring event' });
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/events/${event.event_id}/star`, { json: { starred: true } })).status, 200);

  // Watch every segment that ever existed while the budget is exceeded many times over.
  const seen = new Map();
  let worst = 0;
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    const rows = await recordings(context);
    for (const row of rows) seen.set(row.start_ms, row);
    const used = rows.reduce((sum, row) => sum + row.bytes, 0);
    worst = Math.max(worst, used);
    await sleep(500);
  }
  const rows = await recordings(context);
  const kept = new Set(rows.map((row) => row.start_ms));
  const deleted = [...seen.values()].filter((row) => !kept.has(row.start_ms));
  const protectedRow = (row) => row.start_ms < event.clip_end_ms && row.end_ms > event.clip_start_ms;
  assert.ok(deleted.length >= 5, `${deleted.length} segments deleted`);
  assert.ok(deleted.every((row) => !protectedRow(row)), 'no footage of the starred event was deleted');
  const starredFootage = rows.filter(protectedRow);
  assert.ok(starredFootage.length >= 2, 'the starred event keeps its footage');
  assert.ok(starredFootage[0].start_ms <= event.clip_start_ms + 1000 && starredFootage.at(-1).end_ms >= event.clip_end_ms - 1000,
    'the whole clip of the starred event survives');
  const newestDeleted = Math.max(...deleted.map((row) => row.start_ms));
  const oldestKept = Math.min(...rows.filter((row) => !protectedRow(row)).map((row) => row.start_ms));
  assert.ok(newestDeleted < oldestKept, 'oldest first: every deleted segment is older than every unprotected one kept');
  assert.ok(worst <= budget, `usage peaked at ${worst} bytes for a budget of ${budget}`);

  const storage = (await admin.api('GET', '/api/v1/storage')).json;
  assert.equal(storage.budget_bytes, budget);
  const usage = storage.devices.find((d) => d.device_id === device.id);
  assert.equal(usage.retention_cut_short, true);
  assert.ok(usage.bytes <= budget && usage.bytes > 0);
  assert.ok(storage.warnings.length >= 1);

  // Unstarred, the event's footage goes too.
  assert.equal((await admin.api('POST', `/api/v1/devices/${device.id}/events/${event.event_id}/star`, { json: { starred: false } })).status, 200);
  await waitFor(async () => !(await recordings(context)).some(protectedRow), { timeout: 30000, what: 'the unstarred footage deleted' });
  await context.doorbell.stop();
  context.doorbell = null;
  await context.hub.stop();
  assert.ok(check(data.dir).ok, check(data.dir).output);
  await context.hub.launch();
});

const root = process.getuid && process.getuid() === 0;
// Without root: skipped, except under CI=true, where it fails.
test('a filling disk: the free-space floor purges first; ENOSPC is survived and recording resumes', { skip: requireOrSkip(root, 'needs root to mount a tmpfs') }, async () => {
  const data = tempDir('doorstep-enospc-');
  const recordingsDir = join(data.dir, 'recordings');
  mkdirSync(recordingsDir);
  cleanups.push(() => data.cleanup());
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=9m', 'doorstep-test', recordingsDir]);
  cleanups.push(() => { spawnSync('umount', ['-l', recordingsDir]); });
  const context = await startHub(['--segment-seconds', '2', '--min-free', '3M'], data.dir);
  const { admin, device } = context;
  context.doorbell = await Doorbell.start({ hub: context.hub, ...device, fps: 30, bitrate: 1500, extra: ['--keyframe-interval', '30'] });
  const stats = async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.recorder;

  // 1. 1.5 Mbit/s into 9 MiB with a 3 MiB floor: the purge keeps room, no write fails.
  const storageNow = async () => (await admin.api('GET', '/api/v1/storage')).json;
  await waitFor(async () => (await storageNow()).devices[0].retention_cut_short, { timeout: 120000, interval: 1000, what: 'the floor cut retention short' });
  await sleep(5000);
  let recorder = await stats();
  assert.equal(recorder.write_errors, 0, recorder.last_error);
  const storage = await storageNow();
  assert.ok(storage.free_bytes >= 2 * 1024 * 1024, `${storage.free_bytes} bytes free`);

  // 2. Something else fills the disk: writes fail, the hub carries on.
  // The purge frees what it can, so keep taking whatever it frees.
  const filler = join(recordingsDir, 'filler');
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(16 * 1024, 1);
  await waitFor(async () => {
    try { for (;;) writeSync(fd, block); } catch (error) { assert.equal(error.code, 'ENOSPC'); }
    return (await stats()).write_errors > 0;
  }, { timeout: 60000, interval: 200, what: 'a failed write' });
  closeSync(fd);
  recorder = await stats();
  assert.match(recorder.last_error, /space/i);
  assert.equal((await new Client(context.hub.url).request('GET', '/livez')).status, 200);

  // 3. Space returns: so does recording.
  rmSync(filler);
  const freedAt = Date.now();
  await waitFor(async () => (await recordings(context)).some((row) => row.start_ms > freedAt && row.video_frames > 30),
    { timeout: 30000, what: 'recording resumed' });
  assert.ok((await recordings(context)).every((row) => row.recording || row.video_frames > 0), 'failed segments leave no empty rows');
  await context.doorbell.stop();
  context.doorbell = null;
  await context.hub.stop();
  assert.ok(check(data.dir).ok, check(data.dir).output);
  assert.equal(execFileSync('sqlite3', [join(data.dir, 'doorstep.db'), 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim(), 'ok');
  await context.hub.launch();
});
