// Request rules of the hub's API: every JSON body is one object with nothing
// after it and no NUL (trailing data, a second object, \u0000 and raw NUL
// bytes get 400), Content-Type must be application/json itself (415 for
// application/jsonfoo), the doorbell's encoder settings are admin-only, and
// the database with its -wal and -shm is readable by the hub's user only,
// even when the hub starts under a umask that would allow more.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, tempDir, waitFor } from '../lib/harness.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-rules-');
let hub;

before(async () => {
  const previous = process.umask(0);
  try {
    hub = await Hub.start({ dataDir: data.dir });
  } finally {
    process.umask(previous);
  }
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

// A login with a hand-made body and Content-Type.
function rawLogin(body, contentType = 'application/json') {
  const client = new Client(hub.url);
  return client.request('POST', '/auth/login', {
    body: Buffer.from(body),
    headers: { ...client.originHeaders(), 'Content-Type': contentType },
  });
}

test('a JSON body with data after the object, or with NUL, is refused with 400', async () => {
  const admin = await hub.admin('admin', PASSWORD);
  const login = JSON.stringify({ username: 'admin', password: PASSWORD });
  const refused = [
    `${login} x`,
    `${login}{"username":"admin","password":"other"}`,
    `${login}\0`,
    '{"username":"adm\\u0000in","password":"x"}',
    `{"username":"admin","password":"${PASSWORD}\\u0000tail"}`,
    '{"username":"admin"\0,"password":"x"}',
  ];
  for (const body of refused) {
    const response = await rawLogin(body);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(response.json.error, 'bad_json', JSON.stringify(body));
  }
  // White space after the object is fine, and so is an escaped backslash
  // followed by the letters u0000.
  assert.equal((await rawLogin(`${login} \r\n\t`)).status, 200);
  assert.equal((await rawLogin('{"username":"admin","password":"\\\\u0000"}')).status, 401);

  // Every route reads bodies the same way: nothing is created.
  const response = await admin.api('POST', '/api/v1/devices', {
    body: Buffer.from('{"name":"Porch"} {"name":"Second"}'),
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(response.status, 400);
  assert.equal((await admin.api('GET', '/api/v1/devices')).json.devices.length, 0);
});

test('Content-Type must be application/json, optionally with parameters', async () => {
  const login = JSON.stringify({ username: 'admin', password: PASSWORD });
  for (const type of ['application/jsonfoo', 'application/json-seq', 'text/plain', 'application/jso']) {
    assert.equal((await rawLogin(login, type)).status, 415, type);
  }
  for (const type of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset=UTF-8']) {
    assert.equal((await rawLogin(login, type)).status, 200, type);
  }
});

test("a viewer cannot change the doorbell's encoder; an admin can ask", async () => {
  const admin = await hub.admin('admin', PASSWORD);
  const device = (await admin.api('POST', '/api/v1/devices', { json: { name: 'Front' } })).json.device;
  const created = await admin.api('POST', '/api/v1/users', {
    json: { username: 'guest', password: PASSWORD, role: 'viewer', devices: [device.id] },
  });
  assert.equal(created.status, 201);
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('guest', PASSWORD)).status, 200);
  assert.equal((await viewer.api('GET', `/api/v1/devices/${device.id}`)).status, 200, 'the viewer sees the doorbell');
  const refused = await viewer.api('POST', `/api/v1/devices/${device.id}/video`, { json: { bitrate_kbps: 300 } });
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error, 'forbidden');
  // The admin passes the role check (the doorbell is offline, so 409).
  const asked = await admin.api('POST', `/api/v1/devices/${device.id}/video`, { json: { bitrate_kbps: 300 } });
  assert.equal(asked.status, 409);
});

test('the database, its -wal and its -shm are 0600 even under umask 000', async () => {
  const database = join(data.dir, 'doorstep.db');
  // The hub is running and has written (setup, sessions): WAL mode keeps
  // both side files while connections are open.
  await waitFor(() => existsSync(`${database}-wal`) && existsSync(`${database}-shm`),
    { what: 'the -wal and -shm files' });
  for (const file of [database, `${database}-wal`, `${database}-shm`]) {
    assert.equal((statSync(file).mode & 0o777).toString(8), '600', file);
  }
});
