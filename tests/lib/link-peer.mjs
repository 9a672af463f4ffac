// link-peer.mjs - a device-link peer written from docs/protocol.md, for tests
// that must send what a real doorbell never would (corrupt H.264, oversized
// messages). It authenticates like a doorbell: HELLO, then the HMAC answer to
// the hub's CHALLENGE.

import WebSocket from 'ws';
import { createHmac } from 'node:crypto';

export const TYPE = { HELLO: 1, CHALLENGE: 2, AUTH: 3, WELCOME: 4, ERROR: 5, VIDEO: 0x10, AUDIO: 0x11, SNAPSHOT: 0x12, EVENT: 0x20, TELEMETRY: 0x21 };

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
          const mac = createHmac('sha256', this.secret)
            .update(Buffer.from('doorstep-link-v1'))
            .update(Buffer.from(json.nonce, 'hex'))
            .update(Buffer.from(this.id))
            .digest('hex');
          this.send(TYPE.AUTH, { mac });
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
