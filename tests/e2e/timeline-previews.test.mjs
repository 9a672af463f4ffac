// Browser end-to-end test of the timeline previews on the recordings page:
// hovering over recorded time with a mouse, or dragging the playhead with a
// finger (touch events through the DevTools protocol, so the page gets
// pointerType "touch"), shows the doorbell's preview picture of that
// instant above the pointer. The picture is judged by the frame stamp the
// sim camera drew into it (read back from the picture on the page through a
// canvas), not by what the page believes; the tip must not move anything
// else, and the page must not scroll sideways at 390 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage as openPage } from '../lib/browser.mjs';
import { decodeScaledFrameStamp } from '../lib/previews.mjs';

const INTERVAL_MS = 2000;
const WINDOW_MS = INTERVAL_MS + 1000 + 500;  // served window, plus the page's rounding down to 500 ms
const data = tempDir('doorstep-e2e-previews-');
let hub;
let admin;
let device;
let doorbell;
let browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '6'] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 10, bitrate: 400 });
  browser = await launchChromium();
  await waitFor(async () => (await closed()).length >= 2, { timeout: 90000, interval: 1000, what: 'two closed segments' });
});

after(() => stopAll(browser, doorbell, hub, data));

async function closed() {
  const response = await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`);
  return (response.json.recordings || []).filter((row) => !row.recording).sort((a, b) => a.start_ms - b.start_ms);
}

const withPage = (fn, options = {}) => openPage({ browser, hub, client: admin }, `/devices/${device.id}/recordings`, fn, options);

// Script errors fail a test; a request cut by a seek or a missing preview does not.
const scriptErrors = (errors) => errors.filter((text) => !/status of (401|404|502|503)|net::ERR_/.test(text));

// The timeline track once it shows spans, zoomed to 10 min, and a mapping of instants to page points.
async function openTimeline(page) {
  const track = page.getByTestId('timeline');
  await waitFor(async () => Number(await track.getAttribute('data-spans')) > 0, { what: 'recorded spans on the timeline' });
  await page.getByTestId('zoom-10m').click();
  const view = async () => track.evaluate((el) => ({ from: Number(el.dataset.viewFrom), to: Number(el.dataset.viewTo) }));
  await waitFor(async () => { const v = await view(); return v.to - v.from === 600000; }, { what: 'the 10 min zoom' });
  const pointOf = async (t) => {
    const box = await track.boundingBox();
    const v = await view();
    assert.ok(t >= v.from && t <= v.to, `${t} is in view [${v.from}, ${v.to}]`);
    return { x: box.x + ((t - v.from) / (v.to - v.from)) * box.width, y: box.y + 42, msPerPx: (v.to - v.from) / box.width };
  };
  return { track, pointOf };
}

// The preview shown for instant t (the picture loaded, its bytes and times),
// once the page shows one for a time within a pixel of t.
async function previewShown(page, t, msPerPx) {
  const img = page.getByTestId('timeline-preview');
  const shown = await waitFor(async () => {
    const state = await img.evaluate((el) => ({
      visible: !el.hidden && el.offsetWidth > 0 && !el.closest('[hidden]'), loaded: el.complete && el.naturalWidth > 0,
      forMs: Number(el.dataset.forMs), previewMs: Number(el.dataset.previewMs),
    }));
    return state.visible && state.loaded && Math.abs(state.forMs - t) <= msPerPx + 1 ? state : null;
  }, { timeout: 15000, what: `the preview of ${t}` });
  // The picture as the page shows it: its top band (where the stamp is) read
  // back through a canvas, as luma.
  const band = await img.evaluate((el) => {
    const canvas = document.createElement('canvas');
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(el, 0, 0);
    const rgba = context.getImageData(0, 0, 528, 24).data;
    const luma = [];
    for (let i = 0; i < rgba.length; i += 4) luma.push(Math.round(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]));
    return { luma, width: el.naturalWidth };
  });
  return { ...shown, band };
}

// The picture shows the hovered instant: its stamp is the capture time the
// hub reported, at most the preview window before the instant.
function assertShows(preview, what) {
  const stamp = decodeScaledFrameStamp(preview.band.luma, 528, 640 / preview.band.width);
  assert.ok(stamp, `${what}: the preview shows a frame stamp`);
  assert.equal(stamp.timeMs, preview.previewMs % 2 ** 48, `${what}: the stamp is the preview's capture time`);
  assert.ok(stamp.timeMs <= preview.forMs && stamp.timeMs >= preview.forMs - WINDOW_MS,
    `${what}: stamp ${stamp.timeMs} for the instant ${preview.forMs} (${preview.forMs - stamp.timeMs} ms before)`);
}

test('(a) hovering with a mouse shows the preview of the instant under the pointer', { timeout: 90000 }, async () => {
  await withPage(async ({ page, errors }) => {
    const { track, pointOf } = await openTimeline(page);
    const [first, second] = await closed();
    const trackBox = await track.boundingBox();
    for (const wanted of [first.start_ms + 3300, second.start_ms + 2100]) {
      const point = await pointOf(wanted);
      await page.mouse.move(point.x, point.y, { steps: 4 });
      const preview = await previewShown(page, wanted, point.msPerPx);
      assertShows(preview, `hover at ${wanted}`);
      const tip = await page.getByTestId('timeline-tip').boundingBox();
      assert.ok(tip.y + tip.height <= trackBox.y + 1, 'the tip is above the timeline');
      assert.ok(Math.abs(tip.x + tip.width / 2 - point.x) <= tip.width / 2 + 1, 'the tip is over the pointer');
      assert.deepEqual(await track.boundingBox(), trackBox, 'nothing moved');
    }
    // Off the footage (the future): the time only, no preview box.
    const view = await track.evaluate((el) => Number(el.dataset.viewTo));
    const future = await pointOf(view - 1000);
    await page.mouse.move(future.x, future.y, { steps: 2 });
    await waitFor(async () => page.getByTestId('timeline-tip').evaluate((el) => !el.hidden && el.querySelector('.tl-preview').hidden),
      { what: 'a tip without a preview over the future' });
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(b) dragging the playhead with a finger at 390 px shows the preview; no sideways scrolling', { timeout: 90000 }, async () => {
  await withPage(async ({ page, errors }) => {
    const { track, pointOf } = await openTimeline(page);
    const [first, second] = await closed();
    // A tap puts the playhead on the first segment; then the finger drags it.
    const start = await pointOf(first.start_ms + 2500);
    await page.touchscreen.tap(start.x, start.y);
    await waitFor(async () => Math.abs(Number(await track.getAttribute('data-playhead-ms')) - (first.start_ms + 2500)) <= 2 * start.msPerPx,
      { what: 'the playhead where the finger tapped' });
    const playhead = await pointOf(Number(await track.getAttribute('data-playhead-ms')));
    const wanted = second.start_ms + 3100;
    const end = await pointOf(wanted);
    const cdp = await page.context().newCDPSession(page);
    const touch = (type, x, y) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
    await touch('touchStart', playhead.x, playhead.y);
    for (let i = 1; i <= 8; i++) await touch('touchMove', playhead.x + ((end.x - playhead.x) * i) / 8, end.y);
    const preview = await previewShown(page, Number(await track.getAttribute('data-playhead-ms')), end.msPerPx);
    assert.ok(Math.abs(preview.forMs - wanted) <= 2 * end.msPerPx, `the finger is at ${wanted}, the preview for ${preview.forMs}`);
    assertShows(preview, 'touch scrub');
    const tip = await page.getByTestId('timeline-tip').boundingBox();
    assert.ok(tip.x >= 0 && tip.x + tip.width <= 390, `the tip fits the screen (${tip.x}..${tip.x + tip.width})`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling with the preview shown (${overflow}px)`);
    await touch('touchEnd');
    await waitFor(async () => page.getByTestId('timeline-tip').evaluate((el) => el.hidden), { what: 'the tip gone with the finger' });
    assert.deepEqual(scriptErrors(errors), []);
  }, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
});
