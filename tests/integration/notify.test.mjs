// Notifications: ntfy and Standard Webhooks delivered by the hub's outbox to
// local receivers that check what ntfy and a webhook verifier would check
// (headers, signature with node's crypto, the attachment is the doorbell's
// JPEG at its size). Retries with backoff and Retry-After, exactly one
// delivery after failures, restarts (SIGTERM and kill -9) that lose nothing
// and send nothing twice, and bad targets that are reported without
// holding up good ones. A ring through the event engine notifies both.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Hub, Client, Doorbell, freePort, sleep, tempDir, waitFor } from '../lib/harness.mjs';
import { NotifyReceiver, makeCertificate, verifyStandardWebhook, jpegSize, readNtfy } from '../lib/notify-receiver.mjs';

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

// A hub in a fresh data directory with a logged-in admin; stopped (with its
// sanitizer check) and removed after the file.
async function startHub(dataDir = null) {
  const data = dataDir ? { dir: dataDir, cleanup() {} } : tempDir('doorstep-notify-');
  const hub = await Hub.start({ dataDir: data.dir });
  const admin = await hub.admin();
  const context = { hub, admin, data, stopped: false };
  cleanups.push(async () => {
    if (!context.stopped) await hub.stop();
    data.cleanup();
  });
  return context;
}

async function receiver(options) {
  const server = await NotifyReceiver.start(options);
  cleanups.push(() => server.close());
  return server;
}

// SQL against the hub's database while it runs (WAL; the CLI waits for locks).
function sql(hub, statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

async function addTarget(admin, body) {
  const response = await admin.api('POST', '/api/v1/notifications/targets', { json: body });
  assert.equal(response.status, 201, response.body.toString());
  return { ...response.json.target, secret: response.json.secret };
}

async function deliveries(admin, query = '') {
  const response = await admin.api('GET', `/api/v1/notifications/deliveries?limit=500${query}`);
  assert.equal(response.status, 200);
  return response.json.deliveries;
}

const deliveryOf = async (admin, id) => (await deliveries(admin)).find((row) => row.id === id);

async function sendTest(admin, target) {
  const response = await admin.api('POST', `/api/v1/notifications/targets/${target.id}/test`);
  assert.equal(response.status, 202, response.body.toString());
  return response.json.delivery_id;
}

// Queue an event the way the event engine does, for the given targets:
// the event row (with a snapshot file if given) and one outbox row each.
function queueEvent(hub, { device, type = 'ring', snapshot = null, targets }) {
  const now = Date.now();
  const blob = snapshot ? `readfile('${snapshot}')` : 'NULL';
  const id = Number(sql(hub, `INSERT INTO events (device_id, type, start_ms, end_ms, clip_start_ms, clip_end_ms,
    score, boxes, snapshot, notify) VALUES ('${device}', '${type}', ${now}, ${now}, ${now - 5000}, ${now + 10000}, 1,
    '[{"x":0.25,"y":0.1,"w":0.5,"h":0.8}]', ${blob}, 'sent') RETURNING id`));
  for (const target of targets) {
    sql(hub, `INSERT INTO notification_outbox (event_id, target_id, message_id, state, attempts, next_attempt_ms,
      created_ms) VALUES (${id}, ${target.id}, 'msg_${randomBytes(16).toString('hex')}', 'pending', 0, ${now}, ${now})`);
  }
  return { id, start: now };
}

test('targets API: validation, admin only, secrets never shown again, audited', async () => {
  const { hub, admin } = await startHub();
  const device = hub.addDevice('Porch');
  const bad = [
    { name: 'x', kind: 'ntfy', url: 'ftp://ntfy.sh', topic: 't' },
    { name: 'x', kind: 'ntfy', url: 'https://user:pw@ntfy.sh', topic: 't' },
    { name: 'x', kind: 'ntfy', url: 'https://ntfy.sh', topic: 'a/b' },
    { name: 'x', kind: 'ntfy', url: 'https://ntfy.sh', topic: 't', token: 'tk_1', username: 'u' },
    { name: 'x', kind: 'ntfy', url: 'https://ntfy.sh?x=1', topic: 't' },
    { name: 'x', kind: 'webhook', url: 'https://h.example/in', topic: 't' },
    { name: 'x', kind: 'webhook', url: 'https://h.example/in', secret: 'not-whsec' },
    { name: 'x', kind: 'webhook', url: 'https://h.example/in', event_types: ['ring', 'fire'] },
    { name: 'x', kind: 'webhook', url: 'https://h.example/in', device_ids: ['nosuchdoorbell'] },
    { name: 'x', kind: 'webhook', url: 'https://h.example/in', schedule: { days: [8], from: '22:00', to: '07:00' } },
    { name: 'x', kind: 'webhook', url: 'https://h.example/in', schedule: { days: [1], from: '25:00', to: '07:00' } },
    { name: '', kind: 'webhook', url: 'https://h.example/in' },
    { name: 'a\nb', kind: 'webhook', url: 'https://h.example/in' },
    { name: 'x', kind: 'smtp', url: 'https://h.example/in' },
    { name: 'x', kind: 'webhook', url: `https://h.example/${'a'.repeat(600)}` },
  ];
  for (const body of bad) {
    const response = await admin.api('POST', '/api/v1/notifications/targets', { json: body });
    assert.equal(response.status, 400, `${JSON.stringify(body)} -> ${response.status} ${response.body}`);
    assert.equal(response.json.error, 'invalid');
  }

  const ntfy = await addTarget(admin, {
    name: 'Phone', kind: 'ntfy', url: 'https://ntfy.example.org', topic: 'door_42', token: 'tk_secret',
    event_types: ['ring', 'motion'], device_ids: [device.id],
    schedule: { days: [1, 2, 3, 4, 5], from: '22:00', to: '07:00' },
  });
  assert.equal(ntfy.token_set, true);
  assert.equal(ntfy.secret, undefined);
  assert.deepEqual(ntfy.event_types, ['ring', 'motion']);
  assert.deepEqual(ntfy.device_ids, [device.id]);
  assert.deepEqual(ntfy.schedule, { days: [1, 2, 3, 4, 5], from: '22:00', to: '07:00' });
  const hook = await addTarget(admin, { name: 'Automation', kind: 'webhook', url: 'https://h.example/in?k=v' });
  assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a fresh secret is shown once');
  assert.equal(Buffer.from(hook.secret.slice(6), 'base64').length, 32);

  // Never again in any answer.
  const everything = [
    (await admin.api('GET', '/api/v1/notifications/targets')).body.toString(),
    (await admin.api('GET', `/api/v1/notifications/targets/${hook.id}`)).body.toString(),
    (await admin.api('GET', `/api/v1/notifications/targets/${ntfy.id}`)).body.toString(),
  ].join('\n');
  assert.ok(!everything.includes(hook.secret.slice(6)), 'the webhook secret leaks');
  assert.ok(!everything.includes('tk_secret'), 'the ntfy token leaks');
  assert.match(everything, /"secret_set":true/);

  // Changing: partial updates keep the rest; the kind cannot change;
  // rotating shows the new secret once.
  let response = await admin.api('PUT', `/api/v1/notifications/targets/${ntfy.id}`, { json: { enabled: false, token: null } });
  assert.equal(response.status, 200);
  assert.equal(response.json.target.enabled, false);
  assert.equal(response.json.target.token_set, false);
  assert.equal(response.json.target.topic, 'door_42');
  response = await admin.api('PUT', `/api/v1/notifications/targets/${ntfy.id}`, { json: { kind: 'webhook' } });
  assert.equal(response.status, 400);
  response = await admin.api('PUT', `/api/v1/notifications/targets/${hook.id}`, { json: { rotate_secret: true } });
  assert.equal(response.status, 200);
  assert.match(response.json.secret, /^whsec_/);
  assert.notEqual(response.json.secret, hook.secret);
  assert.equal((await admin.api('PUT', '/api/v1/notifications/targets/999', { json: { name: 'x' } })).status, 404);

  // Viewers may not see or touch any of it.
  const added = await admin.api('POST', '/api/v1/users', { json: { username: 'viewer', password: 'correct horse battery staple', role: 'viewer' } });
  assert.equal(added.status, 201, added.body.toString());
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('viewer', 'correct horse battery staple')).status, 200);
  assert.equal((await viewer.api('GET', '/api/v1/notifications/targets')).status, 403);
  assert.equal((await viewer.api('GET', '/api/v1/notifications/deliveries')).status, 403);
  assert.equal((await viewer.api('POST', `/api/v1/notifications/targets/${hook.id}/test`)).status, 403);

  assert.equal((await admin.api('GET', '/api/v1/notifications/deliveries?state=bogus')).status, 400);
  assert.equal((await admin.api('DELETE', `/api/v1/notifications/targets/${ntfy.id}`)).status, 204);
  assert.equal((await admin.api('GET', `/api/v1/notifications/targets/${ntfy.id}`)).status, 404);
  const audit = sql(hub, "SELECT action || ' ' || detail FROM audit_log WHERE action LIKE 'notify_%' ORDER BY id");
  assert.match(audit, /notify_target_add name=Phone;kind=ntfy;url=https:\/\/ntfy.example.org/);
  assert.match(audit, /notify_target_rotate name=Automation/);
  assert.match(audit, /notify_target_delete name=Phone/);
  assert.ok(!audit.includes('k=v') && !audit.includes('tk_secret') && !audit.includes('whsec_'), audit);
});

test('test messages: ntfy over http and a webhook over https as ntfy and a Standard Webhooks verifier see them', async () => {
  const { hub, admin } = await startHub();
  const plain = await receiver();
  const secure = await receiver({ tls: makeCertificate(hub.dataDir) });
  const ntfy = await addTarget(admin, { name: 'Phone', kind: 'ntfy', url: plain.url, topic: 'door', token: 'tk_abc' });
  const hook = await addTarget(admin, { name: 'Hook', kind: 'webhook', url: `${secure.url}/hooks/in?source=doorstep`, insecure_tls: true });
  const ntfyDelivery = await sendTest(admin, ntfy);
  const hookDelivery = await sendTest(admin, hook);
  await waitFor(() => plain.to('/door').length === 1 && secure.to('/hooks/in').length === 1, { what: 'both test messages' });

  const message = readNtfy(plain.to('/door')[0]);
  assert.equal(message.title, 'Doorstep: test notification');
  assert.equal(message.authorization, 'Bearer tk_abc');
  assert.match(message.message, /test from Doorstep/);
  assert.equal(plain.to('/door')[0].method, 'POST');

  const entry = secure.to('/hooks/in')[0];
  assert.equal(entry.url, '/hooks/in?source=doorstep');
  const payload = verifyStandardWebhook(entry, hook.secret);
  assert.equal(payload.type, 'notification.test');
  assert.equal(payload.data.target_id, hook.id);
  assert.throws(() => verifyStandardWebhook(entry, `whsec_${randomBytes(32).toString('base64')}`), /no valid signature/);

  await waitFor(async () => (await deliveryOf(admin, hookDelivery))?.state === 'delivered', { what: 'delivered' });
  for (const id of [ntfyDelivery, hookDelivery]) {
    const row = await deliveryOf(admin, id);
    assert.equal(row.state, 'delivered');
    assert.equal(row.attempts, 1);
    assert.equal(row.last_status, 200);
    assert.equal(row.test, true);
  }
  assert.equal((await deliveryOf(admin, hookDelivery)).message_id, entry.headers['webhook-id']);
  const targets = (await admin.api('GET', '/api/v1/notifications/targets')).json.targets;
  assert.equal(targets.find((t) => t.id === hook.id).last_delivery.state, 'delivered');
});

test('an event with its snapshot: the ntfy attachment and the webhook carry the doorbell JPEG at its size', async () => {
  const { hub, admin } = await startHub();
  const device = hub.addDevice('Porch');
  const doorbell = await Doorbell.start({ hub, ...device, size: '640x360' });
  let jpeg;
  try {
    jpeg = await waitFor(async () => {
      const response = await admin.api('GET', `/api/v1/devices/${device.id}/snapshot.jpg`);
      return response.status === 200 && response.body;
    }, { what: 'a doorbell snapshot' });
  } finally {
    await doorbell.stop();
  }
  const file = join(hub.dataDir, 'snapshot.jpg');
  writeFileSync(file, jpeg);
  const server = await receiver();
  const ntfy = await addTarget(admin, { name: 'Phone', kind: 'ntfy', url: `${server.url}/base/`, topic: 'door' });
  const hook = await addTarget(admin, { name: 'Hook', kind: 'webhook', url: `${server.url}/hook` });
  const event = queueEvent(hub, { device: device.id, snapshot: file, targets: [ntfy, hook] });
  await waitFor(() => server.to('/base/door').length === 1 && server.to('/hook').length === 1, { what: 'both notifications' });

  const message = readNtfy(server.to('/base/door')[0]);
  assert.equal(server.to('/base/door')[0].method, 'PUT');
  assert.equal(message.filename, 'snapshot.jpg');
  assert.equal(message.title, 'Porch: someone rang');
  assert.equal(message.priority, 5);
  assert.deepEqual(message.tags, ['bell']);
  assert.match(message.message, /^Someone rang the doorbell at \d\d:\d\d:\d\d\.$/);
  assert.equal(message.click, `${hub.url}/#/devices/${device.id}/recordings?t=${event.start}`);
  assert.equal(message.actions, `view, View live, ${hub.url}/#/devices/${device.id}; view, View clip, ${hub.url}/#/devices/${device.id}/recordings?t=${event.start - 5000}`);
  assert.ok(message.attachment.equals(jpeg), 'the attachment is the event snapshot');
  assert.deepEqual(jpegSize(message.attachment), { width: 640, height: 360 });

  const payload = verifyStandardWebhook(server.to('/hook')[0], hook.secret);
  assert.equal(payload.type, 'event.ring');
  assert.equal(payload.data.event_id, event.id);
  assert.equal(payload.data.device_name, 'Porch');
  assert.equal(payload.data.start_ms, event.start);
  assert.deepEqual(payload.data.boxes, [{ x: 0.25, y: 0.1, w: 0.5, h: 0.8 }]);
  assert.equal(payload.data.snapshot_url, `${hub.url}/api/v1/devices/${device.id}/events/${event.id}/snapshot.jpg`);
  assert.ok(Buffer.from(payload.data.snapshot_jpeg_base64, 'base64').equals(jpeg));
  const rows = await deliveries(admin);
  assert.deepEqual(rows.map((row) => [row.event_id, row.event_type, row.state]), [[event.id, 'ring', 'delivered'], [event.id, 'ring', 'delivered']]);
});

test('a receiver that fails 3 times then succeeds gets exactly one delivery; the UI sees 4 attempts', async () => {
  const { admin } = await startHub();
  const server = await receiver();
  server.on('/flaky', (entry, count) => (count <= 3 ? { status: 500, body: 'busy' } : { status: 204 }));
  const hook = await addTarget(admin, { name: 'Flaky', kind: 'webhook', url: `${server.url}/flaky` });
  const id = await sendTest(admin, hook);
  await waitFor(async () => (await deliveryOf(admin, id)).attempts >= 1 && server.to('/flaky').length === 1, { what: 'the first attempt' });
  const first = await deliveryOf(admin, id);
  assert.equal(first.state, 'pending');
  assert.equal(first.last_status, 500);
  assert.equal(first.last_error, 'HTTP 500');
  assert.ok(first.next_attempt_ms >= first.last_attempt_ms + 2000, 'backoff of at least 2 s');
  await waitFor(async () => (await deliveryOf(admin, id)).state === 'delivered', { timeout: 40000, what: 'the delivery' });
  const row = await deliveryOf(admin, id);
  assert.equal(row.attempts, 4);
  assert.equal(row.last_status, 204);
  assert.equal(row.last_error, '');
  const requests = server.to('/flaky');
  assert.equal(requests.length, 4);
  assert.deepEqual(requests.map((entry) => entry.answer), [500, 500, 500, 204]);
  assert.equal(new Set(requests.map((entry) => entry.headers['webhook-id'])).size, 1, 'one webhook-id on every attempt');
  for (const entry of requests) verifyStandardWebhook(entry, hook.secret);
  await sleep(3000);
  assert.equal(server.to('/flaky').length, 4, 'nothing after the delivery');
});

test('Retry-After on 429 and 503 decides the next attempt', async () => {
  const { admin } = await startHub();
  const server = await receiver();
  const date = () => new Date(Date.now() + 4000).toUTCString();
  server.on('/limited', (entry, count) => (count === 1 ? { status: 429, headers: { 'Retry-After': '3' } } : { status: 200 }));
  server.on('/down', (entry, count) => (count === 1 ? { status: 503, headers: { 'Retry-After': date() } } : { status: 200 }));
  const limited = await addTarget(admin, { name: 'Limited', kind: 'ntfy', url: server.url, topic: 'limited' });
  const down = await addTarget(admin, { name: 'Down', kind: 'webhook', url: `${server.url}/down` });
  const ids = [await sendTest(admin, limited), await sendTest(admin, down)];
  await waitFor(async () => (await Promise.all(ids.map((id) => deliveryOf(admin, id)))).every((row) => row.attempts === 1 && row.state === 'pending'),
    { what: 'first attempts' });
  const [first, second] = await Promise.all(ids.map((id) => deliveryOf(admin, id)));
  assert.equal(first.last_status, 429);
  assert.ok(first.next_attempt_ms - first.last_attempt_ms >= 3000, `Retry-After: 3 gave ${first.next_attempt_ms - first.last_attempt_ms} ms`);
  assert.equal(second.last_status, 503);
  assert.ok(second.next_attempt_ms - second.last_attempt_ms >= 2500, 'the HTTP-date is later than the 2 s backoff');
  await waitFor(async () => (await Promise.all(ids.map((id) => deliveryOf(admin, id)))).every((row) => row.state === 'delivered'),
    { what: 'both delivered' });
  const gap = server.to('/limited')[1].at - server.to('/limited')[0].at;
  assert.ok(gap >= 2900, `the retry came ${gap} ms after the 429`);
});

test('a restart (SIGTERM, then kill -9) with undelivered notifications delivers them afterwards, once', async () => {
  const context = await startHub();
  const { hub, data } = context;
  let admin = context.admin;
  const port = await freePort(); // nothing listens yet: connection refused
  const ntfy = await addTarget(admin, { name: 'Phone', kind: 'ntfy', url: `http://127.0.0.1:${port}`, topic: 'door' });
  const hook = await addTarget(admin, { name: 'Hook', kind: 'webhook', url: `http://127.0.0.1:${port}/hook` });
  const hanging = await receiver();
  hanging.on('/hang', () => 'hang');
  const slow = await addTarget(admin, { name: 'Slow', kind: 'webhook', url: `${hanging.url}/hang` });

  // Round 1: refused, then SIGTERM.
  const round1 = [await sendTest(admin, ntfy), await sendTest(admin, hook)];
  await waitFor(async () => (await Promise.all(round1.map((id) => deliveryOf(admin, id)))).every((row) => row.attempts >= 1 && row.state === 'pending'),
    { what: 'failed first attempts' });
  assert.match((await deliveryOf(admin, round1[0])).last_error, /cannot connect|refused/);
  await hub.stop();
  context.stopped = true;

  const server = await receiver({ port });
  let restarted = await Hub.start({ dataDir: data.dir });
  admin = await restarted.admin();
  await waitFor(async () => (await Promise.all(round1.map((id) => deliveryOf(admin, id)))).every((row) => row.state === 'delivered'),
    { timeout: 40000, what: 'delivery after the restart' });
  assert.equal(server.to('/door').length, 1);
  assert.equal(server.to('/hook').length, 1);

  // Round 2: the receiver goes away again; the hub is killed. One request
  // is under way to a receiver that never answers: after the crash it is
  // 'unknown' and never sent again.
  await server.close();
  const round2 = [await sendTest(admin, ntfy), await sendTest(admin, hook)];
  const unanswered = await sendTest(admin, slow);
  await waitFor(() => hanging.to('/hang').length === 1, { what: 'the unanswered request' });
  await waitFor(async () => (await Promise.all(round2.map((id) => deliveryOf(admin, id)))).every((row) => row.attempts >= 1 && row.state === 'pending'),
    { what: 'failed attempts' });
  assert.equal((await deliveryOf(admin, unanswered)).state, 'sending');
  await restarted.kill();

  const again = await receiver({ port });
  restarted = await Hub.start({ dataDir: data.dir });
  cleanups.push(() => restarted.stop());
  admin = await restarted.admin();
  await waitFor(async () => (await Promise.all(round2.map((id) => deliveryOf(admin, id)))).every((row) => row.state === 'delivered'),
    { timeout: 40000, what: 'delivery after kill -9' });
  const lost = await deliveryOf(admin, unanswered);
  assert.equal(lost.state, 'unknown');
  assert.match(lost.last_error, /not resent/);
  assert.equal(again.to('/door').length, 1);
  assert.equal(again.to('/hook').length, 1);
  await sleep(3000);
  assert.equal(hanging.to('/hang').length, 1, 'the unanswered request is never sent again');
  assert.equal(again.requests.length, 2);
  assert.equal(server.requests.length, 2, 'round 1 was delivered once');
});

test('bad targets are reported in the deliveries and never hold up a good one', async () => {
  const { hub, admin } = await startHub();
  const server = await receiver();
  const secure = await receiver({ tls: makeCertificate(hub.dataDir) });
  server.on('/hang', () => 'hang');
  server.on('/huge', () => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.alloc(1 << 20, 'x') }));
  const closed = await freePort();
  // Accepts connections and never says a word: a TLS handshake that stalls.
  const stallSockets = new Set();
  const stall = net.createServer((socket) => stallSockets.add(socket.on('error', () => {})));
  await new Promise((resolveListen) => stall.listen(0, '127.0.0.1', resolveListen));
  cleanups.push(() => new Promise((resolveClose) => {
    for (const socket of stallSockets) socket.destroy();
    stall.close(resolveClose);
  }));
  const targets = {
    slow: await addTarget(admin, { name: 'Slow', kind: 'webhook', url: `${server.url}/hang` }),
    stalled: await addTarget(admin, { name: 'Stalled', kind: 'webhook', url: `https://127.0.0.1:${stall.address().port}/hook` }),
    refused: await addTarget(admin, { name: 'Refused', kind: 'ntfy', url: `http://127.0.0.1:${closed}`, topic: 'door' }),
    unknownHost: await addTarget(admin, { name: 'DNS', kind: 'webhook', url: 'https://no-such-host.invalid/hook' }),
    tls: await addTarget(admin, { name: 'TLS', kind: 'ntfy', url: secure.url, topic: 'door' }),
    huge: await addTarget(admin, { name: 'Huge', kind: 'webhook', url: `${server.url}/huge` }),
    good: await addTarget(admin, { name: 'Good', kind: 'ntfy', url: server.url, topic: 'good' }),
  };
  const malformed = await admin.api('POST', '/api/v1/notifications/targets', { json: { name: 'Bad', kind: 'webhook', url: 'https//nope' } });
  assert.equal(malformed.status, 400);
  assert.match(malformed.json.message, /url/);

  const ids = {};
  for (const [name, target] of Object.entries(targets)) ids[name] = await sendTest(admin, target);
  await waitFor(() => server.to('/good').length === 1, { what: 'the good target' });
  await waitFor(async () => (await deliveryOf(admin, ids.good)).state === 'delivered', { what: 'the good delivery recorded' });
  assert.equal((await deliveryOf(admin, ids.slow)).state, 'sending', 'the slow target is still waiting: it held nothing up');
  assert.equal(server.to('/hang').length, 1);

  // Everything settles within the 15 s request timeout.
  await waitFor(async () => (await deliveryOf(admin, ids.slow)).state !== 'sending', { timeout: 30000, what: 'the slow target to time out' });
  const rows = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, await deliveryOf(admin, id)])));
  const expect = (name, states, error) => {
    const row = rows[name];
    assert.ok(states.includes(row.state) && error.test(row.last_error), `${name}: ${JSON.stringify(row)}`);
  };
  const retrying = ['pending', 'sending']; // a retry may be under way right now
  expect('slow', ['unknown'], /^no complete answer within 15 s after the request was sent; not resent$/);
  expect('refused', retrying, /^cannot connect \(refused or unreachable\)$|^connection refused$/);
  expect('stalled', retrying, /^connection timed out after 5 s$/);
  expect('unknownHost', retrying, /^DNS lookup of no-such-host.invalid failed/);
  expect('tls', ['failed'], /^TLS handshake failed: certificate verify failed/);
  expect('huge', ['delivered'], /response too large/);
  expect('good', ['delivered'], /^$/);
  assert.equal(secure.requests.length, 0);
  assert.equal(rows.huge.last_status, 200);
  assert.equal(rows.good.attempts, 1);
});

test('ring: one ntfy message and one webhook, each with the snapshot taken at the press', async () => {
  const { hub, admin } = await startHub();
  const device = hub.addDevice('Front door');
  const server = await receiver();
  const ntfy = await addTarget(admin, { name: 'Phone', kind: 'ntfy', url: server.url, topic: 'door' });
  const hook = await addTarget(admin, { name: 'Hook', kind: 'webhook', url: `${server.url}/hook`, event_types: ['ring'] });
  const doorbell = await Doorbell.start({ hub, ...device, size: '640x360' });
  try {
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json?.online, { what: 'the doorbell online' });
    assert.equal(await doorbell.control('press'), 'ok');
    await waitFor(() => server.to('/door').length >= 1 && server.to('/hook').length >= 1, { what: 'the ring notifications' });
    await sleep(3000);
  } finally {
    await doorbell.stop();
  }
  const rings = server.to('/door').filter((entry) => readNtfy(entry).title === 'Front door: someone rang');
  assert.equal(rings.length, 1, 'exactly one ntfy ring message');
  const message = readNtfy(rings[0]);
  assert.equal(message.priority, 5);
  assert.equal(rings[0].method, 'PUT');
  assert.deepEqual(jpegSize(message.attachment), { width: 640, height: 360 });
  const hooks = server.to('/hook');
  assert.equal(hooks.length, 1, 'exactly one webhook');
  const payload = verifyStandardWebhook(hooks[0], hook.secret);
  assert.equal(payload.type, 'event.ring');
  const snapshot = Buffer.from(payload.data.snapshot_jpeg_base64, 'base64');
  assert.deepEqual(jpegSize(snapshot), { width: 640, height: 360 });
  assert.ok(snapshot.equals(message.attachment), 'both carry the same snapshot');
  const stored = await admin.api('GET', `/api/v1/devices/${device.id}/events/${payload.data.event_id}/snapshot.jpg`);
  assert.ok(stored.body.equals(snapshot), 'the snapshot stored with the event');
  assert.equal(ntfy.kind, 'ntfy');
});
