// The Date header is the hub's clock for the web UI (it corrects the page's
// clock by it), so it must always say now, even while other threads format a
// file's Last-Modified. civetweb's default gmtime() shares one static struct
// between threads; mixed fields gave Dates a day off, and the recordings page
// then opened on yesterday. This test serves UI files last modified two days
// ago to 12 parallel keep-alive connections and checks every Date.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { Hub, ROOT, tempDir } from '../lib/harness.mjs';

const data = tempDir('doorstep-date-');
const www = join(data.dir, 'www');
let hub;

before(async () => {
  cpSync(join(ROOT, 'www'), www, { recursive: true });
  const old = new Date(Date.now() - 2 * 86400000 - 7 * 3600000);
  for (const entry of readdirSync(www, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), old, old);
  }
  hub = await Hub.start({ dataDir: join(data.dir, 'data'), www });
});

after(async () => {
  if (hub) await hub.stop();
  data.cleanup();
});

test('every Date header is the time of the answer while files with an old Last-Modified are served', { timeout: 60000 }, async () => {
  const port = Number(new URL(hub.url).port);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 12, rejectUnauthorized: false });
  const paths = ['/index.html', '/app.js', '/style.css', '/readyz'];
  const wrong = [];
  let answers = 0;
  let lastModified = null;
  const get = (path) => new Promise((resolve, reject) => {
    const sent = Date.now();
    https.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const received = Date.now();
      const date = Date.parse(res.headers.date);
      // One-second resolution: the header may be up to 1 s behind the request.
      if (!(date >= Math.floor(sent / 1000) * 1000 - 1000 && date <= received + 1000)) wrong.push(`${path}: ${res.headers.date}`);
      if (res.headers['last-modified']) lastModified = res.headers['last-modified'];
      answers++;
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
  const end = Date.now() + 10000;
  await Promise.all(Array.from({ length: 12 }, async (_, i) => {
    while (Date.now() < end) await get(paths[i % paths.length]);
  }));
  agent.destroy();
  assert.ok(lastModified && Date.now() - Date.parse(lastModified) > 2 * 86400000, `files were served with their old Last-Modified (${lastModified})`);
  assert.ok(answers > 1000, `enough answers to see a race (${answers})`);
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${answers} Date headers were not the time of the answer`);
});
