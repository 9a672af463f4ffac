// One's own sessions: the list (an opaque id, never the token; created,
// last seen, address, a readable device; this one "current"); signing one
// out ends it at once (its next request is 401, its open event feed closes
// within 1 s); "sign out everywhere else" keeps this one; an admin sees and
// ends another user's sessions, a viewer may not; every sign-out is audited.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Hub, Client, tempDir, waitFor } from '../lib/harness.mjs';

const PASSWORD = 'correct horse battery staple';
const VIEWER_PASSWORD = 'a viewer password long enough';
const FIREFOX_ANDROID = 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0';
const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const data = tempDir('doorstep-sessions-');
let hub;
let admin;
let viewerId;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'vera', password: VIEWER_PASSWORD, role: 'viewer' } });
  assert.equal(created.status, 201);
  viewerId = created.json.id;
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

// A new client logged in as username with a given User-Agent.
async function loginAs(username, password, userAgent) {
  const client = new Client(hub.url);
  const response = await client.request('POST', '/auth/login', {
    json: { username, password },
    headers: { ...client.originHeaders(), 'User-Agent': userAgent },
  });
  assert.equal(response.status, 200, `login of ${username}: ${response.body}`);
  client.csrf = response.json.csrf_token;
  return client;
}

// The event feed of a client, open; .closed resolves with the close code.
function openFeed(client) {
  const headers = { Origin: new URL(hub.url).origin, Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  const socket = new WebSocket(`wss://localhost:${hub.port}/api/v1/events/live`, { headers, rejectUnauthorized: false });
  const feed = { socket, closedAt: null, code: null };
  feed.closed = new Promise((resolve) => socket.once('close', (code) => {
    feed.closedAt = Date.now();
    feed.code = code;
    resolve(code);
  }));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(feed));
    socket.once('error', reject);
  });
}

const sessionsOf = async (client) => {
  const response = await client.api('GET', '/api/v1/me/sessions');
  assert.equal(response.status, 200);
  return response.json.sessions;
};

const auditActions = async (action) =>
  (await admin.api('GET', `/api/v1/audit?action=${action}`)).json.entries;

test('the list: opaque stable ids, the current flag, a readable device, no token', async () => {
  const phone = await loginAs('admin', PASSWORD, FIREFOX_ANDROID);
  const laptop = await loginAs('admin', PASSWORD, CHROME_LINUX);
  const fromPhone = await sessionsOf(phone);
  const fromLaptop = await sessionsOf(laptop);
  assert.ok(fromPhone.length >= 3, 'the setup session and the two logins');
  assert.deepEqual(fromPhone.map((s) => s.id).sort(), fromLaptop.map((s) => s.id).sort(), 'ids are stable');
  const phoneToken = phone.cookies.get('__Host-doorstep_session');
  for (const session of fromPhone) {
    assert.match(session.id, /^[0-9a-f]{16}$/);
    assert.ok(!JSON.stringify(session).includes(phoneToken), 'the token is never shown');
    assert.ok(session.created_at > 0 && session.last_seen_at >= session.created_at);
    assert.equal(session.address, '127.0.0.1');
  }
  const phoneCurrent = fromPhone.filter((s) => s.current);
  const laptopCurrent = fromLaptop.filter((s) => s.current);
  assert.equal(phoneCurrent.length, 1);
  assert.equal(laptopCurrent.length, 1);
  assert.notEqual(phoneCurrent[0].id, laptopCurrent[0].id);
  assert.equal(phoneCurrent[0].device, 'Firefox on Android');
  assert.equal(laptopCurrent[0].device, 'Chrome on Linux');
});

test('signing one session out: its next request is 401 and its event feed closes within 1 s', async () => {
  const here = await loginAs('admin', PASSWORD, CHROME_LINUX);
  const there = await loginAs('admin', PASSWORD, FIREFOX_ANDROID);
  const feed = await openFeed(there);
  const thereId = (await sessionsOf(there)).find((s) => s.current).id;

  const asked = Date.now();
  const response = await here.api('DELETE', `/api/v1/me/sessions/${thereId}`);
  assert.equal(response.status, 204);
  assert.equal(await feed.closed, 1008);
  const latency = feed.closedAt - asked;
  console.log(`# event feed closed ${latency} ms after the sign-out was asked for`);
  assert.ok(latency < 1000, `closed after ${latency} ms`);
  assert.equal((await there.api('GET', '/api/v1/me')).status, 401);
  assert.equal((await here.api('GET', '/api/v1/me')).status, 200, 'the other session stands');
  assert.ok(!(await sessionsOf(here)).some((s) => s.id === thereId));
  assert.equal((await here.api('DELETE', `/api/v1/me/sessions/${thereId}`)).status, 404, 'already gone');

  const entry = (await auditActions('session_end')).find((e) => e.target === thereId);
  assert.ok(entry, 'session_end is audited');
  assert.equal(entry.username, 'admin');
});

test("another user's session cannot be ended through /me", async () => {
  const viewer = await loginAs('vera', VIEWER_PASSWORD, CHROME_LINUX);
  const adminId = (await sessionsOf(admin)).find((s) => s.current).id;
  assert.equal((await viewer.api('DELETE', `/api/v1/me/sessions/${adminId}`)).status, 404);
  assert.equal((await admin.api('GET', '/api/v1/me')).status, 200);
});

test('sign out everywhere else keeps this session only', async () => {
  const others = [await loginAs('admin', PASSWORD, FIREFOX_ANDROID), await loginAs('admin', PASSWORD, CHROME_LINUX)];
  const feed = await openFeed(others[0]);
  const response = await admin.api('POST', '/api/v1/me/sessions/revoke-others');
  assert.equal(response.status, 200);
  assert.ok(response.json.ended >= 2);
  assert.equal(await feed.closed, 1008);
  for (const other of others) assert.equal((await other.api('GET', '/api/v1/me')).status, 401);
  const left = await sessionsOf(admin);
  assert.equal(left.length, 1);
  assert.equal(left[0].current, true);
  const entry = (await auditActions('sessions_end_others'))[0];
  assert.equal(entry.username, 'admin');
  assert.equal(entry.detail, `ended=${response.json.ended}`);
});

test("an admin lists and ends a user's sessions; a viewer may not", async () => {
  const viewer = await loginAs('vera', VIEWER_PASSWORD, FIREFOX_ANDROID);
  assert.equal((await viewer.api('GET', `/api/v1/users/${viewerId}/sessions`)).status, 403);
  assert.equal((await viewer.api('POST', `/api/v1/users/${viewerId}/sessions/revoke`)).status, 403);
  assert.equal((await viewer.api('GET', '/api/v1/audit')).status, 403);

  const listed = await admin.api('GET', `/api/v1/users/${viewerId}/sessions`);
  assert.equal(listed.status, 200);
  assert.ok(listed.json.sessions.length >= 1);
  assert.ok(listed.json.sessions.every((s) => s.current === false));
  assert.equal((await admin.api('GET', '/api/v1/users/9999/sessions')).status, 404);

  const feed = await openFeed(viewer);
  const revoked = await admin.api('POST', `/api/v1/users/${viewerId}/sessions/revoke`);
  assert.equal(revoked.status, 200);
  assert.equal(revoked.json.ended, listed.json.sessions.length);
  assert.equal(await feed.closed, 1008);
  assert.equal((await viewer.api('GET', '/api/v1/me')).status, 401);
  assert.equal((await admin.api('GET', `/api/v1/users/${viewerId}/sessions`)).json.sessions.length, 0);
  const entry = (await auditActions('user_sessions_end'))[0];
  assert.equal(entry.target, 'vera');
  assert.equal(entry.username, 'admin');
});
