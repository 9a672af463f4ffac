// Browser end-to-end: Debian's Chromium, driven by Playwright, against the
// real hub and a real simulated doorbell. Sets up the first admin from the
// printed link, logs out and in again, and sees the doorbell online with a
// snapshot.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';

const PASSWORD = 'correct horse battery staple';
const data = tempDir('doorstep-e2e-');
let hub;
let doorbell;
let browser;
let device;

export async function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--ignore-certificate-errors',
    ],
  });
}

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 15 });
  browser = await launchChromium();
});

after(() => stopAll(browser, doorbell, hub, data));

test('set up the admin, log in, see the doorbell online with a snapshot', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));

  // The link the hub printed.
  const link = hub.log.map((line) => /(https:\/\/\S+\/#\/setup\?token=\S+)/.exec(line)).find(Boolean)[1];
  await page.goto(link);
  await page.getByTestId('setup-username').fill('admin');
  await page.getByTestId('setup-password').fill(PASSWORD);
  await page.getByTestId('setup-confirm').fill(PASSWORD);
  await page.getByTestId('setup-submit').click();

  // Straight to the devices page, logged in.
  const card = page.locator(`[data-testid="device-card"][data-device-id="${device.id}"]`);
  await card.waitFor({ timeout: 15000 });

  // Log out, and back in.
  await page.getByTestId('logout').click();
  await page.getByTestId('login-username').waitFor();
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill('wrong password!!');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('login-error').waitFor();
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await card.waitFor({ timeout: 15000 });

  // Online, with a real JPEG snapshot decoded by the browser.
  await waitFor(async () => (await card.getByTestId('device-status').textContent()).trim().toLowerCase() === 'online',
    { what: 'the card to say online' });
  const snapshot = card.getByTestId('device-snapshot');
  await waitFor(async () => snapshot.evaluate((img) => img.complete && img.naturalWidth > 0),
    { timeout: 20000, what: 'the snapshot to load' });
  const size = await snapshot.evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  assert.deepEqual(size, [640, 360]);
  // Network 401s are expected (a poll racing the logout); script errors are not.
  assert.deepEqual(consoleErrors.filter((text) => !/status of 401/.test(text)), []);
  await context.close();
});

test('the UI works on a phone-sized screen', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(`${hub.url}/#/login`);
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  const card = page.locator(`[data-testid="device-card"][data-device-id="${device.id}"]`);
  await card.waitFor({ timeout: 15000 });
  const box = await card.boundingBox();
  assert.ok(box.width <= 390, `the card fits the screen (${box.width}px)`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
  await context.close();
});

test('an admin changes a doorbell to event recording and the setting is kept', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${hub.url}/#/login`);
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.locator(`[data-testid="device-card"][data-device-id="${device.id}"]`).waitFor({ timeout: 15000 });
  await page.goto(`${hub.url}/#/devices/${device.id}`);
  const form = page.getByTestId('recording-settings');
  await waitFor(async () => (await form.getByTestId('recording-mode').inputValue()) === 'continuous', { what: 'the settings loaded' });
  await form.getByTestId('recording-mode').selectOption('events');
  await form.locator('input[name="pre_roll_seconds"]').fill('7');
  await form.getByTestId('recording-save').click();
  await page.getByText('Recording settings saved').waitFor();
  await page.reload();
  await waitFor(async () => (await form.getByTestId('recording-mode').inputValue()) === 'events', { what: 'the saved mode after a reload' });
  assert.equal(await form.locator('input[name="pre_roll_seconds"]').inputValue(), '7');
  // Out of range: the browser refuses it and nothing is sent.
  await form.locator('input[name="post_roll_seconds"]').fill('9999');
  await form.getByTestId('recording-save').click();
  assert.equal(await form.locator('input[name="post_roll_seconds"]').evaluate((input) => input.validity.valid), false);
  await context.close();
});

test('a ring shows a toast in an open UI, linking to that moment', async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${hub.url}/#/login`);
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.locator(`[data-testid="device-card"][data-device-id="${device.id}"]`).waitFor({ timeout: 15000 });
  // A press before the feed is open would be missed: wait for it.
  await page.waitForFunction(() => document.documentElement.dataset.eventFeed === 'open');
  assert.equal(await doorbell.control('press'), 'ok');
  const toast = page.getByTestId('event-toast');
  await toast.waitFor({ timeout: 5000 });
  assert.match(await toast.textContent(), /Front door: Someone rang the doorbell/);
  assert.match(await toast.getAttribute('href'), new RegExp(`^#/devices/${device.id}/recordings\\?t=\\d+$`));
  await context.close();
});
