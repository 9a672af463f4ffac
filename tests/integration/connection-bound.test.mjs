// The per-address connection bound is a setting: with
// --connections-per-address 5 one client address holds at most five open
// connections (the sixth is closed before its TLS handshake ends), another
// address is not affected, and a closed connection frees its place. The
// default bound (a tenth of the workers) is exercised by flood.test.mjs.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Client, BUILD, tempDir } from '../lib/harness.mjs';
import { rawConnect } from '../lib/raw-http.mjs';

const data = tempDir('doorstep-bound-');
let hub;
const sockets = [];

after(async () => {
  for (const socket of sockets) socket.destroy();
  if (hub) await hub.stop();
  data.cleanup();
});

// A TLS connection from localAddress: 'open' once the handshake ended,
// 'closed' if the hub closed it first.
function tryConnect(port, localAddress) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, localAddress, rejectUnauthorized: false, servername: 'localhost' });
    sockets.push(socket);
    socket.once('secureConnect', () => resolve({ outcome: 'open', socket }));
    socket.once('error', () => resolve({ outcome: 'closed', socket }));
    socket.once('close', () => resolve({ outcome: 'closed', socket }));
  });
}

test('--connections-per-address 5: the sixth connection of an address is closed, others are not', async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--connections-per-address', '5'] });
  const held = [];
  for (let i = 0; i < 5; i++) held.push(await rawConnect(hub.port));
  sockets.push(...held);
  const sixth = await tryConnect(hub.port, '127.0.0.1');
  assert.equal(sixth.outcome, 'closed', 'a sixth connection from 127.0.0.1 is refused');
  const other = await tryConnect(hub.port, '127.0.0.2');
  assert.equal(other.outcome, 'open', 'another address still gets in');
  other.socket.destroy();

  // A closed connection frees its place (the hub notices the close).
  held[0].destroy();
  const deadline = Date.now() + 20000;
  let answered = null;
  while (Date.now() < deadline && answered === null) {
    try {
      answered = (await new Client(hub.url).request('GET', '/livez')).status;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  assert.equal(answered, 200, 'after one closed, a new request from 127.0.0.1 is served');
});

test('--connections-per-address accepts 1..1024 only', async () => {
  for (const value of ['0', '1025', 'many']) {
    const result = spawnSync(join(BUILD, 'doorstepd'), ['--data-dir', data.dir, '--connections-per-address', value], { encoding: 'utf8', timeout: 10000 });
    assert.notEqual(result.status, 0, `--connections-per-address ${value} is refused`);
    assert.match(result.stderr, /connections_per_address/);
  }
});
