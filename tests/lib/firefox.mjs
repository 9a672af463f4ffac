// firefox.mjs - Firefox for the browser tests: launch Debian's firefox-esr
// headless through puppeteer-core (WebDriver BiDi; puppeteer never downloads
// a browser here), with a fake microphone and camera and no permission
// prompts, and open a page logged in with a harness client's session
// cookie, its console and page errors collected - what browser.mjs does for
// Chromium. Each withFirefoxPage() gets its own browser context, closed
// whatever happens.

import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX || '/usr/bin/firefox-esr';

// Prefs for every launch: fake media devices (the microphone is a steady
// tone), no permission prompt, no first-run pages or background traffic.
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'browser.shell.checkDefaultBrowser': false,
  'app.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'network.http.http3.enable': false,
};

/** Whether Firefox is installed where FIREFOX_PATH says. */
export function haveFirefox() {
  return existsSync(FIREFOX_PATH);
}

/** Launch Firefox headless; extraPrefs are added to FIREFOX_PREFS. Close the browser when done. */
export function launchFirefox(extraPrefs = {}) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    acceptInsecureCerts: true,
    protocolTimeout: 120000,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...extraPrefs },
  });
}

// Collect console errors and page errors of a page.
export function watchFirefoxErrors(page) {
  const errors = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

/**
 * Run fn({ page, errors, context }) in a fresh browser context logged in as
 * the harness client (its session cookies), at #path of the hub. init: a
 * function run in every page before its own scripts. The context is
 * closed whatever happens.
 */
export async function withFirefoxPage({ browser, hub, client }, path, fn, { init = null } = {}) {
  const context = await browser.createBrowserContext();
  try {
    const { hostname } = new URL(hub.url);
    const cookies = [...client.cookies].map(([name, value]) => ({
      name, value, domain: hostname, path: '/', secure: true, httpOnly: true, sameSite: 'Strict',
    }));
    await context.setCookie(...cookies);
    const page = await context.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const errors = watchFirefoxErrors(page);
    if (init) await page.evaluateOnNewDocument(init);
    await page.goto(`${hub.url}/#${path}`);
    await fn({ page, errors, context });
  } finally {
    await context.close();
  }
}
