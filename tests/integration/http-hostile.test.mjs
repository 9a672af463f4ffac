// Hostile requests that need no login: every number civetweb reads from a
// request (Content-Length, chunk sizes, Range, Sec-WebSocket-Version) at its
// limits, each followed by a pipelined request on the same connection; a body
// sent a byte a second; an unmasked WebSocket frame from a client; and the
// Content-Security-Policy.
// Run on the ASan+UBSan hub, where a signed overflow aborts the process: after
// every case the hub must still be running and answer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Client, tempDir } from '../lib/harness.mjs';
import { rawConnect, rawExchange, readUntilClose } from '../lib/raw-http.mjs';

const data = tempDir('doorstep-hostile-');
let hub, host;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  host = `localhost:${hub.port}`;
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

const livez = () => `GET /livez HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
const login = (headers, body = '') =>
  `POST /auth/login HTTP/1.1\r\nHost: ${host}\r\nOrigin: https://${host}\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;

// The hub is still running (no sanitizer abort) and answers a new connection.
async function assertAlive(what) {
  assert.equal(hub.proc.child.exitCode, null, `${what}: the hub exited:\n${hub.log.slice(-20).join('\n')}`);
  assert.equal(hub.proc.child.signalCode, null, `${what}: the hub was killed`);
  assert.equal(hub.log.some((line) => /runtime error:|AddressSanitizer/.test(line)), false, `${what}: sanitizer report`);
  const response = await new Client(hub.url).request('GET', '/livez');
  assert.equal(response.status, 200, `${what}: /livez after it`);
}

// Cases whose first request must be refused at parse time; the connection
// then closes (the rest of the stream cannot be framed), so the pipelined
// request is not answered, and nothing after it is misread as a request.
const refused = [
  ['Content-Length: 9223372036854775807', login('Content-Length: 9223372036854775807\r\n'), 413],
  ['Content-Length of 20 digits', login('Content-Length: 99999999999999999999\r\n'), 413],
  ['Content-Length above the largest body', login('Content-Length: 1048577\r\n'), 413],
  ['Content-Length: -1', login('Content-Length: -1\r\n'), 400],
  ['Content-Length: +5', login('Content-Length: +5\r\n', '{"a":'), 400],
  ['Content-Length: 0x10', login('Content-Length: 0x10\r\n'), 400],
  ['Content-Length: 5abc', login('Content-Length: 5abc\r\n', '{"a":'), 400],
  ['two Content-Length headers', login('Content-Length: 2\r\nContent-Length: 3\r\n', '{}'), 400],
  ['Content-Length with Transfer-Encoding: chunked', login('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'), 400],
];

for (const [name, request, status] of refused) {
  test(`${name}: ${status} at parse time, connection closed, hub unharmed`, async () => {
    const { responses, timedOut } = await rawExchange(hub.port, request + livez());
    assert.equal(timedOut, false, 'the hub closes the connection');
    assert.equal(responses.length, 1, `one answer only: ${responses.map((r) => r.status)}`);
    assert.equal(responses[0].status, status);
    await assertAlive(name);
  });
}

// Chunk sizes: far beyond any body, and one that overflows a signed 64-bit
// sum. The body is refused and the connection closed.
for (const size of ['7ffffffffffffff0', 'ffffffffffffffffffff', '100001']) {
  test(`chunk size 0x${size}: refused, hub unharmed`, async () => {
    const request = login('Transfer-Encoding: chunked\r\n', `${size}\r\n{"username":"a","password":"b"}`);
    const { responses, timedOut } = await rawExchange(hub.port, request + '\r\n0\r\n\r\n' + livez());
    assert.equal(timedOut, false, 'the hub closes the connection');
    assert.ok(responses.length >= 1 && [400, 413].includes(responses[0].status), `status ${responses[0]?.status}`);
    assert.ok(responses.every((r) => r.status !== 200), 'nothing after the bad chunk is read as a request');
    await assertAlive(`chunk ${size}`);
  });
}

// A body over the largest any route takes is refused from its
// Content-Length, before it is read, while the client is still sending it.
// The hub must not close on the unread bytes (the kernel would answer them
// with a reset, which makes the client's kernel drop the 413 it had not read
// yet: ECONNRESET, most of the time before the close lingered).
test('a body over the limit gets its 413 while the client still sends, twenty times in a row', async () => {
  const client = new Client(hub.url);
  const body = Buffer.alloc(1048576 + 4096, 0x61);
  for (let i = 0; i < 20; i++) {
    const response = await client.request('POST', '/auth/login', {
      body,
      headers: { 'Content-Type': 'application/json', ...client.originHeaders() },
    });
    assert.equal(response.status, 413, `try ${i}`);
  }
  await assertAlive('bodies over the limit');
});

// A body sent a byte a second: the request's deadline (10 s from its first
// byte) covers the body too, so the hub lets go long before the 60 bytes
// announced have arrived.
test('a body sent a byte a second is cut off by the request deadline', async () => {
  const socket = await rawConnect(hub.port);
  const reading = readUntilClose(socket, 90000);
  const started = Date.now();
  socket.write(login('Content-Length: 60\r\n'));
  let sent = 0;
  const timer = setInterval(() => { if (sent++ < 60) socket.write(' '); }, 1000);
  const { data, timedOut } = await reading;
  clearInterval(timer);
  assert.equal(timedOut, false);
  assert.ok(sent < 60, `the hub closed the connection after ${sent} of 60 bytes (${Date.now() - started} ms)`);
  assert.match(data.toString('latin1'), /^HTTP\/1\.1 400 /, 'the incomplete body is refused');
  await assertAlive('slow body');
});

test('a well-formed chunked body still works', async () => {
  const body = '{"username":"nobody","password":"wrong password"}';
  const request = login('Transfer-Encoding: chunked\r\n', `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  const { responses } = await rawExchange(hub.port, request + livez());
  assert.deepEqual(responses.map((r) => r.status), [401, 200]);
});

// Range on a UI file: unsatisfiable or overflowing ranges are ignored (the
// whole file, 200) and the pipelined request is answered; a good one is 206.
test('Range headers: overflowing and unsatisfiable ones are ignored, a good one is served', async () => {
  const whole = await new Client(hub.url).request('GET', '/index.html');
  assert.equal(whole.status, 200);
  const size = whole.body.length;
  for (const range of ['bytes=9223372036854775807-', 'bytes=99999999999999999999-5', 'bytes=0-99999999999999999999',
    `bytes=${size}-`, 'bytes=5-2', 'bytes=-5', 'bytes=1-2,4-5', 'bytes=+1-2']) {
    const request = `GET /index.html HTTP/1.1\r\nHost: ${host}\r\nRange: ${range}\r\n\r\n` + livez();
    const { responses, timedOut } = await rawExchange(hub.port, request);
    assert.equal(timedOut, false);
    assert.deepEqual(responses.map((r) => r.status), [200, 200], `${range}: whole file, then the next request`);
    assert.equal(Number(responses[0].headers['content-length']), size, range);
    assert.equal(responses[0].body.length, size, range);
    await assertAlive(range);
  }
  const request = `GET /index.html HTTP/1.1\r\nHost: ${host}\r\nRange: bytes=0-9\r\n\r\n` + livez();
  const { responses } = await rawExchange(hub.port, request);
  assert.deepEqual(responses.map((r) => r.status), [206, 200]);
  assert.equal(responses[0].body.length, 10);
  assert.deepEqual(responses[0].body, whole.body.subarray(0, 10));
});

test('Sec-WebSocket-Version that is not 13 (huge, negative): 426, hub unharmed', async () => {
  for (const version of ['99999999999999999999', '-13', '13abc']) {
    const request = `GET /link/v1 HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\n\r\n`;
    const { responses } = await rawExchange(hub.port, request);
    assert.equal(responses[0]?.status, 426, version);
    await assertAlive(`Sec-WebSocket-Version ${version}`);
  }
});

// RFC 6455 section 5.1: a server must close the connection when a client
// frame is not masked; the close code is 1002 (protocol error).
test('an unmasked frame from a WebSocket client closes the connection with 1002', async () => {
  const socket = await rawConnect(hub.port);
  const reading = readUntilClose(socket);
  socket.write(`GET /link/v1 HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise((resolve) => socket.once('data', resolve)); // the 101
  const payload = Buffer.from('{"type":"hello"}');
  socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload])); // FIN, text, no mask bit
  const { data, timedOut } = await reading;
  assert.equal(timedOut, false, 'the hub closes the connection');
  const frames = data.subarray(data.indexOf('\r\n\r\n') + 4);
  // The last frame is a close frame (opcode 8) carrying code 1002.
  const close = frames.lastIndexOf(Buffer.from([0x88, 0x02]));
  assert.ok(close >= 0, `a close frame: ${frames.toString('hex')}`);
  assert.equal(frames.readUInt16BE(close + 2), 1002);
  await assertAlive('unmasked frame');
});

test("Content-Security-Policy: connect-src 'self' only (no bare wss:)", async () => {
  for (const path of ['/', '/livez', '/api/v1/devices']) {
    const response = await new Client(hub.url).request('GET', path);
    const policy = response.headers['content-security-policy'];
    assert.ok(policy, `${path}: has a CSP`);
    const connect = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));
    assert.equal(connect, "connect-src 'self'", path);
  }
});
