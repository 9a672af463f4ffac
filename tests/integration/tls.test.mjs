// TLS of the hub, probed with `openssl s_client`: TLS 1.0 and 1.1 are
// refused, and under TLS 1.2 only ECDHE suites with AEAD ciphers (AES-GCM,
// ChaCha20-Poly1305) are offered: CBC (with SHA-1 or SHA-256), CCM, CCM8 and
// static-RSA suites are refused. A default client gets TLS 1.2 or newer with
// an ECDHE AEAD suite.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Hub, tempDir } from '../lib/harness.mjs';

const data = tempDir('doorstep-tls-');
let hub;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

// One handshake; returns { connected, protocol, cipher, output }.
function handshake(args) {
  const result = spawnSync('openssl', ['s_client', '-brief', '-connect', `127.0.0.1:${hub.port}`,
    '-servername', 'localhost', ...args], { input: '', encoding: 'utf8', timeout: 30000 });
  const output = `${result.stdout}${result.stderr}`;
  const protocol = /Protocol version: (\S+)/.exec(output)?.[1];
  const cipher = /Ciphersuite: (\S+)/.exec(output)?.[1];
  return { connected: result.status === 0 && /CONNECTION ESTABLISHED/.test(output), protocol, cipher, output };
}

test('openssl is there to probe with', () => {
  const result = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  assert.equal(result.status, 0, 'openssl(1) is needed for this test');
});

for (const [name, args] of [
  ['TLS 1.0', ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']],
  ['TLS 1.1', ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']],
]) {
  test(`${name} is refused`, () => {
    const result = handshake(args);
    assert.equal(result.connected, false, `${name} was accepted: ${result.protocol} ${result.cipher}`);
  });
}

for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES128-CCM', 'ECDHE-ECDSA-CAMELLIA128-SHA256',
  'AES128-GCM-SHA256', 'AES128-SHA']) {
  test(`TLS 1.2 with ${cipher} is refused`, () => {
    const result = handshake(['-tls1_2', '-cipher', `${cipher}@SECLEVEL=0`]);
    assert.equal(result.connected, false, `${cipher} was accepted: ${result.protocol} ${result.cipher}`);
  });
}

for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
  test(`TLS 1.2 with ${cipher} works`, () => {
    const result = handshake(['-tls1_2', '-cipher', cipher]);
    assert.equal(result.connected, true, result.output.slice(0, 500));
    assert.equal(result.protocol, 'TLSv1.2');
    assert.equal(result.cipher, cipher);
  });
}

test('a default client gets TLS 1.2 or newer with an ECDHE AEAD suite', () => {
  const result = handshake([]);
  assert.equal(result.connected, true, result.output.slice(0, 500));
  assert.match(result.protocol, /^TLSv1\.[23]$/);
  // TLS 1.3 suites are all AEAD with (EC)DHE; under 1.2 the name says it.
  if (result.protocol === 'TLSv1.2') assert.match(result.cipher, /^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
});

// The hub puts the AEAD that is faster on its CPU first (measured at start-up;
// DOORSTEP_TLS_AEAD decides instead), and a client offering both gets it. A
// client that offers only the other one still gets that.
for (const [aead, first, other] of [['chacha', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['gcm', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305']]) {
  test(`DOORSTEP_TLS_AEAD=${aead}: a TLS 1.2 client offering both gets ${first}`, async () => {
    const forced = tempDir('doorstep-tls-aead-');
    const forcedHub = await Hub.start({ dataDir: forced.dir, env: { DOORSTEP_TLS_AEAD: aead } });
    try {
      const probe = (args) => spawnSync('openssl', ['s_client', '-brief', '-connect', `127.0.0.1:${forcedHub.port}`,
        '-servername', 'localhost', '-tls1_2', ...args], { input: '', encoding: 'utf8', timeout: 30000 });
      const cipherOf = (result) => /Ciphersuite: (\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
      // The client lists the other one first: the hub's order decides.
      assert.equal(cipherOf(probe(['-cipher', `${other}:${first}`])), first);
      assert.equal(cipherOf(probe(['-cipher', other])), other);
    } finally {
      await forcedHub.stop();
      forced.cleanup();
    }
  });
}
