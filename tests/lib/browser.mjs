// browser.mjs - Chromium for the live-view browser tests and benchmarks:
// launch Debian's Chromium headless through playwright-core, log a browser
// context in with a harness client's session cookie, read the live player's
// test hook (window.doorstepLive) and summarise presented frames.

import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
];

export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

// A new browser context logged in as the harness client (its session cookie).
export async function loggedInContext(browser, hub, client, options = {}) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 }, ...options });
  const cookies = [...client.cookies].map(([name, value]) => ({
    name, value, url: `${hub.url}/`, secure: true, httpOnly: true, sameSite: 'Strict',
  }));
  await context.addCookies(cookies);
  return context;
}

// Run fn({ page, errors }) in a fresh context logged in as client, at
// #path of the hub; the context (and every player in it) is closed
// whatever happens. options go to browser.newContext(), but for
// initScript: a function run in every page before its own scripts.
export async function withPage({ browser, hub, client }, path, fn, { initScript, ...options } = {}) {
  const context = await loggedInContext(browser, hub, client, options);
  try {
    if (initScript) await context.addInitScript(initScript);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#${path}`);
    await fn({ page, errors });
  } finally {
    await context.close();
  }
}

// Collect console errors and page errors of a page.
export function watchErrors(page) {
  const errors = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

// The hook's players (plain data), optionally only those of one doorbell.
export async function livePlayers(page, deviceId = null) {
  const players = await page.evaluate(() => (window.doorstepLive ? window.doorstepLive.players : []));
  return deviceId ? players.filter((p) => p.deviceId === deviceId) : players;
}

// The running (not stopped) player of deviceId, or null.
export async function activePlayer(page, deviceId) {
  const players = await livePlayers(page, deviceId);
  return players.filter((p) => p.state !== 'stopped').pop() || null;
}

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

// Summarise stamped frames: latency percentiles, sequence order and gaps,
// frames presented late (interval to the previous one > 2.5 frame periods).
export function summariseFrames(frames, { fps = 30 } = {}) {
  const stamped = frames.filter((f) => f.sequence !== null && f.captureMs !== null);
  const latencies = stamped.map((f) => f.presentedMs - f.captureMs).sort((a, b) => a - b);
  let missing = 0;
  let outOfOrder = 0;
  let repeated = 0;
  let late = 0;
  let longestGapMs = 0;
  for (let i = 1; i < stamped.length; i++) {
    const step = (stamped[i].sequence - stamped[i - 1].sequence + 65536) % 65536;
    if (step === 0) repeated++;
    else if (step > 32768) outOfOrder++;
    else missing += step - 1;
    const interval = stamped[i].presentedMs - stamped[i - 1].presentedMs;
    if (interval > (2.5 * 1000) / fps) late++;
    longestGapMs = Math.max(longestGapMs, interval);
  }
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  // Where the time goes, for frames whose arrival the player noted:
  // capture -> the browser received it, and received -> presented.
  const arrived = stamped.filter((f) => typeof f.arrivedMs === 'number');
  const toArrival = arrived.map((f) => f.arrivedMs - f.captureMs).sort((a, b) => a - b);
  const toScreen = arrived.map((f) => f.presentedMs - f.arrivedMs).sort((a, b) => a - b);
  return {
    frames: stamped.length,
    missing, outOfOrder, repeated, late,
    longestGapMs: round(longestGapMs),
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    min: round(latencies[0] ?? null),
    max: round(latencies[latencies.length - 1] ?? null),
    capture_to_arrival_p50: round(percentile(toArrival, 50)),
    arrival_to_screen_p50: round(percentile(toScreen, 50)),
  };
}
