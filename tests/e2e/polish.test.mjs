// Browser end-to-end tests of how the UI looks to a household, on the real
// hub and a real simulated doorbell through Debian's Chromium: telemetry
// shows only what the doorbell reports (the simulator sends no Wi-Fi signal
// and, without a thermal sensor, a temperature of 0), its battery when it
// runs on one, one picture on the doorbell page, the timeline without
// scrolling at 1280x800, live controls shown on touch screens and reached
// by the keyboard, no sideways scrolling at 390 px, and readable text
// (WCAG contrast >= 4.5:1) in light and dark themes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage as openPage } from '../lib/browser.mjs';
import { measureContrast, lowContrast } from '../lib/contrast.mjs';
import { patience } from '../lib/patience.mjs';

const data = tempDir('doorstep-e2e-polish-');
const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true };
let hub;
let admin;
let device;
let doorbell;
let browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 15 });
  browser = await launchChromium();
  await waitFor(async () => {
    const d = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json;
    return d.online && d.telemetry && d.snapshot_at;
  }, { timeout: patience(30000), what: 'the doorbell online with telemetry and a snapshot' });
});

after(() => stopAll(browser, doorbell, hub, data));

const withPage = (path, fn, options = {}) => openPage({ browser, hub, client: admin }, path, fn, options);
const devicePage = () => `/devices/${device.id}`;

function scriptErrors(errors) {
  return errors.filter((text) => !/status of (400|401|403|404|409)|net::ERR_/.test(text));
}

test('telemetry shows what the doorbell reports; its battery shows when it has one', { timeout: patience(90000) }, async () => {
  const reported = (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.telemetry;
  // What the simulator sends here: no Wi-Fi reading (0: the protocol's
  // "wired" default), mains power, and no temperature sensor (0).
  assert.equal(reported.rssi_dbm, 0);
  assert.equal(reported.battery_percent, -1);

  await withPage(devicePage(), async ({ page, errors }) => {
    await page.getByTestId('detail-uptime').waitFor();
    const text = await page.getByTestId('device-detail').innerText();
    if (reported.temperature_c === undefined) {
      assert.doesNotMatch(text, /°C/);
      assert.equal(await page.getByTestId('detail-temperature').count(), 0);
    } else {
      assert.match(text, new RegExp(`${reported.temperature_c.toFixed(1)}\\s*°C`));
    }
    assert.doesNotMatch(text, /Wired/);
    assert.equal(await page.getByTestId('detail-signal').count(), 0);
    assert.equal(await page.getByTestId('device-battery').isVisible(), false);

    assert.equal(await doorbell.control('battery 57'), 'ok');
    await page.getByTestId('device-battery').waitFor({ timeout: patience(10000) });
    assert.equal((await page.getByTestId('device-battery').textContent()).trim(), '57 %');
    assert.equal((await page.getByTestId('detail-power').textContent()).trim(), 'Battery 57 %');
    assert.deepEqual(scriptErrors(errors), []);
  });

  await withPage('/devices', async ({ page }) => {
    const battery = page.locator(`[data-testid="device-card"][data-device-id="${device.id}"] [data-testid="device-battery"]`);
    await battery.waitFor();
    assert.equal((await battery.textContent()).trim(), '57 %');
    assert.equal(await doorbell.control('battery -1'), 'ok');
    await battery.waitFor({ state: 'hidden', timeout: patience(10000) });
  });
});

test('the doorbell page shows one picture: the live view', { timeout: patience(90000) }, async () => {
  await withPage(devicePage(), async ({ page }) => {
    await page.getByTestId('live-view').waitFor();
    await page.waitForFunction(() => {
      const video = document.querySelector('[data-testid="live-view"] video');
      return video && (video.getAttribute('poster') || video.readyState >= 2);
    }, null, { timeout: patience(20000) });
    // Give any other picture on the page the time to load before counting.
    await page.waitForLoadState('networkidle').catch(() => {});
    const pictures = await page.evaluate(() => [...document.querySelectorAll('main img, main video')]
      .filter((el) => { const r = el.getBoundingClientRect(); return r.width >= 120 && r.height >= 60 && el.checkVisibility(); })
      .map((el) => el.dataset.testid || el.tagName));
    assert.equal(pictures.length, 1, `one picture (${pictures.join(', ')})`);
    assert.equal(await page.getByTestId('device-snapshot').count(), 0, 'no second snapshot image');
  });
});

test('the timeline is in view without scrolling at 1280x800', { timeout: patience(90000) }, async () => {
  await withPage(`${devicePage()}/recordings`, async ({ page }) => {
    const track = page.locator('.tl-track');
    await track.waitFor();
    await page.evaluate(() => document.fonts.ready);
    const box = await track.boundingBox();
    assert.equal(await page.evaluate(() => window.scrollY), 0);
    assert.ok(box.y >= 0 && box.y + box.height <= 800, `the timeline track at ${box.y}..${box.y + box.height} of 800`);
  }, { viewport: { width: 1280, height: 800 } });
});

test('live controls: always shown on a touch screen, and reached with the keyboard', { timeout: patience(90000) }, async () => {
  await withPage(devicePage(), async ({ page }) => {
    const controls = page.getByTestId('live-view').locator('.live-controls');
    await controls.waitFor({ state: 'attached' });
    await waitFor(async () => (await controls.evaluate((el) => getComputedStyle(el).opacity)) === '1', { what: 'controls shown on touch' });
    assert.ok(await page.getByTestId('live-fullscreen').isVisible());
  }, PHONE);

  await withPage(devicePage(), async ({ page }) => {
    const controls = page.getByTestId('live-view').locator('.live-controls');
    await controls.waitFor({ state: 'attached' });
    await page.mouse.move(1270, 790); // not over the player
    assert.equal(await controls.evaluate((el) => getComputedStyle(el).opacity), '0', 'hidden until hover or focus on a desktop');
    let inControls = false;
    for (let i = 0; i < 60 && !inControls; i++) {
      await page.keyboard.press('Tab');
      inControls = await page.evaluate(() => Boolean(document.activeElement && document.activeElement.closest('.live-controls')));
    }
    assert.ok(inControls, 'Tab reaches the live controls');
    await waitFor(async () => (await controls.evaluate((el) => getComputedStyle(el).opacity)) === '1', { what: 'controls shown to the keyboard' });
  }, { viewport: { width: 1280, height: 800 } });
});

test('no page scrolls sideways on a phone', { timeout: patience(120000) }, async () => {
  await withPage('/devices', async ({ page }) => {
    for (const path of ['/devices', devicePage(), `${devicePage()}/recordings`, '/live', '/notifications', '/settings']) {
      await page.goto(`${hub.url}/#${path}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle').catch(() => {});
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path}: ${overflow}px sideways`);
    }
  }, PHONE);
});

test('text on badges, chips, buttons and panels is readable in light and dark themes', { timeout: patience(120000) }, async () => {
  // Each step is bounded and named: a step that hangs fails with its name,
  // not as the whole test's timeout.
  const within = (ms, what, promise) => {
    let timer;
    const late = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  };
  await withPage('/devices', async ({ page }) => {
    for (const path of ['/devices', devicePage(), `${devicePage()}/recordings`, '/notifications', '/settings']) {
      await within(patience(60000), `${path}: opening`, page.goto(`${hub.url}/#${path}`));
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle', { timeout: 10000 }).catch(() => {});
      for (const colorScheme of ['light', 'dark']) {
        await within(patience(30000), `${path}: the ${colorScheme} theme`, page.emulateMedia({ colorScheme }));
        const samples = await within(patience(60000), `${path}: measuring in the ${colorScheme} theme`,
          measureContrast(page, ['.badge', '.battery', '.btn', '.chip', '.seg-btn', '.app-header', '.card']));
        assert.ok(samples.length > 10, `${path}: text measured (${samples.length})`);
        assert.deepEqual(lowContrast(samples), [], `${path} in the ${colorScheme} theme`);
      }
    }
  });
});
