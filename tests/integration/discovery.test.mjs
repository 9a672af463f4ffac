// Discovery over real mDNS: two network namespaces joined by a veth pair
// (multicast on), each with its own private dbus-daemon and avahi-daemon
// (their own configuration files, sockets in a temporary directory, and a
// tmpfs over /run/avahi-daemon in a private mount namespace), so nothing
// here touches the host's network or its avahi-daemon. The hub runs in the
// first namespace; the tests reach its HTTPS port over a second veth pair
// from the host (no multicast, no avahi on it). Doorbells, avahi-browse and
// avahi-publish run in the second namespace.
//
// Checked: the hub's service appears with the right TXT record (read back
// with avahi-browse); a doorbell announcing pairing mode appears in GET
// /api/v1/discovery; a doorbell started without --hub finds the hub and
// comes online; crafted announcements (long, malformed, duplicated TXT)
// are ignored and do not hurt the hub; the hub keeps serving while
// avahi-daemon is gone and publishes again when it is back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Client, waitFor, tempDir, freePort, BUILD, libwebsocketsLeakEnv } from '../lib/harness.mjs';
import { patience } from '../lib/patience.mjs';
import { requireOrSkip } from '../lib/requirements.mjs';

const tag = `${process.pid % 10000}`;
const nsHub = `dsh${tag}`;
const nsBell = `dsb${tag}`;
const sub = 100 + (process.pid % 100); // 10.SUB.x: this run's addresses
const hubAddress = `10.${sub}.1.1`;
const bellAddress = `10.${sub}.1.2`;
const hostSide = `10.${sub}.2.1`;
const hubHostAddress = `10.${sub}.2.2`;
const linkHub = `vdh${tag}`;
const linkBell = `vdb${tag}`;
const linkHost = `vdx${tag}`;
const linkHostPeer = `vdy${tag}`;

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const root = process.getuid?.() === 0;
function netnsWorks() {
  if (!root || !has('ip')) return false;
  const probe = `dsp${tag}`;
  const made = spawnSync('ip', ['netns', 'add', probe]).status === 0;
  if (made) spawnSync('ip', ['netns', 'del', probe]);
  return made;
}
const ready = root && has('avahi-daemon') && has('avahi-browse') && has('avahi-publish') &&
  has('dbus-daemon') && has('unshare') && netnsWorks();
const needs = {
  skip: requireOrSkip(ready, 'needs root, network namespaces (CAP_NET_ADMIN), dbus-daemon, avahi-daemon and avahi-utils'),
};

const work = tempDir('doorstep-mdns-');
const children = new Set();
let hub, admin, busHub, busBell, avahiHub, avahiBell;

const sanitizerEnv = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

// Run a command to its end; throws on failure.
function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: patience(30000) });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

// A long-running child whose output is kept; killed in after() if still up.
function start(name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, output: '' };
  child.stdout.on('data', (chunk) => { proc.output += chunk; });
  child.stderr.on('data', (chunk) => { proc.output += chunk; });
  proc.exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  children.add(proc);
  proc.exited.then(() => children.delete(proc));
  return proc;
}

// SIGTERM (SIGKILL after a grace period); resolves with the exit.
async function stop(proc, signal = 'SIGTERM') {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill(signal);
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), patience(30000));
    await proc.exited;
    clearTimeout(timer);
  }
  return proc.exited;
}

// A doorbelld that must end cleanly, with no sanitizer report.
async function stopDoorbell(proc) {
  const { code, signal } = await stop(proc);
  assert.equal(code, 0, `doorbelld ended with ${code}/${signal}:\n${proc.output.slice(-3000)}`);
  assert.doesNotMatch(proc.output, /AddressSanitizer|LeakSanitizer|runtime error:/);
}

// A private system-like bus: root may own org.freedesktop.Avahi, everyone
// may talk to it.
function startBus(name) {
  const socket = join(work.dir, `${name}.socket`);
  const config = join(work.dir, `${name}.conf`);
  writeFileSync(config, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"/>
  </policy>
  <policy user="root">
    <allow own="org.freedesktop.Avahi"/>
  </policy>
</busconfig>
`);
  const proc = start(`dbus-${name}`, 'dbus-daemon', ['--config-file', config, '--nofork', '--nopidfile']);
  proc.address = `unix:path=${socket}`;
  return proc;
}

// avahi-daemon in a namespace, on one interface, IPv4 only, on the given
// bus; its pid file and socket go to a tmpfs of its own mount namespace.
function startAvahi(name, namespace, link, bus) {
  const config = join(work.dir, `avahi-${name}.conf`);
  // Each daemon its own host name: two daemons that start together with the
  // machine's one name both see a conflict, rename in step and conflict again.
  writeFileSync(config, `[server]
host-name=doorstep-${name.replace(/[^a-z]/g, '')}-${tag}
use-ipv4=yes
use-ipv6=no
allow-interfaces=${link}
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`);
  const proc = start(`avahi-${name}`, 'ip', ['netns', 'exec', namespace, 'unshare', '--mount', '--propagation', 'private',
    'sh', '-c', 'mount -t tmpfs doorstep-avahi /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$0"', config],
  { DBUS_SYSTEM_BUS_ADDRESS: bus.address });
  return proc;
}

const avahiRunning = (proc) => /Server startup complete/.test(proc.output);

// Everything the second namespace runs sees its own bus.
const inBell = (command, args) => ['ip', ['netns', 'exec', nsBell, command, ...args]];
const bellEnv = () => ({ DBUS_SYSTEM_BUS_ADDRESS: busBell.address, ...sanitizerEnv });

// avahi-browse -rtp TYPE from the doorbell's side (or, with hubSide, through
// the hub's own avahi-daemon, which knows the hub's service only while the
// hub has it registered): the resolved ("=") lines.
function browse(type, { hubSide = false } = {}) {
  const namespace = hubSide ? nsHub : nsBell;
  const bus = hubSide ? busHub : busBell;
  const result = spawnSync('ip', ['netns', 'exec', namespace, 'avahi-browse', '-rtp', type],
    { encoding: 'utf8', timeout: patience(20000), env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus.address } });
  return (result.stdout || '').split('\n').filter((line) => line.startsWith('=;'));
}

// A doorbelld in the second namespace.
function startDoorbell(args, name = 'doorbell') {
  const [command, commandArgs] = inBell(join(BUILD, 'doorbelld'), ['--size', '640x360', '--fps', '10', '--preset', 'ultrafast', ...args]);
  // A doorbell that pairs has two libwebsockets contexts (link, pairing).
  const pairs = args.includes('--state-dir') && !args.includes('--device-id');
  return start(name, command, commandArgs, { ...bellEnv(), ...(pairs ? libwebsocketsLeakEnv() : {}) });
}

// avahi-publish -s in the second namespace (a crafted announcement).
function publish(name, type, port, txt) {
  const [command, args] = inBell('avahi-publish', ['-s', name, type, String(port), ...txt]);
  return start(`publish-${name}`, command, args, bellEnv());
}

const discovered = async () => {
  const response = await admin.api('GET', '/api/v1/discovery');
  assert.equal(response.status, 200, response.body);
  return response.json.doorbells;
};

const hubKey = () => /hub key SHA-256 ([0-9a-f]{64})/.exec(hub.log.join('\n'))[1];

before(async () => {
  if (!ready) return;
  run('ip', ['netns', 'add', nsHub]);
  run('ip', ['netns', 'add', nsBell]);
  run('ip', ['link', 'add', linkHub, 'type', 'veth', 'peer', 'name', linkBell]);
  run('ip', ['link', 'set', linkHub, 'netns', nsHub]);
  run('ip', ['link', 'set', linkBell, 'netns', nsBell]);
  run('ip', ['-n', nsHub, 'addr', 'add', `${hubAddress}/24`, 'dev', linkHub]);
  run('ip', ['-n', nsBell, 'addr', 'add', `${bellAddress}/24`, 'dev', linkBell]);
  for (const [namespace, link] of [[nsHub, linkHub], [nsBell, linkBell]]) {
    run('ip', ['-n', namespace, 'link', 'set', link, 'multicast', 'on', 'up']);
    run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
  }
  // The tests' way in to the hub: a point-to-point link without multicast.
  run('ip', ['link', 'add', linkHost, 'type', 'veth', 'peer', 'name', linkHostPeer]);
  run('ip', ['link', 'set', linkHostPeer, 'netns', nsHub]);
  run('ip', ['addr', 'add', `${hostSide}/24`, 'dev', linkHost]);
  run('ip', ['link', 'set', linkHost, 'multicast', 'off', 'up']);
  run('ip', ['-n', nsHub, 'addr', 'add', `${hubHostAddress}/24`, 'dev', linkHostPeer]);
  run('ip', ['-n', nsHub, 'link', 'set', linkHostPeer, 'multicast', 'off', 'up']);
  mkdirSync('/run/avahi-daemon', { recursive: true }); // the mount point of each daemon's tmpfs

  busHub = startBus('hub');
  busBell = startBus('bell');
  await waitFor(() => existsSync(busHub.address.slice(10)) && existsSync(busBell.address.slice(10)), { what: 'the private buses' });
  avahiHub = startAvahi('hub', nsHub, linkHub, busHub);
  avahiBell = startAvahi('bell', nsBell, linkBell, busBell);
  await waitFor(() => avahiRunning(avahiHub) && avahiRunning(avahiBell), { timeout: patience(20000), what: 'both avahi-daemons' })
    .catch((error) => { throw new Error(`${error.message}\n${avahiHub.output}\n${avahiBell.output}`); });

  const port = await freePort();
  hub = await Hub.start({
    port,
    listen: String(port),
    host: hubHostAddress,
    wrap: ['ip', 'netns', 'exec', nsHub],
    env: { DBUS_SYSTEM_BUS_ADDRESS: busHub.address },
    extra: ['--allowed-host', hubHostAddress],
  });
  admin = await hub.admin();
});

after(async () => {
  if (!ready) return;
  if (hub) await hub.stop();
  for (const proc of [...children]) await stop(proc);
  spawnSync('ip', ['netns', 'del', nsHub]);
  spawnSync('ip', ['netns', 'del', nsBell]);
  spawnSync('ip', ['link', 'del', linkHost]);
});

test("the hub's service appears with v, id and pk", needs, async () => {
  const hubId = readFileSync(join(hub.dataDir, 'hub-id'), 'utf8').trim();
  assert.match(hubId, /^[0-9a-f]{12}$/);
  let line;
  await waitFor(() => {
    [line] = browse('_doorstep._tcp');
    return line !== undefined;
  }, { timeout: patience(30000), what: 'the hub in avahi-browse' });
  const fields = line.split(';');
  assert.equal(fields[7], hubAddress);
  assert.equal(Number(fields[8]), hub.port);
  const txt = new Set(fields[9].match(/"[^"]*"/g).map((text) => text.slice(1, -1)));
  assert.deepEqual(txt, new Set(['v=1', `id=${hubId}`, `pk=${hubKey().slice(0, 16)}`]));
});

test('a doorbell in pairing mode appears in GET /api/v1/discovery', needs, async () => {
  const state = join(work.dir, 'bell-state');
  mkdirSync(state, { recursive: true });
  const doorbell = startDoorbell(['--state-dir', state, '--model', 'Porch test']);
  try {
    await waitFor(() => existsSync(join(state, 'device-id')), { what: 'the device id' });
    const deviceId = readFileSync(join(state, 'device-id'), 'utf8').trim();
    let found;
    await waitFor(async () => {
      found = (await discovered()).find((entry) => entry.device_id === deviceId);
      return found !== undefined;
    }, { timeout: patience(30000), what: 'the doorbell in /api/v1/discovery' });
    assert.equal(found.model, 'Porch test');
    assert.equal(found.address, bellAddress);
    assert.ok(Math.abs(found.seen_ms - Date.now()) < 120000, `seen_ms ${found.seen_ms}`);
    // Admin only.
    hub.cli(['user', 'add', 'viewer', '--role', 'viewer', '--password-stdin'], 'viewer password 1234\n');
    const viewer = new Client(hub.url);
    assert.equal((await viewer.login('viewer', 'viewer password 1234')).status, 200);
    assert.equal((await viewer.api('GET', '/api/v1/discovery')).status, 403);
  } finally {
    await stopDoorbell(doorbell);
  }
  // Gone from the list once it withdrew its announcement.
  await waitFor(async () => (await discovered()).length === 0, { timeout: patience(30000), what: 'the doorbell gone from the list' });
});

test('a doorbell started without --hub finds the hub and comes online', needs, async () => {
  const device = hub.addDevice('Found by mDNS');
  const doorbell = startDoorbell(['--device-id', device.id, '--secret', device.secret, '--hub-key-sha256', hubKey()]);
  try {
    await waitFor(() => /looking for a hub on the local network \(mDNS\)\.\.\./.test(doorbell.output), { what: 'the search' });
    await waitFor(async () => (await admin.api('GET', `/api/v1/devices/${device.id}`)).json?.online === true,
      { timeout: patience(30000), what: 'the doorbell online' });
    assert.match(doorbell.output, new RegExp(`found hub [0-9a-f]{12} at wss://${hubAddress.replace(/\./g, '\\.')}:${hub.port}`));
  } finally {
    await stopDoorbell(doorbell);
  }
});

test('a doorbell pinned to another key does not take this hub', needs, async () => {
  const device = hub.addDevice('Pinned elsewhere');
  const doorbell = startDoorbell(['--device-id', device.id, '--secret', device.secret, '--hub-key-sha256', 'ab'.repeat(32)]);
  try {
    await waitFor(() => /looking for a hub/.test(doorbell.output), { what: 'the search' });
    // The hub is heard (avahi-browse sees it from the same namespace) ...
    await waitFor(() => browse('_doorstep._tcp').length > 0, { timeout: patience(30000), what: 'the hub heard' });
    // ... and, a few mDNS rounds later, still not taken.
    const until = Date.now() + 3000;
    await waitFor(() => Date.now() > until, { what: 'three seconds' });
    assert.doesNotMatch(doorbell.output, /found hub/);
  } finally {
    await stopDoorbell(doorbell);
  }
});

test('crafted announcements are ignored and do not hurt the hub', needs, async () => {
  const long = 'x'.repeat(240);
  const crafted = [
    publish('Crafted long', '_doorstep-bell._tcp', 9, ['v=1', 'id=0123456789ab', `model=${long}`]),
    publish('Crafted id', '_doorstep-bell._tcp', 9, ['v=1', 'id=../../etc', 'model=x']),
    publish('Crafted duplicate', '_doorstep-bell._tcp', 9, ['v=1', 'id=0123456789ac', 'id=0123456789ad', 'model=x']),
    publish('Crafted version', '_doorstep-bell._tcp', 9, ['v=2', 'id=0123456789ae', 'model=x']),
    publish('Crafted bytes', '_doorstep-bell._tcp', 9, ['v=1', 'id=0123456789af', 'model=a\u0001\u001b[31mb']),
    publish('Crafted many', '_doorstep-bell._tcp', 9, Array.from({ length: 40 }, (_, i) => `k${i}=${long}`)),
    publish(`Crafted ${'n'.repeat(50)}`, '_doorstep-bell._tcp', 9, ['v=1']),
  ];
  // One well-formed announcement beside them: the list is not empty for
  // lack of browsing.
  const good = publish('Honest bell', '_doorstep-bell._tcp', 9, ['v=1', 'id=abcdefabcdef', 'model=Honest']);
  try {
    await waitFor(async () => (await discovered()).some((entry) => entry.device_id === 'abcdefabcdef'),
      { timeout: patience(30000), what: 'the honest announcement' });
    await waitFor(() => hub.log.filter((line) => /ignoring an announcement/.test(line)).length >= 5,
      { timeout: patience(30000), what: 'the crafted ones refused' });
    const list = await discovered();
    assert.deepEqual(list.map((entry) => entry.device_id), ['abcdefabcdef'], JSON.stringify(list));
    assert.equal((await new Client(hub.url).request('GET', '/readyz')).status, 200);
    assert.equal(hub.proc.child.exitCode, null);
  } finally {
    for (const proc of [...crafted, good]) await stop(proc);
  }
});

test('the hub keeps serving without avahi-daemon and publishes again when it is back', needs, async () => {
  const published = () => hub.log.filter((line) => /published "Doorstep hub/.test(line)).length;
  await waitFor(() => published() > 0, { timeout: patience(30000), what: 'the hub published' });
  const publishedBefore = published();
  await stop(avahiHub, 'SIGKILL');
  await waitFor(() => hub.log.some((line) => /avahi-daemon is not reachable|lost avahi-daemon/.test(line)),
    { timeout: patience(30000), what: 'the hub noticing' });
  assert.equal((await new Client(hub.url).request('GET', '/readyz')).status, 200);
  const response = await admin.api('GET', '/api/v1/discovery');
  assert.equal(response.status, 200);
  assert.deepEqual(response.json.doorbells, []);
  avahiHub = startAvahi('hub-again', nsHub, linkHub, busHub);
  await waitFor(() => avahiRunning(avahiHub), { timeout: patience(20000), what: 'avahi-daemon back' });
  await waitFor(() => published() > publishedBefore, { timeout: patience(30000), what: 'the hub published again' });
  // The new daemon holds the hub's service: registered again, not remembered.
  await waitFor(() => browse('_doorstep._tcp', { hubSide: true }).some((line) => line.includes(`;${hub.port};`)),
    { timeout: patience(30000), what: 'the hub registered with the new avahi-daemon' });
});

test('the hub takes another name when its own is taken on the network', needs, async () => {
  // While the hub's avahi-daemon is away, another machine takes the name.
  await stop(avahiHub, 'SIGKILL');
  const squatter = publish('Doorstep hub', '_doorstep._tcp', 8443, ['v=1', 'id=cafecafecafe', 'pk=0000000000000000']);
  try {
    await waitFor(() => /Established under name 'Doorstep hub'/.test(squatter.output), { timeout: patience(20000), what: 'the squatter' });
    avahiHub = startAvahi('hub-renamed', nsHub, linkHub, busHub);
    await waitFor(() => hub.log.some((line) => /published "Doorstep hub #2"/.test(line)),
      { timeout: patience(30000), what: 'the hub renamed' });
    assert.ok(hub.log.some((line) => /the name "Doorstep hub" is taken on this network; now "Doorstep hub #2"/.test(line)));
    await waitFor(() => browse('_doorstep._tcp', { hubSide: true }).some((line) => /;Doorstep\\032hub\\032(#|\\035)2;/.test(line) && line.includes(`;${hub.port};`)),
      { timeout: patience(30000), what: 'the renamed hub heard' });
  } finally {
    await stop(squatter);
  }
});

test('--no-mdns: the hub announces nothing and lists nothing', needs, async () => {
  const quietPort = await freePort();
  const quiet = await Hub.start({
    port: quietPort,
    wrap: ['ip', 'netns', 'exec', nsHub],
    env: { DBUS_SYSTEM_BUS_ADDRESS: busHub.address },
    extra: ['--no-mdns', '--allowed-host', hubHostAddress],
    host: hubHostAddress,
    listen: String(quietPort),
  });
  try {
    const quietAdmin = await quiet.admin();
    const response = await quietAdmin.api('GET', '/api/v1/discovery');
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, { mdns: false, doorbells: [] });
    assert.ok(quiet.log.some((line) => /mDNS is off \(--no-mdns\)/.test(line)));
    // The announcing hub is registered with the same avahi-daemon; the quiet one never is.
    await waitFor(() => browse('_doorstep._tcp', { hubSide: true }).some((line) => line.includes(`;${hub.port};`)),
      { timeout: patience(30000), what: 'the announcing hub' });
    assert.ok(!browse('_doorstep._tcp', { hubSide: true }).some((line) => line.includes(`;${quiet.port};`)));
    assert.ok(!quiet.log.some((line) => /mdns:/.test(line)));
  } finally {
    await quiet.stop();
  }
});
