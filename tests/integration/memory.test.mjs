// Hub memory stays flat over logins and over pairing attempts: 20 sequential and 10 parallel logins,
// then 50 and 10 more, each from its own loopback address, against the
// release build's hub. Every login runs argon2id over a 19 MiB block on whichever civetweb
// worker took the connection; that block must go back to the kernel when
// the hash is done, and a worker must not keep a database connection or its
// touched stack after the connection ends. Before that, each login left
// about 19 MiB in its worker's malloc arena (96 → 352 MB over 20 logins).
//
// The release build, not $DOORSTEP_BUILD: under ASan the allocator is
// ASan's (its own mmap for large blocks, a quarantine that holds freed
// memory for a while, shadow memory), so the resident size says nothing
// about glibc's arenas. `make test` builds build/ before build/asan/.
// Figures are RssAnon (the process's own pages, not the shared libraries').

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, Doorbell, ROOT, tempDir, waitFor } from '../lib/harness.mjs';
import { memoryMegabytes } from '../lib/proc.mjs';
import { patience } from '../lib/patience.mjs';

const RELEASE = join(ROOT, 'build');
const PASSWORD = 'correct horse battery staple';
// One argon2id block is 19 MiB: growth below that means none was kept.
const FIRST_ROUND_MAX_MB = 12;
// civetweb hands connections to its 256 workers in turn: a worker that kept
// its SQLite connection (page cache, schema) and touched stack added about
// 0.19 MiB per login, 11 MiB over the second round.
const SECOND_ROUND_MAX_MB = 5;
// At most two hashes at once (PASSWORD_MAX_CONCURRENT): two blocks, plus
// the TLS connections waiting for them.
const PEAK_OVER_IDLE_MAX_MB = 2 * 19 + 16;

// Pairing derives w0 and w1 with Argon2id over the doorbell's 32 MiB: one
// attempt kept would show as 32 MiB.
const PAIRING_MAX_MB = 12;

const data = tempDir('doorstep-memory-');
let hub;
let pid;
let addressCount = 0;

before(async () => {
  assert.ok(existsSync(join(RELEASE, 'doorstepd')), `${RELEASE}/doorstepd is missing: run \`make all\` first`);
  hub = await Hub.start({ dataDir: data.dir, build: RELEASE });
  pid = hub.proc.child.pid;
  await hub.admin('admin', PASSWORD);
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

// A login from a loopback address not used before (the login limiter and
// the per-address connection bound count per address).
async function login() {
  addressCount++;
  const client = new Client(hub.url, { localAddress: `127.0.${10 + (addressCount >> 8)}.${addressCount & 255}` });
  const response = await client.login('admin', PASSWORD);
  assert.equal(response.status, 200, response.body.toString());
}

async function round(sequential) {
  for (let i = 0; i < sequential; i++) await login();
  await Promise.all(Array.from({ length: 10 }, () => login()));
}

// Wait until the hub's own memory is at most `limit` MiB over `base` (the
// workers release what they hold as their connections end, just after the
// answer); the last reading is returned either way.
async function settledGrowth(base, limit) {
  let growth = Infinity;
  try {
    await waitFor(() => {
      growth = memoryMegabytes(pid).anon - base;
      return growth <= limit;
    }, { timeout: patience(5000), interval: 100, what: `memory growth <= ${limit} MiB` });
  } catch {
    // the assertion below reports the figure
  }
  return growth;
}

test('90 logins: no argon2id block is kept, and the last 60 add almost nothing', async () => {
  await login();
  const idle = memoryMegabytes(pid);
  await round(20);
  const first = await settledGrowth(idle.anon, FIRST_ROUND_MAX_MB);
  const middle = memoryMegabytes(pid);
  await round(50);
  const second = await settledGrowth(middle.anon, SECOND_ROUND_MAX_MB);
  const end = memoryMegabytes(pid);
  console.log(`# hub memory (MiB): idle anon ${idle.anon.toFixed(1)} rss ${idle.rss.toFixed(1)}; after 30 logins ` +
    `anon +${first.toFixed(1)}; after 90 anon +${(end.anon - idle.anon).toFixed(1)} rss ${end.rss.toFixed(1)} ` +
    `peak ${end.peak.toFixed(1)}`);
  assert.ok(first <= FIRST_ROUND_MAX_MB, `30 logins grew the hub by ${first.toFixed(1)} MiB (at most ${FIRST_ROUND_MAX_MB})`);
  assert.ok(second <= SECOND_ROUND_MAX_MB, `60 more logins grew it by ${second.toFixed(1)} MiB (at most ${SECOND_ROUND_MAX_MB})`);
  assert.ok(end.peak - idle.rss <= PEAK_OVER_IDLE_MAX_MB,
    `peak ${end.peak.toFixed(1)} MiB is ${(end.peak - idle.rss).toFixed(1)} over idle (at most ${PEAK_OVER_IDLE_MAX_MB})`);
});

test('4 pairing attempts: no Argon2id block of the setup code (32 MiB) is kept', async () => {
  const stateDir = join(data.dir, 'doorbell');
  const doorbell = await Doorbell.startPairing({ hub, stateDir });
  try {
    await waitFor(() => existsSync(join(stateDir, 'device-id')), { what: 'device-id' });
    const id = readFileSync(join(stateDir, 'device-id'), 'utf8').trim();
    const code = readFileSync(join(stateDir, 'setup-code'), 'utf8').trim();
    const admin = await hub.admin('admin', PASSWORD);
    await waitFor(async () => (await admin.api('GET', '/api/v1/pairing')).json.waiting.some((item) => item.device_id === id),
      { timeout: patience(30000), what: 'the doorbell waiting' });
    const before = memoryMegabytes(pid);
    for (let attempt = 1; attempt <= 4; attempt++) {
      // A well-formed code that is not this one: its first digit changed.
      const wrong = `${(Number(code[0]) + attempt) % 10}${code.slice(1)}`;
      const response = await admin.api('POST', `/api/v1/pairing/${id}`, { json: { code: wrong, name: 'Memory' } });
      assert.ok([403, 400].includes(response.status), `attempt ${attempt}: ${response.status} ${response.body}`);
    }
    const growth = await settledGrowth(before.anon, PAIRING_MAX_MB);
    console.log(`# hub memory (MiB) over 4 pairing attempts: anon +${growth.toFixed(1)}, peak ${memoryMegabytes(pid).peak.toFixed(1)}`);
    assert.ok(growth <= PAIRING_MAX_MB, `4 pairing attempts grew the hub by ${growth.toFixed(1)} MiB (at most ${PAIRING_MAX_MB})`);
  } finally {
    await doorbell.stop();
  }
});
