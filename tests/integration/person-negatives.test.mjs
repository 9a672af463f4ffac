// What is not a person never becomes one: the sim scene's car and cat each
// make motion events whose detect frames reach the hub's real person
// detector, and none of those events ends as `person` (real footage of a
// tree in the wind is person-events.test.mjs's). The doorbell's own counter
// shows that detect frames were sent, so the test cannot pass by the
// detector never running.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor, stopAll } from '../lib/harness.mjs';

const data = tempDir('doorstep-negatives-');
let hub, admin, street, streetId;

before(async () => {
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin();
  const streetDevice = hub.addDevice('Street');
  street = await Doorbell.start({ hub, ...streetDevice, size: '640x360', fps: 15, bitrate: 400 });
  streetId = streetDevice.id;
});

after(async () => {
  await stopAll(street, hub);
  data.cleanup();
});

async function events(id) {
  const response = await admin.api('GET', `/api/v1/devices/${id}/events?limit=500`);
  assert.equal(response.status, 200);
  return response.json.events;
}

const status = async (doorbell) => JSON.parse(await doorbell.control('status'));

test('cars and cats make motion events that never become person', { timeout: 300000 }, async () => {
  // The sim street: two cars and two cats, one after the other.
  for (const kind of ['car', 'cat', 'car', 'cat']) {
    await waitFor(async () => (await events(streetId)).every((event) => !event.active), { timeout: 60000, what: 'the street quiet' });
    assert.equal(await street.control(kind), 'ok');
    await waitFor(async () => (await events(streetId)).some((event) => event.active), { timeout: 30000, what: `a motion event for the ${kind}` });
  }
  await waitFor(async () => (await events(streetId)).every((event) => !event.active), { timeout: 60000, what: 'the last street event over' });
  const sent = (await status(street)).detect_frames_sent;
  assert.ok(sent >= 8, `the doorbell sent ${sent} detect frames`);
  await street.stop();
  street = null;
  // Whatever was queued is decided before the verdict.
  await waitFor(async () => {
    const pool = (await admin.api('GET', '/api/v1/detection')).json;
    return pool.done + pool.dropped + pool.refused === pool.submitted;
  }, { timeout: 60000, what: 'the detector done' });
  const pool = (await admin.api('GET', '/api/v1/detection')).json;
  assert.ok(pool.done >= 8, `${pool.done} detect frames analysed`);
  const all = await events(streetId);
  assert.ok(all.length >= 4, `${all.length} motion events`);
  const people = all.filter((event) => event.event_type === 'person');
  assert.deepEqual(people.map((event) => `${event.device_id} ${event.score}`), [], 'no event became person');
});

