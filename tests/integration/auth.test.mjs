// Accounts and the gate: first-admin setup works once and never again,
// unauthenticated /api requests get 401 on every route, CSRF-less and
// cross-origin requests are refused, logins are rate limited, wrong device
// secrets are refused, and every response carries the security headers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { Hub, Client, Doorbell, ROOT, sleep, waitFor, tempDir } from '../lib/harness.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-auth-');
let hub;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

// Every route of the table the hub dispatches /api with, read from its source
// so a route added later is covered without touching this test.
function apiRoutes() {
  const source = readFileSync(join(ROOT, 'appliance/http/http_routes.c'), 'utf8');
  const routes = [...source.matchAll(/\{"(GET|POST|PUT|PATCH|DELETE)", "(\/api\/[^"]+)"/g)]
    .map(([, method, pattern]) => ({ method, path: pattern.replace(/\{[a-z_]+\}/g, 'abc123') }));
  assert.ok(routes.length >= 8, 'the route table was found');
  return routes;
}

test('before setup: the hub needs an admin and prints a one-time link', async () => {
  const client = new Client(hub.url);
  const state = await client.request('GET', '/auth/session');
  assert.equal(state.status, 200);
  assert.deepEqual(state.json, { authenticated: false, setup_required: true });
  // Logged before /readyz answers, but read from the hub's stderr on its own schedule.
  await waitFor(() => hub.log.some((line) => line.includes('/#/setup?token=')), { what: 'the setup link to be logged' });
  assert.ok(hub.setupToken(), 'the setup token file exists');
});

test('unauthenticated requests to every /api route get 401 and no data', async () => {
  const client = new Client(hub.url);
  const routes = [...apiRoutes(), { method: 'GET', path: '/api/v1/no-such-thing' }, { method: 'GET', path: '/api' }];
  for (const { method, path } of routes) {
    const response = await client.request(method, path, method === 'GET' ? {} : { json: {} });
    assert.equal(response.status, 401, `${method} ${path}`);
    assert.deepEqual(Object.keys(response.json), ['error', 'message']);
  }
});

test('setup with a wrong token or from another origin is refused', async () => {
  const client = new Client(hub.url);
  let response = await client.setup('A'.repeat(43), 'admin', PASSWORD);
  assert.equal(response.status, 403);
  response = await client.request('POST', '/auth/setup', {
    json: { token: hub.setupToken(), username: 'admin', password: PASSWORD },
    headers: { Origin: 'https://evil.example' },
  });
  assert.equal(response.status, 403);
  assert.equal(response.json.error, 'origin');
  response = await client.setup(hub.setupToken(), 'admin', 'short');
  assert.equal(response.status, 400, 'a weak password is refused');
});

test('the first-admin flow works once and never again', async () => {
  const token = hub.setupToken();
  const client = new Client(hub.url);
  const response = await client.setup(token, 'admin', PASSWORD);
  assert.equal(response.status, 201);
  assert.equal(response.json.user.role, 'admin');
  const cookie = response.headers['set-cookie'][0];
  assert.match(cookie, /^__Host-doorstep_session=/);
  for (const attribute of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(cookie.includes(attribute), attribute);
  assert.equal((await client.api('GET', '/api/v1/me')).json.username, 'admin');

  const again = await new Client(hub.url).setup(token, 'intruder', PASSWORD);
  assert.equal(again.status, 409);
  assert.equal(hub.setupToken(), null, 'the token file is gone');
  const state = await new Client(hub.url).request('GET', '/auth/session');
  assert.equal(state.json.setup_required, false);

  // And after a restart no new setup link appears.
  await hub.stop();
  await hub.launch();
  assert.equal(hub.setupToken(), null);
  assert.ok(!hub.log.some((line) => line.includes('/#/setup?token=')));
  assert.equal((await new Client(hub.url).setup(token, 'intruder', PASSWORD)).status, 409);
});

test('a POST without the CSRF token, or with a wrong one, is refused', async () => {
  const client = await hub.admin('admin', PASSWORD);
  let response = await client.request('POST', '/api/v1/devices', { json: { name: 'No CSRF' } });
  assert.equal(response.status, 403);
  assert.equal(response.json.error, 'csrf');
  response = await client.request('POST', '/api/v1/devices', {
    json: { name: 'Wrong CSRF' },
    headers: { 'X-CSRF-Token': 'x'.repeat(43) },
  });
  assert.equal(response.status, 403);
  const devices = (await client.api('GET', '/api/v1/devices')).json.devices;
  assert.equal(devices.length, 0, 'nothing was created');
  response = await client.api('POST', '/api/v1/devices', { json: { name: 'With CSRF' } });
  assert.equal(response.status, 201);
  assert.match(response.json.secret, /^[0-9a-f]{64}$/);
  response = await client.api('DELETE', `/api/v1/devices/${response.json.device.id}`);
  assert.equal(response.status, 204);
});

test('logout ends the session', async () => {
  const client = await hub.admin('admin', PASSWORD);
  const cookie = client.cookies.get('__Host-doorstep_session');
  assert.equal((await client.api('POST', '/auth/logout')).status, 204);
  const stale = new Client(hub.url);
  stale.cookies.set('__Host-doorstep_session', cookie);
  assert.equal((await stale.request('GET', '/api/v1/me')).status, 401);
});

test('a viewer cannot change settings or see doorbells not granted', async () => {
  const admin = await hub.admin('admin', PASSWORD);
  const front = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } })).json.device;
  const back = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Back' } })).json.device;
  let response = await admin.api('POST', '/api/v1/users', {
    json: { username: 'guest', password: PASSWORD, role: 'viewer', devices: [front.id] },
  });
  assert.equal(response.status, 201);
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('guest', PASSWORD)).status, 200);
  const visible = (await viewer.api('GET', '/api/v1/devices')).json.devices.map((d) => d.id);
  assert.deepEqual(visible, [front.id]);
  assert.equal((await viewer.api('GET', `/api/v1/devices/${back.id}`)).status, 404);
  assert.equal((await viewer.api('POST', '/api/v1/devices', { json: { name: 'X' } })).status, 403);
  assert.equal((await viewer.api('GET', '/api/v1/users')).status, 403);
  for (const device of [front, back]) await admin.api('DELETE', `/api/v1/devices/${device.id}`);
});

test('security headers on API, UI and error responses; wrong Host refused', async () => {
  const client = new Client(hub.url);
  for (const path of ['/', '/app.js', '/api/v1/devices', '/no-such-file.html']) {
    const response = await client.request('GET', path);
    const csp = response.headers['content-security-policy'] || '';
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', path);
  }
  const page = await client.request('GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  const script = await client.request('GET', '/app.js');
  assert.match(script.headers['content-type'], /^text\/javascript/);
  for (const path of ['/../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/.git/config']) {
    const response = await client.request('GET', path);
    assert.notEqual(response.status, 200, path);
  }
  const misdirected = await client.request('GET', '/auth/session', { headers: { Host: 'evil.example' } });
  assert.equal(misdirected.status, 421);
});

test('the hub serves TLS 1.2 with an ECDSA P-256 certificate naming localhost', async () => {
  const socket = tls.connect({ host: '127.0.0.1', port: hub.port, rejectUnauthorized: false, servername: 'localhost' });
  await new Promise((resolveConnect, reject) => { socket.once('secureConnect', resolveConnect); socket.once('error', reject); });
  const certificate = socket.getPeerCertificate();
  assert.equal(socket.getProtocol(), 'TLSv1.2');
  assert.equal(certificate.asn1Curve, 'prime256v1');
  assert.match(certificate.subjectaltname, /DNS:localhost/);
  assert.match(certificate.subjectaltname, /IP Address:127\.0\.0\.1/);
  socket.end();
});

test('a doorbell with a wrong secret, or an unknown id, is refused', async () => {
  const admin = await hub.admin('admin', PASSWORD);
  const device = hub.addDevice('Side gate');
  const wrong = device.secret.replace(/^./, device.secret[0] === '0' ? '1' : '0');
  const impostor = await Doorbell.start({ hub, id: device.id, secret: wrong, fps: 5 });
  const unknown = await Doorbell.start({ hub, id: 'ffffffffffff', secret: device.secret, fps: 5 });
  try {
    await waitFor(async () => (await impostor.stats()).auth_failures >= 1 && (await unknown.stats()).auth_failures >= 1,
      { what: 'both doorbells to be refused' });
    await sleep(1000);
    const state = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    assert.equal(state.online, false);
    assert.equal(state.video.frames, 0, 'no frame from an impostor is accepted');
    assert.equal((await impostor.stats()).connected, false);
    await waitFor(() => hub.log.some((line) => line.includes('auth_failed')), { what: 'the hub to log the refusal' });
  } finally {
    await impostor.stop();
    await unknown.stop();
  }
  // The right secret gets in; deleting the doorbell disconnects it at once.
  const genuine = await Doorbell.start({ hub, ...device, fps: 5 });
  try {
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online,
      { what: 'the genuine doorbell online' });
    assert.equal((await admin.api('DELETE', `/api/v1/devices/${device.id}`)).status, 204);
    await waitFor(async () => !(await genuine.stats()).connected, { what: 'the removed doorbell to be disconnected' });
    await sleep(1500);
    assert.equal((await genuine.stats()).connected, false, 'a removed doorbell stays out');
  } finally {
    await genuine.stop();
  }
  // Removing with the CLI while connected takes effect at once too.
  const other = hub.addDevice('Garage');
  const connected = await Doorbell.start({ hub, ...other, fps: 5 });
  try {
    await waitFor(async () => (await connected.stats()).connected, { what: 'the garage doorbell online' });
    hub.cli(['device', 'remove', other.id]);
    await waitFor(async () => !(await connected.stats()).connected, { what: 'the CLI-removed doorbell to be disconnected' });
    await waitFor(() => connected.log.some((line) => line.includes('closed the link: auth_failed')),
      { what: 'the doorbell to be told it was removed' });
  } finally {
    await connected.stop();
  }
  assert.ok(!existsSync(join(data.dir, 'setup-token')));
});

// Last: the lockout also covers this client's address for a while.
test('repeated wrong passwords are rate limited', async () => {
  const client = new Client(hub.url);
  const statuses = [];
  for (let i = 0; i < 7; i++) statuses.push((await client.login('ratelimit-victim', 'wrong password!')).status);
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  const blocked = await client.login('ratelimit-victim', 'wrong password!');
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers['retry-after']) >= 1);
});
