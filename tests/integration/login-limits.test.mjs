// Login limits under attack, with clients on several loopback addresses:
// racing wrong passwords are reserved before hashing (40 at once, 5
// checked, the rest 429 or, past the per-address connection bound, reset); five failures lock only that (username, address) pair, so the
// owner logs in from elsewhere; one address gets 20 failures an hour across
// accounts; an account gets 10 an hour from unknown devices across
// addresses, while the owner's known device (the __Host-doorstep_device
// cookie of an earlier login) still gets in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Client, tempDir } from '../lib/harness.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-limits-');
let hub;
let admin;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin('admin', PASSWORD);
  for (const username of ['owner', 'alice', 'bob', 'carol', 'dave', 'erin']) {
    const response = await admin.api('POST', '/api/v1/users', { json: { username, password: PASSWORD, role: 'viewer' } });
    assert.equal(response.status, 201, username);
  }
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

const from = (address) => new Client(hub.url, { localAddress: address });

// How many times the hub checked a password and found it wrong.
function failedChecks() {
  return hub.log.filter((line) => line.includes('wrong password for')).length;
}

test('40 parallel wrong passwords: at most 5 are checked, the rest get 429', async () => {
  const attacker = from('127.0.0.2');
  const before = failedChecks();
  // Each login is its own connection. One address may hold only so many at
  // once (a tenth of the worker pool, docs/security.md): connections past
  // that are reset before TLS and reach no login code at all.
  const responses = await Promise.all(Array.from({ length: 40 }, () =>
    attacker.login('admin', 'wrong password!').catch((error) => ({ status: error.code, headers: {} }))));
  const statuses = responses.map((r) => r.status);
  const checked = statuses.filter((s) => s === 401).length;
  assert.equal(statuses.filter((s) => s !== 401 && s !== 429 && s !== 'ECONNRESET').length, 0, statuses.join(','));
  assert.ok(statuses.filter((s) => s === 401 || s === 429).length >= 20,
    `at least 20 logins raced in the hub: ${statuses.join(',')}`);
  assert.equal(checked, 5, `401s: ${checked} of ${statuses.join(',')}`);
  assert.equal(failedChecks() - before, 5, 'five passwords were hashed and checked');
  for (const response of responses.filter((r) => r.status === 429)) {
    assert.ok(Number(response.headers['retry-after']) >= 1);
  }
  // Even the right password is refused now from that address...
  assert.equal((await attacker.login('admin', PASSWORD)).status, 429);
});

test('...but the owner logs in from another address with the right password', async () => {
  const owner = from('127.0.0.3');
  const response = await owner.login('admin', PASSWORD);
  assert.equal(response.status, 200);
  assert.equal((await owner.api('GET', '/api/v1/me')).json.username, 'admin');
});

test('one address gets 20 failures an hour across accounts, then 429 for every account', async () => {
  const attacker = from('127.0.0.4');
  const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const statuses = [];
  for (let i = 0; i < 20; i++) statuses.push((await attacker.login(names[i % 5], 'wrong password!')).status);
  assert.deepEqual(statuses, Array(20).fill(401), 'four tries at each of five accounts');
  const blocked = await attacker.login('owner', PASSWORD);
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers['retry-after']) > 60, 'locked for the rest of the hour');
  // Those accounts are not locked for anyone else.
  assert.equal((await from('127.0.0.5').login('alice', PASSWORD)).status, 200);
});

test('an account gets 10 failures an hour from unknown devices; its known device still gets in', async () => {
  const device = from('127.0.0.6');
  assert.equal((await device.login('owner', PASSWORD)).status, 200, 'the owner logs in once: a known device');
  const cookie = device.cookies.get('__Host-doorstep_device');
  assert.match(cookie || '', /^\d+\.\d+\.[A-Za-z0-9_-]{43}$/);
  assert.equal((await device.api('POST', '/auth/logout')).status, 204);

  // An attacker rotating addresses: two guesses from each of five.
  const before = failedChecks();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await from(`127.0.0.${10 + Math.floor(i / 2)}`).login('owner', 'wrong password!')).status);
  assert.deepEqual(statuses, Array(10).fill(401));
  assert.equal(failedChecks() - before, 10);
  for (const address of ['127.0.0.20', '127.0.0.21']) {
    assert.equal((await from(address).login('owner', 'wrong password!')).status, 429, address);
    assert.equal((await from(address).login('owner', PASSWORD)).status, 429, `${address}, right password, unknown device`);
  }
  assert.equal(failedChecks() - before, 10, 'no further guess was checked');

  // The owner's browser, from its own address or from an attacker's.
  assert.equal((await device.login('owner', PASSWORD)).status, 200);
  const travelling = from('127.0.0.20');
  travelling.cookies.set('__Host-doorstep_device', cookie);
  assert.equal((await travelling.login('owner', PASSWORD)).status, 200);
  // A forged or someone else's cookie is no known device.
  const forged = from('127.0.0.22');
  forged.cookies.set('__Host-doorstep_device', cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  assert.equal((await forged.login('owner', PASSWORD)).status, 429);
  const other = from('127.0.0.23');
  assert.equal((await other.login('bob', PASSWORD)).status, 200);
  other.cookies.delete('__Host-doorstep_session');
  assert.equal((await other.login('owner', PASSWORD)).status, 429, "bob's device cookie does not vouch for owner");
});
