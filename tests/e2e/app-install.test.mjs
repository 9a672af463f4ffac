// Browser end-to-end test of the installable app: Debian's Chromium
// (through playwright-core, a persistent profile: Chromium does not offer to
// install from a private window) on the real hub. The manifest parses and
// Chromium finds the app installable (CDP Page.getInstallabilityErrors), the
// service worker (www/sw.js) is active and controls the page, the hub serves
// both with the right types and policy, the worker keeps only UI shell files,
// and with the hub stopped an /api request fails rather than being answered
// from a cache, while a page load shows the "hub unreachable" page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { Hub, Client, tempDir, waitFor } from '../lib/harness.mjs';
import { CHROMIUM_ARGS, watchErrors } from '../lib/browser.mjs';
import { patience } from '../lib/patience.mjs';

const data = tempDir('doorstep-e2e-app-');
const profile = tempDir('doorstep-e2e-app-profile-');
let hub;
let hubStopped = false;
let admin;
let context;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  hub.addDevice('Front door');
  context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  await context.addCookies([...admin.cookies].map(([name, value]) => ({
    name, value, url: `${hub.url}/`, secure: true, httpOnly: true, sameSite: 'Strict',
  })));
});

after(async () => {
  if (context) await context.close();
  if (hub && !hubStopped) await hub.stop();
  data.cleanup();
  profile.cleanup();
});

test('the hub serves the manifest and the service worker with their types, under a policy that allows them', async () => {
  const client = new Client(hub.url);
  const manifest = await client.request('GET', '/manifest.webmanifest');
  assert.equal(manifest.status, 200);
  assert.match(manifest.headers['content-type'], /^application\/manifest\+json/);
  const parsed = JSON.parse(manifest.body);
  assert.equal(parsed.display, 'standalone');
  for (const size of ['192x192', '512x512']) {
    const icon = parsed.icons.find((i) => i.sizes === size && i.type === 'image/png');
    assert.ok(icon, `a ${size} PNG icon`);
    const png = await client.request('GET', icon.src);
    assert.equal(png.status, 200);
    assert.match(png.headers['content-type'], /^image\/png/);
  }
  assert.ok(parsed.icons.some((i) => /maskable/.test(i.purpose || '')), 'a maskable icon');

  const worker = await client.request('GET', '/sw.js');
  assert.equal(worker.status, 200);
  assert.match(worker.headers['content-type'], /^text\/javascript/);
  assert.match(worker.headers['cache-control'], /no-cache/);
  const policy = worker.headers['content-security-policy'];
  assert.match(policy, /worker-src 'self'/);
  assert.match(policy, /manifest-src 'self'/);
});

test('Chromium finds the app installable; the service worker controls the page and keeps only the UI shell; with the hub down the API fails', { timeout: patience(120000) }, async () => {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${hub.url}/#/devices`);
  await page.getByTestId('device-grid').waitFor({ timeout: patience(20000) });

  // Active, and in control of this page (clients.claim()).
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: patience(20000) });
  const worker = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return { state: registration.active.state, scope: registration.scope, script: navigator.serviceWorker.controller.scriptURL };
  });
  assert.equal(worker.state, 'activated');
  assert.equal(worker.scope, `${hub.url}/`);
  assert.equal(worker.script, `${hub.url}/sw.js`);

  const cdp = await context.newCDPSession(page);
  const manifest = await cdp.send('Page.getAppManifest');
  assert.deepEqual(manifest.errors, [], 'the manifest parses');
  assert.equal(JSON.parse(manifest.data).name, 'Doorstep');
  let installability = null;
  await waitFor(async () => {
    installability = (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors;
    return installability.length === 0;
  }, { timeout: patience(20000), what: `no installability errors (${JSON.stringify(installability)})` });

  // The UI still asks the hub: answers come from the network, and nothing
  // but shell files is kept.
  const answer = await page.evaluate(async () => {
    const response = await fetch('/api/v1/devices');
    return { status: response.status, devices: (await response.json()).devices.length };
  });
  assert.deepEqual(answer, { status: 200, devices: 1 });
  await page.reload();
  await page.getByTestId('device-grid').waitFor();
  const kept = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
    }
    return urls;
  });
  assert.ok(kept.includes('/offline.html') && kept.includes('/app.js'), `the shell is kept (${kept.join(' ')})`);
  assert.deepEqual(kept.filter((path) => !/\.(html|js|css|svg|png|webmanifest)$/.test(path) && path !== '/'), [],
    'only shell files are kept');
  assert.deepEqual(kept.filter((path) => /^\/(api|auth)\b/.test(path)), []);
  assert.deepEqual(errors.filter((text) => !/status of (401|404)/.test(text)), []);

  // The hub goes away: the API fails (no stale devices from a cache), a
  // shell file still comes from the cache, a page load shows the offline page.
  await hub.stop();
  hubStopped = true;
  const down = await page.evaluate(async () => {
    let api;
    try {
      const response = await fetch('/api/v1/devices');
      api = `answered ${response.status}`;
    } catch (error) {
      api = `failed: ${error.name}`;
    }
    const shell = await fetch('/app.js').then((response) => response.status, (error) => `failed: ${error.name}`);
    return { api, shell };
  });
  assert.deepEqual(down, { api: 'failed: TypeError', shell: 200 });
  await page.reload();
  await page.getByTestId('offline-page').waitFor({ timeout: patience(10000) });
  assert.match(await page.locator('h1').textContent(), /Hub unreachable/);
  await page.close();
});
