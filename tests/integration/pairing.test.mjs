// Pairing with a setup code (SPAKE2+ on /pair/v1, docs/protocol.md "Pairing
// exchange"), with the real hub and the real doorbelld started with a fresh
// --state-dir and no id or secret:
//   - it waits in GET /api/v1/pairing; the code from its setup-code file
//     pairs it through the API; it is online and streaming within a bound,
//     authenticating with its own key; every attempt is audited;
//   - five wrong codes close its pairing mode: a sixth attempt, even with
//     the right code, is refused until `hold 10`;
//   - a relay between doorbell and hub (TLS with its own certificate,
//     passing every byte through) cannot complete pairing with the right
//     code typed at the hub;
//   - the hub's database holds no secret for a paired doorbell, and no value
//     of its row authenticates a link as it (tried: as an HMAC secret and as
//     an ECDSA key), while the doorbell's own key does;
//   - the CLI lists and pairs through the running hub's pairing socket;
//   - `hold 30` (factory reset) gives a new id and code, forgets the hub.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, createPrivateKey, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Hub, Doorbell, waitFor, tempDir } from '../lib/harness.mjs';
import { LinkPeer, TYPE, encodeMessage } from '../lib/link-peer.mjs';
import { makeCertificate } from '../lib/notify-receiver.mjs';
import { patience } from '../lib/patience.mjs';

const data = tempDir('doorstep-pairing-');
const states = tempDir('doorstep-pairing-states-');
let hub, admin;
const doorbells = [];

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
});

after(async () => {
  for (const doorbell of doorbells) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
  states.cleanup();
});

function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

const readState = (dir, name) => readFileSync(join(dir, name), 'utf8').trim();
const fileMode = (dir, name) => statSync(join(dir, name)).mode & 0o777;

async function waiting() {
  const response = await admin.api('GET', '/api/v1/pairing');
  assert.equal(response.status, 200);
  return response.json.waiting;
}

async function waitUntilWaiting(id, what = `doorbell ${id} waiting to pair`) {
  await waitFor(async () => (await waiting()).some((entry) => entry.device_id === id), { timeout: patience(30000), what });
}

function pair(id, code, name = 'Front door') {
  return admin.api('POST', `/api/v1/pairing/${id}`, { json: { code, name } });
}

// A fresh doorbell that pairs, with its state directory.
async function pairingDoorbell(name, options = {}) {
  const stateDir = join(states.dir, name);
  const doorbell = await Doorbell.startPairing({ hub, stateDir, ...options });
  doorbells.push(doorbell);
  await waitFor(() => existsSync(join(stateDir, 'device-id')), { what: 'device-id' });
  return { doorbell, stateDir, id: readState(stateDir, 'device-id'), code: readState(stateDir, 'setup-code') };
}

// A code that is well-formed and not code.
function wrongCode(code, salt) {
  const trivial = new Set(['12345678', '87654321', ...Array.from({ length: 10 }, (_, d) => String(d).repeat(8))]);
  for (let step = 1; ; step++) {
    const digit = (Number(code[7]) + step + salt) % 10;
    const candidate = `${code.slice(0, 7)}${digit}`;
    if (candidate !== code && !trivial.has(candidate)) return candidate;
  }
}

let paired; // the doorbell of the first test, for the later ones

test('a new doorbell waits, the code from its setup-code file pairs it, it streams with its own key', async () => {
  paired = await pairingDoorbell('first');
  const { doorbell, stateDir, id, code } = paired;
  assert.match(id, /^[0-9a-f]{12}$/);
  assert.match(code, /^[0-9]{8}$/);
  for (const name of ['device-id', 'setup-code', 'pairing-record']) assert.equal(fileMode(stateDir, name), 0o600, name);
  assert.ok(!readState(stateDir, 'pairing-record').includes(code), 'the record does not hold the code');
  await waitFor(() => doorbell.log.some((line) => line.includes(`pairing mode: setup code ${code.slice(0, 4)}-${code.slice(4)}, device id ${id}`)),
    { what: 'the setup code in the log' });

  await waitUntilWaiting(id);
  const entry = (await waiting()).find((item) => item.device_id === id);
  assert.equal(entry.model, 'Doorstep simulator');
  assert.equal(entry.address, '127.0.0.1');
  assert.ok(entry.since_ms >= 0);

  const response = await pair(id, `${code.slice(0, 4)}-${code.slice(4)}`);
  assert.equal(response.status, 201, response.body.toString());
  assert.equal(response.json.id, id);
  assert.equal(response.json.name, 'Front door');
  assert.equal(response.json.auth, 'key');

  await waitFor(async () => {
    const device = (await admin.api('GET', `/api/v1/devices/${id}`)).json;
    return device.online && device.video.frames > 0;
  }, { timeout: patience(20000), what: 'the paired doorbell online and streaming' });
  assert.ok(!(await waiting()).some((item) => item.device_id === id), 'no longer waiting');
  assert.equal(fileMode(stateDir, 'hub.json'), 0o600);
  assert.equal(fileMode(stateDir, 'device-key.pem'), 0o600);
  const hubJson = JSON.parse(readState(stateDir, 'hub.json'));
  assert.equal(hubJson.url, `wss://127.0.0.1:${hub.port}`);
  const pin = execFileSync('sh', ['-c', `openssl pkey -in "${join(hub.dataDir, 'tls', 'hub.key')}" -pubout -outform DER | sha256sum | cut -d' ' -f1`]).toString().trim();
  assert.equal(hubJson.hub_key_sha256, pin);
  assert.ok(hub.log.some((line) => line.includes(`doorbell ${id} (Front door) connected`)));

  const audit = sql(`SELECT action || ' ' || detail FROM audit_log WHERE target = '${id}' ORDER BY id`).split('\n');
  assert.deepEqual(audit.map((line) => line.split(' ')[0]), ['pair_attempt', 'pair_ok']);
  assert.match(audit[1], /doorbell 127\.0\.0\.1: ok/);
});

test('the hub keeps no secret of a paired doorbell: no value of its row authenticates as it', async () => {
  const { id, stateDir } = paired;
  const row = sql(`SELECT auth, secret IS NULL, length(public_key) FROM devices WHERE id = '${id}'`);
  assert.equal(row, 'key|1|65');
  // Every value of the row, as bytes.
  const values = JSON.parse(execFileSync('sqlite3', ['-json', join(hub.dataDir, 'doorstep.db'),
    `SELECT id, name, hex(secret) AS secret, created_at, revoked_at, last_seen_at, firmware, auth, hex(public_key) AS public_key FROM devices WHERE id = '${id}'`]).toString())[0];
  const candidates = [];
  for (const [column, value] of Object.entries(values)) {
    if (value === null) continue;
    const text = String(value);
    const raw = (column === 'secret' || column === 'public_key') ? Buffer.from(text, 'hex') : Buffer.from(text);
    candidates.push(raw, createHash('sha256').update(raw).digest());
    for (let offset = 0; offset + 32 <= raw.length; offset += 1) candidates.push(raw.subarray(offset, offset + 32));
  }

  // The doorbell's own key authenticates (so the tries below can succeed).
  const ownKey = createPrivateKey(readFileSync(join(stateDir, 'device-key.pem')));
  assert.equal(await keyPeerOutcome(id, ownKey), 'welcome');
  // A relay holds two TLS sessions: the doorbell's real signature over the
  // binding of the relay's session with the doorbell (here: another session
  // of the same hub) fails on the relay's session with the hub.
  const otherSession = await otherTlsBinding();
  assert.equal(await keyPeerOutcome(id, ownKey, () => otherSession), 'auth_failed', 'a signature over another TLS session');

  let tried = 0;
  for (const candidate of candidates) {
    assert.equal(await hmacPeerOutcome(id, candidate), 'auth_failed', 'an HMAC over a value of the row');
    const key = scalarKey(candidate);
    if (key) {
      assert.equal(await keyPeerOutcome(id, key), 'auth_failed', 'a signature with a value of the row as the key');
      tried++;
    }
  }
  assert.ok(tried > 10, `${tried} keys tried`);
  // The real doorbell is still the one connected.
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${id}`)).json.online, { what: 'doorbell online again' });
});

// An ECDSA P-256 private key with scalar d (32 bytes), or null if d is not one.
function scalarKey(d) {
  if (d.length !== 32) return null;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    const b64 = (bytes) => bytes.toString('base64url');
    return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64(d), x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) }, format: 'jwk' });
  } catch {
    return null;
  }
}

// Authenticate a link as id with the legacy HMAC and secret; 'welcome' or the error code.
async function hmacPeerOutcome(id, secret) {
  const peer = new LinkPeer(hub.port, { id, secret: secret.toString('hex') });
  try {
    await peer.welcomed;
    return 'welcome';
  } catch (error) {
    return /hub error (\S+):/.exec(error.message)?.[1] ?? error.message;
  } finally {
    peer.socket.terminate();
  }
}

// The channel binding of a TLS session of our own with the hub, then closed.
function otherTlsBinding() {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: hub.port, rejectUnauthorized: false }, () => {
      const binding = socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding');
      socket.destroy();
      resolve(binding);
    });
    socket.once('error', reject);
  });
}

// Authenticate a link as id by signing the challenge with key, bound to this
// TLS session (docs/protocol.md, "Authentication with a device key"), or to
// the binding bindingOf(socket) gives.
function keyPeerOutcome(id, key, bindingOf = (socket) => socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding')) {
  return new Promise((resolve) => {
    const socket = new WebSocket(`wss://127.0.0.1:${hub.port}/link/v1`, { rejectUnauthorized: false });
    const finish = (outcome) => { socket.terminate(); resolve(outcome); };
    socket.once('error', (error) => finish(error.message));
    socket.once('open', () => socket.send(encodeMessage(TYPE.HELLO, { device_id: id, firmware: 'pairing test', protocol: 1, auth: 'key' })));
    socket.on('message', (data) => {
      const message = Buffer.from(data);
      const json = JSON.parse(message.subarray(16).toString());
      if (message[1] === TYPE.CHALLENGE) {
        const binding = bindingOf(socket._socket);
        const signed = Buffer.concat([Buffer.from('doorstep-link-v2'), Buffer.from(json.nonce, 'hex'), binding, Buffer.from(id)]);
        const signature = sign('sha256', signed, { key, dsaEncoding: 'ieee-p1363' });
        socket.send(encodeMessage(TYPE.AUTH, { signature: signature.toString('hex') }));
      } else if (message[1] === TYPE.WELCOME) {
        finish('welcome');
      } else if (message[1] === TYPE.ERROR) {
        finish(json.code);
      }
    });
  });
}

test('a doorbell added with a secret still authenticates with it', async () => {
  const device = hub.addDevice('Legacy');
  assert.equal(await hmacPeerOutcome(device.id, Buffer.from(device.secret, 'hex')), 'welcome');
  assert.equal((await admin.api('GET', `/api/v1/devices/${device.id}`)).json.auth, 'secret');
});

test('five wrong codes close pairing mode; the right code is refused until hold 10', async () => {
  const { doorbell, id, code } = await pairingDoorbell('wrong');
  await waitUntilWaiting(id);
  for (let attempt = 1; attempt <= 5; attempt++) {
    await waitUntilWaiting(id, `doorbell waiting before wrong code ${attempt}`);
    const response = await pair(id, wrongCode(code, attempt));
    assert.equal(response.status, 403, `attempt ${attempt}: ${response.body}`);
    assert.equal(response.json.error, 'wrong_code');
  }
  await waitFor(() => doorbell.log.some((line) => line.includes('wrong setup code (5 of 5)')), { what: 'the fifth wrong code counted' });
  const sixth = await pair(id, code);
  assert.ok([404, 409].includes(sixth.status), `the right code after five wrong ones: ${sixth.status} ${sixth.body}`);
  assert.ok(!existsSync(join(states.dir, 'wrong', 'hub.json')));
  assert.equal(sql(`SELECT count(*) FROM devices WHERE id = '${id}'`), '0');
  const failures = sql(`SELECT count(*) FROM audit_log WHERE action = 'pair_fail' AND target = '${id}' AND detail LIKE 'doorbell 127.0.0.1: wrong_code%'`);
  assert.equal(failures, '5');

  assert.match(await doorbell.control('hold 10'), /pairing mode open/);
  await waitUntilWaiting(id, 'doorbell waiting again after hold 10');
  const response = await pair(id, code, 'Side door');
  assert.equal(response.status, 201, response.body.toString());
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${id}`)).json.online, { timeout: patience(20000), what: 'online after hold 10' });
});

// A TLS relay on its own certificate: every byte from the doorbell goes to
// the hub and back, decrypted and re-encrypted in the middle.
async function startRelay(dir) {
  const { key, cert } = makeCertificate(dir);
  const sockets = new Set();
  const server = tls.createServer({ key, cert }, (inbound) => {
    const outbound = tls.connect({ host: '127.0.0.1', port: hub.port, rejectUnauthorized: false });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => { inbound.destroy(); outbound.destroy(); });
      socket.on('close', () => { inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => { for (const socket of sockets) socket.destroy(); server.close(); } };
}

test('a relay between doorbell and hub cannot complete pairing, even with the right code', async () => {
  const relayDir = tempDir('doorstep-relay-');
  const relay = await startRelay(relayDir.dir);
  try {
    const { doorbell, id, code, stateDir } = await pairingDoorbell('relayed', { hubUrl: `wss://127.0.0.1:${relay.port}` });
    await waitUntilWaiting(id, 'the relayed doorbell waiting');
    const response = await pair(id, code);
    assert.equal(response.status, 403, response.body.toString());
    assert.equal(response.json.error, 'wrong_code');
    assert.ok(!existsSync(join(stateDir, 'hub.json')), 'the doorbell did not pair');
    assert.ok(!existsSync(join(stateDir, 'device-key.pem')));
    assert.equal(sql(`SELECT count(*) FROM devices WHERE id = '${id}'`), '0');
    await waitFor(() => doorbell.log.some((line) => line.includes('wrong setup code (1 of 5)')), { what: 'the doorbell counted the failed attempt' });
  } finally {
    relay.close();
    relayDir.cleanup();
  }
});

test('the CLI lists waiting doorbells and pairs one through the running hub', async () => {
  const { id, code } = await pairingDoorbell('cli');
  await waitUntilWaiting(id);
  assert.equal(fileMode(hub.dataDir, 'pairing.sock'), 0o600);
  assert.match(hub.cli(['device', 'waiting']), new RegExp(`^${id} +Doorstep simulator +127\\.0\\.0\\.1$`, 'm'));
  assert.throws(() => hub.cli(['device', 'pair', id, wrongCode(code, 0)]), /not paired: wrong_code/);
  assert.match(hub.cli(['device', 'pair', id, code, '--name', 'Garage']), new RegExp(`^paired ${id}$`, 'm'));
  const device = (await admin.api('GET', `/api/v1/devices/${id}`)).json;
  assert.equal(device.name, 'Garage');
  assert.equal(device.auth, 'key');
  assert.equal(sql(`SELECT group_concat(action || ' ' || username, ',') FROM audit_log WHERE target = '${id}'`),
    'pair_attempt cli,pair_fail cli,pair_attempt cli,pair_ok cli');
});

test('hold 30 (factory reset) gives a new id and setup code and forgets the hub', async () => {
  const { doorbell, stateDir, id, code } = paired;
  assert.match(await doorbell.control('hold 30'), /factory reset/);
  const newId = readState(stateDir, 'device-id');
  const newCode = readState(stateDir, 'setup-code');
  assert.notEqual(newId, id);
  assert.notEqual(newCode, code);
  assert.ok(!existsSync(join(stateDir, 'hub.json')));
  assert.ok(!existsSync(join(stateDir, 'device-key.pem')));
  assert.ok(doorbell.log.some((line) => line.includes(`setup code ${newCode.slice(0, 4)}-${newCode.slice(4)}, device id ${newId}`)));
  await waitFor(async () => !(await admin.api('GET', `/api/v1/devices/${id}`)).json.online, { timeout: patience(20000), what: 'the old identity offline' });
  await waitUntilWaiting(newId, 'the reset doorbell waiting under its new id');
  const response = await pair(newId, newCode, 'Reset door');
  assert.equal(response.status, 201, response.body.toString());
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${newId}`)).json.online, { timeout: patience(20000), what: 'online under the new id' });
});
