// Browser end-to-end tests of the recordings page (#/devices/ID/recordings):
// Debian's Chromium (headless, through playwright-core) on the real hub and a
// real simulated doorbell playing its scripted scene (a visitor rings 15 s
// into each 120 s loop). The recording player's test hook
// (window.doorstepPlayback) reports every presented frame with the frame
// stamp decoded from the picture itself, so a seek is judged by the
// capture time drawn in the frame on screen, not by what the page believes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Client, Doorbell, sleep, tempDir, waitFor, decodeErrors, stopAll } from '../lib/harness.mjs';
import { launchChromium, withPage as openPage } from '../lib/browser.mjs';

const FPS = 15;
const GOP_MS = 2000;            // doorbelld's default keyframe interval: 2 s worth of frames
const FRAME_MS = 1000 / FPS;
const RECORD_MS = 40000;
const data = tempDir('doorstep-e2e-timeline-');
let hub;
let admin;
let device;
let doorbell;
let browser;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir, extra: ['--segment-seconds', '20'] });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: FPS, bitrate: 500, scripted: true });
  browser = await launchChromium();
  await waitFor(async () => {
    const spans = await recordings();
    return spans.length && spans[spans.length - 1].end_ms - spans[0].start_ms >= RECORD_MS;
  }, { timeout: RECORD_MS + 60000, interval: 1000, what: `${RECORD_MS / 1000} s of recording` });
});

after(() => stopAll(browser, doorbell, hub, data));

// The doorbell's recorded segments, oldest first.
async function recordings() {
  const response = await admin.api('GET', `/api/v1/devices/${device.id}/recordings?from=0`);
  return (response.json.recordings || []).sort((a, b) => a.start_ms - b.start_ms);
}

// Every value the timeline's playhead takes, from the page's first script
// on (window.playheads): it must never leave the recorded time.
function watchPlayhead() {
  window.playheads = [];
  new MutationObserver((records) => {
    for (const record of records) {
      const value = record.target.getAttribute('data-playhead-ms');
      if (value !== null) window.playheads.push(Number(value));
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-playhead-ms'] });
}

// A page at #path, logged in as client (the admin by default), downloads allowed.
const withPage = (path, fn, options = {}, client = admin) =>
  openPage({ browser, hub, client }, path, fn, { acceptDownloads: true, initScript: watchPlayhead, ...options });

const recordingsPath = () => `/devices/${device.id}/recordings`;

// Script errors fail a test; a request cut by a seek or a page change does not.
function scriptErrors(errors) {
  return errors.filter((text) => !/status of (401|404|502|503)|net::ERR_/.test(text));
}

// The timeline (its track element), once it shows recorded spans, zoomed to 10 min.
// The playhead stayed on recorded time (a moment before the player moved
// to its stream, read as wall time, once put it a day back).
async function openTimeline(page) {
  const track = page.getByTestId('timeline');
  await waitFor(async () => Number(await track.getAttribute('data-spans')) > 0, { what: 'recorded spans on the timeline' });
  await page.getByTestId('zoom-10m').click();
  await waitFor(async () => (await viewOf(track)).to - (await viewOf(track)).from === 600000, { what: 'the 10 min zoom' });
  const spans = await recordings();
  const heads = await page.evaluate(() => window.playheads);
  const astray = heads.filter((t) => t < spans[0].start_ms - 60000 || t > Date.now() + 60000);
  assert.deepEqual(astray, [], `the playhead left the recorded time [${spans[0].start_ms}, now] (${heads.length} positions)`);
  return track;
}

async function viewOf(track) {
  return track.evaluate((el) => ({ from: Number(el.dataset.viewFrom), to: Number(el.dataset.viewTo) }));
}

// Page coordinates of instant t on the timeline's span band.
async function pointOf(track, t) {
  const box = await track.boundingBox();
  const view = await viewOf(track);
  assert.ok(t >= view.from && t <= view.to, `${t} is in view [${view.from}, ${view.to}]`);
  return { x: box.x + ((t - view.from) / (view.to - view.from)) * box.width, y: box.y + 42, msPerPx: (view.to - view.from) / box.width };
}

async function hook(page) {
  return page.evaluate(() => {
    const p = window.doorstepPlayback.players.filter((q) => q.state !== 'stopped').pop();
    return { seek: p.seek, target: p.target, state: p.state, frames: p.frames };
  });
}

// The first presented frame with a stamp after the latest seek, once there is one.
async function pictureAfterSeek(page) {
  return waitFor(async () => {
    const h = await hook(page);
    const frame = h.frames.find((f) => f.seek === h.seek && f.captureMs !== null);
    return frame ? { ...frame, target: h.target, seekNumber: h.seek } : null;
  }, { timeout: 15000, what: 'a picture after the seek' });
}

// The picture shows the instant asked for (within one GOP: the stream starts
// at the keyframe before it), and the page's wall time of that frame is the
// capture time drawn in it.
function assertShows(frame, wantedMs, what) {
  assert.ok(Math.abs(frame.captureMs - wantedMs) <= GOP_MS,
    `${what}: the picture's stamp ${frame.captureMs} is within one GOP of ${wantedMs} (${frame.captureMs - wantedMs} ms)`);
  assert.ok(Math.abs(frame.wallMs - frame.captureMs) <= FRAME_MS,
    `${what}: the page puts this frame at ${frame.wallMs}, its stamp says ${frame.captureMs}`);
}

test('(a) a click or a drag of the playhead shows that instant, then plays', { timeout: 120000 }, async () => {
  await withPage('/devices', async ({ page, errors }) => {
    // The doorbell card links to its recordings.
    const card = page.locator(`[data-testid="device-card"][data-device-id="${device.id}"]`);
    await card.getByTestId('device-recordings').click();
    await page.waitForURL(new RegExp(`#/devices/${device.id}/recordings$`));
    const track = await openTimeline(page);
    const spans = await recordings();
    const first = spans[0];

    // Click: an instant 12.3 s into the first segment, between keyframes.
    const wanted = first.start_ms + 12345;
    const point = await pointOf(track, wanted);
    await page.mouse.click(point.x, point.y);
    const chosen = (await hook(page)).target;
    assert.ok(Math.abs(chosen - wanted) <= point.msPerPx, `the click chose ${chosen}, wanted ${wanted}`);
    const clicked = await pictureAfterSeek(page);
    assertShows(clicked, chosen, 'after a click');

    // Then it plays from there: later frames of the same seek, in order.
    const played = await waitFor(async () => {
      const h = await hook(page);
      const frames = h.frames.filter((f) => f.seek === clicked.seekNumber && f.captureMs !== null);
      return frames.length > FPS && frames[frames.length - 1].captureMs - clicked.captureMs > 1000 ? frames : null;
    }, { timeout: 15000, what: 'playback after the click' });
    for (let i = 1; i < played.length; i++) assert.ok(played[i].captureMs > played[i - 1].captureMs, 'frames go forward');
    assert.equal(await page.getByTestId('playback-state').getAttribute('data-state'), 'playing');

    // Drag the playhead to an instant of the last closed segment.
    const closed = spans.filter((s) => !s.recording);
    const target = closed[closed.length - 1].start_ms + 6789;
    const from = await pointOf(track, Number(await track.getAttribute('data-playhead-ms')));
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    const to = await pointOf(track, target);
    for (let i = 1; i <= 8; i++) {
      await page.mouse.move(from.x + ((to.x - from.x) * i) / 8, to.y);
      await sleep(80);
    }
    await page.mouse.up();
    const dropped = (await hook(page)).target;
    assert.ok(Math.abs(dropped - target) <= to.msPerPx, `the drag ended at ${dropped}, wanted ${target}`);
    assertShows(await pictureAfterSeek(page), dropped, 'after a drag');

    // Paused, the clock names the frame on screen.
    await page.getByTestId('playback-play').click();
    await waitFor(async () => (await page.getByTestId('playback-state').getAttribute('data-state')) === 'paused', { what: 'paused' });
    await sleep(300);
    const still = await page.evaluate(() => window.doorstepPlayback.players.filter((q) => q.state !== 'stopped').pop().readStamp());
    const clock = Number(await page.getByTestId('playback-clock').getAttribute('data-wall-ms'));
    assert.ok(still, 'the paused picture has a stamp');
    assert.ok(Math.abs(clock - still.captureMs) <= FRAME_MS, `clock ${clock} vs picture ${still.captureMs}`);

    // Speed control drives the video's rate.
    await page.getByTestId('playback-speed-4').click();
    assert.equal(await page.getByTestId('playback-video').evaluate((v) => v.playbackRate), 4);
    assert.equal(await page.getByTestId('playback-speed-4').getAttribute('aria-pressed'), 'true');
    await page.getByTestId('playback-speed-1').click();

    // "Live" goes back to live view.
    await page.getByTestId('playback-live').click();
    await page.waitForURL(new RegExp(`#/devices/${device.id}$`));
    await page.getByTestId('live-view').waitFor();
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(b) a selected range downloads as an MP4 that ffprobe and ffmpeg accept', { timeout: 120000 }, async () => {
  await withPage(recordingsPath(), async ({ page, errors }) => {
    const track = await openTimeline(page);
    const spans = await recordings();
    // 20 s across the first segment boundary.
    const from = spans[0].start_ms + 8000;
    const to = from + 20000;
    await page.getByTestId('timeline-select').click();
    const a = await pointOf(track, from);
    const b = await pointOf(track, to);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(b.x, b.y, { steps: 6 });
    await page.mouse.up();
    const link = page.getByTestId('selection-download');
    await link.waitFor();
    const url = new URL(await link.getAttribute('href'), hub.url);
    assert.equal(url.pathname, `/api/v1/devices/${device.id}/export`);
    const range = { from: Number(url.searchParams.get('from')), to: Number(url.searchParams.get('to')) };
    assert.ok(Math.abs(range.from - from) <= a.msPerPx && Math.abs(range.to - to) <= b.msPerPx, `selected ${JSON.stringify(range)}`);

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /\.mp4$/);
    const file = join(data.dir, 'export.mp4');
    await download.saveAs(file);
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-of', 'json', '-show_format', '-show_streams', file], { encoding: 'utf8' }));
    assert.ok(probe.streams.some((s) => s.codec_name === 'h264'), 'an H.264 stream');
    const duration = Number(probe.format.duration) * 1000;
    const length = range.to - range.from;
    assert.ok(duration >= length - GOP_MS && duration <= length + GOP_MS, `duration ${duration} ms for ${length} ms selected`);
    assert.equal(decodeErrors(file), '', 'ffmpeg decodes it without a complaint');

    // "Download the last N minutes" is a link made when it is used.
    await page.getByTestId('export-minutes').selectOption('15');
    await page.getByTestId('export-last').focus();
    const last = new URL(await page.getByTestId('export-last').getAttribute('href'), hub.url);
    assert.equal(Number(last.searchParams.get('to')) - Number(last.searchParams.get('from')), 15 * 60000);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(c) the ring of the scripted scene is listed with its thumbnail; a star survives a reload', { timeout: 120000 }, async () => {
  await withPage(recordingsPath(), async ({ page, errors }) => {
    const track = await openTimeline(page);
    const ring = page.locator('[data-testid="event-item"][data-event-type="ring"]').first();
    await ring.waitFor({ timeout: 30000 });
    const thumbnail = ring.getByTestId('event-thumbnail');
    await waitFor(() => thumbnail.evaluate((img) => img.complete && img.naturalWidth > 0), { what: 'the thumbnail to load' });
    assert.deepEqual(await thumbnail.evaluate((img) => [img.naturalWidth, img.naturalHeight]), [640, 360]);
    const eventId = await ring.getAttribute('data-event-id');
    const event = (await admin.api('GET', `/api/v1/devices/${device.id}/events/${eventId}`)).json;

    // Its marker on the timeline shows the thumbnail on hover.
    const marker = await pointOf(track, event.start_ms);
    await page.mouse.move(marker.x, marker.y + 32);
    const tip = page.getByTestId('timeline-tip');
    await tip.waitFor();
    assert.match(await tip.textContent(), /Ring/);

    // "Play" seeks to the start of its clip.
    await ring.getByTestId('event-play').click();
    await waitFor(async () => (await hook(page)).target === event.clip_start_ms, { what: 'a seek to the clip' });
    assertShows(await pictureAfterSeek(page), event.clip_start_ms, 'the event clip');

    // Star it; it stays starred after a reload, and the starred filter keeps it.
    const star = ring.getByTestId('event-star');
    assert.equal(await star.getAttribute('aria-pressed'), 'false');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/events/${eventId}/star`) && r.request().method() === 'POST'),
      star.click(),
    ]);
    assert.equal(response.status(), 200);
    assert.equal(await star.getAttribute('aria-pressed'), 'true');
    await page.reload();
    const again = page.locator(`[data-testid="event-item"][data-event-id="${eventId}"]`);
    await again.waitFor({ timeout: 20000 });
    assert.equal(await again.getByTestId('event-star').getAttribute('aria-pressed'), 'true');
    await page.getByTestId('event-filter-starred').click();
    await waitFor(async () => (await page.getByTestId('event-item').count()) === 1, { what: 'only the starred event' });
    assert.equal(await page.getByTestId('event-item').getAttribute('data-event-id'), eventId);
    assert.deepEqual(scriptErrors(errors), []);
  });
});

test('(d) the timeline page fits a phone screen without sideways scrolling', { timeout: 60000 }, async () => {
  await withPage(recordingsPath(), async ({ page, errors }) => {
    const track = page.getByTestId('timeline');
    await waitFor(async () => Number(await track.getAttribute('data-spans')) > 0, { what: 'recorded spans on the timeline' });
    await page.locator('[data-testid="event-item"]').first().waitFor({ timeout: 30000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
    const box = await track.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `the timeline fits the screen (${box.x}..${box.x + box.width})`);
    assert.deepEqual(scriptErrors(errors), []);
  }, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
});

test('(e) admins see recordings storage per doorbell in the settings; viewers are not asked', { timeout: 60000 }, async () => {
  await withPage('/settings', async ({ page, errors }) => {
    const row = page.locator(`[data-testid="storage-device"][data-device-id="${device.id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /Front door.*\d+(\.\d)? (kB|MB)/);
    assert.match(await page.getByTestId('storage-used').textContent(), /\d (B|kB|MB|GB)$/);
    assert.equal(await page.getByTestId('storage-warning').isVisible(), false, 'nothing was cut short');
    assert.deepEqual(scriptErrors(errors), []);
  });

  const password = 'viewer password 123';
  const created = await admin.api('POST', '/api/v1/users', { json: { username: 'viewer', password, role: 'viewer', devices: [device.id] } });
  assert.equal(created.status, 201);
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('viewer', password)).status, 200);
  await withPage('/settings', async ({ page, errors }) => {
    const asked = [];
    page.on('request', (request) => { if (new URL(request.url()).pathname === '/api/v1/storage') asked.push(request); });
    await page.getByTestId('settings-role').waitFor();
    assert.equal(await page.getByTestId('settings-role').textContent(), 'viewer');
    await sleep(500);
    assert.equal(await page.getByTestId('storage-section').count(), 0);
    assert.equal(asked.length, 0, 'no request a viewer would get 403 for');
    // A viewer may play the doorbell's recordings.
    await page.goto(`${hub.url}/#${recordingsPath()}`);
    await waitFor(async () => Number(await page.getByTestId('timeline').getAttribute('data-spans')) > 0, { what: 'the viewer\'s timeline' });
    assert.equal(asked.length, 0);
    assert.deepEqual(scriptErrors(errors), []);
  }, {}, viewer);
});

test('(f) playback jumps the gap where the doorbell was offline', { timeout: 120000 }, async () => {
  await doorbell.stop();
  const offAt = Date.now();
  doorbell = null;
  await sleep(8000);
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: FPS, bitrate: 500, scripted: true });
  const gap = await waitFor(async () => {
    const spans = await recordings();
    const i = spans.findIndex((s, k) => k > 0 && s.start_ms - spans[k - 1].end_ms > 4000);
    if (i < 0 || spans[spans.length - 1].end_ms - spans[i].start_ms < 8000) return null;
    return { from: spans[i - 1].end_ms, to: spans[i].start_ms };
  }, { timeout: 60000, interval: 1000, what: 'footage after the doorbell came back' });
  assert.ok(gap.from <= offAt + 1000, 'the gap is the time the doorbell was off');

  await withPage(recordingsPath(), async ({ page, errors }) => {
    const track = await openTimeline(page);
    const point = await pointOf(track, gap.from - 3000);
    await page.mouse.click(point.x, point.y);
    const start = await pictureAfterSeek(page);
    assertShows(start, start.target, 'before the gap');
    // Played through: frames from before the gap, then straight from after it.
    const frames = await waitFor(async () => {
      const h = await hook(page);
      const mine = h.frames.filter((f) => f.seek === start.seekNumber && f.captureMs !== null);
      return mine.some((f) => f.captureMs >= gap.to + 1000) ? mine : null;
    }, { timeout: 20000, what: 'frames after the gap' });
    assert.ok(frames.some((f) => f.captureMs < gap.from), 'frames before the gap');
    assert.equal(frames.filter((f) => f.captureMs > gap.from && f.captureMs < gap.to).length, 0, 'nothing inside the gap');
    const jump = frames.findIndex((f) => f.captureMs >= gap.to);
    assert.ok(frames[jump].captureMs - gap.to <= FRAME_MS * 2, `it went on at the first frame after the gap (${frames[jump].captureMs - gap.to} ms)`);
    assert.ok(Math.abs(frames[jump].wallMs - frames[jump].captureMs) <= FRAME_MS, 'and the clock knows it');
    assert.deepEqual(scriptErrors(errors), []);
  });
});
