// The notification sender's HTTP client as a receiver sees it, on the wire:
// every attempt is HTTP/1.1 on a connection of its own (a kept-alive
// connection is never reused, so a request is never quietly resent on one
// that died), a body over 1 MiB goes without "Expect: 100-continue" (no
// extra round trip, no receiver that must understand it), and a redirect is
// reported, never followed. The receiver is a plain node HTTP server that
// records the socket each request came on.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Hub, tempDir, waitFor } from '../lib/harness.mjs';

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

// A receiver answering each request with answer(entry, count) ({ status,
// headers }); it keeps connections alive, so a client could reuse them.
async function receiver(answer) {
  const requests = [];
  const server = http.createServer({ keepAliveTimeout: 30000 }, (request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        path: request.url, method: request.method, version: request.httpVersion, headers: request.headers,
        port: request.socket.remotePort, size: Buffer.concat(chunks).length,
      };
      requests.push(entry);
      const { status, headers = {} } = answer(entry, requests.filter((other) => other.path === entry.path).length);
      response.writeHead(status, headers);
      response.end('ok');
    });
  });
  await new Promise((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  cleanups.push(() => new Promise((resolveClose) => {
    server.closeAllConnections();
    server.close(resolveClose);
  }));
  return { requests, url: `http://127.0.0.1:${server.address().port}` };
}

function sql(hub, statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(hub.dataDir, 'doorstep.db'), statement]).toString().trim();
}

async function startHub() {
  const data = tempDir('doorstep-notify-client-');
  const hub = await Hub.start({ dataDir: data.dir });
  cleanups.push(async () => {
    await hub.stop();
    data.cleanup();
  });
  return { hub, admin: await hub.admin() };
}

async function addTarget(admin, body) {
  const response = await admin.api('POST', '/api/v1/notifications/targets', { json: body });
  assert.equal(response.status, 201, response.body.toString());
  return response.json.target;
}

const deliveryOf = async (admin, id) =>
  (await admin.api('GET', '/api/v1/notifications/deliveries?limit=500')).json.deliveries.find((row) => row.id === id);

test('each attempt on a connection of its own, HTTP/1.1, no Expect: 100-continue for a body over 1 MiB', async () => {
  const { hub, admin } = await startHub();
  const device = hub.addDevice('Porch');
  const server = await receiver((entry, count) => ({ status: count === 1 ? 503 : 204 }));
  const hook = await addTarget(admin, { name: 'Hook', kind: 'webhook', url: `${server.url}/hook` });

  // An event whose 900 KB snapshot rides inline (base64): a body of 1.2 MB.
  const snapshot = join(hub.dataDir, 'big.jpg');
  writeFileSync(snapshot, randomBytes(900 * 1024));
  const now = Date.now();
  const event = Number(sql(hub, `INSERT INTO events (device_id, type, start_ms, end_ms, clip_start_ms, clip_end_ms,
    score, boxes, snapshot, notify) VALUES ('${device.id}', 'ring', ${now}, ${now}, ${now}, ${now}, 1, '[]',
    readfile('${snapshot}'), 'sent') RETURNING id`));
  const id = Number(sql(hub, `INSERT INTO notification_outbox (event_id, target_id, message_id, state, attempts,
    next_attempt_ms, created_ms) VALUES (${event}, ${hook.id}, 'msg_${randomBytes(16).toString('hex')}', 'pending', 0,
    ${now}, ${now}) RETURNING id`));

  await waitFor(async () => (await deliveryOf(admin, id))?.state === 'delivered', { timeout: 30000, what: 'the delivery' });
  const row = await deliveryOf(admin, id);
  assert.equal(row.attempts, 2);
  assert.equal(row.last_status, 204);
  assert.equal(server.requests.length, 2);
  const [first, second] = server.requests;
  for (const entry of server.requests) {
    assert.equal(entry.version, '1.1');
    assert.equal(entry.method, 'POST');
    assert.equal(entry.headers.expect, undefined, 'no Expect: 100-continue');
    assert.ok(entry.size > 1024 * 1024, `a body over 1 MiB (${entry.size} bytes)`);
    assert.equal(Number(entry.headers['content-length']), entry.size);
  }
  assert.notEqual(second.port, first.port, 'the retry came on a new connection, not the kept-alive one');
});

test('a redirect is reported and not followed', async () => {
  const { admin } = await startHub();
  const server = await receiver((entry) => (entry.path === '/moved' ? { status: 302, headers: { Location: '/elsewhere' } } : { status: 200 }));
  const hook = await addTarget(admin, { name: 'Moved', kind: 'webhook', url: `${server.url}/moved` });
  const response = await admin.api('POST', `/api/v1/notifications/targets/${hook.id}/test`);
  assert.equal(response.status, 202);
  const id = response.json.delivery_id;
  await waitFor(async () => (await deliveryOf(admin, id))?.state === 'failed', { what: 'the failed delivery' });
  const row = await deliveryOf(admin, id);
  assert.equal(row.last_status, 302);
  assert.equal(row.last_error, 'HTTP 302');
  assert.equal(row.attempts, 1);
  assert.deepEqual(server.requests.map((entry) => entry.path), ['/moved']);
});
