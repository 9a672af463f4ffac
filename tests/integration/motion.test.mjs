// Motion detection end to end: a real doorbelld playing the scripted sim
// scene (sim_scene.h: visitor 10-26 s, car 30-33 s, courier with a parcel
// 36-52 s, someone taking the parcel 64-80 s, cat 70-75 s, night 80 s, porch
// light 90/100 s, day 110 s) connected to a real hub. The doorbell's
// own ground truth (control command `scene`, polled throughout) says where
// each object was; the hub's motion events must overlap it, lighting
// changes must start none, and a privacy mask sent through
// PUT /api/v1/devices/{id}/motion (link command set_motion) over the car's
// path must silence the car. Also: the motion settings routes validate with
// the firmware's parser and reach the doorbell on PUT and on connect.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Client, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';

const LOOP_S = 120;
const data = tempDir('doorstep-motion-');
let hub, admin, device, doorbell;
const samples = []; // { t: wall ms, loop: s into the loop, objects, night, light_on }

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Porch');
  doorbell = await Doorbell.start({ hub, ...device, fps: 10, bitrate: 400, scripted: true });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'online' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  data.cleanup();
});

// One ground-truth sample from the doorbell.
async function sample() {
  const reply = await doorbell.control('scene');
  if (reply.startsWith('error')) return null;
  const scene = JSON.parse(reply);
  const entry = { t: Date.now(), scene: scene.scene_time_us / 1e6, loop: (scene.scene_time_us / 1e6) % LOOP_S, ...scene };
  samples.push(entry);
  return entry;
}

// Sample the scene until until(entry) holds.
async function sampleUntil(until, what) {
  await waitFor(async () => {
    const entry = await sample();
    return entry && until(entry);
  }, { timeout: 400000, interval: 100, what });
}

function overlaps(a, b) {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w), y1 = Math.min(a.y + a.h, b.y + b.h);
  return x1 > x0 && y1 > y0;
}

async function motionEvents() {
  const list = await admin.api('GET', `/api/v1/devices/${device.id}/events?type=motion&limit=500`);
  assert.equal(list.status, 200);
  return list.json.events;
}

// The objects seen from shortly before an event started to its end, and
// whether one of them overlaps a reported box.
function judge(event) {
  const from = event.start_ms - 1500, to = Math.max(event.end_ms, event.start_ms) + 500;
  const seen = samples.filter((s) => s.t >= from && s.t <= to);
  const kinds = new Set();
  for (const s of seen) {
    for (const object of s.objects) {
      if (event.boxes.some((box) => overlaps(box, object))) kinds.add(object.kind);
    }
  }
  const startSample = samples.reduce((best, s) => (Math.abs(s.t - event.start_ms) < Math.abs(best.t - event.start_ms) ? s : best), samples[0]);
  return { kinds, loop: startSample.loop };
}

test('the scripted scene: the visitor and the car make motion events where they are; lighting makes none', async () => {
  await sampleUntil((s) => s.scene >= 116, 'the first scene loop up to 116 s');
  // The last event's end reaches the hub.
  const events = await waitFor(async () => {
    const list = await motionEvents();
    return list.every((event) => !event.active) ? list : null;
  }, { timeout: 30000, what: 'every motion event to have ended' });
  const judged = events.map((event) => ({ event, ...judge(event) }));
  const correct = judged.filter((j) => j.kinds.size > 0);
  const summary = judged.map((j) => `${j.loop.toFixed(1)}s:${[...j.kinds].join('+') || 'none'}`).join(', ');
  console.log(`motion events over one loop: ${events.length}, overlapping an object: ${correct.length} (${summary})`);
  assert.ok(judged.some((j) => j.kinds.has('visitor')), `a motion event with a box on the visitor (${summary})`);
  assert.ok(judged.some((j) => j.kinds.has('car')), `a motion event with a box on the car (${summary})`);
  for (const j of judged) {
    assert.ok(!(j.loop >= 78 && j.loop < 116), `no motion event from the night/porch-light changes (${summary})`);
    assert.ok(j.event.score > 0 && j.event.score <= 1);
  }
  assert.equal(correct.length, events.length, `every event overlaps an object (${summary})`);
});

test('a privacy mask over the street silences the car', async () => {
  // Where the car drove, from the ground truth, with a margin.
  const cars = samples.flatMap((s) => s.objects.filter((o) => o.kind === 'car'));
  assert.ok(cars.length > 0, 'the ground truth saw the car');
  const clamp = (v) => Math.min(1, Math.max(0, v));
  const x0 = 0, x1 = 1;
  const y0 = clamp(Math.min(...cars.map((c) => c.y)) - 0.03);
  const y1 = clamp(Math.max(...cars.map((c) => c.y + c.h)) + 0.03);
  const mask = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  const beforeMask = (await motionEvents()).length;
  const put = await admin.api('PUT', `/api/v1/devices/${device.id}/motion`, { json: { masks: [mask] } });
  assert.equal(put.status, 200);
  assert.equal(put.json.masks.length, 1);
  await waitFor(async () => JSON.parse(await doorbell.control('motion')).masks.length === 1, { what: 'the mask on the doorbell' });
  // Blacking the new mask out changes the picture; that is no motion.
  const applied = Date.now();
  await sampleUntil((s) => s.t >= applied + 4000, 'a few seconds with the new mask');
  assert.equal((await motionEvents()).length, beforeMask, 'no motion event from applying the mask');

  // Drive a car outside the visitor's time, and watch it pass.
  await sampleUntil((s) => s.loop >= 112 && s.loop < 115, 'a quiet moment of the scene');
  const before = (await motionEvents()).length;
  assert.equal(await doorbell.control('car'), 'ok');
  let sawCar = false;
  await sampleUntil((s) => {
    if (s.objects.some((o) => o.kind === 'car')) sawCar = true;
    return sawCar && !s.objects.some((o) => o.kind === 'car');
  }, 'the car to pass');
  const gone = Date.now();
  await sampleUntil((s) => s.t >= gone + 3000, 'the hold time after the car');
  const after = await motionEvents();
  assert.equal(after.length, before, `no motion event for the masked car (${after.length - before} new)`);
});

test('motion settings: bad input is refused and changes nothing; saved settings reach the doorbell', async () => {
  const path = `/api/v1/devices/${device.id}/motion`;
  const saved = (await admin.api('GET', path)).json;
  assert.equal(saved.masks.length, 1);
  const bad = [
    { sensitivity: 'extreme' },
    { mode: 'sometimes' },
    { min_frames: 0 },
    { zones: [[[0, 0], [1, 1]]] },
    { masks: [[[0, 0], [2, 0], [0, 1]]] },
    { zones: 'everywhere' },
  ];
  for (const body of bad) {
    const response = await admin.api('PUT', path, { json: body });
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(response.json.error, 'invalid');
  }
  const notJson = await admin.api('PUT', path, { body: Buffer.from('{"zones": ['), headers: { 'Content-Type': 'application/json' } });
  assert.equal(notJson.status, 400);
  assert.deepEqual((await admin.api('GET', path)).json, saved, 'nothing changed');

  const zone = [[0.1, 0.3], [0.9, 0.3], [0.9, 0.95], [0.1, 0.95]];
  const put = await admin.api('PUT', path, { json: { sensitivity: 'high', mode: 'either', zones: [zone], masks: [] } });
  assert.equal(put.status, 200);
  assert.equal(put.json.sensitivity, 'high');
  await waitFor(async () => {
    const onDoorbell = JSON.parse(await doorbell.control('motion'));
    return onDoorbell.sensitivity === 'high' && onDoorbell.zones.length === 1 && onDoorbell.masks.length === 0;
  }, { what: 'the new settings on the doorbell' });
  assert.ok(!doorbell.log.some((line) => /motion settings refused/.test(line)), 'the doorbell accepted them');

  // A restarted doorbell starts with defaults and gets its settings on connect.
  await doorbell.stop();
  doorbell = await Doorbell.start({ hub, ...device, fps: 5, bitrate: 300 });
  await waitFor(async () => {
    const onDoorbell = JSON.parse(await doorbell.control('motion'));
    return onDoorbell.sensitivity === 'high' && onDoorbell.mode === 'either' && onDoorbell.zones.length === 1;
  }, { what: 'the settings after reconnecting' });

  // Viewers may read but not change them.
  hub.cli(['user', 'add', 'watcher', '--role', 'viewer'], 'a viewer password 123\na viewer password 123\n');
  const viewer = new Client(hub.url);
  assert.equal((await viewer.login('watcher', 'a viewer password 123')).status, 200);
  assert.equal((await viewer.api('PUT', path, { json: {} })).status, 403);
  assert.equal((await new Client(hub.url).request('GET', path)).status, 401);
});
