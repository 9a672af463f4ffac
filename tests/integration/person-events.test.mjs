// Person events end to end: a real doorbelld replays real footage of people
// walking (OpenCV's vtest.avi, made into a y4m clip here, never copied into
// the repository) to a real hub. While its motion event is active the
// doorbell sends DETECT_FRAMEs at the hub's detect_fps; the hub's person
// detector and voting turn the event into a `person` event (trigger kept,
// confidence as score, the person's box, the best frame as its picture). A
// notification target that wants only people is told once, for the person
// event, with that picture; one that wants motion gets every motion event.
// A raw link peer sends malformed DETECT_FRAMEs (too many boxes, no JPEG,
// a JPEG that does not decode): each is refused with a logged reason and
// the link stays up.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Doorbell, tempDir, waitFor } from '../lib/harness.mjs';
import { LinkPeer, TYPE } from '../lib/link-peer.mjs';
import { NotifyReceiver, jpegSize, verifyStandardWebhook } from '../lib/notify-receiver.mjs';

const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';
const TREE = '/usr/share/doc/opencv-doc/examples/data/tree.avi';
const DETECT_FRAME = 0x14;
const data = tempDir('doorstep-person-');
let hub, admin, device, doorbell, receiver, personTarget, motionTarget, treeClip;

before(async () => {
  assert.ok(existsSync(VTEST), `${VTEST} (package opencv-doc) is needed`);
  // 12 s of people walking past, at its own size and rate (768x576, 10 fps).
  const clip = join(data.dir, 'people.y4m');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', VTEST, '-t', '12', '-pix_fmt', 'yuv420p',
    '-f', 'yuv4mpegpipe', clip]);
  // A tree in the wind: motion, and no one in it.
  treeClip = join(data.dir, 'tree.y4m');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', TREE, '-t', '12', '-pix_fmt', 'yuv420p',
    '-f', 'yuv4mpegpipe', treeClip]);
  hub = await Hub.start({ dataDir: join(data.dir, 'hub') });
  admin = await hub.admin();
  // Motion and people notify in this mode, without cooldowns in the way.
  assert.equal((await admin.api('PUT', '/api/v1/mode', { json: { mode: 'away' } })).status, 200);
  receiver = await NotifyReceiver.start();
  personTarget = await addTarget({ name: 'People only', kind: 'webhook', url: `${receiver.url}/person`, event_types: ['person'] });
  motionTarget = await addTarget({ name: 'Any motion', kind: 'webhook', url: `${receiver.url}/motion`, event_types: ['motion'] });
  device = hub.addDevice('Walkway');
  const settings = await admin.api('PUT', `/api/v1/devices/${device.id}/event-settings`,
    { json: { cooldowns: { motion: 0, person: 0 } } });
  assert.equal(settings.status, 200, settings.body.toString());
  doorbell = await Doorbell.start({ hub, ...device, size: '768x576', fps: 10, bitrate: 400,
    extra: ['--camera', `file:${clip}`] });
});

after(async () => {
  try {
    if (doorbell) await doorbell.stop();
  } finally {
    if (hub) await hub.stop();
    if (receiver) await receiver.close();
    data.cleanup();
  }
});

async function addTarget(body) {
  const response = await admin.api('POST', '/api/v1/notifications/targets', { json: body });
  assert.equal(response.status, 201, response.body.toString());
  return { ...response.json.target, secret: response.json.secret };
}

async function events(type = '', id = device.id) {
  const response = await admin.api('GET', `/api/v1/devices/${id}/events?limit=500${type ? `&type=${type}` : ''}`);
  assert.equal(response.status, 200);
  return response.json.events;
}

const webhooks = (path, target) => receiver.to(path).map((entry) => verifyStandardWebhook(entry, target.secret));

test('a motion event with detect frames becomes a person event (real detector)', async () => {
  const [person] = await waitFor(async () => {
    const found = await events('person');
    return found.length > 0 && found;
  }, { timeout: 180000, interval: 500, what: 'a person event' });
  assert.equal(person.event_type, 'person');
  assert.equal(person.trigger, 'motion', 'the trigger stays motion');
  assert.ok(person.score >= 0.5 && person.score <= 1, `confidence ${person.score}`);
  assert.ok(person.boxes.length >= 1, 'the person box is stored');
  for (const box of person.boxes) {
    assert.ok(box.confidence >= 0.5, 'each stored box is a person at the voting confidence');
    assert.ok(box.x >= 0 && box.y >= 0 && box.w > 0 && box.h > box.w && box.x + box.w <= 1.0001 && box.y + box.h <= 1.0001,
      `a standing person's box inside the frame: ${JSON.stringify(box)}`);
  }
  assert.ok(person.has_snapshot);
  const picture = await admin.api('GET', person.thumbnail_url);
  assert.equal(picture.status, 200);
  const size = jpegSize(picture.body);
  assert.ok(size.width <= 960 && size.width >= 320, `the detect frame's picture (${size.width}x${size.height})`);
  // The "motion" filter lists it too (a person event is motion); it is the same event.
  assert.ok((await events('motion')).some((e) => e.event_id === person.event_id));
  const status = JSON.parse(await doorbell.control('status'));
  assert.equal(status.detect_fps, 4, 'the hub asked for 4 detect frames a second');
  assert.ok(status.detect_frames_sent >= 2, `detect frames sent: ${status.detect_frames_sent}`);
  assert.ok(hub.log.some((line) => /motion event \d+ is a person event \(confidence [01]\.\d\d, \d+ of \d+ frames/.test(line)));
});

test('a person-only target is told once, for the person event, with its picture; a motion target of every motion', async () => {
  const [person] = await waitFor(async () => {
    const found = await events('person');
    return found.length > 0 && found;
  }, { timeout: 180000, interval: 500, what: 'a person event' });
  await waitFor(() => webhooks('/person', personTarget).length >= 1, { timeout: 60000, what: 'the person notification' });
  // A motion event that no one is seen in: the motion target hears of it, the person target never does.
  const before = new Set((await events()).map((e) => e.event_id));
  await doorbell.control('motion-event');
  const [plain] = await waitFor(async () => {
    const fresh = (await events('motion')).filter((e) => !before.has(e.event_id) && e.event_type === 'motion');
    return fresh.length > 0 && fresh;
  }, { what: 'the plain motion event' });
  await waitFor(() => webhooks('/motion', motionTarget).some((p) => p.data.event_id === plain.event_id),
    { timeout: 30000, what: 'the motion notification of the plain motion event' });
  await waitFor(() => webhooks('/motion', motionTarget).some((p) => p.data.event_id === person.event_id),
    { timeout: 30000, what: 'the motion target told of the person event (it is motion)' });

  const toPerson = webhooks('/person', personTarget);
  assert.ok(toPerson.every((p) => p.type === 'event.person'), `person target got only people: ${toPerson.map((p) => p.type)}`);
  assert.ok(!toPerson.some((p) => p.data.event_id === plain.event_id), 'no notification of plain motion');
  const ids = toPerson.map((p) => p.data.event_id);
  assert.equal(new Set(ids).size, ids.length, 'once per event');
  const first = toPerson.find((p) => p.data.event_id === person.event_id);
  assert.ok(first, 'the person event was notified');
  const jpeg = Buffer.from(first.data.snapshot_jpeg_base64, 'base64');
  assert.ok(jpegSize(jpeg).width <= 960, 'with the person frame as its picture');
  const deliveries = (await admin.api('GET', '/api/v1/notifications/deliveries?limit=500')).json.deliveries;
  assert.ok(!deliveries.some((row) => row.event_id === plain.event_id && row.target_id === personTarget.id),
    'no outbox row for the person target and the plain motion event');
  const motionIds = webhooks('/motion', motionTarget).map((p) => p.data.event_id);
  assert.equal(new Set(motionIds).size, motionIds.length, 'the motion target is told once per event too');
});

test('malformed DETECT_FRAMEs are refused with a logged reason and the link stays up', async () => {
  const other = hub.addDevice('Raw peer');
  const peer = new LinkPeer(hub.port, { id: other.id, secret: other.secret });
  const welcome = await peer.welcomed;
  assert.equal(welcome.settings.detect_fps, 4, 'WELCOME asks for detect frames');
  try {
    peer.send(TYPE.EVENT, { type: 'motion', id: 7, active: true }, { sequence: 7 });
    await waitFor(async () => (await events('', other.id)).length === 1, { what: 'the peer\'s motion event' });
    const box = Buffer.alloc(8);
    box.writeUInt16BE(1000, 0); box.writeUInt16BE(1000, 2); box.writeUInt16BE(20000, 4); box.writeUInt16BE(40000, 6);
    const jpegStart = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    // 17 boxes: more than the 16 the layout allows.
    peer.send(DETECT_FRAME, Buffer.concat([Buffer.from([17, 0]), ...Array(17).fill(box), jpegStart]), { sequence: 7 });
    // One box, then no JPEG at all.
    peer.send(DETECT_FRAME, Buffer.concat([Buffer.from([1, 0]), box, Buffer.from('not a picture')]), { sequence: 7 });
    // A box leaving the frame.
    const wide = Buffer.from(box); wide.writeUInt16BE(60000, 0);
    peer.send(DETECT_FRAME, Buffer.concat([Buffer.from([1, 0]), wide, jpegStart]), { sequence: 7 });
    // Laid out right, but the JPEG does not decode: the detector refuses it.
    peer.send(DETECT_FRAME, Buffer.concat([Buffer.from([1, 0]), box, jpegStart, Buffer.alloc(600, 0x55)]), { sequence: 7 });
    const refused = (pattern) => hub.log.some((line) => line.includes(other.id) && pattern.test(line));
    await waitFor(() => refused(/detect frame refused: detect_frame: 17 boxes, at most 16/), { what: 'the box count refusal' });
    await waitFor(() => refused(/detect frame refused: detect_frame: no JPEG after the boxes/), { what: 'the missing JPEG refusal' });
    await waitFor(() => refused(/detect frame refused: detect_frame: box 0 is empty or leaves the frame/), { what: 'the box refusal' });
    // The detector's refusal (the vote logs it; so may the pool).
    await waitFor(() => refused(/(detect frame of event 7|\(event 7\)) refused: \S/), { what: 'the undecodable JPEG refusal (the detector)' });
    // Still up: no ERROR, not closed, and what it sends next is taken.
    peer.send(TYPE.EVENT, { type: 'motion', id: 7, active: false }, { sequence: 7 });
    await waitFor(async () => (await events('', other.id))[0].active === false, { what: 'the end of the peer\'s event' });
    assert.deepEqual(peer.errors(), []);
    assert.equal(peer.socket.readyState, peer.socket.OPEN);
    assert.equal((await events('person', other.id)).length, 0, 'refused frames make no person');
  } finally {
    peer.socket.close();
  }
});

test('a tree in the wind after a PIR trigger: detect frames that never make a person (real detector)', async () => {
  const tree = hub.addDevice('Garden');
  const size = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height',
    '-of', 'csv=p=0:s=x', TREE]).toString().trim();
  const bell = await Doorbell.start({ hub, ...tree, size, fps: 15, bitrate: 300, extra: ['--camera', `file:${treeClip}`] });
  try {
    // The PIR fires (a warm gust): the doorbell sends the whole frame for 10 s.
    await waitFor(async () => JSON.parse(await bell.control('status')).detect_fps === 4, { what: 'connected' });
    assert.match(await bell.control('pir'), /^ok/);
    await waitFor(async () => (await events('pir', tree.id)).length > 0, { what: 'the PIR event' });
    // The hub analysed enough of its pictures for a vote many times over.
    await waitFor(() => hub.log.some((line) => line.includes(`doorbell ${tree.id}: event`) && / 16 frames analysed/.test(line)),
      { timeout: 120000, what: '16 analysed detect frames of the tree' });
    const all = await events('', tree.id);
    assert.ok(all.length > 0);
    assert.deepEqual(all.filter((e) => e.event_type === 'person').map((e) => e.event_id), [], 'no person in a tree');
  } finally {
    await bell.stop();
  }
});
