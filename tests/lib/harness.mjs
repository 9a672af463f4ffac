// harness.mjs - starts the real hub, real simulated doorbells and talks to
// them the way a browser and an operator would: HTTPS with cookies and CSRF
// tokens, the `doorstep` CLI, the doorbell control socket. Nothing is mocked.
//
// Binaries come from $DOORSTEP_BUILD (make test points it at the ASan build).

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import https from 'node:https';
import { patience } from './patience.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD = process.env.DOORSTEP_BUILD || join(ROOT, 'build');

const sanitizerEnv = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The environment for an ASan doorbell with two or more libwebsockets
// contexts: LeakSanitizer skips libwebsockets 4.1's SSL_CTX leak (see
// tests/lsan-libwebsockets.supp), and only it; full stacks are needed to
// recognise it, which makes those processes' allocations slower.
export function libwebsocketsLeakEnv() {
  return { LSAN_OPTIONS: `suppressions=${join(ROOT, 'tests', 'lsan-libwebsockets.supp')}:fast_unwind_on_malloc=0` };
}

// A fresh temporary directory, removed by the returned cleanup function.
export function tempDir(prefix = 'doorstep-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// A TCP port that was free a moment ago on 127.0.0.1.
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// A test file's after(): stop (or close, or clean up) each resource in the
// order given, skipping those never made; every one is tried, and the first
// failure is thrown once all are done.
export async function stopAll(...resources) {
  let failure = null;
  for (const resource of resources) {
    if (!resource) continue;
    try {
      if (typeof resource.stop === 'function') await resource.stop();
      else if (typeof resource.close === 'function') await resource.close();
      else if (typeof resource.cleanup === 'function') resource.cleanup();
      else throw new Error('stopAll: nothing to stop, close or clean up');
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
}

// Poll fn until it returns a truthy value or the deadline passes.
export async function waitFor(fn, { timeout = 20000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
}

// A child process whose stderr/stdout lines are kept for assertions.
function spawnLogged(name, command, args, options = {}) {
  const child = spawn(command, args, {
    env: { ...process.env, ...sanitizerEnv, ...(options.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const collect = (stream) => {
    let partial = '';
    stream.on('data', (chunk) => {
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop();
      for (const line of parts) {
        lines.push(line);
        if (process.env.DOORSTEP_TEST_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal })));
  return { child, lines, exited, name };
}

// Stop a process: SIGTERM, then SIGKILL after a grace period. A process that
// does not exit cleanly with status 0, or that printed a sanitizer report
// (ASan, UBSan, LeakSanitizer) at any time, fails the test that stops it.
// The grace period is generous and grows with the machine's load: an ASan
// build's exit (leak check over the whole heap) takes seconds on a busy
// machine, and a slow clean exit is no fault.
async function stopProcess(proc, graceMs = patience(30000)) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
    await proc.exited;
    clearTimeout(timer);
  }
  const { code, signal } = await proc.exited;
  const report = proc.lines.findIndex((line) => /AddressSanitizer|LeakSanitizer|runtime error:/.test(line));
  if (report >= 0 || code !== 0) {
    const context = report >= 0 ? proc.lines.slice(report, report + 30) : proc.lines.slice(-15);
    throw new Error(`${proc.name} ended badly (code ${code}, signal ${signal}):\n${context.join('\n')}`);
  }
  return { code, signal };
}

// ---- HTTPS client with a cookie jar --------------------------------------

export class Client {
  // localAddress: connect from this loopback address (127.0.0.2...), so a
  // test can be several clients at once.
  constructor(baseUrl, { localAddress } = {}) {
    this.baseUrl = baseUrl;
    this.localAddress = localAddress;
    this.cookies = new Map();
    this.csrf = null;
  }

  // Send a request; returns { status, headers, body (Buffer), json }.
  request(method, path, { body, headers = {}, json } = {}) {
    const url = new URL(path, this.baseUrl);
    const payload = json !== undefined ? Buffer.from(JSON.stringify(json)) : body;
    const allHeaders = { ...headers };
    if (json !== undefined) allHeaders['Content-Type'] = 'application/json';
    if (this.cookies.size) {
      allHeaders.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    if (payload) allHeaders['Content-Length'] = payload.length;
    return new Promise((resolveRequest, reject) => {
      const request = https.request(
        url,
        {
          method,
          headers: allHeaders,
          rejectUnauthorized: false,
          agent: false,
          ...(this.localAddress ? { localAddress: this.localAddress, family: 4 } : {}),
        },
        (response) => {
          const chunks = [];
          response.on('data', (c) => chunks.push(c));
          response.on('end', () => {
            for (const cookie of response.headers['set-cookie'] || []) {
              const [pair] = cookie.split(';');
              const [name, ...rest] = pair.split('=');
              const value = rest.join('=');
              if (/max-age=0/i.test(cookie) || value === '') this.cookies.delete(name.trim());
              else this.cookies.set(name.trim(), value);
            }
            const bodyBuffer = Buffer.concat(chunks);
            let parsed;
            try {
              parsed = JSON.parse(bodyBuffer.toString());
            } catch {
              parsed = undefined;
            }
            resolveRequest({ status: response.statusCode, headers: response.headers, body: bodyBuffer, json: parsed });
          });
        },
      );
      request.on('error', reject);
      if (payload) request.write(payload);
      request.end();
    });
  }

  // Same-origin headers a browser would send for the hub's own pages.
  originHeaders() {
    return { Origin: new URL(this.baseUrl).origin };
  }

  async setup(token, username, password) {
    const response = await this.request('POST', '/auth/setup', {
      json: { token, username, password },
      headers: this.originHeaders(),
    });
    if (response.json && response.json.csrf_token) this.csrf = response.json.csrf_token;
    return response;
  }

  async login(username, password) {
    const response = await this.request('POST', '/auth/login', {
      json: { username, password },
      headers: this.originHeaders(),
    });
    if (response.json && response.json.csrf_token) this.csrf = response.json.csrf_token;
    return response;
  }

  // An API call with the CSRF token on unsafe methods.
  api(method, path, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (method !== 'GET' && this.csrf) headers['X-CSRF-Token'] = this.csrf;
    return this.request(method, path, { ...options, headers });
  }
}

// ---- the hub ---------------------------------------------------------------

export class Hub {
  // build: the directory of the doorstepd to run (default $DOORSTEP_BUILD);
  // www: the web UI it serves (default the repository's www/).
  // listen/host: the listen spec and the host the tests reach it at
  // (default 127.0.0.1:port and localhost); wrap: a command line the hub is
  // started through (e.g. ['ip', 'netns', 'exec', NAME]); env: added to
  // the hub's environment.
  constructor({ dataDir, port, extra = [], build = BUILD, www = join(ROOT, 'www'), listen, host = 'localhost', wrap = [], env = {} }) {
    this.dataDir = dataDir;
    this.www = www;
    this.build = build;
    this.port = port;
    this.extra = extra;
    this.listen = listen || `127.0.0.1:${port}`;
    this.wrap = wrap;
    this.env = env;
    this.url = `https://${host}:${port}`;
    this.proc = null;
  }

  static async start(options = {}) {
    const dataDir = options.dataDir || tempDir('doorstep-hub-').dir;
    const hub = new Hub({ ...options, dataDir, port: options.port || (await freePort()), extra: options.extra || [] });
    await hub.launch();
    return hub;
  }

  async launch() {
    const command = [...this.wrap, join(this.build, 'doorstepd')];
    this.proc = spawnLogged('hub', command[0], [...command.slice(1),
      '--data-dir', this.dataDir,
      '--listen', this.listen,
      '--www-dir', this.www,
      '--replies-dir', join(this.build, 'replies'),
      '--public-host', 'localhost',
      '--log-level', 'debug',
      ...this.extra,
    ], { env: this.env });
    await waitFor(async () => {
      if (this.proc.child.exitCode !== null) throw new Error(`hub exited: ${this.proc.lines.slice(-5).join(' | ')}`);
      const response = await new Client(this.url).request('GET', '/readyz');
      return response.status === 200;
    }, { timeout: patience(20000), what: 'hub /readyz' });
  }

  get log() {
    return this.proc.lines;
  }

  setupToken() {
    const path = join(this.dataDir, 'setup-token');
    return existsSync(path) ? readFileSync(path, 'utf8').trim() : null;
  }

  // Run the admin CLI against this hub's data directory.
  cli(args, input) {
    return execFileSync(join(BUILD, 'doorstep'), ['--data-dir', this.dataDir, ...args], {
      input,
      env: { ...process.env, ...sanitizerEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    }).toString();
  }

  addDevice(name) {
    const out = this.cli(['device', 'add', name]);
    const id = /^id (\S+)/m.exec(out)[1];
    const secret = /^secret (\S+)/m.exec(out)[1];
    return { id, secret };
  }

  // A logged-in admin client (creating the admin through the setup link once).
  async admin(username = 'admin', password = 'correct horse battery staple') {
    const client = new Client(this.url);
    const token = this.setupToken();
    if (token) {
      const response = await client.setup(token, username, password);
      if (response.status !== 201) throw new Error(`setup failed: ${response.status} ${response.body}`);
    } else {
      const response = await client.login(username, password);
      if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.body}`);
    }
    return client;
  }

  async stop() {
    if (this.proc) return stopProcess(this.proc);
  }

  // SIGKILL: a crash on purpose, so its exit status is not checked, but a
  // sanitizer report before it still fails the test.
  async kill() {
    this.proc.child.kill('SIGKILL');
    await this.proc.exited;
    if (this.proc.lines.some((line) => /AddressSanitizer|runtime error:/.test(line))) {
      throw new Error(`hub reported a sanitizer error before it was killed:\n${this.proc.lines.slice(-30).join('\n')}`);
    }
  }
}

// ---- a simulated doorbell --------------------------------------------------

// Write commands to a doorbell's control socket in one write (so they start
// within a millisecond of each other); resolves with one reply line each.
export function controlCommands(path, commands) {
  return new Promise((resolveReplies, reject) => {
    const socket = net.createConnection(path);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      const lines = text.split('\n').filter((line) => line !== '');
      if (lines.length >= commands.length) {
        socket.end();
        resolveReplies(lines.map((line) => line.trim()));
      }
    });
    socket.on('error', reject);
    socket.write(commands.map((command) => `${command}\n`).join(''));
  });
}

export class Doorbell {
  constructor(proc, controlPath) {
    this.proc = proc;
    this.controlPath = controlPath;
  }

  // still: keep doorbelld's still-scene rule (a still picture at a quarter
  // of the bitrate after 10 s); off by default here, since most tests count
  // on the bitrate they set (still-scene.test.mjs turns it on).
  static async start({ hub, id, secret, size = '640x360', fps = 30, bitrate = 600, scripted = false, audio = false, still = false, extra = [] }) {
    const dir = mkdtempSync(join(tmpdir(), 'doorbell-'));
    const controlPath = join(dir, 'control.sock');
    const audioArgs = audio ? Doorbell.audioDevice(dir, typeof audio === 'object' ? audio : {}) : [];
    const args = [
      '--hub', `wss://127.0.0.1:${hub.port}`,
      '--device-id', id,
      '--secret', secret,
      '--size', size,
      '--fps', String(fps),
      '--bitrate', String(bitrate),
      '--control', controlPath,
      '--preset', 'ultrafast',
      ...(scripted ? ['--scripted'] : []),
      ...(still ? [] : ['--still-bitrate', '0']),
      ...audioArgs,
      ...extra,
    ];
    const proc = spawnLogged(`doorbell-${id}`, join(BUILD, 'doorbelld'), args);
    const doorbell = new Doorbell(proc, controlPath);
    doorbell.dir = dir;
    await waitFor(() => existsSync(controlPath) || proc.child.exitCode !== null, { timeout: patience(20000), what: 'control socket' });
    if (proc.child.exitCode !== null) throw new Error(`doorbell exited: ${proc.lines.join(' | ')}`);
    return doorbell;
  }

  // A doorbell that pairs: no id or secret, its identity in stateDir (made
  // at its first start); hubUrl is where it pairs (default this hub).
  static async startPairing({ hub, stateDir, hubUrl, size = '640x360', fps = 15, bitrate = 400, extra = [] }) {
    const dir = mkdtempSync(join(tmpdir(), 'doorbell-'));
    const controlPath = join(dir, 'control.sock');
    const args = [
      '--state-dir', stateDir,
      ...(hubUrl !== null ? ['--hub', hubUrl || `wss://127.0.0.1:${hub.port}`] : []),
      '--size', size,
      '--fps', String(fps),
      '--bitrate', String(bitrate),
      '--control', controlPath,
      '--preset', 'ultrafast',
      '--still-bitrate', '0', // as start() does
      ...extra,
    ];
    // Two libwebsockets contexts (the link's and the pairing client's).
    const proc = spawnLogged('doorbell-pairing', join(BUILD, 'doorbelld'), args, { env: libwebsocketsLeakEnv() });
    const doorbell = new Doorbell(proc, controlPath);
    doorbell.dir = dir;
    await waitFor(() => existsSync(controlPath) || proc.child.exitCode !== null, { timeout: patience(30000), what: 'control socket' });
    if (proc.child.exitCode !== null) throw new Error(`doorbell exited: ${proc.lines.join(' | ')}`);
    return doorbell;
  }

  // An ALSA `file` device pair in dir: the microphone reads a
  // generated tone from mic.raw, the speaker writes to speaker.raw.
  // bursts: { period, length } (s) makes the tone bursts of `length` at
  // every multiple of `period` (keep it a multiple of 20 ms, so each burst
  // starts a doorbell packet) with silence between; otherwise it is steady.
  // Returns the doorbelld arguments that select it.
  static audioDevice(dir, { frequency = 440, seconds = 90, amplitude = 8000, bursts = null } = {}) {
    const rate = 48000;
    const samples = Buffer.alloc(rate * seconds * 2);
    for (let i = 0; i < rate * seconds; i++) {
      if (bursts && i % Math.round(bursts.period * rate) >= bursts.length * rate) continue;
      samples.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate)), i * 2);
    }
    writeFileSync(join(dir, 'mic.raw'), samples);
    writeFileSync(join(dir, 'asoundrc'), [
      `pcm.doorstep_mic { type file; slave.pcm "null"; file "/dev/null"; infile "${dir}/mic.raw"; format "raw" }`,
      `pcm.doorstep_speaker { type file; slave.pcm "null"; file "${dir}/speaker.raw"; format "raw" }`,
      'pcm.doorstep_sim { type asym; capture.pcm "doorstep_mic"; playback.pcm "doorstep_speaker" }',
      '',
    ].join('\n'));
    return ['--audio-device', 'doorstep_sim', '--alsa-config', join(dir, 'asoundrc')];
  }

  // Send one control command; resolves with the reply line.
  async control(command) {
    return (await controlCommands(this.controlPath, [command]))[0];
  }

  async stats() {
    return JSON.parse(await this.control('stats'));
  }

  get log() {
    return this.proc.lines;
  }

  async stop() {
    return stopProcess(this.proc);
  }
}

// Decode the frame stamp from a grey (luma) picture buffer.
export function decodeFrameStamp(luma, stride) {
  const at = (x, y) => luma[y * stride + x];
  for (let x = 0; x < 528; x += 4) if (at(x, 2) > 60 || at(x, 20) > 60) return null;
  let value = 0n;
  for (let i = 0; i < 64; i++) {
    let sum = 0;
    for (let dy = 10; dy < 14; dy++) for (let dx = 2; dx < 6; dx++) sum += at(8 + 8 * i + dx, dy);
    value = (value << 1n) | (sum / 16 > 126 ? 1n : 0n);
  }
  return { timeMs: Number(value >> 16n), sequence: Number(value & 0xffffn) };
}

// The frame stamps of every video frame of a media file, decoded by ffmpeg
// (only the stamp's band of each picture is read).
// Segment files under a hub's data directory (of one doorbell when `id` is
// given), oldest first: names are start times in ms. Quarantined files are
// left out.
export function segmentFiles(dataDir, id) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) { if (name !== 'quarantine') walk(path); } else if (name.endsWith('.mp4')) files.push(path);
    }
  };
  walk(id ? join(dataDir, 'recordings', id) : join(dataDir, 'recordings'));
  return files.sort((a, b) => Number(/(\d+)\.mp4$/.exec(a)[1]) - Number(/(\d+)\.mp4$/.exec(b)[1]));
}

export function videoFrameStamps(file) {
  const band = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-fps_mode', 'passthrough', '-vf', 'crop=528:24:0:0',
    '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const out = [];
  for (let offset = 0; offset + 528 * 24 <= band.length; offset += 528 * 24) out.push(decodeFrameStamp(band.subarray(offset, offset + 528 * 24), 528));
  return out;
}

// ffmpeg's complaints while decoding a whole media file ('' when it is clean).
// -enc_time_base -1 keeps the null muxer on the file's own time base: on the
// default 1/fps grid two frames captured close together (a loaded machine)
// collide there, and ffmpeg complains about its own output, not the file.
export function decodeErrors(file) {
  const result = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-enc_time_base', '-1', '-f', 'null', '-'], { encoding: 'utf8' });
  return `${result.stderr}${result.status === 0 ? '' : `ffmpeg exited with ${result.status}`}`;
}
