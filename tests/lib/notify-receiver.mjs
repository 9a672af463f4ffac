// notify-receiver.mjs - a local HTTP(S) server that stands in for an ntfy
// server and for webhook receivers, and checks what they would check: the
// ntfy publish headers and attachment, and a Standard Webhooks signature
// verified with node's own crypto. Used by integration/notify.test.mjs and
// bench/notify.bench.mjs.

import http from 'node:http';
import https from 'node:https';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

// A self-signed certificate for 127.0.0.1 and localhost (openssl CLI).
export function makeCertificate(dir) {
  const key = join(dir, 'receiver.key');
  const cert = join(dir, 'receiver.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

export class NotifyReceiver {
  // behaviour(request, count) for each path decides the answer:
  // { status, headers, body } or 'hang' (never answer). Default: 200 "ok".
  constructor(server, scheme) {
    this.server = server;
    this.scheme = scheme;
    this.requests = [];
    this.behaviours = new Map();
    this.counts = new Map();
    this.waiters = [];
    this.hanging = new Set();
  }

  static async start({ tls = null, port = 0 } = {}) {
    let receiver;
    const handler = (request, response) => receiver.handle(request, response);
    const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler);
    receiver = new NotifyReceiver(server, tls ? 'https' : 'http');
    await new Promise((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolveListen);
    });
    return receiver;
  }

  get port() {
    return this.server.address().port;
  }

  get url() {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  on(path, behaviour) {
    this.behaviours.set(path, behaviour);
    return this;
  }

  handle(request, response) {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const path = new URL(request.url, 'http://x').pathname;
      const count = (this.counts.get(path) || 0) + 1;
      this.counts.set(path, count);
      const entry = {
        method: request.method, url: request.url, path, headers: request.headers,
        body: Buffer.concat(chunks), at: Date.now(), t: performance.now(), count,
      };
      this.requests.push(entry);
      const behaviour = this.behaviours.get(path);
      const answer = behaviour ? behaviour(entry, count) : { status: 200, body: '{"ok":true}' };
      entry.answer = answer === 'hang' ? 'hang' : answer.status;
      if (answer === 'hang') {
        this.hanging.add(response);
      } else {
        response.writeHead(answer.status, answer.headers || { 'Content-Type': 'application/json' });
        response.end(answer.body ?? '');
      }
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  // Requests to one path.
  to(path) {
    return this.requests.filter((entry) => entry.path === path);
  }

  async close() {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections?.();
    await new Promise((resolveClose) => this.server.close(resolveClose));
  }
}

// RFC 2047 encoded words (what the hub sends for non-ASCII header text).
export function decodeHeaderText(value) {
  return value.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=\s*/gi, (_, data) => Buffer.from(data, 'base64').toString('utf8')).trim();
}

// What a Standard Webhooks verifier checks (https://www.standardwebhooks.com):
// the three headers, the timestamp within tolerance, and one of the v1
// signatures equal (in constant time) to HMAC-SHA256(key, id.timestamp.body)
// where key is the base64 after "whsec_". Returns the parsed payload.
export function verifyStandardWebhook(entry, secret, { toleranceSeconds = 300, now = Date.now() } = {}) {
  const id = entry.headers['webhook-id'];
  const timestamp = entry.headers['webhook-timestamp'];
  const signatures = entry.headers['webhook-signature'];
  if (!id || !timestamp || !signatures) throw new Error('missing webhook-id/-timestamp/-signature');
  if (!/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new Error(`webhook-timestamp ${timestamp} outside the tolerance`);
  }
  if (!secret.startsWith('whsec_')) throw new Error('secret without whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(entry.body).digest();
  const match = signatures.split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!match) throw new Error(`no valid signature in "${signatures}"`);
  if (!/^application\/json/.test(entry.headers['content-type'] || '')) throw new Error('not JSON');
  return JSON.parse(entry.body.toString('utf8'));
}

// A JPEG's size as ffprobe decodes it; throws unless the bytes are a whole
// JPEG (SOI at the start, EOI at the end) that ffmpeg can decode.
export function jpegSize(buffer) {
  if (buffer.length < 4 || buffer[0] !== 0xff || buffer[1] !== 0xd8) throw new Error('no JPEG SOI marker');
  if (buffer[buffer.length - 2] !== 0xff || buffer[buffer.length - 1] !== 0xd9) throw new Error('no JPEG EOI marker');
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-f', 'jpeg_pipe', '-i', 'pipe:0',
    '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json'], { input: buffer }).toString());
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-f', 'jpeg_pipe', '-i', 'pipe:0', '-f', 'null', '-'], { input: buffer });
  const stream = probe.streams[0];
  return { width: stream.width, height: stream.height };
}

// What an ntfy server reads from a publish request (docs.ntfy.sh/publish):
// PUT/POST to /<topic>, title, priority 1..5, tags, click, actions, and the
// attachment (PUT body with Filename) or the message text.
export function readNtfy(entry) {
  const header = (name) => (entry.headers[name] !== undefined ? decodeHeaderText(entry.headers[name]) : undefined);
  const priority = Number(header('priority') ?? 3);
  if (!['PUT', 'POST'].includes(entry.method)) throw new Error(`ntfy method ${entry.method}`);
  if (!(priority >= 1 && priority <= 5)) throw new Error(`priority ${header('priority')}`);
  const attachment = entry.method === 'PUT' && header('filename') !== undefined;
  return {
    topic: entry.path.slice(1),
    title: header('title'),
    priority,
    tags: (header('tags') || '').split(',').filter(Boolean),
    click: header('click'),
    actions: header('actions'),
    authorization: entry.headers.authorization,
    filename: header('filename'),
    message: attachment ? header('message') : entry.body.toString('utf8'),
    attachment: attachment ? entry.body : null,
  };
}
