// live-client.mjs - a WebSocket viewer of the hub's live endpoint for tests
// and benchmarks: logs in with the session cookie, parses the 9-byte header
// of every binary message, and keeps what it receives.

import WebSocket from 'ws';

export class LiveViewer {
  // client: a logged-in harness Client; id: the doorbell. localAddress:
  // connect from this loopback address (default: the client's).
  constructor(client, id, { paused = false, origin, localAddress = client.localAddress } = {}) {
    const url = new URL(`/api/v1/devices/${id}/live`, client.baseUrl);
    url.protocol = 'wss:';
    this.messages = [];   // { kind, captureUs, bytes, receivedAt }
    this.texts = [];      // parsed JSON text messages
    this.initText = null;
    this.socket = new WebSocket(url, {
      rejectUnauthorized: false,
      ...(localAddress ? { localAddress, family: 4 } : {}),
      headers: {
        Origin: origin || new URL(client.baseUrl).origin,
        Cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', resolve);
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    });
    this.closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        const json = JSON.parse(data.toString());
        if (json.type === 'init') this.initText = json;
        this.texts.push(json);
        return;
      }
      const buffer = Buffer.from(data);
      this.messages.push({
        kind: buffer[0],
        captureUs: Number(buffer.readBigUInt64BE(1)),
        bytes: buffer.subarray(9),
        receivedAt: Date.now(),
      });
    });
    if (paused) this.pause();
  }

  // Stop reading from the socket: the hub's writes back up (a stalled viewer).
  pause() { this.socket.pause(); }
  resume() { this.socket.resume(); }

  videoFrames() { return this.messages.filter((m) => m.kind === 2); }
  audioPackets() { return this.messages.filter((m) => m.kind === 3); }

  // Everything received as one fMP4 file (init segments included).
  mp4() { return Buffer.concat(this.messages.map((m) => m.bytes)); }

  close() {
    this.socket.close();
    return this.closed;
  }
}
