// Browser end-to-end test of the UI's hub clock (www/js/api.js serverNow):
// Debian's Chromium on the real hub, with Playwright rewriting the Date
// header of chosen answers (page.route). One answer with a wrong Date must
// not move the clock; a skew that two answers in a row agree on is
// followed; when the skew goes away the clock follows back. The page's own
// api.js module is driven from page.evaluate.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, tempDir, stopAll } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { launchChromium, withPage } from '../lib/browser.mjs';

const HOUR_MS = 3600 * 1000;
const data = tempDir('doorstep-e2e-clock-');
let hub, admin, browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  browser = await launchChromium();
});

after(() => stopAll(browser, hub, data));

test('the hub clock ignores one answer with a wrong Date and follows a consistent skew', { timeout: patience(60000) }, async () => {
  await withPage({ browser, hub, client: admin }, '/devices', async ({ page, errors }) => {
    // mode 'none': answers pass as they are; 'probe': only requests for
    // ?clock-probe get a Date an hour ahead; 'all': every answer does.
    let mode = 'none';
    let rewritten = 0;
    await page.route(/\/(api|auth)\//, async (route) => {
      const wrong = mode === 'all' || (mode === 'probe' && route.request().url().includes('clock-probe'));
      const response = await route.fetch();
      if (!wrong) { await route.fulfill({ response }); return; }
      rewritten++;
      const headers = { ...response.headers(), date: new Date(Date.now() + HOUR_MS).toUTCString() };
      await route.fulfill({ response, headers });
    });
    // Signed in and the app started (the event feed opens after the session check).
    await page.waitForFunction(() => document.documentElement.dataset.eventFeed === 'open', null, { timeout: patience(15000) });

    // serverNow() - Date.now() after the page's api.js fetched the given paths in turn.
    const offsetAfter = (paths) => page.evaluate(async (list) => {
      const api = await import('/js/api.js');
      for (const path of list) await api.get(path);
      return api.serverNow() - Date.now();
    }, paths);

    assert.ok(Math.abs(await offsetAfter(['/api/v1/me', '/api/v1/me'])) < 50, 'no skew to begin with');

    // One odd answer (then a good one): the clock does not move.
    mode = 'probe';
    assert.ok(Math.abs(await offsetAfter(['/api/v1/me?clock-probe=1'])) < 50, 'one wrong Date is not taken');
    assert.ok(Math.abs(await offsetAfter(['/api/v1/me'])) < 50, 'nor after a good answer');
    assert.ok(rewritten >= 1, 'the probe was rewritten');

    // Every answer an hour ahead: taken once two agree.
    mode = 'all';
    const skewed = await offsetAfter(['/api/v1/me', '/api/v1/me']);
    assert.ok(Math.abs(skewed - HOUR_MS) < 2000, `followed the skew: ${skewed} ms`);

    // The skew goes away: followed back to the browser's own clock.
    mode = 'none';
    assert.ok(Math.abs(await offsetAfter(['/api/v1/me', '/api/v1/me'])) < 50, 'back to no skew');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    assert.deepEqual(errors, []);
  });
});
