// Browser end-to-end tests in Firefox (Debian's firefox-esr, headless,
// driven over WebDriver BiDi by puppeteer-core: tests/lib/firefox.mjs):
// the same real hub and real simulated doorbell as the Chromium tests, the
// doorbell's speaker an ALSA `file` device (speaker.raw). Firefox's fake
// microphone (media.navigator.streams.fake) plays a steady 1 kHz tone; what
// the doorbell plays is checked by its frequency (Goertzel,
// tests/lib/tone.mjs). The page's hooks say what happened: window.doorstepLive
// (live player, presented frames) and window.doorstepTalk (talk sessions:
// codec, audio context rate, packets, microphone).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { requireOrSkip } from '../lib/requirements.mjs';
import { haveFirefox, launchFirefox, withFirefoxPage, FIREFOX_PATH } from '../lib/firefox.mjs';
import { samplesOf, toneWindows, dominantFrequency, WINDOW } from '../lib/tone.mjs';

const skip = requireOrSkip(haveFirefox(), `Firefox (${FIREFOX_PATH}, Debian's firefox-esr: make deps)`);
const wait = (fn, options = {}) => waitFor(fn, { interval: 100, ...options, timeout: patience(options.timeout ?? 20000) });
const PASSWORD = 'correct horse battery staple';
// Firefox's fake microphone: a steady sine at this frequency.
const TONE_HZ = 1000;
const data = tempDir('doorstep-e2e-firefox-');
let hub, admin, browser, front, doorbell;

before(async () => {
  if (skip) return;
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin('admin', PASSWORD);
  front = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...front, size: '640x360', fps: 10, bitrate: 300, audio: { frequency: 440 } });
  await wait(async () => (await admin.api('GET', `/api/v1/devices/${front.id}`)).json.online, { what: 'the doorbell online' });
  browser = await launchFirefox();
});

after(async () => {
  if (browser) await browser.close();
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// Script errors fail a test; refused WebSockets and failed requests do not.
const scriptErrors = (errors) => errors.filter((text) => !/status of (401|403|502|503)|NS_ERROR_|can.t establish a connection/i.test(text));

// What the doorbell's speaker wrote after this point: read() returns the new samples.
function speakerFrom() {
  const path = join(doorbell.dir, 'speaker.raw');
  const start = existsSync(path) ? statSync(path).size : 0;
  return {
    read() {
      if (!existsSync(path)) return new Int16Array(0);
      const length = Math.max(0, statSync(path).size - start);
      const buffer = Buffer.alloc(length);
      const fd = openSync(path, 'r');
      try { readSync(fd, buffer, 0, length, start); } finally { closeSync(fd); }
      return samplesOf(buffer);
    },
  };
}

const talkEntry = (page, deviceId) => page.evaluate((id) => {
  const list = (window.doorstepTalk && window.doorstepTalk.sessions) || [];
  return list.filter((s) => s.deviceId === id).pop() || null;
}, deviceId);

const talkState = (page) => page.evaluate(() => {
  const element = document.querySelector('[data-testid="talk"]');
  return element ? element.getAttribute('data-state') : null;
});

test('probe', { skip, timeout: patience(120000) }, async () => {
  const init = process.env.CODEC ? new Function(`window.doorstepTalkCodec = '${process.env.CODEC}';`) : null;
  await withFirefoxPage({ browser, hub, client: admin }, `/devices/${front.id}`, async ({ page, errors }) => {
    await wait(async () => (await talkState(page)) === 'idle', { what: 'talk idle' });
    console.log(await page.evaluate(() => ({ secure: window.isSecureContext, enc: typeof AudioEncoder, live: window.doorstepLive && window.doorstepLive.players.map((p) => ({ state: p.state, frames: p.frames.length })) })));
    const speaker = speakerFrom();
    await page.click('[data-testid="talk-latch"]');
    try {
      await wait(async () => (await talkState(page)) === 'on-air', { what: 'on air' });
      await wait(() => toneWindows(speaker.read(), TONE_HZ).length >= 10, { what: 'tone' });
    } finally {
      console.log(await talkEntry(page, front.id), errors, await page.evaluate(() => document.querySelector('[data-testid="talk-meter"]').getAttribute('aria-valuenow')));
      const s = speaker.read();
      let peak = 0; for (let i = Math.max(0, s.length - 48000); i < s.length; i++) peak = Math.max(peak, Math.abs(s[i]));
      console.log('speaker samples', s.length, 'peak', peak, s.length > 8 * WINDOW ? dominantFrequency(s, s.length - 8 * WINDOW, 8 * WINDOW) : null);
    }
  }, { init });
});
