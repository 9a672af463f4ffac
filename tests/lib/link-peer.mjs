// link-peer.mjs - device-link peers written from docs/protocol.md:
//   LinkPeer  a doorbell, for tests that must send the hub what a real
//             doorbell never would (corrupt H.264, oversized messages). It
//             authenticates like a doorbell: HELLO, then the HMAC answer to
//             the hub's CHALLENGE.
//   FakeHub   a hub, for tests that talk to the real doorbelld directly: it
//             accepts one doorbell with its secret, records every message
//             with its header, and sends commands.

import WebSocket, { WebSocketServer } from 'ws';
import https from 'node:https';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TYPE = { HELLO: 1, CHALLENGE: 2, AUTH: 3, WELCOME: 4, ERROR: 5, VIDEO: 0x10, AUDIO: 0x11, SNAPSHOT: 0x12, PREVIEW: 0x13, EVENT: 0x20, TELEMETRY: 0x21, COMMAND: 0x30, COMMAND_RESULT: 0x32 };
export const FLAG = { KEYFRAME: 0x0001, SUB_STREAM: 0x0002 };

// The HMAC a doorbell answers a CHALLENGE with (docs/protocol.md).
function linkMac(secret, nonceHex, id) {
  return createHmac('sha256', secret)
    .update(Buffer.from('doorstep-link-v1'))
    .update(Buffer.from(nonceHex, 'hex'))
    .update(Buffer.from(id))
    .digest('hex');
}

// Encode one link message: 16-byte header + payload.
export function encodeMessage(type, payload, { sequence = 0, timestampUs = BigInt(Date.now()) * 1000n, flags = 0 } = {}) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  const header = Buffer.alloc(16);
  header[0] = 1;
  header[1] = type;
  header.writeUInt16BE(flags, 2);
  header.writeUInt32BE(sequence >>> 0, 4);
  header.writeBigUInt64BE(BigInt(timestampUs), 8);
  return Buffer.concat([header, body]);
}

export class LinkPeer {
  // hello: more HELLO fields (e.g. { event_snapshots: true }).
  constructor(port, { id, secret, hello = {} }) {
    this.id = id;
    this.secret = Buffer.from(secret, 'hex');
    this.received = [];
    this.socket = new WebSocket(`wss://127.0.0.1:${port}/link/v1`, { rejectUnauthorized: false, maxPayload: 1 << 20 });
    this.closed = new Promise((resolve) => this.socket.once('close', (code) => resolve(code)));
    this.welcomed = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.on('message', (data) => {
        const message = Buffer.from(data);
        const type = message[1];
        const json = type < 0x10 || type === 0x30 ? JSON.parse(message.subarray(16).toString()) : null;
        this.received.push({ type, json });
        if (type === TYPE.CHALLENGE) {
          this.send(TYPE.AUTH, { mac: linkMac(this.secret, json.nonce, this.id) });
        } else if (type === TYPE.WELCOME) {
          resolve(json);
        } else if (type === TYPE.ERROR) {
          reject(new Error(`hub error ${json.code}: ${json.reason}`));
        }
      });
    });
    this.socket.once('open', () => this.send(TYPE.HELLO, { device_id: this.id, firmware: 'link-peer test', protocol: 1, width: 640, height: 360, fps: 30, ...hello }));
  }

  send(type, payload, options) {
    this.socket.send(encodeMessage(type, payload, options), { binary: true });
  }

  // The hub's ERROR messages so far.
  errors() { return this.received.filter((m) => m.type === TYPE.ERROR).map((m) => m.json); }
}

// Decode one link message: { type, flags, sequence, timestampUs, payload,
// json (for JSON types), at (arrival, performance.now() ms) }.
export function decodeMessage(data) {
  const message = Buffer.from(data);
  const type = message[1];
  const payload = message.subarray(16);
  const isJson = type < 0x10 || type >= 0x20 && type !== 0x31 && type !== 0x33;
  return {
    type,
    flags: message.readUInt16BE(2),
    sequence: message.readUInt32BE(4),
    timestampUs: message.readBigUInt64BE(8),
    payload,
    json: isJson ? JSON.parse(payload.toString()) : null,
    at: performance.now(),
  };
}

// A self-signed certificate for 127.0.0.1 in dir (openssl CLI).
function fakeHubCertificate(dir) {
  const key = join(dir, 'fake-hub.key');
  const cert = join(dir, 'fake-hub.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

export class FakeHub {
  // dir: where its certificate goes; id/secret: the one doorbell it accepts.
  static async start({ dir, id, secret }) {
    const hub = new FakeHub();
    hub.id = id;
    hub.secret = Buffer.from(secret, 'hex');
    hub.messages = [];  // every message of the current connection, decoded
    hub.hellos = [];    // the HELLO of every connection
    hub.socket = null;
    hub.nextCommandId = 1;
    hub.results = new Map();
    hub.onWelcome = null;
    const { key, cert } = fakeHubCertificate(dir);
    hub.server = https.createServer({ key, cert });
    hub.wss = new WebSocketServer({ server: hub.server, path: '/link/v1', maxPayload: 16 << 20 });
    hub.wss.on('connection', (socket) => hub.accept(socket));
    await new Promise((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    hub.port = hub.server.address().port;
    return hub;
  }

  // One doorbell connection: HELLO -> CHALLENGE -> AUTH -> WELCOME, then
  // record everything.
  accept(socket) {
    const nonce = randomBytes(32).toString('hex');
    let welcomed = false;
    socket.on('message', (data) => {
      const message = decodeMessage(data);
      if (!welcomed) {
        if (message.type === TYPE.HELLO) {
          this.hellos.push(message.json);
          socket.send(encodeMessage(TYPE.CHALLENGE, { nonce }), { binary: true });
        } else if (message.type === TYPE.AUTH) {
          if (message.json.mac !== linkMac(this.secret, nonce, this.id)) { socket.close(); return; }
          welcomed = true;
          if (this.socket) this.socket.terminate();
          this.socket = socket;
          this.messages = [];
          socket.send(encodeMessage(TYPE.WELCOME, { name: 'fake hub', settings: {} }), { binary: true });
        }
        return;
      }
      this.messages.push(message);
      if (message.type === TYPE.COMMAND_RESULT) this.results.set(message.json.id, message.json);
    });
  }

  get connected() { return this.socket !== null && this.socket.readyState === WebSocket.OPEN; }

  // Send a COMMAND ({cmd, ...}); resolves with its COMMAND_RESULT.
  async command(fields, { timeout = 10000 } = {}) {
    const id = this.nextCommandId++;
    this.socket.send(encodeMessage(TYPE.COMMAND, { id, ...fields }, { sequence: id }), { binary: true });
    const started = Date.now();
    while (!this.results.has(id)) {
      if (Date.now() - started > timeout) throw new Error(`no result for command ${fields.cmd}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.results.get(id);
  }

  // VIDEO messages so far: all, the main stream's or the sub-stream's.
  video({ sub } = {}) {
    return this.messages.filter((m) => m.type === TYPE.VIDEO &&
      (sub === undefined || Boolean(m.flags & FLAG.SUB_STREAM) === sub));
  }

  // Drop the doorbell's connection (it reconnects).
  disconnect() {
    if (this.socket) this.socket.terminate();
    this.socket = null;
  }

  async stop() {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
