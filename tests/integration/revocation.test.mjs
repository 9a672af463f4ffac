// Open connections end with their authority: a live view and an event feed
// close (WebSocket code 1008) soon after logout, a password change (own or
// by an admin), removal of the user, a role change or a doorbell grant
// withdrawn, whether the change comes through the API or from the
// `doorstep` CLI writing the database directly; and only the connections
// that lost their authority close. Each case prints the measured close
// latency: from the moment the change was asked for (API request sent, CLI
// started) to the client seeing the close.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import WebSocket from 'ws';
import { Hub, Client, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { LiveViewer } from '../lib/live-client.mjs';
import { rawConnect } from '../lib/raw-http.mjs';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'another long enough password';
const data = tempDir('doorstep-revocation-');
const latencies = [];
let hub;
let admin;
let device;
let doorbell;
let serial = 0;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  device = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } })).json;
  device = { id: device.device.id, secret: device.secret };
  doorbell = await Doorbell.start({ hub, ...device, fps: 10 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online,
    { what: 'the doorbell online' });
});

after(async () => {
  if (latencies.length) {
    console.log(`# close latencies after the change was done (ms): ${latencies.join(', ')}; max ${Math.max(...latencies)}`);
  }
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// The event feed of a client: resolves once open; .closed gives the close code.
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

// A live view that records when and how it closed, open and streaming.
async function openLive(client) {
  const viewer = new LiveViewer(client, device.id);
  viewer.closedAt = null;
  viewer.code = null;
  viewer.socket.once('close', (code) => {
    viewer.closedAt = Date.now();
    viewer.code = code;
  });
  await viewer.opened;
  await waitFor(() => viewer.videoFrames().length > 0, { what: 'live video' });
  return viewer;
}

// A playback stream of the doorbell from `from` (ms), open and receiving;
// .closedAt is set when the body ends, complete or cut.
async function openPlayback(client, from) {
  const playback = { bytes: 0, closedAt: null };
  await new Promise((resolve, reject) => {
    const request = https.request(new URL(`/api/v1/devices/${device.id}/playback?from=${from}`, client.baseUrl), {
      headers: { Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      rejectUnauthorized: false, agent: false,
    }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`playback answered ${response.statusCode}`));
        return;
      }
      const ended = () => { if (playback.closedAt === null) playback.closedAt = Date.now(); };
      response.on('data', (chunk) => { playback.bytes += chunk.length; resolve(); });
      response.on('end', ended);
      response.on('error', ended);
      response.on('close', ended);
    });
    request.on('error', (error) => { if (playback.closedAt === null) playback.closedAt = Date.now(); reject(error); });
    request.end();
  });
  return playback;
}

// A fresh viewer account granted the doorbell, logged in (optionally twice).
async function freshViewer(role = 'viewer') {
  const username = `person${++serial}`;
  const created = await admin.api('POST', '/api/v1/users', {
    json: { username, password: PASSWORD, role, devices: [device.id] },
  });
  assert.equal(created.status, 201);
  const client = new Client(hub.url);
  assert.equal((await client.login(username, PASSWORD)).status, 200);
  return { username, id: created.json.id, client };
}

// Wait for the connections to close (WebSockets with 1008); record the latency from
// `since` (the change asked for) and from `done` (its answer received, or
// the CLI exited; negative when the close came first).
async function expectClosed(t, what, since, connections, done = Date.now()) {
  for (const connection of connections) {
    await waitFor(() => connection.closedAt !== null, { timeout: 10000, what: `${what}: the connection to close` });
    if ('code' in connection) assert.equal(connection.code, 1008, `${what}: closed with 1008`);
    latencies.push(connection.closedAt - done);
    t.diagnostic(`${what}: closed ${connection.closedAt - since} ms after the change was asked for, ` +
      `${connection.closedAt - done} ms after it was done`);
  }
}

test('logout closes that session\'s live view and event feed, not another session\'s', async (t) => {
  const person = await freshViewer();
  const other = new Client(hub.url);
  assert.equal((await other.login(person.username, PASSWORD)).status, 200);
  const live = await openLive(person.client);
  const feed = await openFeed(person.client);
  const otherLive = await openLive(other);
  const since = Date.now();
  assert.equal((await person.client.api('POST', '/auth/logout')).status, 204);
  await expectClosed(t, 'logout', since, [live, feed]);
  const frames = otherLive.videoFrames().length;
  await waitFor(() => otherLive.videoFrames().length > frames + 5, { what: 'the other session still streaming' });
  assert.equal(otherLive.closedAt, null);
  await otherLive.close();
});

test('a client that ignores the close frame still loses the connection at once', async (t) => {
  const person = await freshViewer();
  // The event feed opened by hand: this client never answers a close frame
  // nor a ping, as a hostile or broken one would.
  const socket = await rawConnect(hub.port);
  const connection = { closedAt: null, data: Buffer.alloc(0) };
  socket.on('data', (chunk) => { connection.data = Buffer.concat([connection.data, chunk]); });
  socket.on('close', () => { connection.closedAt = Date.now(); });
  socket.on('error', () => {});
  socket.write(`GET /api/v1/events/live HTTP/1.1\r\nHost: localhost:${hub.port}\r\n` +
    `Origin: ${new URL(hub.url).origin}\r\n` +
    `Cookie: ${[...person.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ')}\r\n` +
    'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await waitFor(() => connection.data.includes('\r\n\r\n'), { what: 'the upgrade answer' });
  assert.match(connection.data.toString('latin1'), /^HTTP\/1\.1 101/);
  const since = Date.now();
  assert.equal((await person.client.api('POST', '/auth/logout')).status, 204);
  await expectClosed(t, 'logout, close ignored', since, [connection]);
  // What came before the end is a close frame (opcode 8) carrying 1008.
  const frames = connection.data.subarray(connection.data.indexOf('\r\n\r\n') + 4);
  const close = frames.lastIndexOf(Buffer.from([0x88]));
  assert.ok(close >= 0, `a close frame: ${frames.toString('hex')}`);
  assert.equal(frames.readUInt16BE(close + 2), 1008);
  assert.equal(hub.proc.child.exitCode, null, 'the hub is running');
});

test('changing one\'s own password closes every connection of the user', async (t) => {
  const person = await freshViewer();
  const live = await openLive(person.client);
  const feed = await openFeed(person.client);
  const since = Date.now();
  const response = await person.client.api('POST', '/api/v1/me/password', {
    json: { current_password: PASSWORD, password: NEW_PASSWORD },
  });
  assert.equal(response.status, 204);
  await expectClosed(t, 'own password change', since, [live, feed]);
  assert.equal((await new Client(hub.url).login(person.username, NEW_PASSWORD)).status, 200);
});

test('an admin setting the password, removing the user or changing the role closes them', async (t) => {
  for (const [what, change] of [
    ['admin sets the password', (p) => admin.api('PUT', `/api/v1/users/${p.id}/password`, { json: { password: NEW_PASSWORD } })],
    ['user removed', (p) => admin.api('DELETE', `/api/v1/users/${p.id}`)],
    ['role changed', (p) => admin.api('PUT', `/api/v1/users/${p.id}`, { json: { role: 'admin' } })],
  ]) {
    const person = await freshViewer();
    const live = await openLive(person.client);
    const feed = await openFeed(person.client);
    const since = Date.now();
    const response = await change(person);
    assert.ok(response.status === 200 || response.status === 204, `${what}: ${response.status}`);
    await expectClosed(t, what, since, [live, feed]);
  }
});

test('withdrawing the doorbell grant closes the live view and the event feed', async (t) => {
  const person = await freshViewer();
  const live = await openLive(person.client);
  const feed = await openFeed(person.client);
  const since = Date.now();
  const response = await admin.api('PUT', `/api/v1/users/${person.id}`, { json: { devices: [] } });
  assert.equal(response.status, 200);
  assert.deepEqual(response.json.devices, []);
  await expectClosed(t, 'grant withdrawn (API)', since, [live, feed]);
  // The session itself is still good; only the doorbell is gone.
  assert.equal((await person.client.api('GET', '/api/v1/me')).status, 200);
  await assert.rejects(openLive(person.client), 'a new live view is refused');
});

test('a removed admin loses everything at once, open live view included', async (t) => {
  const person = await freshViewer('admin');
  const live = await openLive(person.client);
  const feed = await openFeed(person.client);
  const since = Date.now();
  assert.equal((await admin.api('DELETE', `/api/v1/users/${person.id}`)).status, 204);
  await expectClosed(t, 'admin removed', since, [live, feed]);
  assert.equal((await person.client.api('GET', `/api/v1/devices/${device.id}`)).status, 401);
});

test('changes made with the doorstep CLI close connections too', async (t) => {
  for (const [what, args] of [
    ['CLI revoke', (p) => ['user', 'revoke', p.username, device.id]],
    ['CLI role', (p) => ['user', 'role', p.username, 'admin']],
    ['CLI passwd', (p) => ['user', 'passwd', p.username, '--password-stdin']],
    ['CLI remove', (p) => ['user', 'remove', p.username]],
  ]) {
    const person = await freshViewer();
    const live = await openLive(person.client);
    const feed = await openFeed(person.client);
    const since = Date.now();
    hub.cli(args(person), `${NEW_PASSWORD}\n`);
    await expectClosed(t, what, since, [live, feed]);
  }
  // A grant given with the CLI works, and withdrawing it closes the view.
  const person = await freshViewer();
  assert.equal((await admin.api('PUT', `/api/v1/users/${person.id}`, { json: { devices: [] } })).status, 200);
  hub.cli(['user', 'grant', person.username, device.id]);
  const live = await openLive(person.client);
  const since = Date.now();
  hub.cli(['user', 'revoke', person.username, device.id]);
  await expectClosed(t, 'CLI revoke after CLI grant', since, [live]);
});

test('withdrawing the grant ends a playback stream that is running', async (t) => {
  const person = await freshViewer();
  const recorded = await waitFor(async () => {
    const rows = (await admin.api('GET', `/api/v1/devices/${device.id}/recordings`)).json.recordings || [];
    return rows.length > 0 && rows[0];
  }, { what: 'a recording to play' });
  const playback = await openPlayback(person.client, recorded.start_ms);
  const bytes = playback.bytes;
  await waitFor(() => playback.bytes > bytes, { what: 'the playback to keep streaming' });
  assert.equal(playback.closedAt, null);
  const since = Date.now();
  assert.equal((await admin.api('PUT', `/api/v1/users/${person.id}`, { json: { devices: [] } })).status, 200);
  await expectClosed(t, 'grant withdrawn (playback)', since, [playback]);
});
