// firefox.mjs - Firefox for the browser tests: launch Debian's firefox-esr
// headless through puppeteer-core (WebDriver BiDi; puppeteer never downloads
// a browser here), with fake media devices, no permission prompts and a
// private PulseAudio null sink as its audio output, and open a page logged
// in with a harness client's session cookie, its console and page errors
// collected - what browser.mjs does for Chromium. Runs in the test's node
// process; a launched browser owns its PulseAudio server (stopped by
// browser.close()), and each withFirefoxPage() its own browser context,
// closed whatever happens.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { waitFor } from './harness.mjs';
import { patience } from './patience.mjs';

export const FIREFOX_PATH = process.env.FIREFOX || '/usr/bin/firefox-esr';

// Prefs for every launch: fake media devices (the microphone is a steady
// 1 kHz sine, as the speaker file shows), no permission prompt, no first-run pages or background traffic.
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

export const PULSEAUDIO_PATH = '/usr/bin/pulseaudio';

/** Whether Firefox and PulseAudio (its audio output here) are installed. */
export function haveFirefox() {
  return existsSync(FIREFOX_PATH) && existsSync(PULSEAUDIO_PATH);
}

/*
 * A private PulseAudio server with one null sink, in its own directory,
 * for one Firefox. Firefox runs an AudioContext only on a real audio
 * output (with none, resume() never settles and no audio is rendered);
 * machines without a sound card have none, so each Firefox gets this one.
 * Resolves { server, stop }: server is the PULSE_SERVER value; stop() ends
 * the process and removes its directory.
 */
async function startPulse(rate) {
  const dir = mkdtempSync(join(tmpdir(), 'doorstep-pulse-'));
  const socket = join(dir, 'native');
  mkdirSync(join(dir, 'pulse'));
  writeFileSync(join(dir, 'pulse', 'daemon.conf'), `default-sample-rate = ${rate}\nalternate-sample-rate = ${rate}\n`);
  const child = spawn(PULSEAUDIO_PATH, [
    '-n', '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no', '--disallow-exit', '--disable-shm=yes',
    `--load=module-null-sink sink_name=doorstep rate=${rate}`, `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
  ], { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`pulseaudio exited: ${log}`);
      return existsSync(socket);
    }, { timeout: patience(10000), interval: 50, what: 'the PulseAudio socket' });
  } catch (error) {
    await stop();
    throw error;
  }
  return { server: `unix:${socket}`, stop };
}

/**
 * Launch Firefox headless with its own PulseAudio null sink running at
 * sinkRate Hz (the rate of the audio hardware, as Firefox sees it);
 * prefs are added to FIREFOX_PREFS. browser.close() also stops the sink's
 * server.
 */
export async function launchFirefox({ prefs = {}, sinkRate = 48000 } = {}) {
  const pulse = await startPulse(sinkRate);
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      acceptInsecureCerts: true,
      protocolTimeout: patience(120000),
      dumpio: Boolean(process.env.FIREFOX_DUMPIO),
      env: { ...process.env, PULSE_SERVER: pulse.server },
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
    });
  } catch (error) {
    await pulse.stop();
    throw error;
  }
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try { await close(); } finally { await pulse.stop(); }
  };
  return browser;
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
