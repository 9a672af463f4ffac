// A household, not an admin console (docs/security.md "Rights" and
// "Invites"): a real hub, one real doorbell (Front) and one that never
// connects (Back).
//  - each of the four rights of a grant (live, recordings, export, talk)
//    allows exactly its routes and WebSockets: 403 "no_right" for the
//    others, 404 for a doorbell without a grant; /api/v1/devices lists
//    only granted doorbells with the caller's rights, /api/v1/me its grants;
//  - the users API takes and answers grants, refuses an unknown doorbell
//    (400) and demoting or removing the last admin (409), and audits;
//  - an invite link works once, not after it expired or was withdrawn, and
//    logs the new person in with the invite's role and grants;
//  - the CLI adds users with grants, grants and revokes single rights, lists
//    them, audits as "cli:USER", and the hub obeys at once;
//  - withdrawing the live right (API or CLI) closes an open live view
//    within 1 s, withdrawing talk a talk socket, withdrawing recordings a
//    running playback, while the rest stays.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import https from 'node:https';
import { join } from 'node:path';
import { Hub, Client, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { TalkClient } from '../lib/talk-client.mjs';

const PASSWORD = 'correct horse battery staple';
const RIGHTS = ['live', 'recordings', 'export', 'talk'];
const data = tempDir('doorstep-household-');
let hub;
let admin;
let front;
let back;
let doorbell;
let serial = 0;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  const created = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } })).json;
  front = { id: created.device.id, secret: created.secret };
  back = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Back' } })).json.device;
  doorbell = await Doorbell.start({ hub, ...front, fps: 10 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.online,
    { what: 'the doorbell online' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// Rows of an SQL query on the hub's database (WAL: safe while it runs).
function sql(query) {
  return execFileSync('sqlite3', ['-separator', '|', join(data.dir, 'doorstep.db'), query]).toString().trim();
}

// A grant object with exactly the rights named.
function grant(deviceId, ...rights) {
  return { device_id: deviceId, ...Object.fromEntries(RIGHTS.map((right) => [right, rights.includes(right)])) };
}

// A new viewer with grants, logged in.
async function viewerWith(grants) {
  const username = `member${++serial}`;
  const created = await admin.api('POST', '/api/v1/users', { json: { username, password: PASSWORD, role: 'viewer', grants } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const client = new Client(hub.url);
  assert.equal((await client.login(username, PASSWORD)).status, 200);
  return { client, id: created.json.id, username };
}

// Each doorbell route and the right it needs (null: any grant).
const now = Date.now();
const ROUTES = [
  ['GET', (id) => `/api/v1/devices/${id}`, null],
  ['GET', (id) => `/api/v1/devices/${id}/snapshot.jpg`, 'live'],
  ['POST', (id) => `/api/v1/devices/${id}/snapshot`, 'live'],
  ['GET', (id) => `/api/v1/devices/${id}/recordings`, 'recordings'],
  ['GET', (id) => `/api/v1/devices/${id}/playback?from=${now + 86400000}`, 'recordings'], // no footage then: 404
  ['GET', (id) => `/api/v1/devices/${id}/preview.jpg?at=${now + 86400000}`, 'recordings'], // no footage then: 404
  ['GET', (id) => `/api/v1/devices/${id}/events`, 'recordings'],
  ['GET', (id) => `/api/v1/devices/${id}/events/1`, 'recordings'],
  ['GET', (id) => `/api/v1/devices/${id}/events/1/snapshot.jpg`, 'recordings'],
  ['POST', (id) => `/api/v1/devices/${id}/events/1/star`, 'recordings', { starred: true }],
  ['GET', (id) => '/api/v1/devices/' + id + '/export?from=1000&to=2000', 'export'], // no footage then: 404
  ['POST', (id) => `/api/v1/devices/${id}/replies/999/play`, 'talk'],
];

// Open a live view; resolves with it (and its close code/time) or rejects with "HTTP nnn".
async function openLive(client, id) {
  const viewer = new LiveViewer(client, id);
  viewer.closedAt = null;
  viewer.code = null;
  viewer.socket.once('close', (code) => { viewer.closedAt = Date.now(); viewer.code = code; });
  await viewer.opened;
  return viewer;
}

test('each right allows exactly its routes and sockets; no grant is 404', async () => {
  for (const right of RIGHTS) {
    const member = await viewerWith([grant(front.id, right)]);
    for (const [method, path, needs, json] of ROUTES) {
      const response = await member.client.api(method, path(front.id), json ? { json } : {});
      const what = `${right}-only viewer: ${method} ${path(front.id)} -> ${response.status} ${response.body}`;
      if (needs === null || needs === right) {
        assert.notEqual(response.status, 403, what);
        assert.notEqual(response.json && response.json.message, 'no such doorbell', what);
      } else {
        assert.equal(response.status, 403, what);
        assert.equal(response.json.error, 'no_right', what);
      }
      const hidden = await member.client.api(method, path(back.id), json ? { json } : {});
      assert.equal(hidden.status, 404, `no grant: ${method} ${path(back.id)}`);
    }
    const live = new LiveViewer(member.client, front.id);
    if (right === 'live') { await live.opened; await live.close(); } else await assert.rejects(live.opened, /HTTP 403/);
    const talk = new TalkClient(member.client, front.id);
    if (right === 'talk') { await talk.opened; await talk.close(); } else await assert.rejects(talk.opened, /HTTP 403/);
    await assert.rejects(new LiveViewer(member.client, back.id).opened, /HTTP 404/, 'no grant: the doorbell is not there');
    await assert.rejects(new TalkClient(member.client, back.id).opened, /HTTP 404/);

    const devices = (await member.client.api('GET', '/api/v1/devices')).json.devices;
    assert.deepEqual(devices.map((d) => d.id), [front.id], 'only the granted doorbell is listed');
    assert.deepEqual(devices[0].rights, Object.fromEntries(RIGHTS.map((r) => [r, r === right])));
    const me = (await member.client.api('GET', '/api/v1/me')).json;
    assert.deepEqual(me.grants, [grant(front.id, right)]);
  }
  // An admin holds every right on every doorbell.
  const devices = (await admin.api('GET', '/api/v1/devices')).json.devices;
  assert.equal(devices.length, 2);
  for (const device of devices) assert.deepEqual(device.rights, { live: true, recordings: true, export: true, talk: true });
  // The event feed stays open to any grant.
});

test('the users API takes grants, refuses unknown doorbells and the last admin, and audits', async () => {
  const refused = await admin.api('POST', '/api/v1/users', {
    json: { username: 'ghost', password: PASSWORD, role: 'viewer', grants: [grant('no-such-bell', 'live')] },
  });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error, 'unknown_device');
  assert.equal(sql("SELECT count(*) FROM users WHERE username = 'ghost'"), '0', 'nothing was made');

  const member = await viewerWith([grant(front.id, 'live', 'talk')]);
  let listed = (await admin.api('GET', '/api/v1/users')).json.users.find((u) => u.id === member.id);
  assert.deepEqual(listed.grants, [grant(front.id, 'live', 'talk')]);

  const patched = await admin.api('PATCH', `/api/v1/users/${member.id}`, {
    json: { grants: [grant(back.id, 'recordings'), grant(front.id, 'export')] },
  });
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.json.grants, [grant(back.id, 'recordings'), grant(front.id, 'export')].sort((a, b) => a.device_id.localeCompare(b.device_id)));
  const unknown = await admin.api('PATCH', `/api/v1/users/${member.id}`, { json: { grants: [grant('nope', 'live')] } });
  assert.equal(unknown.status, 400);
  // A grant with no right is no grant.
  assert.equal((await admin.api('PATCH', `/api/v1/users/${member.id}`, { json: { grants: [grant(front.id)] } })).status, 200);
  listed = (await admin.api('GET', '/api/v1/users')).json.users.find((u) => u.id === member.id);
  assert.deepEqual(listed.grants, []);
  assert.equal((await member.client.api('GET', `/api/v1/devices/${front.id}`)).status, 404);

  const adminId = (await admin.api('GET', '/api/v1/me')).json.id;
  const demote = await admin.api('PATCH', `/api/v1/users/${adminId}`, { json: { role: 'viewer' } });
  assert.equal(demote.status, 409);
  assert.equal(demote.json.error, 'last_admin');
  assert.equal((await admin.api('DELETE', `/api/v1/users/${adminId}`)).status, 409);

  const audited = sql(`SELECT action || ' ' || target FROM audit_log WHERE action IN ('user_add', 'user_grants') AND target = '${member.username}'`);
  assert.match(audited, new RegExp(`user_add ${member.username}`));
  assert.match(audited, new RegExp(`user_grants ${member.username}`));

  // Sign out everywhere: the member's session ends.
  assert.equal((await member.client.api('GET', '/api/v1/me')).status, 200);
  assert.equal((await admin.api('POST', `/api/v1/users/${member.id}/sessions/revoke`)).status, 200);
  assert.equal((await member.client.api('GET', '/api/v1/me')).status, 401);
});

// Use an invite token as a fresh browser would.
async function acceptInvite(token, username, password = PASSWORD) {
  const client = new Client(hub.url);
  const response = await client.request('POST', '/auth/invite', {
    json: { token, username, password }, headers: client.originHeaders(),
  });
  if (response.json && response.json.csrf_token) client.csrf = response.json.csrf_token;
  return { client, response };
}

test('an invite link works once, with its role and grants; not expired or withdrawn', async () => {
  const viewer = await viewerWith([grant(front.id, 'live')]);
  assert.equal((await viewer.client.api('POST', '/api/v1/invites', { json: { role: 'viewer' } })).status, 403, 'admins only');
  const unknown = await admin.api('POST', '/api/v1/invites', { json: { role: 'viewer', grants: [grant('nope', 'live')] } });
  assert.equal(unknown.status, 400);

  const made = await admin.api('POST', '/api/v1/invites', {
    json: { role: 'viewer', grants: [grant(front.id, 'live')], note: 'for Grandma' },
  });
  assert.equal(made.status, 201);
  const { token, link } = made.json;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(link, `${hub.url}/#/invite/${token}`);
  const listed = (await admin.api('GET', '/api/v1/invites')).json.invites;
  const mine = listed.find((invite) => invite.id === made.json.id);
  assert.equal(mine.state, 'open');
  assert.equal(mine.note, 'for Grandma');
  assert.deepEqual(mine.grants, [grant(front.id, 'live')]);
  assert.ok(!JSON.stringify(listed).includes(token), 'the list never carries a token');
  assert.equal(sql(`SELECT hex(token_hash) FROM invites WHERE id = ${made.json.id}`),
    createHash('sha256').update(token).digest('hex').toUpperCase(), 'only the SHA-256 of the token is kept');
  assert.ok(Math.abs(made.json.expires_at - (Date.now() + 7 * 24 * 3600 * 1000)) < 60000, 'expires in 7 days');

  // A weak password is refused and the invite stays usable.
  const weak = await acceptInvite(token, 'grandma', 'short');
  assert.equal(weak.response.status, 400);
  const used = await acceptInvite(token, 'grandma');
  assert.equal(used.response.status, 201, used.response.body.toString());
  assert.equal(used.response.json.user.role, 'viewer');
  const me = (await used.client.api('GET', '/api/v1/me')).json;
  assert.equal(me.username, 'grandma');
  assert.deepEqual(me.grants, [grant(front.id, 'live')]);
  assert.equal((await used.client.api('GET', `/api/v1/devices/${front.id}/recordings`)).status, 403);
  assert.equal((await used.client.api('GET', `/api/v1/devices/${back.id}`)).status, 404);

  const again = await acceptInvite(token, 'grandpa');
  assert.equal(again.response.status, 410);
  assert.equal(again.response.json.error, 'invite_used');
  assert.equal((await admin.api('GET', '/api/v1/invites')).json.invites.find((i) => i.id === made.json.id).state, 'used');

  const withdrawn = (await admin.api('POST', '/api/v1/invites', { json: { role: 'viewer' } })).json;
  assert.equal((await admin.api('DELETE', `/api/v1/invites/${withdrawn.id}`)).status, 204);
  const late = await acceptInvite(withdrawn.token, 'neighbour');
  assert.equal(late.response.status, 410);
  assert.equal(late.response.json.error, 'invite_withdrawn');
  assert.equal((await admin.api('DELETE', `/api/v1/invites/${made.json.id}`)).status, 409, 'a used invite cannot be withdrawn');

  const expiring = (await admin.api('POST', '/api/v1/invites', { json: { role: 'admin' } })).json;
  sql(`UPDATE invites SET expires_at = ${Date.now() - 1} WHERE id = ${expiring.id}`);
  const expired = await acceptInvite(expiring.token, 'cousin');
  assert.equal(expired.response.status, 410);
  assert.equal(expired.response.json.error, 'invite_expired');

  const wrong = await acceptInvite('A'.repeat(43), 'stranger');
  assert.equal(wrong.response.status, 403);
  assert.equal(wrong.response.json.error, 'invalid_invite');
  assert.equal(sql("SELECT count(*) FROM users WHERE username IN ('grandpa', 'neighbour', 'cousin', 'stranger')"), '0');
  // Guessing tokens from one address is soon refused, with a time to retry.
  const guesser = new Client(hub.url, { localAddress: '127.0.0.3' });
  let blocked = null;
  for (let i = 0; i < 30 && blocked === null; i++) {
    const response = await guesser.request('POST', '/auth/invite', {
      json: { token: 'B'.repeat(43), username: 'guesser', password: PASSWORD }, headers: guesser.originHeaders(),
    });
    if (response.status === 429) blocked = response;
    else assert.equal(response.status, 403);
  }
  assert.ok(blocked, 'wrong invite tokens are rate-limited');
  assert.equal(blocked.json.error, 'rate_limited');
  assert.ok(Number(blocked.headers['retry-after']) >= 1, 'with Retry-After');
  assert.equal(Number(blocked.headers['retry-after']), blocked.json.retry_after);
  const actions = sql("SELECT group_concat(action, ' ') FROM audit_log WHERE action LIKE 'invite_%'");
  for (const action of ['invite_create', 'invite_accept', 'invite_withdraw', 'invite_refused', 'invite_blocked']) assert.match(actions, new RegExp(action));
});

test('the CLI grants and revokes single rights, lists and audits them, and the hub obeys at once', async (t) => {
  hub.cli(['user', 'add', 'teen', '--password-stdin', '--grant', `${front.id}:recordings`], `${PASSWORD}\n`);
  const teen = new Client(hub.url);
  assert.equal((await teen.login('teen', PASSWORD)).status, 200);
  assert.equal((await teen.api('GET', `/api/v1/devices/${front.id}/recordings`)).status, 200);
  assert.equal((await teen.api('GET', `/api/v1/devices/${front.id}/snapshot.jpg`)).status, 403);
  await assert.rejects(new LiveViewer(teen, front.id).opened, /HTTP 403/);

  assert.match(hub.cli(['user', 'grant', 'teen', front.id, '--live', '--talk']), /live,recordings,talk/);
  assert.match(hub.cli(['user', 'list']), new RegExp(`teen\\s+viewer\\s+${front.id}:live,recordings,talk`));
  const live = await openLive(teen, front.id);
  await waitFor(() => live.videoFrames().length > 0, { what: 'live video' });
  const talk = new TalkClient(teen, front.id);
  await talk.opened;

  const since = Date.now();
  hub.cli(['user', 'revoke', 'teen', front.id, '--live']);
  const done = Date.now();
  await waitFor(() => live.closedAt !== null, { timeout: 10000, what: 'the live view to close' });
  t.diagnostic(`CLI revoke --live: the live view closed ${live.closedAt - done} ms after the CLI exited`);
  assert.equal(live.code, 1008);
  assert.ok(live.closedAt - since < 1000 + (done - since), `closed within 1 s of the change (${live.closedAt - done} ms)`);
  assert.equal(talk.code, null, 'the talk socket stays: its right was not touched');
  assert.equal((await teen.api('GET', `/api/v1/devices/${front.id}/recordings`)).status, 200);

  hub.cli(['user', 'revoke', 'teen', front.id, '--talk']);
  await waitFor(() => talk.code !== null, { timeout: 10000, what: 'the talk socket to close' });
  assert.equal(talk.code, 1008);
  hub.cli(['user', 'revoke', 'teen', front.id]);
  assert.equal((await teen.api('GET', `/api/v1/devices/${front.id}`)).status, 404, 'the whole grant is gone');
  assert.match(hub.cli(['user', 'list']), /teen\s+viewer\s*$/m);

  const rows = sql("SELECT username || ' ' || action || ' ' || remote_address FROM audit_log WHERE target = 'teen' ORDER BY id");
  assert.match(rows, /^cli:\S+ user_add cli$/m);
  assert.match(rows, /^cli:\S+ user_grant cli$/m);
  assert.match(rows, /^cli:\S+ user_revoke cli$/m);
});

test('withdrawing the live right in the users API closes an open live view within 1 s', async (t) => {
  const member = await viewerWith([grant(front.id, 'live', 'recordings')]);
  const live = await openLive(member.client, front.id);
  await waitFor(() => live.videoFrames().length > 0, { what: 'live video' });
  const since = Date.now();
  const patched = await admin.api('PATCH', `/api/v1/users/${member.id}`, { json: { grants: [grant(front.id, 'recordings')] } });
  assert.equal(patched.status, 200);
  await waitFor(() => live.closedAt !== null, { timeout: 10000, what: 'the live view to close' });
  t.diagnostic(`live right withdrawn: closed ${live.closedAt - since} ms after the change was asked for`);
  assert.equal(live.code, 1008);
  assert.ok(live.closedAt - since < 1000, `closed within 1 s (${live.closedAt - since} ms)`);
  assert.equal((await member.client.api('GET', `/api/v1/devices/${front.id}/recordings`)).status, 200);
});

test('withdrawing the recordings right ends a running playback; live stays', async (t) => {
  const member = await viewerWith([grant(front.id, 'live', 'recordings')]);
  const recorded = await waitFor(async () => {
    const rows = (await admin.api('GET', `/api/v1/devices/${front.id}/recordings`)).json.recordings || [];
    return rows.length > 0 && rows[0];
  }, { timeout: 60000, what: 'a recording to play' });
  const playback = { bytes: 0, closedAt: null };
  await new Promise((resolve, reject) => {
    const request = https.request(new URL(`/api/v1/devices/${front.id}/playback?from=${recorded.start_ms}`, hub.url), {
      headers: { Cookie: [...member.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      rejectUnauthorized: false, agent: false,
    }, (response) => {
      if (response.statusCode !== 200) { reject(new Error(`playback answered ${response.statusCode}`)); return; }
      const ended = () => { if (playback.closedAt === null) playback.closedAt = Date.now(); };
      response.on('data', (chunk) => { playback.bytes += chunk.length; resolve(); });
      response.on('end', ended);
      response.on('error', ended);
      response.on('close', ended);
    });
    request.on('error', reject);
    request.end();
  });
  const live = await openLive(member.client, front.id);
  const since = Date.now();
  assert.equal((await admin.api('PATCH', `/api/v1/users/${member.id}`, { json: { grants: [grant(front.id, 'live')] } })).status, 200);
  await waitFor(() => playback.closedAt !== null, { timeout: 10000, what: 'the playback to end' });
  t.diagnostic(`recordings right withdrawn: the playback ended ${playback.closedAt - since} ms after the change was asked for`);
  assert.equal(live.closedAt, null, 'the live view stays: its right was not touched');
  assert.equal((await member.client.api('GET', `/api/v1/devices/${front.id}/recordings`)).status, 403);
  await live.close();
});
