// The audit log: who logged in (and failed), watched live, played or
// exported which footage, changed which settings, added or removed whom;
// GET /api/v1/audit with its filters (user, action list, device, from/to),
// the id cursor and the total; the CSV export (RFC 4180 quoting,
// spreadsheet formulas neutralised, every page); admins only; its own
// retention (365 days by default, --audit-retention-days) purges old
// entries while video retention, expiring old events, leaves them alone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Client, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';

const PASSWORD = 'correct horse battery staple';
const VIEWER_PASSWORD = 'a viewer password long enough';
const DAY_MS = 24 * 60 * 60 * 1000;
const data = tempDir('doorstep-audit-');
let hub;
let admin;
let device;
let doorbell;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '2'] });
  admin = await hub.admin('admin', PASSWORD);
  const added = await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } });
  assert.equal(added.status, 201);
  device = { id: added.json.device.id, secret: added.json.secret };
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 300 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online,
    { what: 'the doorbell online' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// SQL against the hub's database (WAL; waits for locks).
function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

const audit = async (query = '') => {
  const response = await admin.api('GET', `/api/v1/audit${query}`);
  assert.equal(response.status, 200, response.body.toString());
  return response.json;
};

// The newest entry with this action (and target), or undefined.
const newest = async (action, target) =>
  (await audit(`?action=${action}`)).entries.find((e) => target === undefined || e.target === target);

async function loginAs(username, password) {
  const client = new Client(hub.url);
  const response = await client.login(username, password);
  assert.equal(response.status, 200);
  return client;
}

test('logins, failed logins, setup and device changes are there with who and from where', async () => {
  const failed = await new Client(hub.url).login('admin', 'not the password at all');
  assert.equal(failed.status, 401);
  await loginAs('admin', PASSWORD);
  const setup = await newest('setup_admin');
  assert.equal(setup.username, 'admin');
  const login = await newest('login');
  assert.equal(login.username, 'admin');
  assert.equal(login.address, '127.0.0.1');
  assert.ok(login.user_id > 0);
  const failure = await newest('login_failed');
  assert.equal(failure.username, 'admin');
  assert.equal(failure.user_id, null);
  assert.equal((await newest('device_add', device.id)).detail, 'Front');
});

test('live view, playback and export name the doorbell and the range', async () => {
  const viewer = new LiveViewer(admin, device.id);
  await viewer.opened;
  await waitFor(() => viewer.messages.length > 0, { what: 'live data' });
  viewer.socket.close();
  await viewer.closed;
  const live = await newest('live_view', device.id);
  assert.equal(live.username, 'admin');

  const segment = await waitFor(async () => {
    const rows = (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
    return rows.find((row) => !row.recording);
  }, { what: 'a closed segment', timeout: 60000 });
  const from = segment.start_ms;
  const to = segment.end_ms;
  const played = await admin.api('GET', `/api/v1/devices/${device.id}/playback?from=${from}&to=${to}`);
  assert.equal(played.status, 200);
  assert.equal((await newest('recording_play', device.id)).detail, `from=${from};to=${to}`);
  const exported = await admin.api('GET', `/api/v1/devices/${device.id}/export?from=${from}&to=${to}`);
  assert.equal(exported.status, 200);
  assert.equal((await newest('recording_export', device.id)).detail, `from=${from};to=${to}`);
});

test('settings, modes, notification targets, replies and users are audited', async () => {
  assert.equal((await admin.api('PUT', '/api/v1/mode', { json: { mode: 'away' } })).status, 200);
  assert.ok(await newest('mode_change'));
  const settings = await admin.api('PUT', `/api/v1/devices/${device.id}/recording-settings`,
    { json: { continuous_days: 5 } });
  assert.equal(settings.status, 200, settings.body.toString());
  assert.ok(await newest('recording_settings', device.id));

  const target = await admin.api('POST', '/api/v1/notifications/targets',
    { json: { name: 'Phone', kind: 'ntfy', url: 'https://ntfy.sh', topic: 'doorstep-audit-test' } });
  assert.equal(target.status, 201, target.body.toString());
  assert.ok(await newest('notify_target_add'));
  assert.equal((await admin.api('DELETE', `/api/v1/notifications/targets/${target.json.target.id}`)).status, 204);
  assert.ok(await newest('notify_target_delete'));

  const replies = (await admin.api('GET', '/api/v1/replies')).json.replies;
  if (replies.length > 0) {
    const renamed = await admin.api('PATCH', `/api/v1/replies/${replies[0].id}`, { json: { name: 'Back soon' } });
    assert.equal(renamed.status, 200, renamed.body.toString());
    assert.ok(await newest('reply_rename'));
  }

  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201);
  assert.equal((await newest('user_add')).target, 'vera');
  const viewer = await loginAs('vera', VIEWER_PASSWORD);
  assert.equal((await viewer.api('GET', '/api/v1/audit')).status, 403, 'a viewer may not read the log');
  assert.equal((await viewer.api('GET', '/api/v1/audit.csv')).status, 403);
  assert.equal((await newest('login')).username, 'vera');
  const spare = await admin.api('POST', '/api/v1/users', { json: { username: 'temp', password: VIEWER_PASSWORD, role: 'viewer' } });
  assert.equal((await admin.api('DELETE', `/api/v1/users/${spare.json.id}`)).status, 204);
  assert.ok(await newest('user_delete'));
});

test('filters: user, action list, device, time range; the cursor pages through the total', async () => {
  const all = await audit('?limit=500');
  assert.ok(all.total >= 15, `total ${all.total}`);
  assert.equal(all.entries.length, all.total);
  assert.equal(all.next, null);
  const ids = all.entries.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');

  const vera = await audit('?user=vera');
  assert.ok(vera.entries.length > 0 && vera.entries.every((e) => e.username.toLowerCase() === 'vera'));
  assert.equal((await audit('?user=VERA')).total, vera.total, 'any case');

  const logins = await audit('?action=login,login_failed');
  assert.ok(logins.entries.length >= 3);
  assert.ok(logins.entries.every((e) => e.action === 'login' || e.action === 'login_failed'));
  assert.ok(logins.entries.some((e) => e.action === 'login_failed'));

  const front = await audit(`?device=${device.id}`);
  assert.ok(front.entries.every((e) => e.target === device.id));
  assert.ok(['live_view', 'recording_play', 'recording_export', 'device_add'].every((a) => front.entries.some((e) => e.action === a)));

  const middle = all.entries[Math.floor(all.entries.length / 2)].at;
  const ranged = await audit(`?from=${middle}&to=${middle}`);
  assert.ok(ranged.entries.length >= 1 && ranged.entries.every((e) => e.at === middle));
  assert.ok((await audit(`?to=${middle}`)).entries.every((e) => e.at <= middle));
  assert.ok((await audit(`?from=${middle}`)).entries.every((e) => e.at >= middle));

  const paged = [];
  let cursor = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await audit(`?limit=4${cursor ? `&before=${cursor}` : ''}`);
    assert.ok(page.entries.length <= 4);
    assert.ok(page.total >= all.total);
    paged.push(...page.entries.map((e) => e.id));
    if (page.next === null) break;
    cursor = page.next;
  }
  const newer = paged.filter((id) => id > ids[0]).length; /* entries audited since "all" */
  assert.deepEqual(paged.slice(newer), ids, 'the pages are the whole log, in order');

  for (const bad of ['?limit=0', '?limit=501', '?from=abc', '?action=DROP%20TABLE', '?action=login,,x']) {
    assert.equal((await admin.api('GET', `/api/v1/audit${bad}`)).status, 400, bad);
  }
});

// Parse RFC 4180 CSV (quoted fields, doubled quotes, CRLF).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += c;
  }
  return rows;
}

test('CSV: the same filters, quoting, formulas neutralised, every page', async () => {
  const hostile = '=HYPERLINK("https://evil.example"),"x"';
  await new Client(hub.url).login(hostile, 'wrong password, long enough');
  await new Client(hub.url).login('@sum(1)', 'wrong password, long enough');
  await new Client(hub.url).login('\x1b[31mred', 'wrong password, long enough');
  const response = await admin.api('GET', '/api/v1/audit.csv?action=login_failed');
  assert.equal(response.status, 200);
  assert.match(response.headers['content-type'], /^text\/csv/);
  assert.match(response.headers['content-disposition'], /^attachment; filename="doorstep-audit-\d{8}-\d{6}\.csv"$/);
  const text = response.body.toString();
  assert.ok(text.includes('"\'=HYPERLINK(""https://evil.example""),""x"""'), 'quoted, quotes doubled, prefixed');
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ['id', 'time', 'at_ms', 'user', 'action', 'target', 'detail', 'address']);
  const users = rows.slice(1).map((row) => row[3]);
  assert.ok(users.includes(`'${hostile}`));
  assert.ok(users.includes("'@sum(1)"));
  assert.ok(rows.slice(1).every((row) => row.length === 8 && row[4] === 'login_failed'));
  assert.equal(rows.length - 1, (await audit('?action=login_failed')).total);
  assert.match(rows[1][1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  // More than one page (500) of entries: inserted straight into the table.
  const now = Date.now();
  sql(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
       INSERT INTO audit_log (at, username, action, target, detail) SELECT ${now} - i, 'bulk', 'bulk_test', '', 'row ' || i FROM n`);
  const bulk = await admin.api('GET', '/api/v1/audit.csv?user=bulk');
  const bulkRows = parseCsv(bulk.body.toString()).slice(1);
  assert.equal(bulkRows.length, 1200);
  assert.equal(new Set(bulkRows.map((row) => row[0])).size, 1200, 'no entry twice across pages');
  assert.equal((await newest('audit_export')).username, 'admin', 'the export is audited');
  sql("DELETE FROM audit_log WHERE action = 'bulk_test'");
});

test('the CLI prints the log with the same filters, as text or CSV', async () => {
  const text = hub.cli(['audit', '--user', 'vera', '--action', 'login', '--since', '1d']).trim().split('\n');
  assert.ok(text.length >= 1);
  assert.ok(text.every((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}vera {2}login {2}\(127\.0\.0\.1\)$/.test(line)), text.join('\n'));
  const csv = hub.cli(['audit', '--device', device.id, '--csv']).split('\r\n');
  assert.equal(csv[0], 'id,time,at_ms,user,action,target,detail,address');
  assert.ok(csv.slice(1, -1).every((line) => line.split(',')[5] === device.id));
  assert.ok(csv.some((line) => line.includes(',live_view,')));
  assert.equal(hub.cli(['audit', '--limit', '1']).trim().split('\n').length, 1);
  const hostile = hub.cli(['audit', '--action', 'login_failed']);
  assert.ok(!hostile.includes('\x1b'), 'no control characters reach the terminal');
});

test('retention: its own job purges past the days; video retention leaves the log alone', async () => {
  const now = Date.now();
  // Keep the log for ever, then let video retention expire a 400-day-old event.
  await hub.stop();
  sql(`INSERT INTO audit_log (at, username, action, detail) VALUES (${now - 400 * DAY_MS}, 'old', 'old_test', 'a'),
       (${now - 100 * DAY_MS}, 'old', 'old_test', 'b')`);
  sql(`INSERT INTO events (device_id, type, start_ms, end_ms, clip_start_ms, clip_end_ms)
       VALUES ('${device.id}', 'ring', ${now - 400 * DAY_MS}, ${now - 400 * DAY_MS}, ${now - 400 * DAY_MS}, ${now - 400 * DAY_MS})`);
  hub.extra = ['--segment-seconds', '2', '--audit-retention-days', '0'];
  await hub.launch();
  await waitFor(() => sql(`SELECT count(*) FROM events WHERE start_ms < ${now - 300 * DAY_MS}`) === '0',
    { what: 'video retention to expire the old event', timeout: 90000 });
  assert.equal(sql("SELECT group_concat(detail) FROM audit_log WHERE action = 'old_test'"), 'a,b');

  // The default, 365 days: the 400-day-old entry goes, the 100-day-old one stays.
  await hub.stop();
  hub.extra = ['--segment-seconds', '2'];
  await hub.launch();
  await waitFor(() => sql("SELECT group_concat(detail) FROM audit_log WHERE action = 'old_test'") === 'b',
    { what: 'the audit purge' });
  await hub.stop();
  hub.extra = ['--segment-seconds', '2', '--audit-retention-days', '30'];
  await hub.launch();
  await waitFor(() => sql("SELECT count(*) FROM audit_log WHERE action = 'old_test'") === '0',
    { what: 'the audit purge at 30 days' });
  admin = await loginAs('admin', PASSWORD);
  const purge = await newest('audit_purge');
  assert.equal(purge.detail, 'rows=1;days=30');
  assert.equal(purge.user_id, null);
});
