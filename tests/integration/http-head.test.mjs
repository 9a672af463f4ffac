// HEAD on every route: the test walks the route table (parsed from
// appliance/http/http_routes.c, so a new route is covered without editing
// this file), plus the health, /auth and UI paths, and sends HEAD followed by
// a pipelined GET on the same kept-alive connection. Every HEAD answer has no
// body (the GET that follows is read intact) or is a 405; a HEAD on the
// export writes no audit row.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Doorbell, ROOT, waitFor, tempDir } from '../lib/harness.mjs';
import { rawExchange } from '../lib/raw-http.mjs';

const data = tempDir('doorstep-head-');
let hub, admin, doorbell, device, segment;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '2'] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 15, bitrate: 300 });
  // A closed segment, so that export and playback have something to stream.
  segment = await waitFor(async () => {
    const rows = (await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`)).json.recordings;
    return rows.find((r) => !r.recording);
  }, { what: 'a closed segment' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// Every { method, pattern } of the /api table.
function routeTable() {
  const source = readFileSync(join(ROOT, 'appliance', 'http', 'http_routes.c'), 'utf8');
  const routes = [...source.matchAll(/\{\s*"([A-Z]+)",\s*"([^"]+)"/g)].map(([, method, pattern]) => ({ method, pattern }));
  assert.ok(routes.length >= 30, `${routes.length} routes parsed from http_routes.c`);
  return routes;
}

function auditCount() {
  return Number(execFileSync('sqlite3', ['-readonly', join(data.dir, 'doorstep.db'),
    "SELECT count(*) FROM audit_log WHERE action = 'recording_export'"], { encoding: 'utf8' }).trim());
}

// HEAD path, then GET /api/v1/me, on one connection; the second answer must
// be the intact JSON of the logged-in user.
async function headThenGet(path) {
  const host = `localhost:${hub.port}`;
  const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const request = `HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\n\r\n` +
    `GET /api/v1/me HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`;
  const { responses, trailing, timedOut } = await rawExchange(hub.port, request, { heads: [true, false] });
  assert.equal(timedOut, false, `${path}: the exchange ends`);
  assert.equal(responses.length, 2, `${path}: two answers (${responses.map((r) => r.status)}), ${trailing.length} stray bytes`);
  assert.equal(trailing.length, 0, `${path}: no stray bytes`);
  const [head, next] = responses;
  assert.equal(next.status, 200, `${path}: the GET after HEAD is answered (${next.status})`);
  assert.equal(JSON.parse(next.body.toString()).user?.username ?? JSON.parse(next.body.toString()).username, 'admin',
    `${path}: the GET after HEAD has its own body`);
  return head;
}

test('HEAD on every route of the table: no body, or 405; the next request on the connection works', async () => {
  const { id: eventId } = (await admin.api('GET', `/api/v1/devices/${device.id}/events`)).json.events?.[0] ?? { id: 1 };
  const query = `?from=${segment.start_ms}&to=${segment.end_ms}`;
  const exportsBefore = auditCount();
  const seen = [];
  for (const { method, pattern } of routeTable()) {
    const path = pattern.replace('{id}', pattern.startsWith('/api/v1/notifications') || pattern.startsWith('/api/v1/users') ? '1' : device.id)
      .replace('{event}', String(eventId)).replace(/\{[a-z_]+\}/g, '1') + query;
    const head = await headThenGet(path);
    seen.push(`${method} ${pattern}: HEAD ${head.status}`);
    if (method !== 'GET') {
      if (!routeTable().some((r) => r.method === 'GET' && r.pattern === pattern)) {
        assert.equal(head.status, 405, `HEAD ${pattern} (only ${method})`);
      }
      continue;
    }
    if (head.status === 405) continue;
    // Answered: the same status and type as the GET.
    const get = await admin.api('GET', path);
    assert.equal(head.status, get.status, `HEAD ${pattern}: status of GET`);
    assert.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${pattern}: type of GET`);
  }
  assert.equal(auditCount(), exportsBefore, 'HEAD on the export wrote no audit row');
  // The export itself still streams and is audited.
  const exported = await admin.api('GET', `/api/v1/devices/${device.id}/export${query}`);
  assert.equal(exported.status, 200);
  assert.equal(auditCount(), exportsBefore + 1);
});

test('HEAD on health, session and UI paths: no body; the next request works', async () => {
  for (const path of ['/livez', '/readyz', '/auth/session', '/auth/login', '/', '/index.html', '/no-such-file.js',
    '/api/v1/no-such-path', '/link/v1']) {
    const head = await headThenGet(path);
    assert.equal(head.body.length, 0, path);
  }
});
