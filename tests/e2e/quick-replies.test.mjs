// Browser end-to-end test of quick replies (www/js/quick-replies.js):
// Debian's Chromium on the real hub and a simulated doorbell with an ALSA
// file speaker. The doorbell page lists the stock replies; clicking one plays
// it on the doorbell (sound in speaker.raw); an upload through the file
// input adds a reply; the auto-reply rule saved in the page reaches the API;
// a ring shows the toast's reply buttons, and one of them plays.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { launchChromium, loggedInContext, watchErrors } from '../lib/browser.mjs';

const data = tempDir('doorstep-e2e-replies-');
let hub, admin, device, doorbell, browser, speaker;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 400, audio: {} });
  speaker = join(doorbell.dir, 'speaker.raw');
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'online' });
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

const size = () => (existsSync(speaker) ? statSync(speaker).size : 0);

// 10 ms windows louder than RMS 300 in speaker.raw since byte `from`.
function loudWindows(from) {
  const bytes = readFileSync(speaker).subarray(from - (from % 2));
  let loud = 0;
  for (let at = 0; at + 960 <= bytes.length; at += 960) {
    let sum = 0;
    for (let i = 0; i < 960; i += 2) { const v = bytes.readInt16LE(at + i); sum += v * v; }
    if (Math.sqrt(sum / 480) > 300) loud++;
  }
  return loud;
}

test('play, upload and auto-reply from the doorbell page; play from the ring toast', async () => {
  const context = await loggedInContext(browser, hub, admin);
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${hub.url}/#/devices/${device.id}`);
    const panel = page.getByTestId('quick-replies');
    await panel.getByText("We'll be right there").waitFor();
    assert.equal(await panel.getByTestId('quick-reply-play').count(), 3);

    let from = size();
    await panel.getByText('Please leave the package at the door').click();
    await page.getByText('Playing “Please leave the package at the door”').waitFor();
    await waitFor(() => loudWindows(from) >= 50, { what: 'the reply on the doorbell speaker' });

    const wav = join(data.dir, 'beep.wav');
    const rate = 16000, count = rate;
    const buffer = Buffer.alloc(44 + count * 2);
    buffer.write('RIFF', 0); buffer.writeUInt32LE(36 + count * 2, 4); buffer.write('WAVEfmt ', 8);
    buffer.writeUInt32LE(16, 16); buffer.writeUInt16LE(1, 20); buffer.writeUInt16LE(1, 22);
    buffer.writeUInt32LE(rate, 24); buffer.writeUInt32LE(rate * 2, 28); buffer.writeUInt16LE(2, 32);
    buffer.writeUInt16LE(16, 34); buffer.write('data', 36); buffer.writeUInt32LE(count * 2, 40);
    for (let i = 0; i < count; i++) buffer.writeInt16LE(Math.round(9000 * Math.sin((2 * Math.PI * 800 * i) / rate)), 44 + 2 * i);
    writeFileSync(wav, buffer);
    await page.getByTestId('quick-reply-name').fill('Beep');
    await page.getByTestId('quick-reply-file').setInputFiles(wav);
    await page.getByTestId('quick-reply-upload').click();
    await page.getByText('Added “Beep”').waitFor();
    await panel.getByText('Beep').waitFor();
    const beep = (await admin.api('GET', '/api/v1/replies')).json.replies.find((r) => r.name === 'Beep');
    assert.ok(beep && Math.abs(beep.duration_ms - 1000) <= 40);

    await page.getByTestId('auto-reply-away').selectOption(String(beep.id));
    await page.getByTestId('auto-reply-away-delay').fill('15');
    await page.getByTestId('auto-reply-away-save').click();
    await page.getByText('Auto-reply for Away saved').waitFor();
    assert.deepEqual((await admin.api('GET', `/api/v1/devices/${device.id}/auto-reply`)).json.away, { reply_id: beep.id, delay_s: 15 });

    const pressed = size();
    assert.equal(await doorbell.control('press'), 'ok');
    // The ding-dong first: wait until it has played and the speaker is quiet again.
    await waitFor(() => size() - pressed > 96000 * 1.2 && loudWindows(size() - 9600) === 0, { what: 'the chime to end' });
    const toastReplies = page.getByTestId('ring-toast-replies');
    await toastReplies.getByText('Beep').waitFor();
    from = size();
    await toastReplies.getByText('Beep').click();
    await page.getByText('Playing “Beep”').waitFor();
    await waitFor(() => loudWindows(from) >= 60, { what: 'the reply from the toast on the speaker' });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
