// Every event gets its own picture: the real doorbell starts a ring and a
// motion event within a millisecond of each other (two control commands in
// one write; `motion-event` is the doorbell's test-only command that reports
// a motion event as the detector would), 100 times in both orders, and
// every so often a PIR trigger with them. Each stored event must have a
// snapshot whose JPEG comment (written by the doorbell, "doorstep event
// TYPE ID") names that very event, and each ring's webhook notification must
// carry the ring's own picture. Without the tags the second event took the
// picture meant for the first (docs/protocol.md, "Event snapshots").
// A protocol peer then sends the odd pictures a real doorbell should not
// (a second one, an unknown tag, a late one): each is logged, none is lost;
// and, as an older doorbell that tags nothing, gets asked for the picture
// of every event but a ring, its pictures going to the oldest waiting event.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Doorbell, sleep, tempDir, waitFor, controlCommands } from '../lib/harness.mjs';
import { LinkPeer, TYPE } from '../lib/link-peer.mjs';
import { NotifyReceiver, verifyStandardWebhook } from '../lib/notify-receiver.mjs';
import { patience } from '../lib/patience.mjs';

const ROUNDS = 100;
const MAX_FAILURES = 5; // enough to show a broken pairing without waiting out every round

const data = tempDir('doorstep-snapshot-pairing-');
let hub, admin, device, doorbell, server, hook;

before(async () => {
  hub = await Hub.start({ dataDir: data.dir });
  admin = await hub.admin();
  device = hub.addDevice('Front door');
  server = await NotifyReceiver.start();
  const added = await admin.api('POST', '/api/v1/notifications/targets', {
    json: { name: 'Hook', kind: 'webhook', url: `${server.url}/hook`, event_types: ['ring'] },
  });
  assert.equal(added.status, 201, added.body.toString());
  hook = { ...added.json.target, secret: added.json.secret };
  doorbell = await Doorbell.start({ hub, ...device, size: '640x360', fps: 30 });
  await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json.online, { what: 'online' });
});

after(async () => {
  if (doorbell) await doorbell.stop();
  if (hub) await hub.stop();
  if (server) await server.close();
  data.cleanup();
});

// Several control commands in one write (so they start within a
// millisecond); resolves with the reply lines.
const controlAtOnce = (commands) => controlCommands(doorbell.controlPath, commands);

// The text of a JPEG's first COM marker, or null.
function jpegComment(jpeg) {
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1];
    const length = jpeg.readUInt16BE(at + 2);
    if (marker === 0xfe) return jpeg.subarray(at + 4, at + 2 + length).toString();
    if (marker === 0xda) break; // start of scan: no more headers
    at += 2 + length;
  }
  return null;
}

async function events(limit) {
  const response = await admin.api('GET', `/api/v1/devices/${device.id}/events?limit=${limit}`);
  assert.equal(response.status, 200);
  return response.json;
}

test('a ring and a motion event starting together each get their own snapshot, 100 times', async () => {
  const failures = [];
  let total = (await events(1)).pagination.total;
  let rounds = 0, rings = 0;
  const started = Date.now();
  for (let round = 0; round < ROUNDS && failures.length < MAX_FAILURES; round++) {
    rounds++;
    const commands = round % 2 === 0 ? ['press', 'motion-event'] : ['motion-event', 'press'];
    if (round % 10 === 5) commands.push('pir');
    const replies = await controlAtOnce(commands);
    assert.deepEqual(replies, commands.map(() => 'ok'), `round ${round}: ${commands.join(', ')}`);
    const expected = commands.map((command) => ({ press: 'ring', 'motion-event': 'motion', pir: 'pir' })[command]);

    let fresh = [];
    await waitFor(async () => {
      const list = await events(expected.length);
      fresh = list.events;
      return list.pagination.total === total + expected.length;
    }, { what: `round ${round}: its ${expected.length} events` });
    total += expected.length;
    fresh.sort((a, b) => a.event_id - b.event_id);
    // Each picture comes within the hub's wait for it (3 s): time enough, or the notification leaves without it.
    const complete = await waitFor(async () => {
      fresh = (await events(expected.length)).events.sort((a, b) => a.event_id - b.event_id);
      return fresh.every((event) => event.has_snapshot);
    }, { timeout: patience(5000), what: `round ${round}: the snapshots` }).then(() => true, () => false);

    const labels = [];
    for (const event of fresh) {
      if (!event.has_snapshot) {
        labels.push(null);
        continue;
      }
      const jpeg = await admin.api('GET', `/api/v1/devices/${device.id}/events/${event.event_id}/snapshot.jpg`);
      labels.push(jpeg.status === 200 ? jpegComment(jpeg.body) : null);
    }
    // The doorbell numbers its events in the order the commands ran.
    const tags = labels.map((label) => /^doorstep event (\w+) (\d+)$/.exec(label ?? ''));
    const problems = [];
    fresh.forEach((event, index) => {
      if (event.event_type !== expected[index]) problems.push(`event ${index} is a ${event.event_type}, not a ${expected[index]}`);
      if (!complete && !event.has_snapshot) problems.push(`${event.event_type} event ${event.event_id} got no picture`);
      else if (!tags[index]) problems.push(`${event.event_type} event ${event.event_id}: picture labelled ${JSON.stringify(labels[index])}`);
      else if (tags[index][1] !== event.event_type) problems.push(`${event.event_type} event ${event.event_id} has the picture of a ${tags[index][1]}`);
      else if (index > 0 && tags[index - 1] && Number(tags[index][2]) !== Number(tags[index - 1][2]) + 1) problems.push(`doorbell ids ${tags[index - 1][2]}, ${tags[index][2]} are not consecutive`);
    });
    if (problems.length > 0) failures.push(`round ${round} (${commands.join(' + ')}): ${problems.join('; ')}`);
    rings++;
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`snapshot pairing: ${rounds} rounds in ${seconds.toFixed(1)} s, ${failures.length} failed`);
  assert.deepEqual(failures, [], `${failures.length} of ${rounds} rounds paired a snapshot wrongly`);

  // Every ring notified its own picture (the hub waited for it, and only for it).
  await waitFor(() => server.to('/hook').length >= rings, { timeout: patience(20000), what: `${rings} ring webhooks` });
  const wrong = [];
  for (const entry of server.to('/hook')) {
    const payload = verifyStandardWebhook(entry, hook.secret);
    assert.equal(payload.type, 'event.ring');
    const picture = payload.data.snapshot_jpeg_base64;
    const label = picture ? jpegComment(Buffer.from(picture, 'base64')) : null;
    if (!/^doorstep event ring \d+$/.test(label ?? '')) wrong.push(`event ${payload.data.event_id}: ${JSON.stringify(label)}`);
  }
  assert.deepEqual(wrong, [], 'ring notifications without the ring\'s own picture');
  assert.equal(server.to('/hook').length, rings, 'one notification per ring');
});

// A tiny JPEG (SOI, a COM marker with text, EOI): all the hub checks.
function tinyJpeg(text) {
  const comment = Buffer.from(text);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(comment.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe]), length, comment, Buffer.from([0xff, 0xd9])]);
}

test('odd pictures (duplicate, unknown tag, late) are logged and kept as the latest picture', async () => {
  const other = hub.addDevice('Back door');
  const peer = new LinkPeer(hub.port, { ...other, hello: { event_snapshots: true } });
  await peer.welcomed;
  const latest = async () => jpegComment((await admin.api('GET', `/api/v1/devices/${other.id}/snapshot.jpg`)).body);
  const ringEvent = async (count) => {
    let list;
    await waitFor(async () => (list = await admin.api('GET', `/api/v1/devices/${other.id}/events?limit=1`)).json.pagination.total === count, { what: `event ${count}` });
    return list.json.events[0];
  };
  const logged = (pattern) => waitFor(() => hub.log.some((line) => pattern.test(line)), { what: `log ${pattern}` });
  const eventPicture = async (event) => jpegComment((await admin.api('GET', `/api/v1/devices/${other.id}/events/${event.event_id}/snapshot.jpg`)).body);

  peer.send(TYPE.EVENT, { type: 'ring', id: 1 }, { sequence: 1 });
  const first = await ringEvent(1);
  peer.send(TYPE.SNAPSHOT, tinyJpeg('first'), { sequence: 1 });
  await waitFor(async () => (await latest()) === 'first', { what: 'the first picture' });
  await waitFor(async () => (await eventPicture(first)) === 'first', { what: 'the ring\'s picture' });

  peer.send(TYPE.SNAPSHOT, tinyJpeg('second'), { sequence: 1 });
  await logged(new RegExp(`${other.id}: a second picture for its event 1; event ${first.event_id} keeps the first`));
  assert.equal(await latest(), 'second', 'a duplicate is still the latest picture');
  assert.equal(await eventPicture(first), 'first', 'the event keeps its own');

  peer.send(TYPE.SNAPSHOT, tinyJpeg('unknown'), { sequence: 99 });
  await logged(new RegExp(`${other.id}: a picture for its event 99, which it did not report`));
  assert.equal(await latest(), 'unknown');

  peer.send(TYPE.EVENT, { type: 'ring', id: 2 }, { sequence: 2 });
  const second = await ringEvent(2);
  await sleep(3200); // the hub's wait for the picture (3 s) is what this part is about
  peer.send(TYPE.SNAPSHOT, tinyJpeg('late'), { sequence: 2 });
  await logged(new RegExp(`${other.id}: the picture of its event 2 came more than 3000 ms after it; event ${second.event_id} gets it`));
  await waitFor(async () => (await eventPicture(second)) === 'late', { what: 'the late picture with its event' });
  assert.equal(await latest(), 'late');
  assert.deepEqual(peer.errors(), [], 'odd pictures do not close the link');
  peer.socket.close();
  await peer.closed;
});

test('an older doorbell (no tags): asked for each picture but a ring\'s, which go to the oldest waiting event', async () => {
  const old = hub.addDevice('Side door');
  const peer = new LinkPeer(hub.port, old);
  await peer.welcomed;
  const newest = async (count) => {
    let list;
    await waitFor(async () => (list = await admin.api('GET', `/api/v1/devices/${old.id}/events?limit=${count}`)).json.pagination.total === count, { what: `${count} events` });
    return list.json.events.sort((a, b) => a.event_id - b.event_id);
  };
  const picture = async (event) => jpegComment((await admin.api('GET', `/api/v1/devices/${old.id}/events/${event.event_id}/snapshot.jpg`)).body);
  const snapshotCommands = () => peer.received.filter((m) => m.type === 0x30 && m.json.cmd === 'snapshot').length;
  await waitFor(() => snapshotCommands() === 1, { what: 'the snapshot command every connection gets' });
  peer.send(TYPE.SNAPSHOT, tinyJpeg('hello'), { sequence: 0 }); // its answer: no event waits

  // Sent back to back: the hub handles one connection's messages in order,
  // well within its 3 s wait, however busy the machine.
  peer.send(TYPE.EVENT, { type: 'ring', id: 1 }, { sequence: 1 });
  peer.send(TYPE.EVENT, { type: 'pir', id: 2 }, { sequence: 2 });
  peer.send(TYPE.SNAPSHOT, tinyJpeg('one'), { sequence: 0 });
  peer.send(TYPE.SNAPSHOT, tinyJpeg('two'), { sequence: 0 });
  const [ring, pir] = await newest(2);
  assert.deepEqual([ring.event_type, pir.event_type], ['ring', 'pir']);
  await waitFor(async () => (await picture(ring)) === 'one', { what: 'the first picture with the ring' });
  await waitFor(async () => (await picture(pir)) === 'two', { what: 'the second picture with the PIR event' });
  await waitFor(() => snapshotCommands() === 2, { what: 'the hub asking for the PIR picture (not the ring\'s)' });
  peer.socket.close();
  await peer.closed;
});
